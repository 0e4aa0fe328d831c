"""``tipaudit policy``: screen policy texts like a linter, and measure the screening.

``check`` reads TXT, Markdown, HTML, DOCX and PDF files, reports risk-creating provisions and
the protections a policy of the given type lacks, compares with an accepted baseline, and sets
the exit code from ``--fail-on`` so that it can run in the CI of a repository where a ministry
drafts its regulations. ``evaluate`` measures it on the labelled set.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from tipaudit import __version__
from tipaudit.errors import ValidationError

app = typer.Typer(help="Review policies: screen policy texts and measure the screening.")

_FORMATS = ("text", "json", "sarif")
_FAIL_ON = ("high", "medium", "low", "none")


def run_check(
    paths: list[Path],
    *,
    policy_type: str | None,
    baseline: Path | None = None,
    fail_on: str = "high",
    output_format: str = "text",
    out: Path | None = None,
) -> int:
    """Check ``paths`` as one policy, print or write the report, and return the exit code.

    The register's ``--policy NAME`` lookup resolves the policy type and calls this.
    """
    from tipaudit.policy.check import apply_baseline, check_paths, load_baseline
    from tipaudit.policy.report import to_json, to_sarif, to_text
    from tipaudit.policy.rubrics import POLICY_TYPES

    if output_format not in _FORMATS:
        raise ValidationError(f"--format is one of {', '.join(_FORMATS)}")
    if fail_on not in _FAIL_ON:
        raise ValidationError(f"--fail-on is one of {', '.join(_FAIL_ON)}")
    if policy_type is None:
        raise ValidationError(
            "Say what kind of policy this is with --type.",
            hint=f"Types: {', '.join(POLICY_TYPES)}.",
        )
    result = check_paths(paths, policy_type)
    if baseline is not None:
        result = apply_baseline(result, load_baseline(baseline))
    if output_format == "json":
        rendered = to_json(result)
    elif output_format == "sarif":
        rendered = (
            json.dumps(to_sarif(result, tool_version=__version__), indent=2, ensure_ascii=False)
            + "\n"
        )
    else:
        rendered = to_text(result)
    failed = result.fails(fail_on)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(rendered, encoding="utf-8")
        counts = result.counts()
        typer.echo(
            f"wrote {out}: {len(result.findings)} finding(s) (high {counts['high']}, "
            f"medium {counts['medium']}, low {counts['low']})"
            + (f", {result.suppressed} accepted in the baseline" if result.baseline else "")
        )
    else:
        typer.echo(rendered, nl=False)
    if failed:
        typer.echo(f"policy check failed: findings at or above {fail_on}", err=True)
        return 1
    return 0


@app.command("check")
def check_command(
    paths: list[Path] = typer.Argument(
        ..., help="Policy documents or folders (.txt, .md, .html, .docx, .pdf), read as one policy."
    ),
    policy_type: str | None = typer.Option(
        None,
        "--type",
        "-t",
        help="Policy type: procurement_framework, labour_migration_rule, recruitment_regulation, "
        "visa_scheme, labour_law_coverage, security_cooperation or other.",
    ),
    baseline: Path | None = typer.Option(
        None,
        "--baseline",
        help="JSON or SARIF output of an accepted earlier run: report only new or changed "
        "findings.",
    ),
    fail_on: str = typer.Option(
        "high",
        "--fail-on",
        help="Exit 1 when a finding is at or above: high, medium, low, or none.",
    ),
    output_format: str = typer.Option(
        "text", "--format", "-f", help="text, json or sarif (SARIF 2.1.0)."
    ),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the report to this file."),
) -> None:
    """Screen policy texts for risk-creating provisions and missing protections."""
    code = run_check(
        paths,
        policy_type=policy_type,
        baseline=baseline,
        fail_on=fail_on,
        output_format=output_format,
        out=out,
    )
    if code:
        raise typer.Exit(code)


def _default_aba() -> Path | None:
    rel = Path("shared/data/policy-texts/aba-model-contract-clauses-commonaccord")
    for base in (Path.cwd(), Path.cwd().parent, Path(__file__).resolve().parents[4]):
        if (base / rel).is_dir():
            return base / rel
    return None


@app.command("evaluate")
def evaluate_command(
    aba_dir: Path | None = typer.Option(
        None,
        "--aba-dir",
        help="Folder of the ABA Model Contract Clauses (CommonAccord); default: ../shared if "
        "present.",
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the results as JSON."),
    check_targets: bool = typer.Option(
        False,
        "--check-targets",
        help="Exit 1 unless held-out recall >= 0.9 at precision >= 0.85 on risks, no protective "
        "provision is reported as a risk, and the real texts give no risk finding.",
    ),
) -> None:
    """Precision and recall of the policy check on the labelled set (tuning and held-back parts)."""
    from tipaudit.policy.evaluate import evaluate, format_table

    folder = aba_dir if aba_dir is not None else _default_aba()
    if aba_dir is not None and not aba_dir.is_dir():
        raise ValidationError(f"--aba-dir {aba_dir}: not a folder.")
    evaluation = evaluate(folder)
    if json_output:
        typer.echo(json.dumps(evaluation.to_dict(), indent=2, ensure_ascii=False))
    else:
        for line in format_table(evaluation):
            typer.echo(line)
    if check_targets:
        held = evaluation.parts["heldout"].total("risk")
        protective = sum(len(p.protective_as_risk) for p in evaluation.parts.values())
        ok = (
            (held.recall or 0) >= 0.9
            and (held.precision or 0) >= 0.85
            and protective == 0
            and not evaluation.real_false_risks
        )
        if not ok:
            typer.echo("targets not met", err=True)
            raise typer.Exit(1)


@app.command("rubrics")
def rubrics_command(
    rubric_id: str | None = typer.Argument(None, help="Show the items of this rubric."),
    policy_type: str | None = typer.Option(
        None, "--type", "-t", help="Only rubrics/items for this policy type."
    ),
) -> None:
    """List the review rubrics, or the questions of one rubric."""
    from tipaudit.policy.rubrics import load_rubric, load_rubrics, rubrics_for_type

    if rubric_id is None:
        rubrics = rubrics_for_type(policy_type) if policy_type else list(load_rubrics().values())
        for rubric in rubrics:
            typer.echo(f"{rubric.id} v{rubric.version}: {rubric.title} ({len(rubric.items)} items)")
        return
    rubric = load_rubric(rubric_id)
    typer.echo(f"{rubric.title} (v{rubric.version}) — {rubric.source.cite()}")
    items = rubric.items_for_type(policy_type) if policy_type else rubric.items
    for item in items:
        typer.echo(f"\n{item.id} [{item.severity}] {', '.join(item.indicators)}")
        typer.echo(f"  {item.question}")
        typer.echo(f"  recommended: {item.alternative}")
        typer.echo(f"  source: {'; '.join(s.cite() for s in item.sources)}")


# The policy register, its versions and guided assessments (cli/policy_register.py).
from tipaudit.cli.policy_register import assess, register_app, version_app  # noqa: E402

app.add_typer(register_app, name="register")
app.add_typer(version_app, name="version")
app.command("assess")(assess)
