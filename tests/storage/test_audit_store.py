"""The audit chain on a real database (SQLite, and PostgreSQL when configured).

Covers appending through :class:`AuditStore`, the :class:`AuditLog` service that signs a
checkpoint after each commit, concurrent appenders, and verification after someone with
database access (but not the signing key) changes rows with plain SQL.
"""

from __future__ import annotations

import json
import logging
import shutil
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tipaudit.audit import (
    GENESIS_HASH,
    AuditAction,
    AuditEntry,
    AuditRecord,
    CheckpointLog,
    CheckpointSigner,
    ProblemKind,
    event_hash,
    public_key_path,
    record_hash,
)
from tipaudit.errors import AuditIntegrityError, ConfigurationError, ValidationError
from tipaudit.services.audit import AuditLog
from tipaudit.settings import Settings
from tipaudit.storage.audit_store import AuditStore
from tipaudit.storage.db import Database

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def _entry(n: int, *, actor: str = "alice", action: AuditAction | None = None) -> AuditEntry:
    return AuditEntry(
        actor=actor,
        action=action or AuditAction.USER_ROLES_CHANGED,
        object_type="user",
        object_id=f"user{n}",
        reason=f"reason {n}",
        details={"n": n, "roles": ["auditor"]},
    )


@pytest.fixture
def audit_log(settings: Settings, database: Database) -> AuditLog:
    """The service on the test database, with keys and checkpoints in the test's data folder."""
    return AuditLog(settings, database)


def _record_many(audit_log: AuditLog, database: Database, count: int) -> list[AuditRecord]:
    """``count`` events, each in its own transaction (so each gets a checkpoint)."""
    records = []
    for n in range(1, count + 1):
        with database.write() as session:
            records.append(audit_log.record(session, _entry(n), now=T0 + timedelta(seconds=n)))
    return records


def _sql(database: Database, *statements: str) -> None:
    """Tamper with the tables directly, as a database administrator could."""
    with database.write() as session:
        for statement in statements:
            session.execute(text(statement))


def _all(database: Database) -> list[AuditRecord]:
    with database.read() as session:
        return list(AuditStore(session).iter_records())


# -- AuditStore ----------------------------------------------------------------------------


def test_first_append_starts_the_chain(database: Database) -> None:
    """The first event gets seq 1, links to genesis, and becomes the head."""
    with database.write() as session:
        record = AuditStore(session).append(_entry(1), now=T0)
    with database.read() as session:
        head = AuditStore(session).head()
    assert (1, GENESIS_HASH, "2024-05-01T10:00:00.000000+00:00") == (
        record.seq,
        record.prev_hash,
        record.occurred_at,
    )
    assert record_hash(record) == record.hash
    assert (1, record.hash) == head


def test_appends_are_linked_and_read_back_equal(database: Database) -> None:
    """Appended events read back unchanged, in order, across keyset-paginated batches."""
    appended = []
    for n in range(1, 8):
        with database.write() as session:
            appended.append(AuditStore(session).append(_entry(n)))
    with database.read() as session:
        store = AuditStore(session)
        read_back = list(store.iter_records(batch_size=3))
        count = store.count()
        head = store.head()
        after = [r.seq for r in store.iter_records(batch_size=2, after_seq=5)]
        fourth = store.get(4)
    assert appended == read_back
    assert list(range(1, 8)) == [r.seq for r in read_back]
    assert [r.hash for r in read_back[:-1]] == [r.prev_hash for r in read_back[1:]]
    assert (7, (7, appended[-1].hash), [6, 7], appended[3]) == (count, head, after, fourth)


def test_several_appends_in_one_transaction(database: Database) -> None:
    """One unit of work may append several events; they chain within it."""
    with database.write() as session:
        store = AuditStore(session)
        first, second = store.append(_entry(1)), store.append(_entry(2))
    assert (1, 2, first.hash) == (first.seq, second.seq, second.prev_hash)
    assert [first, second] == _all(database)


def test_details_are_stored_as_canonical_json(database: Database) -> None:
    """The details column holds the exact canonical JSON that was hashed."""
    entry = AuditEntry(
        actor="alice",
        action=AuditAction.TOKEN_CREATED,
        object_type="token",
        object_id="ab12",
        details={"b": "é", "a": [1, 2]},
    )
    with database.write() as session:
        AuditStore(session).append(entry)
    with database.read() as session:
        stored = session.execute(text("SELECT details FROM audit_events")).scalar_one()
    assert '{"a":[1,2],"b":"é"}' == stored


def test_rolled_back_append_leaves_no_trace(database: Database) -> None:
    """An append whose transaction fails is gone, head row included; the next one is seq 1."""

    def failing_unit_of_work() -> None:
        with database.write() as session:
            AuditStore(session).append(_entry(1))
            raise RuntimeError("the change being audited failed")

    with pytest.raises(RuntimeError):
        failing_unit_of_work()
    with database.read() as session:
        assert (0, None) == (AuditStore(session).count(), AuditStore(session).head())
    with database.write() as session:
        assert 1 == AuditStore(session).append(_entry(2)).seq


def test_append_refuses_when_the_head_row_was_deleted(database: Database) -> None:
    """Without its head row, appending from seq 1 again would fork the chain: refused."""
    with database.write() as session:
        AuditStore(session).append(_entry(1))
    _sql(database, "DELETE FROM audit_head")
    with pytest.raises(AuditIntegrityError, match="head record is missing"), database.write() as s:
        AuditStore(s).append(_entry(2))


def test_append_refuses_naive_time(database: Database) -> None:
    """A naive ``now`` is refused rather than guessed."""
    with pytest.raises(ValidationError), database.write() as session:
        AuditStore(session).append(_entry(1), now=datetime(2024, 5, 1))  # noqa: DTZ001


def test_events_for_and_recent(database: Database) -> None:
    """An object's history is oldest first; recent events are newest first and filterable."""
    with database.write() as session:
        store = AuditStore(session)
        store.append(_entry(1, actor="alice"))
        store.append(_entry(2, actor="bob", action=AuditAction.LOGOUT))
        store.append(_entry(1, actor="bob"))
    with database.read() as session:
        store = AuditStore(session)
        history = [r.seq for r in store.events_for("user", "user1")]
        newest = [r.seq for r in store.recent(2)]
        by_bob = [r.seq for r in store.recent(10, actor="bob")]
        logouts = [r.seq for r in store.recent(10, action="auth.logout")]
        about_user1_by_bob = [
            r.seq for r in store.recent(10, actor="bob", object_type="user", object_id="user1")
        ]
    assert ([1, 3], [3, 2], [3, 2], [2], [3]) == (
        history,
        newest,
        by_bob,
        logouts,
        about_user1_by_bob,
    )


def test_concurrent_appends_form_one_contiguous_chain(
    audit_log: AuditLog, database: Database
) -> None:
    """Two threads appending at once (from an empty log) produce seqs 1..N that verify."""
    per_thread = 12
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(actor: str) -> None:
        try:
            barrier.wait()
            for n in range(per_thread):
                with database.write() as session:
                    audit_log.record(session, _entry(n, actor=actor))
        except Exception as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(name,)) for name in ("alice", "bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [] == errors
    records = _all(database)
    assert list(range(1, 2 * per_thread + 1)) == [r.seq for r in records]
    assert {"alice": per_thread, "bob": per_thread} == {
        actor: sum(r.actor == actor for r in records) for actor in ("alice", "bob")
    }
    report = audit_log.verify()
    assert (True, 2 * per_thread, 2 * per_thread) == (
        report.ok,
        report.events_checked,
        report.signed_seq,
    )


# -- AuditLog: checkpoints after commit ----------------------------------------------------


def test_commit_writes_a_signed_checkpoint_of_the_new_head(
    audit_log: AuditLog, database: Database, settings: Settings
) -> None:
    """After the transaction commits, one checkpoint of its final head is appended."""
    with database.write() as session:
        audit_log.record(session, _entry(1))
        second = audit_log.record(session, _entry(2))
        assert [] == list(audit_log.checkpoints.read().checkpoints)  # not before the commit
    checkpoints = list(CheckpointLog(settings.resolved_audit_checkpoint_file).read().checkpoints)
    assert [(2, second.hash)] == [(c.seq, c.hash) for c in checkpoints]
    assert checkpoints[0].is_signed_by(audit_log.signer.verify_key)
    key_file = settings.resolved_audit_signing_key_file
    assert 0o600 == stat.S_IMODE(key_file.stat().st_mode)


def test_rollback_writes_no_checkpoint(audit_log: AuditLog, database: Database) -> None:
    """A rolled-back event gets no checkpoint (it would look like truncation)."""

    def failing_unit_of_work() -> None:
        with database.write() as session:
            audit_log.record(session, _entry(1))
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        failing_unit_of_work()
    assert [] == list(audit_log.checkpoints.read().checkpoints)
    assert audit_log.verify().ok


def test_savepoint_rollback_signs_only_what_committed(
    audit_log: AuditLog, database: Database
) -> None:
    """An event appended in a rolled-back savepoint is not signed; the committed head is."""

    def failing_step(session: Session) -> None:
        with session.begin_nested():
            audit_log.record(session, _entry(2))
            raise RuntimeError("inner step failed")

    with database.write() as session:
        kept = audit_log.record(session, _entry(1))
        with pytest.raises(RuntimeError):
            failing_step(session)
    assert [(1, kept.hash)] == [(c.seq, c.hash) for c in audit_log.checkpoints.read().checkpoints]
    assert audit_log.verify().ok


def test_checkpoint_write_failure_does_not_fail_the_committed_change(
    audit_log: AuditLog,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """If the checkpoint cannot be written, the commit stands, the error is logged, and
    verification reports the unsigned event."""
    _record_many(audit_log, database, 1)

    def fail(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(CheckpointLog, "append", fail)
    with caplog.at_level(logging.ERROR), database.write() as session:
        audit_log.record(session, _entry(2))
    monkeypatch.undo()
    assert "could not write the audit checkpoint for event 2" in caplog.text
    report = audit_log.verify()
    assert [(ProblemKind.UNSIGNED_TAIL, 2)] == [(p.kind, p.seq) for p in report.problems]


# -- AuditLog: verification after SQL tampering --------------------------------------------


def test_untouched_log_verifies(audit_log: AuditLog, database: Database) -> None:
    """A log written through the service verifies, with a checkpoint per commit."""
    _record_many(audit_log, database, 5)
    report = audit_log.verify()
    assert (True, 5, 5, 5) == (
        report.ok,
        report.events_checked,
        report.checkpoints_checked,
        report.signed_seq,
    )


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        pytest.param(
            ["UPDATE audit_events SET actor = 'mallory' WHERE seq = 3"],
            ("edited", 3),
            id="edit-actor",
        ),
        pytest.param(
            [
                # (a space after each colon: ":name" would be a bind parameter)
                """UPDATE audit_events SET details = '{"n": 99, "roles": ["administrator"]}' """
                "WHERE seq = 2"
            ],
            ("edited", 2),
            id="edit-details",
        ),
        pytest.param(
            ["UPDATE audit_events SET details = 'not json' WHERE seq = 4"],
            ("edited", 4),
            id="details-not-json",
        ),
        pytest.param(
            ["""UPDATE audit_events SET details = '{"n": NaN}' WHERE seq = 2"""],
            ("edited", 2),
            id="details-not-hashable",
        ),
        pytest.param(
            ["UPDATE audit_events SET reason = NULL WHERE seq = 5"],
            ("edited", 5),
            id="erase-reason",
        ),
        pytest.param(
            [
                "UPDATE audit_events SET occurred_at = '2020-01-01T00:00:00.000000+00:00' "
                "WHERE seq = 1"
            ],
            ("edited", 1),
            id="backdate",
        ),
        pytest.param(["DELETE FROM audit_events WHERE seq = 3"], ("missing", 3), id="delete"),
        pytest.param(
            [
                "DELETE FROM audit_events WHERE seq >= 4",
                "UPDATE audit_head SET seq = 3, hash = (SELECT hash FROM audit_events "
                "WHERE seq = 3)",
            ],
            ("truncated", 4),
            id="truncate-and-move-head",
        ),
        pytest.param(["DELETE FROM audit_events WHERE seq >= 4"], ("truncated", 4), id="truncate"),
        pytest.param(
            ["DELETE FROM audit_events", "DELETE FROM audit_head"],
            ("truncated", 1),
            id="delete-everything",
        ),
        pytest.param(
            [
                "UPDATE audit_events SET seq = -2 WHERE seq = 2",
                "UPDATE audit_events SET seq = 2 WHERE seq = 3",
                "UPDATE audit_events SET seq = 3 WHERE seq = -2",
            ],
            ("edited", 2),
            id="swap",
        ),
        pytest.param(["DELETE FROM audit_head"], ("head_mismatch", None), id="delete-head"),
    ],
)
def test_sql_tampering_is_found_and_located(
    audit_log: AuditLog,
    database: Database,
    statements: list[str],
    expected: tuple[str, int | None],
) -> None:
    """Changing rows with plain SQL is reported with the right kind at the right event."""
    _record_many(audit_log, database, 5)
    _sql(database, *statements)
    report = audit_log.verify()
    first = report.first_problem
    assert first is not None
    assert expected == (str(first.kind), first.seq)
    if first.seq is not None:
        assert f" {first.seq}" in first.message


def _forge_next(database: Database, *, move_head: bool) -> None:
    """Append a correctly hashed event with SQL only (no key, no checkpoint)."""
    with database.read() as session:
        last = AuditStore(session).recent(1)[0]
    fields = {
        "seq": last.seq + 1,
        "occurred_at": "2024-06-01T00:00:00.000000+00:00",
        "actor": "mallory",
        "action": "user.roles_changed",
        "object_type": "user",
        "object_id": "mallory",
        "reason": None,
        "details": {"after": ["administrator"]},
        "prev_hash": last.hash,
    }
    digest = event_hash(**fields)  # type: ignore[arg-type]
    with database.write() as session:
        session.execute(
            text(
                "INSERT INTO audit_events (seq, occurred_at, actor, action, object_type, "
                "object_id, reason, details, prev_hash, hash) VALUES (:seq, :occurred_at, "
                ":actor, :action, :object_type, :object_id, :reason, :details, :prev_hash, :hash)"
            ),
            {**fields, "details": json.dumps(fields["details"]), "hash": digest},
        )
        if move_head:
            session.execute(
                text("UPDATE audit_head SET seq = :seq, hash = :hash"),
                {"seq": fields["seq"], "hash": digest},
            )


def test_forged_event_appended_by_sql_is_unsigned(audit_log: AuditLog, database: Database) -> None:
    """A correctly hashed event added with SQL has no checkpoint: an unsigned tail."""
    _record_many(audit_log, database, 5)
    _forge_next(database, move_head=True)
    report = audit_log.verify()
    assert [(ProblemKind.UNSIGNED_TAIL, 6)] == [(p.kind, p.seq) for p in report.problems]
    assert report.first_problem is not None
    assert "tipaudit audit checkpoint" in report.first_problem.message


def test_forged_event_without_moving_the_head(audit_log: AuditLog, database: Database) -> None:
    """An event added behind tipaudit's back without the head row is named by the head check."""
    _record_many(audit_log, database, 3)
    _forge_next(database, move_head=False)
    report = audit_log.verify()
    assert [(ProblemKind.HEAD_MISMATCH, 4), (ProblemKind.UNSIGNED_TAIL, 4)] == [
        (p.kind, p.seq) for p in report.problems
    ]


def test_chain_rewritten_from_scratch_by_sql(audit_log: AuditLog, database: Database) -> None:
    """Deleting everything and writing a new, consistent chain without the key is caught."""
    _record_many(audit_log, database, 4)
    _sql(database, "DELETE FROM audit_events", "DELETE FROM audit_head")
    for n in range(1, 5):
        with database.write() as session:
            AuditStore(session).append(_entry(n, actor="mallory"))  # no service: no key
    report = audit_log.verify()
    assert report.first_problem is not None
    assert (ProblemKind.CHECKPOINT_MISMATCH, 1) == (
        report.first_problem.kind,
        report.first_problem.seq,
    )


# -- keys ----------------------------------------------------------------------------------


def test_verify_with_only_the_public_key(
    audit_log: AuditLog, database: Database, settings: Settings, tmp_path: Path
) -> None:
    """A verifier holding only the .pub file can verify; another key finds bad signatures."""
    _record_many(audit_log, database, 3)
    pub = tmp_path / "handed-over.pub"
    shutil.copy(public_key_path(settings.resolved_audit_signing_key_file), pub)
    assert audit_log.verify(public_key=pub).ok

    other = CheckpointSigner.from_file(tmp_path / "other" / "other.key")
    report = audit_log.verify(public_key=public_key_path(tmp_path / "other" / "other.key"))
    assert other.key_id != audit_log.signer.key_id
    assert ProblemKind.BAD_SIGNATURE in {p.kind for p in report.problems}


def test_verify_falls_back_to_the_public_key_file(
    database: Database, settings: Settings, audit_log: AuditLog
) -> None:
    """Without the private key file, a fresh service verifies with the .pub next to it."""
    _record_many(audit_log, database, 2)
    settings.resolved_audit_signing_key_file.unlink()
    assert AuditLog(settings, database).verify().ok


def test_verify_without_any_key_is_a_configuration_error(
    database: Database, settings: Settings, audit_log: AuditLog
) -> None:
    """With checkpoints but neither key file, verification stops with a clear hint."""
    _record_many(audit_log, database, 2)
    key_file = settings.resolved_audit_signing_key_file
    key_file.unlink()
    public_key_path(key_file).unlink()
    with pytest.raises(ConfigurationError, match="no audit key"):
        AuditLog(settings, database).verify()


# -- checkpoint_now ------------------------------------------------------------------------


def test_checkpoint_now_signs_an_unsigned_tail(audit_log: AuditLog, database: Database) -> None:
    """Signing the head after review covers events appended without a checkpoint."""
    _record_many(audit_log, database, 2)
    with database.write() as session:
        AuditStore(session).append(_entry(3))  # bypasses the service: no checkpoint
    assert not audit_log.verify().ok

    checkpoint = audit_log.checkpoint_now(actor="system:cli")

    assert checkpoint is not None
    assert 3 == checkpoint.seq
    assert audit_log.verify().ok
    signed_event = audit_log.recent(1)[0]
    assert ("audit.checkpoint_signed", "system:cli", 3, False) == (
        signed_event.action,
        signed_event.actor,
        signed_event.details["seq"],
        signed_event.details["forced"],
    )


def test_checkpoint_now_on_an_empty_log(audit_log: AuditLog) -> None:
    """There is nothing to sign in an empty log."""
    assert audit_log.checkpoint_now() is None


def test_checkpoint_now_refuses_a_tampered_chain(audit_log: AuditLog, database: Database) -> None:
    """A chain that does not verify is not signed unless forced with a reason."""
    _record_many(audit_log, database, 3)
    _sql(database, "UPDATE audit_events SET actor = 'mallory' WHERE seq = 2")
    with pytest.raises(AuditIntegrityError, match="event 2"):
        audit_log.checkpoint_now()
    with pytest.raises(ValidationError, match="needs a reason"):
        audit_log.checkpoint_now(force=True)

    checkpoint = audit_log.checkpoint_now(force=True, reason="reviewed incident INC-7")

    assert checkpoint is not None
    event = audit_log.recent(1)[0]
    assert (True, ["edited"], "reviewed incident INC-7") == (
        event.details["forced"],
        event.details["problems"],
        event.reason,
    )
    report = audit_log.verify()  # forcing does not hide the edit
    assert report.first_problem is not None
    assert (ProblemKind.EDITED, 2) == (report.first_problem.kind, report.first_problem.seq)
