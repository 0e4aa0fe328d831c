"""``tipaudit reports``: the daily digest of deadlines and the retention purge."""

from __future__ import annotations

import json

import typer

from tipaudit.cli import _context
from tipaudit.cli.users import CLI_ACTOR

app = typer.Typer(help="Public reports: daily digest of deadlines, retention purge.")


@app.command("digest")
def digest(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """Reports by state, missed deadlines and deadlines due in two days (no report content).

    Run it daily (cron or a systemd timer) and send the output to the intake team. The exit
    code is 1 when any deadline is missed, so a scheduler can raise an alert.
    """
    result = _context.get(ctx).services().reports.digest()
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "generated_at": result.generated_at.isoformat(),
                    "by_state": dict(result.by_state),
                    "overdue": [
                        {
                            "reference": o.reference,
                            "state": o.state,
                            "deadline": o.deadline,
                            "due": o.due.isoformat(),
                        }
                        for o in result.overdue
                    ],
                    "due_soon": [
                        {"reference": o.reference, "deadline": o.deadline, "due": o.due.isoformat()}
                        for o in result.due_soon
                    ],
                    "open_crisis": list(result.open_crisis),
                },
                indent=2,
            )
        )
    else:
        typer.echo(f"Public reports digest, {result.generated_at:%Y-%m-%d %H:%M} UTC")
        typer.echo(
            "by state: " + ", ".join(f"{state} {count}" for state, count in result.by_state.items())
        )
        if result.open_crisis:
            typer.echo("open crisis reports: " + ", ".join(result.open_crisis))
        if result.overdue:
            typer.echo(f"OVERDUE ({len(result.overdue)}):")
            for item in result.overdue:
                typer.echo(
                    f"  {item.reference}  {item.deadline} was due {item.due:%Y-%m-%d}"
                    f"  (state {item.state})"
                )
        else:
            typer.echo("no deadline is missed")
        if result.due_soon:
            typer.echo(f"due within two days ({len(result.due_soon)}):")
            for item in result.due_soon:
                typer.echo(f"  {item.reference}  {item.deadline} due {item.due:%Y-%m-%d %H:%M}")
    if result.overdue:
        raise typer.Exit(1)


@app.command("purge")
def purge(
    ctx: typer.Context,
    dry_run: bool = typer.Option(False, "--dry-run", help="List what would be deleted."),
) -> None:
    """Delete reports kept past the retention of their state, with their attachments.

    Retention per state is `TIPAUDIT_REPORTS_RETENTION_DAYS` (JSON, e.g. {"closed": 730}).
    Each purged report is recorded in the audit log (reference, state, age; never content).
    """
    result = _context.get(ctx).services().reports.purge(CLI_ACTOR, dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    typer.echo(f"{verb} {len(result.purged)} report(s)" + (": " if result.purged else ""))
    for reference in result.purged:
        typer.echo(f"  {reference}")
    if not dry_run:
        typer.echo(f"attachment files removed: {result.files_removed}")
