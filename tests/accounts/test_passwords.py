"""Password hashing and policy."""

from __future__ import annotations

import pytest

from tipaudit.accounts import passwords
from tipaudit.errors import ValidationError


def test_hash_is_argon2id_and_verifies() -> None:
    """A hash is an Argon2id PHC string that verifies the right password only."""
    stored = passwords.hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert passwords.verify_password(stored, "correct horse battery")
    assert not passwords.verify_password(stored, "correct horse batterY")


def test_malformed_hash_does_not_raise() -> None:
    """A corrupted stored hash is a failed log-in, not a crash."""
    assert not passwords.verify_password("not-a-hash", "whatever-password")


@pytest.mark.parametrize(
    ("password", "fragment"),
    [
        ("short", "at least 12"),
        ("x" * 1025, "at most 1024"),
        ("Password1234", "too easy"),
        ("alice.jones1", "too easy"),
    ],
)
def test_policy_refuses_weak_passwords(password: str, fragment: str) -> None:
    """Too short, too long, common, or equal to the username: refused with a reason."""
    with pytest.raises(ValidationError) as info:
        passwords.check_policy(password, username="alice.jones1")
    assert fragment in info.value.message


def test_policy_accepts_long_passphrase() -> None:
    """No composition rules: a long lower-case passphrase is fine."""
    passwords.check_policy("purple tractor on the hill", username="bob")
