"""``tipaudit reports export-htcds`` and ``tipaudit reports statistics``."""

from __future__ import annotations

from pathlib import Path

import typer

from tipaudit.cli import _context
from tipaudit.cli.users import CLI_ACTOR
from tipaudit.errors import ValidationError


def export_htcds(
    ctx: typer.Context,
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Write to this .csv or .json file instead of the screen."
    ),
    fmt: str = typer.Option("", "--format", help="csv or json (default: from --out, else csv)."),
) -> None:
    """Export case data aligned with HTCDS v2.0 (no report text, contacts or identities).

    Columns are HTCDS v2.0 fields (cas_Status, vic_TraffickingStatus, ...) plus x_tipaudit_*
    columns for what HTCDS lacks (reference, category, finding, decision). The export is
    recorded in the audit log. See docs/transparency.md.
    """
    chosen = (fmt or (out.suffix.lstrip(".") if out else "csv")).lower()
    if chosen not in {"csv", "json"}:
        raise ValidationError(f"--format is csv or json, not {chosen!r}")
    services = _context.get(ctx).services()
    body = services.reports.export_htcds(CLI_ACTOR, "json" if chosen == "json" else "csv")
    if out is None:
        typer.echo(body, nl=False)
        return
    out.write_text(body, encoding="utf-8")
    typer.echo(f"wrote {out}", err=True)


def statistics(
    ctx: typer.Context,
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the CSV to this file."),
) -> None:
    """Publish the public statistics (closed quarters, small counts suppressed) as CSV.

    Newly closed quarters are frozen in the transparency ledger, exactly as the
    /transparency page does; the threshold is TIPAUDIT_REPORTS_MIN_CELL.
    """
    from tipaudit.reports.statistics import to_csv
    from tipaudit.web.routers.transparency import current_release

    body = to_csv(current_release(_context.get(ctx).services()))
    if out is None:
        typer.echo(body, nl=False)
        return
    out.write_text(body, encoding="utf-8")
    typer.echo(f"wrote {out}", err=True)


def register(app: typer.Typer) -> None:
    """Add the commands to the ``tipaudit reports`` group."""
    app.command("export-htcds")(export_htcds)
    app.command("statistics")(statistics)
