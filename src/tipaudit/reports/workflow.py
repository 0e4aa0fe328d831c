"""The review workflow of a report: states, allowed steps, deadlines and what each step needs.

received → acknowledged (≤ 7 days, EU Directive 2019/1937 Art. 9(1)(b)) → triaged (crisis, tip,
out of scope or duplicate, with a priority) → investigation → finding → decision (with a second
approver) → feedback (≤ 3 months from acknowledgement, Art. 9(1)(f)) → closed. A report triaged
as out of scope or a duplicate goes straight to feedback.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from tipaudit.core.roles import Permission
from tipaudit.errors import ValidationError

__all__ = [
    "ACKNOWLEDGE_DAYS",
    "FEEDBACK_MONTHS",
    "Category",
    "Deadlines",
    "Decision",
    "Finding",
    "Priority",
    "State",
    "Step",
    "add_months",
    "deadlines_for",
    "next_steps",
    "step_to",
]

ACKNOWLEDGE_DAYS = 7
FEEDBACK_MONTHS = 3


class State(StrEnum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    TRIAGED = "triaged"
    INVESTIGATION = "investigation"
    FINDING = "finding"
    DECISION = "decision"
    FEEDBACK = "feedback"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Category(StrEnum):
    """Triage category (hotline practice: crisis needs a response within 24 hours)."""

    CRISIS = "crisis"
    TIP = "tip"
    OUT_OF_SCOPE = "out_of_scope"
    DUPLICATE = "duplicate"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Priority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class Finding(StrEnum):
    SUBSTANTIATED = "substantiated"
    PARTIALLY = "partially_substantiated"
    UNSUBSTANTIATED = "unsubstantiated"
    INCONCLUSIVE = "inconclusive"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Decision(StrEnum):
    NO_ACTION = "no_action"
    REMEDIATION_PLAN = "remediation_plan"
    PAYMENT_SUSPENSION = "payment_suspension"
    CONTRACT_TERMINATION = "contract_termination"
    END_OF_SUPPORT = "end_of_support"
    REFERRAL_LAW_ENFORCEMENT = "referral_law_enforcement"
    REFERRAL_AUTHORITY = "referral_other_authority"

    @property
    def label(self) -> str:
        return {
            "no_action": "No action",
            "remediation_plan": "Remediation plan",
            "payment_suspension": "Payment suspension",
            "contract_termination": "Contract termination",
            "end_of_support": "End of support",
            "referral_law_enforcement": "Referral to law enforcement",
            "referral_other_authority": "Referral to another authority",
        }[self.value]


@dataclass(frozen=True)
class Step:
    """An allowed move from one state to another and the permission it needs."""

    source: State
    target: State
    permission: Permission
    label: str
    needs_second_person: bool = False


STEPS: tuple[Step, ...] = (
    Step(State.RECEIVED, State.ACKNOWLEDGED, Permission.REPORTS_TRIAGE, "Acknowledge receipt"),
    Step(State.ACKNOWLEDGED, State.TRIAGED, Permission.REPORTS_TRIAGE, "Triage"),
    Step(State.TRIAGED, State.INVESTIGATION, Permission.REPORTS_INVESTIGATE, "Open investigation"),
    Step(State.TRIAGED, State.FEEDBACK, Permission.REPORTS_TRIAGE, "Give feedback (no case)"),
    Step(State.INVESTIGATION, State.FINDING, Permission.REPORTS_INVESTIGATE, "Record finding"),
    Step(
        State.FINDING,
        State.DECISION,
        Permission.REPORTS_DECIDE,
        "Propose decision",
        needs_second_person=True,
    ),
    Step(State.DECISION, State.FEEDBACK, Permission.REPORTS_TRIAGE, "Give feedback"),
    Step(State.FEEDBACK, State.CLOSED, Permission.REPORTS_TRIAGE, "Close"),
)


def next_steps(state: State, category: Category | None = None) -> tuple[Step, ...]:
    """Steps allowed from ``state`` (triaged reports branch on their category)."""
    steps = [s for s in STEPS if s.source is state]
    if state is State.TRIAGED:
        direct = category in {Category.OUT_OF_SCOPE, Category.DUPLICATE}
        steps = [s for s in steps if (s.target is State.FEEDBACK) == direct]
    return tuple(steps)


def step_to(state: State, target: State, category: Category | None = None) -> Step:
    """The step from ``state`` to ``target``, or a ValidationError naming the allowed ones."""
    for step in next_steps(state, category):
        if step.target is target:
            return step
    allowed = ", ".join(s.target.value for s in next_steps(state, category)) or "none"
    raise ValidationError(
        f"a report in state {state.value} cannot move to {target.value}; allowed: {allowed}"
    )


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` plus calendar months, clamping the day (31 Jan + 1 month = 28/29 Feb)."""
    month_index = moment.month - 1 + months
    year = moment.year + month_index // 12
    month = month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


@dataclass(frozen=True)
class Deadlines:
    acknowledge_due: datetime
    feedback_due: datetime


def deadlines_for(received_at: datetime, acknowledged_at: datetime | None = None) -> Deadlines:
    """Acknowledge within 7 days; feedback within 3 months of acknowledgement, or of the end of
    the 7-day period when no acknowledgement was sent."""
    acknowledge_due = received_at + timedelta(days=ACKNOWLEDGE_DAYS)
    start = acknowledged_at if acknowledged_at is not None else acknowledge_due
    return Deadlines(acknowledge_due, add_months(start, FEEDBACK_MONTHS))


def overdue(
    state: State, acknowledge_due: datetime, feedback_due: datetime, now: datetime
) -> tuple[str, ...]:
    """Which deadlines a report in ``state`` has missed at ``now``."""
    missed = []
    if state is State.RECEIVED and now > acknowledge_due:
        missed.append("acknowledgement")
    if state not in {State.FEEDBACK, State.CLOSED} and now > feedback_due:
        missed.append("feedback")
    return tuple(missed)
