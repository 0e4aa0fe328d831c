"""Administration: staff accounts and requests waiting for a second person."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from tipaudit.core.roles import PRIVILEGED_ROLES, Permission, Role, parse_roles
from tipaudit.core.two_person import ApprovalStatus
from tipaudit.errors import TipAuditError
from tipaudit.services.accounts import StaffUser
from tipaudit.web.deps import ServicesDep, page_permission
from tipaudit.web.pages import render
from tipaudit.web.security import CSRF_FIELD, check_csrf

router = APIRouter(include_in_schema=False)

Csrf = Annotated[str, Form(alias=CSRF_FIELD, max_length=200)]
Admin = Annotated[StaffUser, Depends(page_permission(Permission.USERS_MANAGE))]
Approver = Annotated[StaffUser, Depends(page_permission(Permission.APPROVALS_DECIDE))]

DONE = {
    "created": "The account was created.",
    "roles": "The roles were changed.",
    "requested": "Granting that role needs a second administrator: the request is waiting "
    "under Approvals.",
    "disabled": "The account was disabled and its sessions ended.",
    "enabled": "The account was enabled.",
}


def _users_page(
    request: Request,
    services: ServicesDep,
    *,
    error: str | None = None,
    done: str = "",
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "users.html",
        {
            "users": services.accounts.list_users(),
            "roles": list(Role),
            "privileged": PRIVILEGED_ROLES,
            "error": error,
            "done": DONE.get(done),
        },
        status_code=status_code,
    )


@router.get("/users")
def users(request: Request, admin: Admin, services: ServicesDep, done: str = "") -> Response:
    return _users_page(request, services, done=done)


@router.post("/users")
def create_user(
    request: Request,
    admin: Admin,
    services: ServicesDep,
    csrf_token: Csrf = "",
    username: Annotated[str, Form(max_length=200)] = "",
    display_name: Annotated[str, Form(max_length=400)] = "",
    password: Annotated[str, Form(max_length=2048)] = "",
    roles: Annotated[list[str] | None, Form()] = None,
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    try:
        wanted = parse_roles(roles or [])
        privileged = wanted & PRIVILEGED_ROLES
        # New accounts start with the ordinary roles; privileged ones go through approval.
        user = services.accounts.create_user(
            username,
            password,
            roles=wanted - privileged,
            display_name=display_name,
            actor=admin.username,
        )
        if privileged:
            services.change_roles(
                admin,
                user.username,
                wanted,
                reason=f"new account created by {admin.username} with privileged roles",
            )
            return RedirectResponse("/users?done=requested", status_code=303)
    except TipAuditError as exc:
        return _users_page(request, services, error=exc.message, status_code=exc.status)
    return RedirectResponse("/users?done=created", status_code=303)


@router.post("/users/{username}/roles")
def change_roles(
    request: Request,
    username: str,
    admin: Admin,
    services: ServicesDep,
    csrf_token: Csrf = "",
    roles: Annotated[list[str] | None, Form()] = None,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    try:
        waiting = services.change_roles(admin, username, parse_roles(roles or []), reason=reason)
    except TipAuditError as exc:
        return _users_page(request, services, error=exc.message, status_code=exc.status)
    return RedirectResponse(
        "/users?done=requested" if waiting else "/users?done=roles", status_code=303
    )


@router.post("/users/{username}/active")
def set_active(
    request: Request,
    username: str,
    admin: Admin,
    services: ServicesDep,
    csrf_token: Csrf = "",
    active: Annotated[bool, Form()] = False,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    try:
        services.accounts.set_active(username, active, actor=admin.username, reason=reason)
    except TipAuditError as exc:
        return _users_page(request, services, error=exc.message, status_code=exc.status)
    return RedirectResponse(f"/users?done={'enabled' if active else 'disabled'}", status_code=303)


@router.get("/approvals")
def approvals(
    request: Request, user: Approver, services: ServicesDep, show: str = "pending"
) -> Response:
    status = None if show == "all" else ApprovalStatus.PENDING
    return render(
        request,
        "approvals.html",
        {"approvals": services.approvals.list(status), "show": show, "error": None},
    )


@router.post("/approvals/{approval_id}/decide")
def decide(
    request: Request,
    approval_id: int,
    user: Approver,
    services: ServicesDep,
    csrf_token: Csrf = "",
    decision: Annotated[str, Form(pattern="^(approve|reject)$")] = "reject",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    try:
        services.approvals.decide(approval_id, user, approve=decision == "approve", reason=reason)
    except TipAuditError as exc:
        return render(
            request,
            "approvals.html",
            {
                "approvals": services.approvals.list(ApprovalStatus.PENDING),
                "show": "pending",
                "error": exc.message,
            },
            status_code=exc.status,
        )
    return RedirectResponse("/approvals?show=all", status_code=303)
