"""A staff member's own account: password, second factor, personal API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from tipaudit.accounts import totp
from tipaudit.core.roles import parse_roles
from tipaudit.errors import TipAuditError, ValidationError
from tipaudit.web.deps import ConsoleUser, ServicesDep
from tipaudit.web.pages import render
from tipaudit.web.security import CSRF_FIELD, check_csrf

router = APIRouter(include_in_schema=False)

Csrf = Annotated[str, Form(alias=CSRF_FIELD, max_length=200)]

DONE_MESSAGES = {
    "password": "Your password was changed.",
    "2fa-on": "Two-step verification is on.",
    "2fa-off": "Two-step verification is off.",
    "revoked": "The token was revoked.",
}


def _account_page(
    request: Request,
    user: ConsoleUser,
    services: ServicesDep,
    *,
    error: str | None = None,
    done: str | None = None,
    status_code: int = 200,
    totp_setup: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "account.html",
        {
            "tokens": services.accounts.list_tokens(user),
            "error": error,
            "done": DONE_MESSAGES.get(done or ""),
            "totp_setup": totp_setup,
        },
        status_code=status_code,
    )


@router.get("/account")
def account(request: Request, user: ConsoleUser, services: ServicesDep, done: str = "") -> Response:
    return _account_page(request, user, services, done=done)


@router.post("/account/password")
def change_password(
    request: Request,
    user: ConsoleUser,
    services: ServicesDep,
    csrf_token: Csrf = "",
    current: Annotated[str, Form(max_length=1024)] = "",
    new: Annotated[str, Form(max_length=2048)] = "",
    confirm: Annotated[str, Form(max_length=2048)] = "",
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    try:
        if not services.accounts.check_password(user.username, current):
            raise ValidationError("your current password is not correct")
        if new != confirm:
            raise ValidationError("the new password and its confirmation differ")
        services.accounts.change_password(user.username, new, actor=user.username)
    except TipAuditError as exc:
        return _account_page(request, user, services, error=exc.message, status_code=422)
    return RedirectResponse("/account?done=password", status_code=303)


@router.post("/account/second-factor/start")
def start_second_factor(
    request: Request, user: ConsoleUser, services: ServicesDep, csrf_token: Csrf = ""
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    secret = totp.new_totp_secret()
    uri = totp.provisioning_uri(secret, user.username)
    return _account_page(
        request, user, services, totp_setup={"secret": secret, "qr": totp.qr_svg(uri)}
    )


@router.post("/account/second-factor/confirm")
def confirm_second_factor(
    request: Request,
    user: ConsoleUser,
    services: ServicesDep,
    csrf_token: Csrf = "",
    secret: Annotated[str, Form(max_length=64)] = "",
    code: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    try:
        services.accounts.enable_second_factor(user.username, secret, code)
    except TipAuditError as exc:
        uri = totp.provisioning_uri(secret, user.username) if secret else ""
        setup = {"secret": secret, "qr": totp.qr_svg(uri)} if secret else None
        return _account_page(
            request, user, services, error=exc.message, status_code=422, totp_setup=setup
        )
    return RedirectResponse("/account?done=2fa-on", status_code=303)


@router.post("/account/second-factor/disable")
def disable_second_factor(
    request: Request,
    user: ConsoleUser,
    services: ServicesDep,
    csrf_token: Csrf = "",
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    if not services.accounts.check_password(user.username, password):
        return _account_page(
            request, user, services, error="your password is not correct", status_code=422
        )
    services.accounts.disable_second_factor(user.username, actor=user.username)
    return RedirectResponse("/account?done=2fa-off", status_code=303)


@router.post("/account/tokens")
def create_token(
    request: Request,
    user: ConsoleUser,
    services: ServicesDep,
    csrf_token: Csrf = "",
    name: Annotated[str, Form(max_length=200)] = "",
    roles: Annotated[list[str] | None, Form()] = None,
    days: Annotated[int, Form(ge=1, le=366)] = 90,
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    try:
        scope = parse_roles(roles or []) or None
        info, value = services.accounts.create_token(user, name, roles=scope, expires_in_days=days)
    except TipAuditError as exc:
        return _account_page(request, user, services, error=exc.message, status_code=422)
    return render(request, "token_created.html", {"token": info, "value": value})


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(
    request: Request,
    token_id: int,
    user: ConsoleUser,
    services: ServicesDep,
    csrf_token: Csrf = "",
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    services.accounts.revoke_token(user, token_id)
    return RedirectResponse("/account?done=revoked", status_code=303)
