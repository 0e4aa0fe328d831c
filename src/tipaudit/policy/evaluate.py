"""Measure the policy check on the labelled set (``policy/data/labelled-provisions.yaml``).

Reports precision and recall per finding type, for risk-creating provisions and for missing
protections, separately for the tuning part and the held-back part; counts protective
provisions wrongly reported as risks; and counts risk findings over every provision of the
packaged real texts (US Code sections, which are protective or neutral). See
``docs/benchmarks.md`` for the latest figures and ``docs/policy-check.md`` for the method.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from tipaudit.errors import ValidationError
from tipaudit.policy.check import check_documents, screen_provision
from tipaudit.policy.provisions import Location, Provision, split_document
from tipaudit.policy.reading import Document, Page, read_document
from tipaudit.policy.rubrics import POLICY_TYPES
from tipaudit.policy.rulebook import load_rulebook

__all__ = ["Evaluation", "Scores", "evaluate", "load_labelled", "packaged_texts"]

Split = Literal["tuning", "heldout"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LabelledProvision(_Strict):
    """One labelled provision: written text, or a phrase locating a real one."""

    id: str
    split: Split
    label: Literal["risk", "protective", "neutral"]
    type: str
    risks: tuple[str, ...] = ()
    text: str | None = None
    lang: str = "en"
    from_: str | None = Field(default=None, alias="from")
    contains: str | None = None

    @model_validator(mode="after")
    def _check(self) -> LabelledProvision:
        if self.type not in POLICY_TYPES:
            raise ValueError(f"{self.id}: unknown policy type {self.type}")
        if (self.text is None) == (self.from_ is None):
            raise ValueError(f"{self.id}: give either text or from + contains")
        if self.from_ is not None and not self.contains:
            raise ValueError(f"{self.id}: `from` needs `contains`")
        if (self.label == "risk") != bool(self.risks):
            raise ValueError(f"{self.id}: risk items list their risks; others list none")
        return self


class LabelledDocument(_Strict):
    """A short policy and the protections missing from it."""

    id: str
    split: Split
    type: str
    missing: tuple[str, ...]
    text: str


class LabelledSet(_Strict):
    """The whole labelled set."""

    version: str
    provisions: tuple[LabelledProvision, ...]
    documents: tuple[LabelledDocument, ...]


def load_labelled(path: Path | None = None) -> LabelledSet:
    """Load the packaged labelled set (or ``path``) and check its labels name real rules."""
    if path is None:
        text = (resources.files("tipaudit.policy") / "data" / "labelled-provisions.yaml").read_text(
            encoding="utf-8"
        )
    else:
        text = path.read_text(encoding="utf-8")
    labelled = LabelledSet.model_validate(yaml.safe_load(text))
    rulebook = load_rulebook()
    risk_ids = {r.id for r in rulebook.risks}
    prot_ids = {p.id for p in rulebook.protections}
    for prov in labelled.provisions:
        unknown = set(prov.risks) - risk_ids
        if unknown:
            raise ValidationError(f"labelled {prov.id}: unknown risk type(s) {sorted(unknown)}")
    for doc in labelled.documents:
        unknown = set(doc.missing) - prot_ids
        if unknown:
            raise ValidationError(f"labelled {doc.id}: unknown protection(s) {sorted(unknown)}")
    return labelled


def packaged_texts() -> list[Path]:
    """The real public-domain texts bundled for the demo and the evaluation."""
    folder = resources.files("tipaudit.policy") / "texts"
    return sorted(Path(str(entry)) for entry in folder.iterdir() if entry.name.startswith("us-"))


@dataclass
class Scores:
    """True positives, false positives and false negatives for one finding type."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None


@dataclass
class PartResult:
    """Scores for one part of the labelled set."""

    provisions: int = 0
    documents: int = 0
    risk: dict[str, Scores] = field(default_factory=dict)
    missing: dict[str, Scores] = field(default_factory=dict)
    protective_as_risk: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def total(self, which: str) -> Scores:
        table = self.risk if which == "risk" else self.missing
        out = Scores()
        for s in table.values():
            out.tp += s.tp
            out.fp += s.fp
            out.fn += s.fn
        return out


@dataclass
class Evaluation:
    """The full evaluation."""

    labelled_version: str
    parts: dict[str, PartResult]
    real_provisions: int
    real_false_risks: list[dict[str, Any]]
    skipped: list[str]

    def to_dict(self) -> dict[str, Any]:
        def scores(table: dict[str, Scores]) -> dict[str, Any]:
            return {
                k: {
                    "tp": s.tp,
                    "fp": s.fp,
                    "fn": s.fn,
                    "precision": s.precision,
                    "recall": s.recall,
                }
                for k, s in sorted(table.items())
            }

        return {
            "labelled_version": self.labelled_version,
            "parts": {
                name: {
                    "provisions": part.provisions,
                    "documents": part.documents,
                    "risk": scores(part.risk),
                    "risk_total": scores({"all": part.total("risk")})["all"],
                    "missing": scores(part.missing),
                    "missing_total": scores({"all": part.total("missing")})["all"],
                    "protective_reported_as_risk": part.protective_as_risk,
                    "errors": part.errors,
                }
                for name, part in self.parts.items()
            },
            "real_texts": {
                "provisions": self.real_provisions,
                "false_risk_findings": len(self.real_false_risks),
                "findings": self.real_false_risks,
            },
            "skipped": self.skipped,
        }


def _single(text: str, lead_in: str = "") -> Provision:
    loc = Location("labelled", None, "", 1, 1, 0, len(text), 1, len(text) + 1)
    return Provision(1, text, loc, lead_in)


def _locate(
    item: LabelledProvision, aba_dir: Path | None, cache: dict[str, list[Provision]]
) -> Provision | None:
    assert item.from_ is not None
    assert item.contains is not None
    name = item.from_
    if name not in cache:
        if name.startswith("aba:"):
            if aba_dir is None or not (aba_dir / name[4:]).is_file():
                return None
            path = aba_dir / name[4:]
        else:
            packaged = next((p for p in packaged_texts() if p.name == name), None)
            if packaged is None:
                raise ValidationError(f"labelled {item.id}: no packaged text {name}")
            path = packaged
        cache[name] = split_document(read_document(path, display=name))
    for provision in cache[name]:
        if item.contains in provision.text:
            return provision
    raise ValidationError(f"labelled {item.id}: no provision of {name} contains {item.contains!r}")


def _bump(table: dict[str, Scores], key: str) -> Scores:
    return table.setdefault(key, Scores())


def evaluate(  # noqa: PLR0912 - the scoring of both parts reads best as one pass
    aba_dir: Path | None = None, labelled_path: Path | None = None
) -> Evaluation:
    """Run the check on the labelled set and the packaged real texts."""
    labelled = load_labelled(labelled_path)
    rulebook = load_rulebook()
    parts = {"tuning": PartResult(), "heldout": PartResult()}
    for risk in rulebook.risks:
        for part in parts.values():
            _bump(part.risk, risk.id)
    skipped: list[str] = []
    cache: dict[str, list[Provision]] = {}
    for item in labelled.provisions:
        part = parts[item.split]
        provision = _single(item.text) if item.text is not None else _locate(item, aba_dir, cache)
        if provision is None:
            skipped.append(f"{item.id} ({item.from_}: ../shared not available)")
            continue
        part.provisions += 1
        findings, _ = screen_provision(provision, rulebook, item.type)
        predicted = {f.rule_id for f in findings}
        expected = set(item.risks)
        for rule_id in predicted | expected:
            scores = _bump(part.risk, rule_id)
            if rule_id in predicted and rule_id in expected:
                scores.tp += 1
            elif rule_id in predicted:
                scores.fp += 1
            else:
                scores.fn += 1
        if item.label == "protective" and predicted:
            part.protective_as_risk.append(f"{item.id}: {sorted(predicted)}")
    for doc in labelled.documents:
        part = parts[doc.split]
        part.documents += 1
        document = Document(doc.id, "text", (Page(None, doc.text),), "")
        result = check_documents([document], doc.type)
        predicted = {
            f.rule_id.removeprefix("missing-")
            for f in result.findings
            if f.kind == "missing_protection"
        }
        expected = set(doc.missing)
        for prot in rulebook.protections_for(doc.type):
            scores = _bump(part.missing, prot.id)
            if prot.id in predicted and prot.id in expected:
                scores.tp += 1
            elif prot.id in predicted:
                scores.fp += 1
            elif prot.id in expected:
                scores.fn += 1
    real = check_documents([read_document(p, display=p.name) for p in packaged_texts()], None)
    false_risks = [
        {
            "file": f.location.file if f.location else "",
            "section": f.location.section if f.location else "",
            "rule_id": f.rule_id,
            "text": f.evidence.text if f.evidence else "",
        }
        for f in real.findings
        if f.kind == "risk"
    ]
    return Evaluation(labelled.version, parts, real.provisions, false_risks, skipped)


def _pct(value: float | None) -> str:
    return "  -  " if value is None else f"{value:5.2f}"


def _row(key: str, s: Scores) -> str:
    return f"  {key:32} {s.tp:3} {s.fp:3} {s.fn:3} {_pct(s.precision)} {_pct(s.recall)}"


def format_table(evaluation: Evaluation) -> Iterable[str]:
    """Plain-text report lines."""

    for name, part in evaluation.parts.items():
        yield f"== {name}: {part.provisions} provisions, {part.documents} documents"
        yield f"{'risk type':34} {'tp':>3} {'fp':>3} {'fn':>3}  prec   rec"
        for key, s in sorted(part.risk.items()):
            yield _row(key, s)
        tot = part.total("risk")
        yield _row("ALL RISKS", tot)
        yield f"{'missing protection':34} {'tp':>3} {'fp':>3} {'fn':>3}  prec   rec"
        for key, s in sorted(part.missing.items()):
            yield _row(key, s)
        tot = part.total("missing")
        yield _row("ALL MISSING", tot)
        yield f"  protective provisions reported as risk: {len(part.protective_as_risk)}"
        for line in part.protective_as_risk:
            yield f"    {line}"
    yield (
        f"== real US Code texts: {evaluation.real_provisions} provisions, "
        f"{len(evaluation.real_false_risks)} risk findings "
        "(all false: the texts are protective or neutral)"
    )
    for f in evaluation.real_false_risks:
        yield f"    {f['file']} {f['section']} {f['rule_id']}: {f['text'][:120]}"
    if evaluation.skipped:
        yield f"skipped {len(evaluation.skipped)} labelled provisions: " + ", ".join(
            evaluation.skipped
        )
