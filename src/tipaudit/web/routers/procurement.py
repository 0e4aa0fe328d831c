"""Procurement screening in the console: runs, charts, the register and one process explained."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from tipaudit.core.roles import Permission
from tipaudit.errors import NotFoundError
from tipaudit.procurement.outputs import register_rows, supplier_rows
from tipaudit.procurement.rules import FACTORS, factor_indicators
from tipaudit.services.accounts import StaffUser
from tipaudit.services.procurement import ProcurementRuns
from tipaudit.web.deps import ServicesDep, page_permission
from tipaudit.web.pages import render
from tipaudit.web.procurement_report import report_context

router = APIRouter(include_in_schema=False)

Reader = Annotated[StaffUser, Depends(page_permission(Permission.PROCUREMENT_READ))]
PAGE_SIZE = 50


@router.get("/procurement")
def procurement_home(request: Request, user: Reader, services: ServicesDep) -> Response:
    runs = ProcurementRuns(services.settings).list()
    if not runs:
        return render(request, "procurement_none.html", {})
    return run_page(request, runs[0].id, user, services)


@router.get("/procurement/runs/{run_id}")
def run_page(
    request: Request,
    run_id: str,
    user: Reader,
    services: ServicesDep,
    level: Annotated[str, Query(pattern="^(|high|medium|low)$")] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    store = ProcurementRuns(services.settings)
    run = store.open(run_id)
    context = report_context(run, rows=0)
    rows = list(register_rows(run, level=level or None, limit=PAGE_SIZE * page))[
        PAGE_SIZE * (page - 1) :
    ]
    total = (
        context["summary"].levels.get(level, 0)
        if level
        else sum(context["summary"].levels.values())
    )
    context.update(
        {
            "run_id": run_id,
            "runs": store.list(),
            "rows": rows,
            "level": level,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "link": f"/procurement/runs/{run_id}/processes/",
        }
    )
    return render(request, "procurement_run.html", context)


@router.get("/procurement/runs/{run_id}/suppliers")
def suppliers_page(
    request: Request,
    run_id: str,
    user: Reader,
    services: ServicesDep,
    level: Annotated[str, Query(pattern="^(|high|medium|low)$")] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    run = ProcurementRuns(services.settings).open(run_id)
    rows = supplier_rows(
        run, level=level or None, limit=PAGE_SIZE + 1, offset=PAGE_SIZE * (page - 1)
    )
    return render(
        request,
        "procurement_suppliers.html",
        {
            "run_id": run_id,
            "suppliers": rows[:PAGE_SIZE],
            "more": len(rows) > PAGE_SIZE,
            "level": level,
            "page": page,
        },
    )


@router.get("/procurement/runs/{run_id}/processes/{ocid:path}")
def process_page(
    request: Request, run_id: str, ocid: str, user: Reader, services: ServicesDep
) -> Response:
    run = ProcurementRuns(services.settings).open(run_id)
    rows = list(register_rows(run, ocid=ocid[:300]))
    if not rows:
        raise NotFoundError(f"{ocid[:80]!r} is not in this screening run")
    row = rows[0]
    details = [
        (FACTORS[f["factor"]], reason, factor_indicators(f))
        for f, reason in zip(row["factor_rows"], row["reasons"], strict=True)
    ]
    return render(
        request,
        "procurement_process.html",
        {"run_id": run_id, "row": row, "details": details},
    )
