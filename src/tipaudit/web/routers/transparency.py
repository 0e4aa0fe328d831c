"""The public transparency page of the reporting channel, its CSV, and the staff HTCDS export.

``/transparency`` (no log-in) shows, per closed quarter, what the channel received and what
was done, with small counts suppressed (``reports/statistics.py``, ``docs/transparency.md``);
``/transparency.csv`` is the same as CSV. Periods are frozen at first publication in a ledger
file in the data folder (``reports/transparency-ledger.json``), so published figures never
change. ``/exports/htcds`` gives decision-makers the case data in HTCDS v2.0 form (audited).
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from starlette.responses import Response

from tipaudit.audit.events import AuditAction, AuditEntry
from tipaudit.core.roles import Permission
from tipaudit.reports.htcds import HtcdsCase, to_htcds_csv, to_htcds_json
from tipaudit.reports.statistics import PeriodRelease, Release, ReleaseLedger, publish, to_csv
from tipaudit.services.accounts import StaffUser
from tipaudit.services.container import Services
from tipaudit.storage.reports import Report, ReportReferral
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


def htcds_cases(services: Services) -> list[HtcdsCase]:
    """Case data kept in clear (categories, outcome, dates, referrals); never report content.

    Indicator codes live in the encrypted report and are not exported here.
    """
    with services.db.read() as session:
        referrals: dict[int, ReportReferral] = {}
        for referral in session.scalars(select(ReportReferral).order_by(ReportReferral.id)):
            referrals.setdefault(referral.report_id, referral)
        cases = []
        for report in session.scalars(select(Report).order_by(Report.received_at)):
            first = referrals.get(report.id)
            cases.append(
                HtcdsCase(
                    reference=report.reference,
                    state=report.state,
                    received_at=_utc(report.received_at),
                    channel=report.channel,
                    category=report.category,
                    finding=report.finding,
                    decision=report.decision,
                    closed_at=_utc(report.closed_at) if report.closed_at else None,
                    decided_at=_utc(report.decided_at) if report.decided_at else None,
                    referred_to=first.authority if first else None,
                    referred_at=_utc(first.handed_over_at or first.prepared_at) if first else None,
                    consent=report.consent_share_report if report.consent_recorded else None,
                )
            )
    return cases


def export_htcds(services: Services, actor: str, fmt: Literal["csv", "json"]) -> str:
    """Build the HTCDS export and record who exported how many cases in the audit log."""
    cases = htcds_cases(services)
    body = to_htcds_csv(cases) if fmt == "csv" else to_htcds_json(cases)
    with services.db.write() as session:
        services.audit.record(
            session,
            AuditEntry(
                actor=actor,
                action=AuditAction.REPORT_EXPORTED,
                object_type="report_export",
                object_id="htcds-v2.0",
                details={"format": fmt, "cases": len(cases)},
            ),
        )
    return body


@router.get("/exports/htcds")
def htcds_export(
    user: Exporter,
    services: ServicesDep,
    fmt: Annotated[Literal["csv", "json"], Query(alias="format")] = "csv",
) -> Response:
    """Case data aligned with HTCDS v2.0, for decision-makers (the export is audited)."""
    body = export_htcds(services, user.username, fmt)
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
    return Response(
        body,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="tipaudit-htcds-export.{fmt}"',
            "Cache-Control": "no-store",
        },
    )


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
