"""`tipaudit policy check`: findings on real and crafted texts, baseline, exit codes, SARIF."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from tests.conftest import shared_path
from tipaudit.cli import app
from tipaudit.errors import ValidationError
from tipaudit.policy.check import apply_baseline, check_paths, fingerprint, load_baseline
from tipaudit.policy.evaluate import packaged_texts
from tipaudit.policy.report import to_sarif, to_text

TEXTS = Path(__file__).resolve().parents[2] / "src" / "tipaudit" / "policy" / "texts"
DATA = Path(__file__).resolve().parent / "data"
REGULATION = TEXTS / "fictional-ruritania-labour-migration-regulation-2026.md"
V1 = TEXTS / "fictional-model-procurement-clause-v1.md"
V2 = TEXTS / "fictional-model-procurement-clause-v2.md"


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)


@pytest.fixture
def run(tmp_path: Path, database_url: str):  # type: ignore[no-untyped-def]
    runner = CliRunner()
    env = {"TIPAUDIT_DATA_DIR": str(tmp_path / "data"), "TIPAUDIT_DATABASE_URL": database_url}

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(app, list(args), env=env)

    return invoke


def test_crafted_regulation_yields_ban_and_tied_permit_with_alternatives() -> None:
    result = check_paths([REGULATION], "labour_migration_rule")
    by_rule = {f.rule_id: f for f in result.findings}
    ban = by_rule["deployment-ban"]
    assert ban.item_id == "lm-no-ban"
    assert ban.location is not None
    assert ban.location.section == "Part 2 Article 4"
    assert ban.evidence is not None
    assert "deployment of women" in ban.evidence.match
    assert "bilateral agreements" in ban.alternative
    assert "hereby prohibited" in ban.decision
    tied = by_rule["employer-tied-permit"]
    assert tied.item_id == "lm-change-employer"
    assert "change employer without consent" in tied.alternative
    assert tied.location is not None
    assert tied.location.line_start == 26
    assert by_rule["docs-retention"].severity == "high"
    assert by_rule["missing-docs-ban"].kind == "missing_protection"
    # its protections are recognised as present
    present = {p.rule_id for p in result.protections if p.present}
    assert {
        "fees-ban",
        "grievance",
        "recruiter-licensing",
        "predeparture-info",
        "wage-protection",
    } <= present


def test_real_us_code_texts_give_no_risk_findings() -> None:
    for path in packaged_texts():
        result = check_paths([path], "other")
        assert [f for f in result.findings if f.kind == "risk"] == [], path.name
        assert result.provisions > 10


def test_real_procurement_statute_protections() -> None:
    result = check_paths(
        [TEXTS / "us-22usc7104-7104a-prevention-contracts-compliance-plan.md"],
        "procurement_framework",
    )
    status = {p.rule_id: p for p in result.protections}
    assert status["fees-ban"].present
    assert status["fees-ban"].evidence[0].section == "§ 7104(g)(4)(D)"
    assert status["docs-ban"].present
    assert status["remedy-termination"].present
    assert [f.rule_id for f in result.findings] == ["missing-grievance"]


def test_security_statutes_together_meet_the_rubric() -> None:
    result = check_paths(
        [
            TEXTS / "us-22usc2378d-leahy-law-security-forces.md",
            TEXTS / "us-22usc2370c-child-soldiers-prevention-act.md",
        ],
        "security_cooperation",
    )
    assert result.findings == ()
    assert all(p.present for p in result.protections)


def test_baseline_reports_only_new_findings(tmp_path: Path) -> None:
    first = check_paths([V1], "procurement_framework")
    assert [f.rule_id for f in first.findings] == ["missing-grievance"]
    baseline_file = tmp_path / "baseline.json"
    from tipaudit.policy.report import to_json

    baseline_file.write_text(to_json(first), encoding="utf-8")
    second = apply_baseline(
        check_paths([V2], "procurement_framework"), load_baseline(baseline_file)
    )
    assert second.suppressed == 1
    assert {f.rule_id for f in second.findings} == {"worker-pays-fees", "missing-fees-ban"}
    assert all(f.status == "new" for f in second.findings)
    assert second.fails("high")
    assert "[new]" in to_text(second)


def test_fingerprints_survive_unrelated_edits(tmp_path: Path) -> None:
    original = REGULATION.read_text(encoding="utf-8")
    edited = "# Preface\n\nA new introductory sentence.\n\n" + original.replace(
        "Article 2. The Overseas", "Article 2. The  Overseas"
    ).replace("Article 8. The employer may retain", "Article 8.  The EMPLOYER may retain")
    path = tmp_path / "edited.md"
    path.write_text(edited, encoding="utf-8")
    before = {f.fingerprint for f in check_paths([REGULATION], "labour_migration_rule").findings}
    after_result = check_paths([path], "labour_migration_rule")
    assert {f.fingerprint for f in after_result.findings} == before
    assert fingerprint("r", "(a) The  Employer, may!") == fingerprint("r", "the employer may")
    assert fingerprint("r", "the employer may") != fingerprint("r", "the employer may not")


def test_changed_finding_is_marked_changed(tmp_path: Path) -> None:
    base = check_paths([REGULATION], "labour_migration_rule")
    baseline_file = tmp_path / "b.json"
    baseline_file.write_text(json.dumps(base.to_dict()), encoding="utf-8")
    edited = REGULATION.read_text(encoding="utf-8").replace(
        "for safekeeping during the period of the contract",
        "for safekeeping until the end of the season",
    )
    path = tmp_path / "edited.md"
    path.write_text(edited, encoding="utf-8")
    result = apply_baseline(
        check_paths([path], "labour_migration_rule"), load_baseline(baseline_file)
    )
    assert [(f.rule_id, f.status) for f in result.findings] == [("docs-retention", "changed")]


def test_sarif_validates_and_works_as_baseline(
    tmp_path: Path, sarif_validator: jsonschema.Draft4Validator
) -> None:
    result = check_paths(
        [REGULATION, TEXTS / "ficticio-reglamento-visados-temporeros.md"], "labour_migration_rule"
    )
    log = to_sarif(result, tool_version="0.1.0")
    errors = sorted(sarif_validator.iter_errors(log), key=str)
    assert errors == []
    run = log["runs"][0]
    assert len(run["results"]) == len(result.findings)
    first = run["results"][0]
    assert first["level"] == "error"
    assert first["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert len(rule_ids) == len(set(rule_ids))
    assert all(
        run["tool"]["driver"]["rules"][r["ruleIndex"]]["id"] == r["ruleId"] for r in run["results"]
    )
    path = tmp_path / "b.sarif"
    path.write_text(json.dumps(log), encoding="utf-8")
    again = apply_baseline(result, load_baseline(path))
    assert again.findings == ()
    assert again.suppressed == len(result.findings)


def test_sarif_for_pdf_and_empty_result(
    tmp_path: Path, sarif_validator: jsonschema.Draft4Validator
) -> None:
    from tests.policy.test_reading import make_pdf

    pdf = make_pdf(
        tmp_path / "a b.pdf", [["Article 1. The employer may retain the worker's passport."]]
    )
    result = check_paths([pdf], "visa_scheme")
    log = to_sarif(result)
    assert list(sarif_validator.iter_errors(log)) == []
    physical = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert "region" not in physical  # PDF lines are not file lines
    assert physical["artifactLocation"]["uri"].endswith("a%20b.pdf")
    assert log["runs"][0]["results"][0]["properties"]["page"] == 1
    empty = check_paths([TEXTS / "us-22usc7106-tvpa-minimum-standards.md"], "other")
    assert list(sarif_validator.iter_errors(to_sarif(empty))) == []


def test_vendored_sarif_schema_matches_shared() -> None:
    shared = shared_path("data", "classifications", "sarif", "sarif-schema-2.1.0.json")
    vendored = DATA / "sarif-schema-2.1.0.json"
    assert (
        hashlib.sha256(shared.read_bytes()).digest()
        == hashlib.sha256(vendored.read_bytes()).digest()
    )


def test_bad_baselines(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ValidationError, match="not a policy-check result"):
        load_baseline(path)
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(ValidationError, match="not JSON"):
        load_baseline(path)
    with pytest.raises(ValidationError, match="not found"):
        load_baseline(tmp_path / "none.json")


def test_folders_and_bad_paths(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("Workers may not change employer.", encoding="utf-8")
    (tmp_path / "docs" / "ignored.bin").write_bytes(b"\x00")
    result = check_paths([tmp_path / "docs"], "visa_scheme")
    assert [d.path for d in result.documents] == [str(tmp_path / "docs" / "a.txt")]
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValidationError, match="No readable documents"):
        check_paths([tmp_path / "empty"], "visa_scheme")
    with pytest.raises(ValidationError, match="Unknown policy type"):
        check_paths([tmp_path / "docs"], "treaty")


def test_cli_exit_codes_and_formats(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ok = run("policy", "check", str(V1), "--type", "procurement_framework", "--fail-on", "none")
    assert ok.exit_code == 0, ok.output
    assert "No grievance or complaint channel" in ok.output
    failing = run("policy", "check", str(V1), "--type", "procurement_framework")
    assert failing.exit_code == 1  # missing grievance channel is high
    base = tmp_path / "base.json"
    wrote = run(
        "policy",
        "check",
        str(V1),
        "-t",
        "procurement_framework",
        "-f",
        "json",
        "-o",
        str(base),
        "--fail-on",
        "none",
    )
    assert wrote.exit_code == 0
    assert base.exists()
    assert json.loads(base.read_text(encoding="utf-8"))["counts"]["high"] == 1
    same = run("policy", "check", str(V1), "-t", "procurement_framework", "--baseline", str(base))
    assert same.exit_code == 0, same.output  # nothing new since the accepted review
    newer = run(
        "policy",
        "check",
        str(V2),
        "-t",
        "procurement_framework",
        "--baseline",
        str(base),
        "-f",
        "sarif",
    )
    assert newer.exit_code == 1
    log = json.loads(newer.stdout)
    assert {r["ruleId"] for r in log["runs"][0]["results"]} == {
        "worker-pays-fees",
        "missing-fees-ban",
    }
    low = run("policy", "check", str(REGULATION), "-t", "labour_migration_rule", "--fail-on", "low")
    assert low.exit_code == 1


def test_cli_user_errors(run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # short relative names keep the error panel readable
    no_type = run("policy", "check", str(V1))
    assert no_type.exit_code == 2
    assert "--type" in no_type.output
    bad_format = run("policy", "check", str(V1), "-t", "other", "--format", "xml")
    assert bad_format.exit_code == 2
    bad_fail = run("policy", "check", str(V1), "-t", "other", "--fail-on", "critical")
    assert bad_fail.exit_code == 2
    bad_file = tmp_path / "x.txt"
    bad_file.write_bytes(b"\xff\xfe\xfa")
    unreadable = run("policy", "check", "x.txt", "-t", "other")
    assert unreadable.exit_code == 2
    assert "not UTF-8" in unreadable.output
    assert "Traceback" not in unreadable.output


def test_cli_rubrics(run) -> None:  # type: ignore[no-untyped-def]
    listing = run("policy", "rubrics")
    assert listing.exit_code == 0
    assert "tvpa-minimum-standards" in listing.output
    one = run("policy", "rubrics", "security-cooperation")
    assert "sc-unit-vetting [high]" in one.output
    typed = run("policy", "rubrics", "--type", "security_cooperation")
    assert typed.output.strip().startswith("security-cooperation")
