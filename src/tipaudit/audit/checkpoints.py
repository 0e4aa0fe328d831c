"""Signed checkpoints of the chain head, kept outside the database.

Someone who can write to the database can rewrite the whole hash chain consistently; what they
cannot do without the Ed25519 signing key is produce checkpoints for their rewritten chain. Each
checkpoint signs ``(seq, hash)`` of the chain head at a moment, and is appended as one JSON line
to a file that lives next to the key, away from the database.

File layout (all created on first use):

* the signing key file holds the 32-byte Ed25519 seed as hex (mode 0600);
* ``<key file>.pub`` holds the public key as hex, for verifiers who must not hold the key;
* the checkpoint log holds one JSON object per line.

This module does file I/O but never touches the database.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey
from nacl.utils import random as random_bytes

from tipaudit.audit.events import format_timestamp
from tipaudit.errors import ConfigurationError
from tipaudit.settings import read_or_create_private_file

CHECKPOINT_VERSION_TAG = "tipaudit-audit-checkpoint-v1\n"
"""Domain separation prefix of the signed checkpoint message."""

_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX128 = re.compile(r"[0-9a-f]{128}")


def key_id_of(verify_key: VerifyKey) -> str:
    """Short fingerprint of a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(bytes(verify_key)).hexdigest()[:16]


def checkpoint_message(seq: int, hash: str, signed_at: str) -> bytes:
    """The exact bytes a checkpoint signature covers."""
    return f"{CHECKPOINT_VERSION_TAG}{seq}\n{hash}\n{signed_at}".encode()


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement "the chain had ``hash`` at event ``seq``" made at ``signed_at``."""

    seq: int
    hash: str
    signed_at: str
    key_id: str
    signature: str

    def message(self) -> bytes:
        """The signed bytes."""
        return checkpoint_message(self.seq, self.hash, self.signed_at)

    def is_signed_by(self, verify_key: VerifyKey) -> bool:
        """Whether the signature is valid for ``verify_key``."""
        try:
            verify_key.verify(self.message(), bytes.fromhex(self.signature))
        except (BadSignatureError, ValueError):
            return False
        return True

    def to_dict(self) -> dict[str, Any]:
        """The JSON object written to the checkpoint log."""
        return {
            "seq": self.seq,
            "hash": self.hash,
            "signed_at": self.signed_at,
            "key_id": self.key_id,
            "signature": self.signature,
        }

    def to_json_line(self) -> str:
        """One line of the checkpoint log, newline included."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")) + "\n"

    @classmethod
    def from_dict(cls, data: object) -> Checkpoint:
        """Parse one checkpoint; raises :class:`ValueError` or :class:`TypeError` with a reason."""
        if not isinstance(data, dict):
            raise TypeError("not a JSON object")
        missing = sorted({"seq", "hash", "signed_at", "key_id", "signature"} - data.keys())
        if missing:
            raise ValueError(f"missing {', '.join(missing)}")
        seq, hash_, signed_at = data["seq"], data["hash"], data["signed_at"]
        key_id, signature = data["key_id"], data["signature"]
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise ValueError("seq is not a positive integer")
        if not isinstance(hash_, str) or not _HEX64.fullmatch(hash_):
            raise ValueError("hash is not 64 lowercase hex digits")
        if not isinstance(signed_at, str) or not signed_at:
            raise ValueError("signed_at is not a timestamp")
        if not isinstance(key_id, str):
            raise TypeError("key_id is not text")
        if not isinstance(signature, str) or not _HEX128.fullmatch(signature):
            raise ValueError("signature is not 128 lowercase hex digits")
        return cls(seq=seq, hash=hash_, signed_at=signed_at, key_id=key_id, signature=signature)


def public_key_path(signing_key_path: Path) -> Path:
    """Where the public key of ``signing_key_path`` is written: the same name plus ``.pub``."""
    return signing_key_path.with_name(signing_key_path.name + ".pub")


def _parse_hex_key(raw: bytes, path: Path, what: str) -> bytes:
    text = raw.decode("ascii", errors="replace").strip()
    if not _HEX64.fullmatch(text.lower()):
        raise ConfigurationError(
            f"{path} is not an Ed25519 {what} (expected 64 hex digits)",
            hint="restore the file from your backup",
        )
    return bytes.fromhex(text)


def load_verify_key(path: Path) -> VerifyKey:
    """Read a public key file (64 hex digits) as written next to the signing key."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"cannot read the public key {path}: {exc.strerror}") from exc
    return VerifyKey(_parse_hex_key(raw, path, "public key"))


class CheckpointSigner:
    """Signs checkpoints with the installation's Ed25519 audit key."""

    def __init__(self, signing_key: SigningKey) -> None:
        self._signing_key = signing_key
        self.verify_key: VerifyKey = signing_key.verify_key
        self.key_id: str = key_id_of(self.verify_key)

    @classmethod
    def from_file(cls, path: Path) -> CheckpointSigner:
        """Load the key from ``path``, creating a new one (mode 0600) if it is missing.

        Also writes the public key to ``<path>.pub`` so that it can be handed to verifiers.
        """
        # A fresh random seed; read_or_create_private_file keeps a concurrent creator's key.
        seed_hex = read_or_create_private_file(path, lambda: random_bytes(32).hex().encode())
        signer = cls(SigningKey(_parse_hex_key(seed_hex, path, "signing key")))
        signer.write_public_key(public_key_path(path))
        return signer

    def write_public_key(self, path: Path) -> None:
        """Write the public key as hex to ``path`` unless it already holds exactly that."""
        content = f"{bytes(self.verify_key).hex()}\n".encode()
        try:
            if path.read_bytes() == content:
                return
        except FileNotFoundError:
            pass
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)  # atomic: a reader never sees half a key

    def sign(self, seq: int, hash: str, *, now: datetime | None = None) -> Checkpoint:
        """Sign the statement that the chain's hash at ``seq`` is ``hash``."""
        if seq < 1 or not _HEX64.fullmatch(hash):
            raise ValueError("a checkpoint needs a positive seq and a 64-digit hex hash")
        signed_at = format_timestamp(now or datetime.now(UTC))
        signature = self._signing_key.sign(checkpoint_message(seq, hash, signed_at)).signature
        return Checkpoint(
            seq=seq, hash=hash, signed_at=signed_at, key_id=self.key_id, signature=signature.hex()
        )


@dataclass(frozen=True)
class MalformedCheckpoint:
    """A line of the checkpoint log that could not be read as a checkpoint."""

    line: int
    seq: int | None  # the seq the line claims, when that much could be read
    reason: str


@dataclass(frozen=True)
class CheckpointFile:
    """The parsed checkpoint log: the checkpoints, and the lines that were not checkpoints."""

    checkpoints: Sequence[Checkpoint] = field(default_factory=tuple)
    malformed: Sequence[MalformedCheckpoint] = field(default_factory=tuple)


class CheckpointLog:
    """The append-only checkpoint file: one JSON line per checkpoint."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, checkpoint: Checkpoint) -> None:
        """Append one checkpoint durably (``O_APPEND`` and ``fsync``)."""
        created = not self.path.exists()
        if created:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = checkpoint.to_json_line().encode()
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                # A crash left half a line: end it, so this checkpoint stays readable.
                data = b"\n" + data
            # One write per line: O_APPEND keeps concurrent writers' lines whole.
            written = os.write(fd, data)
            while written < len(data):
                written += os.write(fd, data[written:])
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            _fsync_dir(self.path.parent)

    def read(self) -> CheckpointFile:
        """Read every checkpoint; malformed lines are reported, never raised."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return CheckpointFile()
        checkpoints: list[Checkpoint] = []
        malformed: list[MalformedCheckpoint] = []
        for number, line in enumerate(raw.split(b"\n"), start=1):
            if not line.strip():
                continue
            claimed_seq: int | None = None
            try:
                data = json.loads(line.decode("utf-8"))
                if isinstance(data, dict) and type(data.get("seq")) is int:
                    claimed_seq = data["seq"]
                checkpoints.append(Checkpoint.from_dict(data))
            except (UnicodeDecodeError, json.JSONDecodeError):
                malformed.append(MalformedCheckpoint(number, None, "not valid JSON"))
            except (TypeError, ValueError) as exc:
                malformed.append(MalformedCheckpoint(number, claimed_seq, str(exc)))
        return CheckpointFile(tuple(checkpoints), tuple(malformed))


def _fsync_dir(path: Path) -> None:
    # Make the new file's directory entry durable too (not supported everywhere).
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
