"""Evaluation against the hand-labelled set: the scoring, and floors that catch regressions.

The floors are the tuning-split figures recorded in ``docs/benchmarks.md`` ("Item
classification (crosswalk) — precision and recall"), rounded down a little. They are floors,
not targets: raise them when the crosswalk improves, and never tune on the ``heldout`` split
(its figures are reported in the docs, not tested, so that nobody is tempted to tune on it).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.procurement.classify.labels import load_labelled_items
from tipaudit.procurement.classify import Classifier
from tipaudit.procurement.classify.evaluate import Report, Scores, evaluate


@dataclass(frozen=True)
class Item:
    """A minimal labelled item."""

    id: str
    split: str
    language: str
    scheme: str
    code: str
    classification_description: str
    description: str
    process_title: str
    ilab_goods: tuple[str, ...]
    industries: tuple[str, ...]


@pytest.fixture(scope="module")
def tuning_report() -> Report:
    """The evaluation of the tuning split (the held-out split is not scored in tests)."""
    return evaluate(load_labelled_items(split="tuning"), Classifier.load())


def test_scores_are_micro_precision_recall_and_f1() -> None:
    """Precision, recall and F1 follow from tp/fp/fn and are undefined without predictions."""
    scores = Scores(tp=3, fp=1, fn=2) + Scores(tp=1, fp=0, fn=0)
    assert (0.8, 2 / 3, None, None) == (
        scores.precision,
        scores.recall,
        Scores(tp=0, fp=0, fn=2).precision,
        Scores().f1,
    )


def test_none_counts_as_no_industry() -> None:
    """An item labelled ``none`` and predicted nothing scores no pair at all."""
    items = [
        Item("a", "tuning", "en", "CPV", "79111000", "", "Legal advice", "", (), ("none",)),
        Item("b", "tuning", "en", "CPV", "45000000", "", "", "", (), ("construction",)),
        Item("c", "tuning", "es", "", "", "", "Uniformes", "", (), ("none",)),
    ]
    split = evaluate(items).splits["tuning"]
    assert (
        Scores(tp=1, fp=0, fn=0),
        Scores(tp=0, fp=1, fn=0),
        Scores(tp=0, fp=1, fn=0),
        {"en": 2, "es": 1, "all": 3},
    ) == (
        split.industries["en"],
        split.industries["es"],
        split.goods["all"],
        split.items,
    )


def test_report_markdown_has_a_row_per_language(tuning_report: Report) -> None:
    """The Markdown table lists every language of the split and the pooled row."""
    text = tuning_report.to_markdown(by_label=False)
    rows = [line.split("|")[1].strip() for line in text.splitlines() if line.startswith("| `")]
    assert ["`en`", "`es`", "`fr`", "`ro`", "`uk`", "`ru`", "`zh`", "`hy-Latn`", "`other`"] == rows


#: Floors for the tuning split: (precision, recall) of goods and of industries, overall and for
#: the languages with enough labelled pairs to mean something. Recorded figures in
#: docs/benchmarks.md; each floor is a little below them.
FLOORS = {
    "all": ((0.92, 0.99), (0.97, 0.98)),
    "en": (None, (0.96, 0.99)),
    "es": ((0.93, 0.99), (0.99, 0.96)),
    "ro": ((0.89, 0.99), (0.90, 0.99)),
    "other": (None, (0.99, 0.99)),
}


@pytest.mark.parametrize("language", list(FLOORS))
def test_tuning_split_stays_above_recorded_floors(tuning_report: Report, language: str) -> None:
    """Precision and recall on the tuning split do not fall below the recorded floors."""
    goods_floor, industry_floor = FLOORS[language]
    split = tuning_report.splits["tuning"]
    actual = []
    expected = []
    for floor, scores in ((goods_floor, split.goods), (industry_floor, split.industries)):
        if floor is None:
            continue
        got = scores[language]
        expected.append((True, True))
        actual.append(((got.precision or 0.0) >= floor[0], (got.recall or 0.0) >= floor[1]))
    assert expected == actual, (language, split.goods[language], split.industries[language])
