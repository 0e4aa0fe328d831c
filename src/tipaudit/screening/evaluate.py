"""Measuring the matcher: labelled cases, a deterministic tuning/held-back split, P/R/F1.

A :class:`Case` is a query with the ids of the list entities it truly matches (none for a
negative). :func:`score_cases` retrieves and scores every case once; :func:`count` then turns
the scores into true/false positives at any threshold, so the threshold can be tuned on the
tuning part without rescoring. Counting is per pair: every list entity scored at or above the
threshold is a predicted match; it is a true positive if it is in the case's expected set.

Loaders read the public fixtures described in ``shared/data/name-matching/README.md``, vendored
(with provenance) in ``screening/data/eval/`` so that the evaluation runs without ``../shared``,
and tipaudit's own labelled cases (organisations, legal forms, cross-script names) in the same
folder, whose tuning/held-back split is written in the file. :func:`evaluate_sources` runs every
source and returns a :class:`Report`; :func:`export_pairs` writes the scored pairs as JSON lines
so that another matcher (nomenklatura's logic-v2) can be run on exactly the same pairs.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tipaudit.core.countries import resolve_country
from tipaudit.screening.index import MatchIndex
from tipaudit.screening.model import (
    ListEntity,
    Query,
    Schema,
    normalise_date,
    normalise_identifier,
)
from tipaudit.screening.scoring import Scorer, score_candidates

Part = Literal["tuning", "held_back"]

#: Share of each source (by hash of the row id) used to tune the threshold.
TUNING_SHARE = 60


def split_part(row_id: str) -> Part:
    """``tuning`` for about 60 % of row ids, ``held_back`` for the rest; stable across runs."""
    digest = hashlib.sha256(row_id.encode("utf-8")).digest()
    return "tuning" if int.from_bytes(digest[:4], "big") % 100 < TUNING_SHARE else "held_back"


@dataclass(frozen=True, slots=True)
class Case:
    """A labelled query: its source, row id and the list entities it truly matches.

    The split is the hash of the row id (:func:`split_part`) unless the data fixes it
    (``fixed_part``, as tipaudit's own cases do).
    """

    source: str
    row_id: str
    query: Query
    expected: frozenset[str]
    fixed_part: Part | None = None

    @property
    def part(self) -> Part:
        """The split this case falls in."""
        return self.fixed_part or split_part(self.row_id)


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


#: Results per case the evaluation asks for: more than any caller shows, so that every list
#: entity scored at or above the threshold is counted.
EVAL_LIMIT = 3


def score_cases(index: MatchIndex, cases: Iterable[Case], scorer: Scorer) -> list[ScoredCase]:
    """Retrieve candidates for every case and score them as screening does (threshold-free)."""
    out = []
    for case in cases:
        candidates = index.candidates(case.query)
        matches = score_candidates(
            index, case.query, scorer, limit=EVAL_LIMIT, candidates=candidates
        )
        scores = tuple((m.entity_id, m.score) for m in matches)
        out.append(ScoredCase(case, scores, frozenset(e for e, _s in scores)))
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


# --- tipaudit's own labelled cases ----------------------------------------------------------

#: The vendored fixtures and tipaudit's own cases (see ``data/eval/README.md``).
EVAL_DATA = Path(__file__).parent / "data" / "eval"


def _split(cell: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in cell.split(";") if v.strip())


def _own_schema(text: str) -> Schema:
    schemas: dict[str, Schema] = {
        "Person": "Person",
        "Organization": "Organization",
        "Company": "Company",
        "LegalEntity": "LegalEntity",
    }
    return schemas.get(text.strip(), "LegalEntity")


def load_own(folder: Path) -> tuple[list[ListEntity], list[Case]]:
    """tipaudit's own list and cases: organisations, legal forms, cross-script names.

    The source of a case is ``own_<category>`` (``own_legal form`` …); the part is the one
    written in the file.
    """
    entities = [
        ListEntity(
            id=row["id"],
            schema=_own_schema(row["schema"]),
            names=_split(row["names"]),
            countries=_split(row["countries"]),
            identifiers=tuple(
                i for i in (normalise_identifier(v) for v in _split(row["identifiers"])) if i
            ),
            birth_dates=_dates(*_split(row["birth_dates"])),
            list_id="own",
            reason="tipaudit evaluation case (fictional)",
        )
        for row in _rows(folder / "own-list.csv")
    ]
    cases = []
    for row in _rows(folder / "own-cases.csv"):
        part = row["part"].strip()
        if part not in ("tuning", "held_back"):
            raise ValueError(f"own-cases.csv: case {row['case_id']} has no valid part")
        query = Query(
            id=row["case_id"],
            schema=_own_schema(row["schema"]),
            names=(row["name"],),
            countries=_split(row["countries"]),
            identifiers=tuple(
                i for i in (normalise_identifier(v) for v in _split(row["identifiers"])) if i
            ),
            birth_dates=_dates(*_split(row["birth_dates"])),
        )
        cases.append(
            Case(
                "own_" + row["category"].strip().replace(" ", "_"),
                "own:" + row["case_id"],
                query,
                frozenset(_split(row["expected"])),
                fixed_part="tuning" if part == "tuning" else "held_back",
            )
        )
    return entities, cases


# --- running every source -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Source:
    """A group of labelled cases and the list they are screened against."""

    name: str
    label: str
    index: MatchIndex
    cases: tuple[Case, ...]


@dataclass(frozen=True, slots=True)
class CandidateRecall:
    """Blocking against a brute-force scan for one source (see :func:`candidate_recall`)."""

    source: str
    pairs: int
    retrieved: int
    brute_matches: int
    brute_retrieved: int

    @property
    def rate(self) -> float:
        """Share of true pairs the blocking retrieved (1 when there are none)."""
        return self.retrieved / self.pairs if self.pairs else 1.0


@dataclass(frozen=True, slots=True)
class Report:
    """Counts per source and part at one threshold, pooled counts and candidate recall."""

    threshold: float
    rows: tuple[tuple[str, Part, Counts], ...]
    recall: tuple[CandidateRecall, ...]
    skipped: tuple[str, ...]
    scored: tuple[tuple[str, tuple[ScoredCase, ...]], ...]

    def counts(self, source: str, part: Part) -> Counts:
        """The counts of one source (or ``all``) in one part."""
        for name, row_part, counts in self.rows:
            if name == source and row_part == part:
                return counts
        raise KeyError(f"{source}/{part}")


def available_sources(folder: Path = EVAL_DATA) -> tuple[list[Source], list[str]]:
    """Every source whose files are present in ``folder``; the absent ones with a reason."""
    sources: list[Source] = []
    skipped: list[str] = []
    yente = folder / "yente"
    if (yente / "positives_un_treated.csv").is_file():
        un_entities, un_cases = load_un(yente)
        un_index = MatchIndex(un_entities)
        sources.append(
            Source("un_perturbed", "UN names perturbed by yente", un_index, tuple(un_cases))
        )
        if (yente / "validation_negatives_global.csv").is_file():
            sources.append(
                Source(
                    "negatives",
                    "synthetic negatives vs the UN list",
                    un_index,
                    tuple(load_negatives(yente)),
                )
            )
        else:
            skipped.append(f"negatives: {yente}/validation_negatives_*.csv is absent")
    else:
        skipped.append(f"un_perturbed and negatives: {yente}/positives_un_*.csv is absent")
    senzing = folder / "senzing"
    if (senzing / "actual_truthset_key.csv").is_file():
        sz_entities, sz_cases = load_senzing(senzing)
        sources.append(
            Source(
                "senzing",
                "Senzing customers vs watchlist",
                MatchIndex(sz_entities),
                tuple(sz_cases),
            )
        )
    else:
        skipped.append(f"senzing: {senzing}/actual_truthset_key.csv is absent")
    if (folder / "own-cases.csv").is_file():
        own_entities, own_cases = load_own(folder)
        sources.append(
            Source("own", "tipaudit's own cases", MatchIndex(own_entities), tuple(own_cases))
        )
    else:
        skipped.append(f"own: {folder}/own-cases.csv is absent")
    return sources, skipped


def evaluate_sources(
    sources: Sequence[Source],
    threshold: float,
    *,
    scorer: Scorer | None = None,
    skipped: Sequence[str] = (),
) -> Report:
    """Score every source once; count per source and part, pooled, with candidate recall."""
    scorer = scorer or Scorer(threshold=threshold)
    rows: list[tuple[str, Part, Counts]] = []
    recall: list[CandidateRecall] = []
    scored_by_source: list[tuple[str, tuple[ScoredCase, ...]]] = []
    pooled: list[ScoredCase] = []
    for source in sources:
        scored = score_cases(source.index, source.cases, scorer)
        scored_by_source.append((source.name, tuple(scored)))
        pooled.extend(scored)
        for part in ("tuning", "held_back"):
            chosen = [s for s in scored if s.case.part == part]
            rows.append((source.name, part, count(chosen, threshold)))
        if any(c.expected for c in source.cases):
            pairs, got, brute, brute_got = candidate_recall(
                source.index, scored, Scorer(threshold=threshold)
            )
            recall.append(CandidateRecall(source.name, pairs, got, brute, brute_got))
    for part in ("tuning", "held_back"):
        chosen = [s for s in pooled if s.case.part == part]
        rows.append(("all", part, count(chosen, threshold)))  # type: ignore[arg-type]
    return Report(threshold, tuple(rows), tuple(recall), tuple(skipped), tuple(scored_by_source))


def per_category(report: Report, source: str = "own") -> dict[tuple[str, Part], Counts]:
    """Counts of one source split by the case's own source label (the category)."""
    out: dict[tuple[str, Part], Counts] = {}
    for name, scored in report.scored:
        if name != source:
            continue
        groups: dict[tuple[str, Part], list[ScoredCase]] = {}
        for item in scored:
            groups.setdefault((item.case.source, item.case.part), []).append(item)
        for key, items in sorted(groups.items()):
            out[key] = count(items, report.threshold)
    return out


# --- exchanging pairs with another matcher --------------------------------------------------


def _ftm(record: ListEntity | Query) -> dict[str, object]:
    from tipaudit.screening.ftm import entity_properties, query_example

    if isinstance(record, ListEntity):
        props = entity_properties(record)
        props.pop("notes", None)
        props.pop("sourceUrl", None)
        return {"id": record.id, "schema": record.schema, "properties": props}
    return query_example(record)


def scored_pairs(report: Report, sources: Sequence[Source]) -> list[tuple[str, Case, ListEntity]]:
    """Every pair the evaluation scored (retrieved candidates plus any missed true match)."""
    by_name = {s.name: s for s in sources}
    pairs: list[tuple[str, Case, ListEntity]] = []
    for name, scored in report.scored:
        index = by_name[name].index
        for item in scored:
            wanted = [e for e, _s in item.scores] + sorted(item.case.expected - item.candidate_ids)
            for entity_id in wanted:
                entity = index.get(entity_id)
                if entity is not None:
                    pairs.append((f"{name}|{item.case.row_id}|{entity_id}", item.case, entity))
    return pairs


def export_pairs(pairs: Iterable[tuple[str, Case, ListEntity]], path: Path) -> int:
    """Write pairs as JSON lines ``{"pair", "left", "right", "source", "part", "expected"}``."""
    import json

    written = 0
    with path.open("w", encoding="utf-8") as handle:
        for pair_id, case, entity in pairs:
            line = {
                "pair": pair_id,
                "source": case.source,
                "part": case.part,
                "expected": entity.id in case.expected,
                "left": _ftm(case.query),
                "right": _ftm(entity),
            }
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
            written += 1
    return written


def rescore(report: Report, scores: dict[str, float]) -> Report:
    """The same cases with another matcher's pair scores (``source|row id|entity id`` keys);
    a pair it did not score counts as 0. Candidate recall is left out (it is the blocking's)."""
    scored_by_source: list[tuple[str, tuple[ScoredCase, ...]]] = []
    for name, scored in report.scored:
        items = []
        for item in scored:
            ids = [e for e, _s in item.scores] + sorted(item.case.expected - item.candidate_ids)
            new = tuple((e, scores.get(f"{name}|{item.case.row_id}|{e}", 0.0)) for e in ids)
            items.append(ScoredCase(item.case, new, item.candidate_ids))
        scored_by_source.append((name, tuple(items)))
    return recount(report, scored_by_source, report.threshold)


def recount(
    report: Report,
    scored_by_source: Sequence[tuple[str, tuple[ScoredCase, ...]]],
    threshold: float,
) -> Report:
    """The counts of already-scored cases at another threshold."""
    rows: list[tuple[str, Part, Counts]] = []
    pooled: list[ScoredCase] = []
    for name, scored in scored_by_source:
        pooled.extend(scored)
        for part in ("tuning", "held_back"):
            rows.append((name, part, count([s for s in scored if s.case.part == part], threshold)))
    for part in ("tuning", "held_back"):
        rows.append(("all", part, count([s for s in pooled if s.case.part == part], threshold)))  # type: ignore[arg-type]
    return Report(threshold, tuple(rows), (), report.skipped, tuple(scored_by_source))
