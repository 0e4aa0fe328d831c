"""Verification of in-memory chains: every kind of tampering is found and located.

The chains here are built the way :class:`AuditStore` builds them; tampering is applied the
way someone with database access (but not the signing key) could apply it.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from nacl.signing import SigningKey

from tipaudit.audit import (
    GENESIS_HASH,
    AuditRecord,
    Checkpoint,
    CheckpointLog,
    CheckpointSigner,
    MalformedCheckpoint,
    ProblemKind,
    VerificationReport,
    event_hash,
    format_timestamp,
    key_id_of,
    load_verify_key,
    public_key_path,
    verify_chain,
)
from tipaudit.errors import ConfigurationError

SIGNER = CheckpointSigner(SigningKey(bytes(range(32))))
OTHER = CheckpointSigner(SigningKey(bytes(range(1, 33))))
T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
ACTORS = ["alice", "bob", "carol"]


def make_record(
    seq: int,
    prev_hash: str,
    *,
    actor: str | None = None,
    action: str = "user.roles_changed",
    object_id: str | None = None,
    details: dict[str, object] | None = None,
    reason: str | None = None,
) -> AuditRecord:
    """A correctly hashed record, as the store would write it."""
    fields = {
        "seq": seq,
        "occurred_at": format_timestamp(T0 + timedelta(minutes=seq)),
        "actor": actor or ACTORS[seq % len(ACTORS)],
        "action": action,
        "object_type": "user",
        "object_id": object_id or f"user{seq}",
        "reason": reason,
        "details": details if details is not None else {"n": seq},
        "prev_hash": prev_hash,
    }
    return AuditRecord(**fields, hash=event_hash(**fields))  # type: ignore[arg-type]


def build_chain(n: int) -> list[AuditRecord]:
    """An intact chain of ``n`` events."""
    records: list[AuditRecord] = []
    for seq in range(1, n + 1):
        records.append(make_record(seq, records[-1].hash if records else GENESIS_HASH))
    return records


def rehash(records: Sequence[AuditRecord], start: int = 0) -> list[AuditRecord]:
    """Renumber and relink from index ``start`` with correct hashes (an attacker's rewrite)."""
    result = list(records[:start])
    for index in range(start, len(records)):
        prev = result[-1].hash if result else GENESIS_HASH
        fixed = replace(records[index], seq=index + 1, prev_hash=prev)
        result.append(replace(fixed, hash=_hash(fixed)))
    return result


def _hash(record: AuditRecord) -> str:
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


def sign(
    records: Sequence[AuditRecord], *seqs: int, signer: CheckpointSigner = SIGNER
) -> list[Checkpoint]:
    """Checkpoints of ``records`` at ``seqs`` (all seqs when none are given)."""
    by_seq = {r.seq: r for r in records}
    chosen = seqs or tuple(by_seq)
    return [signer.sign(seq, by_seq[seq].hash, now=T0 + timedelta(hours=1)) for seq in chosen]


def head_of(records: Sequence[AuditRecord]) -> tuple[int, str]:
    return (records[-1].seq, records[-1].hash) if records else (0, GENESIS_HASH)


def verify(
    records: Sequence[AuditRecord],
    checkpoints: Sequence[Checkpoint],
    *,
    head: tuple[int, str] | None = None,
    malformed: Sequence[MalformedCheckpoint] = (),
) -> VerificationReport:
    """Verify with the right key; the head defaults to what the records end with."""
    return verify_chain(
        records,
        checkpoints,
        SIGNER.verify_key,
        head=head_of(records) if head is None else head,
        malformed_checkpoints=malformed,
    )


def found(report: VerificationReport) -> list[tuple[str, int | None]]:
    return [(str(p.kind), p.seq) for p in report.problems]


# -- intact chains -------------------------------------------------------------------------


def test_intact_chain_verifies() -> None:
    """A chain with a checkpoint per event verifies with no problem."""
    chain = build_chain(6)
    report = verify(chain, sign(chain))
    assert (True, 6, 6, 6, 6, chain[-1].hash, []) == (
        report.ok,
        report.events_checked,
        report.checkpoints_checked,
        report.last_seq,
        report.signed_seq,
        report.last_hash,
        report.problems,
    )
    assert report.first_problem is None
    assert "intact" in report.summary()


def test_empty_log_verifies() -> None:
    """An empty log with no checkpoints is intact, with or without a genesis head row."""
    for head in (None, (0, GENESIS_HASH)):
        report = verify_chain([], [], SIGNER.verify_key, head=head)
        assert (True, 0, GENESIS_HASH) == (report.ok, report.last_seq, report.last_hash)


def test_verification_streams_a_one_shot_iterator() -> None:
    """Events may come from a generator read once (the store's keyset pagination)."""
    chain = build_chain(50)

    def stream() -> Iterator[AuditRecord]:
        yield from chain

    report = verify_chain(stream(), sign(chain, 25, 50), SIGNER.verify_key, head=head_of(chain))
    assert (True, 50) == (report.ok, report.events_checked)


# -- edits ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("actor", "mallory"),
        ("action", "user.created"),
        ("object_type", "token"),
        ("object_id", "someone-else"),
        ("reason", "a different reason"),
        ("details", {"n": 999}),
        ("occurred_at", "2020-01-01T00:00:00.000000+00:00"),
    ],
)
def test_edited_field_is_found(field: str, value: Any) -> None:
    """Changing any field of event 3 is reported as ``edited`` at seq 3, and nothing else."""
    chain = build_chain(6)
    checkpoints = sign(chain)
    chain[2] = replace(chain[2], **{field: value})
    report = verify(chain, checkpoints)
    assert [("edited", 3)] == found(report)
    assert report.first_problem is not None
    assert "was edited: its contents no longer match its hash" in report.first_problem.message
    assert report.first_problem.message.startswith("event 3 (")


def test_edit_message_names_action_actor_and_time() -> None:
    """The message tells people which event: action, actor and time as stored."""
    chain = build_chain(4)
    chain[1] = replace(chain[1], actor="mallory")
    report = verify(chain, sign(build_chain(4)))
    assert report.first_problem is not None
    assert (
        "event 2 (user.roles_changed by mallory at 2024-05-01T10:02:00.000000+00:00) was "
        "edited: its contents no longer match its hash"
    ) == report.first_problem.message


def test_edit_with_recomputed_hash_breaks_the_next_link() -> None:
    """Re-hashing an edited event hides the edit but breaks the link from the next event."""
    chain = build_chain(6)
    checkpoints = sign(chain, 6)
    edited = replace(chain[2], actor="mallory")
    chain[2] = replace(edited, hash=_hash(edited))
    assert [("broken_link", 4)] == found(verify(chain, checkpoints))


# -- deletions and truncation --------------------------------------------------------------


def test_deleted_middle_event_is_missing() -> None:
    """Deleting event 3 leaves a gap reported as ``missing`` at seq 3."""
    chain = build_chain(6)
    checkpoints = sign(chain, 6)
    del chain[2]
    report = verify(chain, checkpoints)
    assert [("missing", 3)] == found(report)
    assert report.first_problem is not None
    assert "event 3 is missing" in report.first_problem.message


def test_deleted_range_is_named() -> None:
    """Several consecutive deleted events are reported as one range."""
    chain = build_chain(8)
    checkpoints = sign(chain, 8)
    del chain[2:5]
    report = verify(chain, checkpoints)
    assert [("missing", 3)] == found(report)
    assert report.first_problem is not None
    assert "events 3 to 5 are missing" in report.first_problem.message


def test_deleted_first_event_is_missing() -> None:
    """Deleting event 1 is reported as ``missing`` at seq 1."""
    chain = build_chain(4)
    checkpoints = sign(chain, 4)
    del chain[0]
    report = verify(chain, checkpoints)
    assert [("missing", 1)] == found(report)
    assert report.first_problem is not None
    assert "event 1 is missing: the log starts at event 2" in report.first_problem.message


def test_unencodable_contents_count_as_edited() -> None:
    """Contents that cannot even be hashed (NaN planted in details) are an edit, not a crash."""
    chain = build_chain(3)
    checkpoints = sign(chain)
    chain[1] = replace(chain[1], details={"n": float("nan")})
    assert [("edited", 2)] == found(verify(chain, checkpoints))


def test_truncation_is_found_against_checkpoints() -> None:
    """Deleting the last events (and moving the head row back) contradicts the checkpoints."""
    chain = build_chain(6)
    checkpoints = sign(chain)
    del chain[4:]
    report = verify(chain, checkpoints, head=head_of(chain))
    assert [("truncated", 5)] == found(report)
    assert report.first_problem is not None
    assert "events 5 to 6 were deleted from the end" in report.first_problem.message


def test_truncation_is_found_against_the_head_row() -> None:
    """Deleting unsigned last events is still caught when the head row names them."""
    chain = build_chain(6)
    checkpoints = sign(chain, 4)
    original_head = head_of(chain)
    del chain[4:]
    report = verify(chain, checkpoints, head=original_head)
    assert [("truncated", 5)] == found(report)
    assert report.first_problem is not None
    assert "head record names event 6" in report.first_problem.message


def test_deleting_every_event_is_truncation() -> None:
    """An emptied log with checkpoints is truncated from event 1."""
    chain = build_chain(3)
    report = verify_chain([], sign(chain), SIGNER.verify_key, head=None)
    assert [("truncated", 1)] == found(report)


# -- reordering and insertion --------------------------------------------------------------


def test_swapped_events_are_found() -> None:
    """Swapping events 3 and 4 (exchanging their seqs) is found at seq 3."""
    chain = build_chain(6)
    checkpoints = sign(chain, 6)
    third, fourth = chain[2], chain[3]
    chain[2], chain[3] = replace(fourth, seq=3), replace(third, seq=4)
    report = verify(chain, checkpoints)
    assert [("edited", 3), ("broken_link", 3)] == found(report)


def test_swapped_and_rehashed_events_contradict_a_checkpoint() -> None:
    """A reorder that is re-hashed consistently contradicts the next signed checkpoint."""
    chain = build_chain(6)
    checkpoints = sign(chain)
    chain[2], chain[3] = chain[3], chain[2]
    chain = rehash(chain, start=2)
    assert [("checkpoint_mismatch", 3)] == found(verify(chain, checkpoints))


def test_out_of_order_input_is_a_broken_link() -> None:
    """Events that do not arrive in increasing seq order are reported, not trusted."""
    chain = build_chain(4)
    checkpoints = sign(chain)
    shuffled = [chain[0], chain[2], chain[1], chain[3]]
    report = verify(shuffled, checkpoints)
    assert ("missing", 2) == found(report)[0]
    assert ("broken_link", 2) in found(report)


def test_inserted_event_with_renumbering_is_found() -> None:
    """A forged event inserted at seq 3 (later events renumbered) is named at seq 3."""
    chain = build_chain(6)
    checkpoints = sign(chain)  # the service signs after every commit
    forged = make_record(3, chain[1].hash, actor="mallory", action="user.created")
    renumbered = [replace(r, seq=r.seq + 1) for r in chain[2:]]
    tampered = [*chain[:2], forged, *renumbered]
    report = verify(tampered, checkpoints)
    assert ("checkpoint_mismatch", 3) == found(report)[0]
    assert {("edited", 4), ("broken_link", 4), ("unsigned_tail", 7)} <= set(found(report))


def test_inserted_event_with_full_rehash_is_found() -> None:
    """Even a fully re-hashed insertion contradicts the signed checkpoint at its seq."""
    chain = build_chain(6)
    checkpoints = sign(chain)
    forged = make_record(3, chain[1].hash, actor="mallory", action="user.created")
    tampered = rehash([*chain[:2], forged, *chain[2:]], start=2)
    assert [("checkpoint_mismatch", 3), ("unsigned_tail", 7)] == found(
        verify(tampered, checkpoints)
    )


def test_inserted_event_between_sparse_checkpoints_breaks_links() -> None:
    """Without a checkpoint at the insertion point, the renumbered next event is named."""
    chain = build_chain(6)
    checkpoints = sign(chain, 6)
    forged = make_record(3, chain[1].hash, actor="mallory")
    tampered = [*chain[:2], forged, *[replace(r, seq=r.seq + 1) for r in chain[2:]]]
    report = verify(tampered, checkpoints)
    assert ("edited", 4) == found(report)[0]
    assert ("broken_link", 4) == found(report)[1]


# -- appending and rewriting without the key -----------------------------------------------


def test_forged_event_appended_with_correct_hash_is_an_unsigned_tail() -> None:
    """An event appended with a valid hash but no checkpoint is reported as ``unsigned_tail``."""
    chain = build_chain(6)
    checkpoints = sign(chain)
    chain.append(make_record(7, chain[-1].hash, actor="mallory", action="user.created"))
    report = verify(chain, checkpoints)  # the attacker also moved the head row
    assert [("unsigned_tail", 7)] == found(report)
    assert report.first_problem is not None
    assert "`tipaudit audit checkpoint`" in report.first_problem.message


def test_forged_event_appended_without_moving_the_head() -> None:
    """Appending behind tipaudit's back also leaves the head row behind."""
    chain = build_chain(6)
    checkpoints = sign(chain)
    old_head = head_of(chain)
    chain.append(make_record(7, chain[-1].hash, actor="mallory"))
    assert [("head_mismatch", 7), ("unsigned_tail", 7)] == found(
        verify(chain, checkpoints, head=old_head)
    )


def test_chain_rewritten_from_scratch_contradicts_the_checkpoints() -> None:
    """A whole new chain with correct hashes is caught by the first signed checkpoint."""
    chain = build_chain(6)
    checkpoints = sign(chain, 2, 4, 6)
    rewritten = rehash([replace(r, actor="mallory") for r in chain])
    report = verify(rewritten, checkpoints)
    assert [("checkpoint_mismatch", 2)] == found(report)
    assert report.first_problem is not None
    assert "from the first event up to event 2 was rewritten" in report.first_problem.message
    assert "(and 2 more places like it)" in report.first_problem.message


def test_rewritten_tail_names_the_last_matching_checkpoint() -> None:
    """A rewrite after event 2 is located between the checkpoints at 2 and 4."""
    chain = build_chain(6)
    checkpoints = sign(chain, 2, 4, 6)
    chain[2] = replace(chain[2], actor="mallory")
    rewritten = rehash(chain, start=2)
    report = verify(rewritten, checkpoints)
    assert ("checkpoint_mismatch", 4) == found(report)[0]
    assert report.first_problem is not None
    assert "the chain after event 2 up to event 4 was rewritten" in report.first_problem.message


# -- checkpoints ---------------------------------------------------------------------------


def test_checkpoint_forged_with_another_key_is_a_bad_signature() -> None:
    """A checkpoint made with another key is reported, and does not vouch for anything."""
    chain = build_chain(6)
    checkpoints = sign(chain, 1, 2, 3)
    rewritten = rehash([replace(r, actor="mallory") for r in chain])
    forged = sign(rewritten, 6, signer=OTHER)
    report = verify(rewritten, [*checkpoints, *forged])
    assert [("checkpoint_mismatch", 1), ("unsigned_tail", 4), ("bad_signature", 6)] == found(report)
    bad = report.problems[2].message
    assert f"key id {OTHER.key_id}" in bad
    assert f"key id {SIGNER.key_id}" in bad


def test_checkpoint_with_altered_hash_is_a_bad_signature() -> None:
    """Editing the hash inside a genuine checkpoint invalidates it, so event 3 is unsigned."""
    chain = build_chain(3)
    genuine = sign(chain, 3)[0]
    altered = replace(genuine, hash="ab" * 32)
    report = verify(chain, [*sign(chain, 1, 2), altered])
    assert [("bad_signature", 3), ("unsigned_tail", 3)] == found(report)


def test_no_key_means_no_checkpoint_is_trusted() -> None:
    """Without a public key, checkpoints cannot be checked and none covers the events."""
    chain = build_chain(2)
    report = verify_chain(chain, sign(chain), None, head=head_of(chain))
    assert [("bad_signature", 1), ("no_checkpoints", 1)] == found(report)
    assert "no public key was given" in report.problems[0].message
    assert "none of the 2 checkpoints is validly signed" in report.problems[1].message


def test_events_without_any_checkpoint() -> None:
    """Events with no checkpoint at all (the file lost or replaced) are reported."""
    chain = build_chain(3)
    report = verify(chain, [])
    assert [("no_checkpoints", 1)] == found(report)
    assert report.first_problem is not None
    assert "the checkpoint file is missing or empty" in report.first_problem.message


def test_unsigned_tail_after_a_crash() -> None:
    """Events after the newest checkpoint are reported, with the way to sign them."""
    chain = build_chain(6)
    report = verify(chain, sign(chain, 1, 2, 3, 4))
    assert [("unsigned_tail", 5)] == found(report)
    assert report.first_problem is not None
    assert report.first_problem.message.startswith("events 5 to 6 come after")


def test_checkpoints_in_any_file_order_are_accepted() -> None:
    """Concurrent writers may append checkpoints out of seq order; that is not a problem."""
    chain = build_chain(4)
    assert [] == found(verify(chain, list(reversed(sign(chain)))))


def test_malformed_checkpoint_lines_are_reported(tmp_path: Path) -> None:
    """Unreadable lines in the checkpoint file are problems, not crashes."""
    chain = build_chain(6)
    log = CheckpointLog(tmp_path / "checkpoints.jsonl")
    for checkpoint in sign(chain):
        log.append(checkpoint)
    with log.path.open("a") as handle:
        handle.write("{not json\n")
        handle.write('{"seq": 3, "hash": "zz"}\n')
    parsed = log.read()
    assert 6 == len(parsed.checkpoints)
    report = verify(chain, parsed.checkpoints, malformed=parsed.malformed)
    assert [("malformed_checkpoint", 3)] == found(report)
    assert report.first_problem is not None
    message = report.first_problem.message
    assert "line 8 of the checkpoint file (for event 3)" in message
    assert "(and one more place like it)" in message


def test_malformed_line_without_a_seq_sorts_last() -> None:
    """A line with no readable seq is reported without one, after seq-located problems."""
    chain = build_chain(3)
    chain[1] = replace(chain[1], actor="mallory")
    report = verify(chain, sign(build_chain(3)), malformed=[MalformedCheckpoint(9, None, "x")])
    assert [("edited", 2), ("malformed_checkpoint", None)] == found(report)


# -- head ----------------------------------------------------------------------------------


def test_head_with_a_different_hash() -> None:
    """A head row whose hash differs from the last event is reported at that seq."""
    chain = build_chain(3)
    report = verify(chain, sign(chain), head=(3, "cd" * 32))
    assert [("head_mismatch", 3)] == found(report)


def test_missing_head_row_with_events() -> None:
    """Events without a head row are reported (the row was deleted)."""
    chain = build_chain(2)
    report = verify_chain(chain, sign(chain), SIGNER.verify_key, head=None)
    assert [("head_mismatch", None)] == found(report)


# -- the report ----------------------------------------------------------------------------


def test_problems_are_listed_in_seq_order() -> None:
    """Several kinds are listed by seq, and ``first_problem`` is the earliest."""
    chain = build_chain(8)
    checkpoints = sign(chain, 8)
    chain[5] = replace(chain[5], actor="mallory")  # edited at 6
    del chain[2]  # missing 3
    report = verify(chain, checkpoints)
    assert [("missing", 3), ("edited", 6)] == found(report)
    assert report.first_problem is report.problems[0]


def test_report_serialises_to_json() -> None:
    """``to_dict`` is plain JSON for ``--json`` output and the API."""
    chain = build_chain(2)
    report = verify(chain, [])
    data = json.loads(json.dumps(report.to_dict()))
    assert {
        "ok": False,
        "events_checked": 2,
        "checkpoints_checked": 0,
        "last_seq": 2,
        "last_hash": chain[-1].hash,
        "signed_seq": 0,
        "problems": [{"kind": "no_checkpoints", "seq": 1, "message": report.problems[0].message}],
    } == data
    assert ProblemKind.NO_CHECKPOINTS == report.problems[0].kind


# -- signer and checkpoint file ------------------------------------------------------------


def test_signer_creates_a_private_key_and_a_public_key_file(tmp_path: Path) -> None:
    """The key is created with mode 0600, its public half is written next to it as hex."""
    key_file = tmp_path / "keys" / "audit-signing.key"
    signer = CheckpointSigner.from_file(key_file)
    assert 0o600 == stat.S_IMODE(key_file.stat().st_mode)
    assert 64 == len(key_file.read_text().strip())
    pub = public_key_path(key_file)
    assert tmp_path / "keys" / "audit-signing.key.pub" == pub
    assert bytes(signer.verify_key) == bytes(load_verify_key(pub))
    assert key_id_of(signer.verify_key) == signer.key_id
    assert 16 == len(signer.key_id)


def test_signer_reloads_the_same_key(tmp_path: Path) -> None:
    """Loading the key file again gives the same key, and rewrites a damaged .pub file."""
    key_file = tmp_path / "audit-signing.key"
    first = CheckpointSigner.from_file(key_file)
    public_key_path(key_file).write_text("garbage\n")
    second = CheckpointSigner.from_file(key_file)
    assert first.key_id == second.key_id
    assert bytes(first.verify_key) == bytes(load_verify_key(public_key_path(key_file)))


def test_signer_refuses_a_key_readable_by_others(tmp_path: Path) -> None:
    """A signing key other users can read is refused."""
    key_file = tmp_path / "audit-signing.key"
    CheckpointSigner.from_file(key_file)
    os.chmod(key_file, 0o644)  # noqa: PTH101 - explicit mode change
    with pytest.raises(ConfigurationError, match="readable by other users"):
        CheckpointSigner.from_file(key_file)


def test_malformed_key_file_is_a_configuration_error(tmp_path: Path) -> None:
    """A key file that is not 64 hex digits is refused with a clear message."""
    key_file = tmp_path / "audit-signing.key"
    key_file.write_text("not a key")
    key_file.chmod(0o600)
    with pytest.raises(ConfigurationError, match="not an Ed25519 signing key"):
        CheckpointSigner.from_file(key_file)


def test_checkpoint_signature_covers_seq_hash_and_time() -> None:
    """The signature is over the versioned ``seq``, ``hash`` and ``signed_at`` lines."""
    checkpoint = SIGNER.sign(5, "ab" * 32, now=T0)
    expected = f"tipaudit-audit-checkpoint-v1\n5\n{'ab' * 32}\n2024-05-01T10:00:00.000000+00:00"
    assert expected.encode() == checkpoint.message()
    assert checkpoint.is_signed_by(SIGNER.verify_key)
    assert not replace(checkpoint, seq=6).is_signed_by(SIGNER.verify_key)
    assert not replace(
        checkpoint, signed_at=format_timestamp(T0 + timedelta(seconds=1))
    ).is_signed_by(SIGNER.verify_key)
    assert not checkpoint.is_signed_by(OTHER.verify_key)


def test_checkpoint_log_round_trip(tmp_path: Path) -> None:
    """Checkpoints are appended as JSON lines to a private file and read back equal."""
    log = CheckpointLog(tmp_path / "audit" / "checkpoints.jsonl")
    assert ([], []) == (list(log.read().checkpoints), list(log.read().malformed))
    written = sign(build_chain(3))
    for checkpoint in written:
        log.append(checkpoint)
    assert written == list(log.read().checkpoints)
    assert 0o600 == stat.S_IMODE(log.path.stat().st_mode)
    assert 0o700 == stat.S_IMODE(log.path.parent.stat().st_mode)
    assert 3 == len(log.path.read_text().splitlines())


def test_checkpoint_log_survives_a_torn_last_line(tmp_path: Path) -> None:
    """After a crash mid-line, the next checkpoint starts on a new line and stays readable."""
    log = CheckpointLog(tmp_path / "checkpoints.jsonl")
    first, second = sign(build_chain(2))
    log.append(first)
    with log.path.open("a") as handle:
        handle.write('{"seq": 2, "ha')
    log.append(second)
    parsed = log.read()
    assert [first, second] == list(parsed.checkpoints)
    assert [2] == [bad.line for bad in parsed.malformed]
