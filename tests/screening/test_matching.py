"""Case tables for names, scoring, explanations, the index and hostile input."""

from __future__ import annotations

import random

import pytest

from tipaudit.screening import (
    DEFAULT_THRESHOLD,
    FEATURES,
    ListEntity,
    MatchIndex,
    Query,
    Scorer,
    normalise_date,
    normalise_identifier,
    normalise_name,
    screen,
)
from tipaudit.screening.model import Schema


def _score(
    query_name: str,
    entity_name: str,
    schema: Schema = "Person",
    entity_schema: Schema | None = None,
    **query_fields: tuple[str, ...],
) -> float:
    entity_fields = {k[7:]: v for k, v in query_fields.items() if k.startswith("entity_")}
    q_fields = {k: v for k, v in query_fields.items() if not k.startswith("entity_")}
    query = Query("q", schema, (query_name,), **q_fields)
    entity = ListEntity("e", entity_schema or schema, (entity_name,), **entity_fields)  # type: ignore[arg-type]
    return Scorer().score(query, entity).score


MATCHES = [
    ("ACME Trading LLC", "Acme Trading Limited Liability Company", "Company"),
    ("ООО Ромашка", "OOO Romashka", "Company"),  # noqa: RUF001
    ("محمد حسن", "Mohammad Hassan", "Person"),
    ("李明", "Li Ming", "Person"),
    ("Hassan Mohammad", "Mohammad Hassan", "Person"),
    ("J. R. Smith", "John Robert Smith", "Person"),
    ("Mohammad Hassan Akhund", "Mohammed Hasan Akhund", "Person"),
    ("Abdul Rahman Zahid", "Abdul Rahmna Zahid", "Person"),
    ("Sheikh Ahmed Ali", "Ahmed Ali", "Person"),
    ("Шевченко Тарас", "Taras Shevchenko", "Person"),  # noqa: RUF001
    ("Siemens GmbH", "Siemens Gesellschaft mit beschränkter Haftung", "Company"),
]


@pytest.mark.parametrize(("query", "entity", "schema"), MATCHES)
def test_variants_match(query: str, entity: str, schema: Schema) -> None:
    """Script, legal-form, order, initial, honorific and typo variants score as matches."""
    assert True is (_score(query, entity, schema) >= DEFAULT_THRESHOLD)


NON_MATCHES = [
    ("Bank of China", "China Construction Bank", "Company"),
    ("Mohammad Hassan", "Ali Rezaei", "Person"),
    ("Acme Trading", "Zenith Logistics", "Company"),
]


@pytest.mark.parametrize(("query", "entity", "schema"), NON_MATCHES)
def test_different_names_do_not_match(query: str, entity: str, schema: Schema) -> None:
    """Names sharing a word or nothing at all stay below the threshold."""
    assert False is (_score(query, entity, schema) >= DEFAULT_THRESHOLD)


def test_common_name_with_different_birth_year_does_not_match() -> None:
    """Two John Smiths born fifteen years apart are different people."""
    score = _score("John Smith", "John Smith", birth_dates=("1970",), entity_birth_dates=("1985",))
    assert False is (score >= DEFAULT_THRESHOLD)


def test_birth_date_mismatch_penalises() -> None:
    """A contradicting birth date lowers the score; an agreeing one raises it."""
    agree = _score(
        "Ali Hassan", "Ali Hasan", birth_dates=("1970-01-02",), entity_birth_dates=("1970-01-02",)
    )
    none = _score("Ali Hassan", "Ali Hasan")
    differ = _score("Ali Hassan", "Ali Hasan", birth_dates=("1970",), entity_birth_dates=("1990",))
    assert [True, True] == [agree > none, none > differ]


def test_country_mismatch_penalises() -> None:
    """Different countries lower the score of the same name."""
    same = _score("Ali Hassan", "Ali Hassan", countries=("IQ",), entity_countries=("IQ",))
    other = _score("Ali Hassan", "Ali Hassan", countries=("IQ",), entity_countries=("FR",))
    assert 0.15 == pytest.approx(same - other + 0.05 - 0.05, abs=0.06)
    assert True is (other < same)


def test_identifier_match_is_a_strong_positive() -> None:
    """The same passport number raises the score of a similar name to a match."""
    without = _score("A. Karimov", "Aziz Karimova")
    with_id = _score(
        "A. Karimov",
        "Aziz Karimova",
        identifiers=(normalise_identifier("AB 123-456", "passport"),),
        entity_identifiers=("passport:ab123456",),
    )
    assert [True, True] == [with_id > without, with_id >= DEFAULT_THRESHOLD]


def test_person_never_matches_company() -> None:
    """A person and a company with the same name are ruled out by the schema."""
    assert 0.0 == _score("Li Ming", "Li Ming", "Person", "Company")


def test_legal_forms_are_removed_and_kept() -> None:
    """Legal forms leave the comparison name and are kept as a feature."""
    name = normalise_name("ООО Ромашка", "organization")  # noqa: RUF001
    assert (("romashka",), ("ooo",)) == (name.tokens, tuple(f.form for f in name.legal_forms))


def test_explanation_names_the_evidence() -> None:
    """A match explains, in words, which names were compared and how similar they are."""
    match = Scorer().score(
        Query("q", "Person", ("Mohammad Hassan Akhund",)),
        ListEntity("e", "Person", ("Mohammed Hasan Akhund",)),
    )
    expected = "names 'Mohammad Hassan Akhund' and 'Mohammed Hasan Akhund' are 97% similar"
    assert True is (expected in match.explanation)
    assert [f.name for f in FEATURES] == [f.name for f in match.features]


def test_every_feature_has_a_one_sentence_description() -> None:
    """Each declared feature documents itself in one sentence."""
    assert [] == [f.name for f in FEATURES if not f.description.endswith(".")]


def test_dates_and_identifiers_normalise() -> None:
    """ISO and US dates and spaced identifiers reduce to one form."""
    assert ["1969-07-16", "1970-03-01", "1965", ""] == [
        normalise_date("1969-7-16"),
        normalise_date("3/1/70"),
        normalise_date("1965"),
        normalise_date("nonsense"),
    ]
    assert "ssn:294669999" == normalise_identifier("294-66-9999", "ssn")


def _generated(size: int) -> list[ListEntity]:
    rng = random.Random(7)
    syllables = ["ka", "ri", "mo", "al", "zu", "ne", "ta", "or", "vi", "sa", "lu", "de"]
    words = ["".join(rng.choice(syllables) for _ in range(3)) for _ in range(400)]
    return [
        ListEntity(f"g{i}", "Person", (f"{rng.choice(words)} {rng.choice(words)}",))
        for i in range(size)
    ]


def test_index_retrieves_what_a_full_scan_matches() -> None:
    """Typo queries always retrieve their entity, and >= 90 % of what a full scan matches."""
    entities = _generated(3000)
    index = MatchIndex(entities)
    scorer = Scorer()
    rng = random.Random(11)
    missed = found = lost_true = 0
    for entity in rng.sample(entities, 60):
        name = entity.names[0]
        cut = rng.randrange(len(name))
        query = Query("q", "Person", (name[:cut] + name[cut + 1 :],))
        retrieved = {c.entity.id for c in index.candidates(query, limit=100)}
        brute = {
            e.id for e in entities if scorer.score(query, e, token_weight=index.token_weight).match
        }
        missed += len(brute - retrieved)
        found += len(brute)
        lost_true += entity.id not in retrieved
    # The generated names are deliberately dense (400 words from 12 syllables): some other
    # near-duplicates a full scan also matches share no key with the typo query.
    assert (0, True) == (lost_true, missed <= 0.10 * found), (missed, found)


def test_screen_finds_identifier_only_match() -> None:
    """An identifier alone retrieves the entity, but does not make a match without the name."""
    index = MatchIndex([ListEntity("e1", "Person", ("Zed Quorn",), identifiers=("ssn:1",))])
    results = screen(index, Query("q", "Person", ("Other Person",), identifiers=("ssn:1",)))
    assert [("e1", False)] == [(m.entity_id, m.match) for m in results]


HOSTILE = [
    "",
    "   ",
    "x" * 10_000,
    "ab " * 5000,
    "\x00\x07\x1b[31mEvil\u202eName\u200b",
    "Иван 李 محمد Smith ☃ 🙂",
    "\ud800",
    ".,;:-()[]",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_do_not_raise(name: str) -> None:
    """Empty, huge, control-character and mixed-script names score without errors."""
    index = MatchIndex(
        [ListEntity("e1", "Person", (name, "Smith")), ListEntity("e2", "Company", (name,))]
    )
    results = screen(index, Query("q", "LegalEntity", (name, "Smith")))
    assert True is all(0.0 <= m.score <= 1.0 for m in results)
