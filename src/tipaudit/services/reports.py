"""Public abuse reports: intake, the reporter's follow-up with a receipt, and the review.

Every use case is one unit of work with its audit event (identifiers only, never report text).
Report contents are sealed to each report's own key (see :mod:`tipaudit.reports.crypto` and
``docs/reports-security.md``); this service opens them only for a reviewer allowed to read
them, and records every opening.
"""

from __future__ import annotations

import base64
import collections
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

from nacl.exceptions import CryptoError
from nacl.secret import SecretBox
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tipaudit.audit import AuditAction, AuditEntry
from tipaudit.core.clock import utcnow
from tipaudit.core.roles import Permission
from tipaudit.core.two_person import ApprovalPolicy, ApprovalStatus, check_reason
from tipaudit.errors import (
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ValidationError,
)
from tipaudit.reports import crypto, receipts
from tipaudit.reports.content import (
    LIMITS,
    Contact,
    ReportContent,
    ReportInputError,
    SubjectKind,
    Submission,
    clean_text,
    decode_json,
    encode_json,
)
from tipaudit.reports.htcds import (
    CONTENT_OPENED,
    CONTENT_RECUSED,
    CONTENT_UNOPENABLE,
    AccusedParty,
    HtcdsCase,
    to_htcds_csv,
    to_htcds_json,
)
from tipaudit.reports.workflow import (
    Category,
    Decision,
    Finding,
    Priority,
    State,
    Step,
    deadlines_for,
    next_steps,
    overdue,
    step_to,
)
from tipaudit.services.accounts import StaffUser
from tipaudit.services.approvals import Approvals
from tipaudit.services.audit import AuditLog
from tipaudit.settings import Settings, read_or_create_private_file
from tipaudit.storage.db import Database
from tipaudit.storage.models import Approval, User
from tipaudit.storage.reports import (
    Report,
    ReportAccessLimit,
    ReportAllegation,
    ReportAttachment,
    ReportConflict,
    ReportIdentity,
    ReportKey,
    ReportMessage,
    ReportReferral,
    ReportTransition,
)

__all__ = [
    "DECIDE_REPORT",
    "HTCDS_EXPORT_ID",
    "REVEAL_IDENTITY",
    "AttachmentFile",
    "CaseSummary",
    "CaseView",
    "Digest",
    "QueueRow",
    "ReporterView",
    "Reports",
    "SubmitResult",
]

DECIDE_REPORT = ApprovalPolicy(
    action="report.decide",
    approver_permission=Permission.REPORTS_DECIDE,
    description="decide on a public report",
)
REVEAL_IDENTITY = ApprovalPolicy(
    action="report.reveal_identity",
    approver_permission=Permission.REPORTS_DECIDE,
    description="show a reporter's identity and contact details to a reviewer",
)

#: ``object_id`` of the audit events of HTCDS exports (``object_type`` ``report_export``).
HTCDS_EXPORT_ID = "htcds-v2.0"
PUBLIC_ACTOR = "public-reporter"
REPORTER_ACTOR = "reporter"
FOLLOW_UP_MINUTES = 60
IDENTITY_GRANT_DAYS = 7
GLOBAL_LIMIT_KEY = "global"
MESSAGE_KINDS_FOR_REPORTER = ("acknowledgement", "question", "feedback", "answer", "information")
STAFF_MESSAGE_KINDS = ("question", "note")
ALLEGATION_STATUSES = ("pending", "credible", "substantiated", "unsubstantiated")


class AllegationsPort(Protocol):
    """What this service needs from the entity register's allegations service."""

    def create(
        self,
        actor: StaffUser,
        *,
        name: str,
        schema: str,
        country: str | None,
        identifiers: Sequence[str],
        aliases: Sequence[str] = (),
        source_ref: str | None,
        summary: str,
        reason: str,
    ) -> str: ...

    def set_status(
        self, actor: StaffUser, allegation_id: str, status: str, *, reason: str
    ) -> None: ...


# --- views -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttachmentFile:
    """A file as uploaded (before it is checked and cleaned)."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class SubmitResult:
    reference: str
    receipt: receipts.Receipt
    removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class MessageView:
    id: int
    kind: str
    text: str
    author: str | None
    created_at: datetime
    reply_to: int | None
    attachments: tuple[AttachmentView, ...] = ()


@dataclass(frozen=True)
class AttachmentView:
    id: int
    name: str
    content_type: str
    size: int
    sanitized: bool
    removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReporterView:
    """What a reporter sees with their receipt: the state and the messages, no staff names."""

    token: str
    state: State
    received_at: datetime
    channel: str
    messages: tuple[MessageView, ...]
    open_questions: tuple[MessageView, ...]


@dataclass(frozen=True)
class QueueRow:
    reference: str
    state: State
    category: str | None
    priority: str | None
    channel: str
    received_at: datetime
    acknowledge_due: datetime
    feedback_due: datetime
    overdue: tuple[str, ...]
    recused: bool
    reporter_activity_at: datetime | None


@dataclass(frozen=True)
class TransitionView:
    from_state: str | None
    to_state: str
    actor: str
    approved_by: str | None
    reason: str | None
    at: datetime


@dataclass(frozen=True)
class ReferralView:
    id: int
    authority: str
    included: tuple[str, ...]
    sha256: str
    prepared_by: str
    prepared_at: datetime
    handed_over_to: str | None
    handed_over_by: str | None
    handed_over_at: datetime | None
    method: str | None


@dataclass(frozen=True)
class PendingApproval:
    id: int
    action: str
    requested_by: str
    reason: str
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class CaseView:
    """A report as a reviewer sees it (decrypted)."""

    reference: str
    state: State
    category: str | None
    priority: str | None
    duplicate_of: str | None
    finding: str | None
    decision: str | None
    channel: str
    recorded_by: str | None
    consent_recorded: bool
    consent_share_report: bool
    consent_share_contact: bool
    has_identity: bool
    identity_granted: bool
    received_at: datetime
    acknowledge_due: datetime
    feedback_due: datetime
    acknowledged_at: datetime | None
    decided_at: datetime | None
    feedback_at: datetime | None
    closed_at: datetime | None
    overdue: tuple[str, ...]
    content: ReportContent
    messages: tuple[MessageView, ...]
    attachments: tuple[AttachmentView, ...]
    transitions: tuple[TransitionView, ...]
    allegations: tuple[str, ...]
    referrals: tuple[ReferralView, ...]
    conflicts: tuple[str, ...]
    pending: tuple[PendingApproval, ...]
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class CaseSummary:
    """One case for public statistics: categories, outcome and timestamps, never content."""

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
    closed_at: datetime | None


@dataclass(frozen=True)
class OverdueItem:
    reference: str
    state: str
    deadline: str
    due: datetime
    category: str | None


@dataclass(frozen=True)
class Digest:
    generated_at: datetime
    by_state: Mapping[str, int]
    overdue: tuple[OverdueItem, ...]
    open_crisis: tuple[str, ...]
    due_soon: tuple[OverdueItem, ...]


@dataclass(frozen=True)
class PurgeResult:
    purged: tuple[str, ...]
    files_removed: int
    dry_run: bool


@dataclass(frozen=True)
class _StepInput:
    reason: str
    text: str
    category: Category | None
    priority: Priority | str | None
    duplicate_of: str | None
    finding: Finding | str | None


@dataclass
class _Limiter:
    """In-memory brake on new submissions per minute across the service (no request data)."""

    per_minute: int
    times: collections.deque[float] = field(default_factory=collections.deque)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self) -> None:
        now = time.monotonic()
        with self.lock:
            while self.times and now - self.times[0] > 60:
                self.times.popleft()
            if len(self.times) >= self.per_minute:
                raise RateLimitedError("too many reports are arriving; try again in a minute")
            self.times.append(now)


# --- the service -----------------------------------------------------------------------------


class Reports:
    """Use cases of public reports."""

    def __init__(
        self, settings: Settings, db: Database, audit: AuditLog, approvals: Approvals
    ) -> None:
        self.settings = settings
        self.db = db
        self.audit = audit
        self.approvals = approvals
        self.allegations: AllegationsPort | None = None
        self._secret_key = settings.load_secret_key()
        self._follow_up_box = SecretBox(
            hmac.new(self._secret_key, b"tipaudit-report-follow-up", hashlib.sha256).digest()
        )
        self._submissions = _Limiter(settings.reports_max_submissions_per_minute)
        #: Turns an uploaded file into (safe name, content type, cleaned bytes, removed list).
        self.sanitizer: Callable[[str, bytes], tuple[str, str, bytes, tuple[str, ...]]] = (
            self._default_sanitizer
        )

    def register_approvals(self) -> None:
        self.approvals.register(DECIDE_REPORT, self._apply_decision)
        self.approvals.register(REVEAL_IDENTITY, self._grant_identity)

    # -- keys -------------------------------------------------------------------------------

    @property
    def upload_dir(self) -> Path:
        return self.settings.resolved_reports_upload_dir

    def _private_keys(self) -> dict[str, bytes]:
        """The organisation private keys in the key file, by public-key fingerprint."""
        path = self.settings.resolved_reports_private_key_file
        if not path.exists():
            raise ConfigurationError(
                f"the reports key file {path} is missing on this server",
                hint="reviewers open reports on a server that holds the key file "
                "(TIPAUDIT_REPORTS_PRIVATE_KEY_FILE)",
            )
        keys = {}
        raw = read_or_create_private_file(path, lambda: b"")
        for line in raw.decode("ascii", errors="replace").split():
            try:
                private = bytes.fromhex(line.strip())
                keys[crypto.fingerprint(crypto.public_from_private(private))] = private
            except (ValueError, TypeError):
                raise ConfigurationError(f"the reports key file {path} is damaged") from None
        return keys

    def _current_key(self, session: Session, actor: str) -> ReportKey:
        row = session.scalars(
            select(ReportKey).where(ReportKey.retired_at.is_(None)).order_by(ReportKey.id.desc())
        ).first()
        if row is not None:
            return row
        path = self.settings.resolved_reports_private_key_file

        def make() -> bytes:
            private, _public = crypto.generate_organisation_key()
            return private.hex().encode()

        raw = read_or_create_private_file(path, make)
        private = bytes.fromhex(raw.decode("ascii").split()[-1])
        public = crypto.public_from_private(private)
        row = ReportKey(
            public_key=public, fingerprint=crypto.fingerprint(public), created_at=utcnow()
        )
        session.add(row)
        session.flush()
        self.audit.record(
            session,
            AuditEntry(
                actor=actor,
                action=AuditAction.REPORT_KEY_CREATED,
                object_type="report_key",
                object_id=str(row.id),
                details={"fingerprint": row.fingerprint},
            ),
        )
        return row

    def ensure_key(self) -> str:
        """Create the organisation key if there is none; returns its fingerprint."""
        with self.db.write() as session:
            return self._current_key(session, "system").fingerprint

    def _report_private_key(self, session: Session, report: Report) -> bytes:
        key = session.get(ReportKey, report.key_id)
        if key is None:  # pragma: no cover - foreign key
            raise NotFoundError("the key of this report is missing")
        private = self._private_keys().get(key.fingerprint)
        if private is None:
            raise ConfigurationError(
                f"the key file does not hold the key {key.fingerprint[:12]}… this report needs"
            )
        return crypto.open_private_key_for_staff(private, report.private_key_for_staff)

    # -- attachments --------------------------------------------------------------------------

    @staticmethod
    def _default_sanitizer(filename: str, data: bytes) -> tuple[str, str, bytes, tuple[str, ...]]:
        from tipaudit.reports.sanitize import AttachmentLimits, sanitize_attachment

        result = sanitize_attachment(filename, data, limits=AttachmentLimits(max_bytes=len(data)))
        return result.safe_name, result.content_type, result.data, tuple(result.removed)

    def _clean_files(
        self, files: Sequence[AttachmentFile]
    ) -> list[tuple[str, str, bytes, tuple[str, ...]]]:
        files = [f for f in files if f.data]
        if len(files) > self.settings.reports_max_attachments:
            raise ReportInputError(
                f"attach at most {self.settings.reports_max_attachments} files",
                key="attachment_too_many",
            )
        limit = self.settings.reports_max_attachment_mb * 1024 * 1024
        cleaned = []
        for item in files:
            if len(item.data) > limit:
                raise ReportInputError(
                    f"a file is larger than {self.settings.reports_max_attachment_mb} MB",
                    key="attachment_too_large",
                )
            name = clean_text(item.filename or "file", 200) or "file"
            try:
                cleaned.append(self.sanitizer(name, item.data))
            except ValidationError as exc:
                raise ReportInputError(exc.message, key="attachment_type") from exc
        return cleaned

    def _store_files(
        self,
        session: Session,
        report: Report,
        message_id: int | None,
        files: Sequence[tuple[str, str, bytes, tuple[str, ...]]],
        written: list[Path],
    ) -> None:
        if not files:
            return
        folder = self.upload_dir
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        for name, content_type, data, removed in files:
            stored = secrets.token_hex(16) + ".bin"
            path = folder / stored
            tmp = folder / (stored + ".tmp")
            with tmp.open("wb") as handle:
                handle.write(crypto.seal(report.public_key, data))
                handle.flush()
                os.fsync(handle.fileno())
            tmp.replace(path)
            written.append(path)
            meta = {"name": name, "type": content_type, "removed": list(removed)}
            session.add(
                ReportAttachment(
                    report_id=report.id,
                    message_id=message_id,
                    stored_name=stored,
                    size=len(data),
                    metadata_content=crypto.seal(report.public_key, encode_json(meta)),
                    sanitized=True,
                    created_at=utcnow(),
                )
            )

    # -- intake -------------------------------------------------------------------------------

    def submit(
        self,
        submission: Submission,
        files: Sequence[AttachmentFile] = (),
        *,
        recorded_by: StaffUser | None = None,
        consent_recorded: bool = False,
    ) -> SubmitResult:
        """Store a new report and return its receipt (shown once, never stored)."""
        if submission.problems:
            raise ValidationError("the report is not complete: " + ", ".join(submission.problems))
        if recorded_by is not None:
            recorded_by.require(Permission.REPORTS_TRIAGE)
            if not consent_recorded:
                raise ValidationError(
                    "record the person's consent before recording a report on their behalf"
                )
        self._submissions.take()
        cleaned = self._clean_files(files)
        receipt = receipts.new_receipt()
        salt = receipts.new_salt()
        keys = receipts.derive_keys(receipt.secret, salt)
        now = utcnow()
        deadlines = deadlines_for(now)
        actor = recorded_by.username if recorded_by else PUBLIC_ACTOR
        written: list[Path] = []
        with _removing_on_error(written), self.db.write() as session:
            org = self._current_key(session, actor)
            locator_hash = receipts.locator_hash(self._secret_key, receipt.locator)
            while session.scalar(select(Report.id).where(Report.locator_hash == locator_hash)):
                receipt = receipts.Receipt(receipts.new_receipt().locator, receipt.secret)
                locator_hash = receipts.locator_hash(self._secret_key, receipt.locator)
            reference = self._new_reference(session)
            report_keys = crypto.new_report_keys(org.public_key, keys.wrapping_key)
            report = Report(
                reference=reference,
                locator_hash=locator_hash,
                receipt_salt=salt,
                receipt_verifier=keys.verifier,
                key_id=org.id,
                public_key=report_keys.public_key,
                private_key_for_staff=report_keys.private_key_for_staff,
                private_key_for_reporter=report_keys.private_key_for_reporter,
                content=crypto.seal(report_keys.public_key, submission.content.to_json()),
                state=State.RECEIVED.value,
                channel="on_behalf" if recorded_by else "public",
                recorded_by=recorded_by.id if recorded_by else None,
                consent_recorded=bool(consent_recorded and recorded_by),
                consent_share_report=submission.share_report,
                consent_share_contact=submission.share_contact,
                has_identity=not submission.contact.empty,
                received_at=now,
                acknowledge_due=deadlines.acknowledge_due,
                feedback_due=deadlines.feedback_due,
                state_changed_at=now,
            )
            session.add(report)
            session.flush()
            if not submission.contact.empty:
                session.add(
                    ReportIdentity(
                        report_id=report.id,
                        content=crypto.seal(report.public_key, submission.contact.to_json()),
                        created_at=now,
                    )
                )
            self._store_files(session, report, None, cleaned, written)
            session.add(
                ReportTransition(
                    report_id=report.id,
                    from_state=None,
                    to_state=State.RECEIVED.value,
                    actor=actor,
                    at=now,
                )
            )
            self.audit.record(
                session,
                AuditEntry(
                    actor=actor,
                    action=AuditAction.REPORT_RECEIVED,
                    object_type="report",
                    object_id=reference,
                    details={
                        "channel": report.channel,
                        "attachments": len(cleaned),
                        "consent_recorded": report.consent_recorded,
                    },
                ),
            )
        removed = tuple(sorted({item for *_rest, r in cleaned for item in r}))
        return SubmitResult(reference=reference, receipt=receipt, removed=removed)

    @staticmethod
    def _new_reference(session: Session) -> str:
        alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
        while True:
            reference = "R-" + "".join(secrets.choice(alphabet) for _ in range(8))
            if session.scalar(select(Report.id).where(Report.reference == reference)) is None:
                return reference

    # -- the reporter -------------------------------------------------------------------------

    def open_with_receipt(self, text: str) -> str:
        """Check a receipt; returns a short-lived follow-up token for the reporter's pages.

        Wrong receipts count against the report's locator and against a service-wide budget,
        both stored in the database (no address or device data is used or kept).
        """
        receipt = receipts.parse_receipt(text)
        locator_hash = receipts.locator_hash(self._secret_key, receipt.locator)
        now = utcnow()
        with self.db.read() as session:
            self._check_limits(session, locator_hash, now)
            report = session.scalars(
                select(Report).where(Report.locator_hash == locator_hash)
            ).first()
            salt = report.receipt_salt if report else b"\x00" * receipts.SALT_BYTES
            verifier = report.receipt_verifier if report else b""
            wrapped = report.private_key_for_reporter if report else b""
            report_id = report.id if report else None
            reference = report.reference if report else None
        keys = receipts.derive_keys(receipt.secret, salt)  # also for unknown locators: timing
        if report_id is None or not hmac.compare_digest(keys.verifier, verifier):
            self._record_failure(locator_hash, reference, now)
            raise AuthenticationError("that receipt does not match a report")
        private = crypto.open_private_key_for_reporter(keys.wrapping_key, wrapped)
        with self.db.write() as session:
            session.execute(delete(ReportAccessLimit).where(ReportAccessLimit.key == locator_hash))
        return self._make_token(report_id, private)

    def _check_limits(self, session: Session, locator_hash: str, now: datetime) -> None:
        rows = {
            row.key: row
            for row in session.scalars(
                select(ReportAccessLimit).where(
                    ReportAccessLimit.key.in_([locator_hash, GLOBAL_LIMIT_KEY])
                )
            )
        }
        glob = rows.get(GLOBAL_LIMIT_KEY)
        if (
            glob is not None
            and _aware(glob.window_started_at) > now - timedelta(minutes=1)
            and glob.failures >= self.settings.reports_receipt_global_failures_per_minute
        ):
            raise RateLimitedError("too many attempts; wait a minute and try again")
        mine = rows.get(locator_hash)
        if mine is not None and mine.locked_until and _aware(mine.locked_until) > now:
            minutes = max(1, int((_aware(mine.locked_until) - now).total_seconds() // 60) + 1)
            raise RateLimitedError(f"too many attempts; wait {minutes} minutes and try again")

    def _record_failure(self, locator_hash: str, reference: str | None, now: datetime) -> None:
        with self.db.write() as session:
            glob = session.get(ReportAccessLimit, GLOBAL_LIMIT_KEY)
            if glob is None:
                glob = ReportAccessLimit(key=GLOBAL_LIMIT_KEY, failures=0, window_started_at=now)
                session.add(glob)
            if _aware(glob.window_started_at) <= now - timedelta(minutes=1):
                glob.window_started_at = now
                glob.failures = 0
            glob.failures += 1
            if glob.failures == self.settings.reports_receipt_global_failures_per_minute:
                self.audit.record(
                    session,
                    AuditEntry(
                        actor="system",
                        action=AuditAction.REPORT_RECEIPT_FAILED,
                        object_type="report_receipts",
                        object_id=GLOBAL_LIMIT_KEY,
                        details={"locked": "global", "failures": glob.failures},
                    ),
                )
            if reference is None:  # unknown locators count only globally: no rows for guesses
                return
            mine = session.get(ReportAccessLimit, locator_hash)
            if mine is None:
                mine = ReportAccessLimit(key=locator_hash, failures=0, window_started_at=now)
                session.add(mine)
            mine.failures += 1
            if mine.failures >= self.settings.reports_receipt_max_failures:
                mine.failures = 0
                mine.locked_until = now + timedelta(
                    minutes=self.settings.reports_receipt_lock_minutes
                )
                self.audit.record(
                    session,
                    AuditEntry(
                        actor="system",
                        action=AuditAction.REPORT_RECEIPT_FAILED,
                        object_type="report",
                        object_id=reference,
                        details={
                            "locked": "locator",
                            "minutes": self.settings.reports_receipt_lock_minutes,
                        },
                    ),
                )

    def _make_token(self, report_id: int, private: bytes) -> str:
        expires = int(time.time()) + FOLLOW_UP_MINUTES * 60
        plain = json.dumps({"r": report_id, "k": private.hex(), "e": expires}).encode()
        return base64.urlsafe_b64encode(bytes(self._follow_up_box.encrypt(plain))).decode()

    def _read_token(self, token: str) -> tuple[int, bytes]:
        decoded = self._decode_token(token)
        if decoded is None or decoded[2] < time.time():
            raise AuthenticationError("this page has expired; enter your receipt again")
        return decoded[0], decoded[1]

    def _decode_token(self, token: str) -> tuple[int, bytes, float] | None:
        if not token or len(token) > 1000:
            return None
        try:
            plain = self._follow_up_box.decrypt(base64.urlsafe_b64decode(token.encode("ascii")))
            data = json.loads(plain)
            return int(data["r"]), bytes.fromhex(data["k"]), float(data["e"])
        except (ValueError, KeyError, TypeError, CryptoError, UnicodeError):
            return None

    def reporter_view(self, token: str) -> ReporterView:
        report_id, private = self._read_token(token)
        with self.db.read() as session:
            report = session.get(Report, report_id)
            if report is None:
                raise AuthenticationError("this report no longer exists")
            messages = self._messages(session, report, private, for_reporter=True)
            answered = {m.reply_to for m in messages if m.reply_to is not None}
            return ReporterView(
                token=self._make_token(report.id, private),
                state=State(report.state),
                received_at=_aware(report.received_at),
                channel=report.channel,
                messages=tuple(messages),
                open_questions=tuple(
                    m for m in messages if m.kind == "question" and m.id not in answered
                ),
            )

    def reporter_message(
        self,
        token: str,
        text: str,
        *,
        reply_to: int | None = None,
        files: Sequence[AttachmentFile] = (),
    ) -> int:
        """The reporter answers a question or adds information."""
        report_id, _private = self._read_token(token)
        body = clean_text(text, LIMITS["message"], multiline=True)
        if not body and not files:
            raise ReportInputError("write a message", key="message_required")
        cleaned = self._clean_files(files)
        written: list[Path] = []
        with _removing_on_error(written), self.db.write() as session:
            report = session.get(Report, report_id)
            if report is None:
                raise AuthenticationError("this report no longer exists")
            if report.state == State.CLOSED.value:
                raise ConflictError("this report is closed; send a new report instead")
            if reply_to is not None:
                question = session.get(ReportMessage, reply_to)
                if (
                    question is None
                    or question.report_id != report.id
                    or question.kind != "question"
                ):
                    raise ValidationError("that question does not exist")
            row = ReportMessage(
                report_id=report.id,
                kind="answer" if reply_to is not None else "information",
                reply_to=reply_to,
                content=crypto.seal(report.public_key, encode_json({"text": body})),
                created_at=utcnow(),
            )
            session.add(row)
            session.flush()
            self._store_files(session, report, row.id, cleaned, written)
            report.reporter_activity_at = row.created_at
            self.audit.record(
                session,
                AuditEntry(
                    actor=REPORTER_ACTOR,
                    action=AuditAction.REPORT_REPORTER_MESSAGE,
                    object_type="report",
                    object_id=report.reference,
                    details={
                        "message_id": row.id,
                        "kind": row.kind,
                        "attachments": len(cleaned),
                    },
                ),
            )
            return row.id

    def _messages(
        self, session: Session, report: Report, private: bytes, *, for_reporter: bool
    ) -> list[MessageView]:
        rows = session.scalars(
            select(ReportMessage)
            .where(ReportMessage.report_id == report.id)
            .order_by(ReportMessage.id)
        ).all()
        files: dict[int | None, list[AttachmentView]] = {}
        for attachment in self._attachments(session, report, private):
            files.setdefault(attachment[0], []).append(attachment[1])
        names = {} if for_reporter else _usernames(session)
        views = []
        for row in rows:
            if for_reporter and row.kind not in MESSAGE_KINDS_FOR_REPORTER:
                continue
            data = decode_json(crypto.open_sealed(private, row.content))
            views.append(
                MessageView(
                    id=row.id,
                    kind=row.kind,
                    text=str(data.get("text", "")),
                    author=None
                    if for_reporter or row.author_user_id is None
                    else names.get(row.author_user_id, "?"),
                    created_at=_aware(row.created_at),
                    reply_to=row.reply_to,
                    attachments=tuple(files.get(row.id, ())),
                )
            )
        return views

    def _attachments(
        self, session: Session, report: Report, private: bytes
    ) -> list[tuple[int | None, AttachmentView]]:
        result = []
        for row in session.scalars(
            select(ReportAttachment)
            .where(ReportAttachment.report_id == report.id)
            .order_by(ReportAttachment.id)
        ):
            meta = decode_json(crypto.open_sealed(private, row.metadata_content))
            result.append(
                (
                    row.message_id,
                    AttachmentView(
                        id=row.id,
                        name=str(meta.get("name", "file")),
                        content_type=str(meta.get("type", "application/octet-stream")),
                        size=row.size,
                        sanitized=row.sanitized,
                        removed=tuple(meta.get("removed", ())),
                    ),
                )
            )
        return result

    # -- staff: reading -----------------------------------------------------------------------

    def queue(self, actor: StaffUser, *, state: State | None = None) -> list[QueueRow]:
        """Reports waiting for review, overdue and crisis ones first. No content is opened."""
        actor.require(Permission.REPORTS_READ)
        now = utcnow()
        with self.db.read() as session:
            query = select(Report)
            if state is not None:
                query = query.where(Report.state == state.value)
            recused = set(
                session.scalars(
                    select(ReportConflict.report_id).where(ReportConflict.user_id == actor.id)
                )
            )
            rows = [self._queue_row(r, now, r.id in recused) for r in session.scalars(query)]
        return sorted(
            rows,
            key=lambda r: (
                r.state is State.CLOSED,
                not r.overdue,
                r.category != Category.CRISIS.value,
                r.received_at,
            ),
        )

    @staticmethod
    def _queue_row(report: Report, now: datetime, recused: bool) -> QueueRow:
        state = State(report.state)
        return QueueRow(
            reference=report.reference,
            state=state,
            category=report.category,
            priority=report.priority,
            channel=report.channel,
            received_at=_aware(report.received_at),
            acknowledge_due=_aware(report.acknowledge_due),
            feedback_due=_aware(report.feedback_due),
            overdue=overdue(
                state, _aware(report.acknowledge_due), _aware(report.feedback_due), now
            ),
            recused=recused,
            reporter_activity_at=_aware(report.reporter_activity_at)
            if report.reporter_activity_at
            else None,
        )

    def _load(self, session: Session, reference: str) -> Report:
        if not isinstance(reference, str) or len(reference) > 20:
            raise NotFoundError("there is no such report")
        report = session.scalars(select(Report).where(Report.reference == reference)).first()
        if report is None:
            raise NotFoundError(f"there is no report {reference}")
        return report

    @staticmethod
    def _check_not_recused(session: Session, report: Report, actor: StaffUser) -> None:
        if session.get(ReportConflict, (report.id, actor.id)) is not None:
            raise PermissionDeniedError(
                f"you declared a conflict of interest on {report.reference} and are recused"
            )

    def view(self, actor: StaffUser, reference: str) -> CaseView:
        """Open a report for a reviewer (the opening is audited)."""
        actor.require(Permission.REPORTS_READ)
        now = utcnow()
        with self.db.write() as session:
            report = self._load(session, reference)
            self._check_not_recused(session, report, actor)
            private = self._report_private_key(session, report)
            content = ReportContent.from_json(crypto.open_sealed(private, report.content))
            messages = self._messages(session, report, private, for_reporter=False)
            attachments = tuple(a for _m, a in self._attachments(session, report, private))
            names = _usernames(session)
            transitions = tuple(
                TransitionView(
                    t.from_state, t.to_state, t.actor, t.approved_by, t.reason, _aware(t.at)
                )
                for t in session.scalars(
                    select(ReportTransition)
                    .where(ReportTransition.report_id == report.id)
                    .order_by(ReportTransition.id)
                )
            )
            allegations = tuple(
                session.scalars(
                    select(ReportAllegation.allegation_id)
                    .where(ReportAllegation.report_id == report.id)
                    .order_by(ReportAllegation.id)
                )
            )
            referrals = tuple(
                _referral_view(r)
                for r in session.scalars(
                    select(ReportReferral)
                    .where(ReportReferral.report_id == report.id)
                    .order_by(ReportReferral.id)
                )
            )
            conflicts = tuple(
                names.get(uid, "?")
                for uid in session.scalars(
                    select(ReportConflict.user_id).where(ReportConflict.report_id == report.id)
                )
            )
            pending = tuple(
                PendingApproval(
                    a.id,
                    a.action,
                    names.get(a.requested_by, "?"),
                    a.request_reason,
                    json.loads(a.payload),
                )
                for a in session.scalars(
                    select(Approval).where(
                        Approval.object_type == "report",
                        Approval.object_id == report.reference,
                        Approval.status == ApprovalStatus.PENDING.value,
                    )
                )
            )
            granted = self._identity_grant(session, report, actor, now) is not None
            self.audit.record(
                session,
                AuditEntry(
                    actor=actor.username,
                    action=AuditAction.REPORT_VIEWED,
                    object_type="report",
                    object_id=report.reference,
                    details={"decrypted": ["content", "messages", "attachment_names"]},
                ),
            )
            state = State(report.state)
            category = Category(report.category) if report.category else None
            return CaseView(
                reference=report.reference,
                state=state,
                category=report.category,
                priority=report.priority,
                duplicate_of=report.duplicate_of,
                finding=report.finding,
                decision=report.decision,
                channel=report.channel,
                recorded_by=names.get(report.recorded_by) if report.recorded_by else None,
                consent_recorded=report.consent_recorded,
                consent_share_report=report.consent_share_report,
                consent_share_contact=report.consent_share_contact,
                has_identity=report.has_identity,
                identity_granted=granted,
                received_at=_aware(report.received_at),
                acknowledge_due=_aware(report.acknowledge_due),
                feedback_due=_aware(report.feedback_due),
                acknowledged_at=_maybe(report.acknowledged_at),
                decided_at=_maybe(report.decided_at),
                feedback_at=_maybe(report.feedback_at),
                closed_at=_maybe(report.closed_at),
                overdue=overdue(
                    state, _aware(report.acknowledge_due), _aware(report.feedback_due), now
                ),
                content=content,
                messages=tuple(messages),
                attachments=attachments,
                transitions=transitions,
                allegations=allegations,
                referrals=referrals,
                conflicts=conflicts,
                pending=pending,
                steps=next_steps(state, category),
            )

    def attachment(
        self, actor: StaffUser, reference: str, attachment_id: int
    ) -> tuple[str, str, bytes]:
        """Decrypt one attachment for a reviewer: (name, content type, bytes); audited."""
        actor.require(Permission.REPORTS_READ)
        with self.db.write() as session:
            report = self._load(session, reference)
            self._check_not_recused(session, report, actor)
            row = session.get(ReportAttachment, attachment_id)
            if row is None or row.report_id != report.id:
                raise NotFoundError("there is no such attachment")
            private = self._report_private_key(session, report)
            meta = decode_json(crypto.open_sealed(private, row.metadata_content))
            path = self.upload_dir / row.stored_name
            try:
                data = crypto.open_sealed(private, path.read_bytes())
            except FileNotFoundError:
                raise NotFoundError("the attachment's file is missing") from None
            self.audit.record(
                session,
                AuditEntry(
                    actor=actor.username,
                    action=AuditAction.REPORT_ATTACHMENT_OPENED,
                    object_type="report",
                    object_id=report.reference,
                    details={"attachment_id": row.id},
                ),
            )
            return str(meta.get("name", "file")), str(meta.get("type", "")), data

    # -- staff: workflow ----------------------------------------------------------------------

    def transition(
        self,
        actor: StaffUser,
        reference: str,
        target: State | str,
        *,
        reason: str = "",
        category: Category | str | None = None,
        priority: Priority | str | None = None,
        duplicate_of: str | None = None,
        finding: Finding | str | None = None,
        message: str = "",
    ) -> None:
        """Move a report one step on (decisions go through :meth:`propose_decision`)."""
        target = _enum(State, target, "state")
        now = utcnow()
        with self.db.write() as session:
            report = self._load(session, reference)
            current = State(report.state)
            chosen_category = (
                _enum(Category, category, "category")
                if category
                else (Category(report.category) if report.category else None)
            )
            step = step_to(current, target, chosen_category)
            actor.require(step.permission)
            self._check_not_recused(session, report, actor)
            if step.needs_second_person:
                raise ValidationError("a decision is proposed and needs a second approver")
            details: dict[str, Any] = {"from": current.value, "to": target.value}
            step_input = _StepInput(
                reason=clean_text(reason, 4000, multiline=True),
                text=clean_text(message, LIMITS["message"], multiline=True),
                category=chosen_category,
                priority=priority,
                duplicate_of=duplicate_of,
                finding=finding,
            )
            reason = self._enter_state(session, report, actor, target, now, step_input, details)
            report.state = target.value
            report.state_changed_at = now
            session.add(
                ReportTransition(
                    report_id=report.id,
                    from_state=current.value,
                    to_state=target.value,
                    actor=actor.username,
                    reason=reason or None,
                    at=now,
                )
            )
            self.audit.record(
                session,
                AuditEntry(
                    actor=actor.username,
                    action=AuditAction.REPORT_TRANSITIONED,
                    object_type="report",
                    object_id=report.reference,
                    reason=reason or None,
                    details=details,
                ),
            )

    def _enter_state(
        self,
        session: Session,
        report: Report,
        actor: StaffUser,
        target: State,
        now: datetime,
        given: _StepInput,
        details: dict[str, Any],
    ) -> str:
        """Apply what entering ``target`` requires; returns the reason to record."""
        reason = given.reason
        if target is State.ACKNOWLEDGED:
            report.acknowledged_at = now
            report.feedback_due = deadlines_for(_aware(report.received_at), now).feedback_due
            self._add_message(session, report, actor, "acknowledgement", given.text)
        elif target is State.TRIAGED:
            if given.category is None:
                raise ValidationError("choose a triage category")
            report.category = given.category.value
            report.priority = _enum(Priority, given.priority or "normal", "priority").value
            reason = check_reason(given.reason)
            if given.category is Category.DUPLICATE:
                original = self._load(session, (given.duplicate_of or "").strip().upper())
                if original.id == report.id:
                    raise ValidationError("a report cannot duplicate itself")
                report.duplicate_of = original.reference
            report.triaged_at = now
            details.update(category=report.category, priority=report.priority)
        elif target is State.INVESTIGATION:
            pass
        elif target is State.FINDING:
            if not given.finding:
                raise ValidationError("choose a finding")
            report.finding = _enum(Finding, given.finding, "finding").value
            reason = check_reason(given.reason)
            details["finding"] = report.finding
        elif target is State.FEEDBACK:
            if len(given.text) < 10:
                raise ValidationError(
                    "write the feedback the reporter will read (at least 10 characters)"
                )
            self._add_message(session, report, actor, "feedback", given.text)
            report.feedback_at = now
        elif target is State.CLOSED:
            reason = check_reason(given.reason)
            report.closed_at = now
        return reason

    def propose_decision(
        self, actor: StaffUser, reference: str, decision: Decision | str, *, reason: str
    ) -> int:
        """Propose a decision; it takes effect when a second decision-maker approves it."""
        chosen = _enum(Decision, decision, "decision")
        actor.require(Permission.REPORTS_DECIDE)
        with self.db.write() as session:
            report = self._load(session, reference)
            self._check_not_recused(session, report, actor)
            step_to(State(report.state), State.DECISION)
            return self.approvals.request(
                session,
                action=DECIDE_REPORT.action,
                object_type="report",
                object_id=report.reference,
                payload={"reference": report.reference, "decision": chosen.value},
                requester=actor,
                reason=reason,
            )

    def _apply_decision(
        self,
        session: Session,
        payload: Mapping[str, Any],
        requester: StaffUser,
        approver: StaffUser,
    ) -> None:
        report = self._load(session, str(payload["reference"]))
        self._check_not_recused(session, report, approver)
        current = State(report.state)
        step_to(current, State.DECISION)
        decision = _enum(Decision, payload["decision"], "decision")
        now = utcnow()
        request = session.scalars(
            select(Approval)
            .where(
                Approval.action == DECIDE_REPORT.action,
                Approval.object_id == report.reference,
                Approval.status == ApprovalStatus.APPROVED.value,
            )
            .order_by(Approval.id.desc())
        ).first()
        reason = request.request_reason if request else None
        report.decision = decision.value
        report.decided_at = now
        report.state = State.DECISION.value
        report.state_changed_at = now
        session.add(
            ReportTransition(
                report_id=report.id,
                from_state=current.value,
                to_state=State.DECISION.value,
                actor=requester.username,
                approved_by=approver.username,
                reason=reason,
                at=now,
            )
        )
        self.audit.record(
            session,
            AuditEntry(
                actor=approver.username,
                action=AuditAction.REPORT_TRANSITIONED,
                object_type="report",
                object_id=report.reference,
                reason=reason,
                details={
                    "from": current.value,
                    "to": State.DECISION.value,
                    "decision": decision.value,
                    "proposed_by": requester.username,
                    "approved_by": approver.username,
                },
            ),
        )

    def _add_message(
        self, session: Session, report: Report, actor: StaffUser, kind: str, text: str
    ) -> ReportMessage:
        row = ReportMessage(
            report_id=report.id,
            kind=kind,
            author_user_id=actor.id,
            content=crypto.seal(report.public_key, encode_json({"text": text})),
            created_at=utcnow(),
        )
        session.add(row)
        session.flush()
        self.audit.record(
            session,
            AuditEntry(
                actor=actor.username,
                action=AuditAction.REPORT_MESSAGE_SENT,
                object_type="report",
                object_id=report.reference,
                details={"message_id": row.id, "kind": kind},
            ),
        )
        return row

    def send_message(self, actor: StaffUser, reference: str, kind: str, text: str) -> int:
        """Ask the reporter a question, or add an internal note (never shown to the reporter)."""
        actor.require(Permission.REPORTS_TRIAGE)
        if kind not in STAFF_MESSAGE_KINDS:
            raise ValidationError(f"a message is one of: {', '.join(STAFF_MESSAGE_KINDS)}")
        body = clean_text(text, LIMITS["message"], multiline=True)
        if len(body) < 2:
            raise ValidationError("write the message")
        with self.db.write() as session:
            report = self._load(session, reference)
            self._check_not_recused(session, report, actor)
            if report.state == State.CLOSED.value and kind == "question":
                raise ConflictError("the report is closed")
            return self._add_message(session, report, actor, kind, body).id

    def declare_conflict(self, actor: StaffUser, reference: str, *, reason: str) -> None:
        """Declare a conflict of interest: the reviewer is recused from this report."""
        actor.require(Permission.REPORTS_READ)
        reason = check_reason(reason)
        with self.db.write() as session:
            report = self._load(session, reference)
            if session.get(ReportConflict, (report.id, actor.id)) is not None:
                raise ConflictError("you already declared a conflict on this report")
            session.add(ReportConflict(report_id=report.id, user_id=actor.id, declared_at=utcnow()))
            self.audit.record(
                session,
                AuditEntry(
                    actor=actor.username,
                    action=AuditAction.REPORT_CONFLICT_DECLARED,
                    object_type="report",
                    object_id=report.reference,
                    reason=reason,
                ),
            )

    # -- identity -----------------------------------------------------------------------------

    def request_identity(self, actor: StaffUser, reference: str, *, reason: str) -> int:
        """Ask to see the reporter's identity; a decision-maker must approve with a reason."""
        actor.require(Permission.REPORTS_INVESTIGATE)
        with self.db.write() as session:
            report = self._load(session, reference)
            self._check_not_recused(session, report, actor)
            if not report.has_identity:
                raise NotFoundError("the reporter left no identity or contact details")
            return self.approvals.request(
                session,
                action=REVEAL_IDENTITY.action,
                object_type="report",
                object_id=report.reference,
                payload={"reference": report.reference, "for": actor.username},
                requester=actor,
                reason=reason,
            )

    def _grant_identity(
        self,
        session: Session,
        payload: Mapping[str, Any],
        requester: StaffUser,
        approver: StaffUser,
    ) -> None:
        report = self._load(session, str(payload["reference"]))
        self._check_not_recused(session, report, approver)
        self.audit.record(
            session,
            AuditEntry(
                actor=approver.username,
                action=AuditAction.REPORT_IDENTITY_REQUESTED,
                object_type="report",
                object_id=report.reference,
                details={"granted_to": requester.username, "days": IDENTITY_GRANT_DAYS},
            ),
        )

    @staticmethod
    def _identity_grant(
        session: Session, report: Report, actor: StaffUser, now: datetime
    ) -> Approval | None:
        row = session.scalars(
            select(Approval)
            .where(
                Approval.action == REVEAL_IDENTITY.action,
                Approval.object_id == report.reference,
                Approval.requested_by == actor.id,
                Approval.status == ApprovalStatus.APPROVED.value,
            )
            .order_by(Approval.id.desc())
        ).first()
        if row is None or row.decided_at is None:
            return None
        if _aware(row.decided_at) < now - timedelta(days=IDENTITY_GRANT_DAYS):
            return None
        return row

    def identity(self, actor: StaffUser, reference: str) -> Contact:
        """The reporter's contact details, for a reviewer whose request was approved."""
        actor.require(Permission.REPORTS_INVESTIGATE)
        now = utcnow()
        with self.db.write() as session:
            report = self._load(session, reference)
            self._check_not_recused(session, report, actor)
            grant = self._identity_grant(session, report, actor, now)
            if grant is None:
                raise PermissionDeniedError(
                    "seeing the reporter's identity needs an approved request with a reason"
                )
            row = session.get(ReportIdentity, report.id)
            if row is None:
                raise NotFoundError("the reporter left no identity or contact details")
            private = self._report_private_key(session, report)
            contact = Contact.from_json(crypto.open_sealed(private, row.content))
            self.audit.record(
                session,
                AuditEntry(
                    actor=actor.username,
                    action=AuditAction.REPORT_IDENTITY_REVEALED,
                    object_type="report",
                    object_id=report.reference,
                    details={"approval_id": grant.id},
                ),
            )
            return contact

    # -- allegations --------------------------------------------------------------------------

    def _allegations(self) -> AllegationsPort:
        if self.allegations is None:
            raise ConfigurationError("the allegations register is not available")
        return self.allegations

    def create_allegation(
        self,
        actor: StaffUser,
        reference: str,
        *,
        name: str,
        schema: str,
        country: str | None,
        identifiers: Sequence[str],
        summary: str,
        reason: str,
    ) -> str:
        """Add an allegation (the accused entity, in clear) to the register from a report."""
        actor.require(Permission.REPORTS_INVESTIGATE)
        with self.db.read() as session:
            report = self._load(session, reference)
            self._check_not_recused(session, report, actor)
        allegation_id = self._allegations().create(
            actor,
            name=name,
            schema=schema,
            country=country or None,
            identifiers=identifiers,
            source_ref=f"report:{reference}",
            summary=summary,
            reason=reason,
        )
        with self.db.write() as session:
            report = self._load(session, reference)
            session.add(
                ReportAllegation(
                    report_id=report.id,
                    allegation_id=allegation_id,
                    created_by=actor.username,
                    created_at=utcnow(),
                )
            )
            self.audit.record(
                session,
                AuditEntry(
                    actor=actor.username,
                    action=AuditAction.REPORT_ALLEGATION_CREATED,
                    object_type="report",
                    object_id=reference,
                    details={"allegation_id": allegation_id},
                ),
            )
        return allegation_id

    def set_allegation_status(
        self, actor: StaffUser, reference: str, allegation_id: str, status: str, *, reason: str
    ) -> None:
        """Set the status of an allegation made from this report (a decision-maker's call)."""
        if status not in ALLEGATION_STATUSES:
            raise ValidationError(
                f"an allegation status is one of {', '.join(ALLEGATION_STATUSES)}"
            )
        actor.require(Permission.REPORTS_DECIDE)
        with self.db.read() as session:
            report = self._load(session, reference)
            self._check_not_recused(session, report, actor)
            linked = session.scalar(
                select(ReportAllegation.id).where(
                    ReportAllegation.report_id == report.id,
                    ReportAllegation.allegation_id == allegation_id,
                )
            )
            if linked is None:
                raise NotFoundError(f"{allegation_id} was not created from {reference}")
        self._allegations().set_status(actor, allegation_id, status, reason=reason)
        with self.db.write() as session:
            self.audit.record(
                session,
                AuditEntry(
                    actor=actor.username,
                    action=AuditAction.REPORT_ALLEGATION_STATUS_SET,
                    object_type="report",
                    object_id=reference,
                    reason=reason,
                    details={"allegation_id": allegation_id, "status": status},
                ),
            )

    # -- referral -----------------------------------------------------------------------------

    def prepare_referral(
        self, actor: StaffUser, reference: str, *, authority: str, reason: str
    ) -> tuple[int, bytes]:
        """A referral package for another authority, redacted to what the reporter allowed."""
        actor.require(Permission.REPORTS_DECIDE)
        authority = clean_text(authority, 200)
        if len(authority) < 2:
            raise ValidationError("name the authority that receives the package")
        reason = check_reason(reason)
        now = utcnow()
        with self.db.write() as session:
            report = self._load(session, reference)
            self._check_not_recused(session, report, actor)
            private = self._report_private_key(session, report)
            included = ["case"]
            package: dict[str, Any] = {
                "format": "tipaudit-referral/1",
                "reference": report.reference,
                "prepared_at": now.isoformat(),
                "prepared_for": authority,
                "case": {
                    "state": report.state,
                    "category": report.category,
                    "finding": report.finding,
                    "decision": report.decision,
                    "received_at": _aware(report.received_at).isoformat(),
                },
                "allegations": list(
                    session.scalars(
                        select(ReportAllegation.allegation_id).where(
                            ReportAllegation.report_id == report.id
                        )
                    )
                ),
                "redactions": [],
            }
            if report.consent_share_report:
                content = ReportContent.from_json(crypto.open_sealed(private, report.content))
                package["report"] = {
                    "what": content.what,
                    "country": content.country,
                    "where": content.where,
                    "when": content.when,
                    "subjects": [
                        {"kind": s.kind.value, "name": s.name, "identifiers": s.identifiers}
                        for s in content.subjects
                    ],
                    "indicators": list(content.indicators),
                }
                package["reporter_messages"] = [
                    {"kind": m.kind, "text": m.text, "at": m.created_at.isoformat()}
                    for m in self._messages(session, report, private, for_reporter=False)
                    if m.kind in {"answer", "information"}
                ]
                included.append("report")
            else:
                package["redactions"].append(
                    "report text withheld: the reporter did not consent to sharing it"
                )
            identity = session.get(ReportIdentity, report.id)
            if report.consent_share_contact and identity is not None:
                contact = Contact.from_json(crypto.open_sealed(private, identity.content))
                package["contact"] = {
                    "name": contact.name,
                    "email": contact.email,
                    "phone": contact.phone,
                    "other": contact.other,
                }
                included.append("contact")
            elif identity is not None:
                package["redactions"].append(
                    "contact details withheld: the reporter did not consent to sharing them"
                )
            package["redactions"].append("internal notes and attachments are not included")
            data = json.dumps(package, ensure_ascii=False, indent=2, sort_keys=True).encode()
            digest = hashlib.sha256(data).hexdigest()
            row = ReportReferral(
                report_id=report.id,
                authority=authority,
                included=",".join(included),
                sha256=digest,
                prepared_by=actor.username,
                prepared_at=now,
            )
            session.add(row)
            session.flush()
            self.audit.record(
                session,
                AuditEntry(
                    actor=actor.username,
                    action=AuditAction.REPORT_REFERRAL_PREPARED,
                    object_type="report",
                    object_id=report.reference,
                    reason=reason,
                    details={
                        "referral_id": row.id,
                        "included": included,
                        "sha256": digest,
                    },
                ),
            )
            return row.id, data

    def record_handover(
        self, actor: StaffUser, reference: str, referral_id: int, *, to: str, method: str
    ) -> None:
        """Log that a referral package was handed over: to whom and how."""
        actor.require(Permission.REPORTS_DECIDE)
        to = clean_text(to, 200)
        method = clean_text(method, 200)
        if len(to) < 2 or len(method) < 2:
            raise ValidationError("say to whom and how the package was handed over")
        with self.db.write() as session:
            report = self._load(session, reference)
            row = session.get(ReportReferral, referral_id)
            if row is None or row.report_id != report.id:
                raise NotFoundError("there is no such referral")
            if row.handed_over_at is not None:
                raise ConflictError("this package's hand-over is already recorded")
            row.handed_over_to = to
            row.handed_over_by = actor.username
            row.handed_over_at = utcnow()
            row.method = method
            self.audit.record(
                session,
                AuditEntry(
                    actor=actor.username,
                    action=AuditAction.REPORT_REFERRAL_HANDED_OVER,
                    object_type="report",
                    object_id=report.reference,
                    details={"referral_id": row.id, "sha256": row.sha256},
                ),
            )

    # -- digest, statistics, retention --------------------------------------------------------

    def digest(self, now: datetime | None = None) -> Digest:
        """Counts by state, missed deadlines and deadlines in the next two days (no content)."""
        now = now or utcnow()
        soon = now + timedelta(days=2)
        by_state: dict[str, int] = {s.value: 0 for s in State}
        late: list[OverdueItem] = []
        upcoming: list[OverdueItem] = []
        crisis: list[str] = []
        with self.db.read() as session:
            for report in session.scalars(select(Report).order_by(Report.received_at)):
                state = State(report.state)
                by_state[state.value] += 1
                ack, fb = _aware(report.acknowledge_due), _aware(report.feedback_due)
                for deadline in overdue(state, ack, fb, now):
                    due = ack if deadline == "acknowledgement" else fb
                    late.append(
                        OverdueItem(report.reference, state.value, deadline, due, report.category)
                    )
                for deadline in overdue(state, ack, fb, soon):
                    due = ack if deadline == "acknowledgement" else fb
                    if due >= now:
                        upcoming.append(
                            OverdueItem(
                                report.reference, state.value, deadline, due, report.category
                            )
                        )
                if report.category == Category.CRISIS.value and state is not State.CLOSED:
                    crisis.append(report.reference)
        return Digest(now, by_state, tuple(late), tuple(crisis), tuple(upcoming))

    def case_summaries(self) -> list[CaseSummary]:
        """Every case as categories, outcome and timestamps: input to public statistics."""
        with self.db.read() as session:
            return [
                CaseSummary(
                    state=r.state,
                    category=r.category,
                    finding=r.finding,
                    decision=r.decision,
                    channel=r.channel,
                    received_at=_aware(r.received_at),
                    acknowledged_at=_maybe(r.acknowledged_at),
                    triaged_at=_maybe(r.triaged_at),
                    decided_at=_maybe(r.decided_at),
                    feedback_at=_maybe(r.feedback_at),
                    closed_at=_maybe(r.closed_at),
                )
                for r in session.scalars(select(Report).order_by(Report.received_at))
            ]

    # -- HTCDS export -------------------------------------------------------------------------

    def export_htcds(self, actor: StaffUser | str, fmt: Literal["csv", "json"]) -> str:
        """Every case as HTCDS v2.0 CSV or JSON, with the coded answers of each report.

        The export needs ``reports:decide`` (a shell actor such as the command line is
        trusted, as for ``purge``). Each report's content is opened with the organisation key,
        as :meth:`view` does, but only its coded answers are kept: indicator codes, the
        country, the kind and name of each accused organisation (a person's kind, never their
        name). The text, place, time as written and identifiers are dropped; contact details,
        messages and attachments are not even decrypted. A report whose key is not on this server
        (or whose record is damaged), or on which the exporter declared a conflict, keeps its
        clear fields only. Every decryption is a ``report.viewed`` event for that report, and
        the export itself one ``report.exported`` event with the counts, in the same unit of
        work.
        """
        if isinstance(actor, StaffUser):
            actor.require(Permission.REPORTS_DECIDE)
            name = actor.username
        else:
            name = actor
        if fmt not in ("csv", "json"):
            raise ValidationError(f"an HTCDS export is csv or json, not {str(fmt)[:20]!r}")
        with self.db.write() as session:
            cases = self._htcds_cases(session, actor)
            body = to_htcds_csv(cases) if fmt == "csv" else to_htcds_json(cases)
            for case in cases:
                if case.content_status == CONTENT_OPENED:
                    self.audit.record(
                        session,
                        AuditEntry(
                            actor=name,
                            action=AuditAction.REPORT_VIEWED,
                            object_type="report",
                            object_id=case.reference,
                            details={"decrypted": ["content"], "purpose": "htcds_export"},
                        ),
                    )
            counts = collections.Counter(case.content_status for case in cases)
            self.audit.record(
                session,
                AuditEntry(
                    actor=name,
                    action=AuditAction.REPORT_EXPORTED,
                    object_type="report_export",
                    object_id=HTCDS_EXPORT_ID,
                    details={
                        "format": fmt,
                        "cases": len(cases),
                        "decrypted": counts[CONTENT_OPENED],
                        "unopenable": counts[CONTENT_UNOPENABLE],
                        "recused": counts[CONTENT_RECUSED],
                    },
                ),
            )
        return body

    def _htcds_cases(self, session: Session, actor: StaffUser | str) -> list[HtcdsCase]:
        """Clear fields of every case, plus the coded answers of the reports that open."""
        recused: set[int] = set()
        if isinstance(actor, StaffUser):
            recused = set(
                session.scalars(
                    select(ReportConflict.report_id).where(ReportConflict.user_id == actor.id)
                )
            )
        path = self.settings.resolved_reports_private_key_file
        # Without the key file (an intake-only host) every case keeps its clear fields only;
        # a damaged key file still stops the export (ConfigurationError).
        organisation_keys = self._private_keys() if path.exists() else {}
        keys = select(ReportKey.id, ReportKey.fingerprint)
        fingerprints: dict[int, str] = dict(session.execute(keys).all())
        referrals: dict[int, ReportReferral] = {}
        for referral in session.scalars(select(ReportReferral).order_by(ReportReferral.id)):
            referrals.setdefault(referral.report_id, referral)
        cases = []
        for report in session.scalars(select(Report).order_by(Report.received_at, Report.id)):
            if report.id in recused:
                content, status = None, CONTENT_RECUSED
            else:
                private = organisation_keys.get(fingerprints.get(report.key_id, ""))
                content = _open_content(private, report) if private is not None else None
                status = CONTENT_OPENED if content is not None else CONTENT_UNOPENABLE
            cases.append(_htcds_case(report, referrals.get(report.id), content, status))
        return cases

    def retention(self) -> dict[State, int]:
        result = {}
        for name, days in self.settings.reports_retention_days.items():
            try:
                state = State(name)
            except ValueError:
                raise ConfigurationError(
                    f"TIPAUDIT_REPORTS_RETENTION_DAYS names an unknown state {name!r}",
                    hint="states: " + ", ".join(s.value for s in State),
                ) from None
            if days < 0:
                raise ConfigurationError("retention days cannot be negative")
            result[state] = days
        return result

    def purge(
        self, actor: str, *, now: datetime | None = None, dry_run: bool = False
    ) -> PurgeResult:
        """Delete reports kept past their state's retention, with their attachments."""
        now = now or utcnow()
        retention = self.retention()
        purged: list[str] = []
        files: list[Path] = []
        with self.db.write() as session:
            for report in session.scalars(select(Report).order_by(Report.id)).all():
                days = retention.get(State(report.state))
                if days is None or _aware(report.state_changed_at) + timedelta(days=days) > now:
                    continue
                purged.append(report.reference)
                if dry_run:
                    continue
                stored = list(
                    session.scalars(
                        select(ReportAttachment.stored_name).where(
                            ReportAttachment.report_id == report.id
                        )
                    )
                )
                files.extend(self.upload_dir / name for name in stored)
                for model in (
                    ReportAttachment,
                    ReportMessage,
                    ReportIdentity,
                    ReportTransition,
                    ReportConflict,
                    ReportAllegation,
                    ReportReferral,
                ):
                    session.execute(delete(model).where(model.report_id == report.id))
                session.execute(
                    delete(ReportAccessLimit).where(ReportAccessLimit.key == report.locator_hash)
                )
                for approval in session.scalars(
                    select(Approval).where(
                        Approval.object_type == "report",
                        Approval.object_id == report.reference,
                        Approval.status == ApprovalStatus.PENDING.value,
                    )
                ):
                    approval.status = ApprovalStatus.WITHDRAWN.value
                    approval.decision_reason = "report purged under the retention rule"
                    approval.decided_at = now
                age = (now - _aware(report.state_changed_at)).days
                self.audit.record(
                    session,
                    AuditEntry(
                        actor=actor,
                        action=AuditAction.REPORT_PURGED,
                        object_type="report",
                        object_id=report.reference,
                        reason=f"retention of {days} days in state {report.state} has passed",
                        details={
                            "state": report.state,
                            "days_in_state": age,
                            "attachments": len(stored),
                        },
                    ),
                )
                session.delete(report)
        for path in files:
            _shred(path)
        return PurgeResult(tuple(purged), 0 if dry_run else len(files), dry_run)


# --- helpers ---------------------------------------------------------------------------------


@contextmanager
def _removing_on_error(paths: list[Path]) -> Iterator[None]:
    """Shred files written for a unit of work that did not commit."""
    try:
        yield
    except BaseException:
        for path in paths:
            _shred(path)
        raise


_E = TypeVar("_E", State, Category, Priority, Finding, Decision)


def _shred(path: Path) -> None:
    """Overwrite a file with zeros, then delete it (best effort on journaling filesystems)."""
    try:
        size = path.stat().st_size
        with path.open("r+b") as handle:
            handle.write(b"\x00" * size)
            handle.flush()
            os.fsync(handle.fileno())
        path.unlink()
    except FileNotFoundError:
        return


def _aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes for timezone columns: they are UTC."""
    from datetime import UTC

    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _maybe(moment: datetime | None) -> datetime | None:
    return _aware(moment) if moment is not None else None


def _open_content(organisation_private: bytes, report: Report) -> ReportContent | None:
    """The report's content, or None when its wrapped key or content does not open."""
    try:
        private = crypto.open_private_key_for_staff(
            organisation_private, report.private_key_for_staff
        )
        return ReportContent.from_json(crypto.open_sealed(private, report.content))
    except (crypto.DecryptionError, ValueError, KeyError, TypeError):
        # Damaged or foreign records are exported with their clear fields and counted.
        return None


def _htcds_case(
    report: Report,
    referral: ReportReferral | None,
    content: ReportContent | None,
    content_status: str,
) -> HtcdsCase:
    """One export case: the clear review fields, and only the coded answers of ``content``.

    Industry and age stay empty: the intake form asks for neither.
    """
    accused: tuple[AccusedParty, ...] = ()
    if content is not None:
        # The subject kind is the only role the form records; a person's name stays out.
        accused = tuple(
            AccusedParty(
                name="" if subject.kind is SubjectKind.PERSON else subject.name,
                role=subject.kind.value,
            )
            for subject in content.subjects
        )
    return HtcdsCase(
        reference=report.reference,
        state=report.state,
        received_at=_aware(report.received_at),
        channel=report.channel,
        category=report.category,
        finding=report.finding,
        decision=report.decision,
        closed_at=_maybe(report.closed_at),
        decided_at=_maybe(report.decided_at),
        indicator_codes=tuple(content.indicators) if content is not None else (),
        country=(content.country or None) if content is not None else None,
        accused=accused,
        referred_to=referral.authority if referral else None,
        referred_at=_aware(referral.handed_over_at or referral.prepared_at) if referral else None,
        consent=report.consent_share_report if report.consent_recorded else None,
        content_status=content_status,
    )


def _usernames(session: Session) -> dict[int, str]:
    return {row[0]: row[1] for row in session.execute(select(User.id, User.username))}


def _referral_view(row: ReportReferral) -> ReferralView:
    return ReferralView(
        id=row.id,
        authority=row.authority,
        included=tuple(p for p in row.included.split(",") if p),
        sha256=row.sha256,
        prepared_by=row.prepared_by,
        prepared_at=_aware(row.prepared_at),
        handed_over_to=row.handed_over_to,
        handed_over_by=row.handed_over_by,
        handed_over_at=_maybe(row.handed_over_at),
        method=row.method,
    )


def _enum(kind: type[_E], value: object, what: str) -> _E:
    if isinstance(value, kind):
        return value
    try:
        return kind(str(value))
    except ValueError:
        allowed = ", ".join(v.value for v in kind)
        raise ValidationError(f"unknown {what} {str(value)[:40]!r}; one of: {allowed}") from None
