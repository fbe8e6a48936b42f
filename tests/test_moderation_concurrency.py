"""Two moderators acting on the same thing at the same moment end in one consistent state,
with one log entry per action that changed something. Real threads, real databases."""

from __future__ import annotations

import threading

import pytest

from tests.fixtures_moderation import sign_in, token

pytestmark = pytest.mark.both_databases

ROUNDS = 4


@pytest.fixture
def two_moderators(app, moderator, make_user):
    other = make_user("omar@example.com", "Omar Moderator", role="moderator")
    clients = []
    for user in (moderator, other):
        client = app.test_client()
        sign_in(client, user)
        token(client)  # fetch the CSRF token before the race
        clients.append(client)
    return clients


def race(clients, requests: list[tuple[str, dict]]) -> list[str]:
    """Send each client's POST at the same moment; return the messages the moderators see."""
    barrier = threading.Barrier(len(clients))
    results: list[str | BaseException] = [""] * len(clients)

    def run(i: int) -> None:
        url, data = requests[i]
        try:
            barrier.wait(timeout=10)
            response = clients[i].post(url, data={"csrf_token": token(clients[i]), **data}, follow_redirects=True)
            assert response.status_code == 200, response.status_code
            results[i] = response.get_data(as_text=True)
        except BaseException as exc:  # noqa: BLE001  (reported below, in the test's thread)
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results  # type: ignore[return-value]


def test_two_moderators_remove_the_same_post(two_moderators, board, member):
    topic_id, _ = board.topic(member)
    for _ in range(ROUNDS):
        reply = board.reply(topic_id, member)
        pages = race(
            two_moderators,
            [
                (f"/moderation/p/{reply}/remove", {"reason": "Off-topic"}),
                (f"/moderation/p/{reply}/remove", {"reason": "Spam or advertising"}),
            ],
        )
        won = [p for p in pages if "Post removed." in p]
        lost = [p for p in pages if "already removed" in p]
        assert len(won) == 1 and len(lost) == 1
        entries = board.log(action="remove", target_id=reply)
        assert len(entries) == 1
        post = board.post(reply)
        assert post.status == "removed" and post.removal_reason == entries[0].reason
        assert post.removed_by_id == entries[0].moderator_id


def test_two_moderators_approve_the_same_post(two_moderators, board, member):
    topic_id, _ = board.topic(member)
    for _ in range(ROUNDS):
        held = board.reply(topic_id, member, status="pending")
        pages = race(two_moderators, [(f"/moderation/p/{held}/approve", {}), (f"/moderation/p/{held}/approve", {})])
        assert sum("Post approved and published." in p for p in pages) == 1
        assert sum("already approved" in p for p in pages) == 1
        [entry] = board.log(action="approve", target_id=held)
        assert board.post(held).approved_by_id == entry.moderator_id


def test_two_moderators_restore_the_same_post(two_moderators, board, member):
    topic_id, _ = board.topic(member)
    reply = board.reply(topic_id, member)
    race(two_moderators[:1], [(f"/moderation/p/{reply}/remove", {"reason": "Off-topic"})])
    pages = race(two_moderators, [(f"/moderation/p/{reply}/restore", {}), (f"/moderation/p/{reply}/restore", {})])
    assert sum("Post restored." in p for p in pages) == 1
    assert sum("nothing to restore" in p for p in pages) == 1
    assert len(board.log(action="restore")) == 1
    assert board.post(reply).status == "published"


def test_approve_and_remove_at_once_agree_with_the_log(two_moderators, board, member):
    """Whichever lands first, the post's final state is what the log's last entry says."""
    topic_id, _ = board.topic(member)
    for _ in range(ROUNDS):
        held = board.reply(topic_id, member, status="pending")
        race(two_moderators, [(f"/moderation/p/{held}/approve", {}), (f"/moderation/p/{held}/remove", {"reason": "Off-topic"})])
        entries = board.log(target_id=held, target_type="post")
        assert 1 <= len(entries) <= 2
        assert board.post(held).status == entries[-1].new_state
        # Each entry starts from the state the previous one left.
        assert entries[0].previous_state == "pending"
        if len(entries) == 2:
            assert entries[1].previous_state == entries[0].new_state


def test_two_moderators_suspend_the_same_member(app, two_moderators, member, board):
    pages = race(
        two_moderators,
        [
            (f"/moderation/u/{member.id}/suspend", {"reason": "First", "period": "1"}),
            (f"/moderation/u/{member.id}/suspend", {"reason": "Second", "period": "7"}),
        ],
    )
    assert sum("is suspended (" in p for p in pages) == 1
    assert sum("already suspended" in p for p in pages) == 1
    from ldnsite.accounts.models import Suspension
    from ldnsite.db import get_session

    with app.app_context():
        assert get_session().query(Suspension).count() == 1
    assert len(board.log(action="suspend")) == 1


def test_two_moderators_lock_the_same_topic(two_moderators, board, member):
    topic_id, _ = board.topic(member)
    pages = race(two_moderators, [(f"/moderation/t/{topic_id}/lock", {}), (f"/moderation/t/{topic_id}/lock", {})])
    assert sum("Topic locked." in p for p in pages) == 1
    assert sum("already locked" in p for p in pages) == 1
    assert len(board.log(action="lock")) == 1
