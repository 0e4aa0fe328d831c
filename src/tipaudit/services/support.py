"""The support register: whom the government supports or licenses, and what it gives them.

Three kinds of support are recorded:

``contract``
    a public contract, linked to the supplier key of the procurement register and/or the OCDS
    ``ocid``;
``recruitment_licence``
    a licence for a recruitment agency (number and period);
``security_assistance``
    assistance to a named security-force unit (type, amount, currency, period).

Each entry is ``active``, ``suspended`` or ``ended``. Suspending, resuming or ending support
records who, when and why (``support_status_changes``) and is audited; ``ended`` is final.
Active entries are watched: when a list changes they are re-screened (see
:mod:`tipaudit.services.vetting`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Literal, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from tipaudit.audit import AuditAction, AuditEntry
from tipaudit.core.clock import utcnow
from tipaudit.core.roles import Permission
from tipaudit.core.two_person import check_reason
from tipaudit.errors import NotFoundError, ValidationError
from tipaudit.screening import Query
from tipaudit.services.accounts import StaffUser
from tipaudit.services.allegations import clean_text, parse_country, parse_identifiers, require_any
from tipaudit.services.audit import AuditLog
from tipaudit.storage.db import Database
from tipaudit.storage.vetting import SupportEntry, SupportStatusChange

SupportKind = Literal["contract", "recruitment_licence", "security_assistance"]
KINDS: tuple[SupportKind, ...] = get_args(SupportKind)
SupportStatus = Literal["active", "suspended", "ended"]
STATUSES: tuple[SupportStatus, ...] = get_args(SupportStatus)
RECIPIENT_SCHEMAS = ("Organization", "Company", "LegalEntity", "Person")

#: Which status may follow which.
TRANSITIONS: dict[str, frozenset[str]] = {
    "active": frozenset({"suspended", "ended"}),
    "suspended": frozenset({"active", "ended"}),
    "ended": frozenset(),
}
_KEY = re.compile(r"^[^\x00-\x1f\x7f]{1,200}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class SupportChange:
    old_status: str | None
    new_status: str
    reason: str
    changed_by: str
    changed_at: datetime


@dataclass(frozen=True)
class SupportView:
    """A support entry with its status history (oldest first)."""

    id: int
    kind: str
    recipient: str
    schema: str
    country: str | None
    identifiers: tuple[str, ...]
    supplier_key: str | None
    ocid: str | None
    licence_number: str | None
    assistance_type: str | None
    amount: str | None
    currency: str | None
    start_date: date | None
    end_date: date | None
    description: str
    status: str
    created_by: str
    created_at: datetime
    history: tuple[SupportChange, ...]

    @property
    def query_ref(self) -> str:
        """How screenings refer to the recipient: the supplier key for a contract, if any."""
        return support_query_ref(self.id, self.kind, self.supplier_key)

    @property
    def label(self) -> str:
        return f"S-{self.id}"


def support_query_ref(support_id: int, kind: str, supplier_key: str | None) -> str:
    if kind == "contract" and supplier_key:
        return f"supplier:{supplier_key}"
    return f"support:{support_id}"


def support_query(entry: SupportEntry | SupportView) -> Query:
    """The recipient of a support entry as a screening query."""
    return Query(
        id=support_query_ref(entry.id, entry.kind, entry.supplier_key),
        schema=entry.schema,  # type: ignore[arg-type]  # checked on entry
        names=(entry.recipient,),
        countries=(entry.country,) if entry.country else (),
        identifiers=tuple(entry.identifiers),
    )


def _optional_key(value: str | None, what: str) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if not _KEY.match(value):
        raise ValidationError(f"the {what} must be at most 200 printable characters")
    return value


def _amount(value: str | None) -> str | None:
    if value is None or not str(value).strip():
        return None
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise ValidationError(f"the amount {str(value)[:30]!r} is not a number") from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e15"):
        raise ValidationError("the amount must be between 0 and 10^15")
    return format(amount.quantize(Decimal("0.01")), "f")


class SupportRegister:
    """Use cases of the support register."""

    def __init__(self, db: Database, audit: AuditLog) -> None:
        self.db = db
        self.audit = audit

    def add(
        self,
        actor: StaffUser,
        *,
        kind: str,
        recipient: str,
        schema: str = "Organization",
        country: str | None = None,
        identifiers: Sequence[str] = (),
        supplier_key: str | None = None,
        ocid: str | None = None,
        licence_number: str | None = None,
        assistance_type: str | None = None,
        amount: str | None = None,
        currency: str | None = None,
        start_date: date | None = None,
        end_date: date | None = None,
        description: str = "",
        reason: str,
    ) -> int:
        """Record support given to an organisation or unit; returns its id."""
        require_any(actor, Permission.ENTITIES_SCREEN, Permission.VETTING_DECIDE)
        if kind not in KINDS:
            raise ValidationError(
                f"unknown kind {str(kind)[:40]!r}", hint=f"use {', '.join(KINDS)}"
            )
        if schema not in RECIPIENT_SCHEMAS:
            raise ValidationError(
                f"unknown schema {str(schema)[:40]!r}", hint=f"use {', '.join(RECIPIENT_SCHEMAS)}"
            )
        recipient = clean_text(recipient, 300, "recipient's name")
        alpha2 = parse_country(country)
        if isinstance(identifiers, str):
            raise ValidationError("identifiers are a list of text")
        ids = parse_identifiers(identifiers)
        supplier_key = _optional_key(supplier_key, "supplier key")
        ocid = _optional_key(ocid, "ocid")
        licence_number = _optional_key(licence_number, "licence number")
        assistance_type = clean_text(assistance_type or "", 200, "assistance type", required=False)
        money = _amount(amount)
        cur = (currency or "").strip().upper() or None
        if cur is not None and not _CURRENCY.match(cur):
            raise ValidationError("the currency must be a three-letter ISO 4217 code, e.g. USD")
        if money is not None and cur is None:
            raise ValidationError("give the currency of the amount")
        if start_date and end_date and end_date < start_date:
            raise ValidationError("the period ends before it starts")
        description = clean_text(description, 2000, "description", required=False)
        if kind == "contract" and not (supplier_key or ocid):
            raise ValidationError("a contract needs the supplier key or the OCDS ocid")
        if kind == "recruitment_licence" and not licence_number:
            raise ValidationError("a recruitment-agency licence needs its number")
        if kind == "security_assistance" and not assistance_type:
            raise ValidationError("security assistance needs its type (training, equipment, …)")
        reason = check_reason(reason)
        now = utcnow()
        with self.db.write() as session:
            row = SupportEntry(
                kind=kind,
                recipient=recipient,
                schema=schema,
                country=alpha2,
                identifiers=ids,
                supplier_key=supplier_key,
                ocid=ocid,
                licence_number=licence_number,
                assistance_type=assistance_type or None,
                amount=money,
                currency=cur,
                start_date=start_date,
                end_date=end_date,
                description=description,
                status="active",
                created_by=actor.username[:120],
                created_at=now,
            )
            session.add(row)
            session.flush()
            session.add(
                SupportStatusChange(
                    support_id=row.id,
                    old_status=None,
                    new_status="active",
                    reason=reason,
                    changed_by=actor.username[:120],
                    changed_at=now,
                )
            )
            self.audit.record(
                session,
                AuditEntry(
                    actor=actor.username,
                    action=AuditAction.SUPPORT_ADDED,
                    object_type="support",
                    object_id=str(row.id),
                    reason=reason,
                    details={
                        "kind": kind,
                        "country": alpha2,
                        "supplier_key": supplier_key,
                        "ocid": ocid,
                        "licence_number": licence_number,
                        "amount": money,
                        "currency": cur,
                    },
                ),
            )
            return row.id

    def set_status(self, actor: StaffUser, support_id: int, status: str, *, reason: str) -> None:
        """Suspend, resume or end support, with a reason (kept and audited)."""
        actor.require(Permission.VETTING_DECIDE)
        if status not in STATUSES:
            raise ValidationError(f"unknown status {str(status)[:40]!r}", hint=", ".join(STATUSES))
        reason = check_reason(reason)
        with self.db.write() as session:
            row = self._row(session, support_id)
            if status not in TRANSITIONS[row.status]:
                raise ValidationError(
                    f"support S-{row.id} is {row.status}: it cannot become {status}"
                )
            old = row.status
            row.status = status
            if status == "ended" and (row.end_date is None or row.end_date > utcnow().date()):
                row.end_date = utcnow().date()
            session.add(
                SupportStatusChange(
                    support_id=row.id,
                    old_status=old,
                    new_status=status,
                    reason=reason,
                    changed_by=actor.username[:120],
                    changed_at=utcnow(),
                )
            )
            self.audit.record(
                session,
                AuditEntry(
                    actor=actor.username,
                    action=AuditAction.SUPPORT_STATUS_CHANGED,
                    object_type="support",
                    object_id=str(row.id),
                    reason=reason,
                    details={"from": old, "to": status},
                ),
            )

    def get(self, support_id: int) -> SupportView:
        with self.db.read() as session:
            return self._views(session, [self._row(session, support_id)])[0]

    @staticmethod
    def _row(session: Session, support_id: int) -> SupportEntry:
        row = session.get(SupportEntry, support_id) if 0 < support_id < 2**31 else None
        if row is None:
            raise NotFoundError(f"no support entry S-{support_id}")
        return row

    @staticmethod
    def _views(session: Session, rows: Sequence[SupportEntry]) -> list[SupportView]:
        history: dict[int, list[SupportChange]] = {}
        if rows:
            for change in session.scalars(
                select(SupportStatusChange)
                .where(SupportStatusChange.support_id.in_([r.id for r in rows]))
                .order_by(SupportStatusChange.id)
            ):
                history.setdefault(change.support_id, []).append(
                    SupportChange(
                        change.old_status,
                        change.new_status,
                        change.reason,
                        change.changed_by,
                        change.changed_at,
                    )
                )
        return [
            SupportView(
                id=r.id,
                kind=r.kind,
                recipient=r.recipient,
                schema=r.schema,
                country=r.country,
                identifiers=tuple(r.identifiers),
                supplier_key=r.supplier_key,
                ocid=r.ocid,
                licence_number=r.licence_number,
                assistance_type=r.assistance_type,
                amount=r.amount,
                currency=r.currency,
                start_date=r.start_date,
                end_date=r.end_date,
                description=r.description,
                status=r.status,
                created_by=r.created_by,
                created_at=r.created_at,
                history=tuple(history.get(r.id, ())),
            )
            for r in rows
        ]

    def list(self, status: str | None = None, kind: str | None = None) -> Sequence[SupportView]:
        """Support entries, newest first, optionally of one status or kind."""
        query = select(SupportEntry).order_by(SupportEntry.id.desc()).limit(5000)
        if status:
            if status not in STATUSES:
                raise ValidationError(f"unknown status {status[:40]!r}", hint=", ".join(STATUSES))
            query = query.where(SupportEntry.status == status)
        if kind:
            if kind not in KINDS:
                raise ValidationError(f"unknown kind {kind[:40]!r}", hint=", ".join(KINDS))
            query = query.where(SupportEntry.kind == kind)
        with self.db.read() as session:
            return self._views(session, session.scalars(query).all())
