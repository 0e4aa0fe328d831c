"""``tipaudit data``: reference datasets with their provenance; import newer editions; verify."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tipaudit.audit import AuditAction, AuditEntry
from tipaudit.cli import _context
from tipaudit.cli.users import CLI_ACTOR
from tipaudit.refdata import IMPORTABLE_KINDS, DatasetInfo, ReferenceData, import_dataset

app = typer.Typer(
    help="Reference data (ILAB goods and findings, Global Slavery Index, TIP tiers, OCDS): "
    "list, show provenance, import newer editions, verify checksums."
)

_KINDS_HELP = "Dataset kind: " + ", ".join(k.value for k in IMPORTABLE_KINDS) + ", ocds-schema."
_IMPORT_KINDS_HELP = "Dataset kind: " + ", ".join(k.value for k in IMPORTABLE_KINDS) + "."


def _registry(ctx: typer.Context) -> ReferenceData:
    return ReferenceData(_context.get(ctx).settings)


@app.command("list")
def list_datasets(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List every bundled and imported edition; '*' marks the one served for each kind."""
    datasets = _registry(ctx).datasets()
    if as_json:
        rows = [d.to_dict(with_origin=True) for d in datasets]
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    table = Table(caption="* the edition served for its kind")
    for name in ("kind", "edition", "records", "origin", "sha256"):
        table.add_column(name, no_wrap=True)
    table.add_column("licence", overflow="fold")
    for d in datasets:
        table.add_row(
            d.kind.value,
            f"{d.edition} *" if d.serving else d.edition,
            f"{d.records:,}",
            d.origin,
            d.checksum[:12],
            escape(_short(d.licence)),
        )
    Console().print(table)


@app.command("show")
def show(
    ctx: typer.Context,
    kind: str = typer.Argument(..., help=_KINDS_HELP),
    edition: str | None = typer.Option(
        None, "--edition", help="An edition other than the one served, e.g. 2018."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show where a dataset comes from, its licence, how to cite it, and its checksums."""
    registry = _registry(ctx)
    info = registry.dataset(kind, edition)
    if as_json:
        doc = info.to_dict(with_origin=True) | {"editions": registry.editions(kind)}
        typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    console = Console(highlight=False, soft_wrap=True)
    for line in _describe(info, registry.editions(kind)):
        console.print(escape(line))


def _describe(info: DatasetInfo, editions: list[str]) -> list[str]:
    source = info.source
    lines = [
        f"{info.title} — edition {info.edition} ({info.origin}"
        f"{', served' if info.serving else ', not served'})",
        f"kind:        {info.kind.value} (editions: {', '.join(editions)})",
        f"publisher:   {info.publisher}",
        f"licence:     {info.licence}",
        f"cite as:     {info.attribution}",
        f"records:     {info.records:,}",
    ]
    if source.repository:
        lines.append(f"source:      {source.repository}@{source.commit} {source.path}")
    if source.file_name:
        lines.append(f"source file: {source.file_name}")
    if source.url:
        lines.append(f"publisher page: {source.url}")
    if source.sha256:
        lines.append(f"source sha256: {source.sha256}")
    for label, value in (
        ("retrieved", info.retrieved),
        ("converted", info.converted),
        ("imported at", info.imported_at),
    ):
        if value:
            lines.append(f"{label + ':':<12} {value}")
    lines.append(f"checksum:    {info.checksum}")
    lines.append(f"files ({len(info.files)}) in {info.folder}:")
    lines.extend(f"  {f.sha256}  {f.path}" for f in info.files)
    lines.extend(f"note: {note}" for note in info.notes)
    return lines


@app.command("import")
def import_command(
    ctx: typer.Context,
    kind: str = typer.Argument(..., help=_IMPORT_KINDS_HELP),
    file: Path = typer.Argument(..., help="The publisher's file (XML, .xlsx or CSV)."),
    edition: str | None = typer.Option(
        None,
        "--edition",
        help="Edition year; required for ILAB files (the year of the list or report).",
    ),
) -> None:
    """Import a newer edition from the publisher's own file (validated, then installed)."""
    context = _context.get(ctx)
    info = import_dataset(context.settings, kind, file, edition=edition)
    services = context.services()
    with services.db.write() as session:
        services.audit.record(
            session,
            AuditEntry(
                actor=CLI_ACTOR,
                action=AuditAction.REFERENCE_DATA_IMPORTED,
                object_type="dataset",
                object_id=f"{info.kind.value}:{info.edition}",
                reason=None,
                details={
                    "file": info.source.file_name,
                    "sha256": info.source.sha256,
                    "records": info.records,
                },
            ),
        )
    typer.echo(
        f"imported {info.kind.value} edition {info.edition}: {info.records:,} records "
        f"from {info.source.file_name} (sha256 {info.source.sha256})"
    )
    if not info.serving:
        served = ReferenceData(_context.get(ctx).settings).dataset(info.kind)
        typer.echo(f"note: edition {served.edition} is newer and is still the one served")


@app.command("verify")
def verify(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Re-check the SHA-256 of every bundled and imported file; exit 1 if any differs."""
    checks = _registry(ctx).verify()
    failed = [c for c in checks if not c.ok]
    if as_json:
        rows = [
            {
                "dataset": c.dataset_id,
                "origin": c.origin,
                "path": str(c.path),
                "ok": c.ok,
                "problem": c.problem,
            }
            for c in checks
        ]
        typer.echo(json.dumps({"ok": not failed, "files": rows}, indent=2))
    else:
        for check in failed:
            typer.echo(f"FAILED {check.dataset_id} ({check.origin}) {check.path}: {check.problem}")
        typer.echo(f"{len(checks) - len(failed)} of {len(checks)} files match their manifests")
    if failed:
        raise typer.Exit(1)


def _short(licence: str, limit: int = 40) -> str:
    """The licence's first clause ("MIT (compilation…); …" → "MIT")."""
    text = licence.split(";", maxsplit=1)[0].split(" (", maxsplit=1)[0].strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
