"""``tipaudit policy register|version|assess``: the policy register, its versions and guided
assessments from an answers file. See ``docs/policy-review.md``.

These commands join ``tipaudit policy`` (``cli/policy.py``) as sub-commands::

    app.add_typer(register_app, name="register")
    app.add_typer(version_app, name="version")
    app.command("assess")(assess)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import typer
import yaml

from tipaudit.cli import _context
from tipaudit.core.roles import Permission
from tipaudit.errors import NotFoundError, ValidationError
from tipaudit.policy.rubrics import POLICY_TYPES
from tipaudit.services.policy import (
    CLI_ACTOR,
    EXPERTISE,
    MAX_COMMENT_CHARS,
    PolicyInfo,
    PolicyReview,
    VersionInfo,
)

register_app = typer.Typer(help="The policy register: add policies, list them, show one.")
version_app = typer.Typer(help="Versions of a registered policy (each is checked when added).")

MAX_ANSWERS_BYTES = 1_000_000


def _review(ctx: typer.Context) -> PolicyReview:
    return _context.get(ctx).services().policies


def _parse_date(value: str, option: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{option} {value[:30]!r} is not a date (YYYY-MM-DD)") from None


def _policy_json(info: PolicyInfo) -> dict[str, Any]:
    return {
        "slug": info.slug,
        "name": info.name,
        "type": info.policy_type,
        "jurisdiction": info.jurisdiction,
        "owner": info.owner,
        "description": info.description,
        "versions": info.versions,
        "latest_version": info.latest_label,
        "latest_findings": dict(info.latest_counts),
    }


def _version_json(version: VersionInfo) -> dict[str, Any]:
    return {
        "id": version.id,
        "number": version.number,
        "label": version.label,
        "effective_date": version.effective_date.isoformat() if version.effective_date else None,
        "file_name": version.file_name,
        "sha256": version.sha256,
        "size_bytes": version.size_bytes,
        "uploaded_at": version.uploaded_at.isoformat(),
        "uploaded_by": version.uploaded_by,
        "checker": version.checker,
        "provisions": version.provisions,
        "findings": version.findings,
    }


def _counts(counts: dict[str, int] | Any) -> str:
    return ", ".join(f"{counts.get(k, 0)} {k}" for k in ("high", "medium", "low"))


@register_app.command("add")
def register_add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The policy's name, e.g. 'Overseas Employment Act'."),
    policy_type: str = typer.Option(..., "--type", help="One of: " + ", ".join(POLICY_TYPES) + "."),
    slug: str = typer.Option("", "--slug", help="Short name (default: made from the name)."),
    jurisdiction: str = typer.Option("", "--jurisdiction", help="Country or body it applies in."),
    owner: str = typer.Option("", "--owner", help="The unit that owns the policy."),
    description: str = typer.Option("", "--description", help="What the policy does."),
) -> None:
    """Add a policy to the register."""
    info = _review(ctx).register(
        CLI_ACTOR,
        name=name,
        policy_type=policy_type,
        slug=slug,
        jurisdiction=jurisdiction,
        owner=owner,
        description=description,
    )
    typer.echo(f"registered {info.slug}: {info.name} ({info.type_label})")
    typer.echo(f"add its text with: tipaudit policy version add {info.slug} FILE --label LABEL")


@register_app.command("list")
def register_list(
    ctx: typer.Context,
    policy_type: str = typer.Option("", "--type", help="Only policies of this type."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List the registered policies with their newest version's findings."""
    infos = _review(ctx).list_policies(policy_type or None)
    if as_json:
        typer.echo(json.dumps([_policy_json(i) for i in infos], indent=2, ensure_ascii=False))
        return
    if not infos:
        typer.echo("no policies registered yet; add one with: tipaudit policy register add")
        return
    for info in infos:
        latest = (
            f"version {info.latest_label}: {_counts(dict(info.latest_counts))} findings"
            if info.latest_label
            else "no versions"
        )
        typer.echo(f"{info.slug}  {info.name}  [{info.type_label}]  {latest}")


@register_app.command("show")
def register_show(
    ctx: typer.Context,
    slug: str = typer.Argument(..., help="The policy's short name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show a policy: its versions, the newest version's findings and its assessments."""
    review = _review(ctx)
    info = review.get_policy(slug)
    versions = review.versions(slug)
    assessments = review.assessments(slug)
    if as_json:
        data = _policy_json(info)
        data["version_history"] = [_version_json(v) for v in versions]
        data["assessments"] = [
            {
                "id": a.id,
                "version": a.version_label,
                "rubric": a.rubric_id,
                "status": a.status,
                "waiting_for": a.waiting_for,
            }
            for a in assessments
        ]
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    typer.echo(f"{info.name} ({info.slug})")
    typer.echo(f"  type: {info.type_label}")
    for label, value in (("jurisdiction", info.jurisdiction), ("owner", info.owner)):
        if value:
            typer.echo(f"  {label}: {value}")
    typer.echo(f"versions ({len(versions)}):")
    for v in versions:
        effective = f", effective {v.effective_date.isoformat()}" if v.effective_date else ""
        typer.echo(
            f"  {v.number}. {v.label}{effective} — {v.file_name}, sha256 {v.sha256[:12]}…, "
            f"findings: {_counts(v.counts)}"
        )
    if versions:
        diff = review.diff(slug, versions[-1].id)
        typer.echo(
            f"newest version against the one before: {len(diff.new)} new, "
            f"{len(diff.resolved)} resolved, {len(diff.unchanged)} unchanged findings"
        )
        for finding in versions[-1].findings:
            typer.echo(
                f"  [{finding['severity']}] {finding['rule_id']} at {finding['location']}: "
                f"{finding['explanation']}"
            )
    for a in assessments:
        waiting = f", waiting for {', '.join(a.waiting_for)}" if a.waiting_for else ""
        typer.echo(
            f"assessment {a.id}: version {a.version_label} against {a.rubric_id} "
            f"({a.status}{waiting})"
        )


@version_app.command("add")
def version_add(
    ctx: typer.Context,
    slug: str = typer.Argument(..., help="The policy's short name."),
    file: Path = typer.Argument(..., help="The document: TXT, Markdown, HTML, DOCX or PDF."),
    label: str = typer.Option(..., "--label", help="Version label, e.g. '2024 amendment'."),
    effective: str = typer.Option("", "--date", help="Effective date (YYYY-MM-DD)."),
) -> None:
    """Add a version of a policy; its text is checked and compared with the version before."""
    review = _review(ctx)
    version = review.add_version(
        CLI_ACTOR, slug, file, label=label, effective_date=_parse_date(effective, "--date")
    )
    diff = review.diff(slug, version.id)
    typer.echo(
        f"added version {version.label} of {slug} (#{version.number}, sha256 "
        f"{version.sha256[:12]}…): {len(version.findings)} findings ({_counts(version.counts)})"
    )
    if diff.previous is not None:
        typer.echo(
            f"against {diff.previous.label}: {len(diff.new)} new, {len(diff.resolved)} "
            f"resolved, {len(diff.unchanged)} unchanged"
        )
        for finding in diff.new:
            typer.echo(
                f"  new [{finding['severity']}] {finding['rule_id']} at {finding['location']}"
            )


@dataclass(frozen=True)
class AnswersFile:
    answers: dict[str, tuple[str, str]]
    expertise: str | None


def read_answers_file(path: Path) -> AnswersFile:
    """Read an answers file (YAML or JSON)::

    expertise: labour_rights        # optional: used when you join the assessment
    answers:
      fr-no-fees: no                 # yes | partly | no | n/a
      fr-documents:
        answer: partly
        comment: Art. 12 forbids retention by employers but not by agencies.
    """
    if not path.is_file():
        raise NotFoundError(f"no such answers file: {path}")
    if path.stat().st_size > MAX_ANSWERS_BYTES:
        raise ValidationError(f"{path.name}: an answers file may have at most 1 MB")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ValidationError(f"{path.name}: not UTF-8 text") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise ValidationError(f"{path.name}: not valid YAML{line}") from None
    if not isinstance(data, dict) or not isinstance(data.get("answers"), dict):
        raise ValidationError(
            f"{path.name}: expected a mapping with 'answers:' (item id: answer)",
            hint="see docs/policy-review.md for the format",
        )
    unknown_keys = sorted(set(data) - {"answers", "expertise"})
    if unknown_keys:
        raise ValidationError(f"{path.name}: unknown key(s): {', '.join(map(str, unknown_keys))}")
    expertise = data.get("expertise")
    if expertise is not None and not isinstance(expertise, str):
        raise ValidationError(f"{path.name}: 'expertise' must be text")
    answers: dict[str, tuple[str, str]] = {}
    for item_id, raw in data["answers"].items():
        if not isinstance(item_id, str):
            raise ValidationError(f"{path.name}: item ids must be text, not {item_id!r}")
        answers[item_id] = _one_answer(f"{path.name}: {item_id}", raw)
    if not answers:
        raise ValidationError(f"{path.name}: no answers")
    return AnswersFile(answers=answers, expertise=expertise)


def _one_answer(where: str, raw: Any) -> tuple[str, str]:
    comment: Any = ""
    value: Any = raw
    if isinstance(raw, dict):
        extra = sorted(set(map(str, raw)) - {"answer", "comment"})
        if extra:
            raise ValidationError(f"{where}: unknown key(s) {', '.join(extra)}")
        value, comment = raw.get("answer"), raw.get("comment", "")
    if isinstance(value, bool):  # YAML 1.1 reads a bare yes/no as a boolean
        value = "yes" if value else "no"
    if not isinstance(value, str):
        raise ValidationError(f"{where}: give an answer (yes, partly, no, n/a)")
    if comment is None:
        comment = ""
    if not isinstance(comment, str):
        raise ValidationError(f"{where}: the comment must be text")
    if len(comment) > MAX_COMMENT_CHARS:
        raise ValidationError(f"{where}: a comment may have at most {MAX_COMMENT_CHARS} characters")
    return value, comment


def assess(
    ctx: typer.Context,
    slug: str = typer.Argument(..., help="The policy's short name."),
    rubric: str = typer.Option(..., "--rubric", help="The rubric id (see docs/policy-rubrics.md)."),
    answers_file: Path = typer.Option(..., "--answers", help="YAML file of answers (see docs)."),
    as_user: str = typer.Option(..., "--as", help="The reviewer (a user with policy:assess)."),
    version_label: str = typer.Option("", "--version", help="Version label (default: newest)."),
    expertise: str = typer.Option(
        "", "--expertise", help="Your expertise when joining: " + ", ".join(EXPERTISE) + "."
    ),
    require: list[str] = typer.Option(
        [],
        "--require",
        help="When starting an assessment: a required reviewer as USER=EXPERTISE (repeat).",
    ),
    sign_off: bool = typer.Option(False, "--sign-off", help="Sign off after recording."),
) -> None:
    """Record one reviewer's answers to a rubric for a policy version (from a file).

    Opens an assessment of the version against the rubric when none is open; its required
    reviewers are those given with --require (default: the reviewer alone).
    """
    services = _context.get(ctx).services()
    review = services.policies
    parsed = read_answers_file(answers_file)
    user = services.accounts.get_user(as_user[:64])
    if not user.is_active:
        raise ValidationError(f"{user.username} is disabled")
    version = review.find_version(slug, version_label or None)
    expertise = expertise or parsed.expertise or ""
    assessment_id = review.open_assessment_for(slug, version.id, rubric)
    if assessment_id is None:
        required: list[tuple[str, str]] = []
        for spec in require:
            username, sep, field = spec.partition("=")
            if not sep:
                raise ValidationError(f"--require {spec[:60]!r}: write USER=EXPERTISE")
            required.append((username, field))
        if not required:
            if not expertise:
                raise ValidationError("give --expertise (or 'expertise:' in the answers file)")
            required = [(user.username, expertise)]
        assessment_id = review.start_assessment(
            f"cli:{user.username}", slug, version.id, rubric, required
        )
        typer.echo(f"started assessment {assessment_id} of {slug} {version.label} against {rubric}")
    view = review.assessment(assessment_id)
    if view.reviewer(user.username) is None:
        if not expertise:
            raise ValidationError(
                f"{user.username} is not a reviewer of assessment {assessment_id} yet",
                hint="give --expertise to join it",
            )
        review.join_assessment(user, assessment_id, expertise)
    changed = review.answer(user, assessment_id, parsed.answers)
    typer.echo(
        f"recorded {changed} changed answer(s) by {user.username} in assessment {assessment_id}"
    )
    if sign_off:
        final = review.sign_off(user, assessment_id)
        typer.echo(f"{user.username} signed off" + ("; the assessment is final" if final else ""))
    view = review.assessment(assessment_id)
    result = view.result
    score = f"{result.score:.0f}" if result.score is not None else "—"
    typer.echo(
        f"status: {view.status}; answered {result.answered}/{result.applicable} items; "
        f"score {score}; {len(result.findings)} finding(s); "
        f"{len(view.disagreements)} disagreement(s)"
    )
    if view.waiting_for:
        typer.echo(f"waiting for sign-off by: {', '.join(view.waiting_for)}")
    for finding in result.findings:
        typer.echo(f"  [{finding.severity}] {finding.item_id}: {finding.answer.value}")
        typer.echo(f"      recommended: {finding.alternative}")


@register_app.command("check")
def register_check(
    ctx: typer.Context,
    slug: str = typer.Argument(..., help="The policy's short name."),
    version_label: str = typer.Option("", "--version", help="Version label (default: newest)."),
    baseline: Path | None = typer.Option(
        None, "--baseline", help="JSON or SARIF output of an accepted earlier run."
    ),
    fail_on: str = typer.Option("high", "--fail-on", help="high, medium, low or none."),
    output_format: str = typer.Option("text", "--format", "-f", help="text, json or sarif."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the report to this file."),
) -> None:
    """Run `tipaudit policy check` on a registered policy's document, with the policy's type."""
    from tipaudit.cli.policy import run_check

    review = _review(ctx)
    info = review.get_policy(slug)
    version = review.find_version(info.slug, version_label or None)
    code = run_check(
        [review.document_path(version)],
        policy_type=info.policy_type,
        baseline=baseline,
        fail_on=fail_on,
        output_format=output_format,
        out=out,
    )
    if code:
        raise typer.Exit(code)


def policy_for_check(ctx: typer.Context, slug: str) -> tuple[list[Path], str]:
    """For ``tipaudit policy check --policy SLUG``: the newest version's document and the
    policy's type, from the register."""
    review = _review(ctx)
    info = review.get_policy(slug)
    version = review.find_version(slug, None)
    return [review.document_path(version)], info.policy_type


# --- the demo --------------------------------------------------------------------------------

# Bundled texts (src/tipaudit/policy/texts/, US Code, public domain) the demo registers:
# file stem -> (slug, name, policy type). Their provenance is in the texts' folder.
DEMO_POLICIES: dict[str, tuple[str, str, str]] = {
    "us-22usc7104-7104a-prevention-contracts-compliance-plan": (
        "us-tvpa-contracts",
        "TVPA: prevention, contract termination and compliance plans (22 U.S.C. 7104, 7104a)",
        "procurement_framework",
    ),
    "us-22usc7106-tvpa-minimum-standards": (
        "us-tvpa-minimum-standards",
        "TVPA minimum standards (22 U.S.C. 7106)",
        "other",
    ),
    "us-22usc7102-tvpa-definitions": (
        "us-tvpa-definitions",
        "TVPA definitions (22 U.S.C. 7102)",
        "other",
    ),
    "us-22usc2370c-child-soldiers-prevention-act": (
        "us-child-soldiers-prevention-act",
        "Child Soldiers Prevention Act (22 U.S.C. 2370c)",
        "security_cooperation",
    ),
    "us-22usc2378d-leahy-law-security-forces": (
        "us-leahy-law",
        "Leahy law: assistance to units of security forces (22 U.S.C. 2378d)",
        "security_cooperation",
    ),
}
DEMO_ASSESSED = "us-tvpa-contracts"
DEMO_RUBRIC = "procurement-safeguards"
# Protective clauses the demo's illustrative draft leaves out, to show a diff between versions.
DEMO_REMOVED = (
    "(D) Charging recruited employees placement or recruitment fees.",
    "(A) Destroying, concealing, removing, confiscating, or otherwise denying an employee "
    "access to that employee\N{RIGHT SINGLE QUOTATION MARK}s identity or immigration documents.",
)


def prepare_demo(context: _context.CliContext) -> None:
    """Register the bundled real policy texts, add their versions (checked automatically), add
    an illustrative draft that drops two protections, and open one assessment, so the console
    shows the register, findings, a diff and an assessment. Does nothing when policies exist."""
    services = context.services()
    review = services.policies
    if review.list_policies():
        return
    folder = Path(str(resources.files("tipaudit") / "policy" / "texts"))
    if not folder.is_dir():
        typer.echo("no bundled policy texts in this build; skipping the policy demo")
        return
    actor = "system:demo"
    for stem, (slug, name, policy_type) in DEMO_POLICIES.items():
        path = folder / f"{stem}.md"
        if not path.is_file():
            continue
        review.register(
            actor,
            slug=slug,
            name=name,
            policy_type=policy_type,
            jurisdiction="United States",
            owner="US Congress (US Code, public domain)",
            description=f"Bundled real text: {stem}.md (source: uscode.house.gov).",
        )
        version = review.add_version(actor, slug, path, label="US Code (current)")
        typer.echo(
            f"policy {slug}: {len(version.findings)} automatic finding(s) "
            f"({_counts(version.counts)})"
        )
    if DEMO_ASSESSED not in {p.slug for p in review.list_policies()}:
        return
    original = review.find_version(DEMO_ASSESSED, None)
    text = review.document_path(original).read_text(encoding="utf-8")
    draft = text
    for clause in DEMO_REMOVED:
        draft = draft.replace(clause, "")
    if draft != text:
        target = context.settings.data_dir / "policies" / ".incoming" / "illustrative-draft.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(draft, encoding="utf-8")
        try:
            version = review.add_version(
                actor,
                DEMO_ASSESSED,
                target,
                label="Illustrative draft (demo: fee and document clauses removed)",
            )
        finally:
            target.unlink(missing_ok=True)
        diff = review.diff(DEMO_ASSESSED, version.id)
        typer.echo(
            f"illustrative draft of {DEMO_ASSESSED}: {len(diff.new)} new and "
            f"{len(diff.resolved)} resolved finding(s) against the US Code text"
        )
    admins = [u.username for u in services.accounts.list_users() if u.can(Permission.POLICY_ASSESS)]
    if admins:
        latest = review.find_version(DEMO_ASSESSED, None)
        assessment_id = review.start_assessment(
            actor, DEMO_ASSESSED, latest.id, DEMO_RUBRIC, [(admins[0], "anti_trafficking")]
        )
        typer.echo(
            f"opened assessment {assessment_id} of {DEMO_ASSESSED} against {DEMO_RUBRIC}: "
            f"/policies/{DEMO_ASSESSED}/assessments/{assessment_id}"
        )
