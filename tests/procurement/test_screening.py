"""Screening: OCDS in, an explained register out; the rules, levels, outputs and engines."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from tests.conftest import shared_path
from tipaudit.errors import ValidationError
from tipaudit.procurement.outputs import register_rows, write_register

from .conftest import Screen, release, write_package

DEMO = Path(__file__).resolve().parents[2] / "src" / "tipaudit" / "demo" / "ocds"
GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("TIPAUDIT_UPDATE_GOLDEN") == "1"


def by_ocid(run) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    return {row["ocid"]: row for row in register_rows(run)}


def test_cotton_garments_from_a_listed_country_is_high(tmp_path: Path, run_screen: Screen) -> None:
    """Cotton garments from Türkiye (ILAB lists cotton and garments) are high, with both reasons;
    the same release from a low-risk country and sector (legal advice from Denmark) is low."""
    path = write_package(
        tmp_path / "p.json",
        [
            release(
                "ocds-test-garments",
                supplier_country="Türkiye",
                items=[("18110000", "Cotton work uniforms")],
            ),
            release(
                "ocds-test-legal",
                supplier_country="Denmark",
                items=[("79110000", "Legal advisory services")],
            ),
        ],
    )
    rows = by_ocid(run_screen(path))
    garments = rows["ocds-test-garments"]
    assert "high" == garments["level"]
    assert {"ilab_listed_good", "high_risk_industry"} <= set(garments["factors"])
    reasons = " ".join(garments["reasons"])
    assert "Cotton is bought from a supplier in Türkiye" in reasons
    assert "Garments is bought from a supplier in Türkiye" in reasons
    assert "garments, textiles and footwear" in reasons
    assert "TIP-CHILD" in garments["indicator_codes"]
    assert "low" == rows["ocds-test-legal"]["level"]
    assert [] == rows["ocds-test-legal"]["reasons"]


def test_garments_from_an_unlisted_country_is_not_high(tmp_path: Path, run_screen: Screen) -> None:
    """Garments alone (a high-risk industry, no ILAB listing, low-risk country) stay low."""
    path = write_package(
        tmp_path / "p.json",
        [
            release(
                "ocds-test-dk", supplier_country="Denmark", items=[("18110000", "Work uniforms")]
            )
        ],
    )
    row = by_ocid(run_screen(path))["ocds-test-dk"]
    assert ("low", ["high_risk_industry"]) == (row["level"], row["factors"])


def test_unknown_supplier_country_is_an_uncertainty(tmp_path: Path, run_screen: Screen) -> None:
    """A supplier without a recognisable country is said to be unknown, not scored as safe."""
    path = write_package(
        tmp_path / "p.json",
        [
            release(
                "ocds-test-unknown",
                supplier_country="Atlantis",
                items=[("18110000", "Cotton uniforms")],
            )
        ],
    )
    row = by_ocid(run_screen(path))["ocds-test-unknown"]
    assert any("country is not published or not recognised" in u for u in row["uncertainties"])
    assert "ilab_listed_good" not in row["factors"]


def test_competition_price_and_far_rules(tmp_path: Path, run_screen: Screen) -> None:
    """Direct award, an abnormally low price and the FAR trigger are each explained."""
    path = write_package(
        tmp_path / "p.json",
        [
            release(
                "ocds-test-far",
                supplier_country="Malaysia",
                items=[("30213100", "Laptop computers")],
                method="direct",
                tenderers=1,
                estimate=2_000_000,
                awarded=900_000,
            ),
        ],
    )
    row = by_ocid(run_screen(path))["ocds-test-far"]
    assert {
        "weak_competition",
        "abnormally_low_price",
        "far_compliance_plan",
        "ilab_listed_good",
    } <= set(row["factors"])
    text = " ".join(row["reasons"])
    assert "The award value is 45% of the tender estimate" in text
    assert "exceeds the compliance-plan threshold of 550,000 USD" in text
    assert any("compliance plan and annual certification" in a for a in row["actions"])


def test_demo_samples_register(run_screen: Screen) -> None:
    """The bundled demo (real UK, NSW and Paraguay samples plus fictional data) screens cleanly."""
    run = run_screen(DEMO)
    assert {"processes": 41} == {"processes": run.summary["rows"]["processes"]}
    rows = by_ocid(run)
    assert "high" == rows["ocds-fictional-uniforms-tr"]["level"]
    assert "low" == rows["ocds-fictional-software-ie"]["level"]
    assert "high" == rows["ocds-fictional-cleaning-us"]["level"]
    assert "subcontracting" in rows["ocds-fictional-cleaning-us"]["factors"]


def test_a_run_that_spills_to_disk(run_screen: Screen) -> None:
    """With a small memory budget the run spills to its own folder and gives the same register."""
    expected = [(r["ocid"], r["level"]) for r in register_rows(run_screen(DEMO))]
    spilled = run_screen(DEMO, memory_budget_bytes=1024 * 1024)
    assert spilled.summary["ingest"]["spill_buckets"] > 0
    assert expected == [(r["ocid"], r["level"]) for r in register_rows(spilled)]
    assert not (spilled.folder / "spill").exists()


@pytest.mark.parametrize("suffix", [".csv", ".json", ".parquet", ".xlsx"])
def test_register_formats(tmp_path: Path, run_screen: Screen, suffix: str) -> None:
    """Every format carries each row's ocid, level and reasons."""
    run = run_screen(DEMO)
    out = tmp_path / f"register{suffix}"
    assert 41 == write_register(run, out)
    if suffix == ".csv":
        with out.open(encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    elif suffix == ".json":
        rows = json.loads(out.read_text(encoding="utf-8"))
    elif suffix == ".parquet":
        rows = pq.read_table(out).to_pylist()
    else:
        book = load_workbook(out, read_only=True)
        values = list(book["Risk register"].values)
        book.close()
        rows = [dict(zip(values[0], v, strict=True)) for v in values[1:]]
    first = rows[0]
    assert {"ocid", "level", "reasons"} <= set(first)
    assert "high" == first["level"]
    assert "ocds-fictional-uniforms-tr" in {r["ocid"] for r in rows}


def test_register_rejects_unknown_format(tmp_path: Path, run_screen: Screen) -> None:
    """An unknown extension is a clear error."""
    run = run_screen(DEMO)
    with pytest.raises(ValidationError, match=r"\.xlsx"):
        write_register(run, tmp_path / "register.pdf")


def test_spreadsheet_formulas_are_neutralised(tmp_path: Path, run_screen: Screen) -> None:
    """A title starting with '=' is written as text, not as a spreadsheet formula."""
    hostile = release(
        "ocds-test-formula",
        supplier_country="Denmark",
        items=[("79110000", '=HYPERLINK("http://evil.example")')],
    )
    run = run_screen(write_package(tmp_path / "p.json", [hostile]))
    out = tmp_path / "r.csv"
    write_register(run, out)
    with out.open(encoding="utf-8") as handle:
        row = next(csv.DictReader(handle))
    assert row["title"].startswith("'=")


def test_every_real_sample_screens(run_screen: Screen) -> None:
    """All 17 publishers' real samples screen without a crash; unreadable files are listed."""
    samples = shared_path("data", "ocds", "sample-data-real-examples")
    run = run_screen(samples, on_error="skip")
    assert 3 == run.summary["ingest"]["skipped_count"]  # the three empty Paraguay files
    assert run.summary["rows"]["processes"] > 500
    assert sum(run.summary["levels"].values()) == run.summary["rows"]["processes"]


@pytest.mark.parametrize(
    "publisher",
    ["uk-contracts-finder", "australia/new-south-wales", "moldova", "ukraine", "mexico/jalisco"],
)
def test_golden_registers(run_screen: Screen, publisher: str) -> None:
    """The register of representative real publishers is pinned (TIPAUDIT_UPDATE_GOLDEN=1)."""
    samples = shared_path("data", "ocds", "sample-data-real-examples", publisher)
    run = run_screen(samples, on_error="skip")
    lines = [
        json.dumps(
            {k: row[k] for k in ("ocid", "level", "factors", "reasons", "uncertainties")},
            ensure_ascii=False,
            sort_keys=True,
        )
        for row in sorted(register_rows(run), key=lambda r: r["ocid"])
    ]
    golden = GOLDEN / f"{publisher.replace('/', '-')}.jsonl"
    text = "\n".join(lines) + "\n"
    if UPDATE:
        golden.write_text(text, encoding="utf-8")
    assert golden.read_text(encoding="utf-8") == text
