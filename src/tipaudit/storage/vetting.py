"""Tables of entity vetting: saved screenings and their matches, decisions on matches, the
allegations register, the support register, vetting cases and alerts.

Nothing here is ever deleted. A decision on a match is a new row (the newest for a query and
list entry is the one that counts); a status change of an allegation or a support entry is a
row in its history table; a vetting case keeps every decision in ``vetting_decisions``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tipaudit.storage.models import Base


class EntityScreening(Base):
    """One saved screening: who screened which names against which lists, and why."""

    __tablename__ = "entity_screenings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(120))
    purpose: Mapped[str] = mapped_column(String(40))  # names | procurement | vetting | rescreen
    label: Mapped[str] = mapped_column(String(300))
    lists: Mapped[list[Any]] = mapped_column(JSON)
    threshold: Mapped[float] = mapped_column(Float)
    queries: Mapped[int] = mapped_column(Integer)
    flagged: Mapped[int] = mapped_column(Integer)
    suppressed: Mapped[int] = mapped_column(Integer)


class EntityMatch(Base):
    """A candidate match found by a screening, with its score and explanation."""

    __tablename__ = "entity_matches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    screening_id: Mapped[int] = mapped_column(ForeignKey("entity_screenings.id"), index=True)
    query_ref: Mapped[str] = mapped_column(String(300), index=True)
    query_name: Mapped[str] = mapped_column(Text)
    query_schema: Mapped[str] = mapped_column(String(40))
    list_slug: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(200), index=True)
    entity_name: Mapped[str] = mapped_column(Text)
    entry_hash: Mapped[str] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float)
    is_match: Mapped[bool] = mapped_column(Boolean)
    explanation: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The rejection that suppressed this candidate when it was found (no FK: decisions point
    # at matches).
    suppressed_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MatchDecision(Base):
    """A reviewer's confirmation or rejection of a (query, list entry) pair, with the reason."""

    __tablename__ = "match_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("entity_matches.id"), index=True)
    query_ref: Mapped[str] = mapped_column(String(300), index=True)
    list_slug: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(200))
    entry_hash: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(20))  # confirmed | rejected
    reason: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(120))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WatchlistTag(Base):
    """A tag staff put on a whole list, e.g. ``child-recruitment`` (every entry counts as such)."""

    __tablename__ = "watchlist_tags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    watchlist_id: Mapped[int] = mapped_column(ForeignKey("watchlists.id"))
    tag: Mapped[str] = mapped_column(String(40))
    set_by: Mapped[str] = mapped_column(String(120))
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("watchlist_id", "tag"),)


class Allegation(Base):
    """An entry of the allegations register: its review status and where it came from.

    The names, schema, country and identifiers are the list entry (``watchlist_entries``) of
    the ``allegations`` list, so screening reads them like any other list.
    """

    __tablename__ = "allegations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity_id: Mapped[str] = mapped_column(String(200), unique=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("watchlist_entries.id"))
    status: Mapped[str] = mapped_column(String(20))  # pending|credible|substantiated|unsubst.
    source_ref: Mapped[str] = mapped_column(String(120), default="")
    summary: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status_changed_by: Mapped[str] = mapped_column(String(120))
    status_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AllegationStatusChange(Base):
    """One change of an allegation's status, with who, when and why."""

    __tablename__ = "allegation_status_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    allegation_id: Mapped[int] = mapped_column(ForeignKey("allegations.id"), index=True)
    old_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    new_status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(String(120))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SupportEntry(Base):
    """Something the government gives an organisation or unit: a contract, a licence, aid."""

    __tablename__ = "support_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # contract | recruitment_licence | security_assistance
    kind: Mapped[str] = mapped_column(String(30))
    recipient: Mapped[str] = mapped_column(Text)
    schema: Mapped[str] = mapped_column(String(40))
    country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    identifiers: Mapped[list[Any]] = mapped_column(JSON)
    supplier_key: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    ocid: Mapped[str | None] = mapped_column(String(200), nullable=True)
    licence_number: Mapped[str | None] = mapped_column(String(120), nullable=True)
    assistance_type: Mapped[str | None] = mapped_column(String(200), nullable=True)
    amount: Mapped[str | None] = mapped_column(String(40), nullable=True)  # a decimal, as text
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    start_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20))  # active | suspended | ended
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SupportStatusChange(Base):
    """One change of a support entry's status, with who, when and why."""

    __tablename__ = "support_status_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    support_id: Mapped[int] = mapped_column(ForeignKey("support_entries.id"), index=True)
    old_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    new_status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(String(120))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class VettingCase(Base):
    """An organisation or unit and its people, vetted for one purpose."""

    __tablename__ = "vetting_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    support_id: Mapped[int | None] = mapped_column(ForeignKey("support_entries.id"), nullable=True)
    lists: Mapped[list[Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(30))  # open|approved|denied|escalated|override_...
    opened_by: Mapped[str] = mapped_column(String(120))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_screening_id: Mapped[int | None] = mapped_column(
        ForeignKey("entity_screenings.id"), nullable=True
    )
    screened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    subjects_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    revet_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    pending_approval_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class VettingSubject(Base):
    """The organisation or unit of a case, or a person related to it."""

    __tablename__ = "vetting_subjects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("vetting_cases.id"), index=True)
    role: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(Text)
    schema: Mapped[str] = mapped_column(String(40))
    country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    identifiers: Mapped[list[Any]] = mapped_column(JSON)
    birth_date: Mapped[str | None] = mapped_column(String(10), nullable=True)
    added_by: Mapped[str] = mapped_column(String(120))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class VettingDecision(Base):
    """A decision on a vetting case: approve, deny or escalate, with what blocked it if anything."""

    __tablename__ = "vetting_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("vetting_cases.id"), index=True)
    decision: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(120))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    revet_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    screening_id: Mapped[int | None] = mapped_column(
        ForeignKey("entity_screenings.id"), nullable=True
    )
    blockers: Mapped[list[Any]] = mapped_column(JSON)
    override_approval_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    override_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    override_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class EntityAlert(Base):
    """A new hit on a previously cleared subject, raised when a list changed."""

    __tablename__ = "entity_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cause: Mapped[str] = mapped_column(String(300))
    subject_ref: Mapped[str] = mapped_column(String(300), index=True)
    subject_label: Mapped[str] = mapped_column(Text)
    vetting_case_id: Mapped[int | None] = mapped_column(
        ForeignKey("vetting_cases.id"), nullable=True
    )
    support_id: Mapped[int | None] = mapped_column(ForeignKey("support_entries.id"), nullable=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("entity_matches.id"))
    list_slug: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))  # open | closed
    closed_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    close_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
