"""Staff accounts, sessions and tokens against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from tipaudit.core.roles import Role
from tipaudit.errors import (
    AuthenticationError,
    ConflictError,
    PermissionDeniedError,
    ValidationError,
)
from tipaudit.services.container import Services
from tipaudit.storage.models import ApiToken, User, WebSession

PASSWORD = "a long enough passphrase"


def _actions(services: Services) -> list[str]:
    return [r.action for r in services.audit.recent(limit=1000)][::-1]


def test_create_user_is_audited_and_password_hashed(services: Services) -> None:
    """Creating a user stores an Argon2id hash (never the password) and an audit event."""
    user = services.accounts.create_user("Alice", PASSWORD, roles={Role.AUDITOR})
    assert ("alice", frozenset({Role.AUDITOR})) == (user.username, user.roles)
    assert ["user.created"] == _actions(services)
    with services.db.read() as session:
        stored = session.execute(
            select(User.password_hash).where(User.username == "alice")
        ).scalar_one()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_duplicate_username_is_a_conflict(services: Services) -> None:
    """Usernames are unique, case-insensitively."""
    services.accounts.create_user("bob", PASSWORD, roles={Role.AUDITOR})
    with pytest.raises(ConflictError):
        services.accounts.create_user("BOB", PASSWORD, roles={Role.AUDITOR})


@pytest.mark.parametrize("name", ["", "a", "has space", "x" * 80, "ünïcode", "../etc"])
def test_bad_usernames_are_refused(services: Services, name: str) -> None:
    """Usernames are short, plain and safe to show anywhere."""
    with pytest.raises(ValidationError):
        services.accounts.create_user(name, PASSWORD, roles={Role.AUDITOR})


def test_authenticate_and_lockout(services: Services) -> None:
    """Wrong passwords are counted; after the limit even the right one is refused for a while."""
    services.accounts.create_user("carol", PASSWORD, roles={Role.AUDITOR})
    assert "carol" == services.accounts.authenticate("carol", PASSWORD).username
    for _ in range(services.settings.login_max_failures):
        with pytest.raises(AuthenticationError, match="not correct"):
            services.accounts.authenticate("carol", "wrong password here")
    with pytest.raises(AuthenticationError, match="locked"):
        services.accounts.authenticate("carol", PASSWORD)
    assert _actions(services).count("auth.login_failed") == services.settings.login_max_failures


def test_unknown_user_gets_the_same_message(services: Services) -> None:
    """An unknown username is not distinguishable from a wrong password."""
    with pytest.raises(AuthenticationError) as unknown:
        services.accounts.authenticate("nobody", PASSWORD)
    services.accounts.create_user("dave", PASSWORD, roles={Role.AUDITOR})
    with pytest.raises(AuthenticationError) as wrong:
        services.accounts.authenticate("dave", "not the password")
    assert unknown.value.message == wrong.value.message


def test_disabled_user_cannot_log_in_and_loses_sessions(services: Services) -> None:
    """Disabling an account ends its sessions and refuses new log-ins."""
    user = services.accounts.create_user("erin", PASSWORD, roles={Role.AUDITOR})
    info = services.accounts.start_session(user)
    assert services.accounts.resolve_session(info.secret) is not None
    services.accounts.set_active("erin", False, actor="admin", reason="left the unit")
    assert services.accounts.resolve_session(info.secret) is None
    with pytest.raises(AuthenticationError):
        services.accounts.authenticate("erin", PASSWORD)


def test_session_stores_only_a_hash_and_expires_when_idle(services: Services) -> None:
    """The cookie secret is not stored; an idle session ends."""
    user = services.accounts.create_user("frank", PASSWORD, roles={Role.AUDITOR})
    info = services.accounts.start_session(user)
    with services.db.write() as session:
        row = session.scalars(select(WebSession)).one()
        assert info.secret not in row.token_hash
        row.last_seen_at = row.last_seen_at - timedelta(
            minutes=services.settings.session_idle_minutes + 1
        )
    assert services.accounts.resolve_session(info.secret) is None


def test_second_factor_flow(services: Services) -> None:
    """With TOTP on, a session stays pending until a correct code is given."""
    user = services.accounts.create_user("gina", PASSWORD, roles={Role.AUDITOR})
    secret = pyotp.random_base32()
    with pytest.raises(ValidationError):
        services.accounts.enable_second_factor("gina", secret, "000000")
    services.accounts.enable_second_factor("gina", secret, pyotp.TOTP(secret).now())
    user = services.accounts.authenticate("gina", PASSWORD)
    info = services.accounts.start_session(user)
    assert info.second_factor_pending
    with pytest.raises(AuthenticationError):
        services.accounts.complete_second_factor(info.secret, "12345x")
    services.accounts.complete_second_factor(info.secret, pyotp.TOTP(secret).now())
    resolved = services.accounts.resolve_session(info.secret)
    assert resolved is not None
    assert not resolved.second_factor_pending


def test_token_scope_is_narrowed_and_revocable(services: Services) -> None:
    """A token carries a subset of its owner's roles, is stored hashed, and can be revoked."""
    user = services.accounts.create_user("hal", PASSWORD, roles={Role.AUDITOR, Role.POLICY_ANALYST})
    info, value = services.accounts.create_token(user, "script", roles=frozenset({Role.AUDITOR}))
    caller = services.accounts.resolve_token(value)
    assert (frozenset({Role.AUDITOR}), True) == (caller.roles, caller.via_token)
    with services.db.read() as session:
        stored = session.scalars(select(ApiToken.secret_hash)).one()
    assert value.split("_")[-1] not in stored
    services.accounts.revoke_token(user, info.id)
    with pytest.raises(AuthenticationError):
        services.accounts.resolve_token(value)


def test_token_cannot_exceed_owner_roles(services: Services) -> None:
    """Nobody can mint a token with roles they do not hold."""
    user = services.accounts.create_user("ivy", PASSWORD, roles={Role.AUDITOR})
    with pytest.raises(PermissionDeniedError):
        services.accounts.create_token(user, "x", roles=frozenset({Role.ADMINISTRATOR}))


def test_token_loses_roles_removed_from_owner(services: Services) -> None:
    """A token's effective roles shrink when its owner's roles do."""
    user = services.accounts.create_user("jay", PASSWORD, roles={Role.AUDITOR, Role.POLICY_ANALYST})
    _, value = services.accounts.create_token(user, "all")
    with services.db.write() as session:
        services.accounts.set_roles(
            session, "jay", frozenset({Role.POLICY_ANALYST}), actor="admin", reason="moved"
        )
    assert frozenset({Role.POLICY_ANALYST}) == services.accounts.resolve_token(value).roles


def test_granting_privileged_role_needs_second_admin(services: Services) -> None:
    """Granting the auditor role waits for another administrator, then applies when approved."""
    first = services.accounts.create_user("admin1", PASSWORD, roles={Role.ADMINISTRATOR})
    second = services.accounts.create_user("admin2", PASSWORD, roles={Role.ADMINISTRATOR})
    services.accounts.create_user("kim", PASSWORD, roles={Role.POLICY_ANALYST})
    request_id = services.change_roles(
        first, "kim", frozenset({Role.POLICY_ANALYST, Role.AUDITOR}), reason="joins audit team"
    )
    assert request_id is not None
    assert frozenset({Role.POLICY_ANALYST}) == services.accounts.get_user("kim").roles
    with pytest.raises(PermissionDeniedError, match="second person"):
        services.approvals.decide(request_id, first, approve=True, reason="approving my own")
    services.approvals.decide(request_id, second, approve=True, reason="confirmed with HR")
    assert frozenset({Role.POLICY_ANALYST, Role.AUDITOR}) == services.accounts.get_user("kim").roles
    assert ["approval.requested", "approval.granted", "user.roles_changed"] == _actions(services)[
        -3:
    ]


def test_ordinary_role_change_applies_at_once(services: Services) -> None:
    """Non-privileged roles are changed directly, with the reason in the audit log."""
    admin = services.accounts.create_user("admin", PASSWORD, roles={Role.ADMINISTRATOR})
    services.accounts.create_user("lee", PASSWORD, roles={Role.POLICY_ANALYST})
    assert (
        services.change_roles(admin, "lee", frozenset({Role.VETTING_OFFICER}), reason="new posting")
        is None
    )
    assert frozenset({Role.VETTING_OFFICER}) == services.accounts.get_user("lee").roles
