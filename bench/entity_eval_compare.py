"""tipaudit's matcher and nomenklatura's logic-v2 side by side, on exactly the same pairs.

    bench/nomenklatura_env.sh                       # once: creates .venv-nomenklatura
    .venv/bin/python bench/entity_eval_compare.py [--nomenklatura-python PATH] [--keep DIR]

1. Runs tipaudit's evaluation (``tipaudit.screening.evaluate``) on every labelled source in
   ``src/tipaudit/screening/data/eval`` (vendored fixtures and tipaudit's own cases).
2. Writes every pair it scored (the candidates the blocking retrieved, plus any true match it
   missed) as FtM JSON lines, runs ``bench/nomenklatura_logic_v2.py`` on them in the
   nomenklatura environment, and reads the scores back.
3. Prints precision, recall and F1 per source and part for both: tipaudit at its
   DEFAULT_THRESHOLD, logic-v2 at its own default (0.70) and at the threshold that is best for
   it on the tuning parts.

Both matchers are judged on the same candidate pairs, so the comparison is of scoring, not of
retrieval. Generated files go to a temporary folder that is deleted (unless ``--keep``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tipaudit.screening import DEFAULT_THRESHOLD
from tipaudit.screening.evaluate import (
    Report,
    available_sources,
    evaluate_sources,
    export_pairs,
    recount,
    rescore,
    scored_pairs,
    tune_threshold,
)

ROOT = Path(__file__).resolve().parents[1]
NK_PYTHON = ROOT / ".venv-nomenklatura" / "bin" / "python"
NK_SCRIPT = ROOT / "bench" / "nomenklatura_logic_v2.py"
NK_DEFAULT_THRESHOLD = 0.70


def _table(reports: list[tuple[str, Report]]) -> list[str]:
    head = "| source | part | " + " | ".join(f"{label} P / R / F1" for label, _r in reports) + " |"
    lines = [head, "|---|---|" + "---:|" * len(reports)]
    first = reports[0][1]
    for name, part, _counts in first.rows:
        cells = []
        for _label, report in reports:
            c = report.counts(name, part)
            cells.append(
                f"{c.precision:.3f} / {c.recall:.3f} / **{c.f1:.3f}** ({c.tp}/{c.fp}/{c.fn})"
            )
        lines.append(f"| {name} | {part} | " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--nomenklatura-python", type=Path, default=NK_PYTHON)
    parser.add_argument("--keep", type=Path, help="keep the pair files in this folder")
    args = parser.parse_args()
    if not args.nomenklatura_python.exists():
        raise SystemExit(
            f"{args.nomenklatura_python} is absent: run bench/nomenklatura_env.sh first"
        )
    sources, skipped = available_sources()
    for reason in skipped:
        print(f"skipped: {reason}")
    started = time.perf_counter()
    ours = evaluate_sources(sources, DEFAULT_THRESHOLD, skipped=skipped)
    ours_seconds = time.perf_counter() - started
    pairs = scored_pairs(ours, sources)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        pair_file, score_file = folder / "pairs.jsonl", folder / "logic-v2-scores.jsonl"
        written = export_pairs(pairs, pair_file)
        run = subprocess.run(
            [str(args.nomenklatura_python), str(NK_SCRIPT), str(pair_file), str(score_file)],
            check=True,
            capture_output=True,
            text=True,
        )
        scores = {}
        with score_file.open(encoding="utf-8") as handle:
            for line in handle:
                data = json.loads(line)
                scores[data["pair"]] = float(data["score"])
    nk = rescore(ours, scores)
    nk_default = recount(nk, nk.scored, NK_DEFAULT_THRESHOLD)
    tuning = [s for _n, items in nk.scored for s in items if s.case.part == "tuning"]
    nk_best, _ = tune_threshold(tuning, [round(0.50 + i * 0.01, 2) for i in range(50)])
    nk_tuned = recount(nk, nk.scored, nk_best)
    print(
        f"pairs scored by both: {written}; tipaudit evaluation {ours_seconds:.1f} s; {run.stderr.strip()}"  # noqa: E501
    )
    print()
    print(
        "Cells: precision / recall / **F1** (TP/FP/FN). "
        f"tipaudit at {DEFAULT_THRESHOLD:.2f}; logic-v2 at {NK_DEFAULT_THRESHOLD:.2f} (its default) "  # noqa: E501
        f"and at {nk_best:.2f} (best F1 on the pooled tuning parts)."
    )
    print()
    print(
        "\n".join(
            _table(
                [
                    (f"tipaudit {DEFAULT_THRESHOLD:.2f}", ours),
                    (f"logic-v2 {NK_DEFAULT_THRESHOLD:.2f}", nk_default),
                    (f"logic-v2 {nk_best:.2f}", nk_tuned),
                ]
            )
        )
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
