"""Typed audit events: what is recorded (an entry) and what is stored (a record).

An audit event says *who* did *what*, *when*, to *which object* and *why*. The ``details``
mapping carries small structured facts (a role list, a token's public id, an approval id) that
make the event understandable later.

.. warning::
   ``details`` and ``reason`` are kept for as long as the audit log is kept and are readable by
   every auditor. They must **never** carry report text, the content of a tip, or personal data
   from a request (names, contact details, addresses, case narratives). Record the *identifier*
   of the object instead (``object_type="report"``, ``object_id="R-2024-0042"``) and let the
   owning capability control access to its content.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, TypeAlias

from tipaudit.audit.chain import canonical_json
from tipaudit.errors import ValidationError

JSONValue: TypeAlias = (
    bool | int | float | str | Sequence["JSONValue"] | Mapping[str, "JSONValue"] | None
)
"""A value that can be stored in ``details``: JSON scalars, lists and string-keyed objects."""

MAX_DETAILS_BYTES = 16_384
"""Upper bound on the canonical JSON of ``details``: a guard against dumping documents in it."""

MAX_REASON_CHARS = 4_000
_FIELD_LIMITS = {"actor": 120, "object_type": 80, "object_id": 200}  # the column sizes
_MAX_DEPTH = 20


class AuditAction(StrEnum):
    """What happened. Capabilities add their own members here as they are built."""

    USER_CREATED = "user.created"
    USER_DISABLED = "user.disabled"
    USER_ENABLED = "user.enabled"
    USER_ROLES_CHANGED = "user.roles_changed"
    USER_PASSWORD_CHANGED = "user.password_changed"  # noqa: S105 - an action name, not a secret
    LOGIN_SUCCEEDED = "auth.login_succeeded"
    LOGIN_FAILED = "auth.login_failed"
    LOGOUT = "auth.logout"
    TOTP_ENABLED = "auth.totp_enabled"
    TOTP_DISABLED = "auth.totp_disabled"
    TOKEN_CREATED = "token.created"  # noqa: S105 - an action name, not a secret
    TOKEN_REVOKED = "token.revoked"  # noqa: S105 - an action name, not a secret
    APPROVAL_REQUESTED = "approval.requested"
    APPROVAL_GRANTED = "approval.granted"
    APPROVAL_REJECTED = "approval.rejected"
    AUDIT_VERIFIED = "audit.verified"
    AUDIT_CHECKPOINT_SIGNED = "audit.checkpoint_signed"
    REFERENCE_DATA_IMPORTED = "refdata.imported"
    DESTINATION_CONTACT_ADDED = "destination.contact_added"
    DESTINATION_CONTACT_REMOVED = "destination.contact_removed"
    WATCHLIST_IMPORTED = "watchlist.imported"
    # policy review: the register, versions and guided assessments
    POLICY_REGISTERED = "policy.registered"
    POLICY_VERSION_ADDED = "policy.version_added"
    ASSESSMENT_STARTED = "assessment.started"
    ASSESSMENT_REVIEWER_JOINED = "assessment.reviewer_joined"
    ASSESSMENT_ANSWERED = "assessment.answered"
    ASSESSMENT_SIGNED_OFF = "assessment.signed_off"
    ASSESSMENT_FINALISED = "assessment.finalised"
    # entity vetting: saved screenings, match decisions, allegations, support, cases, alerts
    ENTITIES_SCREENED = "entities.screened"
    MATCH_DECIDED = "match.decided"
    WATCHLIST_TAGGED = "watchlist.tagged"
    ALLEGATION_CREATED = "allegation.created"
    ALLEGATION_STATUS_CHANGED = "allegation.status_changed"
    SUPPORT_ADDED = "support.added"
    SUPPORT_STATUS_CHANGED = "support.status_changed"
    VETTING_OPENED = "vetting.opened"
    VETTING_SUBJECT_ADDED = "vetting.subject_added"
    VETTING_SCREENED = "vetting.screened"
    VETTING_DECIDED = "vetting.decided"
    VETTING_OVERRIDE_REQUESTED = "vetting.override_requested"
    ALERT_RAISED = "alert.raised"
    ALERT_CLOSED = "alert.closed"
    # public reports: intake, reporter follow-up, review workflow, disclosure, retention
    REPORT_RECEIVED = "report.received"
    REPORT_RECEIPT_FAILED = "report.receipt_failed"
    REPORT_REPORTER_MESSAGE = "report.reporter_message"
    REPORT_VIEWED = "report.viewed"
    REPORT_TRANSITIONED = "report.transitioned"
    REPORT_DECISION_PROPOSED = "report.decision_proposed"
    REPORT_MESSAGE_SENT = "report.message_sent"
    REPORT_CONFLICT_DECLARED = "report.conflict_declared"
    REPORT_IDENTITY_REQUESTED = "report.identity_requested"
    REPORT_IDENTITY_REVEALED = "report.identity_revealed"
    REPORT_ATTACHMENT_OPENED = "report.attachment_opened"
    REPORT_ALLEGATION_CREATED = "report.allegation_created"
    REPORT_ALLEGATION_STATUS_SET = "report.allegation_status_set"
    REPORT_REFERRAL_PREPARED = "report.referral_prepared"
    REPORT_REFERRAL_HANDED_OVER = "report.referral_handed_over"
    REPORT_EXPORTED = "report.exported"
    REPORT_PURGED = "report.purged"
    REPORT_KEY_CREATED = "report.key_created"


def _check_json(value: object, path: str, depth: int = 0) -> None:
    """Reject anything that would not survive a JSON round trip unchanged."""
    if depth > _MAX_DEPTH:
        raise ValidationError(f"audit details are nested too deeply at {path}")
    if value is None or isinstance(value, bool | int | str):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(f"audit details must not contain {value} (at {path})")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValidationError(f"audit details keys must be strings, not {key!r} ({path})")
            _check_json(item, f"{path}.{key}", depth + 1)
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_json(item, f"{path}[{index}]", depth + 1)
        return
    raise ValidationError(
        f"audit details must be JSON values; {path} is a {type(value).__name__}",
        hint="record identifiers, numbers and short labels, not objects",
    )


def freeze_details(details: Mapping[str, Any]) -> Mapping[str, Any]:
    """Validate ``details`` and return a read-only copy exactly as it reads back from storage."""
    if not isinstance(details, Mapping):
        raise ValidationError("audit details must be a mapping of names to JSON values")
    _check_json(details, "details")
    encoded = canonical_json(details)
    if len(encoded.encode("utf-8", errors="surrogatepass")) > MAX_DETAILS_BYTES:
        raise ValidationError(
            f"audit details are larger than {MAX_DETAILS_BYTES} bytes",
            hint="details hold identifiers and short facts, never documents or report text",
        )
    _check_text(encoded, "details")
    # The round trip turns tuples into lists, so an entry equals its stored record.
    return MappingProxyType(json.loads(encoded))


def _check_text(value: str, name: str) -> None:
    # PostgreSQL text cannot hold NUL, and the hash needs valid UTF-8 (no lone surrogates).
    if "\x00" in value:
        raise ValidationError(f"audit {name} must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError(f"audit {name} is not valid Unicode text") from exc


def format_timestamp(moment: datetime) -> str:
    """ISO-8601 text in UTC with microseconds, e.g. ``2024-05-01T10:00:00.000000+00:00``."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationError("audit timestamps must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class AuditEntry:
    """A new audit event, before it is appended to the chain.

    ``actor`` names who acted (a username, ``token:<public id>``, or ``system``); ``object_type``
    and ``object_id`` name what was acted on; ``reason`` is the human justification when the
    action needs one. ``details`` must hold JSON values only, and never report text or personal
    data from a request (see the module documentation). Invalid input raises
    :class:`tipaudit.errors.ValidationError`.
    """

    actor: str
    action: AuditAction
    object_type: str
    object_id: str
    reason: str | None = None
    details: Mapping[str, JSONValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        try:
            action = AuditAction(self.action)
        except ValueError:
            raise ValidationError(f"unknown audit action {self.action!r}") from None
        object.__setattr__(self, "action", action)
        for name, limit in _FIELD_LIMITS.items():
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValidationError(f"audit {name} must be a non-empty string")
            if len(value) > limit:
                raise ValidationError(f"audit {name} is longer than {limit} characters")
            if any(ch in value for ch in "\r\n\t"):
                raise ValidationError(f"audit {name} must be on one line")
            _check_text(value, name)
        if self.reason is not None:
            if not isinstance(self.reason, str):
                raise ValidationError("audit reason must be text")
            if len(self.reason) > MAX_REASON_CHARS:
                raise ValidationError(f"audit reason is longer than {MAX_REASON_CHARS} characters")
            _check_text(self.reason, "reason")
        object.__setattr__(self, "details", freeze_details(self.details))


@dataclass(frozen=True)
class AuditRecord:
    """An audit event as stored: an :class:`AuditEntry`'s fields plus its place in the chain.

    ``action`` is plain text here because stored events may name actions this version does not
    know. ``occurred_at`` is ISO-8601 UTC text with microseconds, exactly as hashed.
    """

    seq: int
    occurred_at: str
    actor: str
    action: str
    object_type: str
    object_id: str
    reason: str | None
    details: Mapping[str, Any]
    prev_hash: str
    hash: str

    def describe(self) -> str:
        """A short human description: ``user.roles_changed by alice at 2024-05-01T…``."""
        return f"{self.action} by {self.actor} at {self.occurred_at}"

    @property
    def occurred_at_datetime(self) -> datetime | None:
        """``occurred_at`` parsed, or ``None`` when the stored text is not a timestamp."""
        try:
            return datetime.fromisoformat(self.occurred_at)
        except ValueError:
            return None

    def to_dict(self) -> dict[str, Any]:
        """A plain JSON-serialisable dictionary (for ``--json`` output and the API)."""
        return {
            "seq": self.seq,
            "occurred_at": self.occurred_at,
            "actor": self.actor,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "reason": self.reason,
            "details": json.loads(canonical_json(self.details)),
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }
