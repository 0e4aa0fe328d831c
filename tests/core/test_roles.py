"""Roles, permissions and the two-person rule."""

from __future__ import annotations

import pytest

from tipaudit.core.roles import ROLE_PERMISSIONS, Permission, Role, has_permission, parse_roles
from tipaudit.core.two_person import (
    ApprovalPolicy,
    ApprovalStatus,
    check_reason,
    check_second_person,
)
from tipaudit.errors import TwoPersonRuleError, ValidationError

POLICY = ApprovalPolicy("x.do", Permission.USERS_MANAGE, "do x")


def test_every_role_has_permissions_and_can_view_console() -> None:
    """Each role is mapped, and every staff role may open the console."""
    assert set(Role) == set(ROLE_PERMISSIONS)
    assert all(Permission.CONSOLE_VIEW in perms for perms in ROLE_PERMISSIONS.values())


def test_only_admins_manage_users() -> None:
    """Managing accounts belongs to administrators alone."""
    holders = {r for r in Role if has_permission([r], Permission.USERS_MANAGE)}
    assert {Role.ADMINISTRATOR} == holders


def test_parse_roles_accepts_human_spelling() -> None:
    """Roles can be typed with spaces, dashes or capitals."""
    assert frozenset({Role.VETTING_OFFICER, Role.AUDITOR}) == parse_roles(
        ["Vetting officer", " auditor ", ""]
    )


def test_parse_roles_refuses_unknown() -> None:
    """An unknown role is named in the error along with the known ones."""
    with pytest.raises(ValidationError, match=r"'superuser'.*administrator"):
        parse_roles(["superuser"])


def test_requester_cannot_approve_own_request() -> None:
    """The two-person rule: the same person cannot ask and approve."""
    with pytest.raises(TwoPersonRuleError, match="second person"):
        check_second_person(
            POLICY,
            requested_by=1,
            decided_by=1,
            decider_roles=[Role.ADMINISTRATOR],
            status=ApprovalStatus.PENDING,
        )


def test_approver_needs_the_policy_permission() -> None:
    """A second person without the approver permission cannot decide."""
    with pytest.raises(TwoPersonRuleError, match="users:manage"):
        check_second_person(
            POLICY,
            requested_by=1,
            decided_by=2,
            decider_roles=[Role.AUDITOR],
            status=ApprovalStatus.PENDING,
        )


def test_decided_request_cannot_be_decided_again() -> None:
    """Only pending requests can be decided."""
    with pytest.raises(TwoPersonRuleError, match="already approved"):
        check_second_person(
            POLICY,
            requested_by=1,
            decided_by=2,
            decider_roles=[Role.ADMINISTRATOR],
            status=ApprovalStatus.APPROVED,
        )


def test_second_person_with_permission_may_decide() -> None:
    """A different person holding the permission passes the rule."""
    check_second_person(
        POLICY,
        requested_by=1,
        decided_by=2,
        decider_roles=[Role.ADMINISTRATOR],
        status=ApprovalStatus.PENDING,
    )


def test_reasons_must_say_something() -> None:
    """A decision reason is at least ten characters after trimming."""
    with pytest.raises(ValidationError):
        check_reason("   ok   ")
    assert "because it is needed" == check_reason("  because it is needed ")
