"""Hooks: how a lower capability lets higher ones join in without importing them.

Why: capabilities are layered (content, mail and accounts at the bottom, the
forum on them, moderation and search on top; tests/test_layers.py holds the
order), and imports only point down. When a lower one must tell or ask a
higher one something (the forum saying a post changed, accounts collecting a
member's data for export), it names a hook here and calls it; the higher one
registers a function for that hook in its init_app. Hooks live in
app.extensions, so every app made in the tests has its own.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app

# Each name below: who calls it, with what, and what it expects back.

# content.routes: () -> [(path, last modified)] for /sitemap.xml.
SITEMAP_SOURCES = "sitemap_sources"
# content.routes: (limit) -> the newest forum topics for the home page; the first registered answers.
LATEST_TOPICS = "latest_topics"
# accounts.mydata: (session, user) -> dict of the member's data, merged into the export.
MEMBER_DATA = "member_data_sources"
# forum: (session, kind, id) after a topic ("topic") or post ("post") was created or changed.
FORUM_CHANGED = "forum_changed"
# forum.posting: (session, new_texts, old_texts) -> a forum.screening.Screening or None, before a post is stored.
POST_SCREENS = "post_screens"


def register(app: Flask, hook: str, fn: Callable) -> None:
    app.extensions.setdefault(hook, []).append(fn)


def registered(hook: str) -> list[Callable]:
    """The functions registered for the hook on the current app, in registration order."""
    return current_app.extensions.get(hook, [])
