"""Watchlists: import versions of a list, keep every entry's history, build a match index.

An import reads the whole file first (:mod:`tipaudit.screening.lists`, strict unless told to
skip bad rows), then compares it with the list's current entries in one unit of work:

* an id not seen before, or seen before but removed, is **added**;
* an id whose content hash differs is **changed** (its fields are updated);
* an active id missing from the new file is **removed**: marked ``removed_in_version_id``,
  never deleted.

The version row keeps the counts, the file's name and SHA-256; the audit event
``watchlist.imported`` records them too (no names: the entries are in the tables).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal, cast, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from tipaudit.audit import AuditAction, AuditEntry
from tipaudit.core.clock import utcnow
from tipaudit.core.countries import resolve_country
from tipaudit.core.roles import Permission
from tipaudit.errors import NotFoundError, ValidationError
from tipaudit.screening import ListEntity, MatchIndex, Query
from tipaudit.screening.lists import FORMATS, MAX_FILE_BYTES, ReadStats, read_list
from tipaudit.screening.model import Schema, normalise_identifier
from tipaudit.services.accounts import StaffUser
from tipaudit.services.audit import AuditLog
from tipaudit.storage.db import Database
from tipaudit.storage.vetting import Allegation
from tipaudit.storage.watchlists import Watchlist, WatchlistEntry, WatchlistVersion

WatchlistKind = Literal["watchlist", "allegations", "sample"]
KINDS: tuple[WatchlistKind, ...] = get_args(WatchlistKind)
#: The slug of the allegations register (see services/allegations.py).
ALLEGATIONS_SLUG = "allegations"
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


@dataclass(frozen=True)
class WatchlistInfo:
    """A list with its newest version."""

    slug: str
    title: str
    source: str
    licence: str
    kind: str
    entries: int
    version_date: date | None
    imported_at: str
    versions: int


@dataclass(frozen=True)
class ImportResult:
    """What one import did."""

    slug: str
    version_id: int
    entries: int
    added: int
    changed: int
    removed: int
    unchanged: int
    ignored: int
    skipped: int
    problems: tuple[str, ...]
    #: Alerts raised by re-screening watched subjects against the new version.
    alerts: int = 0


def content_hash(entity: ListEntity) -> str:
    """SHA-256 of what matching and review read from an entry (list id excluded)."""
    payload = [
        entity.schema,
        list(entity.names),
        list(entity.countries),
        list(entity.identifiers),
        list(entity.birth_dates),
        entity.reason,
        entity.source_url,
    ]
    encoded = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _actor_name(actor: StaffUser | str, permission: Permission) -> str:
    """The audit actor; a staff user must hold ``permission`` (a shell actor is trusted)."""
    if isinstance(actor, StaffUser):
        actor.require(permission)
        return actor.username
    return actor


def _to_entity(row: WatchlistEntry, slug: str) -> ListEntity:
    return ListEntity(
        id=row.entity_id,
        schema=cast(Schema, row.schema),
        names=(row.name, *row.aliases),
        countries=tuple(row.countries),
        identifiers=tuple(row.identifiers),
        birth_dates=tuple(row.birth_dates),
        list_id=slug,
        reason=row.reason,
        source_url=row.source_url,
    )


def _fill(row: WatchlistEntry, entity: ListEntity, digest: str) -> None:
    row.schema = entity.schema
    row.name = entity.names[0]
    row.aliases = list(entity.names[1:])
    row.countries = list(entity.countries)
    row.identifiers = list(entity.identifiers)
    row.birth_dates = list(entity.birth_dates)
    row.reason = entity.reason
    row.source_url = entity.source_url
    row.content_hash = digest


class Watchlists:
    """Use cases for watchlists: import, list, read entries, build an index for screening."""

    def __init__(self, db: Database, audit: AuditLog) -> None:
        self.db = db
        self.audit = audit
        #: Run after an import commits (re-screening, see services/vetting.py); each returns
        #: the number of alerts it raised.
        self.after_import: list[Callable[[ImportResult], int]] = []

    def import_list(
        self,
        actor: StaffUser | str,
        slug: str,
        path: Path,
        fmt: str,
        *,
        title: str = "",
        source: str = "",
        licence: str = "",
        kind: str = "watchlist",
        version_date: date | None = None,
        skip_bad: bool = False,
        max_bytes: int = MAX_FILE_BYTES,
    ) -> ImportResult:
        """Import a version of list ``slug`` from ``path`` (created on its first import)."""
        who = _actor_name(actor, Permission.REFERENCE_DATA_MANAGE)
        _check_import(slug, fmt, kind, title, licence)
        stats = ReadStats()
        parsed = _read_all(path, fmt, slug, skip_bad=skip_bad, max_bytes=max_bytes, stats=stats)
        sha256 = _file_sha256(path)
        with self.db.write() as session:
            if slug == ALLEGATIONS_SLUG and session.scalar(select(Allegation.id).limit(1)):
                raise ValidationError(
                    "the allegations register is kept by staff, entry by entry: importing a "
                    "file would mark its entries removed",
                    hint="use: tipaudit entities allegations add",
                )
            watchlist = session.scalar(select(Watchlist).where(Watchlist.slug == slug))
            if watchlist is None:
                watchlist = Watchlist(slug=slug, kind=kind, created_at=utcnow())
                session.add(watchlist)
            watchlist.title = title or watchlist.title or slug
            watchlist.source = source or watchlist.source or ""
            watchlist.licence = licence or watchlist.licence or ""
            session.flush()
            version = WatchlistVersion(
                watchlist_id=watchlist.id,
                version_date=version_date or utcnow().date(),
                imported_at=utcnow(),
                imported_by=who[:120],
                file_name=path.name[:300],
                sha256=sha256,
                entries=len(parsed),
                added=0,
                changed=0,
                removed=0,
            )
            session.add(version)
            session.flush()
            added, changed, removed = _apply(session, watchlist.id, version.id, parsed)
            version.added, version.changed, version.removed = added, changed, removed
            self.audit.record(
                session,
                AuditEntry(
                    actor=who,
                    action=AuditAction.WATCHLIST_IMPORTED,
                    object_type="watchlist",
                    object_id=slug,
                    details={
                        "version_id": version.id,
                        "file_name": path.name[:200],
                        "sha256": sha256,
                        "format": fmt,
                        "entries": len(parsed),
                        "added": added,
                        "changed": changed,
                        "removed": removed,
                        "ignored": stats.ignored,
                        "skipped": stats.skipped,
                    },
                ),
            )
            result = ImportResult(
                slug=slug,
                version_id=version.id,
                entries=len(parsed),
                added=added,
                changed=changed,
                removed=removed,
                unchanged=len(parsed) - added - changed,
                ignored=stats.ignored,
                skipped=stats.skipped,
                problems=tuple(stats.problems),
            )
        alerts = sum(hook(result) for hook in self.after_import)
        return dataclasses.replace(result, alerts=alerts) if alerts else result

    def lists(self) -> list[WatchlistInfo]:
        """Every list with its active entry count and newest version, by slug."""
        with self.db.read() as session:
            infos = []
            for watchlist in session.scalars(select(Watchlist).order_by(Watchlist.slug)):
                versions = list(
                    session.scalars(
                        select(WatchlistVersion)
                        .where(WatchlistVersion.watchlist_id == watchlist.id)
                        .order_by(WatchlistVersion.id.desc())
                    )
                )
                newest = versions[0] if versions else None
                infos.append(
                    WatchlistInfo(
                        slug=watchlist.slug,
                        title=watchlist.title,
                        source=watchlist.source,
                        licence=watchlist.licence,
                        kind=watchlist.kind,
                        entries=newest.entries if newest else 0,
                        version_date=newest.version_date if newest else None,
                        imported_at=newest.imported_at.isoformat() if newest else "",
                        versions=len(versions),
                    )
                )
            return infos

    def entries(self, slug: str, *, include_removed: bool = False) -> list[ListEntity]:
        """The entries of a list (active ones unless ``include_removed``), by entity id."""
        with self.db.read() as session:
            watchlist = self._get(session, slug)
            query = select(WatchlistEntry).where(WatchlistEntry.watchlist_id == watchlist.id)
            if not include_removed:
                query = query.where(WatchlistEntry.removed_in_version_id.is_(None))
            rows = session.scalars(query.order_by(WatchlistEntry.entity_id))
            return [_to_entity(row, slug) for row in rows]

    def index(self, slugs: Iterable[str]) -> MatchIndex:
        """A match index of the active entries of the given lists.

        An entity id already used by an earlier list is qualified as ``<slug>:<id>`` so that
        both entries are kept.
        """
        wanted = list(dict.fromkeys(s.strip() for s in slugs if s.strip()))
        if not wanted:
            raise ValidationError("name at least one list", hint="see: tipaudit entities lists")

        def entities() -> Iterator[ListEntity]:
            seen: set[str] = set()
            for slug in wanted:
                for entry in self.entries(slug):
                    entity = _qualified(entry) if entry.id in seen else entry
                    seen.add(entity.id)
                    yield entity

        return MatchIndex(entities())

    @staticmethod
    def _get(session: Session, slug: str) -> Watchlist:
        watchlist = session.scalar(select(Watchlist).where(Watchlist.slug == slug))
        if watchlist is None:
            raise NotFoundError(
                f"no list {slug[:70]!r}", hint="see: tipaudit entities lists, or import it"
            )
        return watchlist


def _check_import(slug: str, fmt: str, kind: str, title: str, licence: str) -> None:
    if not _SLUG.match(slug):
        raise ValidationError(
            f"{slug[:70]!r} is not a list name",
            hint="use lower-case letters, digits and dashes, e.g. un-sc",
        )
    if fmt not in FORMATS:
        raise ValidationError(f"unknown format {fmt!r}", hint=f"use {', '.join(FORMATS)}")
    if kind not in KINDS:
        raise ValidationError(f"unknown kind of list {kind!r}", hint=f"use {', '.join(KINDS)}")

    for field, value, limit in (("title", title, 300), ("licence", licence, 300)):
        if len(value) > limit:
            raise ValidationError(f"the {field} may have at most {limit} characters")


def _read_all(
    path: Path, fmt: str, slug: str, *, skip_bad: bool, max_bytes: int, stats: ReadStats
) -> dict[str, ListEntity]:
    """Every entry of the file by id; a repeated id is a bad row."""
    parsed: dict[str, ListEntity] = {}
    for entity in read_list(
        path, fmt, list_id=slug, skip_bad=skip_bad, max_bytes=max_bytes, stats=stats
    ):
        if entity.id in parsed:
            message = f"{path.name}: the id {entity.id!r} appears more than once"
            if not skip_bad:
                raise ValidationError(message)
            stats.note(message)
            continue
        parsed[entity.id] = entity
    if not parsed:
        raise ValidationError(f"{path.name}: no list entries found", hint=_hint(stats))
    return parsed


def _apply(
    session: Session, watchlist_id: int, version_id: int, parsed: dict[str, ListEntity]
) -> tuple[int, int, int]:
    """Bring the entries in line with ``parsed``: (added, changed, removed)."""
    existing = {
        row.entity_id: row
        for row in session.scalars(
            select(WatchlistEntry).where(WatchlistEntry.watchlist_id == watchlist_id)
        )
    }
    added = changed = removed = 0
    for entity_id, entity in parsed.items():
        digest = content_hash(entity)
        row = existing.get(entity_id)
        if row is None:
            row = WatchlistEntry(
                watchlist_id=watchlist_id, entity_id=entity_id, first_version_id=version_id
            )
            _fill(row, entity, digest)
            session.add(row)
            added += 1
        elif row.removed_in_version_id is not None:
            _fill(row, entity, digest)
            row.removed_in_version_id = None
            added += 1
        elif row.content_hash != digest:
            _fill(row, entity, digest)
            changed += 1
        row.last_version_id = version_id
    for entity_id, row in existing.items():
        if entity_id not in parsed and row.removed_in_version_id is None:
            row.removed_in_version_id = version_id
            removed += 1
    return added, changed, removed


def _qualified(entity: ListEntity) -> ListEntity:
    return ListEntity(
        id=f"{entity.list_id}:{entity.id}",
        schema=entity.schema,
        names=entity.names,
        countries=entity.countries,
        identifiers=entity.identifiers,
        birth_dates=entity.birth_dates,
        list_id=entity.list_id,
        reason=entity.reason,
        source_url=entity.source_url,
    )


def _hint(stats: ReadStats) -> str:
    parts = []
    if stats.ignored:
        parts.append(f"{stats.ignored} record(s) of other schemata were ignored")
    if stats.skipped:
        parts.append(f"{stats.skipped} bad row(s) were skipped")
    return "; ".join(parts) or "is this the right --format?"


# --- queries from procurement suppliers ---------------------------------------------------


def run_suppliers(run_folder: Path) -> list[Query]:
    """The distinct suppliers of a procurement screening run, as queries (id = supplier key).

    Reads ``tables/suppliers/*.parquet`` with DuckDB; countries are alpha-3 there and become
    alpha-2; the identifier becomes ``scheme:id``.
    """
    import duckdb

    folder = run_folder / "tables" / "suppliers"
    if not folder.is_dir() or not any(folder.glob("*.parquet")):
        raise NotFoundError(f"the run {run_folder.name} has no supplier table")
    pattern = str(folder / "*.parquet")
    with duckdb.connect() as conn:
        rows = conn.execute(
            "SELECT supplier_key, max(name), max(country), max(identifier_scheme),"
            " max(identifier_id) FROM read_parquet(?) WHERE supplier_key IS NOT NULL"
            " AND name IS NOT NULL GROUP BY supplier_key ORDER BY supplier_key",
            [pattern],
        ).fetchall()
    queries = []
    for key, name, country, scheme, ident in rows:
        resolution = resolve_country(country) if country else None
        countries = (
            (resolution.country.alpha2,) if resolution and resolution.country is not None else ()
        )
        identifier = normalise_identifier(str(ident), str(scheme or "id")) if ident else ""
        queries.append(
            Query(
                id=str(key),
                schema="LegalEntity",
                names=(str(name),),
                countries=countries,
                identifiers=(identifier,) if identifier else (),
            )
        )
    return queries
