"""``tipaudit entities evaluate``: how well the matcher does on the labelled sets.

Registered on the ``entities`` app (``cli/entities.py``). Reads the vendored fixtures and
tipaudit's own cases in ``screening/data/eval`` (or ``--data``); sources whose files are absent
are skipped with a message. See ``docs/entity-matching.md``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from tipaudit.errors import ValidationError
from tipaudit.screening import DEFAULT_THRESHOLD
from tipaudit.screening.evaluate import (
    EVAL_DATA,
    Report,
    available_sources,
    evaluate_sources,
    export_pairs,
    per_category,
    scored_pairs,
)

_LABELS = {
    "un_perturbed": "UN names perturbed by yente (170)",
    "negatives": "synthetic negatives vs UN list",
    "senzing": "Senzing customers vs watchlist",
    "own": "tipaudit's own cases",
    "all": "all sources pooled",
}


def _report_dict(report: Report) -> dict[str, Any]:
    return {
        "threshold": report.threshold,
        "rows": [
            {
                "source": name,
                "part": part,
                "queries": c.queries,
                "tp": c.tp,
                "fp": c.fp,
                "fn": c.fn,
                "precision": round(c.precision, 4),
                "recall": round(c.recall, 4),
                "f1": round(c.f1, 4),
            }
            for name, part, c in report.rows
        ],
        "candidate_recall": [
            {
                "source": r.source,
                "true_pairs": r.pairs,
                "retrieved": r.retrieved,
                "rate": round(r.rate, 4),
                "brute_force_matches": r.brute_matches,
                "brute_force_matches_retrieved": r.brute_retrieved,
            }
            for r in report.recall
        ],
        "skipped": list(report.skipped),
    }


def evaluate(
    threshold: float = typer.Option(
        DEFAULT_THRESHOLD, "--threshold", help="Score from which a pair counts as a match."
    ),
    data: Path | None = typer.Option(
        None,
        "--data",
        help="Folder with yente/, senzing/ and own-cases.csv (default: the bundled cases).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
    categories: bool = typer.Option(
        False, "--categories", help="Also split tipaudit's own cases by category."
    ),
    export: Path | None = typer.Option(
        None,
        "--export-pairs",
        help="Write every scored pair as FtM JSON lines (for another matcher).",
    ),
) -> None:
    """Precision, recall and F1 per source and part (tuning / held back), candidate recall."""
    if not 0.0 <= threshold <= 1.0:
        raise ValidationError("--threshold must be between 0 and 1")
    data = data if data is not None else EVAL_DATA
    if not data.is_dir():
        raise ValidationError(f"{data} is not a folder")
    sources, skipped = available_sources(data)
    if not sources:
        raise ValidationError(f"no labelled source found in {data}", hint="; ".join(skipped))
    report = evaluate_sources(sources, threshold, skipped=skipped)
    if export is not None:
        written = export_pairs(scored_pairs(report, sources), export)
        typer.echo(f"{written} pairs written to {export}", err=True)
    if as_json:
        typer.echo(json.dumps(_report_dict(report), indent=2))
        return
    console = Console(width=140)
    for reason in skipped:
        typer.echo(f"skipped {reason}")
    table = Table(
        "source",
        "part",
        "queries",
        "TP",
        "FP",
        "FN",
        "precision",
        "recall",
        "F1",
        title=f"Matching quality at threshold {threshold:.2f} (counted per pair)",
    )
    for name, part, c in report.rows:
        table.add_row(
            _LABELS.get(name, name),
            part.replace("_", "-"),
            str(c.queries),
            str(c.tp),
            str(c.fp),
            str(c.fn),
            f"{c.precision:.3f}",
            f"{c.recall:.3f}",
            f"{c.f1:.3f}",
        )
    console.print(table)
    if categories:
        by_category = Table("category", "part", "TP", "FP", "FN", "F1", title="Own cases")
        for (category, part), c in per_category(report).items():
            by_category.add_row(category, part, str(c.tp), str(c.fp), str(c.fn), f"{c.f1:.3f}")
        console.print(by_category)
    recall = Table(
        "source",
        "true pairs",
        "retrieved",
        "share",
        "brute-force matches",
        "of those retrieved",
        title="Candidate recall: the blocking against a brute-force scan",
    )
    for r in report.recall:
        recall.add_row(
            _LABELS.get(r.source, r.source),
            str(r.pairs),
            str(r.retrieved),
            f"{r.rate:.3f}",
            str(r.brute_matches),
            str(r.brute_retrieved),
        )
    console.print(recall)
