"""Password hashing with Argon2id and the password policy.

The policy follows OWASP ASVS 5: a minimum length of 12, no composition rules, no forced
rotation, and a refusal of the passwords most often seen in breaches.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from tipaudit.errors import ValidationError

MIN_LENGTH = 12
MAX_LENGTH = 1024  # argon2 would take anything; a bound keeps hashing cost predictable

# A short list of passwords long enough to pass the length rule yet common in breach corpora.
_COMMON = frozenset(
    {
        "password1234",
        "123456789012",
        "qwertyuiop12",
        "administrator",
        "passwordpassword",
        "iloveyou1234",
        "letmein12345",
        "welcome12345",
        "changeme1234",
        "tipaudit1234",
        "1q2w3e4r5t6y",
        "qwerty123456",
        "aaaaaaaaaaaa",
    }
)

_hasher = PasswordHasher()  # Argon2id with the library's RFC 9106 low-memory profile


def check_policy(password: str, *, username: str = "") -> None:
    """Refuse a password that is too short, too long, common or the same as the username."""
    if len(password) < MIN_LENGTH:
        raise ValidationError(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise ValidationError(f"a password may have at most {MAX_LENGTH} characters")
    lowered = password.lower()
    if lowered in _COMMON or (username and lowered == username.lower()):
        raise ValidationError("this password is too easy to guess; choose another")


def hash_password(password: str) -> str:
    """Return an Argon2id hash (PHC string) of ``password``."""
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """Check ``password`` against ``stored_hash`` in constant time; never raises on mismatch."""
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than the current ones."""
    return _hasher.check_needs_rehash(stored_hash)


# Verified against when a username does not exist, so timing does not reveal which accounts do.
DUMMY_HASH = hash_password("not-a-real-account-password")
