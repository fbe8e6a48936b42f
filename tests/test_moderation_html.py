"""Every moderation page, in each of its states, and every moderation email is valid HTML
(Nu HTML Checker via its local service: tests/html_checker.py), with one h1 and breadcrumbs on each page."""

from __future__ import annotations

import re

from tests.fixtures_moderation import sign_in, token


def test_moderation_pages_and_emails_are_valid_html(nu_checker, outbox, app, mod_client, board, member, make_user, tmp_path):
    admin = make_user("admin@example.com", "Ada Admin", role="admin")
    admin_client = app.test_client()
    sign_in(admin_client, admin)
    reporter = make_user("reporter@example.com", "Riley Reporter")
    topic_id, first = board.topic(member, body="# Heading\n\nA *list*:\n\n- one\n- two\n\n> quoted")
    held = board.reply(topic_id, member, status="pending")
    reported = board.reply(topic_id, member, body="See https://example.com/shop")
    board.report(reported, reporter)
    to_remove = board.reply(topic_id, member)
    csrf = token(mod_client)
    author_client = app.test_client()
    sign_in(author_client, member)

    pages = {
        "queue": mod_client.get("/moderation/"),
        "remove-form": mod_client.get(f"/moderation/p/{first}/remove"),
        "remove-error": mod_client.post(f"/moderation/p/{to_remove}/remove", data={"csrf_token": csrf, "reason": "Other"}),
    }
    mod_client.post(f"/moderation/p/{to_remove}/remove", data={"csrf_token": csrf, "reason": "Off-topic", "detail": "Stay on LDN."})
    mod_client.post(f"/moderation/u/{member.id}/suspend", data={"csrf_token": csrf, "reason": "Spam links", "period": "7"})
    mod_client.post(f"/moderation/t/{topic_id}/lock", data={"csrf_token": csrf})
    pages |= {
        "removed-post-page": mod_client.get(f"/moderation/p/{to_remove}/remove"),
        "member-suspended": mod_client.get(f"/moderation/u/{member.id}"),
        "member-admin-view": admin_client.get(f"/moderation/u/{reporter.id}"),
        "member-suspend-error": mod_client.post(f"/moderation/u/{reporter.id}/suspend", data={"csrf_token": csrf, "reason": ""}),
        "role-error": admin_client.post(f"/moderation/u/{admin.id}/role", data={"csrf_token": token(admin_client), "role": "member"}),
        "members": mod_client.get("/moderation/users?q=e"),
        "log": mod_client.get("/moderation/log"),
        "log-filter-error": mod_client.get("/moderation/log?action=nope"),
        "topic-as-moderator": mod_client.get(f"/forum/t/{topic_id}"),
        "topic-as-author": author_client.get(f"/forum/t/{topic_id}"),
    }
    mod_client.post(f"/moderation/p/{first}/remove", data={"csrf_token": csrf, "reason": "Spam or advertising"})
    pages["removed-topic-as-moderator"] = mod_client.get(f"/forum/t/{topic_id}")
    pages["removed-topic-as-author"] = author_client.get(f"/forum/t/{topic_id}")
    expected = {"remove-error": 422, "member-suspend-error": 422, "role-error": 422, "log-filter-error": 400}
    for name, response in pages.items():
        assert response.status_code == expected.get(name, 200), name
        html = response.get_data(as_text=True)
        assert html.count("<h1") == 1, name
        assert re.search(r'<nav class="breadcrumb"', html), name
        (tmp_path / f"{name}.html").write_text(html)
    assert held  # the held post is in the queue page above

    messages = outbox.messages()
    subjects = {m["Subject"] for m in messages}
    assert {"A moderator removed your post", "Your forum account is suspended"} <= subjects
    for i, message in enumerate(messages):
        (tmp_path / f"mail-{i}.html").write_text(message.get_body(("html",)).get_content())
    problems = nu_checker.check_folder(tmp_path)
    assert not problems, "Nu HTML Checker found:\n" + "\n".join(problems)
