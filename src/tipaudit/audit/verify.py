"""Verify the audit chain against its signed checkpoints and say, in words, what is wrong.

The verifier streams over the events in seq order and keeps only the checkpoints in memory, so
it checks a chain of any length. It detects:

* an event whose contents were changed (``edited``),
* a gap in the sequence (``missing``: an event was deleted),
* an event that does not link to the one before it (``broken_link``: an event inserted,
  deleted and renumbered, or reordered),
* checkpoints or a head record naming events that no longer exist (``truncated``),
* a consistent chain that does not match what was signed (``checkpoint_mismatch``: rewritten
  by someone with database access but not the key),
* checkpoints not made with the key (``bad_signature``) or unreadable (``malformed_checkpoint``),
* events no checkpoint covers (``unsigned_tail``, ``no_checkpoints``) and a head record that
  disagrees with the chain (``head_mismatch``).

One :class:`Problem` is reported per kind, naming the first event affected.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from nacl.signing import VerifyKey

from tipaudit.audit.chain import GENESIS_HASH, record_hash
from tipaudit.audit.checkpoints import Checkpoint, MalformedCheckpoint, key_id_of
from tipaudit.audit.events import AuditRecord

_SIGN_HINT = "After reviewing them, `tipaudit audit checkpoint` signs the current head."


class ProblemKind(StrEnum):
    """What kind of damage verification found. Listed in the order reported for one seq."""

    MISSING = "missing"
    EDITED = "edited"
    BROKEN_LINK = "broken_link"
    CHECKPOINT_MISMATCH = "checkpoint_mismatch"
    HEAD_MISMATCH = "head_mismatch"
    TRUNCATED = "truncated"
    BAD_SIGNATURE = "bad_signature"
    MALFORMED_CHECKPOINT = "malformed_checkpoint"
    NO_CHECKPOINTS = "no_checkpoints"
    UNSIGNED_TAIL = "unsigned_tail"


_KIND_ORDER = {kind: index for index, kind in enumerate(ProblemKind)}


@dataclass(frozen=True)
class Problem:
    """One finding: its kind, the first event it concerns (if any) and a sentence for people."""

    kind: ProblemKind
    seq: int | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {"kind": str(self.kind), "seq": self.seq, "message": self.message}


@dataclass(frozen=True)
class VerificationReport:
    """The outcome of :func:`verify_chain`.

    ``last_seq``/``last_hash`` describe the last event read (``0``/genesis for an empty log);
    ``signed_seq`` is the newest event covered by a validly signed checkpoint (``0`` if none).
    """

    events_checked: int
    checkpoints_checked: int
    last_seq: int
    last_hash: str
    signed_seq: int
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the log verified without any problem."""
        return not self.problems

    @property
    def first_problem(self) -> Problem | None:
        """The problem at the lowest seq, or ``None`` when the log is intact."""
        return self.problems[0] if self.problems else None

    def summary(self) -> str:
        """One sentence describing the result."""
        if self.ok:
            if self.events_checked == 0:
                return "The audit log is empty: there is nothing to verify."
            return (
                f"The audit log is intact: {_count(self.events_checked, 'event')} and "
                f"{_count(self.checkpoints_checked, 'signed checkpoint')} checked, "
                f"signed up to event {self.signed_seq:,}."
            )
        problems = _count(len(self.problems), "problem")
        return f"The audit log failed verification ({problems}); first: {self.problems[0].message}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (for ``--json`` output and the API)."""
        return {
            "ok": self.ok,
            "events_checked": self.events_checked,
            "checkpoints_checked": self.checkpoints_checked,
            "last_seq": self.last_seq,
            "last_hash": self.last_hash,
            "signed_seq": self.signed_seq,
            "problems": [problem.to_dict() for problem in self.problems],
        }


class _Findings:
    """Keeps, per kind, the problem with the lowest seq and how many times the kind occurred."""

    def __init__(self) -> None:
        self._first: dict[ProblemKind, Problem] = {}
        self._count: dict[ProblemKind, int] = {}

    def add(self, kind: ProblemKind, seq: int | None, message: str) -> None:
        self._count[kind] = self._count.get(kind, 0) + 1
        current = self._first.get(kind)
        if current is None or _seq_key(seq) < _seq_key(current.seq):
            self._first[kind] = Problem(kind, seq, message)

    def problems(self) -> list[Problem]:
        result = []
        for kind, first in self._first.items():
            more = self._count[kind] - 1
            others = "one more place" if more == 1 else f"{more} more places"
            suffix = f" (and {others} like it)" if more else ""
            result.append(Problem(kind, first.seq, first.message + suffix))
        return sorted(result, key=lambda p: (_seq_key(p.seq), _KIND_ORDER[p.kind]))


def _count(number: int, noun: str) -> str:
    """``1 event`` / ``2 events``."""
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {noun}s"


def _seq_key(seq: int | None) -> tuple[int, int]:
    # Problems without a seq sort after all others.
    return (1, 0) if seq is None else (0, seq)


def _describe(record: AuditRecord) -> str:
    return f"event {record.seq} ({record.describe()})"


def _recomputed_hash(record: AuditRecord) -> str | None:
    # Tampered contents may not even be encodable (e.g. NaN in details): that is an edit too.
    try:
        return record_hash(record)
    except (TypeError, ValueError):
        return None


def _span(first: int, last: int, singular: str, plural: str) -> str:
    """``event 3 was`` / ``events 3 to 5 were``: a range of events with an agreeing verb."""
    if first == last:
        return f"event {first} {singular}"
    return f"events {first} to {last} {plural}"


def verify_chain(
    events: Iterable[AuditRecord],
    checkpoints: Sequence[Checkpoint],
    verify_key: VerifyKey | None,
    *,
    head: tuple[int, str] | None,
    malformed_checkpoints: Sequence[MalformedCheckpoint] = (),
) -> VerificationReport:
    """Check ``events`` (in seq order, streamed) against signed ``checkpoints``.

    ``verify_key`` is the audit public key; ``None`` means no key is available, so every
    checkpoint counts as unverifiable (``bad_signature``). ``head`` is the ``(seq, hash)`` of
    the database's head record, or ``None`` when there is none. ``malformed_checkpoints`` are
    the unreadable lines of the checkpoint log, reported as ``malformed_checkpoint``.
    Memory use grows with the number of checkpoints, not with the number of events.
    """
    verifier = _ChainVerifier(checkpoints, verify_key, head)
    verifier.report_malformed(malformed_checkpoints)
    for record in events:
        verifier.check_event(record)
    return verifier.finish()


class _ChainVerifier:
    """The state carried from one event to the next while streaming over the chain."""

    def __init__(
        self,
        checkpoints: Sequence[Checkpoint],
        verify_key: VerifyKey | None,
        head: tuple[int, str] | None,
    ) -> None:
        self.found = _Findings()
        self.checkpoints = checkpoints
        self.head = head
        self.events_checked = 0
        self.first_seq: int | None = None
        self.prev_seq = 0
        self.prev_hash = GENESIS_HASH
        self.matched_seq = 0  # newest checkpoint the chain was seen to match, for messages
        # Only validly signed checkpoints say anything about the chain.
        self.signed: dict[int, list[Checkpoint]] = {}
        own_key_id = key_id_of(verify_key) if verify_key is not None else None
        for checkpoint in checkpoints:
            if verify_key is not None and checkpoint.is_signed_by(verify_key):
                self.signed.setdefault(checkpoint.seq, []).append(checkpoint)
                continue
            expected = f"key id {own_key_id}" if own_key_id else "no public key was given"
            self.found.add(
                ProblemKind.BAD_SIGNATURE,
                checkpoint.seq,
                f"the checkpoint for event {checkpoint.seq} (signed at {checkpoint.signed_at}, "
                f"key id {checkpoint.key_id}) is not signed by the audit key ({expected}): "
                "it was forged or made with another key",
            )

    def report_malformed(self, malformed: Sequence[MalformedCheckpoint]) -> None:
        for bad in malformed:
            about = f" (for event {bad.seq})" if bad.seq is not None else ""
            self.found.add(
                ProblemKind.MALFORMED_CHECKPOINT,
                bad.seq,
                f"line {bad.line} of the checkpoint file{about} is not a valid checkpoint: "
                f"{bad.reason}; if the machine stopped while writing it, remove the partial "
                "line after review",
            )

    def check_event(self, record: AuditRecord) -> None:
        self.events_checked += 1
        if self.first_seq is None:
            self.first_seq = record.seq
        if record.seq <= self.prev_seq:
            self.found.add(
                ProblemKind.BROKEN_LINK,
                record.seq,
                f"{_describe(record)} comes after event {self.prev_seq}: "
                "the events are duplicated or out of order",
            )
            return
        gap = record.seq != self.prev_seq + 1
        if gap:
            first, last = self.prev_seq + 1, record.seq - 1
            self.found.add(
                ProblemKind.MISSING,
                first,
                f"{_span(first, last, 'is', 'are')} missing: {self._jump(record.seq)} (deleted)",
            )
        if _recomputed_hash(record) != record.hash:
            self.found.add(
                ProblemKind.EDITED,
                record.seq,
                f"{_describe(record)} was edited: its contents no longer match its hash",
            )
        # Across a gap the link cannot hold; the missing events already explain it.
        if not gap and record.prev_hash != self.prev_hash:
            what = "the genesis hash" if record.seq == 1 else f"the hash of event {self.prev_seq}"
            self.found.add(
                ProblemKind.BROKEN_LINK,
                record.seq,
                f"{_describe(record)} does not link to {what}: an event was inserted, "
                "deleted and renumbered, or reordered here",
            )
        self._compare_checkpoints(record)
        if self.head is not None and self.head[0] == record.seq and self.head[1] != record.hash:
            self.found.add(
                ProblemKind.HEAD_MISMATCH,
                record.seq,
                f"the head record names event {record.seq} with a different hash than "
                f"{_describe(record)}",
            )
        self.prev_seq, self.prev_hash = record.seq, record.hash

    def _jump(self, seq: int) -> str:
        if self.prev_seq:
            return f"the log jumps from event {self.prev_seq} to event {seq}"
        return f"the log starts at event {seq}"

    def _compare_checkpoints(self, record: AuditRecord) -> None:
        for checkpoint in self.signed.get(record.seq, ()):
            if checkpoint.hash == record.hash:
                self.matched_seq = max(self.matched_seq, record.seq)
                continue
            since = (
                f"after event {self.matched_seq}" if self.matched_seq else "from the first event"
            )
            self.found.add(
                ProblemKind.CHECKPOINT_MISMATCH,
                record.seq,
                f"{_describe(record)} does not match the checkpoint signed at "
                f"{checkpoint.signed_at}: the chain {since} up to event {record.seq} "
                "was rewritten after that checkpoint was signed",
            )

    def finish(self) -> VerificationReport:
        signed_seq = max(self.signed, default=0)
        self._check_end(signed_seq)
        self._check_head()
        self._check_coverage(signed_seq)
        return VerificationReport(
            events_checked=self.events_checked,
            checkpoints_checked=len(self.checkpoints),
            last_seq=self.prev_seq,
            last_hash=self.prev_hash,
            signed_seq=signed_seq,
            problems=self.found.problems(),
        )

    def _check_end(self, signed_seq: int) -> None:
        last_seq = self.prev_seq
        if signed_seq > last_seq:
            self.found.add(
                ProblemKind.TRUNCATED,
                last_seq + 1,
                f"a signed checkpoint names event {signed_seq}, but {self._ending()}: "
                f"{_span(last_seq + 1, signed_seq, 'was', 'were')} deleted from the end",
            )

    def _ending(self) -> str:
        return f"the log ends at event {self.prev_seq}" if self.prev_seq else "the log is empty"

    def _check_head(self) -> None:
        last_seq = self.prev_seq
        if self.head is None:
            if self.events_checked:
                self.found.add(
                    ProblemKind.HEAD_MISMATCH,
                    None,
                    "the head record is missing although the log holds events",
                )
            return
        head_seq, head_hash = self.head
        if head_seq > last_seq:
            self.found.add(
                ProblemKind.TRUNCATED,
                last_seq + 1,
                f"the head record names event {head_seq}, but {self._ending()}: "
                f"{_span(last_seq + 1, head_seq, 'was', 'were')} deleted from the end",
            )
        elif head_seq < last_seq:
            self.found.add(
                ProblemKind.HEAD_MISMATCH,
                head_seq + 1,
                f"{_span(head_seq + 1, last_seq, 'comes', 'come')} after the head record "
                f"(event {head_seq}): added without going through tipaudit",
            )
        elif head_seq == 0 and head_hash != GENESIS_HASH:
            self.found.add(
                ProblemKind.HEAD_MISMATCH, None, "the head record of the empty log is not genesis"
            )

    def _check_coverage(self, signed_seq: int) -> None:
        last_seq = self.prev_seq
        if not self.events_checked or self.first_seq is None:
            return
        if not self.signed:
            why = (
                f"none of the {len(self.checkpoints)} checkpoints is validly signed"
                if self.checkpoints
                else "the checkpoint file is missing or empty"
            )
            self.found.add(
                ProblemKind.NO_CHECKPOINTS,
                self.first_seq,
                f"no signed checkpoint covers the {_count(self.events_checked, 'event')} in "
                f"the log ({why}). {_SIGN_HINT}",
            )
        elif signed_seq < last_seq:
            self.found.add(
                ProblemKind.UNSIGNED_TAIL,
                signed_seq + 1,
                f"{_span(signed_seq + 1, last_seq, 'comes', 'come')} after the newest signed "
                f"checkpoint (event {signed_seq}): appended without the signing key, or "
                f"tipaudit stopped between saving them and signing a checkpoint. {_SIGN_HINT}",
            )
