"""Property: after any sequence of appends, any single tampering is detected and located.

The chain is signed the way the service signs it (a checkpoint after some commits, always
after the last one). The tampering is applied by someone with database access but without
the signing key. Verification must fail, and must never blame an event before the tampered
one; for the simple tamperings it must name exactly the tampered event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey

from tipaudit.audit import (
    GENESIS_HASH,
    AuditAction,
    AuditRecord,
    CheckpointSigner,
    event_hash,
    format_timestamp,
    record_hash,
    verify_chain,
)

SIGNER = CheckpointSigner(SigningKey(bytes(range(32))))
OTHER = CheckpointSigner(SigningKey(bytes(range(100, 132))))
T0 = datetime(2024, 1, 1, tzinfo=UTC)

event_contents = st.fixed_dictionaries(
    {
        "actor": st.sampled_from(["alice", "bob", "système", "token:ab12"]),
        "action": st.sampled_from([a.value for a in AuditAction]),
        "object_type": st.sampled_from(["user", "token", "approval"]),
        "object_id": st.text(min_size=1, max_size=8),
        "reason": st.none() | st.text(max_size=20),
        "details": st.dictionaries(
            st.text(max_size=5),
            st.none() | st.booleans() | st.integers() | st.text(max_size=5),
            max_size=3,
        ),
    }
)


def _build(contents: list[dict[str, Any]]) -> list[AuditRecord]:
    records: list[AuditRecord] = []
    for seq, content in enumerate(contents, start=1):
        records.append(_link(seq, records[-1].hash if records else GENESIS_HASH, content))
    return records


def _link(seq: int, prev_hash: str, content: dict[str, Any]) -> AuditRecord:
    fields = {
        **content,
        "seq": seq,
        "occurred_at": format_timestamp(T0 + timedelta(seconds=seq)),
        "prev_hash": prev_hash,
    }
    return AuditRecord(**fields, hash=event_hash(**fields))


def _rehash_from(records: list[AuditRecord], index: int) -> list[AuditRecord]:
    """Renumber and relink from ``index`` with correct hashes (a careful attacker)."""
    result = records[:index]
    for position in range(index, len(records)):
        prev = result[-1].hash if result else GENESIS_HASH
        moved = replace(records[position], seq=position + 1, prev_hash=prev)
        result.append(replace(moved, hash=record_hash(moved)))
    return result


def _renumber_from(records: list[AuditRecord], index: int) -> list[AuditRecord]:
    """Renumber from ``index`` without fixing hashes (a careless attacker)."""
    return records[:index] + [
        replace(r, seq=position + 1) for position, r in enumerate(records[index:], start=index)
    ]


def _changed(value: Any) -> Any:
    if isinstance(value, str):
        return value[:-1] + ("0" if value[-1:] != "0" else "1") if len(value) == 64 else value + "x"
    if value is None:
        return "added reason"
    return {**value, "tampered": True}


@dataclass
class Tampered:
    records: list[AuditRecord]
    extra_checkpoints: list[Any]
    first_bad: int  # no problem may be reported before this seq
    exact: bool  # whether the first problem must be exactly at first_bad


EDITABLE = ["actor", "action", "object_type", "object_id", "reason", "details", "occurred_at"]
EDITABLE_LINKS = ["prev_hash", "hash"]


def _edit(chain: list[AuditRecord], data: st.DataObject) -> Tampered:
    index = data.draw(st.integers(0, len(chain) - 1), label="edited index")
    field = data.draw(st.sampled_from(EDITABLE + EDITABLE_LINKS), label="field")
    records = list(chain)
    records[index] = replace(records[index], **{field: _changed(getattr(records[index], field))})
    return Tampered(records, [], index + 1, exact=True)


def _edit_and_rehash_one(chain: list[AuditRecord], data: st.DataObject) -> Tampered:
    index = data.draw(st.integers(0, len(chain) - 1), label="edited index")
    field = data.draw(st.sampled_from(EDITABLE), label="field")
    records = list(chain)
    edited = replace(records[index], **{field: _changed(getattr(records[index], field))})
    records[index] = replace(edited, hash=record_hash(edited))
    return Tampered(records, [], index + 1, exact=False)


def _rewrite_from(chain: list[AuditRecord], data: st.DataObject) -> Tampered:
    index = data.draw(st.integers(0, len(chain) - 1), label="rewritten from index")
    field = data.draw(st.sampled_from(EDITABLE), label="field")
    records = list(chain)
    records[index] = replace(records[index], **{field: _changed(getattr(records[index], field))})
    return Tampered(_rehash_from(records, index), [], index + 1, exact=False)


def _delete(chain: list[AuditRecord], data: st.DataObject) -> Tampered:
    index = data.draw(st.integers(0, len(chain) - 1), label="deleted index")
    return Tampered(chain[:index] + chain[index + 1 :], [], index + 1, exact=True)


def _delete_and_renumber(chain: list[AuditRecord], data: st.DataObject) -> Tampered:
    index = data.draw(st.integers(0, len(chain) - 1), label="deleted index")
    careful = data.draw(st.booleans(), label="rehash")
    records = chain[:index] + chain[index + 1 :]
    fixed = _rehash_from(records, index) if careful else _renumber_from(records, index)
    return Tampered(fixed, [], index + 1, exact=False)


def _truncate(chain: list[AuditRecord], data: st.DataObject) -> Tampered:
    index = data.draw(st.integers(0, len(chain) - 1), label="truncated from index")
    return Tampered(chain[:index], [], index + 1, exact=True)


def _swap(chain: list[AuditRecord], data: st.DataObject) -> Tampered:
    if len(chain) < 2:
        return _edit(chain, data)
    i = data.draw(st.integers(0, len(chain) - 2), label="first swapped index")
    j = data.draw(st.integers(i + 1, len(chain) - 1), label="second swapped index")
    records = list(chain)
    records[i], records[j] = replace(chain[j], seq=i + 1), replace(chain[i], seq=j + 1)
    return Tampered(records, [], i + 1, exact=True)


def _insert(chain: list[AuditRecord], data: st.DataObject) -> Tampered:
    index = data.draw(st.integers(0, len(chain)), label="insert at index")
    content = data.draw(event_contents, label="forged event")
    careful = data.draw(st.booleans(), label="rehash")
    prev = chain[index - 1].hash if index else GENESIS_HASH
    forged = _link(index + 1, prev, content)
    records = [*chain[:index], forged, *chain[index:]]
    fixed = _rehash_from(records, index + 1) if careful else _renumber_from(records, index + 1)
    return Tampered(fixed, [], index + 1, exact=False)


def _forge_checkpoint(chain: list[AuditRecord], data: st.DataObject) -> Tampered:
    seq = data.draw(st.integers(1, len(chain) + 3), label="forged checkpoint seq")
    forged = OTHER.sign(seq, "ab" * 32, now=T0)
    return Tampered(list(chain), [forged], seq, exact=True)


TAMPERINGS: dict[str, Callable[[list[AuditRecord], st.DataObject], Tampered]] = {
    "edit": _edit,
    "edit_and_rehash_one": _edit_and_rehash_one,
    "rewrite_from": _rewrite_from,
    "delete": _delete,
    "delete_and_renumber": _delete_and_renumber,
    "truncate": _truncate,
    "swap": _swap,
    "insert": _insert,
    "forge_checkpoint": _forge_checkpoint,
}


@settings(max_examples=400, deadline=None)
@given(
    contents=st.lists(event_contents, min_size=1, max_size=10),
    tampering=st.sampled_from(sorted(TAMPERINGS)),
    data=st.data(),
)
def test_any_single_tampering_is_detected_and_located(
    contents: list[dict[str, Any]], tampering: str, data: st.DataObject
) -> None:
    """Random appends, random signed commits, one random tampering: always detected."""
    chain = _build(contents)
    signed = data.draw(st.sets(st.integers(1, len(chain))), label="signed seqs") | {len(chain)}
    checkpoints = [SIGNER.sign(seq, chain[seq - 1].hash, now=T0) for seq in sorted(signed)]
    assert verify_chain(chain, checkpoints, SIGNER.verify_key, head=(len(chain), chain[-1].hash)).ok

    tampered = TAMPERINGS[tampering](chain, data)
    records = tampered.records
    # The attacker also moves the head row to match what they left behind.
    head = (records[-1].seq, records[-1].hash) if records else (0, GENESIS_HASH)
    report = verify_chain(
        records, [*checkpoints, *tampered.extra_checkpoints], SIGNER.verify_key, head=head
    )

    assert not report.ok
    first = report.first_problem
    assert first is not None
    assert first.seq is not None
    assert first.seq >= tampered.first_bad, first
    if tampered.exact:
        assert tampered.first_bad == first.seq, report.problems
