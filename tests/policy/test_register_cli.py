"""``tipaudit policy register|version|assess``: the register and assessments from the shell."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tipaudit import cli
from tipaudit.core.roles import Role
from tipaudit.services.container import build_services
from tipaudit.settings import Settings

TEXTS = Path(__file__).resolve().parents[2] / "src" / "tipaudit" / "policy" / "texts"
PASSWORD = "a long enough passphrase"


@pytest.fixture
def run(tmp_path: Path, database_url: str) -> Any:
    runner = CliRunner()
    env = {"TIPAUDIT_DATA_DIR": str(tmp_path / "data"), "TIPAUDIT_DATABASE_URL": database_url}
    app = cli.app

    def invoke(*args: str) -> Any:
        return runner.invoke(app, ["policy", *args], env=env)

    invoke.settings = Settings(  # type: ignore[attr-defined]
        data_dir=tmp_path / "data", database_url=database_url
    )
    return invoke


def _user(run: Any, username: str) -> None:
    services = build_services(run.settings)
    try:
        services.accounts.create_user(username, PASSWORD, roles={Role.POLICY_ANALYST})
    finally:
        services.close()


def test_register_version_and_show(run: Any, tmp_path: Path) -> None:
    added = run(
        "register", "add", "TVPA contracts and compliance plans", "--type",
        "procurement_framework", "--slug", "tvpa-contracts", "--jurisdiction", "United States",
    )  # fmt: skip
    assert 0 == added.exit_code, added.output
    assert "registered tvpa-contracts" in added.output
    text = TEXTS / "us-22usc7104-7104a-prevention-contracts-compliance-plan.md"
    version = run("version", "add", "tvpa-contracts", str(text), "--label", "2024", "--date",
                  "2024-01-05")  # fmt: skip
    assert 0 == version.exit_code, version.output
    assert "added version 2024 of tvpa-contracts (#1" in version.output
    draft = tmp_path / "draft.md"
    draft.write_text(
        text.read_text(encoding="utf-8").replace(
            "(D) Charging recruited employees placement or recruitment fees.", ""
        ),
        encoding="utf-8",
    )
    second = run("version", "add", "tvpa-contracts", str(draft), "--label", "draft")
    assert 0 == second.exit_code, second.output
    assert "against 2024:" in second.output
    shown = run("register", "show", "tvpa-contracts", "--json")
    assert 0 == shown.exit_code, shown.output
    data = json.loads(shown.output)
    assert ["2024", "draft"] == [v["label"] for v in data["version_history"]]
    assert "2024-01-05" == data["version_history"][0]["effective_date"]
    # the policy check on the register's newest version, with the policy's type
    checked = run("register", "check", "tvpa-contracts", "--format", "json", "--fail-on", "none")
    assert 0 == checked.exit_code, checked.output
    report = json.loads(checked.output)
    assert "procurement_framework" == report["policy_type"]
    assert {f["fingerprint"] for f in report["findings"]} == {
        f["fingerprint"] for f in data["version_history"][1]["findings"]
    }
    failing = run("register", "check", "tvpa-contracts", "--version", "draft", "--fail-on", "low")
    assert (1 if report["findings"] else 0) == failing.exit_code
    listed = run("register", "list", "--type", "procurement_framework")
    assert "tvpa-contracts" in listed.output
    assert "no policies" in run("register", "list", "--type", "visa_scheme").output
    # mistakes are messages with exit code 2, never tracebacks
    for args, message in (
        (("register", "add", "X rules", "--type", "nonsense"), "Unknown policy type"),
        (("version", "add", "tvpa-contracts", str(text), "--label", "again"), "already version"),
        (("version", "add", "nope", str(text), "--label", "x"), "no policy"),
        (("version", "add", "tvpa-contracts", str(draft), "--label", "x", "--date", "soon"),
         "not a date"),
        (("register", "show", "nope"), "no policy"),
    ):  # fmt: skip
        result = run(*args)
        assert 2 == result.exit_code, (args, result.output)
        assert message in result.output
        assert "Traceback" not in result.output


def _answers(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def test_assess_from_answers_file(run: Any, tmp_path: Path) -> None:
    _user(run, "lara")
    _user(run, "pete")
    assert 0 == run("register", "add", "Rules", "--type", "recruitment_regulation",
                    "--slug", "rules").exit_code  # fmt: skip
    doc = _answers(tmp_path, "rules.txt", "Article 1. Recruiters shall be licensed.\n")
    assert 0 == run("version", "add", "rules", str(doc), "--label", "v1").exit_code
    from tipaudit.policy.rubrics import load_rubric

    items = [i.id for i in load_rubric("fair-recruitment").items_for_type("recruitment_regulation")]
    lines = "\n".join(f"  {item}: yes" for item in items[1:])
    lara = _answers(
        tmp_path,
        "lara.yaml",
        f"expertise: labour_rights\nanswers:\n  {items[0]}:\n    answer: no\n"
        f"    comment: Article 1 is silent on fees.\n{lines}\n",
    )
    first = run("assess", "rules", "--rubric", "fair-recruitment", "--answers", str(lara),
                "--as", "lara", "--require", "lara=labour_rights", "--require",
                "pete=procurement", "--sign-off")  # fmt: skip
    assert 0 == first.exit_code, first.output
    assert "started assessment" in first.output
    assert f"recorded {len(items)} changed answer(s) by lara" in first.output
    assert "waiting for sign-off by: pete" in first.output
    assert f"[high] {items[0]}: no" in first.output or f"{items[0]}: no" in first.output
    pete = _answers(tmp_path, "pete.yaml", "answers:\n" + "\n".join(f"  {i}: yes" for i in items))
    second = run("assess", "rules", "--rubric", "fair-recruitment", "--answers", str(pete),
                 "--as", "pete", "--sign-off")  # fmt: skip
    assert 0 == second.exit_code, second.output
    assert "the assessment is final" in second.output
    assert "1 disagreement(s)" in second.output


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("answers: [1, 2]", "expected a mapping"),
        ("answers:\n  fr-x: maybe\n", "not one of"),
        ("answers:\n  no-such-item: yes\n", "asks no item"),
        ("answers:\n  a: {answer: yes, colour: red}\n", "unknown key"),
        ("answers:\n  a: {answer: yes, comment: [1]}\n", "comment must be text"),
        ("answers:\n  a:\n", "give an answer"),
        ("answers: {a: yes}\nextra: 1\n", "unknown key(s): extra"),
        ("answers: {}\n", "no answers"),
        ("answers: {a: [unclosed\n", "not valid YAML"),
        ("answers:\n  a:\n    answer: yes\n    comment: " + "x" * 2500 + "\n", "at most"),
    ],
)
def test_assess_refuses_bad_answer_files(run: Any, tmp_path: Path, body: str, message: str) -> None:
    _user(run, "lara")
    run("register", "add", "Rules", "--type", "recruitment_regulation", "--slug", "rules")
    doc = _answers(tmp_path, "rules.txt", "Article 1. Recruiters shall be licensed.\n")
    run("version", "add", "rules", str(doc), "--label", "v1")
    path = _answers(tmp_path, "answers.yaml", body.replace("fr-x", "fr-no-fees"))
    result = run("assess", "rules", "--rubric", "fair-recruitment", "--answers", str(path),
                 "--as", "lara", "--expertise", "labour_rights")  # fmt: skip
    assert 2 == result.exit_code, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_assess_refuses_binary_and_huge_files(run: Any, tmp_path: Path) -> None:
    _user(run, "lara")
    run("register", "add", "Rules", "--type", "recruitment_regulation", "--slug", "rules")
    doc = _answers(tmp_path, "rules.txt", "Article 1. Recruiters shall be licensed.\n")
    run("version", "add", "rules", str(doc), "--label", "v1")
    binary = tmp_path / "answers.bin"
    binary.write_bytes(b"\xff\xfe\x00\x01" * 10)
    huge = tmp_path / "huge.yaml"
    huge.write_bytes(b"answers:\n" + b"  a: yes\n" * 200_000)
    for path, message in (
        (binary, "not UTF-8"),
        (huge, "at most 1 MB"),
        (tmp_path / "x", "no such"),
    ):
        result = run("assess", "rules", "--rubric", "fair-recruitment", "--answers", str(path),
                     "--as", "lara", "--expertise", "labour_rights")  # fmt: skip
        assert 2 == result.exit_code, result.output
        assert message in result.output
    unknown = run("assess", "rules", "--rubric", "fair-recruitment", "--answers", str(doc),
                  "--as", "nobody")  # fmt: skip
    assert 2 == unknown.exit_code


def test_prepare_demo_registers_the_bundled_texts(run: Any) -> None:
    """The demo registers the real texts, checks them, shows a diff and opens an assessment."""
    from tipaudit.cli._context import CliContext
    from tipaudit.cli.policy_register import DEMO_ASSESSED, DEMO_POLICIES, prepare_demo

    _user(run, "admin")
    context = CliContext(settings=run.settings)
    try:
        prepare_demo(context)
        review = context.services().policies
        slugs = {p.slug for p in review.list_policies()}
        assert {slug for slug, _, _ in DEMO_POLICIES.values()} == slugs
        versions = review.versions(DEMO_ASSESSED)
        assert 2 == len(versions)
        diff = review.diff(DEMO_ASSESSED, versions[1].id)
        assert {"missing-fees-ban", "missing-docs-ban"} <= {f["rule_id"] for f in diff.new}
        assert [] == diff.resolved
        # the real US Code texts are protective or neutral: no risk finding from the fee clause
        assert not [f for f in versions[0].findings if f["rule_id"] == "missing-fees-ban"]
        (assessment,) = review.assessments(DEMO_ASSESSED)
        assert ["admin"] == assessment.waiting_for
        prepare_demo(context)  # a second run changes nothing
        assert 2 == len(review.versions(DEMO_ASSESSED))
    finally:
        context.close()
