"""``tipaudit country``: a country's risk profile, and its pre-departure information as PDF."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from tipaudit.cli import _context
from tipaudit.refdata.predeparture import available_languages, page_context
from tipaudit.refdata.profiles import build_profile, profile_to_dict


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"


def country(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="A country name in any language, or an ISO code."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    pdf: Path | None = typer.Option(
        None, "--pdf", help="Write the pre-departure information for this destination as PDF."
    ),
    lang: str = typer.Option(
        "en", "--lang", help=f"Language of the PDF: {', '.join(available_languages())}."
    ),
) -> None:
    """Show a country's risk profile: ILAB goods, Global Slavery Index, TIP tiers, findings."""
    services = _context.get(ctx).services()
    profile = build_profile(services.refdata, name)
    if pdf is not None:
        from tipaudit.web.pdf import predeparture_pdf

        contacts = [c for _, c in services.destinations.contacts(profile.country.alpha3)]
        page = page_context(profile, lang, contacts)
        url = f"{services.settings.base_url}/countries/{profile.country.alpha2}/pre-departure"
        pdf.write_bytes(predeparture_pdf(page, url=f"{url}?lang={lang}"))
        typer.echo(f"wrote {pdf} ({lang})")
        return
    if as_json:
        typer.echo(json.dumps(profile_to_dict(profile), indent=2, ensure_ascii=False))
        return
    console = Console(highlight=False)
    c = profile.country
    console.print(f"[bold]{c.name}[/] ({c.alpha2} / {c.alpha3})")
    goods = Table(
        "good",
        "sector",
        "forced",
        "child",
        "forced child",
        title=f"ILAB List of Goods, {profile.goods_source.edition} edition",
    )
    for g in profile.goods:
        goods.add_row(
            g.good,
            g.sector,
            *("yes" if f else "-" for f in (g.forced_labor, g.child_labor, g.forced_child_labor)),
        )
    if profile.goods:
        console.print(goods)
    gsi = profile.gsi
    if gsi is not None:
        prevalence = (
            f"{gsi.prevalence_per_1000:.1f} per 1,000"
            if gsi.prevalence_per_1000 is not None
            else "no estimate"
        )
        console.print(
            f"Global Slavery Index {profile.gsi_source.edition}: prevalence {prevalence}; "
            f"vulnerability {_pct(gsi.vulnerability.total)}/100; government response "
            f"{_pct(gsi.government_response.total)}%  ({profile.gsi_source.citation})"
        )
    placed = [f"{t.report_year} {t.tier.value}" for t in profile.tiers if t.tier is not None]
    if placed:
        console.print(f"TIP Report tiers ({profile.tiers_source.edition}): " + "; ".join(placed))
    if profile.findings is not None:
        f = profile.findings
        console.print(
            f"ILAB findings {profile.findings_source.edition}: "
            f"{f.advancement_level or 'no level'}; "
            f"Palermo Protocol ratified: {f.palermo_ratified}"
        )
    for gap in profile.gaps:
        console.print(f"[yellow]gap:[/] {gap}")
