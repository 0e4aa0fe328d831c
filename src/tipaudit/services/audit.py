"""The audit log service: record events, sign checkpoints after commit, verify the chain.

Every capability records through :meth:`AuditLog.record` inside its own write unit of work, so
the audit event commits (or rolls back) together with the change it describes. Once the
transaction has committed, a signed checkpoint of the new chain head is appended to the
checkpoint file. Never before: a checkpoint for an event that was then rolled back would make
the intact chain look truncated.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from pathlib import Path

from nacl.signing import VerifyKey
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from tipaudit.audit.checkpoints import (
    Checkpoint,
    CheckpointLog,
    CheckpointSigner,
    load_verify_key,
    public_key_path,
)
from tipaudit.audit.events import AuditAction, AuditEntry, AuditRecord
from tipaudit.audit.verify import ProblemKind, VerificationReport, verify_chain
from tipaudit.errors import AuditIntegrityError, ConfigurationError, ValidationError
from tipaudit.settings import Settings
from tipaudit.storage.audit_store import AuditStore
from tipaudit.storage.db import Database

logger = logging.getLogger(__name__)

# Keys in Session.info (namespaced: other services keep their own state there too).
_LISTENING = "tipaudit.audit.listening"
_APPENDED = "tipaudit.audit.appended"
_HEAD_TO_SIGN = "tipaudit.audit.head_to_sign"

#: Problems that signing the current head is meant to resolve, so they do not block it.
SIGNABLE_PROBLEMS = frozenset({ProblemKind.UNSIGNED_TAIL, ProblemKind.NO_CHECKPOINTS})

_RETRY_DELAY_SECONDS = 0.2


class AuditLog:
    """The installation's audit log: one per process, shared by every capability."""

    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database
        self.checkpoints = CheckpointLog(settings.resolved_audit_checkpoint_file)
        self._signer: CheckpointSigner | None = None
        self._signer_lock = threading.Lock()

    # -- keys ------------------------------------------------------------------------------
    @property
    def signer(self) -> CheckpointSigner:
        """The checkpoint signer, loaded (or created) once on first use."""
        if self._signer is None:
            with self._signer_lock:
                if self._signer is None:
                    self._signer = CheckpointSigner.from_file(
                        self.settings.resolved_audit_signing_key_file
                    )
        return self._signer

    def _default_verify_key(self) -> VerifyKey | None:
        """The public key from the signing key, else from its ``.pub`` file, else ``None``."""
        if self._signer is not None:
            return self._signer.verify_key
        key_file = self.settings.resolved_audit_signing_key_file
        if key_file.exists():
            try:
                return self.signer.verify_key
            except OSError:
                pass  # e.g. an auditor's account may read the public key only
        pub = public_key_path(key_file)
        if pub.exists():
            return load_verify_key(pub)
        return None

    # -- recording -------------------------------------------------------------------------
    def record(
        self, session: Session, entry: AuditEntry, *, now: datetime | None = None
    ) -> AuditRecord:
        """Append ``entry`` in ``session``'s transaction (from :meth:`Database.write`).

        A signed checkpoint of the chain head is written after that transaction commits.
        """
        _ = self.signer  # a missing or unreadable key must fail before anything is written
        record = AuditStore(session).append(entry, now=now)
        self._watch(session)
        session.info[_APPENDED] = True
        return record

    def _watch(self, session: Session) -> None:
        """Register, once per session, the hooks that sign the head after commit."""
        if session.info.get(_LISTENING):
            return
        session.info[_LISTENING] = True
        event.listen(session, "before_commit", _before_commit)
        event.listen(session, "after_commit", self._after_commit)
        event.listen(session, "after_soft_rollback", _after_soft_rollback)

    def _after_commit(self, session: Session) -> None:
        head = session.info.pop(_HEAD_TO_SIGN, None)
        session.info.pop(_APPENDED, None)
        if head is None or head[0] < 1:
            return
        try:
            self._sign_and_store(*head)
        except (OSError, ValueError):  # ValueError: a head row tampered into a non-hash
            # The events are committed; failing the caller now would misreport what happened.
            # Verification will show an unsigned tail until the head is signed again.
            logger.exception(
                "could not write the audit checkpoint for event %s to %s; "
                "run `tipaudit audit checkpoint` once the problem is fixed",
                head[0],
                self.checkpoints.path,
            )

    def _sign_and_store(self, seq: int, hash_: str) -> Checkpoint:
        checkpoint = self.signer.sign(seq, hash_)
        self.checkpoints.append(checkpoint)
        return checkpoint

    # -- checkpoints -----------------------------------------------------------------------
    def checkpoint_now(
        self,
        *,
        actor: str = "system",
        force: bool = False,
        reason: str | None = None,
    ) -> Checkpoint | None:
        """Sign the current chain head (``tipaudit audit checkpoint``); ``None`` if empty.

        Refuses with :class:`AuditIntegrityError` when the chain has problems other than
        events not yet covered by a checkpoint, unless ``force`` is given with a ``reason``.
        Forcing does not hide earlier problems: verification keeps reporting them. The signing
        is itself recorded as an ``audit.checkpoint_signed`` event by ``actor``.
        """
        if force and not (reason and reason.strip()):
            raise ValidationError("signing the audit head with --force needs a reason")
        report = self._verify_with(self.signer.verify_key)
        if report.events_checked == 0:
            return None
        blocking = [p for p in report.problems if p.kind not in SIGNABLE_PROBLEMS]
        if blocking and not force:
            raise AuditIntegrityError(
                f"the audit log does not verify, so its head was not signed: {blocking[0].message}",
                hint="review `tipaudit audit verify`; after review, `tipaudit audit checkpoint "
                "--force --reason …` signs the head anyway",
            )
        checkpoint = self._sign_and_store(report.last_seq, report.last_hash)
        with self.database.write() as session:
            self.record(
                session,
                AuditEntry(
                    actor=actor,
                    action=AuditAction.AUDIT_CHECKPOINT_SIGNED,
                    object_type="audit_log",
                    object_id="chain",
                    reason=reason,
                    details={
                        "seq": checkpoint.seq,
                        "hash": checkpoint.hash,
                        "key_id": checkpoint.key_id,
                        "forced": bool(blocking),
                        "problems": sorted({str(p.kind) for p in blocking}),
                    },
                ),
            )
        return checkpoint

    # -- verification ----------------------------------------------------------------------
    def verify(self, public_key: Path | None = None) -> VerificationReport:
        """Verify the whole chain against the checkpoint file.

        ``public_key`` is a ``.pub`` file for verifiers without the signing key; by default
        the installation's own key is used. Read-only: record ``audit.verified`` yourself if
        the caller should leave a trace.
        """
        key = load_verify_key(public_key) if public_key is not None else None
        if key is None:
            key = self._default_verify_key()
        report = self._verify_with(key)
        if report.problems and all(p.kind is ProblemKind.UNSIGNED_TAIL for p in report.problems):
            # A transaction may have committed a moment ago and be writing its checkpoint.
            time.sleep(_RETRY_DELAY_SECONDS)
            report = self._verify_with(key)
        return report

    def _verify_with(self, key: VerifyKey | None) -> VerificationReport:
        # Checkpoints first, events second: every checkpoint read then is for a committed
        # event, so a commit racing with verification cannot look like truncation.
        checkpoint_file = self.checkpoints.read()
        if key is None and (checkpoint_file.checkpoints or checkpoint_file.malformed):
            key_file = self.settings.resolved_audit_signing_key_file
            raise ConfigurationError(
                f"no audit key to check the checkpoints with: neither {key_file} nor "
                f"{public_key_path(key_file)} exists",
                hint="pass --public-key FILE, or restore the signing key from backup",
            )
        with self.database.read() as session:
            if not self.database.is_sqlite:
                # One snapshot for the head row and every batch of events.
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            store = AuditStore(session)
            return verify_chain(
                store.iter_records(),
                checkpoint_file.checkpoints,
                key,
                head=store.head(),
                malformed_checkpoints=checkpoint_file.malformed,
            )

    # -- reading ---------------------------------------------------------------------------
    def recent(
        self,
        limit: int = 50,
        *,
        action: str | None = None,
        actor: str | None = None,
        object_type: str | None = None,
        object_id: str | None = None,
    ) -> list[AuditRecord]:
        """The newest events first, optionally filtered (for the console and ``audit log``)."""
        with self.database.read() as session:
            return AuditStore(session).recent(
                limit, action=action, actor=actor, object_type=object_type, object_id=object_id
            )

    def events_for(self, object_type: str, object_id: str) -> list[AuditRecord]:
        """The history of one object, oldest first."""
        with self.database.read() as session:
            return AuditStore(session).events_for(object_type, object_id)

    def head(self) -> tuple[int, str] | None:
        """``(seq, hash)`` of the chain head, or ``None`` before the first event."""
        with self.database.read() as session:
            return AuditStore(session).head()


def _before_commit(session: Session) -> None:
    # Read the head while the transaction (and, on PostgreSQL, the head row lock) is still
    # ours: that is exactly what this commit makes durable, savepoint rollbacks included.
    if session.in_nested_transaction() or not session.info.get(_APPENDED):
        return
    session.info[_HEAD_TO_SIGN] = AuditStore(session).head()


def _after_soft_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is None:  # the whole transaction, not a savepoint
        session.info.pop(_APPENDED, None)
        session.info.pop(_HEAD_TO_SIGN, None)


__all__ = ["SIGNABLE_PROBLEMS", "AuditLog"]
