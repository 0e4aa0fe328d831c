"""``tipaudit entities``: import the sample lists, screen names and a run's suppliers."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tipaudit import cli
from tipaudit.procurement.classify import Classifier
from tipaudit.procurement.screening import screen
from tipaudit.refdata import ReferenceData
from tipaudit.services.procurement import ProcurementRuns
from tipaudit.settings import Settings

from ..procurement.test_screening import DEMO

DATA = Path(__file__).resolve().parents[2] / "src" / "tipaudit" / "screening" / "data"


@pytest.fixture
def run(tmp_path: Path, database_url: str):  # type: ignore[no-untyped-def]
    runner = CliRunner()
    env = {"TIPAUDIT_DATA_DIR": str(tmp_path / "data"), "TIPAUDIT_DATABASE_URL": database_url}
    app = cli.app

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(app, list(args), env=env)

    invoke.data_dir = tmp_path / "data"  # type: ignore[attr-defined]
    return invoke


def _import_samples(run) -> None:  # type: ignore[no-untyped-def]
    result = run(
        "entities", "import", "fictional-demo", str(DATA / "fictional-demo-list.csv"),
        "--format", "csv", "--title", "Fictional demo list", "--kind", "sample",
        "--licence", "CC0",
    )  # fmt: skip
    assert 0 == result.exit_code, result.output
    assert "5 entries, 5 added, 0 changed, 0 removed" in result.output
    result = run(
        "entities", "import", "un-sc-sample", str(DATA / "un-sc-sample.csv"),
        "--format", "csv", "--version-date", "2025-08-26", "--licence", "MIT",
    )  # fmt: skip
    assert 0 == result.exit_code, result.output
    assert "683 entries, 683 added" in result.output


def test_import_list_and_screen_names(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Importing the sample lists, then screening a CSV flags the fictional supplier, explained."""
    _import_samples(run)
    listed = run("entities", "lists", "--json")
    assert 0 == listed.exit_code, listed.output
    assert ["fictional-demo", "un-sc-sample"] == [r["slug"] for r in json.loads(listed.output)]
    assert "un-sc-sample" in run("entities", "lists").output

    names = tmp_path / "names.csv"
    names.write_text(
        "id,name,country\nq1,Anatolian Example Garments Limited,Türkiye\n"
        "q2,Completely Unrelated Bakery,France\n",
        encoding="utf-8",
    )
    out = tmp_path / "matches.csv"
    result = run(
        "entities", "screen", str(names), "--lists", "fictional-demo,un-sc-sample",
        "--out", str(out),
    )  # fmt: skip
    assert 0 == result.exit_code, result.output
    assert "screened 2 name(s) against 688 entries: 1 possible match(es)" in result.output
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    flagged = [r for r in rows if r["match"] == "yes"]
    assert 1 == len(flagged)
    (row,) = flagged
    assert ("q1", "fict-1", "fictional-demo") == (row["query_id"], row["entity_id"], row["list"])
    assert "fict-1: score" in row["explanation"]
    assert "name_similarity" in row["explanation"]

    as_json = tmp_path / "matches.json"
    result = run("entities", "screen", str(names), "--lists", "fictional-demo", "-o", str(as_json))
    assert 0 == result.exit_code, result.output
    assert json.loads(as_json.read_text(encoding="utf-8"))[0]["match"] is True
    table = run("entities", "screen", str(names), "--lists", "fictional-demo")
    assert "fict-1" in table.output


def test_screen_errors_are_clear(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Bad files, unknown lists and conflicting options end with a message and exit code 2."""
    _import_samples(run)
    bad = tmp_path / "bad.csv"
    bad.write_text("identifier,title\n1,x\n", encoding="utf-8")
    names = tmp_path / "names.csv"
    names.write_text("id,name\nq1,Example\n", encoding="utf-8")
    cases = [
        (("entities", "screen", str(bad), "--lists", "fictional-demo"), "missing column(s)"),
        (("entities", "screen", str(names), "--lists", "nope"), "no list 'nope'"),
        (("entities", "screen", "--lists", "fictional-demo"), "exactly one of FILE"),
        (("entities", "screen", str(names), "--lists", "x", "-o", "m.xlsx"), ".csv or .json"),
        (("entities", "screen", "--procurement", "--lists", "fictional-demo"), "no screening run"),
        (("entities", "import", "x", str(bad), "--format", "csv"), "missing column(s)"),
        (("entities", "import", "x", str(names), "--format", "xml"), "unknown format"),
    ]
    for args, message in cases:
        result = run(*args)
        assert 2 == result.exit_code, (args, result.output)
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output


@pytest.fixture(scope="module")
def demo_run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fictional demo screened once per module (as in tests/web/test_procurement_pages.py)."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("demo-run"))
    runs = ProcurementRuns(settings)
    result = screen(
        [DEMO / "fictional"],
        folder=runs.new_folder(),
        refdata=ReferenceData(settings),
        classifier=Classifier.load(),
    )
    return result.folder


def test_screen_procurement_suppliers(run, demo_run_folder: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The newest run's suppliers are screened: fictional look-alikes flagged, keyed by supplier."""
    _import_samples(run)
    target = run.data_dir / "procurement" / "runs" / demo_run_folder.name
    shutil.copytree(demo_run_folder, target)
    out = tmp_path / "suppliers.json"
    result = run(
        "entities", "screen", "--procurement", "--lists", "fictional-demo,un-sc-sample",
        "--out", str(out),
    )  # fmt: skip
    assert 0 == result.exit_code, result.output
    rows = json.loads(out.read_text(encoding="utf-8"))
    flagged = {r["query_name"]: r["entity_id"] for r in rows if r["match"]}
    assert "fict-1" == flagged["Anatolian Example Garments Ltd (fictional)"]
    assert "fict-2" == flagged["Example Brick Kilns (fictional)"]
    assert not any(entity.startswith("un-sc-") for entity in flagged.values())
    by_run = run("entities", "screen", "--run", demo_run_folder.name, "--lists", "fictional-demo")
    assert 0 == by_run.exit_code, by_run.output
    assert "possible match(es)" in by_run.output


def test_screening_in_worker_processes_gives_the_same_rows(  # type: ignore[no-untyped-def]
    run, tmp_path: Path
) -> None:
    """``--workers 2`` (forked processes) writes exactly the rows one process writes, in the
    same order, as CSV and as valid JSON; no partial file is left behind."""
    _import_samples(run)
    names = tmp_path / "names.csv"
    with names.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name"])
        listed = (DATA / "un-sc-sample.csv").read_text(encoding="utf-8").splitlines()
        for i, row in enumerate(csv.DictReader(listed[:301])):
            writer.writerow([f"q{i}", row["name"] + (" x" if i % 3 else "")])
    outputs = {}
    for workers in ("1", "2"):
        for suffix in (".csv", ".json"):
            out = tmp_path / f"w{workers}{suffix}"
            result = run(
                "entities", "screen", str(names), "--lists", "un-sc-sample",
                "--workers", workers, "--out", str(out),
            )  # fmt: skip
            assert 0 == result.exit_code, result.output
            outputs[workers, suffix] = out.read_text(encoding="utf-8")
    assert outputs["1", ".csv"] == outputs["2", ".csv"]
    assert outputs["1", ".json"] == outputs["2", ".json"]
    rows = json.loads(outputs["2", ".json"])
    assert len(rows) == len(list(csv.DictReader(outputs["2", ".csv"].splitlines(keepends=True))))
    assert sum(1 for r in rows if r["match"]) >= 250
    assert not list(tmp_path.glob(".*.partial"))
