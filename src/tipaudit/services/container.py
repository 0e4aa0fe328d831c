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
from tipaudit.procurement.rules import EntityFlag
from tipaudit.procurement.screening import ScreeningRun
from tipaudit.refdata import ReferenceData
from tipaudit.services.accounts import Accounts, StaffUser
from tipaudit.services.allegations import Allegations
from tipaudit.services.approvals import Approvals
from tipaudit.services.audit import AuditLog
from tipaudit.services.destinations import Destinations
from tipaudit.services.policy import PolicyReview
from tipaudit.services.procurement import ProcurementRuns, entity_flags
from tipaudit.services.reports import Reports
from tipaudit.services.support import SupportRegister
from tipaudit.services.vetting import VETTING_OVERRIDE, Vetting
from tipaudit.services.watchlists import ImportResult, Watchlists
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
    allegations: Allegations
    support: SupportRegister
    vetting: Vetting
    policies: PolicyReview
    reports: Reports

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

    def procurement_entity_flags(self) -> list[EntityFlag]:
        """What entity screening currently says about procurement suppliers, as register flags."""
        return entity_flags(self.vetting.supplier_matches())

    def refresh_procurement_register(self, run_id: str | None = None) -> ScreeningRun:
        """Recompute a screening run (the newest by default) with the current entity flags."""
        runs = ProcurementRuns(self.settings)
        return runs.rescore(self.refdata, self.procurement_entity_flags(), run_id)

    def refresh_procurement_register_if_any(self, *_: object) -> int:
        """:meth:`refresh_procurement_register` for the newest run, if there is one.

        Called after decisions that change what counts against a supplier (a hook: its
        arguments are ignored); returns 1 when a run was recomputed, else 0.
        """
        if not ProcurementRuns(self.settings).list():
            return 0
        self.refresh_procurement_register()
        return 1

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
    # entity vetting: re-screen after list imports and credible allegations; overrides
    watchlists = Watchlists(db, audit)
    allegations = Allegations(db, audit)
    vetting = Vetting(db, audit, watchlists, approvals)
    approvals.register(VETTING_OVERRIDE, vetting.apply_override)
    watchlists.after_import.append(vetting.after_import)
    allegations.on_change.append(vetting.after_allegation_change)
    # public reports: decisions and identity reveals need a second person
    reports = Reports(settings, db, audit, approvals)
    reports.allegations = allegations
    reports.register_approvals()
    services = Services(
        settings=settings,
        db=db,
        audit=audit,
        accounts=accounts,
        approvals=approvals,
        refdata=ReferenceData(settings),
        destinations=Destinations(db, audit),
        watchlists=watchlists,
        allegations=allegations,
        support=SupportRegister(db, audit),
        vetting=vetting,
        policies=PolicyReview(settings, db, audit, accounts),
        reports=reports,
    )
    # The procurement register follows what entity screening says about suppliers: a match
    # decided, suppliers screened, an allegation's status changed, a list re-imported.
    vetting.on_supplier_change.append(services.refresh_procurement_register_if_any)
    allegations.on_change.append(services.refresh_procurement_register_if_any)

    def _after_import(_result: ImportResult) -> int:
        services.refresh_procurement_register_if_any()
        return 0  # hooks return the alerts they raised; this one raises none

    watchlists.after_import.append(_after_import)
    return services
