"""Entity vetting: saved screenings, decisions on matches, vetting cases, re-screening and alerts.

* **Saved screenings.** :meth:`Vetting.screen_and_save` screens queries (suppliers of a
  procurement run, names from a file, the subjects of a vetting case, the recipients of the
  support register) against lists and stores every flagged candidate with its score and
  explanation (``entity_matches``). Each query has a stable *query ref*: ``supplier:<key>``,
  ``party:<id>``, ``subject:<id>`` or ``support:<id>``.
* **Decisions.** A reviewer confirms or rejects a (query ref, list entry) pair with a reason
  (``match_decisions``); the newest decision counts, older ones are kept. A rejected pair is
  *suppressed* on later screenings (stored, shown as suppressed, not raised again) for as long
  as the list entry's content is unchanged.
* **Vetting cases** bundle an organisation or unit and its people for a purpose, screen them
  against the chosen lists and the allegations register, and record approve / deny / escalate.
  A *blocking* finding — a credible or substantiated allegation, a confirmed match on any list,
  or a child-recruitment listing — turns approval into a two-person override.
* **Re-screening.** After a list is imported (or an allegation becomes credible), approved
  vetting subjects and active support recipients are screened against that list again; a new
  hit raises an alert.

See ``docs/vetting.md``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from tipaudit.audit import AuditAction, AuditEntry
from tipaudit.core.clock import as_utc, utcnow
from tipaudit.core.roles import Permission
from tipaudit.core.two_person import ApprovalPolicy, ApprovalStatus, check_reason
from tipaudit.errors import ConflictError, NotFoundError, ValidationError
from tipaudit.screening import (
    DEFAULT_THRESHOLD,
    ListEntity,
    Match,
    MatchIndex,
    Query,
    Scorer,
    screen,
)
from tipaudit.screening.model import normalise_date
from tipaudit.services.accounts import StaffUser
from tipaudit.services.allegations import (
    ALLEGATIONS_SLUG,
    COUNTING_STATUSES,
    clean_text,
    parse_country,
    parse_identifiers,
    require_any,
    statuses_of,
)
from tipaudit.services.approvals import Approvals
from tipaudit.services.audit import AuditLog
from tipaudit.services.support import support_query
from tipaudit.services.watchlists import ImportResult, Watchlists, content_hash, run_suppliers
from tipaudit.storage.db import Database
from tipaudit.storage.models import Approval
from tipaudit.storage.vetting import (
    EntityAlert,
    EntityMatch,
    EntityScreening,
    MatchDecision,
    SupportEntry,
    VettingCase,
    VettingDecision,
    VettingSubject,
    WatchlistTag,
)
from tipaudit.storage.watchlists import Watchlist, WatchlistEntry, WatchlistVersion

Purpose = Literal["contract_award", "recruitment_licence", "security_assistance"]
PURPOSES: tuple[Purpose, ...] = get_args(Purpose)
PURPOSE_LABELS = {
    "contract_award": "contract award",
    "recruitment_licence": "recruitment-agency licence",
    "security_assistance": "security assistance to a unit",
}
SubjectRole = Literal["organisation", "unit", "owner", "director", "commander", "other"]
SUBJECT_ROLES: tuple[SubjectRole, ...] = get_args(SubjectRole)
SUBJECT_SCHEMAS = ("Person", "Organization", "Company", "LegalEntity")
CaseDecision = Literal["approve", "deny", "escalate"]
CASE_DECISIONS: tuple[CaseDecision, ...] = get_args(CaseDecision)
MATCH_DECISIONS = ("confirmed", "rejected")

#: A list carrying this tag is a child-recruitment list: every entry on it blocks approval.
CHILD_RECRUITMENT_TAG = "child-recruitment"
TAGS = (CHILD_RECRUITMENT_TAG,)
#: An entry whose reason matches this is a child-recruitment listing whatever its list.
CHILD_RECRUITMENT_REASON = re.compile(
    r"child(?:ren)?[\s-]*(?:soldiers?|recruit\w*|combatants?)"
    r"|recruit\w*\s+(?:and\s+use\s+)?(?:of\s+)?child(?:ren)?"
    r"|use\s+of\s+child(?:ren)?\s+in\s+(?:armed|hostilities)"
    r"|children\s+(?:and|in)\s+armed\s+conflict"
    r"|\bCAAC\b|\bCSPA\b",
    re.IGNORECASE,
)

VETTING_OVERRIDE = ApprovalPolicy(
    action="vetting.override_approval",
    approver_permission=Permission.VETTING_DECIDE,
    description="approve a vetting case despite blocking findings (override)",
)

SYSTEM_ACTOR = "system:rescreen"
MAX_QUERIES = 200_000
MAX_VALIDITY_DAYS = 5 * 366
DEFAULT_VALIDITY_DAYS = 365
DEFAULT_REVET_NOTICE_DAYS = 30
_REF = re.compile(r"^(supplier|party|subject|support):[^\x00-\x1f\x7f]{1,280}$")


# --- views -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionView:
    id: int
    match_id: int
    decision: str
    reason: str
    decided_by: str
    decided_at: datetime


@dataclass(frozen=True)
class MatchView:
    """A stored candidate match, with the current decision on its pair and what it means."""

    id: int
    screening_id: int
    query_ref: str
    query_name: str
    query_schema: str
    list_slug: str
    list_kind: str
    list_title: str
    entity_id: str
    entity_name: str
    score: float
    is_match: bool
    explanation: str
    features: tuple[Mapping[str, Any], ...]
    created_at: datetime
    status: str  # candidate | confirmed | rejected | suppressed | below threshold
    decision: DecisionView | None
    entry_changed: bool  # the list entry changed since the pair was last decided
    entry_active: bool
    allegation_status: str | None
    child_recruitment: bool
    reason: str
    source_url: str

    @property
    def counts(self) -> bool:
        """Counts against the query: flagged, not rejected, entry still listed, and (for an
        allegation) credible or substantiated."""
        return (
            self.status in {"candidate", "confirmed"}
            and self.entry_active
            and (self.allegation_status is None or self.allegation_status in COUNTING_STATUSES)
        )

    @property
    def blocking_reasons(self) -> tuple[str, ...]:
        """Why this match blocks a vetting approval (empty when it does not)."""
        if not self.counts:
            return ()
        why = []
        if self.allegation_status in COUNTING_STATUSES:
            why.append(f"{self.allegation_status} allegation")
        if self.child_recruitment:
            why.append("child-recruitment listing")
        if self.status == "confirmed":
            why.append("confirmed match")
        return tuple(why)

    @property
    def needs_decision(self) -> bool:
        """A flagged candidate that counts but nobody has confirmed or rejected yet."""
        return self.counts and self.status == "candidate"


@dataclass(frozen=True)
class ScreeningResult:
    screening_id: int
    queries: int
    flagged: int
    suppressed: int
    matches: tuple[MatchView, ...]


@dataclass(frozen=True)
class ScreeningInfo:
    id: int
    started_at: datetime
    actor: str
    purpose: str
    label: str
    lists: tuple[str, ...]
    threshold: float
    queries: int
    flagged: int
    suppressed: int


@dataclass(frozen=True)
class VersionInfo:
    id: int
    version_date: date
    imported_at: datetime
    imported_by: str
    file_name: str
    sha256: str
    entries: int
    added: int
    changed: int
    removed: int


@dataclass(frozen=True)
class SupplierMatch:
    """A match that counts against a procurement supplier (for the procurement register)."""

    supplier_key: str
    entity_id: str
    entity_name: str
    list_slug: str
    list_kind: str
    list_title: str
    score: float
    decision: str  # 'confirmed' or 'candidate'
    allegation_status: str | None
    reason: str
    source_url: str
    match_id: int = 0
    explanation: str = ""


@dataclass(frozen=True)
class SubjectView:
    id: int
    role: str
    name: str
    schema: str
    country: str | None
    identifiers: tuple[str, ...]
    birth_date: str | None
    added_by: str
    added_at: datetime

    @property
    def query_ref(self) -> str:
        return f"subject:{self.id}"


@dataclass(frozen=True)
class CaseDecisionView:
    id: int
    decision: str
    reason: str
    decided_by: str
    decided_at: datetime
    valid_until: date | None
    revet_on: date | None
    blockers: tuple[Mapping[str, Any], ...]
    override_approval_id: int | None
    override_by: str | None
    override_reason: str | None


@dataclass(frozen=True)
class CaseView:
    """A vetting case with its subjects, the matches of its newest screening and its decisions."""

    id: int
    purpose: str
    title: str
    support_id: int | None
    lists: tuple[str, ...]
    status: str  # open | approved | denied | escalated | override_requested | expired
    opened_by: str
    opened_at: datetime
    screened_at: datetime | None
    needs_screening: bool
    valid_until: date | None
    revet_on: date | None
    pending_approval_id: int | None
    subjects: tuple[SubjectView, ...]
    matches: tuple[MatchView, ...]
    decisions: tuple[CaseDecisionView, ...]

    @property
    def reference(self) -> str:
        return f"V-{self.id}"

    @property
    def purpose_label(self) -> str:
        return PURPOSE_LABELS.get(self.purpose, self.purpose)

    @property
    def blockers(self) -> tuple[MatchView, ...]:
        return tuple(m for m in self.matches if m.blocking_reasons)

    @property
    def open_candidates(self) -> tuple[MatchView, ...]:
        return tuple(m for m in self.matches if m.needs_decision and not m.blocking_reasons)

    @property
    def revet_due(self) -> bool:
        return (
            self.status == "approved"
            and self.revet_on is not None
            and (self.revet_on <= utcnow().date())
        )

    def subject_name(self, query_ref: str) -> str:
        for subject in self.subjects:
            if subject.query_ref == query_ref:
                return subject.name
        return query_ref


@dataclass(frozen=True)
class CaseSummary:
    id: int
    purpose: str
    title: str
    status: str
    opened_by: str
    opened_at: datetime
    subjects: int
    valid_until: date | None
    revet_on: date | None

    @property
    def reference(self) -> str:
        return f"V-{self.id}"

    @property
    def purpose_label(self) -> str:
        return PURPOSE_LABELS.get(self.purpose, self.purpose)


@dataclass(frozen=True)
class AlertView:
    id: int
    created_at: datetime
    cause: str
    subject_ref: str
    subject_label: str
    vetting_case_id: int | None
    support_id: int | None
    match: MatchView
    status: str
    closed_by: str | None
    closed_at: datetime | None
    close_reason: str | None


@dataclass(frozen=True)
class DecideOutcome:
    """What a case decision did: the new status (approvals may wait for a second officer)."""

    status: str
    approval_id: int | None = None


# --- helpers -----------------------------------------------------------------------------


def _actor_name(actor: StaffUser | str, *permissions: Permission) -> str:
    if isinstance(actor, StaffUser):
        require_any(actor, *permissions)
        return actor.username[:120]
    return actor[:120]


def check_query_ref(ref: str) -> str:
    """A query ref: ``supplier:``, ``party:``, ``subject:`` or ``support:`` and an id."""
    if not isinstance(ref, str) or not _REF.match(ref):
        raise ValidationError(
            f"{str(ref)[:60]!r} is not a query reference",
            hint="use supplier:<key>, party:<id>, subject:<id> or support:<id>",
        )
    return ref


def is_child_recruitment(reason: str, tags: Iterable[str]) -> bool:
    """Whether a list entry is a child-recruitment listing: its list carries the
    ``child-recruitment`` tag, or its reason names child recruitment or use."""
    return CHILD_RECRUITMENT_TAG in set(tags) or bool(CHILD_RECRUITMENT_REASON.search(reason))


def _features(match: Match) -> list[dict[str, Any]]:
    return [
        {
            "name": f.name,
            "score": round(f.score, 4),
            "weight": f.weight,
            "contribution": round(f.contribution, 4),
            "detail": f.detail,
        }
        for f in match.features
    ]


def _dates(
    valid_until: date | None, revet_on: date | None, *, required: bool
) -> tuple[date | None, date | None]:
    today = utcnow().date()
    if valid_until is None and required:
        valid_until = today + timedelta(days=DEFAULT_VALIDITY_DAYS)
    if valid_until is not None:
        if valid_until <= today:
            raise ValidationError("the validity must end after today")
        if (valid_until - today).days > MAX_VALIDITY_DAYS:
            raise ValidationError("a vetting decision is valid for at most five years")
        if revet_on is None:
            revet_on = max(today + timedelta(days=1), valid_until - timedelta(days=30))
    if revet_on is not None:
        if revet_on <= today:
            raise ValidationError("the re-vetting date must be after today")
        if valid_until is not None and revet_on > valid_until:
            raise ValidationError("re-vet on or before the end of the validity")
    return valid_until, revet_on


# --- the service -------------------------------------------------------------------------


class Vetting:
    """Use cases of vetting: saved screenings, match decisions, cases, alerts."""

    def __init__(
        self, db: Database, audit: AuditLog, watchlists: Watchlists, approvals: Approvals
    ) -> None:
        self.db = db
        self.audit = audit
        self.watchlists = watchlists
        self.approvals = approvals
        # Called after something changed what counts against procurement suppliers (a match
        # about a supplier decided, or suppliers screened); the procurement register listens.
        self.on_supplier_change: list[Callable[[], object]] = []

    def _supplier_changed(self) -> None:
        for callback in self.on_supplier_change:
            callback()

    # --- screening ---------------------------------------------------------------------

    def _index(self, slugs: Sequence[str]) -> tuple[MatchIndex, dict[str, tuple[str, str, str]]]:
        """An index of the lists' active entries and, per index id, (slug, entry id, hash)."""
        wanted = list(dict.fromkeys(s.strip() for s in slugs if s and s.strip()))
        if not wanted:
            raise ValidationError("name at least one list", hint="see: tipaudit entities lists")
        mapping: dict[str, tuple[str, str, str]] = {}
        entities: list[ListEntity] = []
        for slug in wanted:
            for entity in self.watchlists.entries(slug):
                key = entity.id if entity.id not in mapping else f"{slug}:{entity.id}"
                mapping[key] = (slug, entity.id, content_hash(entity))
                entities.append(entity if key == entity.id else dataclasses.replace(entity, id=key))
        return MatchIndex(entities), mapping

    def _existing_lists(self, slugs: Iterable[str]) -> list[str]:
        known = {info.slug for info in self.watchlists.lists()}
        return [s for s in slugs if s in known]

    def screen_and_save(
        self,
        actor: StaffUser | str,
        queries: Sequence[Query],
        lists: Sequence[str],
        *,
        purpose: str = "names",
        label: str = "",
        threshold: float = DEFAULT_THRESHOLD,
        limit: int = 3,
    ) -> ScreeningResult:
        """Screen ``queries`` (their ``id`` is the query ref) and store the flagged candidates.

        A staff actor needs ``entities:screen``; the shell passes ``system:cli``.
        """
        who = _actor_name(actor, Permission.ENTITIES_SCREEN, Permission.VETTING_DECIDE)
        with self.db.write() as session:
            return self._screen(
                session,
                who,
                queries,
                lists,
                purpose=purpose,
                label=label,
                threshold=threshold,
                limit=limit,
            )

    def _screen(
        self,
        session: Session,
        who: str,
        queries: Sequence[Query],
        lists: Sequence[str],
        *,
        purpose: str,
        label: str,
        threshold: float = DEFAULT_THRESHOLD,
        limit: int = 3,
        only_entity_ids: frozenset[str] | None = None,
    ) -> ScreeningResult:
        if not 0.0 <= threshold <= 1.0:
            raise ValidationError("the threshold must be between 0 and 1")
        if not 1 <= limit <= 50:
            raise ValidationError("keep between 1 and 50 candidates per name")
        if len(queries) > MAX_QUERIES:
            raise ValidationError(f"screen at most {MAX_QUERIES:,} names at a time")
        for query in queries:
            check_query_ref(query.id)
        index, mapping = self._index(lists)
        if only_entity_ids is not None:
            index = MatchIndex(e for e in index if mapping[e.id][1] in only_entity_ids)
        scorer = Scorer(threshold=threshold)
        now = utcnow()
        row = EntityScreening(
            started_at=now,
            actor=who,
            purpose=purpose[:40],
            label=clean_text(label, 300, "label", required=False) or purpose,
            lists=list(dict.fromkeys(lists)),
            threshold=threshold,
            queries=len(queries),
            flagged=0,
            suppressed=0,
        )
        session.add(row)
        session.flush()
        decisions = _current_decisions(session, {q.id for q in queries})
        stored: list[EntityMatch] = []
        for query in queries:
            for match in screen(index, query, scorer, limit=limit):
                if not match.match:
                    continue
                slug, entity_id, digest = mapping[match.entity_id]
                entity = index.get(match.entity_id)
                decision = decisions.get((query.id, slug, entity_id))
                suppressed = (
                    decision is not None
                    and decision.decision == "rejected"
                    and decision.entry_hash == digest
                )
                stored.append(
                    EntityMatch(
                        screening_id=row.id,
                        query_ref=query.id,
                        query_name=query.names[0][:2000] if query.names else "",
                        query_schema=query.schema,
                        list_slug=slug,
                        entity_id=entity_id,
                        entity_name=(entity.names[0] if entity else "")[:2000],
                        entry_hash=digest,
                        score=match.score,
                        is_match=True,
                        explanation={"text": match.explanation, "features": _features(match)},
                        suppressed_by=decision.id if suppressed and decision else None,
                        created_at=now,
                    )
                )
        session.add_all(stored)
        row.flagged = len(stored)
        row.suppressed = sum(1 for m in stored if m.suppressed_by is not None)
        session.flush()
        self.audit.record(
            session,
            AuditEntry(
                actor=who,
                action=AuditAction.ENTITIES_SCREENED,
                object_type="screening",
                object_id=str(row.id),
                details={
                    "purpose": row.purpose,
                    "lists": row.lists,
                    "threshold": threshold,
                    "queries": row.queries,
                    "flagged": row.flagged,
                    "suppressed": row.suppressed,
                },
            ),
        )
        views = _annotate(session, stored)
        return ScreeningResult(row.id, row.queries, row.flagged, row.suppressed, tuple(views))

    def screen_procurement_run(
        self,
        actor: StaffUser | str,
        run_folder: Path,
        lists: Sequence[str],
        *,
        threshold: float = DEFAULT_THRESHOLD,
        limit: int = 3,
    ) -> ScreeningResult:
        """Screen the suppliers of a procurement run (refs ``supplier:<key>``) and save."""
        queries = [dataclasses.replace(q, id=f"supplier:{q.id}") for q in run_suppliers(run_folder)]
        # A supplier key too long (or odd) for a reference is left out and counted, so that
        # one strange key does not stop the screening of the whole run.
        usable = [q for q in queries if _REF.match(q.id)]
        skipped = len(queries) - len(usable)
        note = f" ({skipped} supplier key(s) unusable, left out)" if skipped else ""
        result = self.screen_and_save(
            actor,
            usable,
            lists,
            purpose="procurement",
            label=f"suppliers of procurement run {run_folder.name}{note}",
            threshold=threshold,
            limit=limit,
        )
        self._supplier_changed()
        return result

    def screenings(self, limit: int = 50) -> list[ScreeningInfo]:
        with self.db.read() as session:
            rows = session.scalars(
                select(EntityScreening).order_by(EntityScreening.id.desc()).limit(limit)
            )
            return [
                ScreeningInfo(
                    r.id,
                    r.started_at,
                    r.actor,
                    r.purpose,
                    r.label,
                    tuple(r.lists),
                    r.threshold,
                    r.queries,
                    r.flagged,
                    r.suppressed,
                )
                for r in rows
            ]

    # --- matches and decisions -------------------------------------------------------------

    def matches(
        self,
        *,
        status: str | None = None,
        query_ref: str | None = None,
        screening_id: int | None = None,
        latest_only: bool = True,
        limit: int = 1000,
    ) -> list[MatchView]:
        """Stored matches, newest first. ``latest_only`` keeps the newest row per (query ref,
        list entry) pair; ``status`` filters on the computed status (``candidate`` = awaiting a
        decision)."""
        with self.db.read() as session:
            query = select(EntityMatch).order_by(EntityMatch.id.desc())
            if query_ref is not None:
                query = query.where(EntityMatch.query_ref == query_ref)
            if screening_id is not None:
                query = query.where(EntityMatch.screening_id == screening_id)
            rows = list(session.scalars(query.limit(50_000)))
            if latest_only:
                rows = _latest(rows)
            views = _annotate(session, rows)
        if status is not None:
            views = [v for v in views if v.status == status]
        return views[: max(1, limit)]

    def match(self, match_id: int) -> tuple[MatchView, list[DecisionView]]:
        """One stored match and every decision on its pair, newest first."""
        with self.db.read() as session:
            row = session.get(EntityMatch, match_id) if 0 < match_id < 2**31 else None
            if row is None:
                raise NotFoundError(f"no match #{match_id}")
            view = _annotate(session, [row])[0]
            history = session.scalars(
                select(MatchDecision)
                .where(
                    MatchDecision.query_ref == row.query_ref,
                    MatchDecision.list_slug == row.list_slug,
                    MatchDecision.entity_id == row.entity_id,
                )
                .order_by(MatchDecision.id.desc())
            )
            return view, [_decision_view(d) for d in history]

    def decide_match(self, actor: StaffUser, match_id: int, decision: str, *, reason: str) -> None:
        """Confirm or reject a candidate, with a reason. A new decision supersedes the last."""
        require_any(actor, Permission.ENTITIES_SCREEN, Permission.VETTING_DECIDE)
        if decision not in MATCH_DECISIONS:
            raise ValidationError(
                f"unknown decision {str(decision)[:30]!r}", hint="use confirmed or rejected"
            )
        reason = check_reason(reason)
        with self.db.write() as session:
            row = session.get(EntityMatch, match_id) if 0 < match_id < 2**31 else None
            if row is None:
                raise NotFoundError(f"no match #{match_id}")
            previous = _current_decisions(session, {row.query_ref}).get(
                (row.query_ref, row.list_slug, row.entity_id)
            )
            decided = MatchDecision(
                match_id=row.id,
                query_ref=row.query_ref,
                list_slug=row.list_slug,
                entity_id=row.entity_id,
                entry_hash=row.entry_hash,
                decision=decision,
                reason=reason,
                decided_by=actor.username[:120],
                decided_at=utcnow(),
            )
            session.add(decided)
            session.flush()
            self.audit.record(
                session,
                AuditEntry(
                    actor=actor.username,
                    action=AuditAction.MATCH_DECIDED,
                    object_type="match",
                    object_id=str(row.id),
                    reason=reason,
                    details={
                        "decision_id": decided.id,
                        "decision": decision,
                        "previous": previous.decision if previous else None,
                        "query_ref": row.query_ref,
                        "list": row.list_slug,
                        "entity_id": row.entity_id,
                        "score": row.score,
                    },
                ),
            )
        if row.query_ref.startswith("supplier:"):
            self._supplier_changed()

    def supplier_matches(self, supplier_keys: Iterable[str] | None = None) -> list[SupplierMatch]:
        """The matches that count against procurement suppliers: flagged, not rejected, the
        entry still listed, and allegations only when credible or substantiated.

        One row per (supplier, list entry), from the newest screening that found it, best
        score first per supplier.
        """
        keys = None if supplier_keys is None else {f"supplier:{k}" for k in supplier_keys}
        with self.db.read() as session:
            query = select(EntityMatch).where(EntityMatch.query_ref.startswith("supplier:"))
            if keys is not None:
                if not keys:
                    return []
                query = query.where(EntityMatch.query_ref.in_(keys))
            rows = _latest(list(session.scalars(query.order_by(EntityMatch.id.desc()))))
            views = _annotate(session, rows)
        out = [
            SupplierMatch(
                supplier_key=v.query_ref.removeprefix("supplier:"),
                entity_id=v.entity_id,
                entity_name=v.entity_name,
                list_slug=v.list_slug,
                list_kind=v.list_kind,
                list_title=v.list_title,
                score=v.score,
                decision="confirmed" if v.status == "confirmed" else "candidate",
                allegation_status=v.allegation_status,
                reason=v.reason,
                source_url=v.source_url,
                match_id=v.id,
                explanation=v.explanation,
            )
            for v in views
            if v.counts
        ]
        out.sort(key=lambda m: (m.supplier_key, -m.score, m.list_slug, m.entity_id))
        return out

    def versions(self, slug: str) -> list[VersionInfo]:
        """The imported versions of a list, newest first, with what each changed."""
        with self.db.read() as session:
            watchlist = session.scalar(select(Watchlist).where(Watchlist.slug == slug))
            if watchlist is None:
                raise NotFoundError(f"no list {slug[:70]!r}")
            rows = session.scalars(
                select(WatchlistVersion)
                .where(WatchlistVersion.watchlist_id == watchlist.id)
                .order_by(WatchlistVersion.id.desc())
                .limit(500)
            )
            return [
                VersionInfo(
                    v.id,
                    v.version_date,
                    v.imported_at,
                    v.imported_by,
                    v.file_name,
                    v.sha256,
                    v.entries,
                    v.added,
                    v.changed,
                    v.removed,
                )
                for v in rows
            ]

    # --- list tags -----------------------------------------------------------------------

    def tag_list(self, actor: StaffUser, slug: str, tag: str, *, on: bool, reason: str) -> None:
        """Put a tag on a list (or take it off), e.g. ``child-recruitment``; audited."""
        actor.require(Permission.VETTING_DECIDE)
        if tag not in TAGS:
            raise ValidationError(f"unknown tag {tag[:40]!r}", hint=f"use {', '.join(TAGS)}")
        reason = check_reason(reason)
        with self.db.write() as session:
            watchlist = session.scalar(select(Watchlist).where(Watchlist.slug == slug))
            if watchlist is None:
                raise NotFoundError(f"no list {slug[:70]!r}")
            existing = session.scalar(
                select(WatchlistTag).where(
                    WatchlistTag.watchlist_id == watchlist.id, WatchlistTag.tag == tag
                )
            )
            if on and existing is None:
                session.add(
                    WatchlistTag(
                        watchlist_id=watchlist.id,
                        tag=tag,
                        set_by=actor.username[:120],
                        set_at=utcnow(),
                        reason=reason,
                    )
                )
            elif not on and existing is not None:
                session.delete(existing)
            else:
                raise ValidationError(f"{slug} {'already has' if on else 'has no'} tag {tag}")
            self.audit.record(
                session,
                AuditEntry(
                    actor=actor.username,
                    action=AuditAction.WATCHLIST_TAGGED,
                    object_type="watchlist",
                    object_id=slug,
                    reason=reason,
                    details={"tag": tag, "on": on},
                ),
            )

    def list_tags(self) -> dict[str, tuple[str, ...]]:
        with self.db.read() as session:
            return _tags(session)

    # --- vetting cases -------------------------------------------------------------------

    def open_case(
        self,
        actor: StaffUser | str,
        *,
        purpose: str,
        name: str,
        schema: str = "Organization",
        country: str | None = None,
        identifiers: Sequence[str] = (),
        lists: Sequence[str] = (),
        support_id: int | None = None,
    ) -> int:
        """Open a case for an organisation or unit; it is the case's first subject."""
        who = _actor_name(actor, Permission.ENTITIES_SCREEN)
        if purpose not in PURPOSES:
            raise ValidationError(
                f"unknown purpose {str(purpose)[:40]!r}", hint=f"use {', '.join(PURPOSES)}"
            )
        if schema == "Person":
            raise ValidationError("a case is about an organisation or unit; add people to it")
        chosen = [s.strip() for s in lists if s and s.strip() and s.strip() != ALLEGATIONS_SLUG]
        if not chosen:
            raise ValidationError(
                "choose at least one list to screen against",
                hint="the allegations register is always included",
            )
        known = {info.slug for info in self.watchlists.lists()}
        unknown = [s for s in chosen if s not in known]
        if unknown:
            raise NotFoundError(f"no list {unknown[0][:70]!r}", hint="see: tipaudit entities lists")
        subject = _subject_fields(
            "unit" if purpose == "security_assistance" else "organisation",
            name,
            schema,
            country,
            identifiers,
            None,
        )
        now = utcnow()
        with self.db.write() as session:
            if support_id is not None and session.get(SupportEntry, support_id) is None:
                raise NotFoundError(f"no support entry S-{support_id}")
            case = VettingCase(
                purpose=purpose,
                title=subject["name"][:300],
                support_id=support_id,
                lists=list(dict.fromkeys(chosen)),
                status="open",
                opened_by=who,
                opened_at=now,
                subjects_changed_at=now,
            )
            session.add(case)
            session.flush()
            session.add(VettingSubject(case_id=case.id, added_by=who, added_at=now, **subject))
            self.audit.record(
                session,
                AuditEntry(
                    actor=who,
                    action=AuditAction.VETTING_OPENED,
                    object_type="vetting_case",
                    object_id=str(case.id),
                    details={
                        "purpose": purpose,
                        "lists": case.lists,
                        "support_id": support_id,
                        "country": subject["country"],
                    },
                ),
            )
            return case.id

    def add_subject(
        self,
        actor: StaffUser | str,
        case_id: int,
        *,
        role: str,
        name: str,
        schema: str = "Person",
        country: str | None = None,
        identifiers: Sequence[str] = (),
        birth_date: str | None = None,
    ) -> int:
        """Add a related person or body (owner, director, commander, …) to a case.

        Adding a subject to an approved case returns it to ``open``: the new subject has not
        been vetted.
        """
        who = _actor_name(actor, Permission.ENTITIES_SCREEN)
        fields = _subject_fields(role, name, schema, country, identifiers, birth_date)
        with self.db.write() as session:
            case = _case_row(session, case_id)
            _refresh_override(session, case)
            if case.status == "override_requested":
                raise ConflictError(
                    f"V-{case.id} waits for a second officer: decide that request first"
                )
            count = len(
                session.scalars(
                    select(VettingSubject.id).where(VettingSubject.case_id == case.id)
                ).all()
            )
            if count >= 100:
                raise ValidationError("a case may have at most 100 subjects")
            now = utcnow()
            subject = VettingSubject(case_id=case.id, added_by=who, added_at=now, **fields)
            session.add(subject)
            case.subjects_changed_at = now
            reopened = case.status == "approved"
            if reopened:
                case.status = "open"
            session.flush()
            self.audit.record(
                session,
                AuditEntry(
                    actor=who,
                    action=AuditAction.VETTING_SUBJECT_ADDED,
                    object_type="vetting_case",
                    object_id=str(case.id),
                    details={
                        "subject_id": subject.id,
                        "role": fields["role"],
                        "schema": fields["schema"],
                        "reopened": reopened,
                    },
                ),
            )
            return subject.id

    def screen_case(
        self, actor: StaffUser | str, case_id: int, *, threshold: float = DEFAULT_THRESHOLD
    ) -> ScreeningResult:
        """Screen every subject of a case against its lists and the allegations register."""
        who = _actor_name(actor, Permission.ENTITIES_SCREEN)
        with self.db.write() as session:
            case = _case_row(session, case_id)
            subjects = session.scalars(
                select(VettingSubject).where(VettingSubject.case_id == case.id)
            ).all()
            queries = [_subject_query(s) for s in subjects]
            lists = self._existing_lists([*case.lists, ALLEGATIONS_SLUG])
            result = self._screen(
                session,
                who,
                queries,
                lists,
                purpose="vetting",
                label=f"vetting case V-{case.id}",
                threshold=threshold,
                limit=5,
            )
            case.last_screening_id = result.screening_id
            case.screened_at = utcnow()
            self.audit.record(
                session,
                AuditEntry(
                    actor=who,
                    action=AuditAction.VETTING_SCREENED,
                    object_type="vetting_case",
                    object_id=str(case.id),
                    details={
                        "screening_id": result.screening_id,
                        "subjects": len(queries),
                        "flagged": result.flagged,
                        "suppressed": result.suppressed,
                    },
                ),
            )
            return result

    def decide_case(
        self,
        actor: StaffUser,
        case_id: int,
        decision: str,
        *,
        reason: str,
        valid_until: date | None = None,
        revet_on: date | None = None,
    ) -> DecideOutcome:
        """Approve, deny or escalate a case, with a reason.

        Approval needs a screening newer than the last change of subjects and every counting
        candidate decided; a blocking finding refuses approval (request an override instead).
        """
        actor.require(Permission.VETTING_DECIDE)
        if decision not in CASE_DECISIONS:
            raise ValidationError(
                f"unknown decision {str(decision)[:30]!r}", hint=f"use {', '.join(CASE_DECISIONS)}"
            )
        reason = check_reason(reason)
        valid_until, revet_on = _dates(valid_until, revet_on, required=decision == "approve")
        with self.db.write() as session:
            case = _case_row(session, case_id)
            _refresh_override(session, case)
            if case.status == "override_requested":
                raise ConflictError(
                    f"V-{case.id} waits for a second officer on request #{case.pending_approval_id}"
                )
            blockers: list[MatchView] = []
            if decision == "approve":
                blockers = self._check_approvable(session, case)
                if blockers:
                    raise ConflictError(
                        f"V-{case.id} cannot be approved by one officer: "
                        + _describe_blockers(blockers)
                        + ". Request a two-person override with reasons.",
                        hint="tipaudit entities vetting request-override, or the case page",
                    )
            self._record_decision(
                session,
                case,
                decision=decision,
                reason=reason,
                decided_by=actor.username,
                valid_until=valid_until if decision == "approve" else None,
                revet_on=revet_on,
                blockers=blockers,
            )
            return DecideOutcome(case.status)

    def request_override(
        self,
        actor: StaffUser,
        case_id: int,
        *,
        reason: str,
        valid_until: date | None = None,
        revet_on: date | None = None,
    ) -> int:
        """Ask a second officer to approve a blocked case; returns the approval request id."""
        actor.require(Permission.VETTING_DECIDE)
        reason = check_reason(reason)
        valid_until, revet_on = _dates(valid_until, revet_on, required=True)
        with self.db.write() as session:
            case = _case_row(session, case_id)
            _refresh_override(session, case)
            if case.status == "override_requested":
                raise ConflictError(
                    f"V-{case.id} already waits for a second officer "
                    f"(request #{case.pending_approval_id})"
                )
            blockers = self._check_approvable(session, case)
            if not blockers:
                raise ValidationError(
                    f"nothing blocks V-{case.id}: approve it directly, no override needed"
                )
            payload = {
                "case_id": case.id,
                "valid_until": valid_until.isoformat() if valid_until else None,
                "revet_on": revet_on.isoformat() if revet_on else None,
                "screening_id": case.last_screening_id,
                "blocking_match_ids": [m.id for m in blockers],
            }
            approval_id = self.approvals.request(
                session,
                action=VETTING_OVERRIDE.action,
                object_type="vetting_case",
                object_id=str(case.id),
                payload=payload,
                requester=actor,
                reason=reason,
            )
            case.status = "override_requested"
            case.pending_approval_id = approval_id
            self.audit.record(
                session,
                AuditEntry(
                    actor=actor.username,
                    action=AuditAction.VETTING_OVERRIDE_REQUESTED,
                    object_type="vetting_case",
                    object_id=str(case.id),
                    reason=reason,
                    details={
                        "approval_id": approval_id,
                        "blockers": [_blocker_json(m) for m in blockers[:40]],
                        "blocker_count": len(blockers),
                    },
                ),
            )
            return approval_id

    def apply_override(
        self,
        session: Session,
        payload: Mapping[str, Any],
        requester: StaffUser,
        approver: StaffUser,
    ) -> None:
        """The approvals executor: a second officer approved the override request."""
        case = _case_row(session, int(payload["case_id"]))
        if case.status != "override_requested" or case.pending_approval_id is None:
            raise ConflictError(f"V-{case.id} no longer waits for an override")
        if case.last_screening_id != payload.get("screening_id"):
            raise ConflictError(
                f"V-{case.id} was screened again after the request: ask again on the new results"
            )
        approval = session.get(Approval, case.pending_approval_id)
        blockers = _annotate(
            session,
            list(
                session.scalars(
                    select(EntityMatch).where(
                        EntityMatch.id.in_([int(i) for i in payload.get("blocking_match_ids", [])])
                    )
                )
            ),
        )
        approval_id = case.pending_approval_id
        self._record_decision(
            session,
            case,
            decision="approve",
            reason=approval.request_reason if approval else "override approved",
            decided_by=requester.username,
            valid_until=date.fromisoformat(payload["valid_until"]),
            revet_on=date.fromisoformat(payload["revet_on"]) if payload.get("revet_on") else None,
            blockers=blockers,
            override=(approval_id, approver.username, approval.decision_reason if approval else ""),
        )

    def _check_approvable(self, session: Session, case: VettingCase) -> list[MatchView]:
        """The blocking matches of a case; raises when it cannot be approved at all yet."""
        if case.last_screening_id is None or case.screened_at is None:
            raise ValidationError(f"screen V-{case.id} before approving it")
        if as_utc(case.screened_at) < as_utc(case.subjects_changed_at):
            raise ValidationError(f"subjects were added to V-{case.id}: screen it again")
        matches = _case_matches(session, case)
        undecided = [m for m in matches if m.needs_decision and not m.blocking_reasons]
        if undecided:
            raise ValidationError(
                f"decide the {len(undecided)} candidate match(es) of V-{case.id} first "
                "(confirm or reject each)"
            )
        return [m for m in matches if m.blocking_reasons]

    def _record_decision(
        self,
        session: Session,
        case: VettingCase,
        *,
        decision: str,
        reason: str,
        decided_by: str,
        valid_until: date | None,
        revet_on: date | None,
        blockers: Sequence[MatchView],
        override: tuple[int, str, str | None] | None = None,
    ) -> None:
        row = VettingDecision(
            case_id=case.id,
            decision=decision,
            reason=reason,
            decided_by=decided_by[:120],
            decided_at=utcnow(),
            valid_until=valid_until,
            revet_on=revet_on,
            screening_id=case.last_screening_id,
            blockers=[_blocker_json(m) for m in blockers],
            override_approval_id=override[0] if override else None,
            override_by=override[1][:120] if override else None,
            override_reason=override[2] if override else None,
        )
        session.add(row)
        case.status = {"approve": "approved", "deny": "denied", "escalate": "escalated"}[decision]
        case.valid_until = valid_until if decision == "approve" else None
        case.revet_on = revet_on
        case.pending_approval_id = None
        session.flush()
        self.audit.record(
            session,
            AuditEntry(
                actor=override[1] if override else decided_by,
                action=AuditAction.VETTING_DECIDED,
                object_type="vetting_case",
                object_id=str(case.id),
                reason=reason,
                details={
                    "decision_id": row.id,
                    "decision": decision,
                    "decided_by": decided_by,
                    "valid_until": valid_until.isoformat() if valid_until else None,
                    "revet_on": revet_on.isoformat() if revet_on else None,
                    "screening_id": case.last_screening_id,
                    "blockers": row.blockers[:40],
                    "blocker_count": len(row.blockers),
                    "override_approval_id": row.override_approval_id,
                    "override_by": row.override_by,
                },
            ),
        )

    def case(self, case_id: int) -> CaseView:
        with self.db.read() as session:
            case = _case_row(session, case_id)
            _refresh_override(session, case)
            subjects = session.scalars(
                select(VettingSubject)
                .where(VettingSubject.case_id == case.id)
                .order_by(VettingSubject.id)
            ).all()
            decisions = session.scalars(
                select(VettingDecision)
                .where(VettingDecision.case_id == case.id)
                .order_by(VettingDecision.id.desc())
            ).all()
            status = case.status
            if status == "approved" and case.valid_until and case.valid_until < utcnow().date():
                status = "expired"
            return CaseView(
                id=case.id,
                purpose=case.purpose,
                title=case.title,
                support_id=case.support_id,
                lists=tuple(case.lists),
                status=status,
                opened_by=case.opened_by,
                opened_at=case.opened_at,
                screened_at=case.screened_at,
                needs_screening=case.screened_at is None
                or as_utc(case.screened_at) < as_utc(case.subjects_changed_at),
                valid_until=case.valid_until,
                revet_on=case.revet_on,
                pending_approval_id=case.pending_approval_id,
                subjects=tuple(_subject_view(s) for s in subjects),
                matches=tuple(_case_matches(session, case)),
                decisions=tuple(
                    CaseDecisionView(
                        d.id,
                        d.decision,
                        d.reason,
                        d.decided_by,
                        d.decided_at,
                        d.valid_until,
                        d.revet_on,
                        tuple(d.blockers),
                        d.override_approval_id,
                        d.override_by,
                        d.override_reason,
                    )
                    for d in decisions
                ),
            )

    def cases(self, status: str | None = None) -> list[CaseSummary]:
        with self.db.read() as session:
            query = select(VettingCase).order_by(VettingCase.id.desc()).limit(2000)
            rows = session.scalars(query).all()
            counts: dict[int, int] = {}
            for case_id in session.scalars(select(VettingSubject.case_id)):
                counts[case_id] = counts.get(case_id, 0) + 1
            out = []
            for case in rows:
                _refresh_override(session, case)
                shown = case.status
                if shown == "approved" and case.valid_until and case.valid_until < utcnow().date():
                    shown = "expired"
                if status is not None and shown != status:
                    continue
                out.append(
                    CaseSummary(
                        case.id,
                        case.purpose,
                        case.title,
                        shown,
                        case.opened_by,
                        case.opened_at,
                        counts.get(case.id, 0),
                        case.valid_until,
                        case.revet_on,
                    )
                )
            return out

    # --- re-screening and alerts ------------------------------------------------------------

    def after_import(self, result: ImportResult) -> int:
        """Hook for :meth:`Watchlists.import_list`: re-screen watched subjects; alerts raised."""
        if not (result.added or result.changed):
            return 0
        return self.rescreen(
            result.slug, cause=f"list {result.slug} imported (version {result.version_id})"
        )

    def after_allegation_change(self, allegation_id: str, status: str) -> int:
        """Hook for the allegations register: a credible allegation is checked at once."""
        if status not in COUNTING_STATUSES:
            return 0
        return self.rescreen(
            ALLEGATIONS_SLUG,
            cause=f"allegation {allegation_id} found {status}",
            only_entity_ids=frozenset({allegation_id}),
            forced=True,
        )

    def rescreen(
        self,
        slug: str,
        *,
        cause: str,
        only_entity_ids: frozenset[str] | None = None,
        forced: bool = False,
    ) -> int:
        """Screen approved vetting subjects and active support recipients against one list;
        raise an alert for every new hit that counts. Returns the number of alerts."""
        with self.db.write() as session:
            watched = _watched(session)
            if not watched:
                return 0
            result = self._screen(
                session,
                SYSTEM_ACTOR,
                [w[0] for w in watched],
                [slug],
                purpose="rescreen",
                label=cause[:300],
                only_entity_ids=only_entity_ids,
            )
            by_ref = {w[0].id: w for w in watched}
            raised = 0
            for match in result.matches:
                if not match.counts:
                    continue
                if not forced and _seen_before(session, match):
                    continue
                open_alert = session.scalar(
                    select(EntityAlert.id).where(
                        EntityAlert.subject_ref == match.query_ref,
                        EntityAlert.list_slug == match.list_slug,
                        EntityAlert.entity_id == match.entity_id,
                        EntityAlert.status == "open",
                    )
                )
                if open_alert is not None:
                    continue
                _query, label, case_id, support_id = by_ref[match.query_ref]
                alert = EntityAlert(
                    created_at=utcnow(),
                    cause=cause[:300],
                    subject_ref=match.query_ref,
                    subject_label=label,
                    vetting_case_id=case_id,
                    support_id=support_id,
                    match_id=match.id,
                    list_slug=match.list_slug,
                    entity_id=match.entity_id,
                    status="open",
                )
                session.add(alert)
                session.flush()
                raised += 1
                self.audit.record(
                    session,
                    AuditEntry(
                        actor=SYSTEM_ACTOR,
                        action=AuditAction.ALERT_RAISED,
                        object_type="alert",
                        object_id=str(alert.id),
                        details={
                            "subject_ref": match.query_ref,
                            "vetting_case_id": case_id,
                            "support_id": support_id,
                            "match_id": match.id,
                            "list": match.list_slug,
                            "entity_id": match.entity_id,
                            "screening_id": result.screening_id,
                        },
                    ),
                )
            return raised

    def alerts(self, status: str | None = "open") -> list[AlertView]:
        with self.db.read() as session:
            query = select(EntityAlert).order_by(EntityAlert.id.desc()).limit(2000)
            if status is not None:
                query = query.where(EntityAlert.status == status)
            rows = session.scalars(query).all()
            matches = {
                m.id: m
                for m in _annotate(
                    session,
                    list(
                        session.scalars(
                            select(EntityMatch).where(
                                EntityMatch.id.in_([r.match_id for r in rows])
                            )
                        )
                    ),
                )
            }
            return [
                AlertView(
                    r.id,
                    r.created_at,
                    r.cause,
                    r.subject_ref,
                    r.subject_label,
                    r.vetting_case_id,
                    r.support_id,
                    matches[r.match_id],
                    r.status,
                    r.closed_by,
                    r.closed_at,
                    r.close_reason,
                )
                for r in rows
            ]

    def close_alert(self, actor: StaffUser, alert_id: int, *, reason: str) -> None:
        """Close an alert with what was done about it (audited)."""
        require_any(actor, Permission.ENTITIES_SCREEN, Permission.VETTING_DECIDE)
        reason = check_reason(reason)
        with self.db.write() as session:
            row = session.get(EntityAlert, alert_id) if 0 < alert_id < 2**31 else None
            if row is None:
                raise NotFoundError(f"no alert #{alert_id}")
            if row.status != "open":
                raise ConflictError(f"alert #{alert_id} is already closed")
            row.status = "closed"
            row.closed_by = actor.username[:120]
            row.closed_at = utcnow()
            row.close_reason = reason
            self.audit.record(
                session,
                AuditEntry(
                    actor=actor.username,
                    action=AuditAction.ALERT_CLOSED,
                    object_type="alert",
                    object_id=str(row.id),
                    reason=reason,
                ),
            )


# --- module helpers ----------------------------------------------------------------------


def _decision_view(d: MatchDecision) -> DecisionView:
    return DecisionView(d.id, d.match_id, d.decision, d.reason, d.decided_by, d.decided_at)


def _current_decisions(
    session: Session, refs: Iterable[str] | None
) -> dict[tuple[str, str, str], MatchDecision]:
    """The newest decision per (query ref, list, entity id)."""
    query = select(MatchDecision).order_by(MatchDecision.id)
    if refs is not None:
        wanted = list(set(refs))
        if not wanted:
            return {}
        if len(wanted) <= 5000:
            query = query.where(MatchDecision.query_ref.in_(wanted))
    out: dict[tuple[str, str, str], MatchDecision] = {}
    for row in session.scalars(query):
        out[(row.query_ref, row.list_slug, row.entity_id)] = row
    return out


def _latest(rows: Sequence[EntityMatch]) -> list[EntityMatch]:
    """The newest row per (query ref, list, entity id); ``rows`` newest first."""
    seen: set[tuple[str, str, str]] = set()
    out = []
    for row in sorted(rows, key=lambda r: -r.id):
        pair = (row.query_ref, row.list_slug, row.entity_id)
        if pair not in seen:
            seen.add(pair)
            out.append(row)
    return out


def _tags(session: Session) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for slug, tag in session.execute(
        select(Watchlist.slug, WatchlistTag.tag).join(
            WatchlistTag, WatchlistTag.watchlist_id == Watchlist.id
        )
    ):
        out.setdefault(slug, []).append(tag)
    return {k: tuple(sorted(v)) for k, v in out.items()}


def _annotate(session: Session, rows: Sequence[EntityMatch]) -> list[MatchView]:
    """Views of stored matches with the current decisions, entries and allegation statuses."""
    if not rows:
        return []
    decisions = _current_decisions(session, {r.query_ref for r in rows})
    lists = {w.slug: w for w in session.scalars(select(Watchlist))}
    tags = _tags(session)
    entries: dict[tuple[str, str], WatchlistEntry] = {}
    by_list: dict[str, set[str]] = {}
    for r in rows:
        by_list.setdefault(r.list_slug, set()).add(r.entity_id)
    for slug, ids in by_list.items():
        watchlist = lists.get(slug)
        if watchlist is None:
            continue
        id_list = list(ids)
        for start in range(0, len(id_list), 500):
            for entry in session.scalars(
                select(WatchlistEntry).where(
                    WatchlistEntry.watchlist_id == watchlist.id,
                    WatchlistEntry.entity_id.in_(id_list[start : start + 500]),
                )
            ):
                entries[(slug, entry.entity_id)] = entry
    allegation = statuses_of(
        session, (r.entity_id for r in rows if _kind(lists, r.list_slug) == "allegations")
    )
    views = []
    for r in rows:
        decision = decisions.get((r.query_ref, r.list_slug, r.entity_id))
        found = entries.get((r.list_slug, r.entity_id))
        changed = decision is not None and decision.entry_hash != r.entry_hash
        if not r.is_match:
            status = "below threshold"
        elif decision is not None and decision.decision == "confirmed":
            status = "confirmed"
        elif decision is not None and decision.decision == "rejected" and not changed:
            status = "rejected" if r.id <= decision.match_id else "suppressed"
        else:
            status = "candidate"
        watchlist = lists.get(r.list_slug)
        reason = found.reason if found is not None else ""
        explanation = r.explanation if isinstance(r.explanation, dict) else {}
        views.append(
            MatchView(
                id=r.id,
                screening_id=r.screening_id,
                query_ref=r.query_ref,
                query_name=r.query_name,
                query_schema=r.query_schema,
                list_slug=r.list_slug,
                list_kind=watchlist.kind if watchlist else "",
                list_title=watchlist.title if watchlist else r.list_slug,
                entity_id=r.entity_id,
                entity_name=r.entity_name,
                score=r.score,
                is_match=r.is_match,
                explanation=str(explanation.get("text", "")),
                features=tuple(explanation.get("features", ())),
                created_at=r.created_at,
                status=status,
                decision=_decision_view(decision) if decision else None,
                entry_changed=changed,
                entry_active=found is not None and found.removed_in_version_id is None,
                allegation_status=allegation.get(r.entity_id, "pending")
                if watchlist is not None and watchlist.kind == "allegations"
                else None,
                child_recruitment=is_child_recruitment(reason, tags.get(r.list_slug, ())),
                reason=reason,
                source_url=found.source_url if found is not None else "",
            )
        )
    return views


def _kind(lists: Mapping[str, Watchlist], slug: str) -> str:
    watchlist = lists.get(slug)
    return watchlist.kind if watchlist else ""


def _describe_blockers(blockers: Sequence[MatchView]) -> str:
    parts = [
        f"{m.query_name} ~ {m.entity_name} ({m.list_slug}:{m.entity_id}): "
        + ", ".join(m.blocking_reasons)
        for m in blockers[:5]
    ]
    more = f" and {len(blockers) - 5} more" if len(blockers) > 5 else ""
    return "; ".join(parts) + more


def _blocker_json(m: MatchView) -> dict[str, Any]:
    return {
        "match_id": m.id,
        "query_ref": m.query_ref,
        "list": m.list_slug,
        "entity_id": m.entity_id,
        "why": list(m.blocking_reasons),
    }


def _case_row(session: Session, case_id: int) -> VettingCase:
    row = session.get(VettingCase, case_id) if 0 < case_id < 2**31 else None
    if row is None:
        raise NotFoundError(f"no vetting case V-{case_id}")
    return row


def _refresh_override(session: Session, case: VettingCase) -> None:
    """A case whose override request was rejected (or withdrawn) is open again."""
    if case.status != "override_requested" or case.pending_approval_id is None:
        return
    approval = session.get(Approval, case.pending_approval_id)
    if approval is None or approval.status in {
        ApprovalStatus.REJECTED.value,
        ApprovalStatus.WITHDRAWN.value,
    }:
        case.status = "open"
        case.pending_approval_id = None


def _case_matches(session: Session, case: VettingCase) -> list[MatchView]:
    if case.last_screening_id is None:
        return []
    rows = session.scalars(
        select(EntityMatch)
        .where(EntityMatch.screening_id == case.last_screening_id)
        .order_by(EntityMatch.id)
    ).all()
    return _annotate(session, rows)


def _subject_fields(
    role: str,
    name: str,
    schema: str,
    country: str | None,
    identifiers: Sequence[str],
    birth_date: str | None,
) -> dict[str, Any]:
    if role not in SUBJECT_ROLES:
        raise ValidationError(
            f"unknown role {str(role)[:40]!r}", hint=f"use {', '.join(SUBJECT_ROLES)}"
        )
    if schema not in SUBJECT_SCHEMAS:
        raise ValidationError(
            f"unknown schema {str(schema)[:40]!r}", hint=f"use {', '.join(SUBJECT_SCHEMAS)}"
        )
    if role in {"director", "commander"} and schema != "Person":
        raise ValidationError(f"a {role} is a person: use the schema Person")
    if role in {"organisation", "unit"} and schema == "Person":
        raise ValidationError(f"an {role} is not a person")
    if isinstance(identifiers, str):
        raise ValidationError("identifiers are a list of text")
    born = None
    if birth_date and birth_date.strip():
        if schema != "Person":
            raise ValidationError("only people have a birth date")
        born = normalise_date(birth_date.strip()[:20])
        if not born:
            raise ValidationError("the birth date must be YYYY, YYYY-MM or YYYY-MM-DD")
    return {
        "role": role,
        "name": clean_text(name, 300, "name"),
        "schema": schema,
        "country": parse_country(country),
        "identifiers": parse_identifiers(identifiers),
        "birth_date": born,
    }


def _subject_view(s: VettingSubject) -> SubjectView:
    return SubjectView(
        s.id,
        s.role,
        s.name,
        s.schema,
        s.country,
        tuple(s.identifiers),
        s.birth_date,
        s.added_by,
        s.added_at,
    )


def _subject_query(s: VettingSubject) -> Query:
    return Query(
        id=f"subject:{s.id}",
        schema=s.schema,  # type: ignore[arg-type]  # checked on entry
        names=(s.name,),
        countries=(s.country,) if s.country else (),
        identifiers=tuple(s.identifiers),
        birth_dates=(s.birth_date,) if s.birth_date else (),
    )


def _watched(session: Session) -> list[tuple[Query, str, int | None, int | None]]:
    """Whom re-screening watches: subjects of approved cases, recipients of active support."""
    out: dict[str, tuple[Query, str, int | None, int | None]] = {}
    rows = session.execute(
        select(VettingSubject, VettingCase.id)
        .join(VettingCase, VettingCase.id == VettingSubject.case_id)
        .where(VettingCase.status == "approved")
        .order_by(VettingSubject.id)
    )
    for subject, case_id in rows:
        query = _subject_query(subject)
        out[query.id] = (query, f"{subject.name} (V-{case_id}, {subject.role})", case_id, None)
    for entry in session.scalars(
        select(SupportEntry).where(SupportEntry.status == "active").order_by(SupportEntry.id)
    ):
        query = support_query(entry)
        if query.id not in out:
            out[query.id] = (
                query,
                f"{entry.recipient} (S-{entry.id}, {entry.kind})",
                None,
                entry.id,
            )
    return list(out.values())


def _seen_before(session: Session, match: MatchView) -> bool:
    """Whether an earlier screening already flagged this pair with the same entry content."""
    row = session.get(EntityMatch, match.id)
    assert row is not None
    earlier = session.scalar(
        select(EntityMatch.id)
        .where(
            EntityMatch.query_ref == row.query_ref,
            EntityMatch.list_slug == row.list_slug,
            EntityMatch.entity_id == row.entity_id,
            EntityMatch.entry_hash == row.entry_hash,
            EntityMatch.id < row.id,
        )
        .limit(1)
    )
    return earlier is not None
