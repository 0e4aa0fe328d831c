"""Importing newer editions from publishers' files: served when newer, strict, atomic."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import shared_path
from tests.refdata.conftest import GOODS_2024, write
from tipaudit.errors import ValidationError
from tipaudit.refdata import (
    ReferenceData,
    ReferenceDataError,
    TipTier,
    import_dataset,
    imported_folder,
)
from tipaudit.refdata import importer as importer_module
from tipaudit.settings import Settings

GSI_HEADER = [
    "Country",
    "Population",
    "Region",
    "Estimated prevalence of modern slavery per 1,000 population",
    "Estimated number of people in modern slavery",
    "Governance issues",
    "Lack of basic needs",
    "Inequality",
    "Disenfranchised groups",
    "Effects of conflict",
    "Total Vulnerability score (%)",
    "Survivors of slavery are identified and supported to exit and remain out of modern "
    "slavery (%)",
    "Criminal justice mechanisms function effectively to prevent modern slavery (%)",
    "Coordination occurs at the national and regional level and across borders, and "
    "governments are held to account for their response (%)",
    "Risk factors, such as attitudes, social systems, and institutions that enable modern "
    "slavery are addressed (%)",
    "Government and business stop sourcing goods and services produced by forced labour (%)",
    "Government response total (%)",
]


def _workbook(path: Path, sheet_title: str, rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = sheet_title
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def _gsi_rows(turkiye_prevalence: float) -> list[list[object]]:
    header: list[object] = list(GSI_HEADER)
    return [
        [],
        ["Source: Walk Free 2027, Global Slavery Index 2027."],
        header,
        ["Türkiye", 85_000_000, "Europe and Central Asia", turkiye_prevalence, 1_400_000,
         45.0, 31.0, 42.0, 66.0, 65.0, 50.0, 60.0, 50.0, 60.0, 35.0, 10.0, 45.0],
        ["Afghanistan", 40_000_000, "Asia and the Pacific", None, None,
         75.0, 50.0, 71.0, 73.0, 98.0, 86.0, None, None, None, None, None, None],
        [None],
    ]  # fmt: skip


def _served(settings: Settings) -> dict[str, str]:
    """What a fresh registry serves: kind → edition and checksum."""
    return {
        d.kind.value: f"{d.edition}:{d.origin}:{d.checksum}"
        for d in ReferenceData(settings).datasets()
        if d.serving and d.kind.value != "tip-tiers"
    }


# -- newer editions --------------------------------------------------------------------------


def test_newer_goods_edition_is_served(settings: Settings, tmp_path: Path) -> None:
    """An imported 2024 list serves by default; the bundled 2022 list stays available."""
    info = import_dataset(
        settings, "ilab-goods", write(tmp_path, "goods_2024.xml", GOODS_2024), edition=2024
    )
    assert ("ilab-goods-2024", "2024", 2, "imported", True) == (
        info.id,
        info.edition,
        info.records,
        info.origin,
        info.serving,
    )
    assert "goods_2024.xml" == info.source.file_name
    registry = ReferenceData(settings)
    goods = registry.ilab_goods()
    assert "2024" == goods.edition
    hazelnuts = goods.for_country("TUR")[0]
    assert (True, True) == (hazelnuts.child_labor, hazelnuts.forced_labor)
    solar = goods.for_country("CHN")[0]
    assert (True, "CHN") == (solar.derived, solar.derived_from_iso3)
    assert 467 == len(registry.ilab_goods(2022))
    assert info.path.parent == imported_folder(settings)
    assert info.path.exists()


def test_older_edition_is_kept_but_not_served(settings: Settings, tmp_path: Path) -> None:
    """Importing an edition older than the bundled one stores it without serving it."""
    info = import_dataset(
        settings, "ilab-goods", write(tmp_path, "old.xml", GOODS_2024), edition="2014"
    )
    assert False is info.serving
    registry = ReferenceData(settings)
    assert "2022" == registry.ilab_goods().edition
    assert 2 == len(registry.ilab_goods(2014))


def test_reimporting_an_edition_replaces_it(settings: Settings, tmp_path: Path) -> None:
    """A second import of the same edition replaces the first, leaving one file."""
    first = import_dataset(
        settings, "ilab-goods", write(tmp_path, "a.xml", GOODS_2024), edition=2024
    )
    changed = GOODS_2024.replace(
        "<Forced_Labor>Yes</Forced_Labor>", "<Forced_Labor>No</Forced_Labor>"
    )
    second = import_dataset(settings, "ilab-goods", write(tmp_path, "b.xml", changed), edition=2024)
    assert first.checksum != second.checksum
    assert not first.path.exists()
    imported = [d for d in ReferenceData(settings).datasets() if d.origin == "imported"]
    assert [("ilab-goods-2024", "b.xml")] == [(d.id, d.source.file_name) for d in imported]
    assert False is ReferenceData(settings).ilab_goods().for_country("TUR")[0].forced_labor


def test_gsi_workbook_import(settings: Settings, tmp_path: Path) -> None:
    """A Walk Free workbook: the sheet, header row and edition are found; figures served."""
    path = _workbook(tmp_path / "gsi.xlsx", "GSI 2027 summary data", _gsi_rows(14.5))
    info = import_dataset(settings, "gsi", path)
    assert ("2027", 2, True) == (info.edition, info.records, info.serving)
    assert "Walk Free 2027, The Global Slavery Index 2027, Minderoo Foundation" == (
        info.attribution
    )
    registry = ReferenceData(settings)
    assert 14.5 == registry.gsi("TUR").prevalence_per_1000
    assert None is registry.gsi("AFG").government_response.total
    assert "2023" == registry.gsi_index("2023").edition


def test_gsi_same_shaped_sheet_needs_an_edition(settings: Settings, tmp_path: Path) -> None:
    """A sheet with another name but the same columns is found; --edition then names it."""
    rows = _gsi_rows(9.0)[2:]
    path = _workbook(tmp_path / "export.xlsx", "Sheet1", rows)
    with pytest.raises(ValidationError, match="cannot tell which edition") as caught:
        import_dataset(settings, "gsi", path)
    assert "--edition" in (caught.value.hint or "")
    info = import_dataset(settings, "gsi", path, edition=2026)
    assert ("2026", True) == (info.edition, info.serving)
    with pytest.raises(ValidationError, match="is the 2027 edition, not 2025"):
        import_dataset(
            settings,
            "gsi",
            _workbook(tmp_path / "g.xlsx", "GSI 2027 summary data", _gsi_rows(1.0)),
            edition=2025,
        )


def test_tip_tier_imports_add_years(settings: Settings, tmp_path: Path) -> None:
    """Imported report years are added to the bundled series; an imported year wins."""
    csv_2016 = "countryname,iso,year,tier\nTurkey,TUR,2016,Tier 2\nAfghanistan,AFG,2016,3\n"
    first = import_dataset(settings, "tip-tiers", write(tmp_path, "t16.csv", csv_2016))
    assert ("2016", 2) == (first.edition, first.records)
    labels = "country,year,tier\nTürkiye,2017,Tier 2 Watch List\nTürkiye,2015,Tier 3\n"
    import_dataset(settings, "tip-tiers", write(tmp_path, "t17.csv", labels))
    registry = ReferenceData(settings)
    turkiye = registry.tip_tiers("TUR")
    assert [
        (2014, TipTier.TIER_2),
        (2015, TipTier.TIER_3),
        (2016, TipTier.TIER_2),
        (2017, TipTier.TIER_2_WATCH_LIST),
    ] == [(p.report_year, p.tier) for p in turkiye[-4:]]
    assert (2016, TipTier.TIER_2_WATCH_LIST) == (
        registry.tip_tiers("AFG")[-1].report_year,
        registry.tip_tiers("AFG")[-1].tier,
    )
    assert 3208 + 3 == len(registry.tip_tier_series())
    assert {True} == {d.serving for d in registry.datasets("tip-tiers")}


# -- round trip: the publishers' real files give the bundled records -------------------------


@pytest.mark.shared
@pytest.mark.parametrize(
    ("kind", "parts", "edition"),
    [
        ("ilab-goods", ("ilab-goods", "goods_2016.xml"), "2016"),
        ("ilab-goods", ("ilab-goods", "goods_2018.xml"), "2018"),
        ("ilab-goods", ("ilab-goods", "goods_2019.xml"), "2020"),
        ("ilab-goods", ("ilab-goods", "goods_2021.xml"), "2022"),
        ("ilab-findings", ("ilab-goods", "countries_2021.xml"), "2022"),
        ("gsi", ("global-slavery-index", "2023-Global-Slavery-Index-Data.xlsx"), None),
        ("tip-tiers", ("tip-tiers", "map_tiers.csv"), None),
    ],
)
def test_importing_the_real_files_gives_the_bundled_records(
    settings: Settings, kind: str, parts: tuple[str, ...], edition: str | None
) -> None:
    """Importing each real source file produces byte-identical records to the vendored file."""
    source = shared_path("data", *parts)
    bundled = ReferenceData(settings).dataset(kind, edition)
    imported = import_dataset(settings, kind, source, edition=edition)
    assert (bundled.edition, bundled.records, bundled.checksum) == (
        imported.edition,
        imported.records,
        imported.checksum,
    )
    assert bundled.source.sha256 == imported.source.sha256
    assert "imported" == ReferenceData(settings).dataset(kind, edition).origin


@pytest.mark.shared
def test_real_goods_2017_file_is_the_2018_edition(settings: Settings) -> None:
    """goods_2017.xml (the earlier 2018-edition file) imports with the same 418 pairs."""
    source = shared_path("data", "ilab-goods", "goods_2017.xml")
    info = import_dataset(settings, "ilab-goods", source, edition=2018)
    assert 418 == info.records


# -- refused imports -------------------------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<Goods><Good><Good_Name>&lol4;</Good_Name></Good></Goods>
"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE Goods [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Goods><Good><Good_Name>&xxe;</Good_Name></Good></Goods>
"""

REFUSED = [
    pytest.param(
        "ilab-goods", "truncated.xml", GOODS_2024[:700], "2024",
        r"truncated\.xml: not well-formed XML at line \d+", id="truncated-xml",
    ),
    pytest.param(
        "ilab-goods", "laughs.xml", BILLION_LAUGHS, "2024",
        r"laughs\.xml: .*DTD.*entity-expansion", id="billion-laughs",
    ),
    pytest.param(
        "ilab-goods", "xxe.xml", EXTERNAL_ENTITY, "2024",
        r"xxe\.xml: .*DTD.*external-entity", id="external-entity",
    ),
    pytest.param(
        "ilab-goods", "findings.xml", "<Countries><Country/></Countries>", "2024",
        r"findings\.xml: the root element is <Countries>, expected <Goods>", id="wrong-root",
    ),
    pytest.param(
        "ilab-findings", "goods.xml", GOODS_2024, "2024",
        r"goods\.xml: the root element is <Goods>, expected <Countries>", id="wrong-root-2",
    ),
    pytest.param(
        "ilab-goods", "latin1.xml",
        '<?xml version="1.0" encoding="ISO-8859-1"?><Goods/>'.encode("latin-1"), "2024",
        r"latin1\.xml: declares encoding 'ISO-8859-1'; only UTF-8", id="xml-not-utf8",
    ),
    pytest.param(
        "ilab-goods", "maybe.xml", GOODS_2024.replace("<Child_Labor>Yes", "<Child_Labor>Maybe"),
        "2024",
        r"maybe\.xml: <Good> #1 \('Hazelnuts'\), <Country> #1 \('Turkey \(Türkiye\)'\): "
        r"<Child_Labor> is 'Maybe'",
        id="bad-flag",
    ),
    pytest.param(
        "ilab-goods", "atlantis.xml",
        GOODS_2024.replace("Turkey (Türkiye)", "Atlantis").replace(
            "<Country_Name>China", "<Country_Name>Congo"
        ),
        "2024",
        r"atlantis\.xml: 2 country name\(s\) could not be resolved .*'Atlantis'.*'Congo' "
        r"\(ambiguous",
        id="unresolved-countries",
    ),
    pytest.param(
        "ilab-goods", "goods.xml", GOODS_2024, "twenty",
        r"edition 'twenty' is not a year", id="bad-edition",
    ),
    pytest.param(
        "tip-tiers", "tiers.csv", "countryname,iso,year,tier\nTurkey,TUR,2016,Tier 2\n"
        "Chad,TCD,2016,Tier 5\n", None,
        r"tiers\.csv: line 3: unknown tier code 'Tier 5'", id="unknown-tier",
    ),
    pytest.param(
        "tip-tiers", "tiers_2015.csv", "countryname,year,tier\nArmenia,2015,2.5\n", None,
        r"tiers_2015\.csv: line 2: tier code '2\.5' belongs to the raw 2015 coding",
        id="other-tier-coding",
    ),
    pytest.param(
        "tip-tiers", "latin1.csv", "countryname,year,tier\nCôte d'Ivoire,2016,Tier 2\n"
        .encode("latin-1"), None,
        r"latin1\.csv: not UTF-8 text \(byte 0xf4 on line 2\)", id="csv-not-utf8",
    ),
    pytest.param(
        "tip-tiers", "cols.csv", "countryname,year,placement\nChad,2016,Tier 2\n", None,
        r"cols\.csv: line 1: missing required column\(s\) tier", id="missing-column",
    ),
    pytest.param(
        "tip-tiers", "years.csv", "iso,year,tier\nTCD,16,Tier 2\n", None,
        r"years\.csv: line 2: year '16' is not a TIP Report year", id="bad-year",
    ),
    pytest.param(
        "tip-tiers", "twice.csv", "iso,year,tier\nTCD,2016,Tier 2\nTCD,2016,Tier 3\n", None,
        r"twice\.csv: line 3: a second placement for TCD in 2016 \(first on line 2\)",
        id="duplicate-row",
    ),
    pytest.param(
        "tip-tiers", "header.csv", "countryname,iso,year,tier\n", None,
        r"header\.csv: no data rows below the header", id="header-only",
    ),
    pytest.param(
        "tip-tiers", "empty.csv", "", None, r"empty\.csv: the file is empty", id="empty-file",
    ),
    pytest.param(
        "ilab-goods", "blank.xml", "  \n\n", "2024", r"blank\.xml: the file is empty",
        id="blank-file",
    ),
    pytest.param(
        "gsi", "notes.xlsx", b"Country,Population\nChad,1\n", None,
        r"notes\.xlsx: not an \.xlsx workbook", id="not-a-workbook",
    ),
    pytest.param(
        "ilab-goods", "goods.xml", GOODS_2024, None,
        r"goods\.xml: ILAB's XML does not say which edition", id="no-edition",
    ),
    pytest.param(
        "ocds-schema", "release-schema.json", "{}", None,
        r"ocds-schema cannot be imported", id="not-importable",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "name", "content", "edition", "message"), REFUSED)
def test_malformed_imports_are_refused_and_change_nothing(
    settings: Settings,
    tmp_path: Path,
    kind: str,
    name: str,
    content: str | bytes,
    edition: str | None,
    message: str,
) -> None:
    """Each bad file is refused with its name and the problem; what served before still does."""
    import_dataset(settings, "ilab-goods", write(tmp_path, "good.xml", GOODS_2024), edition=2024)
    manifest = imported_folder(settings) / "manifest.json"
    before_manifest = manifest.read_bytes()
    before_files = sorted(p.name for p in imported_folder(settings).iterdir())
    before = _served(settings)
    (tmp_path / "in").mkdir()
    with pytest.raises(ValidationError, match=message):
        import_dataset(settings, kind, write(tmp_path / "in", name, content), edition=edition)
    assert before == _served(settings)
    assert before_manifest == manifest.read_bytes()
    assert before_files == sorted(p.name for p in imported_folder(settings).iterdir())
    assert "ilab-goods" in before
    assert before["ilab-goods"].startswith("2024:imported")


def test_workbook_without_a_country_header_is_refused(settings: Settings, tmp_path: Path) -> None:
    """A workbook with no 'Country' header row names the sheets it looked in."""
    path = _workbook(tmp_path / "other.xlsx", "Data", [["Nation", "Score"], ["Chad", 1]])
    before = _served(settings)
    with pytest.raises(
        ValidationError,
        match=r"other\.xlsx: no sheet has a header row with a 'Country' column .*'Data'",
    ):
        import_dataset(settings, "gsi", path, edition=2027)
    assert before == _served(settings)


def test_workbook_missing_gsi_columns_lists_them(settings: Settings, tmp_path: Path) -> None:
    """A 'Country' header without the GSI columns lists the missing ones."""
    path = _workbook(
        tmp_path / "partial.xlsx",
        "GSI 2027 summary data",
        [[h for h in GSI_HEADER if not h.startswith(("Inequality", "Government response"))]],
    )
    with pytest.raises(
        ValidationError,
        match=r"partial\.xlsx: sheet 'GSI 2027 summary data' row 1 has a Country header but "
        r"lacks the columns 'inequality', 'government response total'",
    ):
        import_dataset(settings, "gsi", path)


def test_workbook_bad_number_names_the_row(settings: Settings, tmp_path: Path) -> None:
    """A text value in a figure column is refused with the sheet row."""
    rows = _gsi_rows(1.0)
    rows[3][3] = "high"
    path = _workbook(tmp_path / "text.xlsx", "GSI 2027 summary data", rows)
    with pytest.raises(
        ValidationError,
        match=r"text\.xlsx, sheet 'GSI 2027 summary data', row 4: prevalence_per_1000 is 'high'",
    ):
        import_dataset(settings, "gsi", path)


def test_huge_file_is_refused_before_reading(settings: Settings, tmp_path: Path) -> None:
    """A file over the 50 MB limit is refused by its size (a sparse file: nothing is read)."""
    path = tmp_path / "huge.xml"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024 + 1)
    before = _served(settings)
    with pytest.raises(
        ValidationError, match=r"huge\.xml: 52,428,801 bytes is larger than the 52,428,800-byte"
    ):
        import_dataset(settings, "ilab-goods", path, edition=2024)
    assert before == _served(settings)
    assert not imported_folder(settings).exists()


def test_missing_file_is_refused(settings: Settings, tmp_path: Path) -> None:
    """A path that does not exist is named."""
    with pytest.raises(ValidationError, match=r"nothere\.csv: no such file"):
        import_dataset(settings, "tip-tiers", tmp_path / "nothere.csv")


def test_failure_while_installing_leaves_the_previous_data(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the manifest cannot be replaced, the new data file is removed and nothing changes."""
    import_dataset(settings, "ilab-goods", write(tmp_path, "a.xml", GOODS_2024), edition=2024)
    before = _served(settings)
    files_before = sorted(p.name for p in imported_folder(settings).iterdir())
    real_write = importer_module.atomic_write_bytes  # type: ignore[attr-defined]

    def failing_write(path: Path, data: bytes, *, mode: int = 0o644) -> None:
        if path.name == "manifest.json":
            raise OSError(28, "No space left on device")
        real_write(path, data, mode=mode)

    monkeypatch.setattr(importer_module, "atomic_write_bytes", failing_write)
    with pytest.raises(OSError, match="No space left"):
        import_dataset(settings, "ilab-goods", write(tmp_path, "b.xml", GOODS_2024), edition=2026)
    assert before == _served(settings)
    assert files_before == sorted(p.name for p in imported_folder(settings).iterdir())


def test_altered_import_is_detected(settings: Settings, tmp_path: Path) -> None:
    """An imported file changed after import is refused when read and reported by verify."""
    info = import_dataset(
        settings, "ilab-goods", write(tmp_path, "a.xml", GOODS_2024), edition=2024
    )
    info.path.write_bytes(info.path.read_bytes().replace(b"Hazelnuts", b"Walnuts!!"))
    registry = ReferenceData(settings)
    with pytest.raises(ReferenceDataError, match="was altered"):
        registry.ilab_goods()
    failed = [(c.dataset_id, c.origin) for c in registry.verify() if not c.ok]
    assert [("ilab-goods-2024", "imported")] == failed


def test_import_records_provenance(settings: Settings, tmp_path: Path) -> None:
    """The imported manifest records the source file name, SHA-256, time and edition."""
    moment = datetime(2027, 3, 4, 5, 6, 7, tzinfo=UTC)
    path = write(tmp_path, "goods_2024.xml", GOODS_2024)
    import_dataset(settings, "ilab-goods", path, edition=2024, now=moment)
    manifest = json.loads((imported_folder(settings) / "manifest.json").read_text("utf-8"))
    entry = manifest["datasets"][0]
    assert {
        "file_name": "goods_2024.xml",
        "sha256": hashlib.sha256(GOODS_2024.encode()).hexdigest(),
    } == entry["source"]
    assert ("2024", "2027-03-04T05:06:07+00:00", 2) == (
        entry["edition"],
        entry["imported_at"],
        entry["records"],
    )
    assert 0o600 == (imported_folder(settings) / entry["files"][0]["path"]).stat().st_mode & 0o777


def test_workbook_with_entity_expansion_is_refused(settings: Settings, tmp_path: Path) -> None:
    """A workbook whose sheet XML declares entities (billion laughs) is refused unread."""
    import zipfile

    clean = _workbook(tmp_path / "clean.xlsx", "GSI 2027 summary data", _gsi_rows(1.0))
    hostile = tmp_path / "hostile.xlsx"
    with zipfile.ZipFile(clean) as source, zipfile.ZipFile(hostile, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                doctype = BILLION_LAUGHS.split("\n", 1)[1].split("<Goods>", maxsplit=1)[0]
                content = doctype.replace("lolz", "worksheet").encode() + content
            target.writestr(item, content)
    before = _served(settings)
    with pytest.raises(ValidationError, match=r"hostile\.xlsx: the workbook holds unsafe XML"):
        import_dataset(settings, "gsi", hostile)
    assert before == _served(settings)


def test_duplicate_pair_is_refused(settings: Settings, tmp_path: Path) -> None:
    """A good listed twice for the same country is refused, naming both."""
    good = GOODS_2024.split("<Good>")[1].split("</Good>")[0]
    doubled = GOODS_2024.replace("</Goods>", f"<Good>{good}</Good></Goods>")
    with pytest.raises(
        ValidationError, match=r"dup\.xml: 'Hazelnuts' is listed twice for 'Turkey \(Türkiye\)'"
    ):
        import_dataset(settings, "ilab-goods", write(tmp_path, "dup.xml", doubled), edition=2024)


def test_damaged_imported_manifest_is_reported(settings: Settings, tmp_path: Path) -> None:
    """A damaged imported manifest is a clear error with a way out, and verify reports it."""
    import_dataset(settings, "ilab-goods", write(tmp_path, "a.xml", GOODS_2024), edition=2024)
    (imported_folder(settings) / "manifest.json").write_text("{not json", encoding="utf-8")
    registry = ReferenceData(settings)
    with pytest.raises(ReferenceDataError, match=r"manifest\.json: not readable JSON") as caught:
        registry.ilab_goods()
    assert "move" in (caught.value.hint or "")
    assert [("manifest", "imported")] == [
        (c.dataset_id, c.origin) for c in registry.verify() if not c.ok
    ]
