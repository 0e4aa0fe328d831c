"""Pages anyone may see without logging in."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from tipaudit.core.indicators import load_taxonomy
from tipaudit.web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/indicators")
def indicators(request: Request) -> Response:
    """The indicator taxonomy every finding in tipaudit cites."""
    return render(request, "indicators.html", {"taxonomy": load_taxonomy()})


@router.get("/healthz")
def health() -> dict[str, str]:
    return {"status": "ok"}
