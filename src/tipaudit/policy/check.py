"""The policy check: screen documents for risk-creating provisions and missing protections.

``check_paths(paths, policy_type)`` reads every document, splits it into provisions, runs the
risk rules on each provision and the protection rules over the whole set (the documents given
together are one policy), and returns a :class:`CheckResult` whose findings each carry the
rule, rubric item, severity, indicator codes, quoted evidence with its location, the reason
for the decision and the recommended alternative. ``apply_baseline`` keeps only findings that
are new or changed since an accepted earlier run.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from tipaudit.errors import ValidationError
from tipaudit.policy.provisions import Location, Provision, split_document
from tipaudit.policy.reading import FORMATS, Document, read_document
from tipaudit.policy.rubrics import find_item, policy_type_label
from tipaudit.policy.rulebook import Decision, Rulebook, decide, is_definition, load_rulebook

__all__ = [
    "FINGERPRINT_KEY",
    "MAX_DOCUMENTS",
    "SEVERITY_ORDER",
    "CheckResult",
    "DocumentSummary",
    "Evidence",
    "Finding",
    "ProtectionStatus",
    "apply_baseline",
    "check_documents",
    "check_paths",
    "fingerprint",
    "load_baseline",
]

#: Most documents checked in one run.
MAX_DOCUMENTS = 2_000
#: Largest baseline file accepted, in bytes.
MAX_BASELINE_BYTES = 64 * 1024 * 1024
#: Key under which SARIF results carry the fingerprint (``partialFingerprints``).
FINGERPRINT_KEY = "tipauditFinding/v1"
SEVERITY_ORDER = {"high": 3, "medium": 2, "low": 1}
_QUOTE_CHARS = 600

FindingKind = Literal["risk", "missing_protection"]
Status = Literal["new", "changed", "unchanged"]


@dataclass(frozen=True, slots=True)
class Evidence:
    """The quoted provision and the span of it that matched."""

    text: str
    match: str
    match_start: int
    match_end: int


@dataclass(frozen=True, slots=True)
class Finding:
    """One judgement of the check, with its reasons, evidence and source."""

    kind: FindingKind
    rule_id: str
    title: str
    rubric_id: str
    item_id: str
    question: str
    severity: str
    indicators: tuple[str, ...]
    explanation: str
    decision: str
    alternative: str
    sources: tuple[dict[str, str], ...]
    fingerprint: str
    evidence: Evidence | None = None
    location: Location | None = None
    files: tuple[str, ...] = ()
    status: Status = "new"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the ``--format json`` shape)."""
        return {
            "fingerprint": self.fingerprint,
            "status": self.status,
            "kind": self.kind,
            "rule_id": self.rule_id,
            "title": self.title,
            "severity": self.severity,
            "rubric": self.rubric_id,
            "rubric_item": self.item_id,
            "question": self.question,
            "indicators": list(self.indicators),
            "explanation": self.explanation,
            "decision": self.decision,
            "alternative": self.alternative,
            "sources": [dict(s) for s in self.sources],
            "evidence": None
            if self.evidence is None
            else {
                "text": self.evidence.text,
                "match": self.evidence.match,
                "match_start": self.evidence.match_start,
                "match_end": self.evidence.match_end,
            },
            "location": None if self.location is None else _location_dict(self.location),
            "files": list(self.files),
        }


def _location_dict(loc: Location) -> dict[str, Any]:
    return {
        "file": loc.file,
        "page": loc.page,
        "section": loc.section,
        "line_start": loc.line_start,
        "line_end": loc.line_end,
        "column_start": loc.column_start,
        "column_end": loc.column_end,
        "char_start": loc.char_start,
        "char_end": loc.char_end,
    }


@dataclass(frozen=True, slots=True)
class DocumentSummary:
    """What was read from one document."""

    path: str
    format: str
    pages: int
    chars: int
    provisions: int
    sha256: str


@dataclass(frozen=True, slots=True)
class ProtectionStatus:
    """Whether an expected protection was found, and where."""

    rule_id: str
    item_id: str
    title: str
    present: bool
    evidence: tuple[Location, ...]
    quotes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of checking a set of documents as one policy."""

    policy_type: str | None
    rules_version: str
    documents: tuple[DocumentSummary, ...]
    findings: tuple[Finding, ...]
    protections: tuple[ProtectionStatus, ...]
    provisions: int
    baseline: str | None = None
    suppressed: int = 0
    neutral_notes: int = field(default=0)

    def counts(self) -> dict[str, int]:
        """Findings by severity."""
        out = {"high": 0, "medium": 0, "low": 0}
        for finding in self.findings:
            out[finding.severity] += 1
        return out

    def fails(self, threshold: str | None) -> bool:
        """Whether any finding is at or above ``threshold`` (high, medium, low; None: never)."""
        if threshold is None or threshold == "none":
            return False
        floor = SEVERITY_ORDER[threshold]
        return any(SEVERITY_ORDER[f.severity] >= floor for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        """The ``--format json`` document."""
        return {
            "tool": "tipaudit policy check",
            "format_version": 1,
            "rules_version": self.rules_version,
            "policy_type": self.policy_type,
            "baseline": self.baseline,
            "suppressed_by_baseline": self.suppressed,
            "documents": [
                {
                    "path": d.path,
                    "format": d.format,
                    "pages": d.pages,
                    "chars": d.chars,
                    "provisions": d.provisions,
                    "sha256": d.sha256,
                }
                for d in self.documents
            ],
            "provisions": self.provisions,
            "counts": self.counts(),
            "findings": [f.to_dict() for f in self.findings],
            "protections": [
                {
                    "rule_id": p.rule_id,
                    "rubric_item": p.item_id,
                    "title": p.title,
                    "present": p.present,
                    "evidence": [_location_dict(loc) for loc in p.evidence],
                    "quotes": list(p.quotes),
                }
                for p in self.protections
            ],
        }


# --- fingerprints ----------------------------------------------------------------------------


def normalise(text: str) -> str:
    """Evidence text reduced to words: case, accents, punctuation, numbering and spacing go."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"^\W*(?:\(?[0-9ivxlc]{1,5}[.)]|\([a-z]{1,4}\))\s*", "", text)
    return " ".join(re.findall(r"[a-z0-9]+", text))


def fingerprint(rule_id: str, evidence: str) -> str:
    """Stable id of a finding: the rule and the normalised evidence, never line numbers."""
    digest = hashlib.sha256(f"{rule_id}\x1f{normalise(evidence)}".encode()).hexdigest()
    return digest[:24]


# --- running the rules -----------------------------------------------------------------------


def _sources(item_id: str) -> tuple[str, tuple[dict[str, str], ...], str, str, str]:
    rubric, item = find_item(item_id)
    sources = tuple({k: v for k, v in s.model_dump().items() if v} for s in item.sources)
    return rubric.id, sources, item.question, item.alternative, item.severity


def _quote(provision: Provision, match: re.Match[str]) -> Evidence:
    text = provision.text
    start, end = match.start(), match.end()
    while end < len(text) and (text[end].isalnum() or text[end] in "'\u2019"):
        end += 1  # show whole words
    if len(text) > _QUOTE_CHARS:
        left = max(0, start - (_QUOTE_CHARS - (end - start)) // 2)
        right = min(len(text), left + _QUOTE_CHARS)
        prefix = "…" if left else ""
        suffix = "…" if right < len(text) else ""
        quote = prefix + text[left:right] + suffix
        return Evidence(
            quote, text[start:end], start - left + len(prefix), end - left + len(prefix)
        )
    return Evidence(text, text[start:end], start, end)


@dataclass
class _Seen:
    protective: dict[str, list[Provision]] = field(default_factory=dict)

    def add(self, rule_id: str, provision: Provision) -> None:
        self.protective.setdefault(rule_id, []).append(provision)


def screen_provision(
    provision: Provision,
    rulebook: Rulebook,
    policy_type: str | None,
    *,
    prefilter: bool = True,
) -> tuple[list[Finding], list[tuple[str, Decision]]]:
    """Run every risk rule on one provision: the findings, and every (rule, decision) made."""
    text = provision.text
    findings: list[Finding] = []
    decisions: list[tuple[str, Decision]] = []
    definition: bool | None = None
    lowered = text.lower()
    for rule in rulebook.risks:
        if prefilter and not rule.may_match(lowered):
            continue
        best: tuple[re.Match[str], Decision] | None = None
        for act in rule.acts:
            for match in act.pattern.finditer(text):
                if not act.applies(text):
                    break
                if definition is None:
                    definition = is_definition(text, provision.lead_in, rulebook.cues)
                if definition:
                    decision = Decision("neutral", "none", (), None, "a definition")
                else:
                    decision = decide(text, match, act.kind, rulebook.cues, provision.lead_in)
                decisions.append((rule.id, decision))
                if decision.outcome == "risk" and best is None:
                    best = (match, decision)
        if best is None:
            continue
        match, decision = best
        item_id = rule.item_for(policy_type)
        rubric_id, sources, question, alternative, _ = _sources(item_id)
        findings.append(
            Finding(
                kind="risk",
                rule_id=rule.id,
                title=rule.title,
                rubric_id=rubric_id,
                item_id=item_id,
                question=question,
                severity=rule.severity,
                indicators=rule.indicators,
                explanation=rule.explanation,
                decision=f"Rule {rule.id} matched “{match.group(0)}”: {decision.reason}.",
                alternative=rule.alternative or alternative,
                sources=sources,
                fingerprint=fingerprint(rule.id, text),
                evidence=_quote(provision, match),
                location=provision.location,
            )
        )
    return findings, decisions


def _protection_hits(
    provision: Provision, rulebook: Rulebook, rule_ids: Iterable[str]
) -> list[str]:
    """Protections (by id) evidenced by ``provision`` through their own patterns."""
    hits = []
    cues = rulebook.cues
    for rule in rulebook.protections:
        if rule.id not in rule_ids:
            continue
        for pattern in rule.patterns:
            match = pattern.pattern.search(provision.text)
            if not match or any(u.search(provision.text) for u in pattern.unless):
                continue
            if pattern.when == "any":
                hits.append(rule.id)
                break
            decision = decide(provision.text, match, "harm", cues, provision.lead_in)
            prohibited = decision.negated
            if (pattern.when == "prohibited") == prohibited:
                hits.append(rule.id)
                break
    return hits


def check_documents(  # noqa: PLR0912 - one pass over documents, rules and protections
    documents: Sequence[Document], policy_type: str | None = None
) -> CheckResult:
    """Check documents already read (one policy) against the rules."""
    if policy_type is not None:
        policy_type_label(policy_type)
    rulebook = load_rulebook()
    expected = rulebook.protections_for(policy_type) if policy_type else ()
    expected_ids = {p.id for p in expected}
    via: dict[str, list[str]] = {}
    for prot in expected:
        for rule_id in prot.via:
            via.setdefault(rule_id, []).append(prot.id)
    evidence: dict[str, list[Provision]] = {}
    findings: list[Finding] = []
    summaries: list[DocumentSummary] = []
    total = 0
    for document in documents:
        provisions = split_document(document)
        total += len(provisions)
        summaries.append(
            DocumentSummary(
                document.path,
                document.format,
                len(document.pages),
                document.chars,
                len(provisions),
                document.sha256,
            )
        )
        for provision in provisions:
            found, decisions = screen_provision(provision, rulebook, policy_type)
            findings.extend(found)
            for rule_id, decision in decisions:
                if decision.outcome == "protective":
                    for prot_id in via.get(rule_id, ()):
                        evidence.setdefault(prot_id, []).append(provision)
            if expected_ids:
                for prot_id in _protection_hits(provision, rulebook, expected_ids):
                    evidence.setdefault(prot_id, []).append(provision)
    statuses: list[ProtectionStatus] = []
    files = tuple(d.path for d in documents)
    assert policy_type is not None or not expected
    for prot in expected:
        item_id = prot.items[policy_type]  # type: ignore[index]
        seen = evidence.get(prot.id, [])
        unique: dict[tuple[str, int | None, int], Provision] = {}
        for provision in seen:
            loc = provision.location
            unique.setdefault((loc.file, loc.page, loc.line_start), provision)
        kept = list(unique.values())[:3]
        statuses.append(
            ProtectionStatus(
                prot.id,
                item_id,
                prot.title,
                bool(seen),
                tuple(p.location for p in kept),
                tuple(p.text[:300] for p in kept),
            )
        )
        if seen:
            continue
        rubric_id, sources, question, alternative, severity = _sources(item_id)
        _, item = find_item(item_id)
        findings.append(
            Finding(
                kind="missing_protection",
                rule_id=f"missing-{prot.id}",
                title=prot.title,
                rubric_id=rubric_id,
                item_id=item_id,
                question=question,
                severity=severity,
                indicators=item.indicators,
                explanation=(
                    f"A {policy_type_label(policy_type).lower()} should contain {prot.searched}; "  # type: ignore[arg-type]
                    f"no provision of the {len(files)} document(s) checked provides it."
                ),
                decision=_missing_decision(total, prot),
                alternative=alternative,
                sources=sources,
                fingerprint=fingerprint(f"missing-{prot.id}", policy_type or ""),
                files=files,
            )
        )
    findings.sort(
        key=lambda f: (
            -SEVERITY_ORDER[f.severity],
            f.kind != "risk",
            f.location.file if f.location else "",
            f.location.page or 0 if f.location else 0,
            f.location.char_start if f.location else 0,
        )
    )
    return CheckResult(
        policy_type=policy_type,
        rules_version=rulebook.version,
        documents=tuple(summaries),
        findings=tuple(findings),
        protections=tuple(statuses),
        provisions=total,
    )


def _missing_decision(total: int, prot: Any) -> str:
    parts = []
    if prot.via:
        parts.append(f"no match of rule(s) {', '.join(prot.via)} was judged protective")
    if prot.patterns:
        parts.append(
            f"none of its {len(prot.patterns)} evidence pattern(s) matched in the required form"
        )
    return f"Searched {total} provisions for {prot.searched}: {'; '.join(parts)}."


def _expand(paths: Sequence[Path]) -> list[tuple[Path, str]]:
    files: list[tuple[Path, str]] = []
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.suffix.lower() in FORMATS:
                    files.append((child, str(child)))
        else:
            files.append((path, str(path)))
        if len(files) > MAX_DOCUMENTS:
            raise ValidationError(f"More than {MAX_DOCUMENTS} documents; check fewer at once.")
    if not files:
        raise ValidationError("No readable documents found in the paths given.")
    return files


def check_paths(paths: Sequence[Path | str], policy_type: str | None = None) -> CheckResult:
    """Read and check the documents at ``paths`` (files or folders) as one policy.

    ``policy_type`` (one of ``POLICY_TYPES``) selects the protections expected; without it only
    risk-creating provisions are reported.
    """
    files = _expand([Path(p) for p in paths])
    documents = [read_document(path, display=name) for path, name in files]
    return check_documents(documents, policy_type)


# --- baseline --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Baseline:
    """Findings accepted in an earlier run: fingerprints, and (rule, section) pairs."""

    source: str
    fingerprints: frozenset[str]
    places: frozenset[tuple[str, str]]


def load_baseline(path: Path) -> Baseline:
    """Read a baseline: the JSON or SARIF output of an accepted earlier ``policy check``."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ValidationError(f"Baseline file not found: {path}") from None
    if size > MAX_BASELINE_BYTES:
        raise ValidationError(
            f"{path}: baseline is {size:,} bytes; the limit is {MAX_BASELINE_BYTES:,}."
        )
    try:
        data = json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValidationError(f"{path}: the baseline is not JSON ({exc}).") from None
    prints: set[str] = set()
    places: set[tuple[str, str]] = set()
    if isinstance(data, dict) and isinstance(data.get("findings"), list):
        for finding in data["findings"]:
            if isinstance(finding, dict) and isinstance(finding.get("fingerprint"), str):
                prints.add(finding["fingerprint"])
                loc = finding.get("location") or {}
                places.add((str(finding.get("rule_id")), str(loc.get("section", ""))))
    elif isinstance(data, dict) and isinstance(data.get("runs"), list):
        for run in data["runs"]:
            for result in (run or {}).get("results", []) or []:
                fp = ((result or {}).get("partialFingerprints") or {}).get(FINGERPRINT_KEY)
                if isinstance(fp, str):
                    prints.add(fp)
                    props = result.get("properties") or {}
                    places.add((str(result.get("ruleId")), str(props.get("section", ""))))
    else:
        raise ValidationError(
            f"{path}: not a policy-check result (expected the JSON or SARIF output of "
            "`tipaudit policy check`)."
        )
    return Baseline(str(path), frozenset(prints), frozenset(places))


def apply_baseline(result: CheckResult, baseline: Baseline) -> CheckResult:
    """Keep only findings not in ``baseline``: ``new``, or ``changed`` where the same rule had
    an accepted finding in the same section whose evidence has since changed."""
    kept: list[Finding] = []
    suppressed = 0
    for finding in result.findings:
        if finding.fingerprint in baseline.fingerprints:
            suppressed += 1
            continue
        section = finding.location.section if finding.location else ""
        status: Status = (
            "changed" if (finding.rule_id, section) in baseline.places and section else "new"
        )
        kept.append(replace(finding, status=status))
    return replace(result, findings=tuple(kept), baseline=baseline.source, suppressed=suppressed)
