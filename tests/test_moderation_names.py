"""Moderation pages name things a person recognises: the author and time of a post rather than its number,
a warning before a first post takes its topic with it, excerpts on member pages, the target's author in the log."""

from __future__ import annotations

import re

from tests.fixtures_moderation import token


def text(response) -> str:
    return response.get_data(as_text=True)


def test_the_log_names_the_author_and_time_of_a_post_and_who_started_a_topic(mod_client, board, member):
    topic_id, _ = board.topic(member, title="Vivid dreams on LDN")
    reply = board.reply(topic_id, member, body="Spam here")
    mod_client.post(f"/moderation/p/{reply}/remove", data={"csrf_token": token(mod_client), "reason": "Off-topic"})
    mod_client.post(f"/moderation/t/{topic_id}/lock", data={"csrf_token": token(mod_client)})
    log = text(mod_client.get("/moderation/log"))
    when = board.post(reply).created_at.strftime("%-d %b %Y %H:%M")
    assert f"Post by Sam Member from {when} in “Vivid dreams on LDN”" in log
    assert "Topic “Vivid dreams on LDN” started by Sam Member" in log
    assert not re.search(r"Post \d+ in", log)


def test_removing_a_first_post_warns_that_the_topic_goes_too(mod_client, board, member, make_user):
    topic_id, first = board.topic(member, title="Brain fog", status="pending")
    board.reply(topic_id, member, body="One", status="pending")
    board.reply(topic_id, member, body="Two", status="pending")
    page = text(mod_client.get(f"/moderation/p/{first}/remove"))
    assert "This is the first post of the topic “Brain fog”: removing it removes the whole topic, with its 2 replies" in page
    assert "Remove the post and its topic" in page
    queue = text(mod_client.get("/moderation/"))
    item = queue[queue.index(f'id="item-{first}"') :]
    item = item[: item.index("</li>")]
    assert "This post starts the topic “Brain fog”: removing it removes the whole topic and its replies" in item


def test_member_pages_show_an_excerpt_of_each_post(mod_client, board, member):
    board.topic(member, title="Sleep", body="I slept badly for two weeks, then " + "much better " * 30)
    page = text(mod_client.get(f"/moderation/u/{member.id}"))
    assert "I slept badly for two weeks, then much better" in page and "…" in page
    assert 'class="moderation-excerpt"' in page


def test_topic_page_controls_name_the_author_and_time_not_a_number(mod_client, board, member):
    topic_id, first = board.topic(member, title="Sleep")
    page = text(mod_client.get(f"/forum/t/{topic_id}"))
    when = board.post(first).created_at.strftime("%-d %B %Y, %H:%M")
    assert f'aria-label="Moderation for the post by Sam Member from {when}"' in page
    assert f'Remove<span class="visually-hidden"> the post by Sam Member from {when}</span>' in page
    assert not re.search(r'visually-hidden"> post \d+<', page)
