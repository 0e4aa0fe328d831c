"""The hash chain: how one audit event's hash is computed. Pure functions, no I/O.

Each event's hash covers its sequence number, its contents and the previous event's hash, so
changing, removing, reordering or inserting any event changes every later hash. The bytes hashed
are a version tag followed by canonical JSON, so that the encoding can evolve without ambiguity
and a hash from this chain can never be confused with a hash of something else.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Protocol

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first event (seq 1), and the head hash of an empty chain."""

HASH_VERSION_TAG = "tipaudit-audit-v1\n"
"""Domain separation prefix of every event hash (version 1 of the encoding)."""


def canonical_json(value: object) -> str:
    """Encode ``value`` the one way the chain hashes it: sorted keys, no spaces, real UTF-8.

    Raises :class:`TypeError` or :class:`ValueError` for values JSON cannot represent
    (including NaN and infinities).
    """
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_mapping_default,
    )


def _mapping_default(value: object) -> object:
    # Frozen details are MappingProxyType, which the json module does not know.
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def event_hash(
    *,
    seq: int,
    occurred_at: str,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    reason: str | None,
    details: Mapping[str, Any],
    prev_hash: str,
) -> str:
    """SHA-256 (hex) of one event: the version tag, then the canonical JSON of its fields."""
    payload = canonical_json(
        [
            seq,
            occurred_at,
            actor,
            str(action),  # an AuditAction and its text value must hash the same
            object_type,
            object_id,
            reason,
            details,
            prev_hash,
        ]
    )
    # surrogatepass: text read back from a tampered database must still hash (to a wrong value)
    # rather than crash the verifier.
    data = (HASH_VERSION_TAG + payload).encode("utf-8", errors="surrogatepass")
    return hashlib.sha256(data).hexdigest()


class HashableEvent(Protocol):
    """Anything with an audit event's hashed fields (an :class:`~.events.AuditRecord`)."""

    @property
    def seq(self) -> int: ...
    @property
    def occurred_at(self) -> str: ...
    @property
    def actor(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def object_type(self) -> str: ...
    @property
    def object_id(self) -> str: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def details(self) -> Mapping[str, Any]: ...
    @property
    def prev_hash(self) -> str: ...


def record_hash(record: HashableEvent) -> str:
    """Recompute the hash a stored event should have from its contents and ``prev_hash``."""
    return event_hash(
        seq=record.seq,
        occurred_at=record.occurred_at,
        actor=record.actor,
        action=record.action,
        object_type=record.object_type,
        object_id=record.object_id,
        reason=record.reason,
        details=record.details,
        prev_hash=record.prev_hash,
    )
