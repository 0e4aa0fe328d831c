"""Tables of policy review: the policy register, versions, assessments and their answers.

A policy keeps every version it ever had; the document of a version lives in the data folder
(``policies/<slug>/``) and is named here with its SHA-256. The automatic check of a version is
stored with it as JSON (the findings as the checker reported them, normalised), so a later
change of the rules never rewrites what a version was found to contain.

An assessment scores one version against one rubric. Each reviewer's answer to each item is a
row; a reviewer who signs off can no longer change theirs, and the assessment becomes final
when every required reviewer has signed off.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tipaudit.storage.models import Base


class Policy(Base):
    """A policy in the register: a regulation, framework, visa scheme or agreement."""

    __tablename__ = "policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    policy_type: Mapped[str] = mapped_column(String(40), index=True)
    jurisdiction: Mapped[str] = mapped_column(String(120), default="")
    owner: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(120))


class PolicyVersion(Base):
    """One version of a policy's text, with the result of its automatic check."""

    __tablename__ = "policy_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, 3 … within the policy
    label: Mapped[str] = mapped_column(String(100))
    effective_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    file_name: Mapped[str] = mapped_column(String(300))  # as uploaded
    stored_path: Mapped[str] = mapped_column(String(400))  # relative to the data folder
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    uploaded_by: Mapped[str] = mapped_column(String(120))
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    checker: Mapped[str] = mapped_column(String(80), default="")  # what produced the findings
    provisions: Mapped[int] = mapped_column(Integer, default=0)
    findings: Mapped[list[Any]] = mapped_column(JSON)

    __table_args__ = (
        # named after their first column, so the policy id comes second
        UniqueConstraint("number", "policy_id"),
        UniqueConstraint("label", "policy_id"),
        UniqueConstraint("sha256", "policy_id"),
    )


class PolicyAssessment(Base):
    """A guided assessment of one policy version against one rubric."""

    __tablename__ = "policy_assessments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("policy_versions.id"), index=True)
    rubric_id: Mapped[str] = mapped_column(String(80))
    rubric_version: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))  # open | final
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(120))
    finalised_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AssessmentReviewer(Base):
    """A reviewer taking part in an assessment, with the expertise they bring."""

    __tablename__ = "assessment_reviewers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("policy_assessments.id"), index=True)
    username: Mapped[str] = mapped_column(String(120))
    expertise: Mapped[str] = mapped_column(String(40))
    required: Mapped[bool] = mapped_column(Boolean)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    added_by: Mapped[str] = mapped_column(String(120))
    signed_off_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (UniqueConstraint("assessment_id", "username"),)


class AssessmentAnswer(Base):
    """One reviewer's current answer to one rubric item (earlier answers are in the audit log)."""

    __tablename__ = "assessment_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("policy_assessments.id"), index=True)
    reviewer: Mapped[str] = mapped_column(String(120))
    item_id: Mapped[str] = mapped_column(String(80))
    answer: Mapped[str] = mapped_column(String(20))  # yes | partly | no | not_applicable
    comment: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("assessment_id", "reviewer", "item_id"),)
