"""Who may keep a copy of each response, and for how long: one after_request hook for the whole site.

Why one place: a shared cache (nginx, a CDN) in front of the site acts on
Cache-Control alone, so a single wrong header would hand one member's page,
or a CSRF token, to everyone. Views never set Cache-Control; this hook
decides from the endpoint, its blueprint, the status and whether the request
belongs to a session, and it also decides which responses may be compressed
(compression.py). docs/deploy.md has the table and the proxy set-up.

| response | Cache-Control | compressed |
|---|---|---|
| hashed static URL (`?v=<hash>`) | public, max-age=31536000, immutable | yes |
| plain static URL | public, max-age=300 | yes |
| anonymous content page, list, feed, sitemap | CONTENT: a shared cache keeps it 5 minutes | yes |
| anonymous home, forum and search pages | FORUM: a shared cache keeps it 10 s, 20 s more while it refreshes | yes |
| signed-in member (session with a user id) | private, no-cache | yes, unless below |
| a CSRF token in the page; accounts, moderation, mail pages; health | private, no-store | never |
| any response that sets a cookie | private, no-store | never |
| errors, redirects, answers to POST (anonymous) | private, no-store | yes |
| an anonymous page of any other blueprint | private, no-cache | yes |

A moderator's removal is therefore gone from every shared cache within
FORUM_VISIBLE_WITHIN seconds (s-maxage + stale-while-revalidate); browsers
always revalidate (max-age=0).
"""

from __future__ import annotations

from flask import Flask, Response, current_app, g, request, session

from ldnsite.security import compression, static_assets

CONTENT_SECONDS = 300
FORUM_SECONDS = 10
FORUM_STALE_SECONDS = 20
FORUM_VISIBLE_WITHIN = FORUM_SECONDS + FORUM_STALE_SECONDS

# docs/deploy.md's ldn-guide-pages.conf repeats CONTENT (and headers.HEADERS) for the page files nginx serves;
# tests/test_delivery_proxy.py fails when they differ.
# stale-if-error lets a cache keep serving the articles for a day while the application is down;
# never on forum pages, or a removed post could outlive FORUM_VISIBLE_WITHIN.
CONTENT = f"public, max-age=0, s-maxage={CONTENT_SECONDS}, stale-while-revalidate=60, stale-if-error=86400"
FORUM = f"public, max-age=0, s-maxage={FORUM_SECONDS}, stale-while-revalidate={FORUM_STALE_SECONDS}"
IMMUTABLE = "public, max-age=31536000, immutable"
STATIC_SHORT = "public, max-age=300"
PRIVATE = "private, no-cache"
NO_STORE = "private, no-store"

# Pages about one person (their account, the member list, an opt-out address), even when anonymous.
PERSONAL_BLUEPRINTS = frozenset({"accounts", "moderation", "mail"})
NEVER_STORED = frozenset({"content.healthz"})
# Pages that show forum posts, so a removal must reach them quickly.
FORUM_ENDPOINTS = frozenset({"content.home", "search.search"})
FORUM_BLUEPRINTS = frozenset({"forum"})
CONTENT_BLUEPRINTS = frozenset({"content", "search"})


def sets_cookie(response: Response) -> bool:
    """Will this response carry a Set-Cookie: one already added, or the session cookie Flask adds after the hooks?

    Reads the session as a plain dict, so that asking does not itself add Vary: Cookie.
    """
    if "Set-Cookie" in response.headers:
        return True
    data = session._get_current_object()
    if getattr(data, "modified", False) or dict.__contains__(data, "_remember"):
        return True
    return bool(dict.get(data, "_permanent")) and current_app.config["SESSION_REFRESH_EACH_REQUEST"]


def has_csrf_token() -> bool:
    """Flask-WTF keeps the token it generated for this request in g: the page (or a header) carries it."""
    return current_app.config["WTF_CSRF_FIELD_NAME"] in g


def signed_in() -> bool:
    """From the session alone: no database query, so the hook works while the database is down."""
    return dict.__contains__(session._get_current_object(), "_user_id")


def decide(response: Response) -> tuple[str, bool]:
    """(Cache-Control, may be compressed) for this response."""
    endpoint = request.endpoint or ""
    readable = request.method in ("GET", "HEAD") and response.status_code in (200, 304)
    if sets_cookie(response):
        return NO_STORE, False
    if endpoint == "static":
        if not readable:
            return NO_STORE, True
        return (IMMUTABLE if static_assets.is_hashed_request() else STATIC_SHORT), True
    if has_csrf_token() or request.blueprint in PERSONAL_BLUEPRINTS or endpoint in NEVER_STORED:
        return NO_STORE, False
    if signed_in():
        return PRIVATE, True
    if not readable:
        return NO_STORE, True
    if endpoint in FORUM_ENDPOINTS or request.blueprint in FORUM_BLUEPRINTS:
        return FORUM, True
    if request.blueprint in CONTENT_BLUEPRINTS:
        return CONTENT, True
    return PRIVATE, True


def apply(response: Response) -> Response:
    cache_control, compressible = decide(response)
    response.headers["Cache-Control"] = cache_control
    if cache_control.startswith("public") and request.endpoint != "static":
        # A shared cache revalidates with If-None-Match: give every public page a validator.
        if not response.get_etag()[0] and not response.is_streamed:
            response.add_etag()
        response.vary.add("Cookie")
        response.make_conditional(request)
    if compressible:
        response = compression.compress(response)
    return response


def init_app(app: Flask) -> None:
    compression.init_app(app)
    app.after_request(apply)
