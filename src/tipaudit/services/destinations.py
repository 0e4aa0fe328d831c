"""Contacts shown on pre-departure pages, kept per destination and edited by staff."""

from __future__ import annotations

import re

from sqlalchemy import select

from tipaudit.audit import AuditAction, AuditEntry
from tipaudit.core.clock import utcnow
from tipaudit.core.countries import get_country
from tipaudit.core.roles import Permission
from tipaudit.errors import NotFoundError, ValidationError
from tipaudit.refdata.predeparture import Contact
from tipaudit.services.accounts import StaffUser
from tipaudit.services.audit import AuditLog
from tipaudit.storage.db import Database
from tipaudit.storage.models import DestinationContact

CONTACT_KINDS = ("embassy", "hotline", "labour", "ngo", "other")
_LIMITS = {"name": 200, "phone": 60, "email": 200, "website": 300, "hours": 200, "notes": 2000}
_PHONE_RE = re.compile(r"^[0-9+()./\s-]{3,60}$")
_EMAIL_RE = re.compile(r"^[^@\s]{1,100}@[^@\s]{1,100}\.[^@\s]{2,}$")


def _clean(values: dict[str, str]) -> dict[str, str]:
    cleaned: dict[str, str] = {}
    for field, limit in _LIMITS.items():
        value = (
            " ".join(values.get(field, "").split())
            if field != "notes"
            else values.get(field, "").strip()
        )
        if len(value) > limit:
            raise ValidationError(f"{field} may have at most {limit} characters")
        cleaned[field] = value
    if not cleaned["name"]:
        raise ValidationError("give the contact a name")
    if cleaned["phone"] and not _PHONE_RE.match(cleaned["phone"]):
        raise ValidationError("a phone number has digits, spaces and + ( ) . / - only")
    if cleaned["email"] and not _EMAIL_RE.match(cleaned["email"]):
        raise ValidationError("the email address does not look right")
    if cleaned["website"] and not cleaned["website"].startswith("https://"):
        raise ValidationError("a website address must start with https://")
    if not any(cleaned[f] for f in ("phone", "email", "website")):
        raise ValidationError("give at least a phone number, an email address or a website")
    return cleaned


class Destinations:
    """Use cases for destination contacts."""

    def __init__(self, db: Database, audit: AuditLog) -> None:
        self.db = db
        self.audit = audit

    def contacts(self, country_code: str) -> list[tuple[int, Contact]]:
        alpha3 = get_country(country_code).alpha3
        with self.db.read() as session:
            rows = session.scalars(
                select(DestinationContact)
                .where(DestinationContact.country == alpha3)
                .order_by(DestinationContact.kind, DestinationContact.name)
            )
            return [
                (
                    r.id,
                    Contact(
                        kind=r.kind,
                        name=r.name,
                        phone=r.phone,
                        email=r.email,
                        website=r.website,
                        hours=r.hours,
                        notes=r.notes,
                    ),
                )
                for r in rows
            ]

    def add_contact(
        self, actor: StaffUser, country_code: str, kind: str, values: dict[str, str]
    ) -> int:
        actor.require(Permission.REFERENCE_DATA_MANAGE)
        alpha3 = get_country(country_code).alpha3
        if kind not in CONTACT_KINDS:
            raise ValidationError(f"unknown kind of contact {kind!r}: {', '.join(CONTACT_KINDS)}")
        cleaned = _clean(values)
        with self.db.write() as session:
            row = DestinationContact(
                country=alpha3,
                kind=kind,
                created_at=utcnow(),
                created_by=actor.username,
                **cleaned,
            )
            session.add(row)
            session.flush()
            self.audit.record(
                session,
                AuditEntry(
                    actor=actor.username,
                    action=AuditAction.DESTINATION_CONTACT_ADDED,
                    object_type="destination",
                    object_id=alpha3,
                    reason=None,
                    details={"contact_id": row.id, "kind": kind, "name": cleaned["name"]},
                ),
            )
            return row.id

    def remove_contact(self, actor: StaffUser, country_code: str, contact_id: int) -> None:
        actor.require(Permission.REFERENCE_DATA_MANAGE)
        alpha3 = get_country(country_code).alpha3
        with self.db.write() as session:
            row = session.get(DestinationContact, contact_id)
            if row is None or row.country != alpha3:
                raise NotFoundError("no such contact for this destination")
            session.delete(row)
            self.audit.record(
                session,
                AuditEntry(
                    actor=actor.username,
                    action=AuditAction.DESTINATION_CONTACT_REMOVED,
                    object_type="destination",
                    object_id=alpha3,
                    reason=None,
                    details={"contact_id": contact_id, "name": row.name},
                ),
            )
