"""The labelled-set evaluation meets the targets, and `tipaudit policy evaluate` reports it."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.conftest import shared_path
from tipaudit.cli import app
from tipaudit.policy.evaluate import evaluate, format_table


def test_targets_on_held_out_part() -> None:
    evaluation = evaluate(None)
    held = evaluation.parts["heldout"].total("risk")
    assert held.recall is not None
    assert held.recall >= 0.9
    assert held.precision is not None
    assert held.precision >= 0.85
    for part in evaluation.parts.values():
        assert part.protective_as_risk == []
    assert evaluation.real_false_risks == []
    assert evaluation.real_provisions > 250
    missing = evaluation.parts["heldout"].total("missing")
    assert missing.recall is not None
    assert missing.recall >= 0.8
    # the ABA provisions need ../shared: without it they are listed as skipped
    assert any(s.startswith("a00") for s in evaluation.skipped)
    lines = list(format_table(evaluation))
    assert any("ALL RISKS" in line for line in lines)


def test_with_aba_clauses_from_shared() -> None:
    folder = shared_path("data", "policy-texts", "aba-model-contract-clauses-commonaccord")
    evaluation = evaluate(folder)
    assert evaluation.skipped == []
    for part in evaluation.parts.values():
        assert part.protective_as_risk == []


def test_cli_evaluate(tmp_path: Path, database_url: str) -> None:
    env = {"TIPAUDIT_DATA_DIR": str(tmp_path / "data"), "TIPAUDIT_DATABASE_URL": database_url}
    result = CliRunner().invoke(app, ["policy", "evaluate", "--json", "--check-targets"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["real_texts"]["false_risk_findings"] == 0
    assert set(data["parts"]) == {"tuning", "heldout"}
    bad = CliRunner().invoke(
        app, ["policy", "evaluate", "--aba-dir", str(tmp_path / "nope")], env=env
    )
    assert bad.exit_code == 2
