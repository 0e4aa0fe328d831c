"""Measuring the matcher: labelled cases, a deterministic tuning/held-back split, P/R/F1.

A :class:`Case` is a query with the ids of the list entities it truly matches (none for a
negative). :func:`score_cases` retrieves and scores every case once; :func:`count` then turns
the scores into true/false positives at any threshold, so the threshold can be tuned on the
tuning part without rescoring. Counting is per pair: every list entity scored at or above the
threshold is a predicted match; it is a true positive if it is in the case's expected set.

Loaders read the public fixtures described in ``shared/data/name-matching/README.md``.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tipaudit.core.countries import resolve_country
from tipaudit.screening.index import MatchIndex, names_of
from tipaudit.screening.model import (
    ListEntity,
    Query,
    Schema,
    normalise_date,
    normalise_identifier,
)
from tipaudit.screening.scoring import Scorer

Part = Literal["tuning", "held_back"]

#: Share of each source (by hash of the row id) used to tune the threshold.
TUNING_SHARE = 60


def split_part(row_id: str) -> Part:
    """``tuning`` for about 60 % of row ids, ``held_back`` for the rest; stable across runs."""
    digest = hashlib.sha256(row_id.encode("utf-8")).digest()
    return "tuning" if int.from_bytes(digest[:4], "big") % 100 < TUNING_SHARE else "held_back"


@dataclass(frozen=True, slots=True)
class Case:
    """A labelled query: its source, row id and the list entities it truly matches."""

    source: str
    row_id: str
    query: Query
    expected: frozenset[str]

    @property
    def part(self) -> Part:
        """The split this case falls in."""
        return split_part(self.row_id)


@dataclass(frozen=True, slots=True)
class ScoredCase:
    """A case with the score of every candidate the index retrieved for it."""

    case: Case
    scores: tuple[tuple[str, float], ...]
    candidate_ids: frozenset[str]


@dataclass(frozen=True, slots=True)
class Counts:
    """Pair counts at one threshold, with the derived rates."""

    queries: int
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        """tp / (tp + fp); 1 when nothing was predicted."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """tp / (tp + fn); 1 when nothing was expected."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        """The harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.queries + other.queries,
            self.tp + other.tp,
            self.fp + other.fp,
            self.fn + other.fn,
        )


def score_cases(index: MatchIndex, cases: Iterable[Case], scorer: Scorer) -> list[ScoredCase]:
    """Retrieve candidates for every case and score them (threshold-independent)."""
    out = []
    for case in cases:
        query_names = names_of(case.query)
        candidates = index.candidates(case.query)
        scores = tuple(
            (
                c.entity.id,
                scorer.score(
                    case.query,
                    c.entity,
                    token_weight=index.token_weight,
                    entity_names=c.names,
                    query_names=query_names,
                ).score,
            )
            for c in candidates
        )
        out.append(ScoredCase(case, scores, frozenset(c.entity.id for c in candidates)))
    return out


def count(scored: Iterable[ScoredCase], threshold: float) -> Counts:
    """True and false positives and false negatives over the cases at a threshold."""
    queries = tp = fp = fn = 0
    for item in scored:
        predicted = {entity_id for entity_id, score in item.scores if score >= threshold}
        queries += 1
        tp += len(predicted & item.case.expected)
        fp += len(predicted - item.case.expected)
        fn += len(item.case.expected - predicted)
    return Counts(queries, tp, fp, fn)


def tune_threshold(
    scored: Sequence[ScoredCase], grid: Iterable[float] | None = None
) -> tuple[float, Counts]:
    """The threshold with the best F1 on the given cases (ties: the higher threshold)."""
    grid = grid if grid is not None else [round(0.60 + i * 0.01, 2) for i in range(36)]
    best: tuple[float, Counts] | None = None
    for threshold in grid:
        counts = count(scored, threshold)
        if best is None or counts.f1 >= best[1].f1:
            best = (threshold, counts)
    if best is None:
        raise ValueError("empty threshold grid")
    return best


def candidate_recall(
    index: MatchIndex, scored: Iterable[ScoredCase], scorer: Scorer
) -> tuple[int, int, int, int]:
    """Blocking quality against a brute-force scan.

    Returns (true pairs, true pairs retrieved, true pairs a full scan scores at or above the
    threshold, of those the ones retrieved).
    """
    pairs = retrieved = brute = brute_retrieved = 0
    for item in scored:
        for entity_id in item.case.expected:
            entity = index.get(entity_id)
            if entity is None:
                continue
            pairs += 1
            hit = entity_id in item.candidate_ids
            retrieved += hit
            full = scorer.score(
                item.case.query,
                entity,
                token_weight=index.token_weight,
                entity_names=index.names(entity_id),
            )
            if full.match:
                brute += 1
                brute_retrieved += hit
    return pairs, retrieved, brute, brute_retrieved


# --- loaders for the public fixtures -------------------------------------------------------


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _country(text: str) -> tuple[str, ...]:
    text = text.strip()
    if not text:
        return ()
    resolution = resolve_country(text)
    return (resolution.country.alpha2,) if resolution.ok and resolution.country else ()


def _dates(*values: str) -> tuple[str, ...]:
    return tuple(d for d in (normalise_date(v) for v in values if v) if d)


def _yente_query(row: dict[str, str], row_id: str) -> Query:
    return Query(
        id=row_id,
        schema="Person",
        names=(row["full_name"],),
        countries=_country(row["nationality"]),
        birth_dates=_dates(row["date_of_birth"]),
    )


def load_un(folder: Path) -> tuple[list[ListEntity], list[Case]]:
    """The UN list (untreated) as entities, and the 170 treated rows whose name differs."""
    untreated = _rows(folder / "positives_un_untreated.csv")
    treated = _rows(folder / "positives_un_treated.csv")
    entities = [
        ListEntity(
            id=f"un-{i}",
            schema="Person",
            names=(row["full_name"],),
            countries=_country(row["nationality"]),
            birth_dates=_dates(row["date_of_birth"]),
            list_id="un-sc",
            reason="UN Security Council consolidated list (fixture)",
        )
        for i, row in enumerate(untreated)
    ]
    cases = [
        Case("un_positives", f"un:{i}", _yente_query(row, f"un:{i}"), frozenset({f"un-{i}"}))
        for i, (row, original) in enumerate(zip(treated, untreated, strict=True))
        if row["full_name"] != original["full_name"]
    ]
    return entities, cases


def load_negatives(folder: Path) -> list[Case]:
    """The 2 x 1,000 synthetic negatives: queries that should match nobody."""
    cases = []
    for name in ("global", "us"):
        for i, row in enumerate(_rows(folder / f"validation_negatives_{name}.csv")):
            row_id = f"neg-{name}:{i}"
            cases.append(Case(f"negatives_{name}", row_id, _yente_query(row, row_id), frozenset()))
    return cases


def _senzing_names(row: dict[str, str]) -> tuple[str, ...]:
    parts = " ".join(
        row.get(k, "") for k in ("PRIMARY_NAME_FIRST", "PRIMARY_NAME_MIDDLE", "PRIMARY_NAME_LAST")
    )
    keys = ("PRIMARY_NAME_FULL", "PRIMARY_NAME_ORG", "NATIVE_NAME_FULL", "SECONDARY_NAME_ORG")
    names = [row.get(k, "") for k in keys]
    names.append(parts)
    return tuple(n.strip() for n in names if n and n.strip())


def _senzing_ids(row: dict[str, str]) -> tuple[str, ...]:
    fields = {
        "PASSPORT_NUMBER": "passport",
        "DRIVERS_LICENSE_NUMBER": "driving-licence",
        "SSN_NUMBER": "ssn",
        "NATIONAL_ID_NUMBER": "national-id",
        "EMAIL_ADDRESS": "email",
        "PHONE_NUMBER": "phone",
    }
    ids = (normalise_identifier(row.get(k, ""), scheme) for k, scheme in fields.items())
    return tuple(i for i in ids if i)


def _senzing_schema(row: dict[str, str]) -> Schema:
    return "Organization" if row.get("RECORD_TYPE") == "ORGANIZATION" else "Person"


def load_senzing(folder: Path) -> tuple[list[ListEntity], list[Case]]:
    """The Senzing watchlist as entities; customers as cases, expected from the truth key."""
    clusters: dict[tuple[str, str], str] = {
        (r["DATA_SOURCE"], r["RECORD_ID"]): r["CLUSTER_ID"]
        for r in _rows(folder / "actual_truthset_key.csv")
    }
    entities = [
        ListEntity(
            id=f"WATCHLIST:{row['RECORD_ID']}",
            schema=_senzing_schema(row),
            names=_senzing_names(row),
            identifiers=_senzing_ids(row),
            birth_dates=_dates(row.get("DATE_OF_BIRTH", "")),
            list_id="senzing-watchlist",
            reason=row.get("CATEGORY", ""),
        )
        for row in _rows(folder / "watchlist.csv")
    ]
    by_cluster: dict[str, set[str]] = {}
    for entity in entities:
        cluster = clusters.get(("WATCHLIST", entity.id.split(":", 1)[1]))
        if cluster:
            by_cluster.setdefault(cluster, set()).add(entity.id)
    cases = []
    for row in _rows(folder / "customers.csv"):
        row_id = f"CUSTOMERS:{row['RECORD_ID']}"
        cluster = clusters.get(("CUSTOMERS", row["RECORD_ID"]), "")
        query = Query(
            id=row_id,
            schema=_senzing_schema(row),
            names=_senzing_names(row),
            identifiers=_senzing_ids(row),
            birth_dates=_dates(row.get("DATE_OF_BIRTH", "")),
        )
        cases.append(Case("senzing", row_id, query, frozenset(by_cluster.get(cluster, set()))))
    return entities, cases
