"""The console's overview page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from tipaudit.core.two_person import ApprovalStatus
from tipaudit.web.deps import ConsoleUser, ServicesDep
from tipaudit.web.pages import NAVIGATION, render

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request, user: ConsoleUser, services: ServicesDep) -> Response:
    pending = [
        a
        for a in services.approvals.list(ApprovalStatus.PENDING)
        if a.requested_by != user.username
    ]
    capabilities = [item for item in NAVIGATION if not item.available]
    return render(
        request,
        "home.html",
        {"pending_approvals": pending, "capabilities": capabilities},
    )
