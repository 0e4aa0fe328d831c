"""``tipaudit entities``: import watchlists and screen names or procurement suppliers against them.

A match is a flag for a person to review, never a finding. See ``docs/watchlists.md``.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from tipaudit.cli import _context
from tipaudit.errors import ValidationError
from tipaudit.screening import DEFAULT_THRESHOLD, Query, Scorer, screen
from tipaudit.screening.lists import FORMATS, read_queries
from tipaudit.services.procurement import ProcurementRuns
from tipaudit.services.watchlists import KINDS, Watchlists, run_suppliers

app = typer.Typer(help="Watchlists: import them, list them, screen names and suppliers.")

CLI_ACTOR = "system:cli"
OUTPUT_COLUMNS = (
    "query_id",
    "query_name",
    "entity_id",
    "list",
    "entity_name",
    "score",
    "match",
    "explanation",
)


def _watchlists(ctx: typer.Context) -> Watchlists:
    return _context.get(ctx).services().watchlists


@app.command("lists")
def lists(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List the imported watchlists with their newest version."""
    infos = _watchlists(ctx).lists()
    if as_json:
        rows = [
            {
                "slug": i.slug,
                "title": i.title,
                "kind": i.kind,
                "entries": i.entries,
                "version_date": i.version_date.isoformat() if i.version_date else None,
                "versions": i.versions,
                "source": i.source,
                "licence": i.licence,
            }
            for i in infos
        ]
        typer.echo(json.dumps(rows, indent=2))
        return
    if not infos:
        typer.echo("no watchlists yet; import one with: tipaudit entities import SLUG FILE")
        return
    table = Table("list", "title", "kind", "entries", "version", "versions", "licence")
    for i in infos:
        table.add_row(
            i.slug,
            i.title,
            i.kind,
            str(i.entries),
            i.version_date.isoformat() if i.version_date else "",
            str(i.versions),
            i.licence,
        )
    Console(width=160).print(table)


@app.command("import")
def import_list(
    ctx: typer.Context,
    slug: str = typer.Argument(..., help="Short name of the list: lower-case, digits, dashes."),
    file: Path = typer.Argument(..., help="The list file."),
    fmt: str = typer.Option(..., "--format", "-f", help="One of: " + ", ".join(FORMATS)),
    title: str = typer.Option("", "--title", help="Title (first import: defaults to SLUG)."),
    source: str = typer.Option("", "--source", help="Where the list comes from."),
    licence: str = typer.Option("", "--licence", help="The list's licence."),
    kind: str = typer.Option("watchlist", "--kind", help="One of: " + ", ".join(KINDS)),
    version_date: str = typer.Option(
        "", "--version-date", help="Date of this version (YYYY-MM-DD); default today."
    ),
    skip_bad: bool = typer.Option(
        False, "--skip-bad", help="Skip and count bad rows instead of stopping at the first."
    ),
) -> None:
    """Import a version of a list; prints what was added, changed and removed."""
    parsed_date: date | None = None
    if version_date:
        try:
            parsed_date = date.fromisoformat(version_date)
        except ValueError:
            raise ValidationError(
                f"--version-date {version_date[:30]!r} is not YYYY-MM-DD"
            ) from None
    result = _watchlists(ctx).import_list(
        CLI_ACTOR,
        slug,
        file,
        fmt,
        title=title,
        source=source,
        licence=licence,
        kind=kind,
        version_date=parsed_date,
        skip_bad=skip_bad,
    )
    typer.echo(
        f"imported {result.slug} (version {result.version_id}): {result.entries} entries, "
        f"{result.added} added, {result.changed} changed, {result.removed} removed, "
        f"{result.unchanged} unchanged"
    )
    if result.ignored:
        typer.echo(f"{result.ignored} record(s) of other schemata ignored")
    if result.skipped:
        typer.echo(f"{result.skipped} bad row(s) skipped, for example:")
        for problem in result.problems[:5]:
            typer.echo(f"  {problem}")


@app.command("screen")
def screen_names(
    ctx: typer.Context,
    file: Path | None = typer.Argument(
        None, help="CSV or JSON of names: id, name; optional schema, country, identifier."
    ),
    lists_option: str = typer.Option(
        ..., "--lists", "-l", help="Comma-separated lists to screen against."
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Write every candidate row to a .csv or .json file."
    ),
    threshold: float = typer.Option(
        DEFAULT_THRESHOLD, "--threshold", help="Score from which a candidate is flagged."
    ),
    run_id: str | None = typer.Option(
        None, "--run", help="Screen the suppliers of this procurement screening run."
    ),
    procurement: bool = typer.Option(
        False, "--procurement", help="Screen the suppliers of the newest procurement run."
    ),
    limit: int = typer.Option(3, "--limit", help="Candidates kept per name (1-50)."),
) -> None:
    """Screen names, or a procurement run's suppliers, against lists; flag likely matches."""
    if not 0.0 <= threshold <= 1.0:
        raise ValidationError("--threshold must be between 0 and 1")
    if not 1 <= limit <= 50:
        raise ValidationError("--limit must be between 1 and 50")
    if out is not None and out.suffix.casefold() not in {".csv", ".json"}:
        raise ValidationError("--out must end in .csv or .json")
    queries = _queries(ctx, file, run_id, procurement)
    index = _watchlists(ctx).index(lists_option.split(","))
    scorer = Scorer(threshold=threshold)
    rows: list[dict[str, Any]] = []
    for query in queries:
        for match in screen(index, query, scorer, limit=limit):
            entity = index.get(match.entity_id)
            rows.append(
                {
                    "query_id": query.id,
                    "query_name": query.names[0],
                    "entity_id": match.entity_id,
                    "list": entity.list_id if entity else "",
                    "entity_name": entity.names[0] if entity else "",
                    "score": match.score,
                    "match": match.match,
                    "explanation": match.explanation,
                }
            )
    flagged = [r for r in rows if r["match"]]
    if out is not None:
        _write(out, rows)
    else:
        table = Table("query", "name", "entity", "list", "entity name", "score")
        for r in flagged:
            table.add_row(
                r["query_id"],
                r["query_name"],
                r["entity_id"],
                r["list"],
                r["entity_name"],
                f"{r['score']:.2f}",
            )
        if flagged:
            Console(width=160).print(table)
    typer.echo(
        f"screened {len(queries)} name(s) against {len(index)} entries: "
        f"{len(flagged)} possible match(es) to review"
        + (f"; {len(rows)} candidate rows written to {out}" if out is not None else "")
    )


def _queries(
    ctx: typer.Context, file: Path | None, run_id: str | None, procurement: bool
) -> list[Query]:
    sources = sum(1 for given in (file is not None, run_id is not None, procurement) if given)
    if sources != 1:
        raise ValidationError("give exactly one of FILE, --run RUN_ID or --procurement")
    if file is not None:
        return read_queries(file)
    runs = ProcurementRuns(_context.get(ctx).settings)
    run = runs.open(run_id)
    return run_suppliers(run.folder)


def _write(out: Path, rows: list[dict[str, Any]]) -> None:
    if out.suffix.casefold() == ".json":
        out.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=OUTPUT_COLUMNS)
        writer.writeheader()
        for row in rows:
            cells = {k: _cell(v) for k, v in row.items()}
            writer.writerow({**cells, "match": "yes" if row["match"] else "no"})


def _cell(value: Any) -> Any:
    # A cell starting with = + - @ would be a formula in a spreadsheet: keep it as text.
    if isinstance(value, str) and value[:1] in {"=", "+", "-", "@", "\t", "\r"}:
        return "'" + value
    return value
