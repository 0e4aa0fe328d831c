"""The HTCDS export of real reports: coded answers from the encrypted report, nothing else.

Reports go in through the public form (or the service with the form's validation), come out
of ``/exports/htcds`` and ``tipaudit reports export-htcds`` with their indicators, country
and accused organisations mapped to HTCDS values, and never with report text, places, contact
details, identifiers, messages, attachments or the receipt. Reports that cannot be opened keep
their clear fields; every decryption and the export are audited.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from typer.testing import CliRunner

from tests.reports.conftest import (
    PASSWORD,
    SECRET_CONTACT,
    SECRET_MESSAGE,
    SECRET_PHONE,
    SECRET_TEXT,
    Staff,
    form,
    submission,
)
from tests.web.conftest import csrf_from, login
from tipaudit.audit import AuditAction
from tipaudit.cli import app
from tipaudit.core.clock import utcnow
from tipaudit.errors import PermissionDeniedError
from tipaudit.reports import crypto
from tipaudit.reports.htcds import EXTENSION_PREFIX
from tipaudit.reports.workflow import State
from tipaudit.services.container import Services, build_services
from tipaudit.services.reports import HTCDS_EXPORT_ID
from tipaudit.settings import Settings
from tipaudit.storage.reports import Report, ReportKey
from tipaudit.web.app import create_app

X = EXTENSION_PREFIX
RECEIPT_RE = re.compile(r'receipt-group">([^<]+)<')
PERSON = "Huaman-Delgado Ruiz"
IDENTIFIERS = "CR 55123"
PLACE = "Camp Zeta-Nine, Al Wakrah"
WHEN = "from March 2026 until now"
ATTACHMENT = b"payslip of block 7 with deductions"
#: The answers of the public form beyond the conftest defaults: a person among the accused.
EXTRA = {"subject_2_kind": "person", "subject_2_name": PERSON}


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    app = create_app(services.settings, services=services)
    with TestClient(app, base_url="http://127.0.0.1:8000", follow_redirects=False) as test_client:
        yield test_client


def _submit_on_the_public_form(client: TestClient) -> str:
    """Send the public form as a reporter would; return the receipt shown once."""
    data = form(**EXTRA)
    data.update(csrf_token=csrf_from(client, "/report/"), lang="en")
    response = client.post(
        "/report/", data=data, files={"attachments": ("payslip.txt", ATTACHMENT, "text/plain")}
    )
    assert 200 == response.status_code, response.text
    return " ".join(RECEIPT_RE.findall(response.text))


def _forbidden_strings(receipt: str) -> list[str]:
    """What the export must never carry: text, place, time, people, contact, files, receipt."""
    words = receipt.split()
    return [
        SECRET_TEXT,
        "passports at Camp",
        PLACE,
        "Zeta-Nine",
        WHEN,
        PERSON,
        "Huaman",
        IDENTIFIERS,
        SECRET_CONTACT,
        SECRET_PHONE,
        SECRET_MESSAGE,
        "payslip",
        "block 7",
        "".join(words[:2]),  # the 8-digit locator
        " ".join(words[2:]),  # the secret words
        " ".join(words[2:5]),
    ]


def test_intake_answers_reach_the_export_and_nothing_else_does(
    client: TestClient, services: Services, staff: Staff
) -> None:
    """Indicators, country and accused parties become HTCDS values in CSV and JSON."""
    receipt = _submit_on_the_public_form(client)
    assert 11 + 2 == len(receipt.split())
    (row_in_queue,) = services.reports.queue(staff.intake)
    reference = row_in_queue.reference
    token = services.reports.open_with_receipt(receipt)
    services.reports.reporter_message(
        services.reports.reporter_view(token).token, SECRET_MESSAGE, reply_to=None
    )
    services.reports.send_message(staff.intake, reference, "note", "Huaman is the foreman")

    login(client, "dora", PASSWORD)
    as_csv = client.get("/exports/htcds")
    as_json = client.get("/exports/htcds?format=json")
    assert 200 == as_csv.status_code == as_json.status_code

    (row,) = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert reference == row[X + "reference"]
    # ILO-07 (documents withheld) and TIP-FEES (recruitment fees) through the taxonomy.
    assert "WithholdsDocuments;DebtBondage" == row["vic_MethodsOfControl"]
    assert "ForcedLabour" == row["vic_TypeOfExploitation"]
    assert "ILO-07;TIP-FEES" == row[X + "indicators"]
    assert "" == row[X + "indicators_unmapped"]
    assert ("Exploitation", "QA") == (row["hte_Type"], row["hte_Country"])
    # contractor -> Exploiter, recruiter -> RecruiterOrIntermediary, a person -> Other.
    assert "Exploiter;RecruiterOrIntermediary;Other" == row["per_RoleInProcess"]
    assert (
        "Gulf Star Building Contractors;Agencia Puente Dorado" == row[X + "accused_organisations"]
    )
    # The form asks for neither the industry nor an age: left empty, never guessed.
    assert "" == row["vic_ForcedLabourIndustry"] == row["vic_AgeWhenTrafficked"]
    assert "opened" == row[X + "content"]

    (case,) = json.loads(as_json.text)["cases"]
    assert ["WithholdsDocuments", "DebtBondage"] == case["vic_MethodsOfControl"]
    assert ["ILO-07", "TIP-FEES"] == case[X + "indicators"]
    assert "QA" == case["hte_Country"]
    assert ["Exploiter", "RecruiterOrIntermediary", "Other"] == case["per_RoleInProcess"]
    assert ["Gulf Star Building Contractors", "Agencia Puente Dorado"] == case[
        X + "accused_organisations"
    ]
    assert case["vic_AgeWhenTrafficked"] is None
    assert "opened" == case[X + "content"]

    for body in (as_csv.text, as_json.text):
        for secret in _forbidden_strings(receipt):
            assert secret not in body, secret
    # A name inside the text, in both the plain and the JSON-escaped spelling.
    for spelling in ("Quispe", "Señor", "Se\\u00f1or"):
        assert spelling not in as_csv.text + as_json.text, spelling


def test_unopenable_reports_keep_their_clear_fields(services: Services, staff: Staff) -> None:
    """A report sealed to a key no longer on the server, or damaged, exports its clear fields."""
    reports = services.reports
    old_key = reports.submit(submission()).reference
    damaged = reports.submit(submission(country="PE", indicators=["ILO-09"])).reference
    reports.transition(staff.intake, old_key, State.ACKNOWLEDGED)
    reports.transition(
        staff.intake, old_key, State.TRIAGED, category="tip", priority="high", reason="named firm"
    )
    with services.db.write() as session:
        session.execute(
            update(Report)
            .where(Report.reference == damaged)
            .values(private_key_for_staff=b"\x00" * 80)
        )
        # The organisation key is rotated and the old key removed from the key file.
        session.execute(update(ReportKey).values(retired_at=utcnow()))
    private, _public = crypto.generate_organisation_key()
    key_file = services.settings.resolved_reports_private_key_file
    key_file.write_text(private.hex() + "\n", encoding="ascii")
    fresh = reports.submit(submission(country="MY", indicators=["ILO-03"])).reference

    body = reports.export_htcds(staff.decider, "csv")

    rows = {row[X + "reference"]: row for row in csv.DictReader(io.StringIO(body))}
    assert [old_key, damaged, fresh] == list(rows)
    kept = rows[old_key]
    assert ("unopenable", "triaged", "tip", "Active") == (
        kept[X + "content"],
        kept[X + "state"],
        kept[X + "category"],
        kept["cas_Status"],
    )
    assert kept[X + "received_at"].startswith(str(utcnow().year))
    for row in (kept, rows[damaged]):
        assert "unopenable" == row[X + "content"]
        assert "" == row["vic_MethodsOfControl"] == row["hte_Country"] == row[X + "indicators"]
        assert "" == row[X + "accused_organisations"] == row["per_RoleInProcess"]
    opened = rows[fresh]
    assert ("opened", "MY", "ILO-03", "Other") == (
        opened[X + "content"],
        opened["hte_Country"],
        opened[X + "indicators"],
        opened["vic_MethodsOfControl"],
    )

    (event,) = services.audit.events_for("report_export", HTCDS_EXPORT_ID)
    assert {"format": "csv", "cases": 3, "decrypted": 1, "unopenable": 2, "recused": 0} == (
        event.details
    )
    assert AuditAction.REPORT_VIEWED not in [
        e.action for e in services.audit.events_for("report", damaged)
    ]


def test_every_decryption_and_the_export_are_audited(services: Services, staff: Staff) -> None:
    """Each opened report gets a report.viewed event; the export one event with its counts."""
    reports = services.reports
    first = reports.submit(submission()).reference
    second = reports.submit(submission()).reference

    reports.export_htcds(staff.decider, "json")

    for reference in (first, second):
        viewed = [
            e
            for e in services.audit.events_for("report", reference)
            if e.action == AuditAction.REPORT_VIEWED
        ]
        assert [("dora", {"decrypted": ["content"], "purpose": "htcds_export"})] == [
            (e.actor, e.details) for e in viewed
        ]
    (event,) = services.audit.events_for("report_export", HTCDS_EXPORT_ID)
    assert ("dora", AuditAction.REPORT_EXPORTED) == (event.actor, event.action)
    assert {"format": "json", "cases": 2, "decrypted": 2, "unopenable": 0, "recused": 0} == (
        event.details
    )


def test_a_recused_exporter_does_not_open_that_report(services: Services, staff: Staff) -> None:
    """A decision-maker who declared a conflict exports that report's clear fields only."""
    reports = services.reports
    reference = reports.submit(submission()).reference
    reports.declare_conflict(staff.decider, reference, reason="the contractor is my cousin's firm")

    (mine,) = json.loads(reports.export_htcds(staff.decider, "json"))["cases"]
    (theirs,) = json.loads(reports.export_htcds(staff.decider2, "json"))["cases"]

    assert ("recused", [], "") == (mine[X + "content"], mine[X + "indicators"], mine["hte_Country"])
    assert ("opened", "QA") == (theirs[X + "content"], theirs["hte_Country"])
    viewers = [
        e.actor
        for e in services.audit.events_for("report", reference)
        if e.action == AuditAction.REPORT_VIEWED
    ]
    assert ["dan"] == viewers
    details = [e.details for e in services.audit.events_for("report_export", HTCDS_EXPORT_ID)]
    assert [1, 0] == [d["recused"] for d in details]


def test_only_decision_makers_export(client: TestClient, services: Services, staff: Staff) -> None:
    """Investigators and intake officers are refused by the route and by the service."""
    services.reports.submit(submission())
    for user in (staff.investigator, staff.intake, staff.auditor):
        with pytest.raises(PermissionDeniedError):
            services.reports.export_htcds(user, "csv")
    login(client, "ivan", PASSWORD)
    assert 403 == client.get("/exports/htcds?format=json").status_code
    assert [] == services.audit.events_for("report_export", HTCDS_EXPORT_ID)
    viewed = [
        e
        for row in services.reports.queue(staff.intake)
        for e in services.audit.events_for("report", row.reference)
        if e.action == AuditAction.REPORT_VIEWED
    ]
    assert [] == viewed


def test_command_line_export_is_filled_and_audited(tmp_path: Path, database_url: str) -> None:
    """``tipaudit reports export-htcds`` uses the same service method (actor system:cli)."""
    secret = "test-secret-key-that-is-long-enough-0123456789"
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url, secret_key=secret)
    services = build_services(settings)
    try:
        reference = services.reports.submit(submission()).reference
    finally:
        services.close()
    out = tmp_path / "export.json"
    env = {
        "TIPAUDIT_DATA_DIR": str(tmp_path / "data"),
        "TIPAUDIT_DATABASE_URL": database_url,
        "TIPAUDIT_SECRET_KEY": secret,
    }
    result = CliRunner().invoke(app, ["reports", "export-htcds", "--out", str(out)], env=env)
    assert 0 == result.exit_code, result.output
    (case,) = json.loads(out.read_text("utf-8"))["cases"]
    assert (reference, ["ILO-07", "TIP-FEES"], "QA") == (
        case[X + "reference"],
        case[X + "indicators"],
        case["hte_Country"],
    )
    assert SECRET_TEXT not in out.read_text("utf-8")
    services = build_services(settings)
    try:
        (event,) = services.audit.events_for("report_export", HTCDS_EXPORT_ID)
    finally:
        services.close()
    assert ("system:cli", 1) == (event.actor, event.details["decrypted"])
