"""The vendored reference data: it loads, its counts match the READMEs, its checksums hold."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from tipaudit.errors import NotFoundError, ValidationError
from tipaudit.refdata import (
    DatasetKind,
    IlabGood,
    ReferenceData,
    ReferenceDataError,
    TipTier,
)
from tipaudit.refdata._io import sha256_file
from tipaudit.refdata.registry import BUNDLED_FOLDER
from tipaudit.settings import Settings

# -- catalogue -------------------------------------------------------------------------------


def test_bundled_datasets_and_editions(registry: ReferenceData) -> None:
    """Every bundled dataset is listed with its edition, and the newest of each kind serves."""
    expected = [
        ("ilab-goods", "2016", False),
        ("ilab-goods", "2018", False),
        ("ilab-goods", "2020", False),
        ("ilab-goods", "2022", True),
        ("ilab-findings", "2022", True),
        ("gsi", "2023", True),
        ("tip-tiers", "1999-2015", True),
        ("ocds-schema", "1.1.5", True),
    ]
    actual = [(d.kind.value, d.edition, d.serving) for d in registry.datasets()]
    assert expected == actual
    assert {"bundled"} == {d.origin for d in registry.datasets()}


def test_ilab_editions_are_labelled_by_list_year_not_file_year(registry: ReferenceData) -> None:
    """goods_2016/2018/2019/2021.xml are the 2016, 2018, 2020 and 2022 editions."""
    sources = {
        d.edition: d.source.path.rsplit("/", 1)[-1]
        for d in registry.datasets(DatasetKind.ILAB_GOODS)
        if d.source.path
    }
    assert {
        "2016": "goods_2016.xml",
        "2018": "goods_2018.xml",
        "2020": "goods_2019.xml",
        "2022": "goods_2021.xml",
    } == sources
    notes = " ".join(registry.dataset("ilab-goods", 2018).notes)
    assert "goods_2017.xml" in notes


def test_dataset_metadata_carries_provenance(registry: ReferenceData) -> None:
    """Each dataset names its publisher, licence, attribution and source repository@commit."""
    gsi = registry.dataset("gsi")
    assert "Walk Free 2023, The Global Slavery Index 2023, Minderoo Foundation" == gsi.attribution
    assert "all rights reserved" in gsi.licence
    assert "modern-slavery-open-lib/make-labour-satellite" == gsi.source.repository
    assert "0523fb5b5d087c82aaa6d83fa108c6d4c9e5f22f" == gsi.source.commit
    assert "objects/raw/2023-Global-Slavery-Index-Data.xlsx" == gsi.source.path
    assert 64 == len(gsi.source.sha256 or "")
    ocds = registry.dataset("ocds-schema")
    assert "Apache-2.0" == ocds.licence
    assert "open-contracting/standard" == ocds.source.repository
    tiers = registry.dataset("tip-tiers")
    assert tiers.licence.startswith("MIT")
    for info in registry.datasets():
        assert info.retrieved, info.id
        assert info.converted, info.id
        assert all((info.publisher, info.licence, info.attribution)), info.id


def test_unknown_kind_and_edition_are_clear_errors(registry: ReferenceData) -> None:
    """An unknown kind or edition is named in the error with the choices."""
    with pytest.raises(ValidationError, match="unknown dataset kind 'goods'"):
        registry.datasets("goods")
    with pytest.raises(NotFoundError, match="no ilab-goods edition 2019") as caught:
        registry.ilab_goods(2019)
    assert "2016, 2018, 2020, 2022" in (caught.value.hint or "")
    assert DatasetKind.ILAB_GOODS == DatasetKind.parse("ILAB_goods")


# -- ILAB ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edition", "pairs", "countries", "child", "forced", "forced_child"),
    [
        ("2016", 379, 75, 345, 103, 54),
        ("2018", 418, 76, 384, 106, 55),
        ("2020", 438, 78, 395, 120, 54),
        ("2022", 467, 78, 414, 121, 54),
    ],
)
def test_goods_counts_match_the_readme(
    registry: ReferenceData,
    edition: str,
    pairs: int,
    countries: int,
    child: int,
    forced: int,
    forced_child: int,
) -> None:
    """Pairs, countries and flag counts per edition are those in ilab-goods/README.md."""
    goods = registry.ilab_goods(edition)
    actual = (
        len(goods),
        len(goods.countries()),
        sum(g.child_labor for g in goods),
        sum(g.forced_labor for g in goods),
        sum(g.forced_child_labor for g in goods),
    )
    assert (pairs, countries, child, forced, forced_child) == actual
    assert edition == goods.edition
    assert pairs == registry.dataset("ilab-goods", edition).records


def test_2022_edition_goods_and_derived_rows(registry: ReferenceData) -> None:
    """2022: 169 good names = 159 goods + 10 derived downstream goods, with their sources."""
    goods = registry.ilab_goods()
    assert "2022" == goods.edition
    assert 169 == len(goods.goods())
    derived = [g for g in goods if g.derived]
    assert 10 == len(derived)
    assert 159 == len({g.good for g in goods if not g.derived})
    batteries = next(g for g in derived if g.good == "Lithium-Ion Batteries")
    assert ("CHN", "Congo, Democratic Republic of the", "COD") == (
        batteries.iso3,
        batteries.derived_from,
        batteries.derived_from_iso3,
    )
    assert Counter({"CHN": 5, "IDN": 5}) == Counter(g.iso3 for g in derived)
    by_good = {g.good: g.sector for g in goods}
    assert {"Agriculture": 83, "Manufacturing": 53, "Mining": 32, "Other": 1} == dict(
        Counter(by_good.values())
    )


def test_turkiye_goods_in_the_2022_edition(registry: ReferenceData) -> None:
    """Türkiye ('Turkey (Türkiye)' in ILAB's file) has its 10 goods, all for child labour."""
    expected = [
        IlabGood(
            name,
            sector,
            "Turkey (Türkiye)",
            "TUR",
            "Middle East and North Africa",
            True,
            False,
            False,
        )
        for name, sector in [
            ("Citrus Fruits", "Agriculture"),
            ("Cotton", "Agriculture"),
            ("Cumin", "Agriculture"),
            ("Footwear", "Manufacturing"),
            ("Furniture", "Manufacturing"),
            ("Garments", "Manufacturing"),
            ("Hazelnuts", "Agriculture"),
            ("Peanuts", "Agriculture"),
            ("Pulses (legumes)", "Agriculture"),
            ("Sugar Beets", "Agriculture"),
        ]
    ]
    actual = list(registry.ilab_goods("2022").for_country("tur"))
    assert expected == actual
    assert [False] * 10 == [g.any_forced_labor for g in actual]


def test_country_findings(registry: ReferenceData) -> None:
    """143 entries; 131 covered with 12 legal standards and (nearly all) 21 enforcement facts."""
    findings = registry.ilab_findings_edition()
    assert ("2022", 143) == (findings.edition, len(findings))
    covered = [f for f in findings.countries.values() if f.covered]
    assert 131 == len(covered)
    assert {12} == {len(f.legal_standards) for f in covered}
    # ILAB's file leaves out some enforcement items for two places; they are absent, not blank.
    assert {"CPV": 19, "SHN": 15} == {
        f.iso3: len(f.enforcement) for f in covered if len(f.enforcement) != 21
    }
    # Per country: Zimbabwe's <Conventions> are repeated in the file, so a count of elements
    # gives 112 "Yes"; 111 countries ratified.
    assert Counter({True: 111, False: 18, None: 2}) == Counter(f.palermo_ratified for f in covered)
    levels = Counter(f.advancement_level for f in findings.countries.values())
    assert 69 == levels["Moderate Advancement"]
    assert 4 == levels["Significant Advancement"]
    afghanistan = registry.ilab_findings("AF")
    assert ("Afghanistan", "No Advancement", True) == (
        afghanistan.country,
        afghanistan.advancement_level,
        afghanistan.palermo_ratified,
    )
    forced = afghanistan.legal_standards["prohibition_of_forced_labor"]
    assert (False, False) == (forced.standard, forced.conforms)
    assert "Unknown" == afghanistan.enforcement["labor_inspectors"]
    assert "prohibition_of_forced_labor" in afghanistan.standards_not_conforming()
    assert "Kosovo" == registry.ilab_findings("XKX").country
    turkiye = registry.ilab_findings("TUR")
    assert (False, None) == (turkiye.covered, turkiye.advancement_level)
    with pytest.raises(NotFoundError, match="no ILAB country findings for FRA"):
        registry.ilab_findings("FRA")


def test_findings_keep_no_prose(registry: ReferenceData) -> None:
    """The long descriptions are not vendored: the file is a fraction of the 2 MB source."""
    info = registry.dataset("ilab-findings")
    assert info.files[0].bytes < 400_000
    assert "made no advancement in efforts" not in info.path.read_text(encoding="utf-8")


# -- Walk Free GSI ---------------------------------------------------------------------------


def test_gsi_counts_and_figures(registry: ReferenceData) -> None:
    """180 countries, 160 with prevalence; 49.63 million people; the top five by prevalence."""
    index = registry.gsi_index()
    assert ("2023", 180) == (index.edition, len(index))
    with_prevalence = [c for c in index if c.prevalence_per_1000 is not None]
    assert 160 == len(with_prevalence)
    assert 49_630_000 == sum(c.estimated_number or 0 for c in index)
    top = sorted(with_prevalence, key=lambda c: -(c.prevalence_per_1000 or 0))[:5]
    assert [("PRK", 104.6), ("ERI", 90.3), ("MRT", 32.0), ("SAU", 21.3), ("TUR", 15.6)] == [
        (c.iso3, round(c.prevalence_per_1000 or 0, 1)) for c in top
    ]
    turkiye = registry.gsi("TR")
    assert ("Türkiye", 1_320_000) == (turkiye.country, turkiye.estimated_number)
    assert 0.0 == turkiye.government_response.supply_chains
    assert None is registry.gsi("AFG").government_response.total
    assert "Walk Free 2023, The Global Slavery Index 2023, Minderoo Foundation" == (
        index.attribution
    )
    assert "all rights reserved" in index.licence_note
    with pytest.raises(NotFoundError):
        registry.gsi("AND")


# -- TIP tiers -------------------------------------------------------------------------------


def test_tip_tier_counts(registry: ReferenceData) -> None:
    """3,208 country-years for 193 countries, report years 1999-2015, 2015 split as published."""
    series = registry.tip_tier_series()
    assert (3208, 193) == (len(series), len(series.countries()))
    assert (1999, 2015) == (series.report_years()[0], series.report_years()[-1])
    in_2015 = Counter(p.tier for p in series if p.report_year == 2015)
    assert {
        TipTier.TIER_1: 30,
        TipTier.TIER_2: 89,
        TipTier.TIER_2_WATCH_LIST: 44,
        TipTier.TIER_3: 23,
        None: 1,
    } == dict(in_2015)
    assert set() == {p.tier for p in series if p.report_year in (1999, 2000)} - {None}


def test_tip_tiers_for_a_country(registry: ReferenceData) -> None:
    """A country's placements come oldest first, labelled, dated by report year."""
    afghanistan = registry.tip_tiers("AFG")
    assert (1999, None) == (afghanistan[0].report_year, afghanistan[0].tier)
    assert (2002, TipTier.TIER_3) == (afghanistan[3].report_year, afghanistan[3].tier)
    assert "Tier 2 Watch List" == TipTier.TIER_2_WATCH_LIST.value
    assert "XKX" == registry.tip_tiers("XKX")[-1].iso3
    assert () == registry.tip_tiers("USA")


# -- OCDS ------------------------------------------------------------------------------------


def test_ocds_schemas_and_codelists(registry: ReferenceData) -> None:
    """The three schemas load, with the required fields the OCDS README lists; 19 codelists."""
    release = registry.ocds_release_schema()
    assert ["ocid", "id", "date", "tag", "initiationType"] == release["required"]
    assert ["uri", "publisher", "publishedDate", "releases", "version"] == (
        registry.ocds_schema("release-package")["required"]
    )
    assert "records" in registry.ocds_schema("record-package")["required"]
    assert 22 == registry.dataset("ocds-schema").records
    schemes = {row["Code"] for row in registry.ocds_codelist("itemClassificationScheme")}
    assert {"CPV", "UNSPSC", "HS", "GSIN", "CPC"} <= schemes
    release["title"] = "changed"
    assert "changed" != registry.ocds_release_schema()["title"]
    with pytest.raises(NotFoundError):
        registry.ocds_codelist("nope")


# -- integrity -------------------------------------------------------------------------------


def test_manifest_checksums_match_the_files() -> None:
    """Every file the bundled manifest lists exists with the recorded size and SHA-256."""
    manifest = json.loads((BUNDLED_FOLDER / "manifest.json").read_text(encoding="utf-8"))
    listed = {}
    for dataset in manifest["datasets"]:
        for entry in dataset["files"]:
            path = BUNDLED_FOLDER / entry["path"]
            listed[entry["path"]] = (entry["sha256"], entry["bytes"])
            assert (entry["sha256"], entry["bytes"]) == (sha256_file(path), path.stat().st_size)
    on_disk = {
        p.relative_to(BUNDLED_FOLDER).as_posix()
        for p in BUNDLED_FOLDER.rglob("*")
        if p.is_file() and p.name != "manifest.json"
    }
    assert on_disk == set(listed)


def test_registry_verify_passes_on_the_bundled_data(registry: ReferenceData) -> None:
    """verify() checks all 29 bundled files and finds them intact."""
    checks = registry.verify()
    assert (29, []) == (len(checks), [c for c in checks if not c.ok])


def test_bundled_data_stays_small() -> None:
    """The vendored folder stays under 2 MB."""
    total = sum(p.stat().st_size for p in BUNDLED_FOLDER.rglob("*") if p.is_file())
    assert total < 2_000_000


def test_altered_file_is_refused(tmp_path: Path, settings: Settings) -> None:
    """A vendored file that no longer matches its manifest is refused, and verify names it."""
    copy = tmp_path / "bundled"
    shutil.copytree(BUNDLED_FOLDER, copy)
    target = copy / "gsi-2023.json"
    target.write_bytes(target.read_bytes().replace(b"15.64948081970215", b"1.0"))
    registry = ReferenceData(settings, bundled_folder=copy)
    with pytest.raises(ReferenceDataError, match=r"gsi-2023\.json was altered"):
        registry.gsi("TUR")
    failed = [c for c in registry.verify() if not c.ok]
    assert [("gsi-2023", "bundled", target)] == [(c.dataset_id, c.origin, c.path) for c in failed]
    assert "2022" == registry.ilab_goods().edition  # other datasets still serve


def test_loading_is_lazy_and_cached(settings: Settings, tmp_path: Path) -> None:
    """Nothing is read until asked; a dataset is parsed once per registry."""
    missing = ReferenceData(settings, bundled_folder=tmp_path / "nowhere")
    with pytest.raises(ReferenceDataError, match="bundled reference data is missing"):
        missing.datasets()
    registry = ReferenceData(settings)
    assert registry.ilab_goods() is registry.ilab_goods()
