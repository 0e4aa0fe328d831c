"""Receipts a reporter writes down: a non-secret locator and a secret of at least 128 bits.

A receipt looks like ``4821 0937 · bafo kile doru ...``: eight digits that find the report
(the *locator*, stored only as a keyed hash) and eleven words from a list of 3,520 (129.6 bits
of secret, stored only as an Argon2id-derived verifier). The same Argon2id run gives the key that
unwraps the report's private key for the reporter, so whoever holds the receipt can read the
reviewers' questions and nobody holding only the database can.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import math
import re
import secrets
import unicodedata
from dataclasses import dataclass
from importlib import resources

from argon2.low_level import Type, hash_secret_raw

from tipaudit.errors import ValidationError

__all__ = [
    "LOCATOR_DIGITS",
    "SECRET_WORDS",
    "Receipt",
    "ReceiptKeys",
    "derive_keys",
    "locator_hash",
    "new_receipt",
    "new_salt",
    "parse_receipt",
    "secret_bits",
    "word_list",
]

LOCATOR_DIGITS = 8
SECRET_WORDS = 11
SALT_BYTES = 16
MAX_RECEIPT_CHARS = 400

# Argon2id cost: OWASP's minimum for Argon2id (19 MiB, 2 passes), so that 50 reporters at once
# fit in memory on a small server; the secret has 129 bits, so the cost only slows guessing of
# a space no one can search anyway.
ARGON2_TIME_COST = 2
ARGON2_MEMORY_KIB = 19 * 1024
ARGON2_PARALLELISM = 1

_WORD_FILE = "receipt-words.txt"


@functools.cache
def word_list() -> tuple[str, ...]:
    """The receipt words (see the header of ``data/receipt-words.txt`` for their origin)."""
    text = (resources.files("tipaudit.reports") / "data" / _WORD_FILE).read_text("utf-8")
    words = tuple(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )
    if len(set(words)) != len(words) or len(words) < 2048:
        raise RuntimeError("the receipt word list is damaged")  # pragma: no cover - packaging
    return words


def secret_bits() -> float:
    """Bits of secret entropy in a receipt."""
    return SECRET_WORDS * math.log2(len(word_list()))


@dataclass(frozen=True)
class Receipt:
    """A receipt as given to the reporter once; never stored."""

    locator: str
    secret: str

    @property
    def text(self) -> str:
        """The receipt as shown: ``1234 5678  word word ...``."""
        return f"{self.locator[:4]} {self.locator[4:]}  {self.secret}"

    @property
    def groups(self) -> tuple[str, ...]:
        """The receipt split into short groups for display."""
        words = self.secret.split()
        return (
            f"{self.locator[:4]} {self.locator[4:]}",
            *(" ".join(words[i : i + 4]) for i in range(0, len(words), 4)),
        )


def new_receipt() -> Receipt:
    """A fresh random receipt (the caller retries on the rare locator collision)."""
    words = word_list()
    locator = "".join(secrets.choice("0123456789") for _ in range(LOCATOR_DIGITS))
    secret = " ".join(secrets.choice(words) for _ in range(SECRET_WORDS))
    return Receipt(locator=locator, secret=secret)


_SPLIT = re.compile(r"[\s\-_.,;:·/|]+")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def parse_receipt(text: str) -> Receipt:
    """Read a receipt as a person types it: any spacing, case, accents or separators."""
    if not isinstance(text, str) or len(text) > MAX_RECEIPT_CHARS:
        raise ValidationError("that is not a receipt")
    parts = [p for p in _SPLIT.split(_fold(text)) if p]
    digits = ""
    while parts and parts[0].isdigit() and len(digits) < LOCATOR_DIGITS:
        digits += parts.pop(0)
    words = parts
    if len(digits) != LOCATOR_DIGITS or len(words) != SECRET_WORDS:
        raise ValidationError(
            f"a receipt has {LOCATOR_DIGITS} digits followed by {SECRET_WORDS} words"
        )
    if not all(w.isascii() and w.isalpha() for w in words):
        raise ValidationError("the words of a receipt contain letters only")
    return Receipt(locator=digits, secret=" ".join(words))


def locator_hash(key: bytes, locator: str) -> str:
    """Keyed hash of a locator: finds the report without storing the locator."""
    return hmac.new(
        key, b"tipaudit-report-locator\x00" + locator.encode(), hashlib.sha256
    ).hexdigest()


@dataclass(frozen=True)
class ReceiptKeys:
    """What one Argon2id run over the secret gives: a verifier to store and a key to keep."""

    verifier: bytes
    wrapping_key: bytes


def derive_keys(secret: str, salt: bytes) -> ReceiptKeys:
    """Argon2id over the secret words: 32 bytes to store as a verifier, 32 bytes of key."""
    raw = hash_secret_raw(
        secret.encode("utf-8"),
        salt,
        time_cost=ARGON2_TIME_COST,
        memory_cost=ARGON2_MEMORY_KIB,
        parallelism=ARGON2_PARALLELISM,
        hash_len=64,
        type=Type.ID,
    )
    return ReceiptKeys(verifier=raw[:32], wrapping_key=raw[32:])


def new_salt() -> bytes:
    return secrets.token_bytes(SALT_BYTES)
