"""The append-only moderation log: filters, pagination, and nothing able to edit or delete it."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DatabaseError

from ldnsite.db import get_session
from ldnsite.moderation.models import AppendOnlyError, ModerationLog
from tests.fixtures_moderation import sign_in, token

pytestmark = pytest.mark.both_databases


@pytest.fixture
def two_moderators_acted(app, board, member, moderator, make_user):
    """Maya locks two topics; Omar locks one and unlocks one."""
    other = make_user("omar@example.com", "Omar Moderator", role="moderator")
    maya, omar = app.test_client(), app.test_client()
    sign_in(maya, moderator)
    sign_in(omar, other)
    topics = [board.topic(member, title=f"Topic {i}")[0] for i in range(3)]
    for client, url in [
        (maya, f"/moderation/t/{topics[0]}/lock"),
        (maya, f"/moderation/t/{topics[1]}/lock"),
        (omar, f"/moderation/t/{topics[2]}/lock"),
        (omar, f"/moderation/t/{topics[2]}/unlock"),
    ]:
        assert client.post(url, data={"csrf_token": token(client)}).status_code == 303
    return other


def test_log_lists_every_action_newest_first(mod_client, two_moderators_acted):
    html = mod_client.get("/moderation/log").get_data(as_text=True)
    assert "4 entries" in html
    table = html[html.index("<tbody>") :]
    assert table.index("Unlocked topic") < table.index("Locked topic")
    assert "Maya Moderator" in html and "Omar Moderator" in html
    assert "Topic “Topic 0”" in html


def test_filter_by_moderator_and_action(mod_client, moderator, two_moderators_acted):
    omar = two_moderators_acted
    by_omar = mod_client.get(f"/moderation/log?moderator={omar.id}").get_data(as_text=True)
    assert "2 entries match the filter" in by_omar and "Maya Moderator</td>" not in by_omar
    locks = mod_client.get("/moderation/log?action=lock").get_data(as_text=True)
    assert "3 entries match the filter" in locks and "Unlocked topic</td>" not in locks
    both = mod_client.get(f"/moderation/log?moderator={moderator.id}&action=unlock").get_data(as_text=True)
    assert "0 entries match the filter" in both


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("moderator=abc", "Choose a moderator from the list"),
        ("moderator=99999", "Choose a moderator from the list"),
        ("action=delete_everything", "Choose an action from the list"),
    ],
)
def test_invalid_filters_get_a_clear_400(mod_client, two_moderators_acted, query, message):
    response = mod_client.get(f"/moderation/log?{query}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "There is a problem" in html and message in html
    assert "<table" not in html  # never silently widened to every entry


def test_log_is_paginated(app, mod_client, board, member, moderator):
    topic_id, _ = board.topic(member)
    for _ in range(11):  # 22 entries: lock and unlock
        for action in ("lock", "unlock"):
            mod_client.post(f"/moderation/t/{topic_id}/{action}", data={"csrf_token": token(mod_client)})
    page1 = mod_client.get("/moderation/log").get_data(as_text=True)
    assert "22 entries" in page1 and "Page 1 of 2" in page1
    assert page1.count("<tr>") == 21  # the header row and 20 entries
    assert mod_client.get("/moderation/log?page=2").get_data(as_text=True).count("<tr>") == 3
    # A filter carries to the next page.
    filtered = mod_client.get(f"/moderation/log?moderator={moderator.id}").get_data(as_text=True)
    assert f'href="/moderation/log?page=2&amp;moderator={moderator.id}"' in filtered
    assert mod_client.get(f"/moderation/log?page=2&moderator={moderator.id}").get_data(as_text=True).count("<tr>") == 3
    assert "11 entries" in mod_client.get("/moderation/log?action=lock").get_data(as_text=True)
    assert mod_client.get("/moderation/log?page=3").status_code == 404


def test_no_route_edits_or_deletes_the_log(app, mod_client):
    methods = {rule.endpoint: rule.methods for rule in app.url_map.iter_rules() if rule.rule.startswith("/moderation/log")}
    assert methods and all(m <= {"GET", "HEAD", "OPTIONS"} for m in methods.values())
    assert mod_client.delete("/moderation/log").status_code == 405
    assert mod_client.post("/moderation/log", data={"csrf_token": token(mod_client)}).status_code == 405


def test_the_orm_refuses_to_change_or_delete_an_entry(app, mod_client, two_moderators_acted):
    with app.app_context():
        session = get_session()
        entry = session.query(ModerationLog).first()
        entry.reason = "rewritten history"
        with pytest.raises(AppendOnlyError):
            session.commit()
        session.rollback()
        session.delete(session.query(ModerationLog).first())
        with pytest.raises(AppendOnlyError):
            session.commit()
        session.rollback()
        with pytest.raises(AppendOnlyError):
            session.execute(update(ModerationLog).values(reason="bulk rewrite"))
        with pytest.raises(AppendOnlyError):
            session.execute(delete(ModerationLog))
        session.rollback()
        assert session.query(ModerationLog).count() == 4
        assert all(e.reason != "rewritten history" for e in session.query(ModerationLog))


def test_the_database_refuses_raw_sql_changes(app, two_moderators_acted):
    engine = app.extensions["db_engine"]
    for sql in ("UPDATE moderation_log SET reason = 'x'", "DELETE FROM moderation_log"):
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
            conn.execute(text(sql))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM moderation_log")).scalar() == 4
