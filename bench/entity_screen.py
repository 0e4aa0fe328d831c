"""Entity screening throughput: the batch command, the batch API, nomenklatura and brute force.

    .venv/bin/python bench/entity_screen.py [--entries 100000] [--queries 1000000]
        [--cli-queries N] [--workers 2] [--sample 1000] [--nomenklatura-python PATH]
        [--skip-cli | --cli-only]

A seeded generator (``bench/entity_data.py``) writes a list of ``--entries`` people and
organisations (Latin, Cyrillic, Arabic and Chinese script; legal forms) and ``--queries``
names to screen, 5 % of them realistic variants of listed names (typos, swapped words, a dropped
middle name, another legal form), into a temporary folder that is deleted afterwards. Then:

(a) ``tipaudit entities import`` of the list, and ``tipaudit entities screen QUERIES --lists
    bench --out matches.csv --workers N`` on the first ``--cli-queries`` names (default: all)
    with ``--workers`` processes, as subprocesses with their own data folder: wall time, names
    per second (index build from the database included), CPU time, peak memory (max RSS of
    the largest child);
(b) ``tipaudit.screening.screen_many`` on all queries with ``--workers`` processes, writing
    the same CSV rows: wall time, names per second, peak memory, and the recall of the variant
    names (share whose listed source is flagged);
(c) on the first ``--sample`` queries: tipaudit per name (one process), a brute-force rapidfuzz
    scan of every listed name (``process.extract``, token-sort ratio, normalised names), and
    nomenklatura's logic-v2 on the same candidate pairs tipaudit's blocking proposes (run in
    ``.venv-nomenklatura``; see ``bench/nomenklatura_env.sh``): time per name and variant recall.

Prints a Markdown summary. Nothing is timed in the test suite.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from entity_data import (
    Row,
    generate_list,
    generate_queries,
    write_list,
    write_queries,
)

from tipaudit.screening import (
    DEFAULT_THRESHOLD,
    ListEntity,
    MatchIndex,
    Query,
    Scorer,
    screen,
    screen_many,
)
from tipaudit.screening.evaluate import _ftm
from tipaudit.screening.index import names_of

ROOT = Path(__file__).resolve().parents[1]
TIPAUDIT = ROOT / ".venv" / "bin" / "tipaudit"
NK_PYTHON = ROOT / ".venv-nomenklatura" / "bin" / "python"
NK_SCRIPT = ROOT / "bench" / "nomenklatura_logic_v2.py"


def _child_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _self_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return elapsed, done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def _entity(row: Row) -> ListEntity:
    return ListEntity(row.id, row.schema, (row.name,), countries=(row.country,), list_id="bench")  # type: ignore[arg-type]


def _query(row: Row) -> Query:
    return Query(row.id, row.schema, (row.name,), countries=(row.country,))  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1_000_000)
    parser.add_argument("--cli-queries", type=int, default=0, help="0: all queries")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sample", type=int, default=1000)
    parser.add_argument("--nomenklatura-python", type=Path, default=NK_PYTHON)
    parser.add_argument("--skip-cli", action="store_true")
    parser.add_argument(
        "--cli-only", action="store_true", help="only (a): the import and the screen command"
    )
    args = parser.parse_args()
    lines = [
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"list {args.entries:,} entries, {args.queries:,} queries (5 % variants of listed names)",
        f"load average at the start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}",
    ]
    with tempfile.TemporaryDirectory(prefix="tipaudit-entity-bench-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        listed, vocab = generate_list(args.entries)
        write_list(listed, folder / "list.csv")
        truth = write_queries(generate_queries(listed, vocab, args.queries), folder / "queries.csv")
        lines.append(
            f"generated in {time.perf_counter() - started:.0f} s ({len(truth):,} variants)"
        )
        env = {**os.environ, "TIPAUDIT_DATA_DIR": str(folder / "data")}

        # (a) the batch command
        if not args.skip_cli:
            seconds, _ = _run(
                [
                    str(TIPAUDIT),
                    "entities",
                    "import",
                    "bench",
                    str(folder / "list.csv"),
                    "--format",
                    "csv",
                    "--kind",
                    "sample",
                ],
                env,
            )
            lines.append(f"(a) `tipaudit entities import`: {seconds:.0f} s")
            cli_file = folder / "queries.csv"
            cli_count = args.cli_queries or args.queries
            if cli_count < args.queries:
                cli_file = folder / "cli-queries.csv"
                with (
                    (folder / "queries.csv").open(encoding="utf-8") as src,
                    cli_file.open("w", encoding="utf-8") as dst,
                ):
                    for number, line in enumerate(src):
                        if number > cli_count:
                            break
                        dst.write(line)
            cpu_before = _children_cpu()
            seconds, summary = _run(
                [
                    str(TIPAUDIT),
                    "entities",
                    "screen",
                    str(cli_file),
                    "--lists",
                    "bench",
                    "--out",
                    str(folder / "cli.csv"),
                    "--workers",
                    str(args.workers),
                ],
                env,
            )
            cpu = _children_cpu() - cpu_before
            lines.append(
                f"(a) `tipaudit entities screen --workers {args.workers}` ({cli_count:,} names): "
                f"{seconds:.0f} s, {cli_count / seconds:,.0f} names/s, "
                f"CPU {cpu:.0f} s ({cpu / cli_count * 1000:.2f} ms per name), "
                f"peak memory {_child_peak_mb():,.0f} MB; {summary}"
            )

        if args.cli_only:
            _report(lines)
            return

        # (b) screen_many on all queries
        started = time.perf_counter()
        index = MatchIndex(_entity(r) for r in listed)
        build = time.perf_counter() - started
        scorer = Scorer()
        flagged_variants = 0
        rows_written = 0

        def queries() -> list[Query]:
            out = []
            with (folder / "queries.csv").open(encoding="utf-8", newline="") as handle:
                for row in csv.DictReader(handle):
                    schema: Any = row["schema"]
                    out.append(
                        Query(row["id"], schema, (row["name"],), countries=(row["country"],))
                    )
            return out

        all_queries = queries()
        cpu_before = _self_cpu() + _children_cpu()
        started = time.perf_counter()
        with (folder / "many.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["query_id", "entity_id", "score", "match", "explanation"])
            for query, matches in screen_many(
                index, all_queries, scorer, limit=3, workers=args.workers
            ):
                for match in matches:
                    writer.writerow(
                        [query.id, match.entity_id, match.score, match.match, match.explanation]
                    )
                    rows_written += 1
                source = truth.get(query.id)
                if source and any(m.entity_id == source and m.match for m in matches):
                    flagged_variants += 1
        seconds = time.perf_counter() - started
        cpu = _self_cpu() + _children_cpu() - cpu_before
        lines.append(
            f"(b) `screen_many`, {args.workers} processes: index build {build:.0f} s; "
            f"{len(all_queries):,} names in {seconds:.0f} s = "
            f"{len(all_queries) / seconds:,.0f} names/s, "
            f"CPU {cpu:.0f} s ({cpu / len(all_queries) * 1000:.2f} ms per name, all processes) "
            f"(+ build: {(seconds + build) / 60:.1f} min); "
            f"peak memory {_self_peak_mb():,.0f} MB (parent) / "
            f"{_child_peak_mb():,.0f} MB (largest child); {rows_written:,} rows; variant recall "
            f"{flagged_variants / max(len(truth), 1):.3f} at threshold {DEFAULT_THRESHOLD}"
        )

        # (c) side by side on a sample
        sample = all_queries[: args.sample]
        sample_truth = {q.id: truth[q.id] for q in sample if q.id in truth}
        times = []
        found = 0
        pairs: list[tuple[str, Query, ListEntity]] = []
        for query in sample:
            t0 = time.perf_counter()
            matches = screen(index, query, scorer, limit=3)
            times.append(time.perf_counter() - t0)
            if query.id in sample_truth and any(
                m.entity_id == sample_truth[query.id] and m.match for m in matches
            ):
                found += 1
            for candidate in index.candidates(query):
                pairs.append((f"{query.id}|{candidate.entity.id}", query, candidate.entity))
        lines.append(
            f"(c) sample of {len(sample):,} names ({len(sample_truth)} variants): tipaudit "
            f"median {statistics.median(times) * 1000:.2f} ms, "
            f"mean {statistics.mean(times) * 1000:.2f} ms "
            f"per name; variants found {found}/{len(sample_truth)}"
        )

        # brute force: rapidfuzz over every normalised listed name
        from rapidfuzz import fuzz, process

        choices = [" ".join(sorted(n.tokens)) for e in listed for n in names_of(_entity(e))[:1]]
        ids = [e.id for e in listed]
        brute_times = []
        brute_found = 0
        for query in sample[: min(len(sample), 300)]:
            names = names_of(query)
            if not names:
                continue
            t0 = time.perf_counter()
            best = process.extract(
                names[0].sorted_key, choices, scorer=fuzz.ratio, limit=3, score_cutoff=80
            )
            brute_times.append(time.perf_counter() - t0)
            if query.id in sample_truth and any(
                ids[i] == sample_truth[query.id] for _c, _s, i in best
            ):
                brute_found += 1
        brute_variants = sum(1 for q in sample[:300] if q.id in sample_truth)
        lines.append(
            f"(c) brute-force rapidfuzz scan of {len(choices):,} names "
            f"(ratio of sorted words >= 80, first {len(brute_times)} names): "
            f"median {statistics.median(brute_times) * 1000:.1f} ms per name; "
            f"variants found {brute_found}/{brute_variants}"
        )

        # nomenklatura logic-v2 on the same candidate pairs
        if args.nomenklatura_python.exists():
            pair_file, score_file = folder / "pairs.jsonl", folder / "scores.jsonl"
            with pair_file.open("w", encoding="utf-8") as handle:
                for pair_id, query, entity in pairs:
                    handle.write(
                        json.dumps(
                            {"pair": pair_id, "left": _ftm(query), "right": _ftm(entity)},
                            ensure_ascii=False,
                        )
                        + "\n"
                    )
            run = subprocess.run(
                [str(args.nomenklatura_python), str(NK_SCRIPT), str(pair_file), str(score_file)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            nk_found = 0
            with score_file.open(encoding="utf-8") as handle:
                for line in handle:
                    data = json.loads(line)
                    query_id, entity_id = data["pair"].split("|", 1)
                    if sample_truth.get(query_id) == entity_id and data["score"] >= 0.7:
                        nk_found += 1
            per_pair = run.stderr.strip()
            lines.append(
                f"(c) nomenklatura logic-v2 on the same {len(pairs):,} candidate pairs "
                f"({len(pairs) / max(len(sample), 1):.0f} per name): {per_pair}; variants found "
                f"{nk_found}/{len(sample_truth)} at 0.70"
            )
        else:
            lines.append("(c) nomenklatura: skipped (run bench/nomenklatura_env.sh)")
    _report(lines)


def _report(lines: list[str]) -> None:
    lines.append(f"load average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("\n".join(f"- {line}" for line in lines))


if __name__ == "__main__":
    main()
