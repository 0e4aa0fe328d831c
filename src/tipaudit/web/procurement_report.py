"""The screening run as a self-contained HTML report with charts (also used by the console)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from markupsafe import Markup

from tipaudit import __version__
from tipaudit.procurement.outputs import register_rows
from tipaudit.procurement.screening import ScreeningRun
from tipaudit.procurement.summary import RunSummary, summarise
from tipaudit.web.charts import bar_chart_svg
from tipaudit.web.pages import TEMPLATES

STYLESHEET = Path(__file__).parent / "static" / "tipaudit.css"


def charts(summary: RunSummary) -> dict[str, Markup]:
    """The run's charts; each is paired with a table on the page."""
    specs = {
        "industry": (summary.by_industry, "High- and medium-risk processes by industry"),
        "country": (summary.by_country, "High- and medium-risk processes by supplier country"),
        "buyer": (summary.by_buyer, "High- and medium-risk processes by buyer"),
        "factor": (summary.by_factor, "Processes by risk factor"),
    }
    made: dict[str, Markup] = {}
    for key, (items, title) in specs.items():
        described = "; ".join(f"{label}: {value}" for label, value in items) or "none"
        made[key] = bar_chart_svg(
            [(label, float(value)) for label, value in items],
            title=title,
            description=described,
            chart_id=f"chart-{key}",
        )
    return made


def report_context(run: ScreeningRun, *, rows: int = 100) -> dict[str, Any]:
    summary = summarise(run)
    return {
        "run": run,
        "summary": summary,
        "charts": charts(summary),
        "rows": list(register_rows(run, limit=rows)),
        "version": __version__,
    }


def write_html_report(run: ScreeningRun, out: Path) -> None:
    """A single HTML file (styles inlined, no scripts) that can be mailed or archived."""
    context = report_context(run)
    context["stylesheet"] = Markup(STYLESHEET.read_text(encoding="utf-8"))  # noqa: S704 - our own file
    html = TEMPLATES.env.get_template("procurement_report_file.html").render(context)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
