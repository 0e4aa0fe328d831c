"""The one settings object.

Settings come from ``TIPAUDIT_*`` environment variables (and keyword arguments in tests). They
are built once at an entry point (the CLI callback or ``create_app``) and passed down; no module
reads the environment at import time.

Every setting is declared here with its help text; ``docs/configuration.md`` lists them and a
test keeps the two in step.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tipaudit.errors import ConfigurationError


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("tipaudit", appauthor=False))


class Settings(BaseSettings):
    """Configuration of one tipaudit installation."""

    model_config = SettingsConfigDict(env_prefix="TIPAUDIT_", extra="forbid", frozen=True)

    environment: Literal["development", "production"] = Field(
        "development",
        description="`production` refuses unsafe settings (plain-HTTP base URL, missing keys).",
    )
    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Folder for the embedded database, keys, audit checkpoints and uploads.",
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the database; defaults to SQLite in the data folder. "
        "PostgreSQL: `postgresql+psycopg://user@host:5432/dbname`.",
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Key for CSRF tokens and other server-side MACs; when unset, a random key "
        "is created once in the data folder (`secret.key`, mode 0600).",
    )
    audit_signing_key_file: Path | None = Field(
        None,
        description="Ed25519 key that signs audit checkpoints; default `keys/audit-signing.key` "
        "in the data folder. Keep it away from database administrators.",
    )
    audit_checkpoint_file: Path | None = Field(
        None,
        description="Append-only file of signed audit checkpoints, kept outside the database; "
        "default `audit/checkpoints.jsonl` in the data folder.",
    )
    base_url: str = Field(
        "http://127.0.0.1:8000",
        description="Public address of the console; cookies are marked Secure when it is https.",
    )
    session_idle_minutes: int = Field(
        30, ge=1, le=24 * 60, description="A console session ends after this long without use."
    )
    session_max_hours: int = Field(
        12, ge=1, le=24 * 7, description="A console session ends this long after log-in."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="How much the server logs (never identifying request data)."
    )
    login_max_failures: int = Field(
        5, ge=1, description="Failed log-ins for one account before it is locked for a while."
    )
    login_lockout_minutes: int = Field(
        15, ge=1, description="How long an account stays locked after too many failed log-ins."
    )
    # -- public reports ----------------------------------------------------------------------
    reports_private_key_file: Path | None = Field(
        None,
        description="Private key that opens public reports for reviewers (X25519); default "
        "`keys/reports-organisation.key` in the data folder. Keep it off database backups. The "
        "public intake does not need it (`serve --intake-only` runs without it).",
    )
    reports_upload_dir: Path | None = Field(
        None,
        description="Folder of encrypted report attachments; default `reports/uploads` in the "
        "data folder.",
    )
    reports_max_attachments: int = Field(
        5, ge=0, le=50, description="Files a reporter may attach to one report or message."
    )
    reports_max_attachment_mb: int = Field(
        10, ge=1, le=100, description="Largest attachment accepted, in megabytes."
    )
    reports_receipt_max_failures: int = Field(
        5,
        ge=1,
        description="Wrong receipts for one report locator before it is locked for a while.",
    )
    reports_receipt_lock_minutes: int = Field(
        30, ge=1, description="How long a report locator stays locked after too many failures."
    )
    reports_receipt_global_failures_per_minute: int = Field(
        60,
        ge=1,
        description="Wrong receipts per minute across the service before every receipt check "
        "waits for the next minute (a brake on mass guessing; stored, so it survives restarts).",
    )
    reports_max_submissions_per_minute: int = Field(
        600, ge=1, description="New public reports accepted per minute across the service."
    )
    reports_retention_days: dict[str, int] = Field(
        default_factory=lambda: {"closed": 730},
        description="Days a report is kept after it entered each state, as JSON, e.g. "
        '`{"closed": 730, "feedback": 1095}`; a state not named is kept until it moves on. '
        "`tipaudit reports purge` deletes expired reports and their attachments.",
    )
    reports_min_cell: int = Field(
        11,
        ge=3,
        le=1000,
        description="Smallest count the public report statistics show; smaller counts, and "
        "the cells that would reveal them, are suppressed (see docs/transparency.md).",
    )

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        return value.rstrip("/")

    # -- derived paths -----------------------------------------------------------------------
    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'tipaudit.db'}"

    @property
    def resolved_audit_signing_key_file(self) -> Path:
        return self.audit_signing_key_file or self.data_dir / "keys" / "audit-signing.key"

    @property
    def resolved_audit_checkpoint_file(self) -> Path:
        return self.audit_checkpoint_file or self.data_dir / "audit" / "checkpoints.jsonl"

    @property
    def resolved_reports_private_key_file(self) -> Path:
        return self.reports_private_key_file or self.data_dir / "keys" / "reports-organisation.key"

    @property
    def resolved_reports_upload_dir(self) -> Path:
        return self.reports_upload_dir or self.data_dir / "reports" / "uploads"

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    def check_production(self) -> None:
        """Refuse settings that are unsafe outside development."""
        if self.environment != "production":
            return
        problems = []
        if not self.secure_cookies:
            problems.append("TIPAUDIT_BASE_URL must be https:// in production")
        if self.secret_key is None:
            problems.append("TIPAUDIT_SECRET_KEY must be set in production")
        if problems:
            raise ConfigurationError("; ".join(problems))

    def ensure_data_dir(self) -> Path:
        """Create the data folder (private to the current user) and return it."""
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise ConfigurationError(
                f"cannot create the data folder {self.data_dir}: {exc.strerror}",
                hint="set TIPAUDIT_DATA_DIR to a writable folder",
            ) from exc
        return self.data_dir

    def load_secret_key(self) -> bytes:
        """Return the server secret, creating a random one in the data folder if needed."""
        if self.secret_key is not None:
            value = self.secret_key.get_secret_value().encode()
            if len(value) < 32:
                raise ConfigurationError("TIPAUDIT_SECRET_KEY must be at least 32 characters")
            return value
        path = self.ensure_data_dir() / "secret.key"
        return read_or_create_private_file(path, lambda: secrets.token_hex(32).encode())


def read_or_create_private_file(path: Path, make: Callable[[], bytes]) -> bytes:
    """Read a small secret file, creating it with mode 0600 (atomically) if it is missing."""
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise ConfigurationError(
                f"{path} is readable by other users (mode {oct(mode)})",
                hint=f"run: chmod 600 {path}",
            )
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = make()
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as handle:
        handle.write(value)
    return value
