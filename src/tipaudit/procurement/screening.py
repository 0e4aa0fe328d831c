"""A screening run: OCDS files in, an explained forced-labour risk register out.

``screen()`` reads and merges the input (``procurement.ingest``), writes the tidy tables as
Parquet, computes factors, uncertainties, the register and the supplier roll-up inside the
chosen engine, and leaves everything in one run folder::

    <run folder>/
      run.json              summary: inputs, counts, ingest report, thresholds, engine, timings
      tables/<table>/       tidy tables (Parquet parts)
      results/register.parquet      one row per process (level, score, counts)
      results/factors.parquet       one row per factor (structured evidence)
      results/uncertainties.parquet one row per stated uncertainty
      results/suppliers.parquet     one row per supplier across its processes
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow.parquet as pq

from tipaudit.procurement.engine import open_engine
from tipaudit.procurement.ingest import IngestOptions, IngestReport, ProgressTick, iter_compiled
from tipaudit.procurement.rules import (
    EntityFlag,
    ScreeningConfig,
    compute_factors,
    compute_register,
    compute_uncertainties,
    reference_tables,
)
from tipaudit.procurement.tables import FIELDS_NOT_READ, ItemClassifier, write_tables
from tipaudit.refdata import ReferenceData

RESULTS = ("register", "factors", "uncertainties", "suppliers")
SORT_KEYS = {
    "register": ["ocid"],
    "factors": ["ocid", "factor", "supplier_key", "good", "country", "industry"],
    "uncertainties": ["ocid", "uncertainty"],
    "suppliers": ["supplier_key"],
}


@dataclass
class Progress:
    """What a run reports while it works (for a progress bar)."""

    phase: str
    done: int = 0
    total: int = 0
    releases: int = 0
    processes: int = 0


@dataclass
class ScreeningRun:
    """A finished run and where its files are."""

    folder: Path
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def results(self) -> Path:
        return self.folder / "results"

    def result(self, name: str) -> Path:
        return self.results / f"{name}.parquet"

    @classmethod
    def open(cls, folder: Path) -> ScreeningRun:
        summary = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        return cls(folder=folder, summary=summary)


def supplier_rollup(suppliers: ir.Table, register: ir.Table, factors: ir.Table) -> ir.Table:
    """Each supplier across all its processes: counts by level, value, and its factors."""
    linked = suppliers.select("ocid", "supplier_key", "name", "country").distinct()
    joined = linked.join(register.select("ocid", "level", "score", "value", "currency"), "ocid")
    per_supplier = joined.group_by("supplier_key").aggregate(
        name=joined.name.max(),
        country=joined.country.max(),
        processes=joined.ocid.nunique(),
        high=joined.count(where=joined.level == "high"),
        medium=joined.count(where=joined.level == "medium"),
        max_score=joined.score.max(),
    )
    own = factors.filter(factors.supplier_key.notnull())
    factor_counts = own.group_by("supplier_key").aggregate(
        supplier_factors=own.count(), goods_listed=own.good.nunique()
    )
    rolled = per_supplier.left_join(factor_counts, "supplier_key")
    level = ibis.cases((rolled.high > 0, "high"), (rolled.medium > 0, "medium"), else_="low")
    return rolled.select(
        "supplier_key",
        "name",
        "country",
        "processes",
        "high",
        "medium",
        "max_score",
        level=level,
        supplier_factors=rolled.supplier_factors.fill_null(0),
        goods_listed=rolled.goods_listed.fill_null(0),
    )


def screen(
    inputs: Sequence[Path],
    *,
    folder: Path,
    refdata: ReferenceData,
    classifier: ItemClassifier,
    engine: str = "duckdb",
    options: IngestOptions | None = None,
    config: ScreeningConfig | None = None,
    progress: Callable[[Progress], None] | None = None,
    entity_flags: Sequence[EntityFlag] = (),
) -> ScreeningRun:
    """Screen OCDS ``inputs`` into a new run under ``folder`` (which must not exist yet).

    ``entity_flags`` are what entity screening found about the suppliers (watchlist matches,
    credible allegations); :func:`rescore` applies new ones to a finished run.
    """
    options = options or IngestOptions()
    config = config or ScreeningConfig()
    report = IngestReport()
    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=False)
    timings: dict[str, float] = {}

    def on_tick(tick: ProgressTick) -> None:
        if progress is not None:
            progress(
                Progress(
                    phase=tick.phase,
                    done=tick.bytes_read,
                    total=tick.total_bytes,
                    releases=tick.releases,
                    processes=tick.ocids,
                )
            )

    try:
        spill = options.spill_dir or folder / "spill"
        spill.mkdir(parents=True, exist_ok=True)
        # The tables read only some fields: the ingest can drop the rest as it reads.
        options = dataclasses.replace(options, spill_dir=spill, drop_fields=FIELDS_NOT_READ)
        compiled = iter_compiled(inputs, options, report, on_tick)
        rows = write_tables(compiled, folder / "tables", classifier)
        timings["ingest_seconds"] = time.perf_counter() - started
        if progress is not None:
            progress(
                Progress(phase="screening", releases=report.releases, processes=rows["processes"])
            )
        engine_started = time.perf_counter()
        compute_results(
            folder, refdata=refdata, config=config, engine=engine, entity_flags=entity_flags
        )
        shutil.rmtree(spill, ignore_errors=True)
        timings["engine_seconds"] = time.perf_counter() - engine_started
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    levels = count_levels(folder / "results" / "register.parquet")
    summary = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "inputs": [str(p) for p in inputs],
        "engine": engine,
        "rows": rows,
        "levels": levels,
        "ingest": report.to_dict(),
        "config": config.to_dict(),
        "entity_flags": len(entity_flags),
        "reference_data": {
            info.kind.value: info.edition for info in refdata.datasets() if info.serving
        },
        "seconds": {k: round(v, 3) for k, v in timings.items()},
    }
    (folder / "run.json").write_text(
        json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    return ScreeningRun(folder=folder, summary=summary)


def compute_results(
    folder: Path,
    *,
    refdata: ReferenceData,
    config: ScreeningConfig,
    engine: str,
    entity_flags: Sequence[EntityFlag],
    results_folder: Path | None = None,
) -> None:
    """Factors, uncertainties, register and suppliers from the run's tables, as Parquet."""
    out = results_folder or folder / "results"
    workdir = folder / "engine"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir()
    try:
        with open_engine(engine, workdir=workdir) as running:
            tables = running.read_tables(folder / "tables")
            ref = {
                name: running.table(name, data)
                for name, data in reference_tables(refdata, config, entity_flags).items()
            }
            # Factors and the register feed several results: computed once, not once per use.
            factors = running.materialise(compute_factors(tables, ref, config))
            uncertainties = running.materialise(compute_uncertainties(tables, config))
            register = running.materialise(
                compute_register(tables["processes"], factors, uncertainties)
            )
            suppliers = supplier_rollup(tables["suppliers"], register, factors)
            results = {
                "register": register,
                "factors": factors,
                "uncertainties": uncertainties,
                "suppliers": suppliers,
            }
            for name, expr in results.items():
                running.to_parquet(expr.order_by(SORT_KEYS[name]), out / f"{name}.parquet")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def rescore(
    run: ScreeningRun,
    *,
    refdata: ReferenceData,
    entity_flags: Sequence[EntityFlag],
    engine: str | None = None,
) -> ScreeningRun:
    """Recompute a finished run's results with new entity-screening flags.

    The tables are not read again from OCDS: only the rules run, with the thresholds recorded
    in ``run.json``. The new results replace the old ones whole (written aside, then swapped),
    and ``run.json`` records when and with how many flags.
    """
    with (run.folder / ".rescore.lock").open("a") as lock:
        # One rescore of a run at a time (two decisions made together). Readers are not
        # blocked; the old results are swapped for the new ones by two renames.
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _rescore(ScreeningRun.open(run.folder), refdata, entity_flags, engine)


def _rescore(
    run: ScreeningRun,
    refdata: ReferenceData,
    entity_flags: Sequence[EntityFlag],
    engine: str | None,
) -> ScreeningRun:
    summary = dict(run.summary)
    config = ScreeningConfig.from_dict(summary["config"])
    fresh = run.folder / "results.new"
    shutil.rmtree(fresh, ignore_errors=True)
    fresh.mkdir()
    try:
        compute_results(
            run.folder,
            refdata=refdata,
            config=config,
            engine=engine or summary.get("engine", "duckdb"),
            entity_flags=entity_flags,
            results_folder=fresh,
        )
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    old = run.folder / "results.old"
    shutil.rmtree(old, ignore_errors=True)
    run.results.rename(old)
    fresh.rename(run.results)
    shutil.rmtree(old, ignore_errors=True)
    summary["levels"] = count_levels(run.result("register"))
    summary["entity_flags"] = len(entity_flags)
    summary["rescored"] = datetime.now(UTC).isoformat(timespec="seconds")
    (run.folder / "run.json").write_text(
        json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    return ScreeningRun(folder=run.folder, summary=summary)


def count_levels(register: Path) -> dict[str, int]:
    table = pq.read_table(register, columns=["level"])
    counts = {"high": 0, "medium": 0, "low": 0}
    for level in table.column("level").to_pylist():
        counts[level] = counts.get(level, 0) + 1
    return counts
