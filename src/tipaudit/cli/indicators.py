"""``tipaudit indicators``: the trafficking-indicator taxonomy every finding cites."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from tipaudit.core.indicators import load_taxonomy

app = typer.Typer(help="The indicator taxonomy (ILO forced-labour indicators, trafficking acts).")


@app.command("list")
def list_indicators(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List every indicator code with its name and HTCDS mapping."""
    taxonomy = load_taxonomy()
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "version": taxonomy.version,
                    "indicators": [
                        {
                            "code": i.code,
                            "kind": i.kind,
                            "name": i.name,
                            "htcds": [f"{m.field}={m.value}" for m in i.htcds],
                        }
                        for i in taxonomy
                    ],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    table = Table("code", "name", "HTCDS", title=f"Indicator taxonomy {taxonomy.version}")
    for indicator in taxonomy:
        table.add_row(
            indicator.code,
            indicator.name,
            ", ".join(f"{m.field}={m.value}" for m in indicator.htcds) or "-",
        )
    Console().print(table)


@app.command("show")
def show(code: str) -> None:
    """Show one indicator: definition, plain wording, sources and mappings."""
    indicator = load_taxonomy().get(code)
    console = Console()
    console.print(f"[bold]{indicator.code}[/] {indicator.name}", highlight=False)
    console.print(indicator.definition, highlight=False)
    for lang, text in sorted(indicator.plain_language.items()):
        console.print(f"  {lang}: {text}", highlight=False)
    for mapping in indicator.htcds:
        console.print(f"  HTCDS {mapping.field} = {mapping.value}", highlight=False)
