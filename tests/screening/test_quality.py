"""Matching quality on the vendored labelled sets (no ../shared needed), and the rules behind it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tipaudit.cli import app
from tipaudit.errors import ValidationError
from tipaudit.screening import (
    DEFAULT_THRESHOLD,
    ListEntity,
    MatchIndex,
    Query,
    Scorer,
    score_candidates,
    screen,
    screen_many,
)
from tipaudit.screening.evaluate import (
    EVAL_DATA,
    available_sources,
    evaluate_sources,
    export_pairs,
    load_own,
    per_category,
    rescore,
    scored_pairs,
)
from tipaudit.screening.ftm import entity_properties, query_from_example
from tipaudit.screening.names import normalise_name
from tipaudit.screening.scoring import TOKEN_MATCH, _token_similarity, compare_names


@pytest.fixture(scope="module")
def report():  # type: ignore[no-untyped-def]
    sources, skipped = available_sources(EVAL_DATA)
    return sources, evaluate_sources(sources, DEFAULT_THRESHOLD, skipped=skipped)


def test_every_vendored_source_is_present(report) -> None:  # type: ignore[no-untyped-def]
    """The evaluation runs from the package's own copy of the fixtures."""
    sources, result = report
    assert (["un_perturbed", "negatives", "senzing", "own"], ()) == (
        [s.name for s in sources],
        result.skipped,
    )
    assert 170 == len(next(s for s in sources if s.name == "un_perturbed").cases)


def test_held_back_targets(report) -> None:  # type: ignore[no-untyped-def]
    """F1 >= 0.85 on the held-back part, pooled and for tipaudit's own cases; no negative hit."""
    _sources, result = report
    pooled = result.counts("all", "held_back")
    own = result.counts("own", "held_back")
    negatives = result.counts("negatives", "held_back")
    assert (True, True, 0) == (pooled.f1 >= 0.85, own.f1 >= 0.85, negatives.fp)


def test_candidate_recall_target(report) -> None:  # type: ignore[no-untyped-def]
    """Blocking plus the prefilter keep >= 99 % of the true pairs, and every true pair a full
    scan would match."""
    _sources, result = report
    pairs = sum(r.pairs for r in result.recall)
    kept = sum(r.retrieved for r in result.recall)
    brute = sum(r.brute_matches for r in result.recall)
    brute_kept = sum(r.brute_retrieved for r in result.recall)
    assert (True, brute) == (kept / pairs >= 0.99, brute_kept)


def test_own_cases_split_is_written_in_the_file() -> None:
    """The split of tipaudit's own cases is fixed in the data, about half and half."""
    _entities, cases = load_own(EVAL_DATA)
    parts = [c.part for c in cases]
    assert (106, 53) == (len(cases), parts.count("held_back"))
    assert {"own_cyrillic", "own_arabic", "own_chinese", "own_legal_form"} <= {
        c.source for c in cases
    }


def test_per_category_counts_add_up(report) -> None:  # type: ignore[no-untyped-def]
    _sources, result = report
    by_category = per_category(result)
    total = result.counts("own", "tuning") + result.counts("own", "held_back")
    assert total.tp == sum(c.tp for c in by_category.values())


def test_missing_sources_are_skipped_with_a_reason(tmp_path: Path) -> None:
    sources, skipped = available_sources(tmp_path)
    assert ([], 3) == (sources, len(skipped))
    assert all(str(tmp_path) in reason for reason in skipped)


def test_exported_pairs_and_rescoring(report, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Pairs go out as FtM JSON lines; another matcher's scores come back into the same counts."""
    sources, result = report
    pairs = scored_pairs(result, sources)
    written = export_pairs(pairs[:50], tmp_path / "pairs.jsonl")
    first = json.loads((tmp_path / "pairs.jsonl").read_text(encoding="utf-8").splitlines()[0])
    perfect = {pair_id: float(entity.id in case.expected) for pair_id, case, entity in pairs}
    rescored = rescore(result, perfect)
    assert (50, {"pair", "left", "right", "source", "part", "expected"}) == (written, set(first))
    assert "properties" in first["left"]
    assert 0 == rescored.counts("all", "held_back").fp


@pytest.mark.parametrize(
    ("left", "right", "same"),
    [
        ("mohammed", "muhammad", True),
        ("yusuf", "yousif", True),
        ("oleksandr", "olexandr", True),
        ("rashid", "rashdi", True),
        ("bob", "robert", True),
        ("abdulaziz", "abdullah", False),
        ("xiaoming", "xiaohong", False),
        ("guo", "guoqiang", False),
        ("kovalchuk", "kovalenko", False),
        ("omar", "ahmad", False),
    ],
)
def test_same_word_rules(left: str, right: str, same: bool) -> None:
    """Shared beginnings alone do not make two names the same word; edits, sound and
    nicknames do."""
    assert same is (_token_similarity(left, right) >= TOKEN_MATCH)


@pytest.mark.parametrize(
    ("name", "kind", "tokens", "form"),
    [
        ("深圳明月贸易有限公司", "organization", ("shen", "zhen", "ming", "yue", "mao", "yi"), "yxgs"),  # noqa: E501
        ("Shenzhen Mingxing Dianzi Youxian Gongsi", "organization", ("shenzhen", "mingxing", "dianzi"), "yxgs"),  # noqa: E501
        ("Cong ty TNHH Mekong Garment", "any", ("mekong", "garment"), "tnhh"),
        ("ООО «Балтийский флот»", "organization", ("baltiisky", "flot"), "ooo"),  # noqa: RUF001
    ],
)  # fmt: skip
def test_legal_forms_in_other_scripts(
    name: str, kind: str, tokens: tuple[str, ...], form: str
) -> None:
    normalised = normalise_name(name, kind)
    assert (tokens, form) == (normalised.tokens, normalised.legal_forms[0].form)


def test_arabic_articles_join_the_next_word() -> None:
    spellings = ["Al-Rashid", "al Rashid", "Alrashid", "AL RASHID"]
    assert {("alrashid",)} == {normalise_name(s, "person").tokens for s in spellings}


def test_missing_middle_name_is_a_discounted_match() -> None:
    """'Dmitry Volkov' against 'Dmitry Alekseyevich Volkov': every word agrees, one is missing."""
    short = normalise_name("Дмитрий Волков", "person")
    full = normalise_name("Dmitry Alekseyevich Volkov", "person")
    other = normalise_name("Dmitry Alekseyevich Sokolov", "person")
    result = compare_names(short, full)
    assert (True, True) == (0.85 <= result.similarity < 1.0, "middle name" in result.method)
    assert compare_names(short, other).similarity < 0.7


def test_prefilter_scores_few_candidates_but_keeps_identifier_hits() -> None:
    """Only limit + margin candidates are scored in full; an identifier hit always is."""
    entities = [ListEntity(f"e{i}", "Person", (f"Maria Example{i:03d} Silva",)) for i in range(40)]
    entities.append(ListEntity("id-hit", "Person", ("Zzyzx Qwerty",), identifiers=("passport:P1",)))
    index = MatchIndex(entities)
    query = Query("q", "Person", ("Maria Silva",), identifiers=("passport:P1",))
    scored = score_candidates(index, query, Scorer(), limit=1)
    assert (True, True) == (len(scored) <= 4, "id-hit" in {m.entity_id for m in scored})


def test_screen_many_matches_screen_in_order() -> None:
    """The batch function gives the same results as screening one by one, in input order."""
    entities = [ListEntity(f"e{i}", "Company", (f"Example{i} Trading Ltd",)) for i in range(300)]
    index = MatchIndex(entities)
    queries = [Query(f"q{i}", "Company", (f"Exampel{i} Trading",)) for i in range(0, 300, 7)]
    one = [(q.id, [m.entity_id for m in screen(index, q, limit=3)]) for q in queries]
    many = [
        (q.id, [m.entity_id for m in ms])
        for q, ms in screen_many(index, queries, limit=3, workers=2)
    ]
    assert one == many
    assert "e7" == many[1][1][0]


@pytest.mark.parametrize(
    ("example", "fragment"),
    [
        ({"schema": "Vessel", "properties": {"name": ["x"]}}, "schema"),
        ({"schema": "Person", "properties": {"name": []}}, "at least one name"),
        ({"schema": "Person", "properties": {"name": ["x"] * 51}}, "at most 50"),
        ({"schema": "Person", "properties": {"name": [True]}}, "strings"),
        ("Person", "must be an object"),
    ],
)
def test_bad_examples_name_the_problem(example: object, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        query_from_example("k", example)


def test_impossible_dates_are_dropped_with_a_warning() -> None:
    warnings: list[str] = []
    example = {"schema": "Person", "properties": {"name": ["x"], "birthDate": ["1990-13", "1990"]}}
    query = query_from_example("k", example, warnings)
    assert (("1990",), 1) == (query.birth_dates, len(warnings))


def test_examples_and_entities_round_trip() -> None:
    query = query_from_example(
        "k",
        {
            "schema": "Company",
            "properties": {
                "name": "Example Ltd",
                "jurisdiction": ["gb"],
                "registrationNumber": ["01-234"],
                "unknownProperty": ["ignored"],
            },
        },
    )
    assert (("Example Ltd",), ("GB",), ("registration:01234",)) == (
        query.names,
        query.countries,
        query.identifiers,
    )
    entity = ListEntity("e", "Person", ("A B", "C D"), ("RU",), ("passport:x1",), ("1970",))
    assert {
        "name": ["A B"],
        "alias": ["C D"],
        "country": ["ru"],
        "passportNumber": ["x1"],
        "birthDate": ["1970"],
    } == entity_properties(entity)


def test_evaluate_command(tmp_path: Path) -> None:
    """``tipaudit entities evaluate --json`` reports every source; an empty folder is an error."""
    runner = CliRunner()
    env = {"TIPAUDIT_DATA_DIR": str(tmp_path / "data")}
    result = runner.invoke(app, ["entities", "evaluate", "--json"], env=env)
    assert 0 == result.exit_code, result.output
    body = json.loads(result.output)
    assert {"un_perturbed", "negatives", "senzing", "own", "all"} == {
        r["source"] for r in body["rows"]
    }
    empty = tmp_path / "empty"
    empty.mkdir()
    failed = runner.invoke(app, ["entities", "evaluate", "--data", str(empty)], env=env)
    bad = runner.invoke(app, ["entities", "evaluate", "--threshold", "1.5"], env=env)
    assert (2, 2) == (failed.exit_code, bad.exit_code)
    assert "no labelled source" in failed.output
