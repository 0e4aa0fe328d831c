"""Audit events in the database: appending to the chain and reading it back.

Appends are serialised by locking the single :class:`AuditHead` row (``SELECT … FOR UPDATE`` on
PostgreSQL; on SQLite the write transaction already holds the database's write lock through
``BEGIN IMMEDIATE``), so two writers can never take the same seq or link to the same previous
event. Use an :class:`AuditStore` on a session from :meth:`Database.write` for appends.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tipaudit.audit.chain import GENESIS_HASH, canonical_json, event_hash
from tipaudit.audit.events import AuditEntry, AuditRecord, format_timestamp
from tipaudit.errors import AuditIntegrityError, ValidationError
from tipaudit.storage.models import AuditEvent, AuditHead

HEAD_ID = 1
UNREADABLE_DETAILS_KEY = "__unreadable_details__"
"""Stored details that are not a JSON object are read back under this key (and fail the hash)."""

_COLUMNS = (
    AuditEvent.seq,
    AuditEvent.occurred_at,
    AuditEvent.actor,
    AuditEvent.action,
    AuditEvent.object_type,
    AuditEvent.object_id,
    AuditEvent.reason,
    AuditEvent.details,
    AuditEvent.prev_hash,
    AuditEvent.hash,
)


def _details_from_text(text: str) -> Mapping[str, Any]:
    # A tampered row may hold anything; verification must report it, not crash on it.
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        value = None
    if not isinstance(value, dict):
        value = {UNREADABLE_DETAILS_KEY: text}
    return MappingProxyType(value)


def _record_from_row(row: Any) -> AuditRecord:
    # ``Any``: Row's generic parameters differ between SQLAlchemy 2.0 and 2.1.
    return AuditRecord(
        seq=row.seq,
        occurred_at=row.occurred_at,
        actor=row.actor,
        action=row.action,
        object_type=row.object_type,
        object_id=row.object_id,
        reason=row.reason,
        details=_details_from_text(row.details),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


class AuditStore:
    """Reads and appends audit events through one SQLAlchemy session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- writing ---------------------------------------------------------------------------
    def append(self, entry: AuditEntry, *, now: datetime | None = None) -> AuditRecord:
        """Append ``entry`` as the next event of the chain and return the stored record.

        Must run in a write unit of work; the head row stays locked until it commits, so
        concurrent appenders queue behind it. ``now`` (timezone-aware) is for tests.
        """
        if now is not None and (now.tzinfo is None or now.utcoffset() is None):
            raise ValidationError("audit timestamps must be timezone-aware")
        head = self._lock_head()
        seq = head.seq + 1
        occurred_at = format_timestamp(now or datetime.now(UTC))
        details_text = canonical_json(entry.details)
        digest = event_hash(
            seq=seq,
            occurred_at=occurred_at,
            actor=entry.actor,
            action=entry.action,
            object_type=entry.object_type,
            object_id=entry.object_id,
            reason=entry.reason,
            details=entry.details,
            prev_hash=head.hash,
        )
        self.session.add(
            AuditEvent(
                seq=seq,
                occurred_at=occurred_at,
                actor=entry.actor,
                action=str(entry.action),
                object_type=entry.object_type,
                object_id=entry.object_id,
                reason=entry.reason,
                details=details_text,
                prev_hash=head.hash,
                hash=digest,
            )
        )
        record = AuditRecord(
            seq=seq,
            occurred_at=occurred_at,
            actor=entry.actor,
            action=str(entry.action),
            object_type=entry.object_type,
            object_id=entry.object_id,
            reason=entry.reason,
            details=entry.details,
            prev_hash=head.hash,
            hash=digest,
        )
        head.seq, head.hash = seq, digest
        self.session.flush()
        return record

    def _select_head_for_update(self) -> AuditHead | None:
        statement = (
            select(AuditHead)
            .where(AuditHead.id == HEAD_ID)
            .with_for_update()
            # Another transaction may have moved the head since this session last loaded it.
            .execution_options(populate_existing=True)
        )
        return self.session.execute(statement).scalar_one_or_none()

    def _lock_head(self) -> AuditHead:
        head = self._select_head_for_update()
        if head is not None:
            return head
        # First append ever. If events exist the head row was deleted: appending from seq 1
        # again would fork the chain, so stop and let verification explain.
        if self.session.scalar(select(func.count()).select_from(AuditEvent)):
            raise AuditIntegrityError(
                "the audit head record is missing although the audit log holds events",
                hint="run `tipaudit audit verify`",
            )
        try:
            # A savepoint, so that losing the creation race does not abort the transaction.
            with self.session.begin_nested():
                self.session.add(AuditHead(id=HEAD_ID, seq=0, hash=GENESIS_HASH))
        except IntegrityError:
            pass  # a concurrent first append created it; lock theirs below
        head = self._select_head_for_update()
        if head is None:  # pragma: no cover - the row was just created or seen
            raise AuditIntegrityError("the audit head record could not be created")
        return head

    # -- reading ---------------------------------------------------------------------------
    def head(self) -> tuple[int, str] | None:
        """``(seq, hash)`` of the head record, or ``None`` before the first event."""
        row = self.session.execute(
            select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == HEAD_ID)
        ).one_or_none()
        return None if row is None else (row.seq, row.hash)

    def count(self) -> int:
        """Number of stored events."""
        return int(self.session.scalar(select(func.count()).select_from(AuditEvent)) or 0)

    def get(self, seq: int) -> AuditRecord | None:
        """The event with ``seq``, if it exists."""
        row = self.session.execute(select(*_COLUMNS).where(AuditEvent.seq == seq)).one_or_none()
        return None if row is None else _record_from_row(row)

    def iter_records(self, batch_size: int = 1000, *, after_seq: int = 0) -> Iterator[AuditRecord]:
        """Every event with seq > ``after_seq``, in seq order, fetched ``batch_size`` at a time.

        Keyset pagination (``WHERE seq > last``) keeps each batch an index range scan however
        long the log is, and plain rows (not ORM objects) keep the session's memory flat.
        """
        if batch_size < 1:
            raise ValueError("batch_size must be positive")
        last = after_seq
        while True:
            rows = self.session.execute(
                select(*_COLUMNS)
                .where(AuditEvent.seq > last)
                .order_by(AuditEvent.seq)
                .limit(batch_size)
            ).all()
            for row in rows:
                yield _record_from_row(row)
            if len(rows) < batch_size:
                return
            last = rows[-1].seq

    def events_for(self, object_type: str, object_id: str) -> list[AuditRecord]:
        """The history of one object, oldest first."""
        rows = self.session.execute(
            select(*_COLUMNS)
            .where(AuditEvent.object_type == object_type, AuditEvent.object_id == object_id)
            .order_by(AuditEvent.seq)
        ).all()
        return [_record_from_row(row) for row in rows]

    def recent(
        self,
        limit: int = 50,
        *,
        action: str | None = None,
        actor: str | None = None,
        object_type: str | None = None,
        object_id: str | None = None,
    ) -> list[AuditRecord]:
        """The newest events first, optionally filtered by action, actor and object."""
        statement = select(*_COLUMNS)
        if action is not None:
            statement = statement.where(AuditEvent.action == action)
        if actor is not None:
            statement = statement.where(AuditEvent.actor == actor)
        if object_type is not None:
            statement = statement.where(AuditEvent.object_type == object_type)
        if object_id is not None:
            statement = statement.where(AuditEvent.object_id == object_id)
        rows = self.session.execute(
            statement.order_by(AuditEvent.seq.desc()).limit(max(limit, 0))
        ).all()
        return [_record_from_row(row) for row in rows]
