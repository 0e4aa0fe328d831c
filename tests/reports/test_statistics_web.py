"""The public /transparency page, its CSV, the ledger file and the staff HTCDS export."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.reports.conftest import PASSWORD, Staff, submission
from tests.web.conftest import login
from tipaudit.audit.events import AuditAction
from tipaudit.core.roles import Role
from tipaudit.services.container import Services
from tipaudit.web.app import create_app
from tipaudit.web.routers.transparency import current_release, ledger_path

Q1 = datetime(2025, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class FakeCase:
    state: str
    category: str | None
    finding: str | None
    decision: str | None
    channel: str
    received_at: datetime
    acknowledged_at: datetime | None
    triaged_at: datetime | None
    decided_at: datetime | None
    feedback_at: datetime | None
    closed_at: datetime | None = None


def _cases() -> list[FakeCase]:
    cases = []
    for i in range(40):
        received = Q1 + timedelta(days=i, hours=3)
        cases.append(
            FakeCase(
                state="closed",
                category="tip" if i < 36 else "crisis",
                finding="substantiated",
                decision="remediation_plan" if i % 2 else "contract_termination",
                channel="public",
                received_at=received,
                acknowledged_at=received + timedelta(days=1),
                triaged_at=received + timedelta(days=2),
                decided_at=received + timedelta(days=10) if i < 30 else None,
                feedback_at=None,
            )
        )
    return cases


def _totals(rows: list[dict[str, str]]) -> dict[str, str]:
    return {
        r["table"]: r["value"] for r in rows if r["period"] == "2025-Q1" and r["row"] == "total"
    }


@pytest.fixture
def client(services: Services, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setattr(services.reports, "case_summaries", _cases)
    app = create_app(services.settings, services=services)
    return TestClient(app, base_url="http://127.0.0.1:8000", follow_redirects=False)


def test_transparency_page_is_public_and_suppresses_small_counts(client: TestClient) -> None:
    """No log-in needed; the 4 crisis reports are hidden together with the 36 tips."""
    response = client.get("/transparency")

    assert 200 == response.status_code
    assert "2025-Q1" in response.text
    assert "<svg" not in response.text or "received-chart" in response.text
    assert response.text.count("hidden") >= 2
    assert ">36<" not in response.text
    assert ">4<" not in response.text
    assert "Download all figures as CSV" in response.text
    assert "<script" not in response.text


def test_csv_download_matches_the_page(client: TestClient) -> None:
    """The CSV is an attachment and never carries a count between 1 and 10."""
    response = client.get("/transparency.csv")

    assert 200 == response.status_code
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows
    for row in rows:
        if row["status"] == "published" and row["row"] != "median_days":
            assert int(row["value"]) == 0 or int(row["value"]) >= 11
    totals = {
        r["table"]: r["value"] for r in rows if r["period"] == "2025-Q1" and r["row"] == "total"
    }
    assert "40" == totals["received-by-category"]
    assert "30" == totals["actions"]


def test_first_view_freezes_the_period_in_the_ledger(
    client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a retention purge empties the data, the published quarter still shows 40."""
    client.get("/transparency")
    assert ledger_path(services).exists()
    monkeypatch.setattr(services.reports, "case_summaries", list)
    rows = list(csv.DictReader(io.StringIO(client.get("/transparency.csv").text)))
    totals = {
        r["table"]: r["value"] for r in rows if r["period"] == "2025-Q1" and r["row"] == "total"
    }
    assert "40" == totals["received-by-category"]


def test_real_reports_flow_into_statistics(services: Services, staff: Staff) -> None:
    """Reports submitted through the service appear, suppressed, in a later release."""
    for _ in range(3):
        services.reports.submit(submission())
    release = current_release(services, now=datetime.now(UTC) + timedelta(days=200))
    received = [p.table("received-by-category") for p in release.periods]
    assert any(table.total is None for table in received)  # 3 reports: fewer than 11
    assert all(table.total in {None, 0} for table in received)


def test_htcds_export_needs_a_decision_maker_and_is_audited(
    services: Services, staff: Staff
) -> None:
    """Intake officers are refused; a decision-maker gets the CSV; the export is logged."""
    services.reports.submit(submission())
    app = create_app(services.settings, services=services)
    with TestClient(app, base_url="http://127.0.0.1:8000", follow_redirects=False) as client:
        assert 303 == client.get("/exports/htcds").status_code  # not logged in
        login(client, "ines", PASSWORD)
        assert 403 == client.get("/exports/htcds").status_code
    with TestClient(app, base_url="http://127.0.0.1:8000", follow_redirects=False) as client:
        login(client, "dora", PASSWORD)
        response = client.get("/exports/htcds")
        assert 200 == response.status_code
        assert "no-store" == response.headers["cache-control"]
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert 1 == len(rows)
        assert "Active" == rows[0]["cas_Status"]
        payload = json.loads(client.get("/exports/htcds?format=json").text)
        assert 1 == len(payload["cases"])
        assert 422 == client.get("/exports/htcds?format=xml").status_code
    events = services.audit.events_for("report_export", "htcds-v2.0")
    assert [AuditAction.REPORT_EXPORTED] * 2 == [e.action for e in events]
    assert {"dora"} == {e.actor for e in events}


def test_export_refused_to_roles_without_reports_decide(services: Services) -> None:
    """An auditor may read the audit log but not export case data."""
    services.accounts.create_user("aud2", PASSWORD, roles={Role.AUDITOR})
    app = create_app(services.settings, services=services)
    with TestClient(app, base_url="http://127.0.0.1:8000", follow_redirects=False) as client:
        login(client, "aud2", PASSWORD)
        assert 403 == client.get("/exports/htcds").status_code
