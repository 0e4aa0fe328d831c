"""Tables of public abuse reports: encrypted reports, receipts, messages, attachments and review.

What is kept in clear is only what the review workflow needs to route and time a case: its
state, triage category and priority, finding, decision, deadlines and timestamps, whether it
was recorded on someone's behalf, and the reporter's sharing consent. Everything the reporter
wrote (the account, the people and places named, contact details, messages, attachment names
and bytes) is ciphertext: sealed to the report's own X25519 key, whose private half is itself
sealed to the organisation key and wrapped under a key derived from the receipt (see
``docs/reports-security.md``). A receipt is never stored: only a keyed hash of its locator part
and an Argon2id-derived verifier of its secret part.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tipaudit.storage.models import Base

__all__ = [
    "Base",
    "Report",
    "ReportAccessLimit",
    "ReportAllegation",
    "ReportAttachment",
    "ReportConflict",
    "ReportIdentity",
    "ReportKey",
    "ReportMessage",
    "ReportReferral",
    "ReportTransition",
]


class ReportKey(Base):
    """An organisation public key that new reports are sealed to (the private half is a file
    outside the database)."""

    __tablename__ = "report_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Report(Base):
    """One report. ``reference`` is the staff-facing case reference (random, not sequential)."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    # Receipt: keyed hash of the locator part; Argon2id salt and verifier of the secret part.
    locator_hash: Mapped[str] = mapped_column(String(64), unique=True)
    receipt_salt: Mapped[bytes] = mapped_column(LargeBinary(16))
    receipt_verifier: Mapped[bytes] = mapped_column(LargeBinary(32))
    # Keys: the report's X25519 public key; its private key sealed to the organisation key
    # and, separately, wrapped under the receipt-derived key.
    key_id: Mapped[int] = mapped_column(ForeignKey("report_keys.id"), index=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    private_key_for_staff: Mapped[bytes] = mapped_column(LargeBinary(200))
    private_key_for_reporter: Mapped[bytes] = mapped_column(LargeBinary(200))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    # Review state, in clear.
    state: Mapped[str] = mapped_column(String(20), index=True)
    category: Mapped[str | None] = mapped_column(String(20), nullable=True)
    priority: Mapped[str | None] = mapped_column(String(10), nullable=True)
    duplicate_of: Mapped[str | None] = mapped_column(String(20), nullable=True)
    finding: Mapped[str | None] = mapped_column(String(30), nullable=True)
    decision: Mapped[str | None] = mapped_column(String(30), nullable=True)
    channel: Mapped[str] = mapped_column(String(20))  # public | on_behalf
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    consent_recorded: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_share_report: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_share_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    has_identity: Mapped[bool] = mapped_column(Boolean, default=False)
    # Clock: deadlines and when each step happened.
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    acknowledge_due: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    feedback_due: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    triaged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    feedback_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    state_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reporter_activity_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )


class ReportIdentity(Base):
    """The reporter's identity and contact details, kept apart from the report (encrypted)."""

    __tablename__ = "report_identities"

    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReportMessage(Base):
    """A message on a report: a reviewer's question or feedback, the reporter's answer or added
    information, or an internal note (never shown to the reporter). Text is encrypted."""

    __tablename__ = "report_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # question|answer|information|feedback|note
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    reply_to: Mapped[int | None] = mapped_column(Integer, nullable=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReportAttachment(Base):
    """An attachment: encrypted bytes in the upload folder, encrypted name and type here."""

    __tablename__ = "report_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("report_messages.id"), nullable=True)
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    size: Mapped[int] = mapped_column(Integer)
    metadata_content: Mapped[bytes] = mapped_column(LargeBinary)
    sanitized: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReportTransition(Base):
    """One step of a report through the review workflow (the case timeline)."""

    __tablename__ = "report_transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(120))
    approved_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReportConflict(Base):
    """A reviewer's declared conflict of interest: they are recused from the report."""

    __tablename__ = "report_conflicts"

    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    declared_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReportAllegation(Base):
    """An allegation entry (in the entity register) created from a report."""

    __tablename__ = "report_allegations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    allegation_id: Mapped[str] = mapped_column(String(100))
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReportReferral(Base):
    """A referral package prepared for another authority, and its logged hand-over."""

    __tablename__ = "report_referrals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    authority: Mapped[str] = mapped_column(String(200))
    included: Mapped[str] = mapped_column(String(200))  # comma-separated parts shared
    sha256: Mapped[str] = mapped_column(String(64))
    prepared_by: Mapped[str] = mapped_column(String(120))
    prepared_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    handed_over_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    handed_over_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    handed_over_to: Mapped[str | None] = mapped_column(String(200), nullable=True)
    method: Mapped[str | None] = mapped_column(String(200), nullable=True)


class ReportAccessLimit(Base):
    """Failed receipt attempts, per locator (keyed hash) and globally (key ``global``).

    No address or other request data: the limit is on the receipt being guessed, and on
    the rate of guesses across the whole service.
    """

    __tablename__ = "report_access_limits"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
