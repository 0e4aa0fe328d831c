"""Encryption of report contents with libsodium (PyNaCl).

* The organisation has an X25519 keypair; its public key is in the database, its private key
  in a file outside it (:class:`OrganisationKey`).
* Each report has its own X25519 keypair. Everything about the report (its text, messages,
  attachments, the reporter's contact details) is a sealed box to the report's public key, so
  the public intake and the console can add to a report without being able to read it.
* The report's private key is stored twice: sealed to the organisation key (for reviewers) and
  in a secret box under the key derived from the reporter's receipt (for the reporter).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.secret import SecretBox

from tipaudit.errors import TipAuditError

__all__ = [
    "DecryptionError",
    "ReportKeys",
    "fingerprint",
    "new_report_keys",
    "open_private_key_for_reporter",
    "open_private_key_for_staff",
    "open_sealed",
    "seal",
]


class DecryptionError(TipAuditError):
    """Ciphertext that does not open with the key at hand (wrong key or damaged data)."""

    code = "decryption_failed"
    status = 500


def fingerprint(public_key: bytes) -> str:
    """SHA-256 hex of a public key, to name it."""
    return hashlib.sha256(public_key).hexdigest()


@dataclass(frozen=True)
class ReportKeys:
    """A new report's public key and its private key in its two wrapped forms."""

    public_key: bytes
    private_key_for_staff: bytes
    private_key_for_reporter: bytes


def new_report_keys(organisation_public_key: bytes, reporter_wrapping_key: bytes) -> ReportKeys:
    """Make a report keypair and wrap its private half for staff and for the reporter."""
    private = PrivateKey.generate()
    raw = bytes(private)
    return ReportKeys(
        public_key=bytes(private.public_key),
        private_key_for_staff=SealedBox(PublicKey(organisation_public_key)).encrypt(raw),
        private_key_for_reporter=bytes(SecretBox(reporter_wrapping_key).encrypt(raw)),
    )


def seal(public_key: bytes, plaintext: bytes) -> bytes:
    """Anonymous sealed box to ``public_key``."""
    return bytes(SealedBox(PublicKey(public_key)).encrypt(plaintext))


def open_sealed(private_key: bytes, ciphertext: bytes) -> bytes:
    try:
        return bytes(SealedBox(PrivateKey(private_key)).decrypt(ciphertext))
    except (CryptoError, ValueError, TypeError) as exc:
        raise DecryptionError("a report record cannot be decrypted with this key") from exc


def open_private_key_for_staff(organisation_private_key: bytes, wrapped: bytes) -> bytes:
    return open_sealed(organisation_private_key, wrapped)


def open_private_key_for_reporter(wrapping_key: bytes, wrapped: bytes) -> bytes:
    try:
        return bytes(SecretBox(wrapping_key).decrypt(wrapped))
    except (CryptoError, ValueError, TypeError) as exc:
        raise DecryptionError("the receipt does not open this report") from exc


def generate_organisation_key() -> tuple[bytes, bytes]:
    """A new organisation keypair: (private, public)."""
    private = PrivateKey.generate()
    return bytes(private), bytes(private.public_key)


def public_from_private(private_key: bytes) -> bytes:
    return bytes(PrivateKey(private_key).public_key)
