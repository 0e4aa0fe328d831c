"""Policy review: the register of policies and their versions, the automatic check of every
version, and guided assessments answered by several reviewers.

- A **policy** has a type (one of :data:`POLICY_TYPES`), a jurisdiction, an owner and versions.
- A **version** is a document (TXT, Markdown, HTML, DOCX or PDF) stored in the data folder under
  ``policies/<slug>/<sha256 prefix>/`` with its SHA-256. When it is added, the text check runs
  with the policy's type and its findings are stored with the version, so every version can be
  compared with the one before it (new, resolved and unchanged findings).
- An **assessment** scores one version against one rubric. Reviewers (each with their expertise)
  answer every item; differing answers stay visible and are flagged. The assessment's combined
  answer to an item is the most cautious one given (no, then partly, then yes; not applicable
  only when every reviewer said so), so a disagreement never hides a gap. A reviewer's sign-off
  locks their answers; the assessment is final when every required reviewer has signed off.

Every change is recorded in the audit log in the same unit of work: the comment of an answer
is the ``reason`` of its ``assessment.answered`` event, so earlier answers remain readable there.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tipaudit.audit import AuditAction, AuditEntry
from tipaudit.core.clock import utcnow
from tipaudit.core.roles import Permission
from tipaudit.errors import ConflictError, NotFoundError, TipAuditError, ValidationError
from tipaudit.policy.rubrics import (
    POLICY_TYPES,
    Answer,
    AnswerValue,
    AssessmentResult,
    Rubric,
    RubricItem,
    load_rubric,
    policy_type_label,
    score_assessment,
)
from tipaudit.services.accounts import Accounts, StaffUser
from tipaudit.services.audit import AuditLog
from tipaudit.settings import Settings
from tipaudit.storage.db import Database
from tipaudit.storage.policy import (
    AssessmentAnswer,
    AssessmentReviewer,
    Policy,
    PolicyAssessment,
    PolicyVersion,
)

log = logging.getLogger(__name__)

#: Suffixes of documents a version may have (what the text check reads).
DOCUMENT_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".docx", ".pdf")
#: Largest document accepted, in bytes (a 300-page PDF of text is a few megabytes).
MAX_DOCUMENT_BYTES = 25 * 1024 * 1024
#: The expertise a reviewer brings to an assessment, with the label shown to people.
EXPERTISE: Mapping[str, str] = {
    "procurement": "Procurement",
    "anti_trafficking": "Anti-trafficking",
    "labour_rights": "Labour rights",
    "migration": "Labour migration",
    "legal": "Legal drafting",
    "security_cooperation": "Security cooperation",
    "other": "Other",
}
ANSWER_LABELS: Mapping[str, str] = {
    "yes": "Yes",
    "partly": "Partly",
    "no": "No",
    "not_applicable": "Not applicable",
}
SEVERITIES = ("high", "medium", "low")
MAX_COMMENT_CHARS = 2_000
MAX_REVIEWERS = 12
CLI_ACTOR = "system:cli"

_SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$")
_CAUTION = ("no", "partly", "yes")  # most cautious first
_LIMITS = {"name": 300, "jurisdiction": 120, "owner": 200, "description": 4000}

# A check function: paths and a policy type in, a result with ``findings`` out (see
# :func:`_default_checker`); replaceable in tests.
Checker = Callable[[Sequence[Path], str], "CheckOutcome"]


@dataclass(frozen=True)
class CheckOutcome:
    """What the automatic check of one document found, normalised for storage."""

    findings: list[dict[str, Any]]
    provisions: int
    checker: str


@dataclass(frozen=True)
class PolicyInfo:
    id: int
    slug: str
    name: str
    policy_type: str
    type_label: str
    jurisdiction: str
    owner: str
    description: str
    created_at: datetime
    created_by: str
    versions: int = 0
    latest_label: str | None = None
    latest_version_id: int | None = None
    latest_counts: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class VersionInfo:
    id: int
    policy_slug: str
    number: int
    label: str
    effective_date: date | None
    file_name: str
    stored_path: str
    sha256: str
    size_bytes: int
    uploaded_at: datetime
    uploaded_by: str
    checked_at: datetime | None
    checker: str
    provisions: int
    findings: list[dict[str, Any]]

    @property
    def counts(self) -> dict[str, int]:
        return severity_counts(self.findings)


@dataclass(frozen=True)
class FindingDiff:
    """The findings of a version against those of the version before it."""

    version: VersionInfo
    previous: VersionInfo | None
    new: list[dict[str, Any]]
    resolved: list[dict[str, Any]]
    unchanged: list[dict[str, Any]]


@dataclass(frozen=True)
class ReviewerInfo:
    username: str
    expertise: str
    expertise_label: str
    required: bool
    signed_off_at: datetime | None
    answered: int


@dataclass(frozen=True)
class ItemAnswers:
    """Every reviewer's answer to one rubric item, and what the assessment takes from them."""

    item: RubricItem
    answers: dict[str, tuple[str, str]]  # reviewer -> (answer, comment)
    combined: str | None
    disagreement: bool


@dataclass(frozen=True)
class AssessmentView:
    id: int
    policy: PolicyInfo
    version: VersionInfo
    rubric: Rubric
    status: str
    created_at: datetime
    created_by: str
    finalised_at: datetime | None
    reviewers: list[ReviewerInfo]
    items: list[ItemAnswers]
    result: AssessmentResult

    @property
    def final(self) -> bool:
        return self.status == "final"

    @property
    def disagreements(self) -> list[ItemAnswers]:
        return [item for item in self.items if item.disagreement]

    @property
    def waiting_for(self) -> list[str]:
        return [r.username for r in self.reviewers if r.required and r.signed_off_at is None]

    def reviewer(self, username: str) -> ReviewerInfo | None:
        return next((r for r in self.reviewers if r.username == username), None)


@dataclass(frozen=True)
class AssessmentSummary:
    id: int
    version_id: int
    version_label: str
    rubric_id: str
    rubric_title: str
    status: str
    created_at: datetime
    reviewers: int
    waiting_for: list[str]


@dataclass(frozen=True)
class ItemChange:
    """An item whose combined answer differs from the previous version's assessment."""

    item: RubricItem
    before: str | None
    after: str | None


# --- pure helpers ------------------------------------------------------------------------------


def severity_counts(findings: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(SEVERITIES, 0)
    for finding in findings:
        severity = str(finding.get("severity", "low"))
        counts[severity] = counts.get(severity, 0) + 1
    return counts


def finding_key(finding: Mapping[str, Any]) -> str:
    """What makes two findings of different versions the same: the rule and the quoted text
    (not its location, which moves when provisions are added or renumbered)."""
    if finding.get("fingerprint"):
        return str(finding["fingerprint"])
    evidence = " ".join(str(finding.get("evidence", "")).lower().split())
    return f"{finding.get('rule_id', '')}|{evidence}"


def diff_findings(
    current: Sequence[Mapping[str, Any]], previous: Sequence[Mapping[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """(new, resolved, unchanged) findings of ``current`` against ``previous``."""
    before = {finding_key(f): dict(f) for f in previous}
    now = {finding_key(f): dict(f) for f in current}
    new = [f for k, f in now.items() if k not in before]
    resolved = [f for k, f in before.items() if k not in now]
    unchanged = [f for k, f in now.items() if k in before]
    return new, resolved, unchanged


def combine_answers(answers: Iterable[str]) -> str | None:
    """The most cautious of the reviewers' answers: no, then partly, then yes; not applicable
    only when every reviewer said so. ``None`` when nobody answered."""
    given = set(answers)
    if not given:
        return None
    for value in _CAUTION:
        if value in given:
            return value
    return "not_applicable"


def make_slug(name: str) -> str:
    """A register slug from a name: lower-case ASCII letters, digits and hyphens."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:64].strip("-")
    return slug


def check_document(path: Path, suffix: str | None = None) -> None:
    """Refuse what is not a readable document of an accepted kind and size."""
    suffix = (suffix or path.suffix).lower()
    if suffix not in DOCUMENT_SUFFIXES:
        raise ValidationError(
            f"a policy document must be one of {', '.join(DOCUMENT_SUFFIXES)}; "
            f"got {suffix or 'no suffix'!r}"
        )
    size = path.stat().st_size
    if size == 0:
        raise ValidationError("the document is empty")
    if size > MAX_DOCUMENT_BYTES:
        raise ValidationError(
            f"the document has {size:,} bytes; the limit is {MAX_DOCUMENT_BYTES:,}"
        )
    with path.open("rb") as handle:
        head = handle.read(8)
    if suffix == ".pdf":
        if not head.startswith(b"%PDF-"):
            raise ValidationError("the file is called .pdf but is not a PDF document")
    elif suffix == ".docx":
        if not head.startswith(b"PK\x03\x04") or not zipfile.is_zipfile(path):
            raise ValidationError("the file is called .docx but is not a Word document")
        with zipfile.ZipFile(path) as archive:
            if "word/document.xml" not in archive.namelist():
                raise ValidationError("the Word document has no body (word/document.xml)")
    else:
        data = path.read_bytes()
        if b"\x00" in data:
            raise ValidationError("a text document must not contain NUL bytes")
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError("a text document must be UTF-8 encoded") from None


def _safe_file_name(name: str) -> str:
    base = Path(name.replace("\\", "/")).name
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._") or "document"
    safe = f"{stem[:100]}.{suffix.lower()}" if suffix else stem[:100]
    return safe


def _one_line(value: str, field_name: str, limit: int, *, required: bool = False) -> str:
    cleaned = " ".join((value or "").split())
    if required and not cleaned:
        raise ValidationError(f"give the {field_name}")
    if len(cleaned) > limit:
        raise ValidationError(f"the {field_name} may have at most {limit} characters")
    return cleaned


def _actor_name(actor: StaffUser | str, permission: Permission) -> str:
    """The audit actor; a staff user must hold ``permission`` (a shell actor is trusted)."""
    if isinstance(actor, StaffUser):
        actor.require(permission)
        return actor.username
    return actor


def _cite(source: Any) -> str:
    if isinstance(source, Mapping):
        title = str(source.get("title", ""))
        section = str(source.get("section", ""))
        return f"{title}, {section}" if title and section else title or section
    return str(source)


def _describe_location(location: Any) -> str:
    """``file, p. 3, Article 5, lines 12-14`` from a location mapping (file name only)."""
    if not isinstance(location, Mapping):
        return str(location or "")
    parts = [Path(str(location.get("file") or "")).name]
    if location.get("page") is not None:
        parts.append(f"p. {location['page']}")
    if location.get("section"):
        parts.append(str(location["section"]))
    start, end = location.get("line_start"), location.get("line_end")
    if start is not None:
        parts.append(f"line {start}" if start == end or end is None else f"lines {start}-{end}")
    return ", ".join(p for p in parts if p)


def normalise_finding(finding: Any) -> dict[str, Any]:
    """A checker finding as a plain JSON object with the fields the console shows."""
    if hasattr(finding, "to_dict"):
        raw: dict[str, Any] = dict(finding.to_dict())
    elif isinstance(finding, Mapping):
        raw = dict(finding)
    else:
        raise TypeError(f"cannot store a finding of type {type(finding).__name__}")

    def text(*names: str) -> str:
        for name in names:
            value = raw.get(name)
            if value not in (None, ""):
                return str(value)
        return ""

    evidence = raw.get("evidence")
    match = ""
    if isinstance(evidence, Mapping):
        match = str(evidence.get("match", ""))
        evidence = str(evidence.get("text", ""))
    kind = text("kind") or "risk"
    normalised = {
        "rule_id": text("rule_id", "rule"),
        "item_id": text("rubric_item", "item_id"),
        "rubric_id": text("rubric", "rubric_id"),
        "kind": "missing_protection" if kind.startswith("missing") else kind,
        "title": text("title"),
        "severity": text("severity") or "low",
        "indicators": [str(code) for code in raw.get("indicators") or ()],
        "evidence": str(evidence or ""),
        "match": match,
        "location": _describe_location(raw.get("location"))
        or ", ".join(Path(str(name)).name for name in raw.get("files") or ()),
        "explanation": text("explanation"),
        "decision": text("decision"),
        "alternative": text("alternative"),
        "sources": [_cite(source) for source in raw.get("sources") or ()],
    }
    normalised["fingerprint"] = text("fingerprint") or finding_key(normalised)
    return normalised


def _default_checker(paths: Sequence[Path], policy_type: str) -> CheckOutcome:
    """Run the policy text check (``tipaudit.policy.check.check_paths``) on ``paths``."""
    from tipaudit.policy.check import check_paths

    result = check_paths(list(paths), policy_type=policy_type)
    return CheckOutcome(
        findings=[normalise_finding(f) for f in result.findings],
        provisions=int(result.provisions),
        checker=f"tipaudit policy check, rules {result.rules_version}"[:80],
    )


# --- the service -----------------------------------------------------------------------------


class PolicyReview:
    """Use cases of policy review."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        audit: AuditLog,
        accounts: Accounts,
        *,
        checker: Checker | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.audit = audit
        self.accounts = accounts
        self.checker: Checker = checker or _default_checker

    # -- the register ------------------------------------------------------------------------

    @property
    def folder(self) -> Path:
        return self.settings.data_dir / "policies"

    def register(
        self,
        actor: StaffUser | str,
        *,
        name: str,
        policy_type: str,
        slug: str = "",
        jurisdiction: str = "",
        owner: str = "",
        description: str = "",
    ) -> PolicyInfo:
        """Add a policy to the register."""
        who = _actor_name(actor, Permission.POLICY_ASSESS)
        name = _one_line(name, "name", _LIMITS["name"], required=True)
        policy_type_label(policy_type)
        slug = (slug or "").strip().lower() or make_slug(name)
        if not _SLUG_RE.match(slug):
            raise ValidationError(
                "a short name (slug) has 3 to 64 lower-case letters, digits and hyphens, "
                "and starts and ends with a letter or digit"
            )
        jurisdiction = _one_line(jurisdiction, "jurisdiction", _LIMITS["jurisdiction"])
        owner = _one_line(owner, "owner", _LIMITS["owner"])
        description = (description or "").strip()
        if len(description) > _LIMITS["description"]:
            raise ValidationError(
                f"the description may have at most {_LIMITS['description']} characters"
            )
        if "\x00" in description:
            raise ValidationError("the description must not contain NUL characters")
        try:
            with self.db.write() as session:
                if session.scalar(select(Policy.id).where(Policy.slug == slug)) is not None:
                    raise ConflictError(f"a policy called {slug!r} is already in the register")
                row = Policy(
                    slug=slug,
                    name=name,
                    policy_type=policy_type,
                    jurisdiction=jurisdiction,
                    owner=owner,
                    description=description,
                    created_at=utcnow(),
                    created_by=who,
                )
                session.add(row)
                session.flush()
                self.audit.record(
                    session,
                    AuditEntry(
                        actor=who,
                        action=AuditAction.POLICY_REGISTERED,
                        object_type="policy",
                        object_id=slug,
                        details={"policy_type": policy_type},
                    ),
                )
                return self._info(session, row)
        except IntegrityError:
            raise ConflictError(f"a policy called {slug!r} is already in the register") from None

    def list_policies(self, policy_type: str | None = None) -> list[PolicyInfo]:
        if policy_type:
            policy_type_label(policy_type)
        with self.db.read() as session:
            query = select(Policy).order_by(Policy.name)
            if policy_type:
                query = query.where(Policy.policy_type == policy_type)
            return [self._info(session, row) for row in session.scalars(query)]

    def get_policy(self, slug: str) -> PolicyInfo:
        with self.db.read() as session:
            return self._info(session, self._policy(session, slug))

    def _policy(self, session: Session, slug: str) -> Policy:
        row = session.scalar(select(Policy).where(Policy.slug == slug[:64]))
        if row is None:
            raise NotFoundError(f"no policy {slug[:64]!r} in the register")
        return row

    def _info(self, session: Session, row: Policy) -> PolicyInfo:
        latest = session.scalar(
            select(PolicyVersion)
            .where(PolicyVersion.policy_id == row.id)
            .order_by(PolicyVersion.number.desc())
            .limit(1)
        )
        count = session.scalar(
            select(func.count(PolicyVersion.id)).where(PolicyVersion.policy_id == row.id)
        )
        return PolicyInfo(
            id=row.id,
            slug=row.slug,
            name=row.name,
            policy_type=row.policy_type,
            type_label=POLICY_TYPES.get(row.policy_type, row.policy_type),
            jurisdiction=row.jurisdiction,
            owner=row.owner,
            description=row.description,
            created_at=row.created_at,
            created_by=row.created_by,
            versions=int(count or 0),
            latest_label=latest.label if latest else None,
            latest_version_id=latest.id if latest else None,
            latest_counts=severity_counts(latest.findings) if latest else {},
        )

    # -- versions ----------------------------------------------------------------------------

    def add_version(
        self,
        actor: StaffUser | str,
        slug: str,
        source: Path,
        *,
        label: str,
        effective_date: date | None = None,
        file_name: str | None = None,
    ) -> VersionInfo:
        """Store ``source`` as a new version of the policy, check it, and record both.

        ``file_name`` is the name the document was uploaded with (defaults to the source's).
        """
        who = _actor_name(actor, Permission.POLICY_ASSESS)
        label = _one_line(label, "version label", 100, required=True)
        original = _one_line(file_name or source.name, "file name", 300, required=True)
        if not source.is_file():
            raise NotFoundError(f"no such file: {source}")
        check_document(source, Path(original).suffix)
        sha = _sha256(source)
        with self.db.read() as session:
            policy = self._policy(session, slug)
            policy_type = policy.policy_type
            slug = policy.slug
            same = session.scalar(
                select(PolicyVersion).where(
                    PolicyVersion.policy_id == policy.id, PolicyVersion.sha256 == sha
                )
            )
            if same is not None:
                raise ConflictError(
                    f"this document is already version {same.label!r} of {slug}",
                    hint="a new version must differ from every earlier one",
                )
            if session.scalar(
                select(PolicyVersion.id).where(
                    PolicyVersion.policy_id == policy.id, PolicyVersion.label == label
                )
            ):
                raise ConflictError(f"{slug} already has a version labelled {label!r}")
        relative = Path("policies") / slug / sha[:16] / _safe_file_name(original)
        target = self.settings.data_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        created = not target.exists()
        if created:
            tmp = target.with_name(target.name + ".part")
            shutil.copyfile(source, tmp)
            tmp.replace(target)
        try:
            outcome = self._run_check(target, policy_type)
            with self.db.write() as session:
                policy = self._policy(session, slug)
                number = (
                    session.scalar(
                        select(func.max(PolicyVersion.number)).where(
                            PolicyVersion.policy_id == policy.id
                        )
                    )
                    or 0
                ) + 1
                now = utcnow()
                row = PolicyVersion(
                    policy_id=policy.id,
                    number=number,
                    label=label,
                    effective_date=effective_date,
                    file_name=original,
                    stored_path=relative.as_posix(),
                    sha256=sha,
                    size_bytes=target.stat().st_size,
                    uploaded_at=now,
                    uploaded_by=who,
                    checked_at=now,
                    checker=outcome.checker,
                    provisions=outcome.provisions,
                    findings=outcome.findings,
                )
                session.add(row)
                session.flush()
                counts = severity_counts(outcome.findings)
                self.audit.record(
                    session,
                    AuditEntry(
                        actor=who,
                        action=AuditAction.POLICY_VERSION_ADDED,
                        object_type="policy",
                        object_id=slug,
                        details={
                            "version": label,
                            "number": number,
                            "sha256": sha,
                            "findings": {k: counts.get(k, 0) for k in SEVERITIES},
                        },
                    ),
                )
                return _version_info(row, slug)
        except IntegrityError:  # another upload of the same document or label got there first
            if created:
                target.unlink(missing_ok=True)
            raise ConflictError(
                f"{slug} already has this document or a version labelled {label!r}"
            ) from None
        except BaseException:
            if created:
                target.unlink(missing_ok=True)
            raise

    def _run_check(self, path: Path, policy_type: str) -> CheckOutcome:
        try:
            return self.checker([path], policy_type)
        except TipAuditError as exc:  # the reader's reason, without the data folder's path
            message = exc.message.replace(str(path), path.name)
            raise ValidationError(f"the document could not be checked: {message}") from None
        except Exception as exc:  # noqa: BLE001 - a malformed document must not become a 500
            log.warning("policy check failed on %s: %s", path.name, type(exc).__name__)
            raise ValidationError(
                f"the document could not be read ({type(exc).__name__})",
                hint="save it again as PDF, DOCX or plain text and upload that",
            ) from None

    def versions(self, slug: str) -> list[VersionInfo]:
        """The versions of a policy, oldest first."""
        with self.db.read() as session:
            policy = self._policy(session, slug)
            rows = session.scalars(
                select(PolicyVersion)
                .where(PolicyVersion.policy_id == policy.id)
                .order_by(PolicyVersion.number)
            )
            return [_version_info(row, policy.slug) for row in rows]

    def version(self, slug: str, version_id: int) -> VersionInfo:
        with self.db.read() as session:
            policy = self._policy(session, slug)
            row = session.get(PolicyVersion, version_id)
            if row is None or row.policy_id != policy.id:
                raise NotFoundError(f"{policy.slug} has no version {version_id}")
            return _version_info(row, policy.slug)

    def find_version(self, slug: str, label: str | None) -> VersionInfo:
        """The version labelled ``label`` (the newest when ``None``)."""
        versions = self.versions(slug)
        if not versions:
            raise NotFoundError(f"{slug} has no versions yet", hint="add one first")
        if label is None:
            return versions[-1]
        for version in versions:
            if version.label == label:
                return version
        raise NotFoundError(
            f"{slug} has no version {label!r}; its versions: "
            + ", ".join(v.label for v in versions)
        )

    def document_path(self, version: VersionInfo) -> Path:
        path = (self.settings.data_dir / version.stored_path).resolve()
        if not path.is_relative_to(self.folder.resolve()) or not path.is_file():
            raise NotFoundError("the document of this version is missing from the data folder")
        return path

    def diff(self, slug: str, version_id: int) -> FindingDiff:
        """The findings of a version against the version before it."""
        versions = self.versions(slug)
        for index, version in enumerate(versions):
            if version.id == version_id:
                previous = versions[index - 1] if index else None
                new, resolved, unchanged = diff_findings(
                    version.findings, previous.findings if previous else []
                )
                return FindingDiff(version, previous, new, resolved, unchanged)
        raise NotFoundError(f"{slug} has no version {version_id}")

    # -- assessments -------------------------------------------------------------------------

    def start_assessment(
        self,
        actor: StaffUser | str,
        slug: str,
        version_id: int,
        rubric_id: str,
        reviewers: Sequence[tuple[str, str]],
    ) -> int:
        """Open an assessment of a version against a rubric, with its required reviewers
        (username, expertise); every one must hold the policy-assessment permission."""
        who = _actor_name(actor, Permission.POLICY_ASSESS)
        rubric = load_rubric(rubric_id)
        version = self.version(slug, version_id)
        policy = self.get_policy(slug)
        if policy.policy_type not in rubric.policy_types:
            raise ValidationError(
                f"rubric {rubric.id} is not for a {policy.type_label.lower()}; rubrics for "
                "this type are listed on the policy's page"
            )
        chosen = self._check_reviewers(reviewers)
        if not chosen:
            raise ValidationError("name at least one required reviewer")
        with self.db.write() as session:
            now = utcnow()
            row = PolicyAssessment(
                version_id=version.id,
                rubric_id=rubric.id,
                rubric_version=rubric.version,
                status="open",
                created_at=now,
                created_by=who,
            )
            session.add(row)
            session.flush()
            for username, expertise in chosen:
                session.add(
                    AssessmentReviewer(
                        assessment_id=row.id,
                        username=username,
                        expertise=expertise,
                        required=True,
                        added_at=now,
                        added_by=who,
                    )
                )
            self.audit.record(
                session,
                AuditEntry(
                    actor=who,
                    action=AuditAction.ASSESSMENT_STARTED,
                    object_type="assessment",
                    object_id=str(row.id),
                    details={
                        "policy": policy.slug,
                        "version": version.label,
                        "rubric": rubric.id,
                        "rubric_version": rubric.version,
                        "required_reviewers": [{"username": u, "expertise": e} for u, e in chosen],
                    },
                ),
            )
            return row.id

    def _check_reviewers(self, reviewers: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
        chosen: dict[str, str] = {}
        for raw_username, raw_expertise in reviewers:
            username = raw_username.strip()
            if not username:
                continue
            expertise = _expertise(raw_expertise)
            if username in chosen:
                raise ValidationError(f"{username} is named twice as a reviewer")
            user = self.accounts.get_user(username[:64])
            if not user.can(Permission.POLICY_ASSESS):
                raise ValidationError(
                    f"{username} cannot review policies (needs the policy analyst role)"
                )
            chosen[username] = expertise
        if len(chosen) > MAX_REVIEWERS:
            raise ValidationError(f"at most {MAX_REVIEWERS} reviewers")
        return list(chosen.items())

    def join_assessment(self, actor: StaffUser, assessment_id: int, expertise: str) -> None:
        """Take part in an assessment as an additional (not required) reviewer."""
        actor.require(Permission.POLICY_ASSESS)
        expertise = _expertise(expertise)
        with self.db.write() as session:
            assessment = self._assessment(session, assessment_id)
            if assessment.status == "final":
                raise ConflictError("this assessment is final; it can no longer change")
            if self._reviewer(session, assessment_id, actor.username) is not None:
                raise ConflictError("you are already a reviewer of this assessment")
            count = session.scalar(
                select(func.count(AssessmentReviewer.id)).where(
                    AssessmentReviewer.assessment_id == assessment_id
                )
            )
            if (count or 0) >= MAX_REVIEWERS:
                raise ValidationError(f"an assessment has at most {MAX_REVIEWERS} reviewers")
            session.add(
                AssessmentReviewer(
                    assessment_id=assessment_id,
                    username=actor.username,
                    expertise=expertise,
                    required=False,
                    added_at=utcnow(),
                    added_by=actor.username,
                )
            )
            self.audit.record(
                session,
                AuditEntry(
                    actor=actor.username,
                    action=AuditAction.ASSESSMENT_REVIEWER_JOINED,
                    object_type="assessment",
                    object_id=str(assessment_id),
                    details={"expertise": expertise},
                ),
            )

    def answer(
        self,
        actor: StaffUser,
        assessment_id: int,
        answers: Mapping[str, tuple[str, str]],
    ) -> int:
        """Record the actor's answers (item id -> (answer, comment)); returns how many
        changed. Unchanged answers are not recorded again."""
        actor.require(Permission.POLICY_ASSESS)
        cleaned = _clean_answers(answers)
        with self.db.write() as session:
            assessment = self._assessment(session, assessment_id)
            if assessment.status == "final":
                raise ConflictError("this assessment is final; its answers can no longer change")
            reviewer = self._reviewer(session, assessment_id, actor.username)
            if reviewer is None:
                raise ValidationError(
                    "you are not a reviewer of this assessment", hint="join it first"
                )
            if reviewer.signed_off_at is not None:
                raise ConflictError("you have signed off; your answers are locked")
            rubric = load_rubric(assessment.rubric_id)
            asked = _asked(session, assessment, rubric)
            known = {item.id for item in asked}
            unknown = sorted(set(cleaned) - known)
            if unknown:
                raise ValidationError(
                    f"rubric {rubric.id} asks no item(s) {', '.join(unknown[:10])} of this policy"
                )
            existing = {
                row.item_id: row
                for row in session.scalars(
                    select(AssessmentAnswer).where(
                        AssessmentAnswer.assessment_id == assessment_id,
                        AssessmentAnswer.reviewer == actor.username,
                    )
                )
            }
            changed = 0
            now = utcnow()
            for item in asked:  # in rubric order, so the audit log reads naturally
                if item.id not in cleaned:
                    continue
                value, comment = cleaned[item.id]
                row = existing.get(item.id)
                previous = None
                if row is not None:
                    if row.answer == value and row.comment == comment:
                        continue
                    previous = row.answer
                    row.answer, row.comment, row.answered_at = value, comment, now
                else:
                    session.add(
                        AssessmentAnswer(
                            assessment_id=assessment_id,
                            reviewer=actor.username,
                            item_id=item.id,
                            answer=value,
                            comment=comment,
                            answered_at=now,
                        )
                    )
                changed += 1
                self.audit.record(
                    session,
                    AuditEntry(
                        actor=actor.username,
                        action=AuditAction.ASSESSMENT_ANSWERED,
                        object_type="assessment",
                        object_id=str(assessment_id),
                        reason=comment or None,
                        details={"item": item.id, "answer": value, "previous": previous},
                    ),
                )
            return changed

    def sign_off(self, actor: StaffUser, assessment_id: int) -> bool:
        """Sign off the actor's answers (they lock); returns whether the assessment is now
        final (every required reviewer has signed off)."""
        actor.require(Permission.POLICY_ASSESS)
        with self.db.write() as session:
            assessment = self._assessment(session, assessment_id)
            if assessment.status == "final":
                raise ConflictError("this assessment is already final")
            reviewer = self._reviewer(session, assessment_id, actor.username)
            if reviewer is None:
                raise ValidationError("you are not a reviewer of this assessment")
            if reviewer.signed_off_at is not None:
                raise ConflictError("you have already signed off")
            rubric = load_rubric(assessment.rubric_id)
            asked = _asked(session, assessment, rubric)
            answered = set(
                session.scalars(
                    select(AssessmentAnswer.item_id).where(
                        AssessmentAnswer.assessment_id == assessment_id,
                        AssessmentAnswer.reviewer == actor.username,
                    )
                )
            )
            missing = [item.id for item in asked if item.id not in answered]
            if missing:
                raise ValidationError(
                    f"answer every item before signing off; {len(missing)} unanswered: "
                    + ", ".join(missing[:8])
                    + (" …" if len(missing) > 8 else "")
                )
            now = utcnow()
            reviewer.signed_off_at = now
            self.audit.record(
                session,
                AuditEntry(
                    actor=actor.username,
                    action=AuditAction.ASSESSMENT_SIGNED_OFF,
                    object_type="assessment",
                    object_id=str(assessment_id),
                    details={"expertise": reviewer.expertise, "required": reviewer.required},
                ),
            )
            session.flush()
            waiting = session.scalar(
                select(func.count(AssessmentReviewer.id)).where(
                    AssessmentReviewer.assessment_id == assessment_id,
                    AssessmentReviewer.required.is_(True),
                    AssessmentReviewer.signed_off_at.is_(None),
                )
            )
            if waiting:
                return False
            assessment.status = "final"
            assessment.finalised_at = now
            signed = [
                r.username
                for r in session.scalars(
                    select(AssessmentReviewer).where(
                        AssessmentReviewer.assessment_id == assessment_id,
                        AssessmentReviewer.signed_off_at.is_not(None),
                    )
                )
            ]
            self.audit.record(
                session,
                AuditEntry(
                    actor=actor.username,
                    action=AuditAction.ASSESSMENT_FINALISED,
                    object_type="assessment",
                    object_id=str(assessment_id),
                    details={"signed_off_by": sorted(signed)},
                ),
            )
            return True

    def assessments(self, slug: str) -> list[AssessmentSummary]:
        """The assessments of every version of a policy, newest first."""
        with self.db.read() as session:
            policy = self._policy(session, slug)
            rows = session.execute(
                select(PolicyAssessment, PolicyVersion.label)
                .join(PolicyVersion, PolicyVersion.id == PolicyAssessment.version_id)
                .where(PolicyVersion.policy_id == policy.id)
                .order_by(PolicyAssessment.id.desc())
            ).all()
            out = []
            for assessment, label in rows:
                reviewers = list(
                    session.scalars(
                        select(AssessmentReviewer).where(
                            AssessmentReviewer.assessment_id == assessment.id
                        )
                    )
                )
                out.append(
                    AssessmentSummary(
                        id=assessment.id,
                        version_id=assessment.version_id,
                        version_label=label,
                        rubric_id=assessment.rubric_id,
                        rubric_title=_rubric_title(assessment.rubric_id),
                        status=assessment.status,
                        created_at=assessment.created_at,
                        reviewers=len(reviewers),
                        waiting_for=[
                            r.username for r in reviewers if r.required and r.signed_off_at is None
                        ],
                    )
                )
            return out

    def open_assessment_for(self, slug: str, version_id: int, rubric_id: str) -> int | None:
        """The newest open assessment of a version against a rubric, if any."""
        with self.db.read() as session:
            self._policy(session, slug)
            found = session.scalar(
                select(PolicyAssessment.id)
                .where(
                    PolicyAssessment.version_id == version_id,
                    PolicyAssessment.rubric_id == rubric_id,
                    PolicyAssessment.status == "open",
                )
                .order_by(PolicyAssessment.id.desc())
                .limit(1)
            )
            return int(found) if found is not None else None

    def assessment(self, assessment_id: int, *, slug: str | None = None) -> AssessmentView:
        """An assessment with every reviewer's answers, the disagreements and the result."""
        with self.db.read() as session:
            row = self._assessment(session, assessment_id)
            version_row = session.get(PolicyVersion, row.version_id)
            assert version_row is not None
            policy_row = session.get(Policy, version_row.policy_id)
            assert policy_row is not None
            if slug is not None and policy_row.slug != slug:
                raise NotFoundError(f"{slug[:64]} has no assessment {assessment_id}")
            policy = self._info(session, policy_row)
            version = _version_info(version_row, policy_row.slug)
            reviewers_rows = list(
                session.scalars(
                    select(AssessmentReviewer)
                    .where(AssessmentReviewer.assessment_id == assessment_id)
                    .order_by(AssessmentReviewer.required.desc(), AssessmentReviewer.id)
                )
            )
            answer_rows = list(
                session.scalars(
                    select(AssessmentAnswer).where(AssessmentAnswer.assessment_id == assessment_id)
                )
            )
            session.expunge_all()  # plain values from here on
        rubric = load_rubric(row.rubric_id)
        by_item: dict[str, dict[str, tuple[str, str]]] = {}
        for answer in answer_rows:
            by_item.setdefault(answer.item_id, {})[answer.reviewer] = (
                answer.answer,
                answer.comment,
            )
        order = {r.username: i for i, r in enumerate(reviewers_rows)}
        items: list[ItemAnswers] = []
        combined_answers: dict[str, Answer] = {}
        for item in rubric.items_for_type(policy.policy_type):
            given = dict(
                sorted(by_item.get(item.id, {}).items(), key=lambda kv: order.get(kv[0], 99))
            )
            values = [value for value, _ in given.values()]
            combined = combine_answers(values)
            items.append(
                ItemAnswers(
                    item=item,
                    answers=given,
                    combined=combined,
                    disagreement=len(set(values)) > 1,
                )
            )
            if combined is not None:
                comments = "; ".join(
                    f"{who}: {comment}" for who, (_, comment) in given.items() if comment
                )
                combined_answers[item.id] = Answer(value=AnswerValue(combined), comment=comments)
        result = score_assessment(rubric, combined_answers, policy_type=policy.policy_type)
        counts: dict[str, int] = {}
        for answer in answer_rows:
            counts[answer.reviewer] = counts.get(answer.reviewer, 0) + 1
        reviewers = [
            ReviewerInfo(
                username=r.username,
                expertise=r.expertise,
                expertise_label=EXPERTISE.get(r.expertise, r.expertise),
                required=r.required,
                signed_off_at=r.signed_off_at,
                answered=counts.get(r.username, 0),
            )
            for r in reviewers_rows
        ]
        return AssessmentView(
            id=row.id,
            policy=policy,
            version=version,
            rubric=rubric,
            status=row.status,
            created_at=row.created_at,
            created_by=row.created_by,
            finalised_at=row.finalised_at,
            reviewers=reviewers,
            items=items,
            result=result,
        )

    def previous_assessment(self, view: AssessmentView) -> AssessmentView | None:
        """The newest assessment of an earlier version of the same policy against the same
        rubric (final ones preferred)."""
        with self.db.read() as session:
            rows = session.execute(
                select(PolicyAssessment.id, PolicyAssessment.status)
                .join(PolicyVersion, PolicyVersion.id == PolicyAssessment.version_id)
                .where(
                    PolicyVersion.policy_id == view.policy.id,
                    PolicyVersion.number < view.version.number,
                    PolicyAssessment.rubric_id == view.rubric.id,
                )
                .order_by(PolicyVersion.number.desc(), PolicyAssessment.id.desc())
            ).all()
        if not rows:
            return None
        finals = [r.id for r in rows if r.status == "final"]
        return self.assessment(finals[0] if finals else rows[0].id)

    def _assessment(self, session: Session, assessment_id: int) -> PolicyAssessment:
        row = session.get(PolicyAssessment, assessment_id)
        if row is None:
            raise NotFoundError(f"no assessment {assessment_id}")
        return row

    def _reviewer(
        self, session: Session, assessment_id: int, username: str
    ) -> AssessmentReviewer | None:
        return session.scalar(
            select(AssessmentReviewer).where(
                AssessmentReviewer.assessment_id == assessment_id,
                AssessmentReviewer.username == username,
            )
        )


def compare_assessments(current: AssessmentView, previous: AssessmentView) -> list[ItemChange]:
    """Items whose combined answer changed between two assessments against one rubric."""
    before = {i.item.id: i.combined for i in previous.items}
    return [
        ItemChange(item=i.item, before=before.get(i.item.id), after=i.combined)
        for i in current.items
        if before.get(i.item.id) != i.combined
    ]


def _clean_answers(answers: Mapping[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    cleaned: dict[str, tuple[str, str]] = {}
    for item_id, (raw_answer, raw_comment) in answers.items():
        try:
            value = AnswerValue.parse(str(raw_answer)).value
        except TipAuditError as exc:
            raise ValidationError(f"{item_id}: {exc.message}") from None
        comment = (raw_comment or "").strip()
        if len(comment) > MAX_COMMENT_CHARS:
            raise ValidationError(
                f"{item_id}: a comment may have at most {MAX_COMMENT_CHARS} characters"
            )
        if "\x00" in comment:
            raise ValidationError(f"{item_id}: a comment must not contain NUL characters")
        cleaned[item_id] = (value, comment)
    return cleaned


def _asked(
    session: Session, assessment: PolicyAssessment, rubric: Rubric
) -> tuple[RubricItem, ...]:
    """The rubric's items that apply to the type of the assessed policy."""
    policy_type = session.scalar(
        select(Policy.policy_type)
        .join(PolicyVersion, PolicyVersion.policy_id == Policy.id)
        .where(PolicyVersion.id == assessment.version_id)
    )
    return rubric.items_for_type(policy_type or "other")


def _expertise(value: str) -> str:
    key = re.sub(r"[\s-]+", "_", (value or "").strip().lower())
    if key not in EXPERTISE:
        raise ValidationError(f"unknown expertise {value!r}; choose one of: {', '.join(EXPERTISE)}")
    return key


def _rubric_title(rubric_id: str) -> str:
    try:
        return load_rubric(rubric_id).title
    except TipAuditError:
        return rubric_id


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _version_info(row: PolicyVersion, slug: str) -> VersionInfo:
    return VersionInfo(
        id=row.id,
        policy_slug=slug,
        number=row.number,
        label=row.label,
        effective_date=row.effective_date,
        file_name=row.file_name,
        stored_path=row.stored_path,
        sha256=row.sha256,
        size_bytes=row.size_bytes,
        uploaded_at=row.uploaded_at,
        uploaded_by=row.uploaded_by,
        checked_at=row.checked_at,
        checker=row.checker,
        provisions=row.provisions,
        findings=list(row.findings or []),
    )
