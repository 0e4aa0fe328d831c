"""The allegations register: accusations the government has received, as a list to screen against.

The register is a watchlist of kind ``allegations`` (slug ``allegations``, created on first
use). Staff create its entries from public reports or other sources (name, schema, country,
identifiers, aliases, a source reference such as a report id ``R-…`` and a short summary that
identifies no one who reported). Each entry has a review **status**:

``pending``
    not reviewed yet: shown on matches, never counts against anyone;
``credible`` / ``substantiated``
    reviewed: counts against a matched entity (blocks a vetting approval, raises a supplier);
``unsubstantiated``
    reviewed and not supported: shown, never counts.

A status is set by a reviewer (``vetting:decide`` or ``reports:decide``) with a reason, and the
person who created an entry cannot themselves mark it credible or substantiated: an accusation
counts only once a second person has reviewed it. Every change is kept
(``allegation_status_changes``) and audited. Audit events carry the allegation id, never names.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tipaudit.audit import AuditAction, AuditEntry
from tipaudit.core.clock import utcnow
from tipaudit.core.countries import resolve_country
from tipaudit.core.roles import Permission
from tipaudit.core.two_person import check_reason
from tipaudit.errors import (
    NotFoundError,
    PermissionDeniedError,
    TwoPersonRuleError,
    ValidationError,
)
from tipaudit.screening import ListEntity
from tipaudit.screening.model import normalise_identifier
from tipaudit.services.accounts import StaffUser
from tipaudit.services.audit import AuditLog
from tipaudit.services.watchlists import content_hash
from tipaudit.storage.db import Database
from tipaudit.storage.vetting import Allegation, AllegationStatusChange
from tipaudit.storage.watchlists import Watchlist, WatchlistEntry, WatchlistVersion

ALLEGATIONS_SLUG = "allegations"
ALLEGATIONS_TITLE = "Allegations register"

AllegationStatus = Literal["pending", "credible", "substantiated", "unsubstantiated"]
STATUSES: tuple[AllegationStatus, ...] = get_args(AllegationStatus)
#: Only these statuses count against an entity.
COUNTING_STATUSES: frozenset[str] = frozenset({"credible", "substantiated"})
ALLEGATION_SCHEMAS = ("Person", "Organization", "Company")

MAX_NAME = 300
MAX_ALIASES = 20
MAX_IDENTIFIERS = 20
MAX_SUMMARY = 1000
MAX_SOURCE_REF = 120
_SOURCE_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/#-]{0,119}$")


def require_any(actor: StaffUser, *permissions: Permission) -> None:
    """Raise unless ``actor`` holds at least one of ``permissions``."""
    if not any(actor.can(p) for p in permissions):
        raise PermissionDeniedError(
            "this needs one of the permissions " + ", ".join(p.value for p in permissions)
        )


def clean_text(value: str, limit: int, what: str, *, required: bool = True) -> str:
    """One line of printable text, whitespace collapsed; too long or empty (if required) fails."""
    if not isinstance(value, str):
        raise ValidationError(f"the {what} must be text")
    cleaned = " ".join("".join(ch for ch in value if ch.isprintable()).split())
    if required and not cleaned:
        raise ValidationError(f"give the {what}")
    if len(cleaned) > limit:
        raise ValidationError(f"the {what} may have at most {limit} characters")
    return cleaned


def parse_country(value: str | None) -> str | None:
    """An ISO alpha-2 code from a code or name in any language; empty gives None."""
    if value is None or not value.strip():
        return None
    resolution = resolve_country(value.strip()[:100])
    if resolution.country is None:
        raise ValidationError(
            f"the country {value.strip()[:60]!r} is not recognised ({resolution.reason})",
            hint="use an ISO code such as KE or KEN, or the country's name",
        )
    return resolution.country.alpha2


def parse_identifiers(values: Iterable[str]) -> list[str]:
    """Identifiers as ``scheme:value`` (a bare value gets the scheme ``id``), duplicates dropped."""
    out: dict[str, None] = {}
    for raw in values:
        if not isinstance(raw, str) or not raw.strip():
            continue
        identifier = normalise_identifier(raw.strip()[:200])
        if identifier:
            out.setdefault(identifier)
    if len(out) > MAX_IDENTIFIERS:
        raise ValidationError(f"give at most {MAX_IDENTIFIERS} identifiers")
    return list(out)


def _source_ref(value: str | None) -> str:
    if value is None or not value.strip():
        return ""
    value = value.strip()
    if not _SOURCE_REF.match(value):
        raise ValidationError(
            "the source reference must be a short identifier such as R-2026-0042 "
            "(letters, digits and . _ : / # -)"
        )
    return value


@dataclass(frozen=True)
class StatusChange:
    old_status: str | None
    new_status: str
    reason: str
    changed_by: str
    changed_at: datetime


@dataclass(frozen=True)
class AllegationView:
    """An allegation with its list entry and its status history (oldest first)."""

    id: str
    name: str
    aliases: tuple[str, ...]
    schema: str
    country: str | None
    identifiers: tuple[str, ...]
    source_ref: str
    summary: str
    status: str
    created_by: str
    created_at: datetime
    status_changed_by: str
    status_changed_at: datetime
    history: tuple[StatusChange, ...]

    @property
    def counts(self) -> bool:
        """Whether the allegation counts against a matched entity (credible or substantiated)."""
        return self.status in COUNTING_STATUSES


def statuses_of(session: Session, entity_ids: Iterable[str]) -> dict[str, str]:
    """The status of each given allegation id (unknown ids are left out)."""
    wanted = list(set(entity_ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(Allegation.entity_id, Allegation.status).where(Allegation.entity_id.in_(wanted))
    )
    return {str(entity_id): str(status) for entity_id, status in rows}


class Allegations:
    """Use cases of the allegations register."""

    def __init__(self, db: Database, audit: AuditLog) -> None:
        self.db = db
        self.audit = audit
        #: Called after a status change or a new entry commits: (allegation id, status).
        self.on_change: list[Callable[[str, str], object]] = []

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
    ) -> str:
        """Add a pending allegation to the register; returns its id (``AL-…``)."""
        require_any(
            actor,
            Permission.ENTITIES_SCREEN,
            Permission.VETTING_DECIDE,
            Permission.REPORTS_INVESTIGATE,
            Permission.REPORTS_DECIDE,
        )
        name = clean_text(name, MAX_NAME, "name")
        if schema not in ALLEGATION_SCHEMAS:
            raise ValidationError(
                f"unknown schema {str(schema)[:40]!r}", hint=f"use {', '.join(ALLEGATION_SCHEMAS)}"
            )
        if isinstance(aliases, str) or isinstance(identifiers, str):
            raise ValidationError("aliases and identifiers are lists of text")
        alias_list = [clean_text(a, MAX_NAME, "alias", required=False) for a in aliases]
        alias_list = list(dict.fromkeys(a for a in alias_list if a and a != name))
        if len(alias_list) > MAX_ALIASES:
            raise ValidationError(f"give at most {MAX_ALIASES} aliases")
        alpha2 = parse_country(country)
        ids = parse_identifiers(identifiers)
        ref = _source_ref(source_ref)
        summary = clean_text(summary, MAX_SUMMARY, "summary")
        reason = check_reason(reason)
        allegation_id = "AL-" + secrets.token_hex(4).upper()
        entity = ListEntity(
            id=allegation_id,
            schema=schema,  # type: ignore[arg-type]  # checked against ALLEGATION_SCHEMAS
            names=(name, *alias_list),
            countries=(alpha2,) if alpha2 else (),
            identifiers=tuple(ids),
            list_id=ALLEGATIONS_SLUG,
            reason=summary,
        )
        digest = content_hash(entity)
        now = utcnow()
        with self.db.write() as session:
            watchlist = ensure_register(session)
            active = session.scalar(
                select(func.count(WatchlistEntry.id)).where(
                    WatchlistEntry.watchlist_id == watchlist.id,
                    WatchlistEntry.removed_in_version_id.is_(None),
                )
            )
            version = WatchlistVersion(
                watchlist_id=watchlist.id,
                version_date=now.date(),
                imported_at=now,
                imported_by=actor.username[:120],
                file_name=f"staff entry {allegation_id}",
                sha256=hashlib.sha256(digest.encode()).hexdigest(),
                entries=(active or 0) + 1,
                added=1,
                changed=0,
                removed=0,
            )
            session.add(version)
            session.flush()
            entry = WatchlistEntry(
                watchlist_id=watchlist.id,
                entity_id=allegation_id,
                schema=schema,
                name=name,
                aliases=alias_list,
                countries=list(entity.countries),
                identifiers=ids,
                birth_dates=[],
                reason=summary,
                source_url="",
                content_hash=digest,
                first_version_id=version.id,
                last_version_id=version.id,
            )
            session.add(entry)
            session.flush()
            row = Allegation(
                entity_id=allegation_id,
                entry_id=entry.id,
                status="pending",
                source_ref=ref,
                summary=summary,
                created_by=actor.username[:120],
                created_at=now,
                status_changed_by=actor.username[:120],
                status_changed_at=now,
            )
            session.add(row)
            session.flush()
            session.add(
                AllegationStatusChange(
                    allegation_id=row.id,
                    old_status=None,
                    new_status="pending",
                    reason=reason,
                    changed_by=actor.username[:120],
                    changed_at=now,
                )
            )
            self.audit.record(
                session,
                AuditEntry(
                    actor=actor.username,
                    action=AuditAction.ALLEGATION_CREATED,
                    object_type="allegation",
                    object_id=allegation_id,
                    reason=reason,
                    details={
                        "schema": schema,
                        "country": alpha2,
                        "source_ref": ref or None,
                        "identifiers": len(ids),
                        "aliases": len(alias_list),
                        "list_version_id": version.id,
                    },
                ),
            )
        self._changed(allegation_id, "pending")
        return allegation_id

    def set_status(self, actor: StaffUser, allegation_id: str, status: str, *, reason: str) -> None:
        """Set the review status of an allegation, with a reason (kept and audited)."""
        require_any(actor, Permission.VETTING_DECIDE, Permission.REPORTS_DECIDE)
        if status not in STATUSES:
            raise ValidationError(
                f"unknown status {str(status)[:40]!r}", hint=f"use {', '.join(STATUSES)}"
            )
        reason = check_reason(reason)
        with self.db.write() as session:
            row = self._row(session, allegation_id)
            if row.status == status:
                raise ValidationError(f"{allegation_id} is already {status}")
            if status in COUNTING_STATUSES and row.created_by == actor.username:
                raise TwoPersonRuleError(
                    "the person who recorded an allegation cannot also find it "
                    f"{status}: another reviewer must"
                )
            old = row.status
            now = utcnow()
            row.status = status
            row.status_changed_by = actor.username[:120]
            row.status_changed_at = now
            session.add(
                AllegationStatusChange(
                    allegation_id=row.id,
                    old_status=old,
                    new_status=status,
                    reason=reason,
                    changed_by=actor.username[:120],
                    changed_at=now,
                )
            )
            self.audit.record(
                session,
                AuditEntry(
                    actor=actor.username,
                    action=AuditAction.ALLEGATION_STATUS_CHANGED,
                    object_type="allegation",
                    object_id=row.entity_id,
                    reason=reason,
                    details={"from": old, "to": status},
                ),
            )
        self._changed(allegation_id, status)

    def get(self, allegation_id: str) -> AllegationView:
        """One allegation with its history."""
        with self.db.read() as session:
            row = self._row(session, allegation_id)
            return self._views(session, [row])[0]

    def statuses(self) -> dict[str, str]:
        """The status of every allegation, by id (for matchers that read the register)."""
        with self.db.read() as session:
            rows = session.execute(select(Allegation.entity_id, Allegation.status))
            return {str(entity_id): str(status) for entity_id, status in rows}

    def _changed(self, allegation_id: str, status: str) -> None:
        for callback in self.on_change:
            callback(allegation_id, status)

    @staticmethod
    def _row(session: Session, allegation_id: str) -> Allegation:
        row = None
        if isinstance(allegation_id, str) and len(allegation_id) <= 200:
            row = session.scalar(
                select(Allegation).where(Allegation.entity_id == allegation_id.strip())
            )
        if row is None:
            raise NotFoundError(f"no allegation {str(allegation_id)[:40]!r}")
        return row

    @staticmethod
    def _views(session: Session, rows: Sequence[Allegation]) -> list[AllegationView]:
        if not rows:
            return []
        entries = {
            e.id: e
            for e in session.scalars(
                select(WatchlistEntry).where(WatchlistEntry.id.in_([r.entry_id for r in rows]))
            )
        }
        history: dict[int, list[StatusChange]] = {}
        for change in session.scalars(
            select(AllegationStatusChange)
            .where(AllegationStatusChange.allegation_id.in_([r.id for r in rows]))
            .order_by(AllegationStatusChange.id)
        ):
            history.setdefault(change.allegation_id, []).append(
                StatusChange(
                    change.old_status,
                    change.new_status,
                    change.reason,
                    change.changed_by,
                    change.changed_at,
                )
            )
        views = []
        for row in rows:
            entry = entries[row.entry_id]
            views.append(
                AllegationView(
                    id=row.entity_id,
                    name=entry.name,
                    aliases=tuple(entry.aliases),
                    schema=entry.schema,
                    country=entry.countries[0] if entry.countries else None,
                    identifiers=tuple(entry.identifiers),
                    source_ref=row.source_ref,
                    summary=row.summary,
                    status=row.status,
                    created_by=row.created_by,
                    created_at=row.created_at,
                    status_changed_by=row.status_changed_by,
                    status_changed_at=row.status_changed_at,
                    history=tuple(history.get(row.id, ())),
                )
            )
        return views

    def list(
        self,
        status: str | None = None,
        *,
        source_ref: str | None = None,
        limit: int = 500,
    ) -> Sequence[AllegationView]:
        """Allegations, newest first, optionally of one status or from one source."""
        if status is not None and status not in STATUSES:
            raise ValidationError(f"unknown status {status[:40]!r}", hint=", ".join(STATUSES))
        query = select(Allegation).order_by(Allegation.id.desc()).limit(max(1, min(limit, 5000)))
        if status is not None:
            query = query.where(Allegation.status == status)
        if source_ref:
            query = query.where(Allegation.source_ref == source_ref.strip()[:MAX_SOURCE_REF])
        with self.db.read() as session:
            return self._views(session, session.scalars(query).all())


def ensure_register(session: Session) -> Watchlist:
    """The ``allegations`` list, created on first use."""
    watchlist = session.scalar(select(Watchlist).where(Watchlist.slug == ALLEGATIONS_SLUG))
    if watchlist is None:
        watchlist = Watchlist(
            slug=ALLEGATIONS_SLUG,
            title=ALLEGATIONS_TITLE,
            source="entered by staff from reports and other sources",
            licence="internal",
            kind="allegations",
            created_at=utcnow(),
        )
        session.add(watchlist)
        session.flush()
    elif watchlist.kind != "allegations":
        raise ValidationError(
            f"a list named {ALLEGATIONS_SLUG!r} exists but is of kind {watchlist.kind!r}"
        )
    return watchlist
