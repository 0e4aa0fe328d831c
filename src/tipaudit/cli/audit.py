"""``tipaudit audit``: verify the audit log, sign its head, and read recent events.

Event contents come from users and may contain anything, so they are always printed as plain
text (never as rich markup).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from tipaudit.audit import AuditRecord, VerificationReport
from tipaudit.cli import _context
from tipaudit.cli.users import CLI_ACTOR
from tipaudit.errors import ValidationError

app = typer.Typer(
    help="The tamper-evident audit log: verify it, sign its head, read recent events.",
    no_args_is_help=True,
)

_REASON_WIDTH = 60


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {noun}s"


def _console() -> Console:
    return Console(highlight=False, soft_wrap=False)


def _print_report(report: VerificationReport) -> None:
    console = _console()
    if report.ok:
        console.print(Text.assemble(("✓ ", "bold green"), report.summary()))
        return
    console.print(
        Text.assemble(
            ("✗ ", "bold red"),
            f"The audit log failed verification: {_count(len(report.problems), 'problem')} "
            f"after checking {_count(report.events_checked, 'event')} and "
            f"{_count(report.checkpoints_checked, 'checkpoint')}.",
        )
    )
    table = Table(show_header=True, header_style="bold", expand=False)
    table.add_column("Seq", justify="right", no_wrap=True)
    table.add_column("Problem", no_wrap=True)
    table.add_column("What is wrong", overflow="fold")
    for problem in report.problems:
        table.add_row(
            Text("-" if problem.seq is None else str(problem.seq)),
            Text(str(problem.kind), style="red"),
            Text(problem.message),
        )
    console.print(table)


@app.command("verify")
def verify(
    ctx: typer.Context,
    json_output: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    public_key: Path | None = typer.Option(
        None,
        "--public-key",
        exists=True,
        dir_okay=False,
        readable=True,
        help="Check checkpoints with this public key file (the signing key's .pub) instead of "
        "the installation's own key.",
    ),
) -> None:
    """Check the whole audit chain against its signed checkpoints (exit 1 on any problem)."""
    report = _context.get(ctx).audit_log().verify(public_key)
    if json_output:
        typer.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        _print_report(report)
    if not report.ok:
        raise typer.Exit(code=1)


@app.command("checkpoint")
def checkpoint(
    ctx: typer.Context,
    force: bool = typer.Option(
        False,
        "--force",
        help="Sign the head even though the log has problems (after review; needs --reason). "
        "Earlier problems stay visible to verification.",
    ),
    reason: str | None = typer.Option(
        None, "--reason", help="Why the head is signed; recorded in the audit log."
    ),
) -> None:
    """Sign the current head of the audit chain (after reviewing any unsigned events)."""
    signed = (
        _context.get(ctx).audit_log().checkpoint_now(actor=CLI_ACTOR, force=force, reason=reason)
    )
    if signed is None:
        typer.echo("The audit log is empty: there is nothing to sign.")
        return
    typer.echo(
        f"Signed the audit head at event {signed.seq} (hash {signed.hash[:16]}…) "
        f"with key {signed.key_id}."
    )


def _parse_object(value: str | None) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    object_type, sep, object_id = value.partition(":")
    if not sep or not object_type or not object_id:
        raise ValidationError(
            f"--object must look like TYPE:ID, not {value!r}", hint="for example: user:alice"
        )
    return object_type, object_id


def _shorten(text: str | None) -> str:
    if not text:
        return ""
    line = " ".join(text.split())
    return line if len(line) <= _REASON_WIDTH else line[: _REASON_WIDTH - 1] + "…"


def _print_records(records: list[AuditRecord]) -> None:
    console = _console()
    if not records:
        console.print("No audit events match.")
        return
    table = Table(show_header=True, header_style="bold")
    table.add_column("Seq", justify="right", no_wrap=True)
    table.add_column("When (UTC)", no_wrap=True)
    # Fold rather than cut long names: an auditor must see the whole actor and object.
    table.add_column("Actor", overflow="fold")
    table.add_column("Action", overflow="fold")
    table.add_column("Object", overflow="fold")
    table.add_column("Reason", overflow="fold")
    for record in records:
        table.add_row(
            Text(str(record.seq)),
            Text(record.occurred_at[:19].replace("T", " ")),
            Text(record.actor),
            Text(record.action),
            Text(f"{record.object_type}:{record.object_id}"),
            Text(_shorten(record.reason)),
        )
    console.print(table)


@app.command("log")
def log(
    ctx: typer.Context,
    limit: int = typer.Option(20, "--limit", "-n", min=1, max=1000, help="How many events."),
    action: str | None = typer.Option(None, "--action", help="Only this action, e.g. auth.logout."),
    actor: str | None = typer.Option(None, "--actor", help="Only events by this actor."),
    object_ref: str | None = typer.Option(
        None, "--object", metavar="TYPE:ID", help="Only events about this object, e.g. user:alice."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the events as JSON."),
) -> None:
    """Show the most recent audit events, newest first."""
    object_type, object_id = _parse_object(object_ref)
    records = (
        _context.get(ctx)
        .audit_log()
        .recent(limit, action=action, actor=actor, object_type=object_type, object_id=object_id)
    )
    if json_output:
        typer.echo(json.dumps([r.to_dict() for r in records], indent=2, ensure_ascii=False))
    else:
        _print_records(records)
