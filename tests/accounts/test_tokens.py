"""API token and CSRF token formats."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tipaudit.accounts import tokens
from tipaudit.errors import AuthenticationError


def test_issued_token_round_trips() -> None:
    """A token's printed value parses back to its public id and secret."""
    issued = tokens.issue_api_token()
    assert (issued.public_id, issued.secret) == tokens.parse_api_token(issued.value)
    assert issued.value.startswith("tpa_")


def test_tokens_are_unique_and_long() -> None:
    """Secrets carry 256 bits: 43 URL-safe characters, never repeated."""
    values = {tokens.issue_api_token().secret for _ in range(200)}
    assert len(values) == 200
    assert all(len(v) == 43 for v in values)


@given(st.text(max_size=200))
def test_garbage_tokens_are_refused_cleanly(value: str) -> None:
    """Any string that is not a token is an AuthenticationError, never another exception."""
    if tokens._TOKEN_RE.match(value.strip()):
        return
    with pytest.raises(AuthenticationError):
        tokens.parse_api_token(value)


def test_csrf_token_is_bound_to_key_and_cookie() -> None:
    """A CSRF token made for one cookie or key does not validate for another."""
    token = tokens.csrf_token(b"k" * 32, "cookie-a")
    assert tokens.csrf_valid(b"k" * 32, "cookie-a", token)
    assert not tokens.csrf_valid(b"k" * 32, "cookie-b", token)
    assert not tokens.csrf_valid(b"j" * 32, "cookie-a", token)
