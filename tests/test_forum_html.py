"""Every forum page type, including error and preview states, is valid HTML (Nu HTML Checker)."""

from __future__ import annotations

from tests.conftest import post_form
from tests.fixtures_forum import sign_in


def test_forum_pages_are_valid_html(nu_checker, client, tmp_path, make_member, make_user, make_topic, make_post):
    author = make_user("author@example.com", "Author")
    member = make_member()
    topic_id, first = make_topic(author, body="# Heading\n\n**Bold**, a [link](https://example.org) and `code`.\n\n> quote")
    own = make_post(topic_id, member, "My reply.")
    make_post(topic_id, author, "Held.", status="pending")
    make_post(topic_id, author, "Gone.", status="removed")
    sign_in(client, member)
    pages = {
        "index": client.get("/forum/"),
        "topic": client.get(f"/forum/t/{topic_id}"),
        "new": client.get("/forum/new"),
        "new-errors": post_form(client, "/forum/new", {"title": "x", "body": ""}),
        "new-preview": post_form(client, "/forum/new", {"title": "Valid title", "body": "*hi*", "preview": "preview"}),
        "reply": client.get(f"/forum/t/{topic_id}/reply"),
        "edit": client.get(f"/forum/p/{own}/edit"),
        "report": client.get(f"/forum/p/{first}/report"),
        "report-errors": post_form(client, f"/forum/p/{first}/report", {"reason": ""}),
    }
    for name, response in pages.items():
        assert response.status_code in (200, 422), name
        (tmp_path / f"{name}.html").write_bytes(response.data)
    problems = nu_checker.check_folder(tmp_path)
    assert not problems, "Nu HTML Checker found:\n" + "\n".join(problems)
