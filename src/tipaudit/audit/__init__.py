"""The tamper-evident audit log shared by every capability.

Events (:class:`AuditEntry` → stored :class:`AuditRecord`) form a SHA-256 hash chain
(:mod:`tipaudit.audit.chain`). The chain head is regularly signed with an Ed25519 key into a
checkpoint file kept outside the database (:mod:`tipaudit.audit.checkpoints`), and
:func:`verify_chain` reports any edit, deletion, reordering, insertion, truncation or rewrite.

This package is pure domain logic plus key/checkpoint file handling; storing events is
:mod:`tipaudit.storage.audit_store` and the application service is
:mod:`tipaudit.services.audit`.
"""

from tipaudit.audit.chain import GENESIS_HASH, canonical_json, event_hash, record_hash
from tipaudit.audit.checkpoints import (
    Checkpoint,
    CheckpointFile,
    CheckpointLog,
    CheckpointSigner,
    MalformedCheckpoint,
    key_id_of,
    load_verify_key,
    public_key_path,
)
from tipaudit.audit.events import (
    AuditAction,
    AuditEntry,
    AuditRecord,
    JSONValue,
    format_timestamp,
)
from tipaudit.audit.verify import Problem, ProblemKind, VerificationReport, verify_chain

__all__ = [
    "GENESIS_HASH",
    "AuditAction",
    "AuditEntry",
    "AuditRecord",
    "Checkpoint",
    "CheckpointFile",
    "CheckpointLog",
    "CheckpointSigner",
    "JSONValue",
    "MalformedCheckpoint",
    "Problem",
    "ProblemKind",
    "VerificationReport",
    "canonical_json",
    "event_hash",
    "format_timestamp",
    "key_id_of",
    "load_verify_key",
    "public_key_path",
    "record_hash",
    "verify_chain",
]
