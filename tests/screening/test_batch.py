"""Batch screening is fast and gives exactly what it gave before it was made fast.

``data/screen_golden.json`` was recorded with the screening code as it was before the batch
path was optimised (prefilter without Candidate objects, packed matches, explanations only
for returned matches): for every vendored labelled query except the synthetic negatives, the
three results with their scores, verdicts and a digest of the explanation and every
feature's score, weight and reason. Any change to a score or a word of an explanation shows
up here; a deliberate change to the scoring must re-record the file and say so.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import pickle
import random
from collections import Counter
from pathlib import Path

import pytest

from tipaudit.screening import ListEntity, Match, MatchIndex, Query, Scorer, screen, screen_many
from tipaudit.screening.evaluate import EVAL_DATA, available_sources
from tipaudit.screening.index import names_of
from tipaudit.screening.scoring import _common_letters, score_candidates

GOLDEN = Path(__file__).parent / "data" / "screen_golden.json"


def _digest(match: Match) -> str:
    features = [[f.name, f.score, f.weight, f.detail] for f in match.features]
    text = json.dumps([match.explanation, features], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def test_screening_output_is_unchanged() -> None:
    """Every labelled query screens to the recorded entities, scores and explanations."""
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    sources, _skipped = available_sources(EVAL_DATA)
    scorer = Scorer()
    got = {
        f"{source.name}/{case.query.id}": [
            [m.entity_id, m.score, m.match, _digest(m)]
            for m in screen(source.index, case.query, scorer, limit=3)
        ]
        for source in sources
        if source.name != "negatives"
        for case in source.cases
    }
    assert len(expected) == len(got)
    assert expected == got


def _generated() -> tuple[MatchIndex, list[Query]]:
    rng = random.Random(5)
    given = ["Maria", "Mohammed", "Muhammad", "Ivan", "Li", "Ana", "Jose", "Fatima", "Chen"]
    family = ["Silva", "Hassan", "Hasan", "Petrov", "Wang", "Garcia", "Akhund", "Rahman"]
    words = ["Golden", "Harvest", "Textiles", "Trading", "Seafood", "Manpower", "Agro"]
    entities: list[ListEntity] = []
    for i in range(400):
        if i % 3 == 0:
            name = f"{rng.choice(words)} {rng.choice(words)} {rng.choice(['Ltd', 'LLC', 'GmbH'])}"
            entities.append(ListEntity(f"e{i}", "Company", (name,), countries=("GB",)))
        else:
            name = f"{rng.choice(given)} {rng.choice(given)} {rng.choice(family)}"
            entities.append(
                ListEntity(
                    f"e{i}",
                    "Person",
                    (name, f"{rng.choice(family)} {rng.choice(given)}"),
                    countries=(rng.choice(["AF", "RU", "BR"]),),
                    birth_dates=(f"19{rng.randint(50, 99)}",),
                    identifiers=(f"passport:P{i}",) if i % 7 == 0 else (),
                )
            )
    queries = [
        Query(
            f"q{i}",
            entity.schema,
            (entity.names[0][::-1] if i % 5 == 0 else entity.names[0].replace("a", "e", 1),),
            countries=entity.countries,
            identifiers=(f"passport:P{i * 7}",) if i % 4 == 0 else (),
        )
        for i, entity in enumerate(entities[::3])
    ]
    return MatchIndex(entities), queries


@pytest.mark.parametrize("limit", [1, 3, 10])
def test_screen_many_gives_exactly_what_screen_gives(limit: int) -> None:
    """Worker processes return equal matches (features and explanations included), in order."""
    index, queries = _generated()
    one = [(q, screen(index, q, limit=limit)) for q in queries]
    many = list(screen_many(index, queries, limit=limit, workers=2, chunk_size=16))
    assert [q.id for q, _ in one] == [q.id for q, _ in many]
    assert [ms for _, ms in one] == [ms for _, ms in many]
    assert [[_digest(m) for m in ms] for _, ms in one] == [
        [_digest(m) for m in ms] for _, ms in many
    ]


def test_screen_returns_the_best_of_what_score_candidates_scores() -> None:
    """screen() puts into words only the matches it returns; they equal the full scoring's."""
    index, queries = _generated()
    scorer = Scorer()
    for query in queries:
        full = score_candidates(index, query, scorer, limit=3)
        full.sort(key=lambda m: (-m.score, m.entity_id))
        assert full[:3] == screen(index, query, scorer, limit=3)
        given = score_candidates(index, query, scorer, limit=3, candidates=index.candidates(query))
        given.sort(key=lambda m: (-m.score, m.entity_id))
        assert full == given


def test_ranked_positions_are_the_candidates() -> None:
    """The index's array path and its Candidate list name the same entities, same order."""
    index, queries = _generated()
    for query in queries:
        positions, sums = index.ranked(query, names_of(query))
        candidates = index.candidates(query)
        assert [index.candidate_at(p, s) for p, s in zip(positions, sums, strict=True)] == (
            candidates
        )


def test_match_is_frozen_and_pickles_to_an_equal_match() -> None:
    index, queries = _generated()
    match = screen(index, queries[0], limit=1)[0]
    copy = pickle.loads(pickle.dumps(match))
    assert (copy, hash(copy), copy.features) == (match, hash(match), match.features)
    built = Match(match.entity_id, match.score, match.match, match.features, match.explanation)
    assert (built, pickle.loads(pickle.dumps(built))) == (match, match)
    assert repr(built) == repr(match)
    with pytest.raises(dataclasses.FrozenInstanceError):
        match.score = 1.0


def test_common_letters_is_the_multiset_intersection() -> None:
    rng = random.Random(3)
    for _ in range(500):
        left = tuple(rng.choice("abcd") for _ in range(rng.randint(0, 25)))
        right = tuple(rng.choice("abcd") for _ in range(rng.randint(0, 25)))
        expected = sum((Counter(left) & Counter(right)).values())
        assert expected == _common_letters(left, right)
