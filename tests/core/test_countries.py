"""Country resolution: names, codes, translations, aliases and the ground truth in ../shared."""

# Asserts read `expected == actual` (the project test style), which SIM300 calls Yoda.

from __future__ import annotations

import csv
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import shared_path
from tipaudit.core import countries
from tipaudit.core.countries import (
    KOSOVO,
    METHODS,
    Country,
    Resolution,
    all_countries,
    country_from_org_id,
    get_country,
    load_aliases,
    resolve_country,
)
from tipaudit.errors import NotFoundError, ValidationError

REASON_CATEGORIES = ("empty", "ambiguous", "not a country", "unknown")


def _code(resolution: Resolution) -> str | None:
    return resolution.country.alpha3 if resolution.country else None


def _category(resolution: Resolution) -> str:
    return resolution.reason.split(":", 1)[0]


def _report(unresolved: dict[str, str]) -> str:
    lines = [f"  {name!r}: {reason}" for name, reason in sorted(unresolved.items())]
    return "names that did not resolve as expected:\n" + "\n".join(lines)


# --- the case table --------------------------------------------------------------------------

RESOLVED_CASES = [
    # (text, alpha-3, method)
    ("México   ", "MEX", "name"),
    ("Mexico", "MEX", "name"),
    ("MEXICO", "MEX", "name"),
    ("Mexico.", "MEX", "name"),
    ("  United   Kingdom ", "GBR", "name"),
    ("Republica Moldova", "MDA", "translation"),
    ("Молдова", "MDA", "translation"),
    ("Україна", "UKR", "translation"),
    ("Украина", "UKR", "translation"),
    ("España", "ESP", "translation"),
    ("Espana", "ESP", "translation"),
    ("Alemania", "DEU", "translation"),
    ("Deutschland", "DEU", "translation"),
    ("中国", "CHN", "translation"),
    ("المغرب", "MAR", "translation"),
    ("Հայաստան", "ARM", "translation"),
    ("Россия", "RUS", "alias"),
    ("UK", "GBR", "alias"),
    ("U.K.", "GBR", "alias"),
    ("uk", "GBR", "alias"),
    ("USA", "USA", "alpha3"),
    ("U.S.", "USA", "alpha2"),
    ("Britain", "GBR", "alias"),
    ("England", "GBR", "alias"),
    ("Russia", "RUS", "alias"),
    ("Vietnam", "VNM", "name"),
    ("Viet Nam", "VNM", "name"),
    ("Laos", "LAO", "name"),
    ("Syria", "SYR", "name"),
    ("Burma", "MMR", "alias"),
    ("Ivory Coast", "CIV", "alias"),
    ("Côte d'Ivoire", "CIV", "name"),
    ("Cote d'Ivoire", "CIV", "name"),
    ("C\u00f4te d\u2019Ivoire", "CIV", "name"),  # a typographic apostrophe
    ("Czechia", "CZE", "name"),
    ("Czech Republic", "CZE", "name"),
    ("Swaziland", "SWZ", "alias"),
    ("Eswatini", "SWZ", "name"),
    ("Macedonia", "MKD", "alias"),
    ("North Macedonia", "MKD", "name"),
    ("Cabo Verde", "CPV", "name"),
    ("Cape Verde", "CPV", "alias"),
    ("East Timor", "TLS", "alias"),
    ("Timor-Leste", "TLS", "name"),
    ("Turkey", "TUR", "alias"),
    ("Türkiye", "TUR", "name"),
    ("Turkiye", "TUR", "name"),
    ("Turkey (Türkiye)", "TUR", "alias"),
    ("Congo, Democratic Republic of the", "COD", "name"),
    ("Democratic Republic of the Congo", "COD", "name"),
    ("Congo (the Democratic Republic of the)", "COD", "name"),
    ("DRC", "COD", "alias"),
    ("Congo, Republic of the", "COG", "name"),
    ("Republic of the Congo", "COG", "name"),
    ("Korea, Republic of", "KOR", "name"),
    ("Republic of Korea", "KOR", "name"),
    ("South Korea", "KOR", "name"),
    ("Korea, Democratic People's Republic of", "PRK", "name"),
    ("North Korea", "PRK", "name"),
    ("Bolivia (Plurinational State of)", "BOL", "name"),
    ("Iran, Islamic Republic of", "IRN", "name"),
    ("Iran (Islamic Republic of)", "IRN", "name"),
    ("Bahamas (the)", "BHS", "name"),
    ("The Gambia", "GMB", "name"),
    ("Gambia, The", "GMB", "name"),
    ("St. Kitts & Nevis", "KNA", "name"),
    ("St Lucia", "LCA", "name"),
    ("Saint Helena, Ascension, and Tristan da Cunha", "SHN", "name"),
    ("Falkland Islands (Islas Malvinas)", "FLK", "alias"),
    ("Virgin Islands (U.S.)", "VIR", "name"),
    ("Virgin Islands (British)", "VGB", "name"),
    ("Hong Kong, China", "HKG", "alias"),
    ("West Bank and the Gaza Strip", "PSE", "alias"),
    ("Mexico (MX)", "MEX", "name"),
    ("E.E.U.U.", "USA", "alias"),
    ("Estados Unidos de Norteamerica", "USA", "alias"),
    ("TR", "TUR", "alpha2"),
    ("tr", "TUR", "alpha2"),
    ("TUR", "TUR", "alpha3"),
    (" tur ", "TUR", "alpha3"),
    ("792", "TUR", "numeric"),
    ("068", "BOL", "numeric"),
    ("MX", "MEX", "alpha2"),
    ("AM", "ARM", "alpha2"),
    ("Kosovo", "XKX", "name"),
    ("Republic of Kosovo", "XKX", "name"),
    ("XK", "XKX", "alpha2"),
    ("XKX", "XKX", "alpha3"),
    ("Kosova", "XKX", "alias"),
]


@pytest.mark.parametrize(("text", "alpha3", "method"), RESOLVED_CASES)
def test_resolves_names_codes_and_translations(text: str, alpha3: str, method: str) -> None:
    """Each text in the case table resolves to its country by the expected method."""
    resolution = resolve_country(text)
    assert (alpha3, method, "") == (_code(resolution), resolution.method, resolution.reason)
    assert resolution.ok
    assert text == resolution.query


UNRESOLVED_CASES = [
    # (text, reason category, words the reason must contain)
    ("", "empty", ()),
    ("   ", "empty", ()),
    ("--", "empty", ()),
    ("Europe", "not a country", ("continent",)),
    ("European Union", "not a country", ("union",)),
    ("EU", "not a country", ("European Union",)),
    ("Global", "not a country", ("placeholder",)),
    ("Worldwide", "not a country", ("placeholder",)),
    ("Various", "not a country", ("placeholder",)),
    ("N/A", "not a country", ("placeholder",)),
    ("Unknown", "not a country", ("placeholder",)),
    ("None", "not a country", ("placeholder",)),
    ("NA", "not a country", ("Namibia", "NAM")),
    ("USSR", "not a country", ("former",)),
    ("Sub-Saharan Africa", "not a country", ("region",)),
    ("XX", "unknown", ("alpha-2",)),
    ("ZZZ", "unknown", ("alpha-3",)),
    ("999", "unknown", ("numeric",)),
    ("Atlantis", "unknown", ()),
    ("M?XICO", "unknown", ("encoding",)),
    ("CIUDAD DE MEXICO", "unknown", ()),
    ("ESTADO DE MEXICO", "unknown", ()),
    # "Congo" is ISO's short name of COG, but publishers (news, trade and mining texts about
    # cobalt "from Congo") use it for the DRC too: never guessed, both candidates named.
    ("Congo", "ambiguous", ("COG", "COD")),
    ("Kongo", "ambiguous", ("COG", "COD")),
    ("Korea", "ambiguous", ("KOR", "PRK")),
    ("Virgin Islands", "ambiguous", ("VGB", "VIR")),
    ("Georgia, USA", "ambiguous", ("GEO", "USA")),
    ("Georgia (US state)", "unknown", ("GEO", "US state")),
]


@pytest.mark.parametrize(("text", "category", "words"), UNRESOLVED_CASES)
def test_reports_what_it_cannot_resolve(text: str, category: str, words: tuple[str, ...]) -> None:
    """Empty text, non-countries, unknown and ambiguous names stay unresolved with a reason."""
    resolution = resolve_country(text)
    assert (None, "", category) == (resolution.country, resolution.method, _category(resolution))
    assert not resolution.ok
    for word in words:
        assert word in resolution.reason


def test_ambiguous_translation_names_both_candidates() -> None:
    """A name pycountry's catalogues give to two countries is ambiguous, naming both."""
    resolution = resolve_country("Litwiya")  # Turkmen catalogue: Lithuania and Latvia
    assert "ambiguous" == _category(resolution)
    assert "LTU" in resolution.reason
    assert "LVA" in resolution.reason


def test_english_iso_names_win_over_translation_errors() -> None:
    """The Guarani catalogue calls Malaysia "Mexico"; the English ISO name still decides."""
    assert "MEX" == _code(resolve_country("Mexico"))
    assert "WSM" == _code(resolve_country("Samoa"))


def test_two_letter_text_that_is_no_code_stays_unresolved() -> None:
    """Only ISO alpha-2 codes (and the UK alias) are read from two letters."""
    for text in ("XX", "QQ", "EL", "ZZ", "AA"):
        assert None is resolve_country(text).country, text


def test_repairs_utf8_read_as_windows_1252() -> None:
    """UTF-8 decoded as Windows-1252 is repaired exactly, and the repair is recorded."""
    resolution = resolve_country("Côte d'Ivoire".encode().decode("cp1252"))
    assert ("CIV", "name") == (_code(resolution), resolution.method)
    assert "Côte d'Ivoire" in resolution.reason


def test_names_are_english_as_people_say_them() -> None:
    """Country.name is the everyday English short name; official names are kept too."""
    expected = {
        "TUR": "Türkiye",
        "CIV": "Côte d'Ivoire",
        "COD": "Democratic Republic of the Congo",
        "COG": "Republic of the Congo",
        "KOR": "South Korea",
        "BOL": "Bolivia",
        "RUS": "Russia",
        "GBR": "United Kingdom",
        "XKX": "Kosovo",
    }
    assert expected == {code: get_country(code).name for code in expected}
    assert "United Kingdom of Great Britain and Northern Ireland" == get_country("GB").official_name


# --- org-id prefixes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scheme", "alpha3"),
    [
        ("MX-RFC", "MEX"),
        ("GB-COH", "GBR"),
        ("GB-CHC", "GBR"),
        ("UA-EDR", "UKR"),
        ("MD-IDNO", "MDA"),
        ("PY-PGE", "PRY"),
        ("AU-ABN", "AUS"),
        (" gb-coh ", "GBR"),
        ("GB-COH-01234567", "GBR"),
    ],
)
def test_org_id_prefix_names_the_registering_country(scheme: str, alpha3: str) -> None:
    """The first two letters of an org-id.guide scheme are the register's country."""
    resolution = country_from_org_id(scheme)
    assert (alpha3, "org_id_prefix") == (_code(resolution), resolution.method)


@pytest.mark.parametrize(
    ("scheme", "category"),
    [
        ("XI-LEI", "not a country"),
        ("XI-IATI", "not a country"),
        ("XM-DAC", "not a country"),
        ("XE-EXAMPLE", "not a country"),
        ("UK-COH", "unknown"),  # org-id.guide uses GB; UK is no ISO alpha-2 code
        ("ZZ-ABC", "unknown"),
        ("GBCOH", "unknown"),
        ("", "empty"),
    ],
)
def test_org_id_prefixes_that_are_no_country(scheme: str, category: str) -> None:
    """International and multilateral prefixes, and malformed schemes, are not countries."""
    resolution = country_from_org_id(scheme)
    assert (None, category) == (resolution.country, _category(resolution))


# --- codes and the country list --------------------------------------------------------------


def test_all_countries_are_iso_3166_1_and_kosovo() -> None:
    """249 ISO 3166-1 entries plus Kosovo, with unique codes, in alpha-2 order."""
    every = all_countries()
    assert 250 == len(every)
    assert KOSOVO in every
    assert len(every) == len({c.alpha2 for c in every}) == len({c.alpha3 for c in every})
    assert sorted(c.alpha2 for c in every) == [c.alpha2 for c in every]
    assert "" == KOSOVO.numeric


def test_get_country_by_any_code() -> None:
    """get_country reads alpha-2, alpha-3 and numeric codes in any case."""
    turkey = get_country("TR")
    assert turkey == get_country("tur") == get_country(" 792 ")
    assert Country("TR", "TUR", "792", "Türkiye", "Republic of Türkiye") == turkey


@pytest.mark.parametrize("code", ["", "XX", "UK", "Mexico", "1000", "000", "GB-COH"])
def test_get_country_refuses_unknown_codes(code: str) -> None:
    """Anything but a code raises NotFoundError (names go to resolve_country)."""
    with pytest.raises(NotFoundError):
        get_country(code)


def test_every_country_resolves_by_its_codes_and_name() -> None:
    """Each country's codes, name and official name resolve to it (NA excepted, see below)."""
    problems = []
    for country in all_countries():
        texts = [country.alpha3, country.name, country.official_name]
        if country.alpha2 != "NA":  # NA is the "not available" placeholder before Namibia
            texts.append(country.alpha2)
        if country.numeric:
            texts.append(country.numeric)
        for text in filter(None, texts):
            resolution = resolve_country(text)
            if resolution.country != country:
                problems.append(f"{text!r}: {resolution.country} {resolution.reason}")
    assert [] == problems


# --- properties ------------------------------------------------------------------------------


@given(st.text(max_size=80))
def test_arbitrary_text_never_raises(text: str) -> None:
    """Any text gives a Resolution; a country found round-trips through get_country."""
    resolution = resolve_country(text)
    assert isinstance(resolution, Resolution)
    assert text == resolution.query
    if resolution.ok:
        assert resolution.country is not None
        assert resolution.method in METHODS
        assert resolution.country == get_country(resolution.country.alpha2)
        assert resolution.country == get_country(resolution.country.alpha3)
    else:
        assert "" == resolution.method
        assert _category(resolution) in REASON_CATEGORIES


@given(st.text(alphabet=st.characters(exclude_categories=()), max_size=40))
def test_any_code_point_never_raises(text: str) -> None:
    """Surrogates, controls and unassigned code points are handled like any text."""
    assert text == resolve_country(text).query
    assert text == country_from_org_id(text).query


@pytest.mark.parametrize(
    "text",
    ["\ud800", "\x00", "(", ")", ",", "()", "a,b,c", "((x))", "?!", "x" * 10_000, "Ã"],
)
def test_odd_text_is_reported_not_raised(text: str) -> None:
    """Odd punctuation, control characters and very long text are unresolved, not errors."""
    resolution = resolve_country(text)
    assert (None, "") == (resolution.country, resolution.method)
    assert _category(resolution) in REASON_CATEGORIES


def test_indexes_are_built_lazily_not_at_import() -> None:
    """Importing the module builds nothing; the first lookup builds the indexes once."""
    script = (
        "import tipaudit.core.countries as c\n"
        "assert c._index.cache_info().currsize == 0\n"
        "c.resolve_country('Mexico'); c.resolve_country('Perú')\n"
        "assert c._index.cache_info().misses == 1\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)


# --- the alias file --------------------------------------------------------------------------


def test_every_packaged_alias_resolves_to_its_code() -> None:
    """Each alias in the packaged file resolves, by alias, to the code it names."""
    aliases = load_aliases()
    problems = []
    for key, alpha3 in aliases.aliases.items():
        label = aliases.labels[key]
        resolution = resolve_country(label)
        if (alpha3, "alias") != (_code(resolution), resolution.method):
            problems.append(f"{label!r} -> {_code(resolution)} {resolution.reason}")
    assert [] == problems
    assert len(aliases.aliases) > 50


def test_every_packaged_entry_says_why() -> None:
    """Every alias, ambiguous name and display name carries a comment on its line."""
    path = Path(countries.__file__).parent / "data" / "country_aliases.yaml"
    section = ""
    missing = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line and not line.startswith((" ", "#")):
            section = line.split(":", 1)[0]
        elif (
            line.startswith("  ")
            and not line.lstrip().startswith("#")
            and section in {"aliases", "ambiguous", "display_names"}
            and "#" not in line
        ):
            missing.append(f"line {number}: {line.strip()}")
    assert [] == missing


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "aliases.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("aliases:\n  Freedonia: FRD\n", ("'Freedonia'", "FRD", "not an ISO")),
        ("aliases:\n  Freedonia: mex\n", ("'Freedonia'", "upper-case")),
        ("aliases:\n  UK: GBR\n  U.K.: GBR\n", ("'U.K.'", "normalises")),
        ("aliases:\n  UK: GBR\n  UK: GBR\n", ("duplicate key",)),
        ("aliases:\n  Mexico: USA\n", ("'Mexico'", "MEX")),
        ("aliases:\n  MX: USA\n", ("'MX'", "MEX")),
        ("ambiguous:\n  Congo: [COG]\n", ("'Congo'", "two or more")),
        ("not_countries:\n  Mars: ''\n", ("'Mars'", "why")),
        ("display_names:\n  FRD: Freedonia\n", ("FRD",)),
        ("colours:\n  red: 1\n", ("colours",)),
        ("aliases: [1, 2]\n", ("aliases", "mapping")),
        ("aliases:\n  - : :\n", ("YAML",)),
    ],
)
def test_a_bad_alias_file_is_refused_naming_file_and_entry(
    tmp_path: Path, text: str, words: tuple[str, ...]
) -> None:
    """Unknown codes, clashes and malformed entries raise ValidationError naming file and entry."""
    path = _write(tmp_path, text)
    with pytest.raises(ValidationError) as caught:
        load_aliases(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    for word in words:
        assert word in message


def test_a_good_alias_file_loads(tmp_path: Path) -> None:
    """A small valid file loads, with names keyed by their normalised form."""
    path = _write(
        tmp_path,
        "aliases:\n  Blighty: GBR  # slang\nambiguous:\n  Guineas: [GIN, GNB]\n"
        "not_countries:\n  Narnia: a fictional country\ndisplay_names:\n  GBR: UK\n",
    )
    loaded = load_aliases(path)
    assert {"blighty": "GBR"} == dict(loaded.aliases)
    assert {"guineas": ("GIN", "GNB")} == dict(loaded.ambiguous)
    assert {"narnia": "a fictional country"} == dict(loaded.not_countries)
    assert {"GBR": "UK"} == dict(loaded.display_names)


def test_a_missing_alias_file_is_not_found(tmp_path: Path) -> None:
    """A path that does not exist raises NotFoundError."""
    with pytest.raises(NotFoundError):
        load_aliases(tmp_path / "absent.yaml")


# --- ground truth: TIP tier placements (ISO3 codes) ------------------------------------------

# map_tiers.csv codes that are not ISO 3166-1: Kosovo's "KOS" is our user-assigned XKX.
TIP_NON_ISO_CODES = {"KOS": "XKX"}
# Names the file resolves that we deliberately do not: "Congo" (the file means COG) is used for
# both Congos in real text, so it stays ambiguous; an importer should read the file's iso column.
TIP_DELIBERATELY_UNRESOLVED = {"Congo": "ambiguous"}


@pytest.mark.shared
def test_tip_tier_country_names_resolve_to_their_iso3() -> None:
    """All 193 names in map_tiers.csv resolve to exactly the file's ISO3 code."""
    path = shared_path("data", "tip-tiers", "map_tiers.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        pairs = {(row["countryname"], row["iso"]) for row in csv.DictReader(handle)}
    assert 193 == len(pairs)
    wrong: dict[str, str] = {}
    for name, iso in sorted(pairs):
        resolution = resolve_country(name)
        if name in TIP_DELIBERATELY_UNRESOLVED:
            if TIP_DELIBERATELY_UNRESOLVED[name] != _category(resolution):
                wrong[name] = f"expected to stay {TIP_DELIBERATELY_UNRESOLVED[name]}"
            continue
        expected = TIP_NON_ISO_CODES.get(iso, iso)
        if expected != _code(resolution):
            wrong[name] = f"file says {iso}, got {_code(resolution)} {resolution.reason}"
    assert {} == wrong, _report(wrong)


# --- ground truth: US DOL ILAB goods list and country profiles -------------------------------


def _ilab_names() -> dict[str, set[str]]:
    """Every country name in the ILAB files, with the files it appears in."""
    folder = shared_path("data", "ilab-goods")
    names: dict[str, set[str]] = {}
    for path in sorted(folder.glob("goods_*.xml")):
        root = ET.parse(path).getroot()
        for element in root.iter("Country_Name"):
            names.setdefault((element.text or "").strip(), set()).add(path.name)
        for element in root.iter("Derived_Country"):  # "No" when the row is not derived
            if (element.text or "").strip() not in {"", "No"}:
                names.setdefault((element.text or "").strip(), set()).add(path.name)
    profiles = folder / "countries_2021.xml"
    root = ET.parse(profiles).getroot()
    for country in root.iter("Country"):
        names.setdefault((country.findtext("Name") or "").strip(), set()).add(profiles.name)
    return names


@pytest.mark.shared
def test_every_ilab_country_name_resolves() -> None:
    """Every country name in goods_*.xml and countries_2021.xml resolves to a country."""
    names = _ilab_names()
    unresolved = {
        name: resolve_country(name).reason for name in names if not resolve_country(name).ok
    }
    assert {} == unresolved, _report(unresolved)
    assert 140 < len(names)


@pytest.mark.shared
def test_ilab_names_that_need_care_resolve_as_meant() -> None:
    """ILAB's own spellings resolve to the countries it means."""
    names = _ilab_names()
    expected = {
        "Congo, Democratic Republic of the": "COD",
        "Congo, Republic of the": "COG",
        "Turkey (Türkiye)": "TUR",
        "Burma": "MMR",
        "Kosovo": "XKX",
        "West Bank and the Gaza Strip": "PSE",
        "Falkland Islands (Islas Malvinas)": "FLK",
        "Saint Helena, Ascension, and Tristan da Cunha": "SHN",
        "Kyrgyz Republic": "KGZ",
        "The Gambia": "GMB",
        "North Korea": "PRK",
        "São Tomé and Príncipe": "STP",
    }
    assert set(expected) <= set(names)
    assert expected == {name: _code(resolve_country(name)) for name in expected}


@pytest.mark.shared
def test_ilab_country_profiles_name_distinct_countries() -> None:
    """The 143 country profiles resolve to 143 different countries: no two names collapse."""
    profiles = shared_path("data", "ilab-goods", "countries_2021.xml")
    root = ET.parse(profiles).getroot()
    names = [(country.findtext("Name") or "").strip() for country in root.iter("Country")]
    codes = {_code(resolve_country(name)) for name in names}
    assert 143 == len(names) == len(codes)


# --- ground truth: Walk Free Global Slavery Index 2023 workbook ------------------------------

GSI_COUNTRY_COLUMNS = {
    # sheet: the header cells of its country columns
    "GSI 2023 summary data": ("Country",),
    "Govt response - Indicators": ("Country",),
    "Govt response - Activities": ("Country",),
    "G20 Importing Risk": ("origin_country", "importer"),
}
# BACI (CEPII) trade codes that differ from the ISO 3166-1 numeric code of the same country:
# BACI keeps the UN Comtrade "including" codes (France with Monaco, Norway with Svalbard, India
# with Sikkim, Switzerland with Liechtenstein, the USA with Puerto Rico and the US Virgin
# Islands) and the withdrawn code 849 of the US Miscellaneous Pacific Islands, now part of UM.
BACI_NON_ISO_CODES = {
    "251": "250",
    "579": "578",
    "699": "356",
    "757": "756",
    "842": "840",
    "849": "581",
}
# BACI names that are not (today's) countries, and the one ambiguous name, with the reason.
BACI_NOT_COUNTRIES = {
    "Belgium-Luxembourg": "not a country",  # a customs-union aggregate (code 58)
    "Czechoslovakia": "not a country",  # former country (code 200)
    "Fmr Dem. Rep. of Germany": "not a country",  # former country (code 278)
    "Fmr Fed. Rep. of Germany": "not a country",  # West Germany before 1990 (code 280)
    "Fmr Sudan": "not a country",  # Sudan before 2011, now two countries (code 736)
    "Fmr USSR": "not a country",  # former country (code 810)
    "Serbia and Montenegro": "not a country",  # former country (code 891)
    "Neth. Antilles": "not a country",  # former country (code 530)
    "Europe EFTA, nes": "not a country",  # aggregate "not elsewhere specified" (code 697)
    "Other Asia, nes": "not a country",  # aggregate "not elsewhere specified" (code 490)
    "So. African Customs Union": "not a country",  # customs-union aggregate (code 711)
    "Congo": "ambiguous",  # BACI means COG (178); in real text it is either Congo
}


def _gsi_rows(sheet: Any) -> Iterator[tuple[Any, ...]]:
    yield from sheet.iter_rows(values_only=True)


@pytest.fixture(scope="module")
def gsi_workbook() -> Iterator[Any]:
    """The GSI 2023 workbook, read-only (skips when openpyxl or ../shared is missing)."""
    openpyxl = pytest.importorskip("openpyxl", reason="openpyxl reads the GSI workbook")
    path = shared_path("data", "global-slavery-index", "2023-Global-Slavery-Index-Data.xlsx")
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        yield workbook
    finally:
        workbook.close()


def _column_values(sheet: Any, header: str) -> list[str]:
    """The non-empty cells below the first row holding ``header``."""
    values: list[str] = []
    column: int | None = None
    for row in _gsi_rows(sheet):
        if column is None:
            if header in row:
                column = row.index(header)
            continue
        if column < len(row) and isinstance(row[column], str) and row[column].strip():
            values.append(row[column])
    return values


@pytest.mark.shared
def test_every_gsi_country_name_resolves(gsi_workbook: Any) -> None:
    """Every country in the summary, government-response and G20 sheets resolves."""
    names: set[str] = set()
    for sheet, headers in GSI_COUNTRY_COLUMNS.items():
        for header in headers:
            found = _column_values(gsi_workbook[sheet], header)
            assert found, f"{sheet}: no {header} column"
            names.update(found)
    unresolved = {
        name: resolve_country(name).reason for name in names if not resolve_country(name).ok
    }
    assert {} == unresolved, _report(unresolved)
    summary = _column_values(gsi_workbook["GSI 2023 summary data"], "Country")
    assert 180 == len(summary) == len({_code(resolve_country(name)) for name in summary})
    assert "TUR" == _code(resolve_country("Türkiye"))
    assert "COD" == _code(resolve_country("Democratic Republic of the Congo"))


@pytest.mark.shared
def test_gsi_baci_country_codes_match(gsi_workbook: Any) -> None:
    """Each BACI country name resolves to its numeric code, or is a documented non-country."""
    rows = list(_gsi_rows(gsi_workbook["Codebook_BACI"]))
    start = next(i for i, row in enumerate(rows) if row[0] == "Country name") + 1
    pairs = [(str(row[0]), f"{int(row[1]):03d}") for row in rows[start:] if row[0]]
    assert 220 < len(pairs)
    wrong: dict[str, str] = {}
    for name, code in pairs:
        resolution = resolve_country(name)
        if name in BACI_NOT_COUNTRIES:
            if BACI_NOT_COUNTRIES[name] != _category(resolution):
                wrong[name] = f"expected {BACI_NOT_COUNTRIES[name]}, got {resolution}"
            continue
        expected = BACI_NON_ISO_CODES.get(code, code)
        actual = resolution.country.numeric if resolution.country else resolution.reason
        if expected != actual:
            wrong[name] = f"BACI code {code}, got {actual}"
    assert {} == wrong, _report(wrong)


# --- ground truth: OCDS samples --------------------------------------------------------------

# countryName values in the OCDS samples that are not countries, and are rightly not resolved.
OCDS_NOT_COUNTRIES = {
    # sub-national places written where the country belongs (Mexican and UK publishers)
    "CIUDAD DE MEXICO",  # Mexico City
    "DISTRITO FEDERAL",  # Mexico City's former name
    "ESTADO DE MEXICO",  # the State of Mexico, one of Mexico's 32 federal entities
    "CAMPECHE",  # a Mexican state
    "NUEVO LEON",  # a Mexican state
    "CIUDAD DE QUERETARO",  # a Mexican city
    "CIUDAD DE APODACA",  # a Mexican city
    "COYOACAN",  # a borough of Mexico City
    "CUAUHTEMOC",  # a borough of Mexico City
    "GUADALAJARA",  # a Mexican city
    "MORELIA",  # a Mexican city
    "REYNOSA",  # a Mexican city
    "NUNICIPIO DE CUAUTLA",  # a Mexican municipality, misspelt
    "CINCINNATI OHIO",  # a US city
    "CHERTERFIELD",  # a town (Chesterfield), misspelt
    # damaged values
    "M?XICO",  # "MÉXICO" with the É lost to an encoding error
    "M?xico",  # "México" with the é lost to an encoding error
    "MexicoMEXICO",  # two values run together
    # placeholder
    "0",
}
OCDS_EXPECTED = {
    "Mexico": "MEX",
    "México                                  ": "MEX",
    "Mexico.": "MEX",
    "MX": "MEX",
    "AM": "ARM",
    "Україна": "UKR",
    "Украина": "UKR",
    " United Kingdom": "GBR",
    "E.E.U.U.": "USA",
    "Estados Unidos de Norteamerica": "USA",
    "Espana": "ESP",
}


def _country_names(node: Any) -> Iterator[str]:
    """Every countryName in a JSON document, plain or versioned ([{"value": ...}, ...])."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "countryName":
                if isinstance(value, str):
                    yield value
                elif isinstance(value, list):
                    for version in value:
                        if isinstance(version, dict) and isinstance(version.get("value"), str):
                            yield version["value"]
            else:
                yield from _country_names(value)
    elif isinstance(node, list):
        for item in node:
            yield from _country_names(item)


@pytest.mark.shared
def test_every_ocds_country_name_resolves_or_is_a_known_non_country() -> None:
    """Every distinct countryName in the OCDS samples resolves or is a listed non-country."""
    folder = shared_path("data", "ocds", "sample-data-real-examples")
    names: set[str] = set()
    parsed = 0
    for path in sorted(folder.rglob("*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue  # three files are empty at the source commit (see the folder README)
        parsed += 1
        names.update(_country_names(document))
    assert 700 < parsed
    resolved = {name: resolve_country(name) for name in names}
    unexpected = {
        name: r.reason
        for name, r in resolved.items()
        if not r.ok and name not in OCDS_NOT_COUNTRIES
    }
    assert {} == unexpected, _report(unexpected)
    assert set() == OCDS_NOT_COUNTRIES - names, "allow-list entries no longer in the data"
    assert [] == sorted(name for name in OCDS_NOT_COUNTRIES if resolved[name].ok)
    assert OCDS_EXPECTED == {name: _code(resolved[name]) for name in OCDS_EXPECTED}
