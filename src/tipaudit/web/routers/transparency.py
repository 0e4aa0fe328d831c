"""The public transparency page of the reporting channel, its CSV, and the staff HTCDS export.

``/transparency`` (no log-in) shows, per closed quarter, what the channel received and what
was done, with small counts suppressed (``reports/statistics.py``, ``docs/transparency.md``);
``/transparency.csv`` is the same as CSV. Periods are frozen at first publication in a ledger
file in the data folder (``reports/transparency-ledger.json``), so published figures never
change. ``/exports/htcds`` gives decision-makers the case data in HTCDS v2.0 form, built and
audited by ``services.reports.Reports.export_htcds``.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from tipaudit.core.roles import Permission
from tipaudit.reports.statistics import PeriodRelease, Release, ReleaseLedger, publish, to_csv
from tipaudit.services.accounts import StaffUser
from tipaudit.services.container import Services
from tipaudit.web.charts import bar_chart_svg
from tipaudit.web.deps import ServicesDep, page_permission
from tipaudit.web.pages import render

router = APIRouter(include_in_schema=False)

Exporter = Annotated[StaffUser, Depends(page_permission(Permission.REPORTS_DECIDE))]


def ledger_path(services: Services) -> Path:
    return services.settings.data_dir / "reports" / "transparency-ledger.json"


def current_release(services: Services, *, now: datetime | None = None) -> Release:
    """Publish every closed period, freezing new ones in the ledger file."""
    path = ledger_path(services)
    ledger = ReleaseLedger.from_json(path.read_text("utf-8")) if path.exists() else ReleaseLedger()
    known = set(ledger.periods)
    release = publish(
        services.reports.case_summaries(),
        now=now or datetime.now(UTC),
        k=services.settings.reports_min_cell,
        ledger=ledger,
    )
    if set(ledger.periods) != known:
        _write_atomically(path, ledger.to_json())
    return release


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".ledger-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    Path(temporary).replace(path)


@router.get("/transparency")
def transparency(request: Request, services: ServicesDep) -> Response:
    """Public statistics of the reporting channel, with small counts suppressed."""
    release = current_release(services)
    chart = None
    shown = [
        (period.period, float(total))
        for period in reversed(release.periods)
        if (total := period.table("received-by-category").total) is not None
    ]
    if any(value for _, value in shown):
        chart = bar_chart_svg(
            shown,
            title="Reports received per quarter",
            description="Bar chart of the reports received in each published quarter, oldest "
            "first; quarters with fewer than the threshold are left out. The same figures are "
            "in the tables below.",
            chart_id="received-chart",
        )
    quiet = [p for p in release.periods if _nothing_happened(p)]
    return render(
        request,
        "transparency.html",
        {
            "release": release,
            "chart": chart,
            "busy": [p for p in release.periods if p not in quiet],
            "quiet": [p.period for p in quiet],
        },
    )


def _nothing_happened(period: PeriodRelease) -> bool:
    return all(table.total == 0 for table in period.tables) and all(
        item.measured == 0 for item in period.timeliness
    )


@router.get("/transparency.csv")
def transparency_csv(services: ServicesDep) -> Response:
    """The published statistics as CSV (suppressed figures are empty)."""
    return Response(
        to_csv(current_release(services)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="tipaudit-report-statistics.csv"'},
    )


@router.get("/exports/htcds")
def htcds_export(
    user: Exporter,
    services: ServicesDep,
    fmt: Annotated[Literal["csv", "json"], Query(alias="format")] = "csv",
) -> Response:
    """Case data aligned with HTCDS v2.0, for decision-makers (the export is audited)."""
    body = services.reports.export_htcds(user, fmt)
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
    return Response(
        body,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="tipaudit-htcds-export.{fmt}"',
            "Cache-Control": "no-store",
        },
    )
