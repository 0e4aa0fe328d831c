"""Policy rubrics: versioned, documented checklists for reviewing a policy, loaded from YAML.

A rubric is a list of questions a reviewer answers about one policy (``yes``, ``partly``, ``no``
or ``not applicable``). Each question (a :class:`RubricItem`) says why it matters (guidance),
how serious a gap is (severity), which trafficking indicators a gap feeds (codes from
:mod:`tipaudit.core.indicators`), what to do instead (the recommended alternative) and where the
standard comes from (sources). The rubric files live next to this module
(``tipaudit/policy/rubrics/*.yaml``) and are validated strictly on load; see
``docs/policy-rubrics.md`` for the format.

Typical use::

    from tipaudit.policy.rubrics import load_rubric, rubrics_for_type, score_assessment

    rubric = load_rubric("labour-migration")
    result = score_assessment(rubric, {"lm-ban": "no", "lm-visa-change": Answer(value="partly")})
    for finding in result.findings:
        print(finding.item_id, finding.severity, finding.alternative)
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from enum import StrEnum
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from tipaudit.core.indicators import load_taxonomy
from tipaudit.errors import NotFoundError, ValidationError

__all__ = [
    "MAX_RUBRIC_BYTES",
    "POLICY_TYPES",
    "SEVERITY_WEIGHTS",
    "Answer",
    "AnswerValue",
    "AssessmentFinding",
    "AssessmentResult",
    "Rubric",
    "RubricItem",
    "Severity",
    "SourceRef",
    "load_rubric",
    "load_rubric_file",
    "load_rubrics",
    "policy_type_label",
    "rubrics_for_type",
    "score_assessment",
]

#: The kinds of policy tipaudit reviews, with the label shown to people.
POLICY_TYPES: Mapping[str, str] = MappingProxyType(
    {
        "procurement_framework": "Procurement framework",
        "labour_migration_rule": "Labour-migration rule",
        "recruitment_regulation": "Recruitment regulation",
        "visa_scheme": "Visa scheme",
        "labour_law_coverage": "Labour-law coverage",
        "security_cooperation": "Security-cooperation agreement",
        "other": "Other",
    }
)

#: Largest rubric file accepted, in bytes (the packaged ones are a few dozen kilobytes).
MAX_RUBRIC_BYTES = 500_000

Severity = Literal["high", "medium", "low"]

#: Weight of an item in the assessment score, by severity.
SEVERITY_WEIGHTS: Mapping[str, int] = MappingProxyType({"high": 3, "medium": 2, "low": 1})

_ID = re.compile(r"[a-z0-9][a-z0-9-]{1,63}")
_VERSION = re.compile(r"\d+\.\d+(?:\.\d+)?")


def policy_type_label(policy_type: str) -> str:
    """The label of ``policy_type``; raises :class:`ValidationError` for an unknown type."""
    try:
        return POLICY_TYPES[policy_type]
    except KeyError:
        raise ValidationError(
            f"Unknown policy type {policy_type!r}; choose one of: {', '.join(POLICY_TYPES)}."
        ) from None


def _check_types(values: tuple[str, ...]) -> tuple[str, ...]:
    for value in values:
        policy_type_label(value)
    if len(set(values)) != len(values):
        raise ValueError("policy types are listed twice")
    return values


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class SourceRef(_Frozen):
    """A citation: the document's title, the section or paragraph, and where to read it."""

    title: str = Field(min_length=3)
    section: str = ""
    url: str = Field(default="", pattern=r"^(https://\S+)?$")
    note: str = ""

    def cite(self) -> str:
        """One-line citation: ``title, section``."""
        return f"{self.title}, {self.section}" if self.section else self.title


class RubricItem(_Frozen):
    """One question of a rubric."""

    id: str
    question: str = Field(min_length=10)
    guidance: str = Field(min_length=10)
    severity: Severity
    indicators: tuple[str, ...] = Field(min_length=1)
    alternative: str = Field(min_length=10)
    sources: tuple[SourceRef, ...] = Field(min_length=1)
    #: The policy types this item applies to; empty in the file means "those of the rubric".
    policy_types: tuple[str, ...] = ()

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.fullmatch(value):
            raise ValueError(f"item id {value!r} must be lower-case letters, digits and '-'")
        return value

    @field_validator("indicators")
    @classmethod
    def _indicators(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        tax = load_taxonomy()
        unknown = [code for code in value if code not in tax]
        if unknown:
            raise ValueError(f"unknown indicator code(s): {', '.join(unknown)}")
        return value

    @field_validator("policy_types")
    @classmethod
    def _types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        try:
            return _check_types(value)
        except ValidationError as exc:
            raise ValueError(exc.message) from None

    def applies_to(self, policy_type: str) -> bool:
        """Whether the item is asked of a policy of ``policy_type``."""
        return policy_type in self.policy_types


class Rubric(_Frozen):
    """A versioned checklist; ``items`` in the order a reviewer answers them."""

    id: str
    version: str
    title: str = Field(min_length=3)
    description: str = Field(min_length=10)
    policy_types: tuple[str, ...] = Field(min_length=1)
    items: tuple[RubricItem, ...] = Field(min_length=1)
    source: SourceRef
    origin: str = Field(default="", exclude=True)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.fullmatch(value):
            raise ValueError(f"rubric id {value!r} must be lower-case letters, digits and '-'")
        return value

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not _VERSION.fullmatch(value):
            raise ValueError(f"version {value!r} must look like 1.0 or 1.2.3")
        return value

    @field_validator("policy_types")
    @classmethod
    def _types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        try:
            return _check_types(value)
        except ValidationError as exc:
            raise ValueError(exc.message) from None

    @model_validator(mode="before")
    @classmethod
    def _inherit_types(cls, data: Any) -> Any:
        # An item without its own policy types applies to every type of the rubric.
        if isinstance(data, dict) and isinstance(data.get("items"), list):
            types = data.get("policy_types") or ()
            data = dict(data)
            data["items"] = [
                {**item, "policy_types": item.get("policy_types") or list(types)}
                if isinstance(item, dict)
                else item
                for item in data["items"]
            ]
        return data

    @model_validator(mode="after")
    def _unique(self) -> Rubric:
        seen: set[str] = set()
        for item in self.items:
            if item.id in seen:
                raise ValueError(f"item id {item.id!r} is used twice")
            seen.add(item.id)
        return self

    def item(self, item_id: str) -> RubricItem:
        """The item ``item_id``; raises :class:`NotFoundError`."""
        for item in self.items:
            if item.id == item_id:
                return item
        raise NotFoundError(f"Rubric {self.id} has no item {item_id!r}.")

    def items_for_type(self, policy_type: str) -> tuple[RubricItem, ...]:
        """The items asked of a policy of ``policy_type``."""
        policy_type_label(policy_type)
        return tuple(item for item in self.items if item.applies_to(policy_type))


# --- loading ---------------------------------------------------------------------------------


def load_rubric_file(path: Path) -> Rubric:
    """Load and validate one rubric file; errors name the file and the offending field."""
    try:
        size = path.stat().st_size
        if size > MAX_RUBRIC_BYTES:
            raise ValidationError(
                f"{path}: rubric file is {size:,} bytes; the limit is {MAX_RUBRIC_BYTES:,}."
            )
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFoundError(f"Rubric file not found: {path}") from None
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{path}: not UTF-8 text ({exc.reason}).") from None
    return _parse(text, str(path))


def _parse(text: str, origin: str) -> Rubric:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationError(f"{origin}: not valid YAML ({exc}).") from None
    if not isinstance(data, dict):
        raise ValidationError(f"{origin}: a rubric file is a mapping with id, version and items.")
    try:
        return Rubric.model_validate({**data, "origin": origin})
    except PydanticValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()[:5]
        )
        raise ValidationError(f"{origin}: not a valid rubric: {problems}") from None


@functools.cache
def _packaged() -> Mapping[str, Rubric]:
    folder = resources.files(__name__)
    rubrics: dict[str, Rubric] = {}
    item_owner: dict[str, str] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        rubric = _parse(entry.read_text(encoding="utf-8"), str(entry))
        if rubric.id != entry.name.removesuffix(".yaml"):
            raise ValidationError(f"{entry}: rubric id {rubric.id!r} differs from the file name.")
        for item in rubric.items:
            if item.id in item_owner:
                raise ValidationError(
                    f"{entry}: item id {item.id!r} is also used by {item_owner[item.id]}."
                )
            item_owner[item.id] = rubric.id
        rubrics[rubric.id] = rubric
    return MappingProxyType(rubrics)


def load_rubrics() -> dict[str, Rubric]:
    """Every packaged rubric by id (item ids are unique across rubrics)."""
    return dict(_packaged())


def load_rubric(rubric_id: str) -> Rubric:
    """The packaged rubric ``rubric_id``; raises :class:`NotFoundError` naming the known ones."""
    rubrics = _packaged()
    try:
        return rubrics[rubric_id]
    except KeyError:
        raise NotFoundError(
            f"Unknown rubric {rubric_id!r}; known rubrics: {', '.join(rubrics)}."
        ) from None


def rubrics_for_type(policy_type: str) -> list[Rubric]:
    """The rubrics that apply to a policy of ``policy_type``, in id order."""
    policy_type_label(policy_type)
    return [r for r in _packaged().values() if policy_type in r.policy_types]


def find_item(item_id: str) -> tuple[Rubric, RubricItem]:
    """The rubric and item with the (globally unique) ``item_id``."""
    for rubric in _packaged().values():
        for item in rubric.items:
            if item.id == item_id:
                return rubric, item
    raise NotFoundError(f"No rubric has an item {item_id!r}.")


# --- assessment ------------------------------------------------------------------------------


class AnswerValue(StrEnum):
    """A reviewer's answer to one rubric question."""

    YES = "yes"
    PARTLY = "partly"
    NO = "no"
    NOT_APPLICABLE = "not_applicable"

    @classmethod
    def parse(cls, value: str) -> AnswerValue:
        """Read ``yes``, ``partly``, ``no``, ``n/a`` / ``not applicable`` (any case)."""
        key = re.sub(r"[\s/_-]+", "_", value.strip().lower())
        aliases = {
            "na": "not_applicable",
            "n_a": "not_applicable",
            "not_applicable": "not_applicable",
        }
        key = aliases.get(key, key)
        try:
            return cls(key)
        except ValueError:
            raise ValidationError(
                f"Answer {value!r} is not one of yes, partly, no, not applicable."
            ) from None


#: Credit an answer earns towards the score.
_CREDIT: Mapping[AnswerValue, float] = MappingProxyType(
    {AnswerValue.YES: 1.0, AnswerValue.PARTLY: 0.5, AnswerValue.NO: 0.0}
)


class Answer(_Frozen):
    """An answer and the reviewer's comment (evidence, article numbers, doubts)."""

    value: AnswerValue
    comment: str = Field(default="", max_length=10_000)

    @field_validator("value", mode="before")
    @classmethod
    def _value(cls, value: Any) -> Any:
        if isinstance(value, str) and not isinstance(value, AnswerValue):
            try:
                return AnswerValue.parse(value)
            except ValidationError as exc:
                raise ValueError(exc.message) from None
        return value


class AssessmentFinding(_Frozen):
    """A gap: an item answered ``no`` or ``partly``, with the item's recommendation."""

    rubric_id: str
    item_id: str
    question: str
    answer: AnswerValue
    comment: str
    severity: Severity
    indicators: tuple[str, ...]
    guidance: str
    alternative: str
    sources: tuple[SourceRef, ...]


class AssessmentResult(_Frozen):
    """The outcome of scoring one policy against one rubric."""

    rubric_id: str
    rubric_version: str
    policy_type: str | None
    findings: tuple[AssessmentFinding, ...]
    #: Severity-weighted share of the applicable, answered items met (0-100); None if none.
    score: float | None
    answered: int
    applicable: int
    not_applicable: int
    unanswered: tuple[str, ...]

    @property
    def complete(self) -> bool:
        """Whether every applicable item has an answer."""
        return not self.unanswered

    def counts(self) -> dict[str, int]:
        """Number of findings by severity."""
        out = {"high": 0, "medium": 0, "low": 0}
        for finding in self.findings:
            out[finding.severity] += 1
        return out


def score_assessment(
    rubric: Rubric,
    answers: Mapping[str, Answer | AnswerValue | str],
    *,
    policy_type: str | None = None,
) -> AssessmentResult:
    """Score answers against ``rubric`` and turn every ``no``/``partly`` into a finding.

    ``answers`` maps item ids to an :class:`Answer` (or a bare value such as ``"no"``). With
    ``policy_type``, only the items that apply to that type count; an answer to an item the
    rubric does not have is refused. The score weighs items by severity (high 3, medium 2,
    low 1): yes earns full credit, partly half, no none; not-applicable items are left out.
    Findings come out most severe first, in rubric order within a severity.
    """
    known = {item.id for item in rubric.items}
    extra = sorted(set(answers) - known)
    if extra:
        raise ValidationError(f"Rubric {rubric.id} has no item(s): {', '.join(extra)}.")
    items = rubric.items_for_type(policy_type) if policy_type else rubric.items
    findings: list[AssessmentFinding] = []
    unanswered: list[str] = []
    earned = possible = 0.0
    answered = not_applicable = 0
    for item in items:
        raw = answers.get(item.id)
        if raw is None:
            unanswered.append(item.id)
            continue
        answer = raw if isinstance(raw, Answer) else Answer(value=raw)
        answered += 1
        if answer.value is AnswerValue.NOT_APPLICABLE:
            not_applicable += 1
            continue
        weight = SEVERITY_WEIGHTS[item.severity]
        possible += weight
        earned += weight * _CREDIT[answer.value]
        if answer.value in {AnswerValue.NO, AnswerValue.PARTLY}:
            findings.append(
                AssessmentFinding(
                    rubric_id=rubric.id,
                    item_id=item.id,
                    question=item.question,
                    answer=answer.value,
                    comment=answer.comment,
                    severity=item.severity,
                    indicators=item.indicators,
                    guidance=item.guidance,
                    alternative=item.alternative,
                    sources=item.sources,
                )
            )
    order = {"high": 0, "medium": 1, "low": 2}
    findings.sort(key=lambda f: order[f.severity])
    return AssessmentResult(
        rubric_id=rubric.id,
        rubric_version=rubric.version,
        policy_type=policy_type,
        findings=tuple(findings),
        score=round(100 * earned / possible, 1) if possible else None,
        answered=answered,
        applicable=len(items),
        not_applicable=not_applicable,
        unanswered=tuple(unanswered),
    )
