"""One error root for tipaudit.

Every error a user can cause derives from :class:`TipAuditError`. It carries a stable
machine-readable ``code`` and the HTTP ``status`` the web layer answers with; the CLI prints
its message without a traceback. Domain code raises these and never ``HTTPException``.
"""

from __future__ import annotations


class TipAuditError(Exception):
    """Base class for errors caused by input, configuration or permissions."""

    code = "error"
    status = 400

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class ConfigurationError(TipAuditError):
    """A setting is missing, malformed or unsafe."""

    code = "configuration_error"
    status = 500


class ValidationError(TipAuditError, ValueError):
    """Input that cannot be accepted as given."""

    code = "invalid_input"
    status = 422


class NotFoundError(TipAuditError, LookupError):
    """The requested object does not exist (or the caller may not know it exists)."""

    code = "not_found"
    status = 404


class ConflictError(TipAuditError):
    """The request conflicts with the current state (a duplicate name, a stale decision)."""

    code = "conflict"
    status = 409


class AuthenticationError(TipAuditError):
    """The caller could not be identified: wrong credentials, expired session or token."""

    code = "not_authenticated"
    status = 401


class PermissionDeniedError(TipAuditError, PermissionError):
    """The caller is known but their roles do not allow this action."""

    code = "forbidden"
    status = 403


class RateLimitedError(TipAuditError):
    """Too many attempts in a short time."""

    code = "rate_limited"
    status = 429


class TwoPersonRuleError(PermissionDeniedError):
    """An action needs a second person's approval and cannot be taken by one person alone."""

    code = "second_person_required"


class AuditIntegrityError(TipAuditError):
    """The audit log failed verification."""

    code = "audit_integrity"
    status = 500
