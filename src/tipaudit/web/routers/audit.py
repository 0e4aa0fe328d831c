"""The audit log in the console: recent events, and verification of the chain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import Response

from tipaudit.audit import AuditAction, AuditEntry
from tipaudit.core.roles import Permission
from tipaudit.services.accounts import StaffUser
from tipaudit.web.deps import ServicesDep, page_permission
from tipaudit.web.pages import render
from tipaudit.web.security import CSRF_FIELD, check_csrf

router = APIRouter(include_in_schema=False)

Reader = Annotated[StaffUser, Depends(page_permission(Permission.AUDIT_READ))]
Verifier = Annotated[StaffUser, Depends(page_permission(Permission.AUDIT_VERIFY))]


def _page(
    request: Request,
    services: ServicesDep,
    *,
    action: str | None,
    actor: str | None,
    report: object = None,
) -> Response:
    return render(
        request,
        "audit.html",
        {
            "events": services.audit.recent(limit=200, action=action or None, actor=actor or None),
            "actions": [a.value for a in AuditAction],
            "action": action or "",
            "actor": actor or "",
            "report": report,
        },
    )


@router.get("/audit")
def audit_log(
    request: Request,
    user: Reader,
    services: ServicesDep,
    action: Annotated[str, Query(max_length=80)] = "",
    actor: Annotated[str, Query(max_length=120)] = "",
) -> Response:
    return _page(request, services, action=action, actor=actor)


@router.post("/audit/verify")
def verify(
    request: Request,
    user: Verifier,
    services: ServicesDep,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=200)] = "",
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    report = services.audit.verify()
    with services.db.write() as session:
        services.audit.record(
            session,
            AuditEntry(
                actor=user.username,
                action=AuditAction.AUDIT_VERIFIED,
                object_type="audit_log",
                object_id="chain",
                reason=None,
                details={"ok": report.ok, "events": report.events_checked},
            ),
        )
    if not user.can(Permission.AUDIT_READ):
        return render(request, "audit_verified.html", {"report": report})
    return _page(request, services, action=None, actor=None, report=report)
