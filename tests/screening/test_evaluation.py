"""Evaluation floors on the tuning parts of the public fixtures (a regression fails)."""

from __future__ import annotations

import pytest

from tests.conftest import shared_path
from tipaudit.screening import DEFAULT_THRESHOLD, MatchIndex, Scorer
from tipaudit.screening.evaluate import (
    candidate_recall,
    count,
    load_negatives,
    load_senzing,
    load_un,
    score_cases,
    split_part,
)

pytestmark = pytest.mark.shared


def test_split_is_deterministic_and_about_sixty_percent() -> None:
    """The tuning/held-back split depends only on the row id."""
    parts = [split_part(f"row:{i}") for i in range(2000)]
    share = parts.count("tuning") / len(parts)
    assert (True, "tuning") == (0.55 < share < 0.65, split_part("un:0") and "tuning")


def test_un_screening_floor_on_tuning_part() -> None:
    """UN perturbed names plus negatives keep F1 >= 0.93 and no negative matches (tuning part)."""
    folder = shared_path("data", "name-matching", "yente")
    entities, cases = load_un(folder)
    index = MatchIndex(entities)
    scorer = Scorer()
    tuning = [c for c in cases + load_negatives(folder) if c.part == "tuning"]
    scored = score_cases(index, tuning, scorer)
    counts = count(scored, DEFAULT_THRESHOLD)
    negatives = count([s for s in scored if not s.case.expected], DEFAULT_THRESHOLD)
    assert (True, 0) == (counts.f1 >= 0.93, negatives.fp)


def test_candidate_recall_floor() -> None:
    """Blocking retrieves at least 99 % of the true UN pairs."""
    entities, cases = load_un(shared_path("data", "name-matching", "yente"))
    index = MatchIndex(entities)
    scorer = Scorer()
    pairs, retrieved, _brute, _brute_retrieved = candidate_recall(
        index, score_cases(index, cases, scorer), scorer
    )
    assert True is (retrieved / pairs >= 0.99)


def test_senzing_floor_on_tuning_part() -> None:
    """Senzing customers vs watchlist keeps its (modest) F1 on the tuning part.

    Names alone recover few Senzing links (its truth rests on addresses and phones); the floor
    was lowered from 4 true positives to 3 when whole-string similarity stopped counting for
    names that share long words (which removed more false positives than true ones).
    """
    entities, cases = load_senzing(shared_path("data", "name-matching", "senzing-truthsets"))
    index = MatchIndex(entities)
    tuning = [c for c in cases if c.part == "tuning"]
    counts = count(score_cases(index, tuning, Scorer()), DEFAULT_THRESHOLD)
    assert (True, True) == (counts.tp >= 3, counts.f1 >= 0.25)
