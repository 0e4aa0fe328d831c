#!/usr/bin/env python3
"""Precision and recall of the item classifier on the hand-labelled set, and its throughput.

Usage (from the repository root)::

    .venv/bin/python bench/classification_eval.py                 # tuning split only
    .venv/bin/python bench/classification_eval.py --split all     # tuning, held-out, pooled
    .venv/bin/python bench/classification_eval.py --throughput    # add items per second
    .venv/bin/python bench/classification_eval.py --errors        # list wrong tuning items

Prints the tables and writes them as Markdown (``--out``, default
``bench/results/classification_eval.md``). The labelled set is
``tests/procurement/classify/labelled_items.csv`` (see ``docs/item-labels.md``): tune on the
``tuning`` split only; score ``heldout`` once, to report. ``--errors`` refuses to list
held-out items.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.procurement.classify.labels import (  # noqa: E402 - after the path set-up
    LabelledItem,
    load_labelled_items,
)

from tipaudit.procurement.classify import Classifier  # noqa: E402
from tipaudit.procurement.classify.evaluate import Report, evaluate  # noqa: E402

POPULATION = ROOT / "tests" / "procurement" / "classify" / "population.csv"
DEFAULT_OUT = ROOT / "bench" / "results" / "classification_eval.md"


def _best_rate(run: Callable[[], int], *, rounds: int = 5, seconds: float = 1.0) -> float:
    """Items per second of the fastest of ``rounds`` runs (other processes slow some down)."""
    best = 0.0
    for _ in range(rounds):
        done = 0
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            done += run()
        best = max(best, done / (time.perf_counter() - start))
    return best


def throughput(items: Sequence[LabelledItem]) -> list[tuple[str, float]]:
    """Items per second in three settings, best of five one-second runs each."""
    inputs = [
        (
            i.scheme or None,
            i.code or None,
            i.description or None,
            i.process_title or None,
            i.classification_description or None,
        )
        for i in items
    ]
    occurrences = {
        row["id"]: int(row["occurrences"])
        for row in csv.DictReader(POPULATION.open(encoding="utf-8", newline=""))
    }
    stream = [inputs[n] for n, item in enumerate(items) for _ in range(occurrences.get(item.id, 1))]
    random.Random(20240523).shuffle(stream)

    memoised = Classifier.load()

    def ocds_like() -> int:
        memoised.cache_clear()
        for scheme, code, description, title, label in stream:
            memoised.classify_item(
                scheme, code, description, extra_text=title, classification_description=label
            )
        return len(stream)

    plain = Classifier.load(cache_size=0)

    def repeated_texts() -> int:
        for scheme, code, description, title, label in inputs:
            plain.classify_item(
                scheme, code, description, extra_text=title, classification_description=label
            )
        return len(inputs)

    counter = [0]

    def new_descriptions() -> int:
        for scheme, code, description, title, label in inputs:
            counter[0] += 1
            plain.classify_item(
                scheme,
                code,
                f"{description or ''} #{counter[0]}",
                extra_text=title,
                classification_description=label,
            )
        return len(inputs)

    return [
        (
            f"OCDS-like stream: the {len(items)} items repeated as often as they occur in the "
            f"samples ({len(stream)} occurrences, shuffled), results memoised",
            _best_rate(ocds_like),
        ),
        (
            "no memoisation; item texts seen before (their normalisation cached)",
            _best_rate(repeated_texts),
        ),
        ("no memoisation; every description new (worst case)", _best_rate(new_descriptions)),
    ]


def _errors(report: Report, items: Sequence[LabelledItem]) -> list[str]:
    by_id = {item.id: item for item in items}
    lines = []
    for result in report.splits["tuning"].results:
        if result.correct:
            continue
        item = by_id[result.id]
        lines.append(
            f"{item.id} [{item.language}] {item.scheme[:30]!r}:{item.code!r} "
            f"{(item.description or item.classification_description or item.process_title)[:90]!r}"
        )
        if result.expected_goods != result.predicted_goods:
            lines.append(
                f"    goods expected {sorted(result.expected_goods)} "
                f"got {sorted(result.predicted_goods)}"
            )
        if result.expected_industries != result.predicted_industries:
            lines.append(
                f"    industries expected {sorted(result.expected_industries)} "
                f"got {sorted(result.predicted_industries)}"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("tuning", "heldout", "all"), default="tuning")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Markdown output file")
    parser.add_argument("--throughput", action="store_true", help="also measure items/s")
    parser.add_argument("--errors", action="store_true", help="list wrong tuning items")
    args = parser.parse_args(argv)
    if args.errors and args.split != "tuning":
        print("--errors lists tuning items only: held-out rows are not for tuning")
        return 2
    items = load_labelled_items(split=None if args.split == "all" else args.split)
    classifier = Classifier.load()
    report = evaluate(items, classifier)
    parts = [
        "### Item classification: precision and recall by language\n",
        "Micro-averaged over (item, label) pairs; `none` counts as no industry. "
        "P = precision, R = recall; tp/fp/fn = true positives, false positives, false "
        "negatives; `—` = undefined (nothing predicted or expected).\n",
        report.to_markdown(),
    ]
    if args.throughput:
        rows = throughput(items)
        parts.append("### Throughput (one process, best of five one-second runs)\n")
        parts.append("| setting | items/s |\n|---|---:|")
        parts.extend(f"| {name} | {rate:,.0f} |" for name, rate in rows)
        parts.append("")
    text = "\n".join(parts)
    print(text)
    if args.errors:
        print("\n".join(_errors(report, items)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"written to {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
