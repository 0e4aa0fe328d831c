"""Staff accounts, console sessions and API tokens, with every change in the audit log."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tipaudit.accounts import passwords, tokens, totp
from tipaudit.audit import AuditAction, AuditEntry
from tipaudit.core.clock import as_utc, utcnow
from tipaudit.core.roles import Permission, Role, has_permission, parse_roles
from tipaudit.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from tipaudit.services.audit import AuditLog
from tipaudit.settings import Settings
from tipaudit.storage.db import Database
from tipaudit.storage.models import ApiToken, User, UserRole, WebSession

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
SYSTEM_ACTOR = "system"


@dataclass(frozen=True)
class StaffUser:
    """A staff member as the rest of the system sees them (never with secrets)."""

    id: int
    username: str
    display_name: str
    roles: frozenset[Role]
    is_active: bool
    has_second_factor: bool
    via_token: bool = False

    def can(self, permission: Permission) -> bool:
        return self.is_active and has_permission(self.roles, permission)

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise PermissionDeniedError(
                f"your roles ({', '.join(sorted(r.value for r in self.roles)) or 'none'}) "
                f"do not allow {permission.value}"
            )


@dataclass(frozen=True)
class TokenInfo:
    id: int
    name: str
    public_id: str
    roles: frozenset[Role]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or as_utc(self.expires_at) > utcnow()


@dataclass(frozen=True)
class SessionInfo:
    user: StaffUser
    second_factor_pending: bool
    secret: str


def _roles_of(user: User) -> frozenset[Role]:
    return frozenset(Role(r.role) for r in user.roles)


def to_staff(user: User) -> StaffUser:
    return StaffUser(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        roles=_roles_of(user),
        is_active=user.is_active,
        has_second_factor=user.totp_secret is not None,
    )


def normalise_username(username: str) -> str:
    name = username.strip().lower()
    if not USERNAME_RE.match(name):
        raise ValidationError(
            "a username has 2 to 63 characters: lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


class Accounts:
    """Use cases for staff accounts. Each method is one unit of work."""

    def __init__(self, settings: Settings, db: Database, audit: AuditLog) -> None:
        self.settings = settings
        self.db = db
        self.audit = audit

    # -- users --------------------------------------------------------------------------------
    def create_user(
        self,
        username: str,
        password: str,
        *,
        roles: frozenset[Role] | set[Role],
        display_name: str = "",
        actor: str = SYSTEM_ACTOR,
    ) -> StaffUser:
        name = normalise_username(username)
        passwords.check_policy(password, username=name)
        display = display_name.strip() or name
        if len(display) > 200:
            raise ValidationError("a display name has at most 200 characters")
        with self.db.write() as session:
            if session.scalar(select(User.id).where(User.username == name)) is not None:
                raise ConflictError(f"a user named {name!r} already exists")
            user = User(
                username=name,
                display_name=display,
                password_hash=passwords.hash_password(password),
                is_active=True,
                failed_logins=0,
                created_at=utcnow(),
            )
            user.roles = [UserRole(role=r.value) for r in sorted(roles)]
            session.add(user)
            try:
                session.flush()
            except IntegrityError as exc:  # a concurrent creation of the same name
                raise ConflictError(f"a user named {name!r} already exists") from exc
            self.audit.record(
                session,
                AuditEntry(
                    actor=actor,
                    action=AuditAction.USER_CREATED,
                    object_type="user",
                    object_id=name,
                    reason=None,
                    details={"roles": sorted(r.value for r in roles)},
                ),
            )
            return to_staff(user)

    def list_users(self) -> list[StaffUser]:
        with self.db.read() as session:
            return [to_staff(u) for u in session.scalars(select(User).order_by(User.username))]

    def get_user(self, username: str) -> StaffUser:
        with self.db.read() as session:
            return to_staff(self._load(session, username))

    def count_users(self) -> int:
        with self.db.read() as session:
            return len(session.scalars(select(User.id)).all())

    @staticmethod
    def _load(session: Session, username: str) -> User:
        user = session.scalar(select(User).where(User.username == username.strip().lower()))
        if user is None:
            raise NotFoundError(f"no user named {username!r}")
        return user

    def set_active(self, username: str, active: bool, *, actor: str, reason: str = "") -> None:
        with self.db.write() as session:
            user = self._load(session, username)
            if user.username == actor and not active:
                raise ValidationError("you cannot disable your own account")
            if user.is_active == active:
                return
            user.is_active = active
            if not active:  # a disabled account loses its sessions at once
                for web_session in session.scalars(
                    select(WebSession).where(WebSession.user_id == user.id)
                ):
                    session.delete(web_session)
            self.audit.record(
                session,
                AuditEntry(
                    actor=actor,
                    action=AuditAction.USER_ENABLED if active else AuditAction.USER_DISABLED,
                    object_type="user",
                    object_id=user.username,
                    reason=reason or None,
                    details={},
                ),
            )

    def set_roles(
        self, session: Session, username: str, roles: frozenset[Role], *, actor: str, reason: str
    ) -> None:
        """Replace a user's roles inside the caller's unit of work."""
        user = self._load(session, username)
        before = _roles_of(user)
        if before == roles:
            return
        user.roles = [UserRole(role=r.value) for r in sorted(roles)]
        session.flush()
        self.audit.record(
            session,
            AuditEntry(
                actor=actor,
                action=AuditAction.USER_ROLES_CHANGED,
                object_type="user",
                object_id=user.username,
                reason=reason or None,
                details={
                    "before": sorted(r.value for r in before),
                    "after": sorted(r.value for r in roles),
                },
            ),
        )

    def change_password(self, username: str, new_password: str, *, actor: str) -> None:
        with self.db.write() as session:
            user = self._load(session, username)
            passwords.check_policy(new_password, username=user.username)
            user.password_hash = passwords.hash_password(new_password)
            user.failed_logins = 0
            user.locked_until = None
            self.audit.record(
                session,
                AuditEntry(
                    actor=actor,
                    action=AuditAction.USER_PASSWORD_CHANGED,
                    object_type="user",
                    object_id=user.username,
                    reason=None,
                    details={},
                ),
            )

    def check_password(self, username: str, password: str) -> bool:
        with self.db.read() as session:
            return passwords.verify_password(self._load(session, username).password_hash, password)

    # -- log-in and sessions ------------------------------------------------------------------
    def authenticate(self, username: str, password: str) -> StaffUser:
        """Check credentials, counting failures and locking the account after too many.

        The same message is given for an unknown user, a wrong password and a disabled
        account, and an unknown user still costs one Argon2 verification.
        """
        failure = AuthenticationError("the username or password is not correct")
        try:
            name = normalise_username(username)
        except ValidationError:
            passwords.verify_password(passwords.DUMMY_HASH, password)
            raise failure from None
        now = utcnow()
        refused: AuthenticationError | None = None
        with self.db.write() as session:
            user = session.scalar(select(User).where(User.username == name))
            if user is None:
                passwords.verify_password(passwords.DUMMY_HASH, password)
                raise failure
            if user.locked_until is not None and as_utc(user.locked_until) > now:
                raise AuthenticationError(
                    "this account is locked after too many failed log-ins; try again later "
                    "or ask an administrator"
                )
            ok = passwords.verify_password(user.password_hash, password)
            if not ok or not user.is_active:
                if ok:
                    reason = "account disabled"
                else:
                    reason = "wrong password"
                    user.failed_logins += 1
                if user.failed_logins >= self.settings.login_max_failures:
                    user.locked_until = now + timedelta(minutes=self.settings.login_lockout_minutes)
                    user.failed_logins = 0
                self.audit.record(
                    session,
                    AuditEntry(
                        actor=user.username,
                        action=AuditAction.LOGIN_FAILED,
                        object_type="user",
                        object_id=user.username,
                        reason=reason,
                        details={"locked": user.locked_until is not None},
                    ),
                )
                refused = failure  # raised after the failure count is committed
            else:
                if passwords.needs_rehash(user.password_hash):
                    user.password_hash = passwords.hash_password(password)
                user.failed_logins = 0
                user.locked_until = None
                user.last_login_at = now
                staff = to_staff(user)
        if refused is not None:
            raise refused
        return staff

    def start_session(self, user: StaffUser) -> SessionInfo:
        secret = tokens.new_secret()
        now = utcnow()
        pending = user.has_second_factor
        with self.db.write() as session:
            session.add(
                WebSession(
                    token_hash=tokens.digest(secret),
                    user_id=user.id,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + timedelta(hours=self.settings.session_max_hours),
                    second_factor_pending=pending,
                )
            )
            if not pending:
                self._record_login(session, user)
        return SessionInfo(user=user, second_factor_pending=pending, secret=secret)

    def _record_login(self, session: Session, user: StaffUser) -> None:
        self.audit.record(
            session,
            AuditEntry(
                actor=user.username,
                action=AuditAction.LOGIN_SUCCEEDED,
                object_type="user",
                object_id=user.username,
                reason=None,
                details={"second_factor": user.has_second_factor},
            ),
        )

    def resolve_session(self, secret: str) -> SessionInfo | None:
        """The live session for a cookie secret, or None; idle and old sessions end here."""
        if not secret or len(secret) > 100:
            return None
        now = utcnow()
        idle = timedelta(minutes=self.settings.session_idle_minutes)
        with self.db.read() as session:
            row = session.get(WebSession, tokens.digest(secret))
            if row is None:
                return None
            user = session.get(User, row.user_id)
            expired = as_utc(row.expires_at) <= now or as_utc(row.last_seen_at) + idle <= now
            stale_touch = as_utc(row.last_seen_at) + timedelta(minutes=1) <= now
            pending = row.second_factor_pending
            staff = to_staff(user) if user is not None else None
        if staff is None or expired or not staff.is_active:
            self.end_session(secret, record=False)
            return None
        if stale_touch:  # write at most once a minute per session
            with self.db.write() as session:
                live = session.get(WebSession, tokens.digest(secret))
                if live is not None:
                    live.last_seen_at = now
        return SessionInfo(user=staff, second_factor_pending=pending, secret=secret)

    def complete_second_factor(self, secret: str, code: str) -> StaffUser:
        wrong = AuthenticationError("that code is not correct; try the current one")
        refused = False
        with self.db.write() as session:
            row = session.get(WebSession, tokens.digest(secret))
            if row is None:
                raise AuthenticationError("your log-in has expired; start again")
            user = session.get(User, row.user_id)
            if user is None or user.totp_secret is None:
                raise AuthenticationError("your log-in has expired; start again")
            if not totp.verify_totp(user.totp_secret, code):
                user.failed_logins += 1
                if user.failed_logins >= self.settings.login_max_failures:
                    # Guessing codes ends the half-finished log-in and locks the account.
                    user.locked_until = utcnow() + timedelta(
                        minutes=self.settings.login_lockout_minutes
                    )
                    user.failed_logins = 0
                    session.delete(row)
                self.audit.record(
                    session,
                    AuditEntry(
                        actor=user.username,
                        action=AuditAction.LOGIN_FAILED,
                        object_type="user",
                        object_id=user.username,
                        reason="wrong second-factor code",
                        details={},
                    ),
                )
                refused = True
            else:
                row.second_factor_pending = False
                user.failed_logins = 0
                staff = to_staff(user)
                self._record_login(session, staff)
        if refused:
            raise wrong
        return staff

    def end_session(self, secret: str, *, record: bool = True) -> None:
        with self.db.write() as session:
            row = session.get(WebSession, tokens.digest(secret))
            if row is None:
                return
            user = session.get(User, row.user_id)
            session.delete(row)
            if record and user is not None:
                self.audit.record(
                    session,
                    AuditEntry(
                        actor=user.username,
                        action=AuditAction.LOGOUT,
                        object_type="user",
                        object_id=user.username,
                        reason=None,
                        details={},
                    ),
                )

    # -- second factor ------------------------------------------------------------------------
    def enable_second_factor(self, username: str, secret: str, code: str) -> None:
        if not totp.verify_totp(secret, code):
            raise ValidationError("that code does not match; check your device's clock")
        with self.db.write() as session:
            user = self._load(session, username)
            user.totp_secret = secret
            self.audit.record(
                session,
                AuditEntry(
                    actor=user.username,
                    action=AuditAction.TOTP_ENABLED,
                    object_type="user",
                    object_id=user.username,
                    reason=None,
                    details={},
                ),
            )

    def disable_second_factor(self, username: str, *, actor: str) -> None:
        with self.db.write() as session:
            user = self._load(session, username)
            if user.totp_secret is None:
                return
            user.totp_secret = None
            self.audit.record(
                session,
                AuditEntry(
                    actor=actor,
                    action=AuditAction.TOTP_DISABLED,
                    object_type="user",
                    object_id=user.username,
                    reason=None,
                    details={},
                ),
            )

    # -- API tokens ---------------------------------------------------------------------------
    def create_token(
        self,
        user: StaffUser,
        name: str,
        *,
        roles: frozenset[Role] | None = None,
        expires_in_days: int | None = 90,
    ) -> tuple[TokenInfo, str]:
        """Make a personal API token; returns its record and the value, shown once."""
        name = name.strip()
        if not 1 <= len(name) <= 100:
            raise ValidationError("give the token a name of 1 to 100 characters")
        scope = user.roles if roles is None else roles
        if not scope:
            raise ValidationError("a token needs at least one role")
        if not scope <= user.roles:
            extra = ", ".join(sorted(r.value for r in scope - user.roles))
            raise PermissionDeniedError(f"a token cannot have roles you do not hold: {extra}")
        if expires_in_days is not None and not 1 <= expires_in_days <= 366:
            raise ValidationError("a token expires after 1 to 366 days")
        issued = tokens.issue_api_token()
        now = utcnow()
        with self.db.write() as session:
            row = ApiToken(
                user_id=user.id,
                name=name,
                public_id=issued.public_id,
                secret_hash=tokens.digest(issued.secret),
                roles=",".join(sorted(r.value for r in scope)),
                created_at=now,
                expires_at=None
                if expires_in_days is None
                else now + timedelta(days=expires_in_days),
            )
            session.add(row)
            session.flush()
            self.audit.record(
                session,
                AuditEntry(
                    actor=user.username,
                    action=AuditAction.TOKEN_CREATED,
                    object_type="api_token",
                    object_id=issued.public_id,
                    reason=None,
                    details={"name": name, "roles": sorted(r.value for r in scope)},
                ),
            )
            return _token_info(row), issued.value

    def list_tokens(self, user: StaffUser) -> list[TokenInfo]:
        with self.db.read() as session:
            rows = session.scalars(
                select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
            )
            return [_token_info(r) for r in rows]

    def revoke_token(self, user: StaffUser, token_id: int) -> None:
        with self.db.write() as session:
            row = session.get(ApiToken, token_id)
            if row is None or row.user_id != user.id:
                raise NotFoundError("no such token")
            if row.revoked_at is not None:
                return
            row.revoked_at = utcnow()
            self.audit.record(
                session,
                AuditEntry(
                    actor=user.username,
                    action=AuditAction.TOKEN_REVOKED,
                    object_type="api_token",
                    object_id=row.public_id,
                    reason=None,
                    details={},
                ),
            )

    def resolve_token(self, value: str) -> StaffUser:
        """The user behind an API token, with roles narrowed to the token's scope."""
        public_id, secret = tokens.parse_api_token(value)
        invalid = AuthenticationError("the API token is not valid, expired or revoked")
        now = utcnow()
        with self.db.read() as session:
            row = session.scalar(select(ApiToken).where(ApiToken.public_id == public_id))
            if row is None or not tokens.same_digest(secret, row.secret_hash):
                raise invalid
            info = _token_info(row)
            user = session.get(User, row.user_id)
            if not info.active or user is None or not user.is_active:
                raise invalid
            staff = to_staff(user)
            stale = (
                row.last_used_at is None or as_utc(row.last_used_at) + timedelta(minutes=1) <= now
            )
        if stale:
            with self.db.write() as session:
                live = session.get(ApiToken, info.id)
                if live is not None:
                    live.last_used_at = now
        return StaffUser(
            id=staff.id,
            username=staff.username,
            display_name=staff.display_name,
            roles=staff.roles & info.roles,
            is_active=True,
            has_second_factor=staff.has_second_factor,
            via_token=True,
        )


def _token_info(row: ApiToken) -> TokenInfo:
    return TokenInfo(
        id=row.id,
        name=row.name,
        public_id=row.public_id,
        roles=parse_roles(r for r in row.roles.split(",") if r),
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )
