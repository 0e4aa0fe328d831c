"""``tipaudit data``: list, show, import and verify through the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tests.refdata.conftest import GOODS_2024, write
from tipaudit.cli import _Group
from tipaudit.cli._context import CliContext
from tipaudit.cli.data import app as data_app
from tipaudit.refdata import imported_folder
from tipaudit.settings import Settings


@pytest.fixture
def run(settings: Settings):  # type: ignore[no-untyped-def]
    """Invoke ``data …`` on a small app that mounts the sub-app like ``tipaudit`` does."""
    root = typer.Typer(cls=_Group)

    @root.callback()
    def _callback(ctx: typer.Context) -> None:
        ctx.obj = CliContext(settings=settings)

    root.add_typer(data_app, name="data")
    runner = CliRunner()

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(root, ["data", *args])

    return invoke


def test_list_json(run) -> None:  # type: ignore[no-untyped-def]
    """--json lists every edition with kind, edition, records, licence, origin and checksum."""
    result = run("list", "--json")
    assert 0 == result.exit_code, result.output
    rows = json.loads(result.output)
    assert [
        ("ilab-goods", "2016", 379, False),
        ("ilab-goods", "2018", 418, False),
        ("ilab-goods", "2020", 438, False),
        ("ilab-goods", "2022", 467, True),
        ("ilab-findings", "2022", 143, True),
        ("gsi", "2023", 180, True),
        ("tip-tiers", "1999-2015", 3208, True),
        ("ocds-schema", "1.1.5", 22, True),
    ] == [(r["kind"], r["edition"], r["records"], r["serving"]) for r in rows]
    assert {"bundled"} == {r["origin"] for r in rows}
    assert all(len(r["checksum"]) == 64 and r["licence"] for r in rows)


def test_list_table(run) -> None:  # type: ignore[no-untyped-def]
    """The table shows each kind and edition with a checksum prefix."""
    result = run("list")
    assert 0 == result.exit_code, result.output
    for text in ("ilab-goods", "2022 *", "gsi", "tip-tiers", "ocds-schema", "bundled", "MIT"):
        assert text in result.output


def test_show_gives_provenance_and_attribution(run) -> None:  # type: ignore[no-untyped-def]
    """show names the source repository@commit, licence, citation and file checksums."""
    result = run("show", "gsi")
    assert 0 == result.exit_code, result.output
    output = " ".join(result.output.split())
    for text in (
        "cite as: Walk Free 2023, The Global Slavery Index 2023, Minderoo Foundation",
        "all rights reserved",
        "modern-slavery-open-lib/make-labour-satellite@0523fb5b5d087c82aaa6d83fa108c6d4c9e5f22f",
        "gsi-2023.json",
    ):
        assert text in output
    older = run("show", "ilab_goods", "--edition", "2018", "--json")
    assert 0 == older.exit_code, older.output
    doc = json.loads(older.output)
    assert ("2018", False, ["2016", "2018", "2020", "2022"]) == (
        doc["edition"],
        doc["serving"],
        doc["editions"],
    )


def test_show_unknown_kind_is_a_user_error(run) -> None:  # type: ignore[no-untyped-def]
    """An unknown kind is a message with the choices and exit code 2, no traceback."""
    result = run("show", "goods")
    assert 2 == result.exit_code
    assert "unknown dataset kind 'goods'" in result.output
    assert "Traceback" not in result.output


def test_import_then_list_and_verify(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """An import is reported, listed as imported and served, and passes verify."""
    path = write(tmp_path, "goods_2024.xml", GOODS_2024)
    result = run("import", "ilab-goods", str(path), "--edition", "2024")
    assert 0 == result.exit_code, result.output
    assert "imported ilab-goods edition 2024: 2 records from goods_2024.xml" in result.output
    rows = json.loads(run("list", "--json").output)
    assert [("2024", "imported", True)] == [
        (r["edition"], r["origin"], r["serving"]) for r in rows if r["origin"] == "imported"
    ]
    verified = run("verify")
    assert 0 == verified.exit_code, verified.output
    assert "30 of 30 files match their manifests" in verified.output


def test_import_older_edition_says_it_is_not_served(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Importing an older edition says which edition is still served."""
    path = write(tmp_path, "goods_2010.xml", GOODS_2024)
    result = run("import", "ilab-goods", str(path), "--edition", "2010")
    assert 0 == result.exit_code, result.output
    assert "note: edition 2022 is newer and is still the one served" in result.output


def test_refused_import_is_a_clear_message(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A bad file exits 2 with the file name and the problem."""
    path = write(tmp_path, "tiers.csv", "countryname,year,tier\nChad,2016,Tier 9\n")
    result = run("import", "tip-tiers", str(path))
    assert 2 == result.exit_code
    assert "tiers.csv: line 2: unknown tier code 'Tier 9'" in result.output
    assert "Traceback" not in result.output


def test_verify_reports_an_altered_file(run, settings: Settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """verify exits 1 and names a file that no longer matches its manifest."""
    path = write(tmp_path, "t.csv", "iso,year,tier\nTCD,2016,Tier 2\n")
    assert 0 == run("import", "tip-tiers", str(path)).exit_code
    data_file = next(imported_folder(settings).glob("tip-tiers-2016-*.json"))
    data_file.write_bytes(data_file.read_bytes().replace(b"Tier 2", b"Tier 1"))
    result = run("verify", "--json")
    assert 1 == result.exit_code
    doc = json.loads(result.output)
    assert (False, [("tip-tiers-2016", "imported")]) == (
        doc["ok"],
        [(f["dataset"], f["origin"]) for f in doc["files"] if not f["ok"]],
    )
