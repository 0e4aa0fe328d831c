"""Composition: build every service from one :class:`Settings`.

The CLI and the web app factory call :func:`build_services`; nothing else constructs services,
so tests get a fully wired system from a ``Settings`` pointing at a temporary folder.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from tipaudit.core.roles import PRIVILEGED_ROLES, Permission, Role, parse_roles
from tipaudit.core.two_person import ApprovalPolicy
from tipaudit.refdata import ReferenceData
from tipaudit.services.accounts import Accounts, StaffUser
from tipaudit.services.approvals import Approvals
from tipaudit.services.audit import AuditLog
from tipaudit.services.destinations import Destinations
from tipaudit.services.watchlists import Watchlists
from tipaudit.settings import Settings
from tipaudit.storage.db import Database
from tipaudit.storage.migrate import upgrade

GRANT_PRIVILEGED_ROLE = ApprovalPolicy(
    action="user.grant_privileged_role",
    approver_permission=Permission.USERS_MANAGE,
    description="grant an administrator, auditor or decision-maker role",
)


@dataclass
class Services:
    settings: Settings
    db: Database
    audit: AuditLog
    accounts: Accounts
    approvals: Approvals
    refdata: ReferenceData
    destinations: Destinations
    watchlists: Watchlists

    def change_roles(
        self, actor: StaffUser, username: str, roles: frozenset[Role], *, reason: str
    ) -> int | None:
        """Change a user's roles; granting a privileged role waits for a second administrator.

        Returns the approval request id when the change is waiting, else None.
        """
        actor.require(Permission.USERS_MANAGE)
        current = self.accounts.get_user(username).roles
        added_privileged = (roles - current) & PRIVILEGED_ROLES
        with self.db.write() as session:
            if added_privileged:
                return self.approvals.request(
                    session,
                    action=GRANT_PRIVILEGED_ROLE.action,
                    object_type="user",
                    object_id=username,
                    payload={"username": username, "roles": sorted(r.value for r in roles)},
                    requester=actor,
                    reason=reason,
                )
            self.accounts.set_roles(session, username, roles, actor=actor.username, reason=reason)
            return None

    def close(self) -> None:
        self.db.dispose()


def build_services(settings: Settings, *, migrate: bool = True) -> Services:
    """Wire the services for ``settings``; bring the database schema up to date if asked."""
    settings.check_production()
    db = Database.from_settings(settings)
    if migrate:
        upgrade(db.engine)
    audit = AuditLog(settings, db)
    accounts = Accounts(settings, db, audit)
    approvals = Approvals(db, audit)

    def _apply_roles(
        session: Session, payload: Mapping[str, Any], requester: StaffUser, approver: StaffUser
    ) -> None:
        accounts.set_roles(
            session,
            str(payload["username"]),
            parse_roles(payload["roles"]),
            actor=approver.username,
            reason=f"approved request by {requester.username}",
        )

    approvals.register(GRANT_PRIVILEGED_ROLE, _apply_roles)
    return Services(
        settings=settings,
        db=db,
        audit=audit,
        accounts=accounts,
        approvals=approvals,
        refdata=ReferenceData(settings),
        destinations=Destinations(db, audit),
        watchlists=Watchlists(db, audit),
    )
