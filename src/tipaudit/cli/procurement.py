"""``tipaudit procurement``: screen OCDS data into an explained forced-labour risk register."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from tipaudit.cli import _context
from tipaudit.errors import NotFoundError, ValidationError
from tipaudit.services.procurement import ProcurementRuns

app = typer.Typer(help="Screen procurement (OCDS) data for forced-labour risk.")

LEVEL_STYLE = {"high": "bold red", "medium": "yellow", "low": "green"}


def _parse_rates(values: list[str]) -> dict[str, float]:
    rates = {"USD": 1.0}
    for value in values:
        currency, _, rate = value.partition("=")
        try:
            number = float(rate)
        except ValueError:
            number = -1.0
        if len(currency.strip()) != 3 or number <= 0:
            raise ValidationError(f"--usd-rate {value!r}: write it as CUR=RATE, e.g. GBP=1.27")
        rates[currency.strip().upper()] = number
    return rates


@app.command("screen")
def screen_command(
    ctx: typer.Context,
    inputs: list[Path] = typer.Argument(
        ..., help="OCDS files or folders: release or record packages, JSON Lines, gzip."
    ),
    out: list[Path] = typer.Option(
        [], "--out", "-o", help="Write the register: .csv, .json, .parquet or .xlsx (repeatable)."
    ),
    html: Path | None = typer.Option(None, "--html", help="Write the HTML report with charts."),
    engine: str = typer.Option("duckdb", "--engine", help="duckdb (default) or spark."),
    on_error: str = typer.Option(
        "fail", "--on-error", help="fail: stop at unreadable input; skip: skip, count and list it."
    ),
    far_threshold: float = typer.Option(
        550_000.0, "--far-threshold", help="FAR 52.222-50 compliance-plan threshold in USD."
    ),
    usd_rate: list[str] = typer.Option(
        [], "--usd-rate", help="Rate to USD for the FAR threshold, e.g. GBP=1.27 (repeatable)."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Screen OCDS data into a ranked, explained forced-labour risk register."""
    from tipaudit.procurement.classify import Classifier
    from tipaudit.procurement.ingest import IngestOptions
    from tipaudit.procurement.outputs import write_register
    from tipaudit.procurement.rules import ScreeningConfig
    from tipaudit.procurement.screening import Progress as RunProgress
    from tipaudit.procurement.screening import screen

    if on_error not in {"fail", "skip"}:
        raise ValidationError("--on-error is fail or skip")
    mode: Literal["fail", "skip"] = "skip" if on_error == "skip" else "fail"
    for path in out:
        if path.suffix.lower() not in {".csv", ".json", ".parquet", ".xlsx"}:
            raise ValidationError(
                f"cannot write {path.name}: choose .csv, .json, .parquet or .xlsx"
            )
    context = _context.get(ctx)
    services = context.services()
    config = ScreeningConfig(far_threshold_usd=far_threshold, usd_rates=_parse_rates(usd_rate))
    console = Console(stderr=True)
    folder = ProcurementRuns(context.settings).new_folder()

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TransferSpeedColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=console,
        disable=quiet,
        transient=True,
    ) as bar:
        task: TaskID = bar.add_task("reading", total=None, detail="")

        def update(p: RunProgress) -> None:
            detail = f"{p.releases:,} releases · {p.processes:,} processes"
            if p.phase == "screening":
                bar.update(task, description="screening", detail=detail)
            else:
                bar.update(
                    task,
                    description=p.phase,
                    completed=p.done,
                    total=p.total or None,
                    detail=detail,
                )

        run = screen(
            inputs,
            folder=folder,
            refdata=services.refdata,
            classifier=Classifier.load(),
            engine=engine,
            options=IngestOptions(on_error=mode),
            config=config,
            progress=update,
            entity_flags=services.procurement_entity_flags(),
        )
    summary = run.summary
    ingest = summary["ingest"]
    levels = summary["levels"]
    rate = ingest["releases"] / max(sum(summary["seconds"].values()), 1e-9)
    typer.echo(
        f"screened {summary['rows']['processes']:,} processes from {ingest['releases']:,} "
        f"releases in {ingest['files']:,} files ({rate:,.0f} releases/s, engine {engine})"
    )
    typer.echo(f"risk: {levels['high']:,} high, {levels['medium']:,} medium, {levels['low']:,} low")
    if ingest["skipped_count"]:
        typer.echo(f"skipped {ingest['skipped_count']:,} unreadable item(s):")
        for item in ingest["skipped"][:20]:
            typer.echo(f"  {item['file']} {item['position']} {item['index']}: {item['reason']}")
    for kind, warning in sorted(ingest["warnings"].items()):
        typer.echo(f"warning {kind}: {warning['count']:,}")
    if ingest["conflict_count"]:
        typer.echo(
            "conflicting releases (same ocid and id, later date kept): "
            f"{ingest['conflict_count']:,}"
        )
    for path in out:
        count = write_register(run, path)
        typer.echo(f"wrote {count:,} rows to {path}")
    if html is not None:
        from tipaudit.web.procurement_report import write_html_report

        write_html_report(run, html)
        typer.echo(f"wrote the report to {html}")
    typer.echo(f"run {folder.name} saved in {folder}")


@app.command("rescore")
def rescore_command(
    ctx: typer.Context,
    run_id: str | None = typer.Argument(None, help="Run id (default: the newest run)."),
) -> None:
    """Recompute a run's register with the current entity-screening results.

    Confirmed watchlist matches and credible or substantiated allegations about the run's
    suppliers become factors; rejected matches and unreviewed allegations do not. The OCDS
    files are not read again.
    """
    context = _context.get(ctx)
    run = context.services().refresh_procurement_register(run_id)
    levels = run.summary["levels"]
    typer.echo(
        f"rescored run {run.folder.name} with {run.summary['entity_flags']} entity flag(s): "
        f"{levels['high']:,} high, {levels['medium']:,} medium, {levels['low']:,} low"
    )


@app.command("runs")
def runs(ctx: typer.Context) -> None:
    """List the screening runs kept in the data folder, newest last."""
    table = Table("run", "created", "processes", "high", "medium", "low", "engine")
    for run in ProcurementRuns(_context.get(ctx).settings).list():
        table.add_row(
            run.id,
            run.created,
            f"{run.processes:,}",
            str(run.levels["high"]),
            str(run.levels["medium"]),
            str(run.levels["low"]),
            run.engine,
        )
    Console().print(table)


@app.command("show")
def show(
    ctx: typer.Context,
    ocid: str = typer.Argument(..., help="The contracting process (ocid)."),
    run_id: str | None = typer.Option(None, "--run", help="Run id (default: the newest)."),
) -> None:
    """Explain one process: its level, reasons, indicator codes, actions and uncertainties."""
    from tipaudit.procurement.outputs import register_rows

    run = ProcurementRuns(_context.get(ctx).settings).open(run_id)
    rows = list(register_rows(run, ocid=ocid))
    if not rows:
        raise NotFoundError(f"{ocid!r} is not in run {run.folder.name}")
    row = rows[0]
    console = Console(highlight=False)
    console.print(f"[bold]{row['ocid']}[/]  {row['title'] or ''}")
    console.print(f"risk: [{LEVEL_STYLE[row['level']]}]{row['level']}[/] (score {row['score']})")
    console.print(
        f"buyer: {row['buyer'] or '?'}; "
        f"suppliers: {', '.join(row['suppliers']) or 'none published'}"
    )
    for reason in row["reasons"]:
        console.print(f"  • {reason}")
    if row["indicator_codes"]:
        console.print(f"indicators: {', '.join(row['indicator_codes'])}")
    console.print("actions:")
    for action in row["actions"]:
        console.print(f"  - {action}")
    for uncertainty in row["uncertainties"]:
        console.print(f"[dim]uncertain: {uncertainty}[/]")


@app.command("export")
def export(
    ctx: typer.Context,
    out: Path = typer.Argument(..., help="A .csv, .json, .parquet or .xlsx file."),
    run_id: str | None = typer.Option(None, "--run", help="Run id (default: the newest)."),
) -> None:
    """Write the register of a run to a file."""
    from tipaudit.procurement.outputs import write_register

    run = ProcurementRuns(_context.get(ctx).settings).open(run_id)
    count = write_register(run, out)
    typer.echo(f"wrote {count:,} rows to {out}")
