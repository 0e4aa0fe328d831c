"""``tipaudit reports digest`` and ``tipaudit reports purge``."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update
from typer.testing import CliRunner

from tests.reports.conftest import submission
from tipaudit.audit import AuditAction
from tipaudit.cli import app
from tipaudit.core.clock import utcnow
from tipaudit.services.container import build_services
from tipaudit.settings import Settings
from tipaudit.storage.reports import Report


def _env(tmp_path: Path, database_url: str, **extra: str) -> dict[str, str]:
    return {
        "TIPAUDIT_DATA_DIR": str(tmp_path / "data"),
        "TIPAUDIT_DATABASE_URL": database_url,
        "TIPAUDIT_SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        **extra,
    }


def test_digest_and_purge(tmp_path: Path, database_url: str) -> None:
    env = _env(tmp_path, database_url, TIPAUDIT_REPORTS_RETENTION_DAYS='{"received": 30}')
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key=env["TIPAUDIT_SECRET_KEY"],
        reports_retention_days={"received": 30},
    )
    services = build_services(settings)
    try:
        fresh = services.reports.submit(submission()).reference
        old = services.reports.submit(submission()).reference
        long_ago = utcnow() - timedelta(days=40)
        with services.db.write() as session:
            session.execute(
                update(Report)
                .where(Report.reference == old)
                .values(
                    received_at=long_ago,
                    state_changed_at=long_ago,
                    acknowledge_due=long_ago + timedelta(days=7),
                )
            )
    finally:
        services.close()
    runner = CliRunner()
    digest = runner.invoke(app, ["reports", "digest"], env=env)
    assert digest.exit_code == 1, digest.output
    assert f"{old}  acknowledgement was due" in digest.output
    assert fresh not in digest.output.split("OVERDUE")[1].split("due within")[0]
    as_json = runner.invoke(app, ["reports", "digest", "--json"], env=env)
    data = json.loads(as_json.output)
    assert data["by_state"]["received"] == 2
    assert [o["reference"] for o in data["overdue"]] == [old]

    dry = runner.invoke(app, ["reports", "purge", "--dry-run"], env=env)
    assert dry.exit_code == 0
    assert f"would delete 1 report(s): \n  {old}" in dry.output
    done = runner.invoke(app, ["reports", "purge"], env=env)
    assert done.exit_code == 0
    assert "deleted 1 report(s)" in done.output
    after = runner.invoke(app, ["reports", "digest", "--json"], env=env)
    assert json.loads(after.output)["by_state"]["received"] == 1
    assert json.loads(after.output)["overdue"] == []

    services = build_services(settings)
    try:
        events = services.audit.events_for("report", old)
        assert events[-1].action == AuditAction.REPORT_PURGED.value
        assert "received" in (events[-1].reason or "")
    finally:
        services.close()


def test_unknown_retention_state_is_a_clear_error(tmp_path: Path, database_url: str) -> None:
    env = _env(tmp_path, database_url, TIPAUDIT_REPORTS_RETENTION_DAYS='{"archived": 3}')
    result = CliRunner().invoke(app, ["reports", "purge"], env=env)
    assert result.exit_code == 1
    assert "unknown state 'archived'" in result.output
