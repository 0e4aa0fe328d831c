"""The hash chain encoding and the audit event types (pure, no database)."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from tipaudit.audit import (
    GENESIS_HASH,
    AuditAction,
    AuditEntry,
    AuditRecord,
    canonical_json,
    event_hash,
    format_timestamp,
    record_hash,
)
from tipaudit.errors import ValidationError

FIELDS: dict[str, Any] = {
    "seq": 7,
    "occurred_at": "2024-05-01T10:00:00.000000+00:00",
    "actor": "alice",
    "action": "user.roles_changed",
    "object_type": "user",
    "object_id": "bob",
    "reason": "joined the vetting team",
    "details": {"before": ["auditor"], "after": ["auditor", "vetting_officer"]},
    "prev_hash": "ab" * 32,
}


def test_genesis_hash_is_64_zeros() -> None:
    """The first event links to a well-known all-zero hash."""
    assert "0" * 64 == GENESIS_HASH


def test_event_hash_is_sha256_of_version_tag_and_canonical_json() -> None:
    """The hash is SHA-256 over ``tipaudit-audit-v1\\n`` + canonical JSON of the fields."""
    payload = json.dumps(
        [FIELDS[name] for name in FIELDS],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    expected = hashlib.sha256(("tipaudit-audit-v1\n" + payload).encode()).hexdigest()
    assert expected == event_hash(**FIELDS)


def test_event_hash_known_answer() -> None:
    """The encoding is frozen: changing it would orphan every stored chain."""
    assert "36e169b4094ed474954fb9b19d20f4224f1a6bc103400725f7970e590b40582c" == event_hash(
        **FIELDS
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("seq", 8),
        ("occurred_at", "2024-05-01T10:00:00.000001+00:00"),
        ("actor", "mallory"),
        ("action", "user.created"),
        ("object_type", "token"),
        ("object_id", "carol"),
        ("reason", None),
        ("details", {"before": ["auditor"], "after": ["administrator"]}),
        ("prev_hash", "cd" * 32),
    ],
)
def test_every_field_changes_the_hash(name: str, value: object) -> None:
    """Each hashed field, the seq and the previous hash included, changes the hash."""
    assert event_hash(**FIELDS) != event_hash(**{**FIELDS, name: value})


def test_details_key_order_does_not_matter() -> None:
    """Details are hashed with sorted keys, so insertion order is irrelevant."""
    reordered = {"after": FIELDS["details"]["after"], "before": FIELDS["details"]["before"]}
    assert event_hash(**FIELDS) == event_hash(**{**FIELDS, "details": reordered})


def test_action_enum_and_text_hash_alike() -> None:
    """An AuditAction and its text value produce the same hash (records hold plain text)."""
    assert event_hash(**FIELDS) == event_hash(
        **{**FIELDS, "action": AuditAction.USER_ROLES_CHANGED}
    )


def test_canonical_json_keeps_unicode_and_sorts_keys() -> None:
    """Canonical JSON is compact, sorted and real UTF-8 (no \\u escapes)."""
    assert '{"a":"é","b":[1,2]}' == canonical_json({"b": [1, 2], "a": "é"})


def test_canonical_json_rejects_nan() -> None:
    """NaN has no JSON form, so it cannot be hashed."""
    with pytest.raises(ValueError, match="JSON"):
        canonical_json({"x": math.nan})


def test_record_hash_matches_event_hash() -> None:
    """``record_hash`` recomputes a stored record's hash from its fields."""
    record = AuditRecord(**FIELDS, hash="")
    assert event_hash(**FIELDS) == record_hash(record)
    assert record_hash(record) != record_hash(replace(record, actor="mallory"))


def test_format_timestamp_is_utc_with_microseconds() -> None:
    """Timestamps are stored as UTC ISO-8601 text with microseconds, whatever the input zone."""
    moment = datetime(2024, 5, 1, 12, 0, 0, 5, tzinfo=timezone(timedelta(hours=2)))
    assert "2024-05-01T10:00:00.000005+00:00" == format_timestamp(moment)


def test_format_timestamp_rejects_naive_datetimes() -> None:
    """A naive datetime has no defined instant and is refused."""
    with pytest.raises(ValidationError):
        format_timestamp(datetime(2024, 5, 1))  # noqa: DTZ001 - the point of the test


# -- AuditEntry ----------------------------------------------------------------------------


def _entry(**changes: Any) -> AuditEntry:
    fields: dict[str, Any] = {
        "actor": "alice",
        "action": AuditAction.USER_CREATED,
        "object_type": "user",
        "object_id": "bob",
        "reason": None,
        "details": {},
    }
    fields.update(changes)
    return AuditEntry(**fields)


def test_entry_accepts_action_text_and_normalises_to_enum() -> None:
    """A known action given as text becomes the AuditAction member."""
    assert AuditAction.USER_CREATED is _entry(action="user.created").action


def test_entry_rejects_unknown_action() -> None:
    """Only declared actions can be recorded: typos must not reach the log."""
    with pytest.raises(ValidationError, match="unknown audit action"):
        _entry(action="user.creatd")


@pytest.mark.parametrize(
    "details",
    [
        {"when": datetime(2024, 1, 1, tzinfo=UTC)},
        {"ids": {1, 2}},
        {"blob": b"bytes"},
        {"x": math.inf},
        {"nested": {"ok": [1, object()]}},
        {1: "integer key"},
    ],
)
def test_entry_rejects_non_json_details(details: dict[Any, Any]) -> None:
    """Details that JSON cannot represent exactly are refused with ValidationError."""
    with pytest.raises(ValidationError):
        _entry(details=details)


def test_entry_rejects_details_that_are_too_large() -> None:
    """Details are for identifiers and short facts; a document-sized payload is refused."""
    with pytest.raises(ValidationError, match="larger than"):
        _entry(details={"text": "x" * 20_000})


def test_entry_details_are_a_frozen_json_copy() -> None:
    """Tuples read back as lists, and the caller's later changes do not leak into the entry."""
    source: dict[str, Any] = {"roles": ("a", "b")}
    entry = _entry(details=source)
    source["roles"] = ("changed",)
    assert {"roles": ["a", "b"]} == dict(entry.details)
    with pytest.raises(TypeError):
        entry.details["roles"] = []  # type: ignore[index]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("actor", ""),
        ("actor", "   "),
        ("actor", "a" * 121),
        ("object_type", ""),
        ("object_id", "two\nlines"),
        ("object_id", "nul\x00"),
        ("reason", "nul\x00"),
        ("reason", "r" * 4001),
    ],
)
def test_entry_rejects_bad_text_fields(name: str, value: str) -> None:
    """Identifiers are non-empty, single-line and fit their columns; no NUL anywhere."""
    with pytest.raises(ValidationError):
        _entry(**{name: value})


def test_record_describe_and_to_dict() -> None:
    """A record describes itself for people and serialises to plain JSON."""
    record = AuditRecord(**FIELDS, hash="ef" * 32)
    assert "user.roles_changed by alice at 2024-05-01T10:00:00.000000+00:00" == record.describe()
    assert {**FIELDS, "hash": "ef" * 32} == json.loads(json.dumps(record.to_dict()))
    assert datetime(2024, 5, 1, 10, tzinfo=UTC) == record.occurred_at_datetime
