"""Server-rendered pages: one Jinja2 environment, one layout, one way to render."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from tipaudit import __version__
from tipaudit.core.roles import Permission
from tipaudit.web.security import CSRF_FIELD, csrf_token_for

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
TEMPLATES.env.globals["version"] = __version__
TEMPLATES.env.globals["csrf_field"] = CSRF_FIELD


def _json_default(value: object) -> object:
    if isinstance(value, Mapping):  # frozen details of audit records
        return dict(value)
    if isinstance(value, tuple | frozenset | set):
        return sorted(value) if isinstance(value, frozenset | set) else list(value)
    return str(value)


TEMPLATES.env.policies["json.dumps_kwargs"] = {
    "sort_keys": True,
    "ensure_ascii": False,
    "default": _json_default,
}


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    permission: Permission | None
    available: bool = True


NAVIGATION = (
    NavItem("Overview", "/", Permission.CONSOLE_VIEW),
    NavItem("Procurement", "/procurement", Permission.PROCUREMENT_READ),
    NavItem("Entities & vetting", "/entities", Permission.ENTITIES_READ),
    NavItem("Policies", "/policies", Permission.POLICY_READ),
    NavItem("Reports", "/reports", Permission.REPORTS_READ),
    NavItem("Approvals", "/approvals", Permission.APPROVALS_DECIDE),
    NavItem("Users", "/users", Permission.USERS_MANAGE),
    NavItem("Audit log", "/audit", Permission.AUDIT_READ),
)

PUBLIC_NAVIGATION = (
    NavItem("Countries", "/countries", None),
    NavItem("Indicators", "/indicators", None),
    NavItem("Report abuse", "/report/", None),
    NavItem("Report statistics", "/transparency", None),
)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> Response:
    from tipaudit.web.deps import optional_user

    user = optional_user(request)
    nav = [
        item
        for item in NAVIGATION
        if user is not None and (item.permission is None or user.can(item.permission))
    ]
    values: dict[str, Any] = {
        "user": user,
        "nav": nav,
        "public_nav": PUBLIC_NAVIGATION,
        "current_path": request.url.path,
        "csrf_token": csrf_token_for(request, request.app.state.secret_key),
    }
    values.update(context or {})
    return TEMPLATES.TemplateResponse(request, template, values, status_code=status_code)


def error_page(request: Request, status: int, message: str) -> Response:
    titles = {
        400: "That did not work",
        401: "Please log in",
        403: "Not allowed",
        404: "Not found",
        405: "Not allowed",
        409: "Conflict",
        422: "Please check what you entered",
        429: "Too many attempts",
    }
    return render(
        request,
        "error.html",
        {"status": status, "title": titles.get(status, "Something went wrong"), "message": message},
        status_code=status,
    )
