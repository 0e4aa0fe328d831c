"""Staff roles and what each may do: the one place permissions are decided.

Roles follow the people who use tipaudit. Permissions are fine-grained verbs; every check in the
web console, the JSON API and the CLI goes through :func:`has_permission` or :func:`require`.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from tipaudit.errors import PermissionDeniedError, ValidationError


class Role(StrEnum):
    """A staff role. A user may hold several."""

    ADMINISTRATOR = "administrator"
    PROCUREMENT_ANALYST = "procurement_analyst"
    VETTING_OFFICER = "vetting_officer"
    POLICY_ANALYST = "policy_analyst"
    INTAKE_OFFICER = "intake_officer"
    INVESTIGATOR = "investigator"
    DECISION_MAKER = "decision_maker"
    AUDITOR = "auditor"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Permission(StrEnum):
    """Something a staff member may be allowed to do."""

    CONSOLE_VIEW = "console:view"
    USERS_MANAGE = "users:manage"
    APPROVALS_DECIDE = "approvals:decide"
    AUDIT_READ = "audit:read"
    AUDIT_VERIFY = "audit:verify"
    PROCUREMENT_READ = "procurement:read"
    PROCUREMENT_SCREEN = "procurement:screen"
    ENTITIES_READ = "entities:read"
    ENTITIES_SCREEN = "entities:screen"
    VETTING_DECIDE = "vetting:decide"
    POLICY_READ = "policy:read"
    POLICY_ASSESS = "policy:assess"
    REPORTS_READ = "reports:read"
    REPORTS_TRIAGE = "reports:triage"
    REPORTS_INVESTIGATE = "reports:investigate"
    REPORTS_DECIDE = "reports:decide"
    REFERENCE_DATA_MANAGE = "reference:manage"


_EVERY_ROLE = frozenset({Permission.CONSOLE_VIEW})

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMINISTRATOR: _EVERY_ROLE
    | {
        Permission.USERS_MANAGE,
        Permission.APPROVALS_DECIDE,
        Permission.AUDIT_VERIFY,
        Permission.REFERENCE_DATA_MANAGE,
    },
    Role.PROCUREMENT_ANALYST: _EVERY_ROLE
    | {Permission.PROCUREMENT_READ, Permission.PROCUREMENT_SCREEN, Permission.ENTITIES_READ},
    Role.VETTING_OFFICER: _EVERY_ROLE
    | {
        Permission.ENTITIES_READ,
        Permission.ENTITIES_SCREEN,
        Permission.VETTING_DECIDE,
        Permission.APPROVALS_DECIDE,
        Permission.PROCUREMENT_READ,
    },
    Role.POLICY_ANALYST: _EVERY_ROLE | {Permission.POLICY_READ, Permission.POLICY_ASSESS},
    Role.INTAKE_OFFICER: _EVERY_ROLE | {Permission.REPORTS_READ, Permission.REPORTS_TRIAGE},
    Role.INVESTIGATOR: _EVERY_ROLE
    | {
        Permission.REPORTS_READ,
        Permission.REPORTS_TRIAGE,
        Permission.REPORTS_INVESTIGATE,
        Permission.ENTITIES_READ,
    },
    Role.DECISION_MAKER: _EVERY_ROLE
    | {
        Permission.REPORTS_READ,
        Permission.REPORTS_DECIDE,
        Permission.APPROVALS_DECIDE,
        Permission.VETTING_DECIDE,
        Permission.PROCUREMENT_READ,
        Permission.ENTITIES_READ,
        Permission.POLICY_READ,
    },
    Role.AUDITOR: _EVERY_ROLE
    | {
        Permission.AUDIT_READ,
        Permission.AUDIT_VERIFY,
        Permission.PROCUREMENT_READ,
        Permission.ENTITIES_READ,
        Permission.POLICY_READ,
    },
}

# Roles whose grant is itself a sensitive act: in the console it needs a second administrator.
PRIVILEGED_ROLES = frozenset({Role.ADMINISTRATOR, Role.AUDITOR, Role.DECISION_MAKER})


def parse_roles(values: Iterable[str]) -> frozenset[Role]:
    """Turn role names (as typed by a person) into roles, refusing unknown ones."""
    roles = set()
    for raw in values:
        name = raw.strip().lower().replace("-", "_").replace(" ", "_")
        if not name:
            continue
        try:
            roles.add(Role(name))
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise ValidationError(f"unknown role {raw!r}; known roles: {known}") from None
    return frozenset(roles)


def permissions_for(roles: Iterable[Role]) -> frozenset[Permission]:
    """Every permission granted by any of ``roles``."""
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS[role]
    return frozenset(granted)


def has_permission(roles: Iterable[Role], permission: Permission) -> bool:
    """Whether a holder of ``roles`` may do ``permission``."""
    return permission in permissions_for(roles)


def require(roles: Iterable[Role], permission: Permission) -> None:
    """Raise :class:`PermissionDeniedError` unless ``roles`` grant ``permission``."""
    if not has_permission(roles, permission):
        raise PermissionDeniedError(f"your roles do not allow {permission.value}")
