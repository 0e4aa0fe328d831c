"""Policy-check throughput on a 300-page PDF, beside the physical ceiling (text extraction).

Builds a PDF of N pages (default 300) with ReportLab from the bundled real texts (US Code
sections) and the fictional migration regulation, shuffled with a fixed seed, renumbered as
articles and lightly varied (a risky sentence is slipped in every few articles so that the
rules have matches to judge, not only misses). Then measures, R times each (default 3), on the
same file:

(a) ``tipaudit policy check FILE --type labour_migration_rule --format json --out ...`` as a
    subprocess: the command users run, end to end (start-up included);
(b) ``check_paths([FILE], ...)`` plus the JSON rendering in this process;
(c) the ceiling: only ``pypdf`` text extraction of every page (what any tool reading this PDF
    must pay before it can judge anything).

Medians are printed and written as Markdown (``--markdown FILE``).

Usage::

    .venv/bin/python bench/policy_check.py [--pages 300] [--repeat 3] [--workdir DIR] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

ROOT = Path(__file__).resolve().parents[1]
TEXTS = ROOT / "src" / "tipaudit" / "policy" / "texts"
VARIANTS = (
    "The employer may retain the worker's passport for safekeeping.",
    "Workers shall pay the recruitment fees to the agency before departure.",
    "No employer shall retain, confiscate or destroy the passport of a worker.",
    "A permit holder may change employer without the consent of the current employer.",
    "The work permit shall be valid only for employment with the sponsoring employer.",
    "No recruitment fees or related costs shall be charged to workers.",
)


def paragraphs() -> list[str]:
    out: list[str] = []
    for path in sorted(TEXTS.glob("*.md")):
        if path.name == "README.md":
            continue
        for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
            text = " ".join(
                line.strip() for line in block.splitlines() if not line.startswith(("#", ">"))
            )
            if len(text) > 40:
                out.append(re.sub(r"^Article \d+\.\s*", "", text))
    return out


def build_pdf(path: Path, pages: int, seed: int) -> int:
    rng = random.Random(seed)
    source = paragraphs()
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.setTitle("Synthetic policy compilation for benchmarking (real texts, shuffled)")
    article = 0
    for _ in range(pages):
        y = 800
        pdf.setFont("Helvetica", 9)
        while y > 60:
            article += 1
            text = rng.choice(source)
            if article % 7 == 0:
                text = f"{text} {rng.choice(VARIANTS)}"
            lines = textwrap.wrap(f"Article {article}. {text}", 110)
            if y - 12 * len(lines) < 60:
                lines = lines[: max(1, (y - 60) // 12)]
            for line in lines:
                pdf.drawString(40, y, line)
                y -= 12
            y -= 8
        pdf.showPage()
    pdf.save()
    return article


def time_cli(pdf: Path, out: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [str(Path(sys.executable).parent / "tipaudit"), "policy", "check", str(pdf),
         "--type", "labour_migration_rule", "--format", "json", "--out", str(out),
         "--fail-on", "none"],
        check=True, capture_output=True,
        env={"TIPAUDIT_DATA_DIR": str(out.parent / "data"), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    return time.perf_counter() - start


def time_api(pdf: Path) -> tuple[float, int, int]:
    from tipaudit.policy.check import check_paths
    from tipaudit.policy.report import to_json

    start = time.perf_counter()
    result = check_paths([pdf], "labour_migration_rule")
    to_json(result)
    return time.perf_counter() - start, result.provisions, len(result.findings)


def time_extract(pdf: Path) -> tuple[float, int]:
    from pypdf import PdfReader

    start = time.perf_counter()
    reader = PdfReader(str(pdf))
    chars = sum(len(page.extract_text() or "") for page in reader.pages)
    return time.perf_counter() - start, chars


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--markdown", type=Path, default=None)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="policy-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    pdf = work / f"policy-{args.pages}p.pdf"
    articles = build_pdf(pdf, args.pages, args.seed)
    size = pdf.stat().st_size
    print(f"built {pdf} ({args.pages} pages, {articles} articles, {size:,} bytes)")
    cli, api, extract = [], [], []
    provisions = findings = chars = 0
    for _ in range(args.repeat):
        seconds, chars = time_extract(pdf)
        extract.append(seconds)
        seconds, provisions, findings = time_api(pdf)
        api.append(seconds)
        cli.append(time_cli(pdf, work / "out.json"))
    rows = [
        ("(a) `tipaudit policy check` (subprocess, JSON out)", statistics.median(cli)),
        ("(b) `check_paths` + JSON in-process", statistics.median(api)),
        ("(c) ceiling: pypdf text extraction only", statistics.median(extract)),
    ]
    lines = [
        f"{args.pages}-page PDF ({size:,} bytes, {chars:,} characters, {provisions:,} provisions, "
        f"{findings} findings), median of {args.repeat} runs:",
        "",
        "| what | median seconds | pages/s |",
        "|---|---:|---:|",
    ]
    lines += [f"| {name} | {sec:.2f} | {args.pages / sec:.0f} |" for name, sec in rows]
    lines.append("")
    lines.append(
        "Screening overhead over extraction: "
        f"{statistics.median(api) - statistics.median(extract):.2f} s "
        f"({statistics.median(api) / statistics.median(extract):.2f}x the ceiling)."
    )
    report = "\n".join(lines)
    print(report)
    if args.markdown:
        args.markdown.write_text(report + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
