"""Procurement screening throughput: tipaudit against ocdskit compile and a bare orjson parse.

Builds a large input by replaying the real OCDS samples in ``../shared`` under fresh ocids, then
measures on the same bytes, in one run:

(a) the command users run, ``tipaudit procurement screen <dir> --quiet`` (default options,
    DuckDB, ``TIPAUDIT_DATA_DIR`` in a temporary folder), as a subprocess: end-to-end releases
    per second and the peak memory of its process tree;
(b) ``ocdskit compile --schema <vendored OCDS 1.1 release schema>`` (so it fetches nothing) on
    the same files, or on the first K of them with ``--ocdskit-files K``: its measured rate,
    nothing extrapolated;
(c) decompressing the same files (with ISA-L, as tipaudit does) and ``orjson.loads`` of every
    line, in one process: the practical ceiling of any Python tool that has to look at every
    release.

Usage::

    .venv/bin/python bench/procurement_screen.py [--releases N] [--workdir DIR] [--keep]

The input: every release in the samples (the releases of release packages, bare releases and
the embedded releases of records; not records' ``compiledRelease``, not linked releases; files
that cannot be read are skipped) is grouped by its ocid. The groups are replayed round-robin,
each time under a fresh ocid (``<original ocid>-r<replica>``), until N releases are written; the
releases of one ocid stay together, in one file, with their real content, size, shape and dates,
so merging (and the samples' own duplicates and conflicts) is exercised as in the originals.
Files are gzip JSON Lines of release packages (``"version": "1.1"``), 125,000 releases each:
even-numbered files hold one package per ocid, odd-numbered ones packages of up to 100
releases. Bare-release lines are not used: ``ocdskit compile`` stops at the first item whose
inferred version (1.0 for a release without ``parties``) differs from the first item's, and has
no option to ignore that.

The results are printed and written as Markdown (``<workdir>/results.md``, or
``--markdown FILE``). With ``--keep`` the data stay in ``<workdir>/data`` and a later run with
the same ``--workdir`` and sizes uses them again.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import importlib.metadata
import json
import os
import platform
import random
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import orjson
from isal import igzip

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT.parent / "shared" / "data" / "ocds" / "sample-data-real-examples"
SCHEMA = ROOT / "src" / "tipaudit" / "refdata" / "data" / "ocds-1.1" / "release-schema.json"
VENV_BIN = Path(sys.executable).parent
TOKEN = "@@tipaudit-bench-ocid@@"
TITLE_TOKEN = "@@tipaudit-bench-title@@"
PACKAGE_BATCH = 100
GENERATOR_VERSION = 1  # change when the generated data change, so that kept data are rebuilt


# -- the input ------------------------------------------------------------------------------


def load_templates(root: Path, *, unique_titles: bool = False) -> list[tuple[str, list[bytes]]]:
    """The sample releases grouped by ocid (first-seen order), as JSON with a placeholder ocid.

    Unreadable files (the samples hold three empty ones) are skipped. With ``unique_titles``,
    ``tender.title`` (where it is text) also gets a placeholder, for the replica number.
    """
    groups: dict[str, list[bytes]] = {}

    def take(value: Any) -> None:
        if isinstance(value, list):
            for item in value:
                take(item)
            return
        if not isinstance(value, dict):
            return
        if "ocid" in value and "releases" in value and "id" not in value:  # a record
            take([r for r in value["releases"] or [] if isinstance(r, dict) and "ocid" in r])
        elif "ocid" in value:  # a release
            ocid = value["ocid"]
            if isinstance(ocid, str) and ocid:
                value = {**value, "ocid": TOKEN}
                tender = value.get("tender")
                if (
                    unique_titles
                    and isinstance(tender, dict)
                    and isinstance(tender.get("title"), str)
                ):
                    value["tender"] = {**tender, "title": f"{tender['title']} {TITLE_TOKEN}"}
                text = orjson.dumps(value)
                assert text.count(TOKEN.encode()) == 1, ocid
                groups.setdefault(ocid, []).append(text)
        elif "releases" in value:
            take(value["releases"])
        elif "records" in value:
            take(value["records"])

    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        try:
            take(orjson.loads(path.read_bytes()))
        except (orjson.JSONDecodeError, OSError):
            continue
    return list(groups.items())


@dataclass
class FilePlan:
    path: Path
    packages_per_ocid: bool
    groups: list[tuple[int, int, int]] = field(default_factory=list)  # template, replica, count


@dataclass
class Dataset:
    files: list[str]
    releases: int
    ocids: int
    compressed: int
    uncompressed: int
    per_file: list[int]  # releases in each file
    templates: int  # distinct sample ocids replayed
    sample_releases: int  # distinct sample releases replayed
    releases_per_file: int
    unique_titles: bool = False
    version: int = GENERATOR_VERSION


def plan(
    templates: list[tuple[str, list[bytes]]], releases: int, per_file: int, folder: Path
) -> list[FilePlan]:
    """Which replayed groups go to which file: round-robin; an ocid's releases stay together."""
    order = list(range(len(templates)))
    random.Random(20261129).shuffle(order)
    plans: list[FilePlan] = []
    written = 0
    in_file = per_file
    replica = 0
    while written < releases:
        for t in order:
            count = min(len(templates[t][1]), releases - written)
            if in_file >= per_file:
                index = len(plans)
                plans.append(FilePlan(folder / f"part-{index:03d}.jsonl.gz", index % 2 == 0))
                in_file = 0
            plans[-1].groups.append((t, replica, count))
            in_file += count
            written += count
            if written >= releases:
                break
        replica += 1
    return plans


_TEMPLATES: list[tuple[str, list[bytes]]] = []


def _package(uri: str, releases: list[bytes]) -> bytes:
    head = orjson.dumps(
        {
            "uri": uri,
            "publishedDate": "2026-01-01T00:00:00Z",
            "publisher": {"name": "tipaudit benchmark: replayed real OCDS samples"},
            "version": "1.1",
        }
    )
    return head[:-1] + b',"releases":[' + b",".join(releases) + b"]}\n"


def write_file(job: FilePlan) -> tuple[int, int]:
    """Write one planned file; returns (compressed, uncompressed) bytes."""
    token = orjson.dumps(TOKEN)
    title_token = TITLE_TOKEN.encode()
    uncompressed = 0
    batch: list[bytes] = []
    line = 0
    with gzip.open(job.path, "wb", compresslevel=6) as out:

        def flush() -> None:
            nonlocal uncompressed, line
            if batch:
                data = _package(f"https://bench.invalid/{job.path.name}/{line}", batch)
                out.write(data)
                uncompressed += len(data)
                line += 1
                batch.clear()

        for t, replica, count in job.groups:
            original, releases = _TEMPLATES[t]
            new = orjson.dumps(f"{original}-r{replica:06d}")
            title = f"(r{replica:06d})".encode()
            if not job.packages_per_ocid and len(batch) + count > PACKAGE_BATCH:
                flush()
            batch.extend(
                text.replace(token, new).replace(title_token, title) for text in releases[:count]
            )
            if job.packages_per_ocid:
                flush()
        flush()
    return job.path.stat().st_size, uncompressed


def _init_worker(templates: list[tuple[str, list[bytes]]]) -> None:
    _TEMPLATES[:] = templates


def build(releases: int, per_file: int, folder: Path, *, unique_titles: bool = False) -> Dataset:
    """Write the input under ``folder`` (reusing what an earlier run left there when it fits)."""
    manifest = folder.with_name(f"{folder.name}.json")  # beside the input, not in it
    if manifest.exists():
        kept = Dataset(**json.loads(manifest.read_text(encoding="utf-8")))
        same = (kept.version, kept.releases, kept.releases_per_file, kept.unique_titles) == (
            GENERATOR_VERSION,
            releases,
            per_file,
            unique_titles,
        )
        if same and all(Path(f).exists() for f in kept.files):
            return kept
    shutil.rmtree(folder, ignore_errors=True)
    manifest.unlink(missing_ok=True)
    templates = load_templates(SAMPLES, unique_titles=unique_titles)
    if not templates:
        raise SystemExit(f"no readable OCDS releases under {SAMPLES}")
    folder.mkdir(parents=True)
    plans = plan(templates, releases, per_file, folder)
    with Pool(os.cpu_count() or 1, initializer=_init_worker, initargs=(templates,)) as pool:
        sizes = pool.map(write_file, plans, chunksize=1)
    dataset = Dataset(
        files=[str(p.path) for p in plans],
        releases=sum(c for p in plans for _, _, c in p.groups),
        ocids=len({(t, r) for p in plans for t, r, _ in p.groups}),
        compressed=sum(c for c, _ in sizes),
        uncompressed=sum(u for _, u in sizes),
        per_file=[sum(c for _, _, c in p.groups) for p in plans],
        templates=len(templates),
        sample_releases=sum(len(r) for _, r in templates),
        releases_per_file=per_file,
        unique_titles=unique_titles,
    )
    manifest.write_text(json.dumps(asdict(dataset), indent=1), encoding="utf-8")
    return dataset


# -- measuring ------------------------------------------------------------------------------


def _tree_memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) summed over ``pid`` and all its descendants, in bytes.

    RSS counts the pages that processes share (forked workers share their parent's) once per
    process, so its sum overstates; PSS splits shared pages between the processes that share
    them: its sum is the memory the tree really holds.
    """
    rss = pss = 0
    stack = [pid]
    while stack:
        current = stack.pop()
        proc = Path("/proc") / str(current)
        try:
            for line in (proc / "smaps_rollup").read_bytes().splitlines():
                if line.startswith(b"Rss:"):
                    rss += int(line.split()[1]) * 1024
                elif line.startswith(b"Pss:"):
                    pss += int(line.split()[1]) * 1024
            for task in (proc / "task").iterdir():
                stack.extend(int(c) for c in (task / "children").read_bytes().split())
        except (OSError, ValueError):
            continue
    return rss, pss


@dataclass
class Measured:
    seconds: float
    peak_pss: int  # bytes, polled: the memory of the tree, shared pages counted once
    peak_rss_sum: int  # bytes, polled: shared pages counted in every process
    max_rss: int  # bytes: the largest single process (/usr/bin/time -v); 0 if unknown
    stdout: str
    load: tuple[float, float]  # 1-minute load average before and after


def run_measured(argv: list[str], env: dict[str, str], *, shell: bool = False) -> Measured:
    """Run a command; its wall time and the peak memory of its process tree."""
    time_bin = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)
    with tempfile.NamedTemporaryFile("r", suffix=".time", delete=False) as report:
        report_path = Path(report.name)
    command = ["bash", "-c", argv[0]] if shell else argv
    if time_bin is not None:
        command = [time_bin, "-v", "-o", str(report_path), *command]
    peak_pss = peak_rss = 0
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    done = threading.Event()

    def poll() -> None:
        nonlocal peak_pss, peak_rss
        while not done.wait(0.2):
            rss, pss = _tree_memory(process.pid)
            peak_rss = max(peak_rss, rss)
            peak_pss = max(peak_pss, pss)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    out, err = process.communicate()
    seconds = time.perf_counter() - started
    done.set()
    poller.join()
    time_text = report_path.read_text(encoding="utf-8") if time_bin else ""
    report_path.unlink(missing_ok=True)
    if process.returncode != 0:
        sys.stderr.write(err.decode(errors="replace")[-4000:])
        raise SystemExit(f"failed ({process.returncode}): {shlex.join(argv)}")
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", time_text)
    max_rss = int(match.group(1)) * 1024 if match else 0
    return Measured(
        seconds,
        peak_pss,
        peak_rss,
        max_rss,
        out.decode(errors="replace"),
        (load_before, os.getloadavg()[0]),
    )


def measure_tipaudit(data: Path, workdir: Path) -> tuple[Measured, dict[str, Any]]:
    """``tipaudit procurement screen DATA --quiet``; also the run's summary (run.json)."""
    data_dir = Path(tempfile.mkdtemp(prefix="tipaudit-data-", dir=workdir))
    env = {**os.environ, "TIPAUDIT_DATA_DIR": str(data_dir)}
    argv = [str(VENV_BIN / "tipaudit"), "procurement", "screen", str(data), "--quiet"]
    try:
        measured = run_measured(argv, env)
        summaries = sorted(data_dir.glob("procurement/runs/*/run.json"))
        summary = json.loads(summaries[-1].read_text(encoding="utf-8")) if summaries else {}
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    return measured, summary


def measure_ocdskit(files: list[Path]) -> Measured:
    """``gzip -dc FILES | ocdskit compile --schema <local schema> > /dev/null``."""
    # Any attempt to reach the network would fail at once (none is made: --schema is local).
    env = {
        **os.environ,
        "HTTP_PROXY": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "",
    }
    pipeline = (
        f"set -o pipefail; gzip -dc {' '.join(shlex.quote(str(f)) for f in files)} | "
        f"{shlex.quote(str(VENV_BIN / 'ocdskit'))} compile --schema {shlex.quote(str(SCHEMA))} "
        "> /dev/null"
    )
    return run_measured([pipeline], env, shell=True)


def orjson_parse(files: list[Path]) -> tuple[float, int]:
    """Decompress every file and ``orjson.loads`` each line: (seconds, releases seen).

    Decompressed with ISA-L, as tipaudit does (Python's ``gzip`` would make this ceiling lower).
    """
    releases = 0
    started = time.perf_counter()
    for path in files:
        with igzip.open(path, "rb") as handle:
            for line in handle:
                releases += len(orjson.loads(line)["releases"])
    return time.perf_counter() - started, releases


# -- reporting ------------------------------------------------------------------------------


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def machine() -> dict[str, str]:
    memory = cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 2**20:.1f} GiB"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": cpu,
        "ram": memory,
        "os": platform.platform(terse=True),
        "python": platform.python_version(),
        "orjson": _version("orjson"),
        "isal": _version("isal"),
        "duckdb": _version("duckdb"),
        "pyarrow": _version("pyarrow"),
        "ocdskit": _version("ocdskit"),
        "ocdsmerge": _version("ocdsmerge"),
    }


def _gb(value: float) -> str:
    return f"{value / 1e9:,.2f} GB"


def _mib(value: float) -> str:
    return f"{value / 2**20:,.0f} MiB"


def _list(values: list[float]) -> str:
    return ", ".join(f"{v:,.0f}" for v in values)


@dataclass
class Results:
    info: dict[str, str]
    dataset: Dataset
    command: str
    tipaudit: list[tuple[Measured, dict[str, Any]]]
    orjson_rates: list[float]
    ocdskit: Measured | None
    ocdskit_files: int
    ocdskit_releases: int

    @property
    def tipaudit_rates(self) -> list[float]:
        return [self.dataset.releases / m.seconds for m, _ in self.tipaudit]

    @property
    def tipaudit_rate(self) -> float:
        return statistics.median(self.tipaudit_rates)

    @property
    def orjson_rate(self) -> float:
        return statistics.median(self.orjson_rates)

    @property
    def ocdskit_rate(self) -> float | None:
        return self.ocdskit_releases / self.ocdskit.seconds if self.ocdskit else None

    def median_run(self) -> tuple[Measured, dict[str, Any]]:
        return sorted(self.tipaudit, key=lambda run: run[0].seconds)[len(self.tipaudit) // 2]

    def markdown(self) -> str:
        info, data = self.info, self.dataset
        measured, summary = self.median_run()
        stages = summary.get("seconds", {})
        pss = max(m.peak_pss for m, _ in self.tipaudit)
        rss_sum = max(m.peak_rss_sum for m, _ in self.tipaudit)
        max_rss = max(m.max_rss for m, _ in self.tipaudit)
        lines = [
            f"- Machine: {info['nproc']} cores ({info['cpu']}), {info['ram']} RAM, "
            f"{info['os']}; Python {info['python']}, orjson {info['orjson']}, isal {info['isal']}, "
            f"duckdb "
            f"{info['duckdb']}, pyarrow {info['pyarrow']}, ocdskit {info['ocdskit']} "
            f"(ocdsmerge {info['ocdsmerge']}).",
            f"- Input: {data.releases:,} releases of {data.ocids:,} ocids (replaying "
            f"{data.sample_releases} real sample releases of {data.templates} ocids), "
            f"{len(data.files)} gzip JSON Lines files of release packages: "
            f"{_gb(data.compressed)} compressed, {_gb(data.uncompressed)} uncompressed"
            + ("; tender titles made unique per replica." if data.unique_titles else "."),
            "",
            "| measurement | releases | releases/s (median) | runs (releases/s) |",
            "|---|---:|---:|---|",
            f"| `tipaudit procurement screen DIR --quiet`, end to end | {data.releases:,} | "
            f"**{self.tipaudit_rate:,.0f}** | {_list(self.tipaudit_rates)} |",
        ]
        if self.ocdskit is not None and self.ocdskit_rate is not None:
            subset = (
                "all files"
                if self.ocdskit_files == len(data.files)
                else f"first {self.ocdskit_files} of {len(data.files)} files"
            )
            lines.append(
                f"| `ocdskit compile --schema release-schema.json` ({subset}) | "
                f"{self.ocdskit_releases:,} | **{self.ocdskit_rate:,.0f}** | "
                f"{self.ocdskit_rate:,.0f} |"
            )
        lines += [
            f"| gzip + `orjson.loads` of each line, one process (ceiling) | {data.releases:,} | "
            f"**{self.orjson_rate:,.0f}** | {_list(self.orjson_rates)} |",
            "",
        ]
        ratios = []
        if self.ocdskit_rate:
            ratios.append(
                f"tipaudit / ocdskit compile = **{self.tipaudit_rate / self.ocdskit_rate:.1f}x**"
            )
        ratios.append(f"tipaudit / orjson parse = **{self.tipaudit_rate / self.orjson_rate:.2f}**")
        lines.append("Ratios (of medians): " + "; ".join(ratios) + ".")
        lines += [
            "",
            f"Peak memory of tipaudit (all runs): **{_mib(pss)}** PSS summed over its process "
            f"tree (shared pages counted once); {_mib(rss_sum)} RSS summed (shared pages "
            f"counted in every process); largest single process {_mib(max_rss)} (`/usr/bin/time "
            f"-v`).",
        ]
        if self.ocdskit is not None:
            lines[-1] += f" ocdskit: {_mib(self.ocdskit.peak_pss)} PSS."
        lines += [
            f"Median run: {measured.seconds:,.1f} s in all; ingest and tables "
            f"{stages.get('ingest_seconds', '?')} s, engine {stages.get('engine_seconds', '?')} "
            f"s (from run.json). Load average (1 min) before/after each tipaudit run: "
            + ", ".join(f"{m.load[0]:.1f}/{m.load[1]:.1f}" for m, _ in self.tipaudit)
            + ".",
            "",
            "```sh",
            self.command,
            "```",
            "",
        ]
        return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--releases", type=int, default=1_000_000, help="releases to generate")
    parser.add_argument("--workdir", type=Path, help="where data go (default: a new /tmp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the generated data")
    parser.add_argument("--runs", type=int, default=3, help="runs of tipaudit and of orjson")
    parser.add_argument(
        "--releases-per-file", type=int, default=125_000, help="releases per generated file"
    )
    parser.add_argument(
        "--ocdskit-files",
        type=int,
        default=0,
        help="give ocdskit only the first K files (default: all); its rate is as measured",
    )
    parser.add_argument("--skip-ocdskit", action="store_true", help="do not run ocdskit")
    parser.add_argument(
        "--unique-titles",
        action="store_true",
        help="append the replica number to each tender title, so that no two processes share "
        "a title (as in real data; the classifier memoises per item and process text)",
    )
    parser.add_argument("--markdown", type=Path, help="write the Markdown results here")
    args = parser.parse_args(argv)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="tipaudit-bench-", dir="/tmp"))
    workdir.mkdir(parents=True, exist_ok=True)
    data = workdir / "data"
    given = sys.argv[1:] if argv is None else argv
    command = shlex.join([".venv/bin/python", "bench/procurement_screen.py", *given])
    try:
        results = _measure(args, workdir, data, command)
        markdown = results.markdown()
        print()
        print(markdown)
        target = args.markdown or workdir / "results.md"
        target.write_text(markdown, encoding="utf-8")
        print(f"(written to {target})")
    finally:
        if not args.keep:
            shutil.rmtree(data, ignore_errors=True)
            data.with_name(f"{data.name}.json").unlink(missing_ok=True)
            if args.workdir is None:
                shutil.rmtree(workdir, ignore_errors=True)
    return 0


def _measure(args: argparse.Namespace, workdir: Path, data: Path, command: str) -> Results:
    print(f"building {args.releases:,} releases in {data} ...", flush=True)
    started = time.perf_counter()
    dataset = build(args.releases, args.releases_per_file, data, unique_titles=args.unique_titles)
    files = [Path(f) for f in dataset.files]
    print(
        f"  {dataset.releases:,} releases, {dataset.ocids:,} ocids, {len(files)} files, "
        f"{_gb(dataset.compressed)} gzip ({_gb(dataset.uncompressed)} JSON) in "
        f"{time.perf_counter() - started:,.0f} s",
        flush=True,
    )
    orjson_rates: list[float] = []
    tipaudit: list[tuple[Measured, dict[str, Any]]] = []
    for run in range(args.runs):
        seconds, seen = orjson_parse(files)
        assert seen == dataset.releases, (seen, dataset.releases)
        orjson_rates.append(seen / seconds)
        print(f"orjson run {run + 1}: {seconds:,.1f} s, {orjson_rates[-1]:,.0f} releases/s")
        measured, summary = measure_tipaudit(data, workdir)
        tipaudit.append((measured, summary))
        print(
            f"tipaudit run {run + 1}: {measured.seconds:,.1f} s, "
            f"{dataset.releases / measured.seconds:,.0f} releases/s, peak PSS "
            f"{_mib(measured.peak_pss)} (RSS sum {_mib(measured.peak_rss_sum)}, largest process "
            f"{_mib(measured.max_rss)}), stages {summary.get('seconds')}, load "
            f"{measured.load[0]:.1f}/{measured.load[1]:.1f}",
            flush=True,
        )
        print("  " + measured.stdout.strip().replace("\n", "\n  "), flush=True)
    ocdskit: Measured | None = None
    ocdskit_files = files[: args.ocdskit_files or None]
    ocdskit_releases = sum(dataset.per_file[: len(ocdskit_files)])
    if not args.skip_ocdskit:
        print(
            f"ocdskit compile on {len(ocdskit_files)} file(s), {ocdskit_releases:,} releases ...",
            flush=True,
        )
        ocdskit = measure_ocdskit(ocdskit_files)
        print(
            f"ocdskit: {ocdskit.seconds:,.1f} s, {ocdskit_releases / ocdskit.seconds:,.0f} "
            f"releases/s, peak PSS {_mib(ocdskit.peak_pss)}",
            flush=True,
        )
    return Results(
        machine(),
        dataset,
        command,
        tipaudit,
        orjson_rates,
        ocdskit,
        len(ocdskit_files),
        ocdskit_releases,
    )


if __name__ == "__main__":
    sys.exit(main())
