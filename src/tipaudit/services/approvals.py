"""The two-person rule as a shared mechanism.

A capability registers an :class:`ApprovalPolicy` and an executor for each action that needs a
second person. Asking records a pending request; a different person with the approver
permission approves (the executor then runs in the same unit of work, so the action, the
decision and their audit events commit together) or rejects it, always with a reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tipaudit.audit import AuditAction, AuditEntry
from tipaudit.core.clock import utcnow
from tipaudit.core.two_person import (
    ApprovalPolicy,
    ApprovalStatus,
    check_reason,
    check_second_person,
)
from tipaudit.errors import ConflictError, NotFoundError, ValidationError
from tipaudit.services.accounts import StaffUser, to_staff
from tipaudit.services.audit import AuditLog
from tipaudit.storage.db import Database
from tipaudit.storage.models import Approval, User

Executor = Callable[[Session, Mapping[str, Any], StaffUser, StaffUser], None]
"""Runs an approved action: (session, payload, requester, approver)."""


@dataclass(frozen=True)
class ApprovalView:
    id: int
    action: str
    description: str
    object_type: str
    object_id: str
    payload: Mapping[str, Any]
    status: ApprovalStatus
    requested_by: str
    request_reason: str
    requested_at: datetime
    decided_by: str | None
    decision_reason: str | None
    decided_at: datetime | None


class Approvals:
    """Requests waiting for a second person, and the rules for deciding them."""

    def __init__(self, db: Database, audit: AuditLog) -> None:
        self.db = db
        self.audit = audit
        self._policies: dict[str, tuple[ApprovalPolicy, Executor]] = {}

    def register(self, policy: ApprovalPolicy, executor: Executor) -> None:
        if policy.action in self._policies:
            raise ValueError(f"approval policy {policy.action!r} registered twice")
        self._policies[policy.action] = (policy, executor)

    def policy(self, action: str) -> ApprovalPolicy:
        try:
            return self._policies[action][0]
        except KeyError:
            raise NotFoundError(f"no approval policy for {action!r}") from None

    def request(
        self,
        session: Session,
        *,
        action: str,
        object_type: str,
        object_id: str,
        payload: Mapping[str, Any],
        requester: StaffUser,
        reason: str,
    ) -> int:
        """Record a request inside the caller's unit of work; returns its id."""
        policy = self.policy(action)
        reason = check_reason(reason)
        try:
            encoded = json.dumps(dict(payload), sort_keys=True)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"the request cannot be recorded: {exc}") from exc
        duplicate = session.scalar(
            select(Approval.id).where(
                Approval.action == action,
                Approval.object_type == object_type,
                Approval.object_id == object_id,
                Approval.status == ApprovalStatus.PENDING.value,
            )
        )
        if duplicate is not None:
            raise ConflictError(
                f"a request to {policy.description} for {object_type} {object_id} is already "
                f"waiting (request #{duplicate})"
            )
        row = Approval(
            action=action,
            object_type=object_type,
            object_id=object_id,
            payload=encoded,
            status=ApprovalStatus.PENDING.value,
            requested_by=requester.id,
            request_reason=reason,
            requested_at=utcnow(),
        )
        session.add(row)
        session.flush()
        self.audit.record(
            session,
            AuditEntry(
                actor=requester.username,
                action=AuditAction.APPROVAL_REQUESTED,
                object_type=object_type,
                object_id=object_id,
                reason=reason,
                details={"approval_id": row.id, "action": action, "payload": dict(payload)},
            ),
        )
        return row.id

    def decide(self, approval_id: int, decider: StaffUser, *, approve: bool, reason: str) -> None:
        """Approve (and carry out) or reject a pending request, as a second person."""
        reason = check_reason(reason)
        with self.db.write() as session:
            row = session.get(Approval, approval_id)
            if row is None:
                raise NotFoundError(f"no approval request #{approval_id}")
            policy, executor = self._policies[row.action]
            check_second_person(
                policy,
                requested_by=row.requested_by,
                decided_by=decider.id,
                decider_roles=decider.roles,
                status=ApprovalStatus(row.status),
            )
            requester_row = session.get(User, row.requested_by)
            if requester_row is None:
                raise NotFoundError("the requester no longer exists")
            row.status = (ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED).value
            row.decided_by = decider.id
            row.decision_reason = reason
            row.decided_at = utcnow()
            payload = json.loads(row.payload)
            self.audit.record(
                session,
                AuditEntry(
                    actor=decider.username,
                    action=AuditAction.APPROVAL_GRANTED
                    if approve
                    else AuditAction.APPROVAL_REJECTED,
                    object_type=row.object_type,
                    object_id=row.object_id,
                    reason=reason,
                    details={"approval_id": row.id, "action": row.action},
                ),
            )
            if approve:
                executor(session, payload, to_staff(requester_row), decider)

    def list(self, status: ApprovalStatus | None = ApprovalStatus.PENDING) -> list[ApprovalView]:
        with self.db.read() as session:
            query = select(Approval).order_by(Approval.id.desc())
            if status is not None:
                query = query.where(Approval.status == status.value)
            names = {row[0]: row[1] for row in session.execute(select(User.id, User.username))}
            return [self._view(row, names) for row in session.scalars(query.limit(500))]

    def get(self, approval_id: int) -> ApprovalView:
        with self.db.read() as session:
            row = session.get(Approval, approval_id)
            if row is None:
                raise NotFoundError(f"no approval request #{approval_id}")
            names = {row[0]: row[1] for row in session.execute(select(User.id, User.username))}
            return self._view(row, names)

    def _view(self, row: Approval, names: Mapping[int, str]) -> ApprovalView:
        known = self._policies.get(row.action)
        return ApprovalView(
            id=row.id,
            action=row.action,
            description=known[0].description if known else row.action,
            object_type=row.object_type,
            object_id=row.object_id,
            payload=json.loads(row.payload),
            status=ApprovalStatus(row.status),
            requested_by=names.get(row.requested_by, "?"),
            request_reason=row.request_reason,
            requested_at=row.requested_at,
            decided_by=names.get(row.decided_by) if row.decided_by is not None else None,
            decision_reason=row.decision_reason,
            decided_at=row.decided_at,
        )
