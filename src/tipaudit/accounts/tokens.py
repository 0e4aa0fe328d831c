"""Random secrets for console sessions and personal API tokens.

Secrets have 256 bits of entropy, so a plain SHA-256 is a safe way to store them: only the
hash is kept, and a stolen table does not let anyone log in.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from tipaudit.errors import AuthenticationError

TOKEN_PREFIX = "tpa"  # noqa: S105 - a public prefix, not a secret
_TOKEN_RE = re.compile(r"^tpa_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$")


def new_secret() -> str:
    """A URL-safe random secret of 256 bits."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """SHA-256 hex of a secret, as stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


def same_digest(secret: str, stored: str) -> bool:
    return hmac.compare_digest(digest(secret), stored)


@dataclass(frozen=True)
class IssuedToken:
    """A newly made API token: ``value`` is shown to its owner once and never stored."""

    public_id: str
    secret: str

    @property
    def value(self) -> str:
        return f"{TOKEN_PREFIX}_{self.public_id}_{self.secret}"


def issue_api_token() -> IssuedToken:
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    public_id = "".join(secrets.choice(alphabet) for _ in range(12))
    return IssuedToken(public_id=public_id, secret=new_secret())


def parse_api_token(value: str) -> tuple[str, str]:
    """Split a presented token into its public id and secret, or refuse it."""
    match = _TOKEN_RE.match(value.strip())
    if match is None:
        raise AuthenticationError("the API token is malformed")
    return match.group(1), match.group(2)


def csrf_token(key: bytes, session_secret: str) -> str:
    """The CSRF token for a browser: a MAC of its cookie secret under the server key."""
    return hmac.new(key, b"csrf:" + session_secret.encode(), hashlib.sha256).hexdigest()


def csrf_valid(key: bytes, session_secret: str, presented: str) -> bool:
    return hmac.compare_digest(csrf_token(key, session_secret), presented)
