"""Evaluate the screening matcher on the public name-matching fixtures in ../shared.

    .venv/bin/python bench/entity_matching_eval.py [--speed N]

Prints, per source and per part (tuning / held-back): queries, true and false positives,
false negatives, precision, recall, F1 at the threshold tuned on the pooled tuning parts and at
the shipped DEFAULT_THRESHOLD; candidate recall of the blocking against a brute-force scan;
and the speed of building and querying an index of N generated entities (default 100,000).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

from tipaudit.screening.evaluate import (
    Counts,
    ScoredCase,
    candidate_recall,
    count,
    load_negatives,
    load_senzing,
    load_un,
    score_cases,
    tune_threshold,
)
from tipaudit.screening.index import MatchIndex
from tipaudit.screening.model import ListEntity, Query
from tipaudit.screening.scoring import DEFAULT_THRESHOLD, Scorer, screen

SHARED = Path(__file__).resolve().parents[2] / "shared"
FIXTURES = SHARED / "data" / "name-matching"


def _row(label: str, counts: Counts) -> str:
    return (
        f"| {label} | {counts.queries} | {counts.tp} | {counts.fp} | {counts.fn} | "
        f"{counts.precision:.3f} | {counts.recall:.3f} | {counts.f1:.3f} |"
    )


def _table(groups: dict[str, list[ScoredCase]], threshold: float) -> list[str]:
    lines = [
        "| source / part | queries | TP | FP | FN | precision | recall | F1 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for part in ("tuning", "held_back"):
        for source, items in groups.items():
            chosen = [s for s in items if s.case.part == part]
            lines.append(_row(f"{source} / {part}", count(chosen, threshold)))
    return lines


def quality() -> None:
    """Score every source, tune on the tuning parts, report both parts."""
    un_entities, un_cases = load_un(FIXTURES / "yente")
    negatives = load_negatives(FIXTURES / "yente")
    sz_entities, sz_cases = load_senzing(FIXTURES / "senzing-truthsets")
    scorer = Scorer(threshold=DEFAULT_THRESHOLD)
    un_index = MatchIndex(un_entities)
    sz_index = MatchIndex(sz_entities)
    un_scored = score_cases(un_index, un_cases, scorer)
    neg_scored = score_cases(un_index, negatives, scorer)
    sz_scored = score_cases(sz_index, sz_cases, scorer)
    tuning = [s for s in un_scored + neg_scored + sz_scored if s.case.part == "tuning"]
    tuned, tuned_counts = tune_threshold(tuning)
    print(f"threshold tuned on pooled tuning parts: {tuned:.2f} (F1 {tuned_counts.f1:.3f});")
    print(f"shipped DEFAULT_THRESHOLD: {DEFAULT_THRESHOLD:.2f}\n")
    groups = {
        "(a) UN perturbed names": un_scored,
        "(b) negatives vs UN list": neg_scored,
        "(a+b) UN screening": un_scored + neg_scored,
        "(c) Senzing customers vs watchlist": sz_scored,
        "all pooled": un_scored + neg_scored + sz_scored,
    }
    for threshold in sorted({tuned, DEFAULT_THRESHOLD}):
        print(f"At threshold {threshold:.2f}:\n")
        print("\n".join(_table(groups, threshold)))
        print()
    print("Candidate recall (blocking vs brute-force scan), at DEFAULT_THRESHOLD:\n")
    print("| source | true pairs | retrieved | brute force matches | of those retrieved |")
    print("|---|---:|---:|---:|---:|")
    for label, index, scored in (
        ("UN perturbed names", un_index, un_scored),
        ("Senzing", sz_index, sz_scored),
    ):
        pairs, got, brute, brute_got = candidate_recall(index, scored, scorer)
        print(f"| {label} | {pairs} | {got} ({got / pairs:.3f}) | {brute} | {brute_got} |")
    print()
    for item in un_scored:
        if item.case.part == "held_back" and not any(
            e in item.case.expected and s >= DEFAULT_THRESHOLD for e, s in item.scores
        ):
            best = max(item.scores, key=lambda x: x[1], default=("-", 0.0))
            print(f"  missed: {item.case.query.names[0]!r} best {best}")


_SYLLABLES = [
    "al", "an", "ba", "bi", "da", "de", "el", "fa", "ga", "ha", "hu", "ib", "ja", "ka", "ko",
    "la", "li", "ma", "mo", "na", "ni", "or", "pa", "ra", "ri", "sa", "se", "ta", "to", "ul",
    "va", "wa", "ya", "za", "zu", "chen", "ming", "ova", "enko", "son", "berg", "ez", "ic",
]  # fmt: skip


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


def speed(size: int) -> None:
    """Build an index of generated entities and time candidate retrieval and screening."""
    rng = random.Random(20260101)
    given = [_word(rng) for _ in range(3000)]
    family = [_word(rng) for _ in range(30000)]
    entities = []
    for i in range(size):
        if i % 5 == 0:
            names = (f"{_word(rng)} {rng.choice(family)} Trading LLC",)
            schema = "Company"
        else:
            names = (
                f"{rng.choice(given)} {rng.choice(given)} {rng.choice(family)}",
                f"{rng.choice(given)} {rng.choice(family)}",
            )
            schema = "Person"
        entities.append(
            ListEntity(f"gen-{i}", schema, names, identifiers=(f"passport:P{i:08d}",))  # type: ignore[arg-type]
        )
    start = time.perf_counter()
    index = MatchIndex(entities)
    build = time.perf_counter() - start
    queries = []
    for entity in rng.sample(entities, 1000):
        name = entity.names[0]
        pos = rng.randrange(len(name))
        typo = name[:pos] + name[pos + 1 :]
        queries.append(Query("q", entity.schema, (typo,)))
    cand_times, screen_times = [], []
    scorer = Scorer()
    for query in queries:
        t0 = time.perf_counter()
        index.candidates(query)
        t1 = time.perf_counter()
        screen(index, query, scorer)
        t2 = time.perf_counter()
        cand_times.append(t1 - t0)
        screen_times.append(t2 - t1)
    print(f"Speed, {size:,} generated entities (one process):")
    print(f"- index build: {build:.1f} s")
    print(
        f"- candidate retrieval: median {statistics.median(cand_times) * 1000:.2f} ms, "
        f"p95 {sorted(cand_times)[949] * 1000:.2f} ms per query"
    )
    print(
        f"- retrieval + scoring of up to 50 candidates: median "
        f"{statistics.median(screen_times) * 1000:.1f} ms, "
        f"p95 {sorted(screen_times)[949] * 1000:.1f} ms per query"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--speed", type=int, default=100_000, help="entities (0 skips)")
    args = parser.parse_args()
    if not FIXTURES.exists():
        raise SystemExit(f"{FIXTURES} is absent: the evaluation needs ../shared")
    quality()
    if args.speed:
        print()
        speed(args.speed)


if __name__ == "__main__":
    main()
