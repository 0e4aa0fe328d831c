"""``tipaudit entities`` for vetting: saved matches, decisions, allegations, support, cases."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tipaudit import cli

from .test_entities import _import_samples, demo_run_folder  # noqa: F401 - fixture

PASSWORD = "a long enough passphrase"
REASON = "checked against the registry extract"


@pytest.fixture
def run(tmp_path: Path, database_url: str):  # type: ignore[no-untyped-def]
    runner = CliRunner()
    env = {"TIPAUDIT_DATA_DIR": str(tmp_path / "data"), "TIPAUDIT_DATABASE_URL": database_url}

    def invoke(*args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(cli.app, list(args), env=env, input=stdin)

    invoke.data_dir = tmp_path / "data"  # type: ignore[attr-defined]
    for name in ("olga", "omar"):
        made = invoke(
            "user", "add", name, "--roles", "vetting_officer", "--password-stdin",
            stdin=PASSWORD + "\n",
        )  # fmt: skip
        assert 0 == made.exit_code, made.output
    return invoke


def _ok(result) -> str:  # type: ignore[no-untyped-def]
    assert 0 == result.exit_code, result.output
    return str(result.output)


def _fails(result, message: str) -> None:  # type: ignore[no-untyped-def]
    assert 2 == result.exit_code, result.output
    assert message in result.output, result.output
    assert "Traceback" not in result.output


def test_save_decide_and_suppress(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _import_samples(run)
    names = tmp_path / "names.csv"
    names.write_text("id,name,country\nq1,Anatolian Example Garments Limited,Türkiye\n", "utf-8")
    out = _ok(run("entities", "screen", str(names), "--lists", "fictional-demo", "--save"))
    assert "1 match(es) stored, 0 suppressed" in out
    (match,) = json.loads(_ok(run("entities", "matches", "--json")))
    assert ("party:q1", "fict-1", "candidate") == (
        match["query_ref"],
        match["entity_id"],
        match["status"],
    )
    assert "name_similarity" in match["explanation"]
    _fails(run("entities", "decide", str(match["id"]), "rejected", "--as", "olga",
               "--reason", "short"), "at least 10")  # fmt: skip
    _fails(run("entities", "decide", str(match["id"]), "rejected", "--as", "nobody",
               "--reason", REASON), "no user named")  # fmt: skip
    _ok(run("entities", "decide", str(match["id"]), "rejected", "--as", "olga", "--reason", REASON))
    again = _ok(
        run("entities", "screen", str(names), "--lists", "fictional-demo", "--save", "--as", "omar")
    )
    assert "1 match(es) stored, 1 suppressed" in again
    assert "no matches with status candidate" in _ok(run("entities", "matches"))
    assert "suppressed" in _ok(run("entities", "matches", "--status", "suppressed"))


def test_allegation_blocks_until_a_second_officer(run) -> None:  # type: ignore[no-untyped-def]
    """The core rule from the shell: request, refuse self-approval, second officer approves."""
    _import_samples(run)
    added = _ok(
        run(
            "entities", "allegations", "add", "Example Ridge Battalion (fictional)",
            "--schema", "Organization", "--source", "R-2026-0001",
            "--summary", "fictional test allegation", "--as", "omar", "--reason", REASON,
        )
    )  # fmt: skip
    allegation_id = added.split()[2]
    _fails(
        run("entities", "allegations", "status", allegation_id, "credible", "--as", "omar",
            "--reason", REASON),
        "cannot also find it credible",
    )  # fmt: skip
    _ok(run("entities", "allegations", "status", allegation_id, "credible", "--as", "olga",
            "--reason", REASON))  # fmt: skip
    listed = json.loads(_ok(run("entities", "allegations", "list", "--json")))
    assert [("credible", "R-2026-0001")] == [(a["status"], a["source_ref"]) for a in listed]

    _ok(run("entities", "vetting", "open", "Example Ridge Battalion", "--purpose",
            "security_assistance", "--lists", "fictional-demo", "--as", "olga"))  # fmt: skip
    _ok(run("entities", "vetting", "add-subject", "V-1", "Example Person Commander",
            "--role", "commander", "--birth-date", "1971", "--as", "olga"))  # fmt: skip
    shown = _ok(run("entities", "vetting", "screen", "V-1", "--as", "olga"))
    assert "BLOCKS: credible allegation" in shown
    _fails(run("entities", "vetting", "decide", "V-1", "approve", "--as", "olga",
               "--reason", REASON), "two-person override")  # fmt: skip
    requested = _ok(run("entities", "vetting", "request-override", "V-1", "--as", "olga",
                        "--reason", "training only, monitored by the embassy"))  # fmt: skip
    approval_id = requested.split("#")[1].split()[0]
    _fails(run("entities", "vetting", "decide-override", approval_id, "approve", "--as",
               "olga", "--reason", REASON), "cannot also approve")  # fmt: skip
    _ok(run("entities", "vetting", "decide-override", approval_id, "approve", "--as", "omar",
            "--reason", REASON))  # fmt: skip
    case = json.loads(_ok(run("entities", "vetting", "show", "V-1", "--json")))
    assert ("approved", "omar") == (case["status"], case["decisions"][0]["override_by"])
    assert "V-1" in _ok(run("entities", "vetting", "list"))


def test_support_and_alerts(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _import_samples(run)
    _ok(run("entities", "support", "add", "contract", "Example Brick Kilns",
            "--supplier-key", "SK-1", "--ocid", "ocds-x-1", "--amount", "1200.5",
            "--currency", "PKR", "--start", "2026-01-01", "--as", "olga",
            "--reason", REASON))  # fmt: skip
    _fails(run("entities", "support", "add", "contract", "X", "--as", "olga", "--reason",
               REASON), "supplier key or the OCDS ocid")  # fmt: skip
    _fails(run("entities", "support", "add", "contract", "X", "--ocid", "o", "--start",
               "yesterday", "--as", "olga", "--reason", REASON), "YYYY-MM-DD")  # fmt: skip
    listed = json.loads(_ok(run("entities", "support", "list", "--json")))
    assert [("S-1", "1200.50")] == [(f"S-{s['id']}", s["amount"]) for s in listed]
    assert "no open alerts" in _ok(run("entities", "alerts"))
    # A new version of the fictional list raises an alert on the active contract's supplier.
    source = Path(cli.__file__).parent.parent / "screening" / "data" / "fictional-demo-list.csv"
    v2 = tmp_path / "v2.csv"
    shutil.copy(source, v2)
    with v2.open("a", encoding="utf-8") as handle:
        handle.write("fict-9,Example Brick Kilns (fictional),,Company,,,x,FICTIONAL entry,,,\n")
    imported = _ok(run("entities", "import", "fictional-demo", str(v2), "--format", "csv"))
    assert "1 new alert(s)" in imported
    (alert,) = json.loads(_ok(run("entities", "alerts", "--json")))
    assert "supplier:SK-1" == alert["subject_ref"]
    _ok(run("entities", "alerts", "--close", str(alert["id"]), "--as", "omar", "--reason", REASON))
    assert "no open alerts" in _ok(run("entities", "alerts"))
    _ok(run("entities", "support", "end", "S-1", "--as", "omar", "--reason", REASON))
    _fails(run("entities", "support", "end", "S-1", "--as", "omar", "--reason", REASON),
           "cannot become ended")  # fmt: skip
    _fails(run("entities", "support", "end", "S-x", "--as", "omar", "--reason", REASON),
           "not a support entry number")  # fmt: skip


def test_demo_preparation(run, demo_run_folder: Path, database_url: str) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """The demo saves the fictional suppliers' matches and opens one fictional case."""
    from tipaudit.cli import _context
    from tipaudit.cli.entities import prepare_demo
    from tipaudit.settings import Settings

    _import_samples(run)
    target = run.data_dir / "procurement" / "runs" / demo_run_folder.name
    shutil.copytree(demo_run_folder, target)
    settings = Settings(data_dir=run.data_dir, database_url=database_url)
    context = _context.CliContext(settings)
    try:
        prepare_demo(context)
        prepare_demo(context)  # idempotent
        services = context.services()
        matches = services.vetting.matches()
        assert {"fict-1", "fict-2", "fict-3"} == {m.entity_id for m in matches}
        assert all(m.query_ref.startswith("supplier:") for m in matches)
        cases = services.vetting.cases()
        assert 1 == len(cases)
        assert "(fictional)" in cases[0].title
    finally:
        context.close()
