"""Log-in (password, then the optional second factor) and log-out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from tipaudit.errors import AuthenticationError
from tipaudit.web.deps import ServicesDep, current_session
from tipaudit.web.pages import render
from tipaudit.web.security import CSRF_FIELD, SESSION_COOKIE, check_csrf, set_cookie

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    # Only local paths: an open redirect would let a phishing link borrow our log-in page.
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login")
def login(
    request: Request,
    services: ServicesDep,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=200)] = "",
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    try:
        user = services.accounts.authenticate(username, password)
    except AuthenticationError as exc:
        return render(
            request,
            "login.html",
            {"next": _safe_next(next), "error": exc.message, "username": username[:64]},
            status_code=401,
        )
    info = services.accounts.start_session(user)
    target = "/login/second-factor" if info.second_factor_pending else _safe_next(next)
    response = RedirectResponse(target, status_code=303)
    set_cookie(
        response,
        services.settings,
        SESSION_COOKIE,
        info.secret,
        max_age=services.settings.session_max_hours * 3600,
    )
    return response


@router.get("/login/second-factor")
def second_factor_form(request: Request) -> Response:
    info = current_session(request)
    if info is None:
        return RedirectResponse("/login", status_code=303)
    if not info.second_factor_pending:
        return RedirectResponse("/", status_code=303)
    return render(request, "second_factor.html", {"error": None})


@router.post("/login/second-factor")
def second_factor(
    request: Request,
    services: ServicesDep,
    code: Annotated[str, Form(max_length=20)] = "",
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=200)] = "",
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    info = current_session(request)
    if info is None:
        return RedirectResponse("/login", status_code=303)
    try:
        services.accounts.complete_second_factor(info.secret, code)
    except AuthenticationError as exc:
        return render(request, "second_factor.html", {"error": exc.message}, status_code=401)
    return RedirectResponse("/", status_code=303)


@router.post("/logout")
def logout(
    request: Request,
    services: ServicesDep,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=200)] = "",
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        services.accounts.end_session(secret)
    response = RedirectResponse("/login?next=/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
