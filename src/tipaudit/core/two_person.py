"""The two-person rule: some actions take effect only when a second person approves them.

Capabilities declare which actions need it and which permission the approver must hold; the
rule itself is here, in one place, so every capability applies it the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from tipaudit.core.roles import Permission, Role, has_permission
from tipaudit.errors import TwoPersonRuleError, ValidationError


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class ApprovalPolicy:
    """What a second person must hold to approve one kind of action."""

    action: str
    approver_permission: Permission
    description: str


MIN_REASON_LENGTH = 10


def check_reason(reason: str) -> str:
    """Decisions under the two-person rule carry a reason a reviewer can read later."""
    reason = reason.strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise ValidationError(
            f"give a reason of at least {MIN_REASON_LENGTH} characters; it is kept in the audit log"
        )
    return reason


def check_second_person(
    policy: ApprovalPolicy,
    *,
    requested_by: int,
    decided_by: int,
    decider_roles: Iterable[Role],
    status: ApprovalStatus,
) -> None:
    """Raise unless ``decided_by`` may approve or reject this pending request."""
    if status is not ApprovalStatus.PENDING:
        raise TwoPersonRuleError(f"this request is already {status.value}")
    if requested_by == decided_by:
        raise TwoPersonRuleError(
            "the person who asked for this action cannot also approve it: "
            "a second person must decide"
        )
    if not has_permission(decider_roles, policy.approver_permission):
        raise TwoPersonRuleError(
            f"approving '{policy.description}' needs the permission "
            f"{policy.approver_permission.value}"
        )
