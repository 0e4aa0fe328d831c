"""A dump of the database (with its WAL), the upload folder and the logs reveals no report
text, contact detail or receipt — searched as plain text and as base64, hex and UTF-16."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from tests.reports.conftest import (
    PASSWORD,
    SECRET_CONTACT,
    SECRET_FILE,
    SECRET_MESSAGE,
    SECRET_PHONE,
    SECRET_TEXT,
    submission,
)
from tipaudit.core.roles import Role
from tipaudit.reports.workflow import State
from tipaudit.services.container import Services
from tipaudit.services.reports import AttachmentFile


def encodings(needle: str) -> Iterator[tuple[str, bytes]]:
    """The forms a secret could take on disk."""
    raw = needle.encode("utf-8")
    yield "utf-8", raw
    yield "utf-16-le", needle.encode("utf-16-le")
    yield "utf-16-be", needle.encode("utf-16-be")
    yield "hex", raw.hex().encode()
    yield "HEX", raw.hex().upper().encode()
    for shift in range(3):  # base64 of the needle at each alignment inside a longer blob
        encoded = base64.b64encode(b"\x00" * shift + raw)
        core = encoded[4 if shift else 0 : -4]
        yield f"base64+{shift}", core
        yield f"base64url+{shift}", core.replace(b"+", b"-").replace(b"/", b"_")


def dump_files(services: Services, log_file: Path) -> bytes:
    settings = services.settings
    blobs = [log_file.read_bytes()]
    if services.db.is_sqlite:
        database = Path(settings.resolved_database_url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            path = Path(str(database) + suffix)
            if path.exists():
                blobs.append(path.read_bytes())
        assert Path(str(database) + "-wal").exists()
    else:
        with services.db.engine.connect() as conn:
            for table in inspect(conn).get_table_names():
                rows = conn.execute(text(f'SELECT CAST(t.* AS text) FROM "{table}" AS t'))
                blobs.extend(str(row[0]).encode() for row in rows)
    for path in settings.resolved_reports_upload_dir.rglob("*"):
        if path.is_file():
            blobs.append(path.read_bytes())
    checkpoints = settings.resolved_audit_checkpoint_file
    if checkpoints.exists():
        blobs.append(checkpoints.read_bytes())
    return b"\n".join(blobs)


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "server.log"
    handler = logging.FileHandler(path)
    handler.setLevel(logging.DEBUG)
    logger = logging.getLogger("tipaudit")
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield path
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        handler.close()


def test_dump_reveals_no_report_contact_or_receipt(services: Services, log_file: Path) -> None:
    reports = services.reports
    for name, roles in (("ivy", {Role.INTAKE_OFFICER, Role.INVESTIGATOR}), ("dee", set())):
        services.accounts.create_user(name, PASSWORD, roles=roles or {Role.DECISION_MAKER})
    ivy = services.accounts.get_user("ivy")
    dee = services.accounts.get_user("dee")
    result = reports.submit(
        submission(), [AttachmentFile("fee-invoice.txt", SECRET_FILE.encode("utf-8"))]
    )
    reference = result.reference
    reports.transition(ivy, reference, State.ACKNOWLEDGED)
    question = reports.send_message(ivy, reference, "question", "Which office holds them?")
    token = reports.open_with_receipt(result.receipt.text)
    reports.reporter_message(
        token,
        SECRET_MESSAGE,
        reply_to=question,
        files=[AttachmentFile("more.txt", b"second file " + SECRET_FILE.encode())],
    )
    case = reports.view(ivy, reference)
    assert case.content.what == SECRET_TEXT
    for attachment in case.attachments:
        reports.attachment(ivy, reference, attachment.id)
    approval = reports.request_identity(ivy, reference, reason="need a safe interview")
    services.approvals.decide(approval, dee, approve=True, reason="interview is justified")
    assert reports.identity(ivy, reference).email == SECRET_CONTACT
    reports.prepare_referral(dee, reference, authority="Joint team", reason="joint investigation")

    dump = dump_files(services, log_file)
    assert len(dump) > 10_000
    needles = {
        "report text": SECRET_TEXT,
        "distinctive name": "Quispe",
        "place": "Camp Zeta-Nine",
        "contact": SECRET_CONTACT,
        "phone": SECRET_PHONE,
        "message": SECRET_MESSAGE,
        "attachment": SECRET_FILE,
        "attachment name": "fee-invoice",
        "receipt": result.receipt.text,
        "receipt words": result.receipt.secret,
        "receipt word run": " ".join(result.receipt.secret.split()[3:6]),
    }
    found = [
        f"{label} as {form}"
        for label, needle in needles.items()
        for form, encoded in encodings(needle)
        if encoded in dump
    ]
    assert found == []
    # The search itself works: the reference (kept in clear) is found.
    assert any(encoded in dump for _form, encoded in encodings(reference))
