"""Headers on every response.

Why this CSP: no inline script or style anywhere, so an injected <script> or
style attribute that slipped past the sanitiser still cannot run.
"""

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# docs/deploy.md's ldn-guide-pages.conf sends the same headers with the page files nginx serves (a test compares).
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def trust_proxies(app: Flask) -> None:
    """Behind N reverse proxies (FLASK_PROXY_COUNT=N), take the client address and scheme from them.

    Why: rate limits are per client address, and behind a proxy every request
    would otherwise come from the proxy's address and share one limit. Only
    the last N X-Forwarded-* values are trusted, so a client cannot forge its own.
    """
    count = int(app.config["PROXY_COUNT"])
    if count > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)  # type: ignore[method-assign]


def init_app(app: Flask) -> None:
    trust_proxies(app)

    @app.after_request
    def set_headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if request.is_secure or app.config["SITE_URL"].startswith("https://"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response
