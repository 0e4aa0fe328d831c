"""Request dependencies: services, the current staff member, permission checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request

from tipaudit.core.roles import Permission
from tipaudit.errors import AuthenticationError
from tipaudit.services.accounts import SessionInfo, StaffUser
from tipaudit.services.container import Services
from tipaudit.web.security import CSRF_HEADER, SESSION_COOKIE, check_csrf


class LoginRequiredError(AuthenticationError):
    """No console session: pages redirect to the log-in form, the API answers 401."""

    code = "login_required"


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def current_session(request: Request) -> SessionInfo | None:
    """The console session of this request, resolved once and cached on the request."""
    if "tipaudit_session" not in request.scope.setdefault("state", {}):
        secret = request.cookies.get(SESSION_COOKIE, "")
        info = get_services(request).accounts.resolve_session(secret) if secret else None
        request.state.tipaudit_session = info
    session: SessionInfo | None = request.state.tipaudit_session
    return session


def optional_user(request: Request) -> StaffUser | None:
    info = current_session(request)
    if info is None or info.second_factor_pending:
        return None
    return info.user


def console_user(request: Request) -> StaffUser:
    user = optional_user(request)
    if user is None:
        raise LoginRequiredError("log in to see this page")
    return user


ConsoleUser = Annotated[StaffUser, Depends(console_user)]
OptionalUser = Annotated[StaffUser | None, Depends(optional_user)]


def page_permission(permission: Permission) -> Callable[..., StaffUser]:
    def dependency(user: ConsoleUser) -> StaffUser:
        user.require(permission)
        return user

    return dependency


def api_user(request: Request) -> StaffUser:
    """An API caller: a personal token (``Authorization: Bearer``), or a console session
    whose unsafe requests carry the ``X-CSRF-Token`` header."""
    services = get_services(request)
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise AuthenticationError("use 'Authorization: Bearer <token>'")
        return services.accounts.resolve_token(value.strip())
    user = optional_user(request)
    if user is None:
        raise AuthenticationError(
            "authenticate with a personal API token: 'Authorization: Bearer <token>'"
        )
    if request.method not in {"GET", "HEAD", "OPTIONS"}:
        check_csrf(request, request.app.state.secret_key, request.headers.get(CSRF_HEADER))
    return user


ApiUser = Annotated[StaffUser, Depends(api_user)]


def api_permission(permission: Permission) -> Any:
    def dependency(user: ApiUser) -> StaffUser:
        user.require(permission)
        return user

    return Depends(dependency)
