"""The indicator taxonomy: packaged data, strict loading, lookups and code validation."""

# Asserts read `expected == actual` (the project test style), which SIM300 calls Yoda.

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tipaudit.core.indicators import (
    MAX_FILE_BYTES,
    HtcdsMapping,
    Indicator,
    IndicatorKind,
    Taxonomy,
    load_taxonomy,
    validate_codes,
)
from tipaudit.errors import NotFoundError, ValidationError

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
HTCDS_ENUMERATIONS = SHARED / "data" / "htcds" / "htcds_enumerations_v2.0.derived.json"

ILO_NAMES_IN_ORDER = [
    "Abuse of vulnerability",
    "Deception",
    "Restriction of movement",
    "Isolation",
    "Physical and sexual violence",
    "Intimidation and threats",
    "Retention of identity documents",
    "Withholding of wages",
    "Debt bondage",
    "Abusive working and living conditions",
    "Excessive overtime",
]

TIP_ACTS = {
    "TIP-FEES": "recruitment fees and debt bondage",
    "TIP-DOCS": "identity-document confiscation",
    "TIP-CONTRACT": "contract fraud or substitution",
    "TIP-WAGES": "withheld or unpaid wages",
    "TIP-ARMED": "forced recruitment into armed groups",
    "TIP-CHILD": "recruitment or use of children",
    "TIP-SEX": "sexual exploitation",
    "TIP-RETURN": "no return transport",
    "TIP-HOUSING": "substandard housing",
}


# --- the packaged taxonomy -------------------------------------------------------------------


def test_packaged_taxonomy_has_a_version() -> None:
    """The packaged taxonomy loads and carries the version findings will record."""
    taxonomy = load_taxonomy()

    assert "2026.1" == taxonomy.version
    assert taxonomy.title


def test_packaged_taxonomy_is_cached() -> None:
    """Loading the packaged taxonomy twice returns the same object (parsed once per process)."""
    assert load_taxonomy() is load_taxonomy()


def test_ilo_indicators_are_the_eleven_in_ilo_order() -> None:
    """Exactly the 11 ILO forced-labour indicators, coded ILO-01..ILO-11 in booklet order."""
    ilo = load_taxonomy().by_kind(IndicatorKind.ILO_FORCED_LABOUR)

    assert [f"ILO-{n:02d}" for n in range(1, 12)] == [ind.code for ind in ilo]
    assert ILO_NAMES_IN_ORDER == [ind.name for ind in ilo]


def test_ilo_indicators_come_first_in_file_order() -> None:
    """Iteration yields the ILO indicators first, then the trafficking acts."""
    kinds = [ind.kind for ind in load_taxonomy()]

    assert [IndicatorKind.ILO_FORCED_LABOUR] * 11 == kinds[:11]
    assert {IndicatorKind.TRAFFICKING_ACT} == set(kinds[11:])


@pytest.mark.parametrize("code", sorted(TIP_ACTS))
def test_every_trafficking_act_is_present(code: str) -> None:
    """Each trafficking-specific act of the domain brief has its own trafficking_act code."""
    indicator = load_taxonomy().get(code)

    assert IndicatorKind.TRAFFICKING_ACT == indicator.kind


def test_trafficking_acts_are_exactly_the_listed_ones() -> None:
    """No trafficking act is added or dropped without updating this list."""
    acts = load_taxonomy().by_kind("trafficking_act")

    assert sorted(TIP_ACTS) == sorted(ind.code for ind in acts)


def test_every_indicator_speaks_english_and_spanish() -> None:
    """Each indicator has non-empty plain-language wording in English and Spanish."""
    for indicator in load_taxonomy():
        assert {"en", "es"} <= set(indicator.plain_language), indicator.code
        assert indicator.plain("en"), indicator.code
        assert indicator.plain("es"), indicator.code


def test_related_links_go_both_ways() -> None:
    """If A lists B as related, B lists A: cross-links read the same from either side."""
    taxonomy = load_taxonomy()
    one_way = [
        (ind.code, other)
        for ind in taxonomy
        for other in ind.related
        if ind.code not in taxonomy.get(other).related
    ]

    assert [] == one_way


@pytest.mark.parametrize(
    ("tip", "ilo"),
    [
        ("TIP-FEES", "ILO-09"),
        ("TIP-DOCS", "ILO-07"),
        ("TIP-CONTRACT", "ILO-02"),
        ("TIP-WAGES", "ILO-08"),
        ("TIP-HOUSING", "ILO-10"),
    ],
)
def test_trafficking_acts_link_to_their_ilo_indicator(tip: str, ilo: str) -> None:
    """Each act that the domain brief anchors on an ILO indicator is cross-linked to it."""
    assert ilo in load_taxonomy().get(tip).related


def test_every_citation_points_somewhere() -> None:
    """Every indicator cites at least one source with a non-empty pointer to a known source."""
    taxonomy = load_taxonomy()
    for indicator in taxonomy:
        assert indicator.sources, indicator.code
        for citation in indicator.sources:
            assert taxonomy.source(citation.source_id).url.startswith("https://")
            assert citation.pointer.strip()


def test_empty_htcds_mapping_is_explained() -> None:
    """An indicator with no HTCDS value says why in htcds_note."""
    for indicator in load_taxonomy():
        if not indicator.htcds:
            assert indicator.htcds_note, indicator.code


@pytest.mark.shared
def test_every_htcds_mapping_exists_in_the_standard() -> None:
    """Every mapped HTCDS field exists, is a current picklist, and every value is in it."""
    if not HTCDS_ENUMERATIONS.is_file():
        pytest.skip(f"../shared is absent: HTCDS enumerations not found at {HTCDS_ENUMERATIONS}")
    fields: dict[str, Any] = json.loads(HTCDS_ENUMERATIONS.read_text(encoding="utf-8"))["fields"]
    problems = []
    for indicator in load_taxonomy():
        for mapping in indicator.htcds:
            spec = fields.get(mapping.field)
            if spec is None:
                problems.append(f"{indicator.code}: no field {mapping.field}")
                continue
            if spec["status"] == "DEPRECATED":
                problems.append(f"{indicator.code}: {mapping.field} is deprecated")
            values = {value["name"] for value in spec.get("values") or []}
            if mapping.value not in values:
                problems.append(f"{indicator.code}: {mapping.field} has no value {mapping.value}")

    assert [] == problems


def test_known_htcds_mappings() -> None:
    """Spot checks of mappings taken from the domain brief, tables 1.3 and 1.5."""
    taxonomy = load_taxonomy()

    assert (HtcdsMapping("vic_MethodsOfControl", "DebtBondage"),) == taxonomy.get("ILO-09").htcds
    assert (
        HtcdsMapping("vic_TypeOfExploitation", "ForcedMilitaryByNonStateActors"),
    ) == taxonomy.get("TIP-ARMED").htcds
    assert (HtcdsMapping("vic_TypeOfExploitation", "ChildLabour"),) == taxonomy.get(
        "TIP-CHILD"
    ).htcds


# --- lookups ---------------------------------------------------------------------------------


def test_get_returns_the_indicator() -> None:
    """get() finds an indicator by its code."""
    indicator = load_taxonomy().get("ILO-07")

    assert isinstance(indicator, Indicator)
    assert "Retention of identity documents" == indicator.name


def test_get_unknown_code_suggests_close_codes() -> None:
    """An unknown code raises NotFoundError whose message suggests the nearest known codes."""
    with pytest.raises(NotFoundError) as caught:
        load_taxonomy().get("TIP-FEE")

    assert "'TIP-FEE'" in str(caught.value)
    assert "Did you mean TIP-FEES" in str(caught.value)


def test_get_unknown_code_without_near_match_lists_codes() -> None:
    """A code unlike any known one lists the known codes instead of guessing."""
    with pytest.raises(NotFoundError) as caught:
        load_taxonomy().get("XYZ")

    assert "ILO-01" in str(caught.value)
    assert "TIP-HOUSING" in str(caught.value)


def test_get_is_case_sensitive_but_suggests_the_canonical_code() -> None:
    """Codes are matched exactly; a lower-case or unpadded code is pointed to its canonical form."""
    with pytest.raises(NotFoundError) as caught:
        load_taxonomy().get("ilo-9")

    assert "Did you mean ILO-09" in str(caught.value)


def test_plain_in_unknown_language_is_not_found() -> None:
    """Asking for wording in a language the taxonomy lacks raises NotFoundError naming it."""
    with pytest.raises(NotFoundError, match="'fr'"):
        load_taxonomy().get("ILO-01").plain("fr")


def test_codes_and_membership() -> None:
    """codes lists every code in file order and `in` tests membership by code."""
    taxonomy = load_taxonomy()

    assert "ILO-01" == taxonomy.codes[0]
    assert len(taxonomy) == len(taxonomy.codes)
    assert "TIP-DOCS" in taxonomy
    assert "TIP-NOPE" not in taxonomy


# --- validate_codes --------------------------------------------------------------------------


def test_validate_codes_returns_known_codes_in_order_without_duplicates() -> None:
    """Known codes come back as a tuple, in the order given, each once."""
    assert ("TIP-FEES", "ILO-09") == validate_codes(["TIP-FEES", "ILO-09", "TIP-FEES"])


def test_validate_codes_accepts_an_empty_collection() -> None:
    """Citing no indicator is allowed; whether a finding must cite one is the caller's rule."""
    assert () == validate_codes([])


def test_validate_codes_names_every_unknown_code() -> None:
    """All unknown codes are reported at once, each with a suggestion."""
    with pytest.raises(ValidationError) as caught:
        validate_codes(["ILO-09", "ILO-12", "TIP-DOC"])

    message = str(caught.value)
    assert "'ILO-12'" in message
    assert "'TIP-DOC'" in message
    assert "TIP-DOCS" in message


def test_validate_codes_refuses_a_bare_string() -> None:
    """A single string is refused instead of being checked character by character."""
    with pytest.raises(ValidationError, match="single string"):
        validate_codes("ILO-09")


def test_validate_codes_refuses_non_strings() -> None:
    """Codes must be strings."""
    with pytest.raises(ValidationError, match="strings"):
        validate_codes([9])  # type: ignore[list-item]


def test_validate_codes_against_a_given_taxonomy(tmp_path: Path) -> None:
    """validate_codes checks against the taxonomy passed in, not only the packaged one."""
    taxonomy = load_taxonomy(_write(tmp_path, _document()))

    assert ("TIP-DOCS",) == validate_codes(["TIP-DOCS"], taxonomy=taxonomy)
    with pytest.raises(ValidationError):
        validate_codes(["ILO-09"], taxonomy=taxonomy)


# --- loading other files ---------------------------------------------------------------------


def _document() -> dict[str, Any]:
    """A minimal valid taxonomy with two cross-linked indicators."""
    return {
        "version": "9.9",
        "title": "test taxonomy",
        "sources": [{"id": "src", "citation": "A source.", "url": "https://example.org/src"}],
        "indicators": [
            {
                "code": "ILO-01",
                "kind": "ilo_forced_labour",
                "name": "First",
                "definition": "The first indicator.",
                "sources": [{"id": "src", "pointer": "item 1"}],
                "plain_language": {"en": "It happened.", "es": "Pasó."},
                "related": ["TIP-DOCS"],
                "htcds": [{"field": "vic_MethodsOfControl", "value": "FalsePromises"}],
            },
            {
                "code": "TIP-DOCS",
                "kind": "trafficking_act",
                "name": "Second",
                "definition": "The second indicator.",
                "sources": [{"id": "src", "pointer": "item 2"}],
                "plain_language": {"en": "It happened too.", "es": "También pasó."},
                "related": ["ILO-01"],
                "htcds": [],
                "htcds_note": "Nothing fits.",
            },
        ],
    }


def _write(tmp_path: Path, document: object, name: str = "taxonomy.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def test_a_valid_file_loads(tmp_path: Path) -> None:
    """A well-formed file given by path loads with its own version and indicators."""
    taxonomy = load_taxonomy(_write(tmp_path, _document()))

    assert isinstance(taxonomy, Taxonomy)
    assert "9.9" == taxonomy.version
    assert ("ILO-01", "TIP-DOCS") == taxonomy.codes
    assert "Pasó." == taxonomy.get("ILO-01").plain("es")
    assert () == taxonomy.get("TIP-DOCS").htcds


def test_a_file_given_by_path_is_read_afresh(tmp_path: Path) -> None:
    """Only the packaged taxonomy is cached; an explicit path reflects edits to the file."""
    document = _document()
    path = _write(tmp_path, document)
    load_taxonomy(path)
    document["version"] = "10.0"
    _write(tmp_path, document)

    assert "10.0" == load_taxonomy(path).version


def test_the_packaged_file_loads_by_path_too() -> None:
    """The packaged file passes the same validation when loaded by path."""
    from importlib import resources

    path = Path(str(resources.files("tipaudit.core") / "data" / "indicators.yaml"))

    assert load_taxonomy().codes == load_taxonomy(path).codes


def _without(key: str, index: int = 1) -> dict[str, Any]:
    document = _document()
    del document["indicators"][index][key]
    return document


def _with(index: int, **changes: Any) -> dict[str, Any]:
    document = _document()
    document["indicators"][index].update(changes)
    return document


def _duplicate_code() -> dict[str, Any]:
    document = _document()
    clone = copy.deepcopy(document["indicators"][0])
    clone["related"] = []
    document["indicators"].append(clone)
    return document


def _without_spanish() -> dict[str, Any]:
    document = _document()
    del document["indicators"][1]["plain_language"]["es"]
    return document


MALFORMED = [
    pytest.param(
        _without("definition"),
        ["indicators[1] (code 'TIP-DOCS')", "missing key(s) definition"],
        id="missing-key",
    ),
    pytest.param(
        _duplicate_code(),
        ["indicators[2] (code 'ILO-01')", "duplicate code", "indicators[0]"],
        id="duplicate-code",
    ),
    pytest.param(
        _with(1, related=["ILO-01", "ILO-02"]),
        ["indicators[1] (code 'TIP-DOCS')", "related code 'ILO-02' is not defined"],
        id="unknown-related-code",
    ),
    pytest.param(
        _with(0, related=["ILO-01"]),
        ["indicators[0] (code 'ILO-01')", "related lists the code itself"],
        id="self-related",
    ),
    pytest.param(
        _without_spanish(),
        ["indicators[1] (code 'TIP-DOCS')", "lacks language(s) es"],
        id="missing-spanish",
    ),
    pytest.param(
        _with(0, plain_language={"en": "It happened.", "es": "  "}),
        ["indicators[0] (code 'ILO-01')", "plain_language.es"],
        id="blank-spanish",
    ),
    pytest.param(
        _with(0, sources=[{"id": "nope", "pointer": "p. 1"}]),
        ["indicators[0] (code 'ILO-01') sources[0]", "unknown source id 'nope'"],
        id="unknown-source-id",
    ),
    pytest.param(
        _with(0, sources=[]),
        ["indicators[0] (code 'ILO-01')", "at least one source"],
        id="no-citation",
    ),
    pytest.param(
        _with(1, code="tip-docs", related=[]),
        ["indicators[1] (code 'tip-docs')", "code must look like"],
        id="bad-code-pattern",
    ),
    pytest.param(
        _with(1, kind="ilo_forced_labour"),
        ["indicators[1] (code 'TIP-DOCS')", "must start with ILO-"],
        id="kind-prefix-mismatch",
    ),
    pytest.param(
        _with(1, kind="rumour"),
        ["indicators[1] (code 'TIP-DOCS')", "kind must be one of"],
        id="unknown-kind",
    ),
    pytest.param(
        _with(0, plain_langauge={"en": "typo"}),
        ["indicators[0] (code 'ILO-01')", "unknown key(s) plain_langauge"],
        id="unknown-key",
    ),
    pytest.param(
        _without("htcds_note"),
        ["indicators[1] (code 'TIP-DOCS')", "htcds_note"],
        id="empty-htcds-without-note",
    ),
    pytest.param(
        _with(0, htcds=[{"field": "MethodsOfControl", "value": "DebtBondage"}]),
        ["indicators[0] (code 'ILO-01') htcds[0]", "not an HTCDS field name"],
        id="bad-htcds-field",
    ),
    pytest.param(
        _with(0, htcds=[{"field": "vic_MethodsOfControl"}]),
        ["indicators[0] (code 'ILO-01') htcds[0]", "missing key(s) value"],
        id="htcds-without-value-key",
    ),
    pytest.param(
        _with(0, htcds=[{"field": "vic_MethodsOfControl", "value": None}]),
        ["indicators[0] (code 'ILO-01') htcds[0]", "value must be non-empty text"],
        id="htcds-null-value",
    ),
    pytest.param(
        {**_document(), "version": 2026.1},
        ["top level", "version must be quoted text"],
        id="unquoted-version",
    ),
    pytest.param(
        {key: value for key, value in _document().items() if key != "sources"},
        ["top level", "missing key(s) sources"],
        id="missing-top-level-key",
    ),
    pytest.param(
        {**_document(), "indicators": []},
        ["top level", "at least one indicator"],
        id="no-indicators",
    ),
    pytest.param(
        {**_document(), "indicators": ["ILO-01"]},
        ["indicators[0]", "expected a mapping, got text"],
        id="indicator-not-a-mapping",
    ),
    pytest.param(
        [_document()],
        ["top level", "expected a mapping, got a list"],
        id="list-instead-of-mapping",
    ),
    pytest.param(
        None,
        ["top level", "expected a mapping, got nothing"],
        id="empty-file",
    ),
]


@pytest.mark.parametrize(("document", "expected_parts"), MALFORMED)
def test_malformed_file_is_refused_naming_file_and_entry(
    tmp_path: Path, document: object, expected_parts: list[str]
) -> None:
    """A malformed taxonomy raises ValidationError whose message names the file and the entry."""
    path = _write(tmp_path, document)

    with pytest.raises(ValidationError) as caught:
        load_taxonomy(path)

    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    for part in expected_parts:
        assert part in message


def test_text_that_is_not_yaml_is_refused(tmp_path: Path) -> None:
    """Broken YAML raises ValidationError naming the file and the line of the problem."""
    path = tmp_path / "broken.yaml"
    path.write_text('version: "1"\nindicators: [unclosed\ntitle: x\n', encoding="utf-8")

    with pytest.raises(ValidationError) as caught:
        load_taxonomy(path)

    assert str(caught.value).startswith(f"{path}: line 3, column")
    assert "not valid YAML" in str(caught.value)


def test_prose_instead_of_yaml_is_refused(tmp_path: Path) -> None:
    """A file of prose parses as one YAML string and is refused as not a mapping."""
    path = tmp_path / "prose.yaml"
    path.write_text("These are the indicators we care about.\n", encoding="utf-8")

    with pytest.raises(ValidationError, match="top level: expected a mapping, got text"):
        load_taxonomy(path)


def test_binary_file_is_refused(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 raise ValidationError naming the file."""
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"\xff\xfe\x00\x81 not text")

    with pytest.raises(ValidationError) as caught:
        load_taxonomy(path)

    assert str(caught.value).startswith(f"{path}: ")


def test_duplicate_yaml_key_is_refused(tmp_path: Path) -> None:
    """A key given twice in one entry is refused instead of the first silently being dropped."""
    path = _write(tmp_path, _document())
    text = path.read_text(encoding="utf-8").replace(
        "  related:\n  - ILO-01\n", "  related:\n  - ILO-01\n  related: []\n", 1
    )
    path.write_text(text, encoding="utf-8")

    with pytest.raises(ValidationError) as caught:
        load_taxonomy(path)

    assert str(caught.value).startswith(f"{path}: line ")
    assert "duplicate key 'related'" in str(caught.value)


def test_python_object_tags_are_refused(tmp_path: Path) -> None:
    """The loader is safe: a YAML tag that would build a Python object is refused."""
    path = tmp_path / "evil.yaml"
    path.write_text("version: !!python/object/apply:os.getcwd []\n", encoding="utf-8")

    with pytest.raises(ValidationError, match="not valid YAML"):
        load_taxonomy(path)


def test_missing_file_is_not_found(tmp_path: Path) -> None:
    """A path that does not exist raises NotFoundError naming it."""
    path = tmp_path / "absent.yaml"

    with pytest.raises(NotFoundError, match=r"absent\.yaml"):
        load_taxonomy(path)


def _write_json(tmp_path: Path, document: object, name: str = "taxonomy.yaml") -> Path:
    """JSON is YAML too, and dumping it is much faster for big test files."""
    path = tmp_path / name
    path.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def _many(count: int) -> dict[str, Any]:
    document = _document()
    template = document["indicators"][1]
    document["indicators"] = [
        {**template, "code": f"TIP-X{n:05d}", "related": [f"TIP-X{(n + 1) % count:05d}"]}
        for n in range(count)
    ]
    return document


def test_huge_file_is_refused_quickly(tmp_path: Path) -> None:
    """A file of 10,000 entries exceeds the size limit and is refused before YAML parsing."""
    path = _write_json(tmp_path, _many(10_000))
    assert path.stat().st_size > MAX_FILE_BYTES

    started = time.perf_counter()
    with pytest.raises(ValidationError) as caught:
        load_taxonomy(path)
    elapsed = time.perf_counter() - started

    assert str(caught.value).startswith(f"{path}: file: ")
    assert "limit" in str(caught.value)
    assert elapsed < 1.0


def test_large_file_within_the_limit_is_fully_validated(tmp_path: Path) -> None:
    """Hundreds of entries under the size limit load, and an error in the last one is named."""
    document = _many(500)
    path = _write_json(tmp_path, document)
    assert path.stat().st_size <= MAX_FILE_BYTES

    assert 500 == len(load_taxonomy(path))

    document["indicators"][-1]["related"] = ["TIP-MISSING"]
    _write_json(tmp_path, document)
    with pytest.raises(ValidationError, match=r"indicators\[499\] \(code 'TIP-X00499'\)"):
        load_taxonomy(path)
