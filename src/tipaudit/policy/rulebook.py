"""The screening rules (``policy/rules/*.yaml``) and how a matched provision is judged.

Rules are data: ``risks.yaml`` lists acts that create risk, ``protections.yaml`` the
protections a policy of each type should contain, and ``modality.yaml`` the cues that decide
whether a matched act is prohibited, permitted, required or restricted. This module loads and
validates them (every rubric item and indicator code must exist) and implements the one
decision procedure described in ``docs/policy-check.md``; every decision returns the cues that
produced it, so a finding can say why.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from tipaudit.core.indicators import load_taxonomy
from tipaudit.errors import ValidationError
from tipaudit.policy.rubrics import POLICY_TYPES, find_item

__all__ = [
    "Act",
    "Cues",
    "Decision",
    "ProtectionPattern",
    "ProtectionRule",
    "RiskRule",
    "Rulebook",
    "decide",
    "load_rulebook",
]

ActKind = Literal["harm", "freedom", "statement"]
Outcome = Literal["risk", "protective", "neutral"]
_FLAGS = re.IGNORECASE | re.UNICODE


# --- file schemas (validated with pydantic) --------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _ActSpec(_Strict):
    kind: ActKind
    pattern: str
    requires: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()


class _RiskSpec(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9-]{2,40}$")
    title: str
    items: tuple[str, ...] = Field(min_length=1)
    severity: Literal["high", "medium", "low"]
    indicators: tuple[str, ...] = Field(min_length=1)
    explanation: str
    acts: tuple[_ActSpec, ...] = Field(min_length=1)
    alternative: str | None = None
    keywords: tuple[str, ...] = ()


class _RisksFile(_Strict):
    version: str
    vocabulary: dict[str, str]
    rules: tuple[_RiskSpec, ...]


class _PatternSpec(_Strict):
    when: Literal["any", "affirmed", "prohibited"]
    pattern: str
    unless: tuple[str, ...] = ()


class _ProtectionSpec(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9-]{2,40}$")
    title: str
    items: dict[str, str] = Field(min_length=1)
    searched: str
    via: tuple[str, ...] = ()
    patterns: tuple[_PatternSpec, ...] = ()


class _ProtectionsFile(_Strict):
    version: str
    protections: tuple[_ProtectionSpec, ...]


class _ModalityFile(_Strict):
    version: str
    ignore: tuple[str, ...]
    negators: tuple[str, ...]
    prohibitive: tuple[str, ...]
    post_prohibitive: tuple[str, ...]
    lead_in_prohibitive: tuple[str, ...]
    permission: tuple[str, ...]
    obligation: tuple[str, ...]
    exceptions: tuple[str, ...]
    safeguards: tuple[str, ...]
    restrictions: tuple[str, ...]
    definitions: tuple[str, ...]


# --- compiled rules --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Act:
    """One pattern of a risk rule, with what kind of act it describes."""

    kind: ActKind
    pattern: re.Pattern[str]
    source: str
    requires: tuple[re.Pattern[str], ...] = ()
    unless: tuple[re.Pattern[str], ...] = ()

    def applies(self, text: str) -> bool:
        """Whether the provision meets ``requires`` and avoids ``unless``."""
        return all(p.search(text) for p in self.requires) and not any(
            p.search(text) for p in self.unless
        )


@dataclass(frozen=True, slots=True)
class RiskRule:
    """A kind of risk-creating provision."""

    id: str
    title: str
    items: tuple[str, ...]
    severity: str
    indicators: tuple[str, ...]
    explanation: str
    acts: tuple[Act, ...]
    alternative: str | None = None
    keywords: tuple[str, ...] = ()

    def may_match(self, lowered: str) -> bool:
        """Cheap prefilter: whether the lower-cased provision has one of the keywords."""
        return not self.keywords or any(k in lowered for k in self.keywords)

    def item_for(self, policy_type: str | None) -> str:
        """The first of the rule's rubric items that applies to ``policy_type``."""
        if policy_type:
            for item_id in self.items:
                _, item = find_item(item_id)
                if item.applies_to(policy_type):
                    return item_id
        return self.items[0]


@dataclass(frozen=True, slots=True)
class ProtectionPattern:
    """A pattern that is evidence of a protection, and how its match is judged."""

    when: Literal["any", "affirmed", "prohibited"]
    pattern: re.Pattern[str]
    source: str
    unless: tuple[re.Pattern[str], ...] = ()


@dataclass(frozen=True, slots=True)
class ProtectionRule:
    """A protection a policy of some types should contain."""

    id: str
    title: str
    items: dict[str, str] = field(hash=False)
    searched: str
    via: tuple[str, ...]
    patterns: tuple[ProtectionPattern, ...]


@dataclass(frozen=True, slots=True)
class Cues:
    """Compiled modality cues."""

    ignore: tuple[re.Pattern[str], ...]
    negators: tuple[re.Pattern[str], ...]
    prohibitive: tuple[re.Pattern[str], ...]
    post_prohibitive: tuple[re.Pattern[str], ...]
    lead_in_prohibitive: tuple[re.Pattern[str], ...]
    permission: tuple[re.Pattern[str], ...]
    obligation: tuple[re.Pattern[str], ...]
    exceptions: tuple[re.Pattern[str], ...]
    safeguards: tuple[re.Pattern[str], ...]
    restrictions: tuple[re.Pattern[str], ...]
    definitions: tuple[re.Pattern[str], ...]


@dataclass(frozen=True, slots=True)
class Rulebook:
    """Everything the screening needs, loaded and compiled."""

    version: str
    risks: tuple[RiskRule, ...]
    protections: tuple[ProtectionRule, ...]
    cues: Cues

    def risk(self, rule_id: str) -> RiskRule:
        """The risk rule ``rule_id``."""
        for rule in self.risks:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def protections_for(self, policy_type: str) -> tuple[ProtectionRule, ...]:
        """The protections expected in a policy of ``policy_type``."""
        return tuple(p for p in self.protections if policy_type in p.items)


def _compile(pattern: str, vocabulary: dict[str, str], where: str) -> re.Pattern[str]:
    def expand(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("gap"):
            return rf"(?:\W+\w+){{0,{int(name[3:])}}}?\W+"
        if name not in vocabulary:
            raise ValidationError(f"{where}: unknown shorthand <{name}>.")
        return vocabulary[name]

    expanded = re.sub(r"(?<!\?P)<(gap\d+|[a-z]+)>", expand, pattern)
    try:
        return re.compile(expanded, _FLAGS)
    except re.error as exc:
        raise ValidationError(f"{where}: invalid pattern {pattern!r} ({exc}).") from None


def _read(name: str) -> Any:
    resource = resources.files("tipaudit.policy") / "rules" / name
    try:
        return yaml.safe_load(resource.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValidationError(f"rules/{name}: not valid YAML ({exc}).") from None


def _problems(exc: PydanticValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()[:5]
    )


@functools.cache
def load_rulebook() -> Rulebook:
    """Load, validate and compile the packaged rules (cached)."""
    try:
        risks_file = _RisksFile.model_validate(_read("risks.yaml"))
        prot_file = _ProtectionsFile.model_validate(_read("protections.yaml"))
        mod_file = _ModalityFile.model_validate(_read("modality.yaml"))
    except PydanticValidationError as exc:
        raise ValidationError(f"policy rules are not valid: {_problems(exc)}") from None
    vocab = dict(risks_file.vocabulary)
    taxonomy = load_taxonomy()
    risks: list[RiskRule] = []
    for spec in risks_file.rules:
        where = f"rules/risks.yaml {spec.id}"
        for item_id in spec.items:
            find_item(item_id)
        unknown = [c for c in spec.indicators if c not in taxonomy]
        if unknown:
            raise ValidationError(f"{where}: unknown indicator code(s) {unknown}.")
        acts = tuple(
            Act(
                kind=a.kind,
                pattern=_compile(a.pattern, vocab, where),
                source=a.pattern,
                requires=tuple(_compile(p, vocab, where) for p in a.requires),
                unless=tuple(_compile(p, vocab, where) for p in a.unless),
            )
            for a in spec.acts
        )
        risks.append(
            RiskRule(
                spec.id,
                spec.title,
                spec.items,
                spec.severity,
                spec.indicators,
                " ".join(spec.explanation.split()),
                acts,
                spec.alternative,
            )
        )
    ids = [r.id for r in risks]
    if len(set(ids)) != len(ids):
        raise ValidationError("rules/risks.yaml: a rule id is used twice.")
    protections: list[ProtectionRule] = []
    for pspec in prot_file.protections:
        where = f"rules/protections.yaml {pspec.id}"
        for policy_type, item_id in pspec.items.items():
            if policy_type not in POLICY_TYPES:
                raise ValidationError(f"{where}: unknown policy type {policy_type!r}.")
            find_item(item_id)
        for rule_id in pspec.via:
            if rule_id not in ids:
                raise ValidationError(f"{where}: unknown risk rule {rule_id!r} in via.")
        protections.append(
            ProtectionRule(
                pspec.id,
                pspec.title,
                dict(pspec.items),
                pspec.searched,
                pspec.via,
                tuple(
                    ProtectionPattern(
                        p.when,
                        _compile(p.pattern, vocab, where),
                        p.pattern,
                        tuple(_compile(u, vocab, where) for u in p.unless),
                    )
                    for p in pspec.patterns
                ),
            )
        )

    def group(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
        return tuple(_compile(p, vocab, "rules/modality.yaml") for p in patterns)

    cues = Cues(
        ignore=group(mod_file.ignore),
        negators=group(mod_file.negators),
        prohibitive=group(mod_file.prohibitive),
        post_prohibitive=group(mod_file.post_prohibitive),
        lead_in_prohibitive=group(mod_file.lead_in_prohibitive),
        permission=group(mod_file.permission),
        obligation=group(mod_file.obligation),
        exceptions=group(mod_file.exceptions),
        safeguards=group(mod_file.safeguards),
        restrictions=group(mod_file.restrictions),
        definitions=group(mod_file.definitions),
    )
    version = (
        f"risks {risks_file.version}, protections {prot_file.version}, modality {mod_file.version}"
    )
    return Rulebook(version, tuple(risks), tuple(protections), cues)


# --- the decision ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Decision:
    """How a matched act was judged, with the cues that decided it."""

    outcome: Outcome
    modality: str  # "permission", "obligation", "lead-in", "none"
    flips: tuple[str, ...]
    exception: str | None
    reason: str

    @property
    def negated(self) -> bool:
        """Whether the act is negated or prohibited (an odd number of flips)."""
        return len(self.flips) % 2 == 1


_WINDOW = 200
#: A comma and a conjunction followed by a new subject and modal start a new clause.
_JOINT = re.compile(
    r",\s+(?:and|but|or|while|whereas|y|pero|o)\s+(?=(?:\w+\s+){0,4}?"
    r"(?:shall|must|may|will|can|is|are|deber[aá]n?|podr[aá]n?)\b)",
    re.IGNORECASE,
)


def _found(patterns: tuple[re.Pattern[str], ...], text: str) -> list[str]:
    """Cue texts found, in order; overlapping matches of several patterns count once."""
    hits: list[tuple[int, int, str]] = []
    for pattern in patterns:
        hits.extend((m.start(), m.end(), m.group(0).strip()) for m in pattern.finditer(text))
    out: list[str] = []
    last_end = -1
    for start, end, hit in sorted(hits):
        if start < last_end:
            continue
        out.append(hit)
        last_end = end
    return out


def _blank(patterns: tuple[re.Pattern[str], ...], text: str) -> str:
    for pattern in patterns:
        text = pattern.sub(lambda m: " " * len(m.group(0)), text)
    return text


def is_definition(text: str, lead_in: str, cues: Cues) -> bool:
    """Whether the provision (or the list it belongs to) defines a term."""
    return any(p.search(text) for p in cues.definitions) or any(
        p.search(lead_in[-300:]) for p in cues.definitions
    )


def _restrictions(text: str, cues: Cues) -> list[str]:
    hits = []
    for pattern in cues.restrictions:
        for match in pattern.finditer(text):
            before = text[max(0, match.start() - 25) : match.start()].lower()
            if re.search(r"\b(?:without|sin)\W+(?:\w+\W+)?$", before):
                continue  # "without the consent of the employer" grants, not restricts
            hits.append(match.group(0).strip())
    return hits


def decide(  # noqa: PLR0911, PLR0912 - one branch per documented outcome
    text: str,
    match: re.Match[str],
    kind: ActKind,
    cues: Cues,
    lead_in: str = "",
) -> Decision:
    """Judge one matched act in ``text`` (one provision); see ``docs/policy-check.md``."""
    verb = (
        match.start("v") if "v" in match.re.groupindex and match.start("v") >= 0 else match.start()
    )
    clause_start = max(text.rfind(";", 0, verb), text.rfind(":", 0, verb)) + 1
    for joint in _JOINT.finditer(text, clause_start, verb):
        clause_start = joint.end()  # ", and the worker shall ...": a new clause with its own modal
    clause_start = max(clause_start, verb - _WINDOW)
    semi = text.find(";", match.end())
    clause_end = semi if semi >= 0 else len(text)
    pre = _blank(cues.ignore, text[clause_start:verb])
    post = _blank(cues.ignore, text[match.end() : clause_end])
    flips = _found(cues.negators, pre) + _found(cues.prohibitive, pre)
    flips += [f"after: {h}" for h in _found(cues.post_prohibitive, post)]
    if kind == "freedom":
        restricted = _restrictions(text[clause_start:clause_end], cues)
        if restricted:  # one restriction or several: the freedom is conditioned once
            flips.append(f"restriction: {' / '.join(restricted)}")
    permission = _found(cues.permission, pre)
    obligation = _found(cues.obligation, pre)
    modality = "permission" if permission else "obligation" if obligation else "none"
    if modality == "none" and lead_in:
        lead = _found(cues.lead_in_prohibitive, lead_in[-600:])
        if lead:
            flips.append(f"lead-in: {lead[-1]}")
            modality = "lead-in"
    negated = len(flips) % 2 == 1
    cue_text = ", ".join(f"“{f}”" for f in flips) or "none"
    if kind == "freedom":
        if negated:
            return Decision(
                "risk", modality, tuple(flips), None,
                f"the freedom is denied or restricted (cues: {cue_text})",
            )  # fmt: skip
        return Decision(
            "protective", modality, tuple(flips), None,
            f"the freedom is granted or stated without restriction ({modality}; cues: {cue_text})",
        )  # fmt: skip
    if negated:
        rest = text[match.end() :]
        for pattern in cues.exceptions:
            exc = pattern.search(rest) or pattern.search(text[clause_start : match.start()])
            if exc:
                exc_text = rest[exc.start() :] if pattern.search(rest) else text[exc.start() :]
                exc_text = exc_text[:300]
                if any(p.search(exc_text) for p in cues.safeguards):
                    return Decision(
                        "protective", modality, tuple(flips), exc_text,
                        f"prohibited (cues: {cue_text}); the exception keeps a safeguard",
                    )  # fmt: skip
                return Decision(
                    "risk", modality, tuple(flips), exc_text,
                    f"prohibited (cues: {cue_text}) but the exception “{exc.group(0)}” "
                    "allows it without a safeguard such as access on request",
                )  # fmt: skip
        return Decision(
            "protective", modality, tuple(flips), None, f"prohibited (cues: {cue_text})"
        )
    if kind == "statement":
        return Decision("risk", modality, tuple(flips), None, "stated as a rule, not negated")
    if modality in {"permission", "obligation"}:
        cue = (permission or obligation)[-1]
        verb_text = "permitted" if modality == "permission" else "required"
        return Decision("risk", modality, tuple(flips), None, f"{verb_text} (“{cue}”), not negated")
    return Decision(
        "neutral", modality, tuple(flips), None, "described, neither permitted nor required"
    )
