"""Browser-facing security: headers, cookies and CSRF tokens."""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import Response

from tipaudit.accounts import tokens
from tipaudit.errors import PermissionDeniedError
from tipaudit.settings import Settings

SESSION_COOKIE = "tipaudit_session"
CSRF_COOKIE = "tipaudit_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


def apply_security_headers(response: Response, settings: Settings) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if settings.secure_cookies:
        response.headers.setdefault(
            "Strict-Transport-Security", "max-age=63072000; includeSubDomains"
        )
    if "cache-control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"


def set_cookie(
    response: Response, settings: Settings, name: str, value: str, *, max_age: int | None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="strict",
        path="/",
    )


def csrf_secret(request: Request) -> str:
    """The browser's CSRF cookie value, made on the first visit (see csrf middleware)."""
    value = request.cookies.get(CSRF_COOKIE, "")
    if 20 <= len(value) <= 100:
        return value
    fresh = getattr(request.state, "new_csrf_secret", None)
    if fresh is None:
        fresh = secrets.token_urlsafe(32)
        request.state.new_csrf_secret = fresh
    return str(fresh)


def csrf_token_for(request: Request, key: bytes) -> str:
    return tokens.csrf_token(key, csrf_secret(request))


def check_csrf(request: Request, key: bytes, presented: str | None) -> None:
    secret = request.cookies.get(CSRF_COOKIE, "")
    if not secret or not presented or not tokens.csrf_valid(key, secret, presented):
        raise PermissionDeniedError(
            "the form has expired or did not come from this site; reload the page and try again"
        )
