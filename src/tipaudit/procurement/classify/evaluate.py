"""Measure the item classifier against hand-labelled items: micro precision, recall and F1.

Each item contributes its ILAB goods and its industries as (item, label) pairs; ``none`` is
"no industry" and contributes nothing. Counts are micro-averaged per language and overall,
separately for goods and industries and for each split (``tuning``, ``heldout``)::

    report = evaluate(load_labelled_items())      # tests/procurement/classify/labels.py
    print(report.to_markdown())

The labelled set and its splits are described in ``docs/item-labels.md``. Tune on ``tuning``
only; the ``heldout`` numbers mean something only if its rows were never looked at while the
crosswalk was written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from tipaudit.procurement.classify.classifier import Classifier
from tipaudit.procurement.classify.model import NONE, ItemClassification

__all__ = [
    "LANGUAGE_ORDER",
    "EvaluationItem",
    "ItemResult",
    "Report",
    "Scores",
    "SplitReport",
    "classify_labelled",
    "evaluate",
]

#: Order of the language rows in reports; others follow alphabetically.
LANGUAGE_ORDER = ("en", "es", "fr", "ro", "uk", "ru", "zh", "hy-Latn", "other")
ALL = "all"


class EvaluationItem(Protocol):
    """What :func:`evaluate` reads of a labelled item (``labels.LabelledItem`` fits)."""

    @property
    def id(self) -> str: ...
    @property
    def split(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def scheme(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def classification_description(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def process_title(self) -> str: ...
    @property
    def ilab_goods(self) -> tuple[str, ...]: ...
    @property
    def industries(self) -> tuple[str, ...]: ...


@dataclass(frozen=True, slots=True)
class Scores:
    """True positives, false positives and false negatives of (item, label) pairs."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other: Scores) -> Scores:
        return Scores(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    @property
    def precision(self) -> float | None:
        """tp / (tp + fp); ``None`` when nothing was predicted."""
        predicted = self.tp + self.fp
        return self.tp / predicted if predicted else None

    @property
    def recall(self) -> float | None:
        """tp / (tp + fn); ``None`` when nothing was expected."""
        expected = self.tp + self.fn
        return self.tp / expected if expected else None

    @property
    def f1(self) -> float | None:
        """Harmonic mean of precision and recall; ``None`` when either is undefined."""
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True, slots=True)
class ItemResult:
    """One item's expected and predicted labels."""

    id: str
    split: str
    language: str
    expected_goods: frozenset[str]
    predicted_goods: frozenset[str]
    expected_industries: frozenset[str]
    predicted_industries: frozenset[str]
    classification: ItemClassification

    @property
    def correct(self) -> bool:
        """Both label sets exactly right."""
        return (
            self.expected_goods == self.predicted_goods
            and self.expected_industries == self.predicted_industries
        )


def _score(expected: frozenset[str], predicted: frozenset[str]) -> Scores:
    return Scores(
        tp=len(expected & predicted), fp=len(predicted - expected), fn=len(expected - predicted)
    )


@dataclass(frozen=True)
class SplitReport:
    """Scores of one split, by language (``all`` = every language) and by label."""

    split: str
    items: dict[str, int]
    goods: dict[str, Scores]
    industries: dict[str, Scores]
    goods_by_label: dict[str, Scores]
    industries_by_label: dict[str, Scores]
    results: tuple[ItemResult, ...] = field(repr=False, default=())


@dataclass(frozen=True)
class Report:
    """Scores per split; ``splits['all']`` pools both."""

    splits: dict[str, SplitReport]

    def to_markdown(self, *, splits: Sequence[str] | None = None, by_label: bool = True) -> str:
        """The tables as Markdown (per language, then per label)."""
        parts = []
        for name in splits or list(self.splits):
            report = self.splits[name]
            parts.append(f"#### Split `{name}` ({report.items.get(ALL, 0)} items)\n")
            parts.append(_language_table(report))
            if by_label:
                parts.append(_label_table("ILAB goods", report.goods_by_label))
                parts.append(_label_table("Industries", report.industries_by_label))
        return "\n".join(parts)


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _ordered_languages(languages: Iterable[str]) -> list[str]:
    present = set(languages) - {ALL}
    known = [lang for lang in LANGUAGE_ORDER if lang in present]
    return [*known, *sorted(present - set(LANGUAGE_ORDER)), ALL]


def _language_table(report: SplitReport) -> str:
    lines = [
        "| language | items | goods P | goods R | goods F1 | goods tp/fp/fn "
        "| industries P | industries R | industries F1 | industries tp/fp/fn |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for language in _ordered_languages(report.items):
        g = report.goods.get(language, Scores())
        i = report.industries.get(language, Scores())
        name = "**all**" if language == ALL else f"`{language}`"
        lines.append(
            f"| {name} | {report.items[language]} | {_fmt(g.precision)} | {_fmt(g.recall)} "
            f"| {_fmt(g.f1)} | {g.tp}/{g.fp}/{g.fn} | {_fmt(i.precision)} | {_fmt(i.recall)} "
            f"| {_fmt(i.f1)} | {i.tp}/{i.fp}/{i.fn} |"
        )
    return "\n".join(lines) + "\n"


def _label_table(title: str, scores: dict[str, Scores]) -> str:
    lines = [
        f"| {title} | expected | predicted | P | R |",
        "|---|---:|---:|---:|---:|",
    ]
    for label in sorted(scores, key=lambda k: (-(scores[k].tp + scores[k].fn), k)):
        s = scores[label]
        lines.append(
            f"| {label} | {s.tp + s.fn} | {s.tp + s.fp} | {_fmt(s.precision)} | {_fmt(s.recall)} |"
        )
    return "\n".join(lines) + "\n"


def classify_labelled(classifier: Classifier, item: EvaluationItem) -> ItemClassification:
    """Classify a labelled item the way the screen classifies an OCDS item.

    The item's own description is the description; the process title (used by the labelled
    set when the item has no text of its own) is the extra text.
    """
    return classifier.classify_item(
        item.scheme or None,
        item.code or None,
        item.description or None,
        extra_text=item.process_title or None,
        classification_description=item.classification_description or None,
    )


def _split_report(name: str, results: Sequence[ItemResult]) -> SplitReport:
    items: dict[str, int] = {}
    goods: dict[str, Scores] = {}
    industries: dict[str, Scores] = {}
    goods_by_label: dict[str, Scores] = {}
    industries_by_label: dict[str, Scores] = {}
    for result in results:
        g = _score(result.expected_goods, result.predicted_goods)
        i = _score(result.expected_industries, result.predicted_industries)
        for language in (result.language, ALL):
            items[language] = items.get(language, 0) + 1
            goods[language] = goods.get(language, Scores()) + g
            industries[language] = industries.get(language, Scores()) + i
        for by_label, expected, predicted in (
            (goods_by_label, result.expected_goods, result.predicted_goods),
            (industries_by_label, result.expected_industries, result.predicted_industries),
        ):
            for label in expected | predicted:
                by_label[label] = by_label.get(label, Scores()) + _score(
                    expected & {label}, predicted & {label}
                )
    return SplitReport(
        name, items, goods, industries, goods_by_label, industries_by_label, tuple(results)
    )


def evaluate(items: Iterable[EvaluationItem], classifier: Classifier | None = None) -> Report:
    """Classify every item and score it, per split and pooled (``all``)."""
    classifier = classifier or Classifier.load()
    results: list[ItemResult] = []
    for item in items:
        classification = classify_labelled(classifier, item)
        results.append(
            ItemResult(
                id=item.id,
                split=item.split,
                language=item.language,
                expected_goods=frozenset(item.ilab_goods),
                predicted_goods=classification.good_labels,
                expected_industries=frozenset(i for i in item.industries if i != NONE),
                predicted_industries=classification.industry_labels,
                classification=classification,
            )
        )
    splits = sorted({r.split for r in results}, key=lambda s: (s != "tuning", s))
    report = {name: _split_report(name, [r for r in results if r.split == name]) for name in splits}
    if len(splits) > 1:
        report[ALL] = _split_report(ALL, results)
    return Report(report)
