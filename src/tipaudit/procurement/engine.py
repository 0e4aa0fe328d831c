"""Engines: where the screening transforms run. DuckDB by default, Apache Spark at scale.

The pipeline is written once as Ibis expressions (:mod:`tipaudit.procurement.rules`); an
:class:`Engine` gives it a backend connection, loads the Parquet tables written by ingest and
the reference tables, and materialises results. Spark is optional: install the ``spark``
extra (and Java 17+) to use ``--engine spark``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import ibis
import pyarrow as pa
import pyarrow.parquet as pq

from tipaudit.errors import ConfigurationError
from tipaudit.procurement.tables import SCHEMAS

EngineName = Literal["duckdb", "spark"]
ENGINES: tuple[EngineName, ...] = ("duckdb", "spark")


@dataclass
class Engine:
    """An Ibis backend and the tables of one screening run."""

    name: EngineName
    backend: Any
    _spark: Any = None
    _cached: list[Any] = field(default_factory=list)

    def read_tables(self, folder: Path) -> dict[str, ibis.Table]:
        """The ingest tables (Parquet parts under ``folder/<table>/``) as engine tables."""
        tables: dict[str, ibis.Table] = {}
        for name in SCHEMAS:
            path = folder / name
            if self.name == "duckdb":
                tables[name] = self.backend.read_parquet(str(path / "*.parquet"), table_name=name)
            else:
                tables[name] = self.backend.read_parquet(str(path), table_name=name)
        return tables

    def table(self, name: str, data: pa.Table) -> ibis.Table:
        """A small reference table (crosswalks, ILAB, GSI, tiers) made available to the engine."""
        return self.backend.create_table(name, data, overwrite=True)

    def materialise(self, expr: ibis.Table) -> ibis.Table:
        """``expr`` computed now and kept in a temporary table until closing (DuckDB).

        For a result that several others are computed from: DuckDB would otherwise compute it
        again for each of them (it halves the engine's time on a large run). On Spark ``expr``
        is returned as it is: ibis 12 loses the reference tables of a cached Spark query.
        """
        if self.name != "duckdb":
            return expr
        cached = expr.cache()
        self._cached.append(cached)
        return cached

    def to_parquet(self, expr: ibis.Table, path: Path) -> None:
        """Write a result to one Parquet file, sorted for stable output on every engine."""
        path.parent.mkdir(parents=True, exist_ok=True)
        if self.name == "duckdb":
            self.backend.to_parquet(expr, str(path))
            return
        # Spark writes folders of parts; collect through Arrow batches to write one file.
        writer: pq.ParquetWriter | None = None
        try:
            for batch in self.backend.to_pyarrow_batches(expr):
                if writer is None:
                    writer = pq.ParquetWriter(str(path), batch.schema)
                writer.write_batch(batch)
            if writer is None:
                pq.write_table(expr.schema().to_pyarrow().empty_table(), str(path))
        finally:
            if writer is not None:
                writer.close()

    def close(self) -> None:
        # Released while the connection is open (ibis would otherwise drop them when they are
        # garbage collected, after the connection has closed).
        cached, self._cached = self._cached, []
        for table in cached:
            table.release()
        if self._spark is not None:
            self._spark.stop()
        elif hasattr(self.backend, "disconnect"):
            self.backend.disconnect()


# DuckDB spills joins and sorts to disk past this, so a screening run's peak memory stays under
# 1.5 GB however large the register (docs/benchmarks.md, "Procurement screening throughput").
DUCKDB_MEMORY_LIMIT = "1GB"


def spark_available() -> bool:
    return importlib.util.find_spec("pyspark") is not None


@contextmanager
def open_engine(name: str, *, workdir: Path) -> Iterator[Engine]:
    """Start the named engine; Spark runs in local mode with its files under ``workdir``."""
    if name == "duckdb":
        database = workdir / "engine.duckdb"
        spill = workdir / "duckdb-spill"
        spill.mkdir(parents=True, exist_ok=True)
        backend = ibis.duckdb.connect(
            str(database),
            threads=2,
            memory_limit=DUCKDB_MEMORY_LIMIT,
            temp_directory=str(spill),
        )
        engine = Engine("duckdb", backend)
    elif name == "spark":
        if not spark_available():
            raise ConfigurationError(
                "the Spark engine needs PySpark",
                hint="install the extra: pip install 'tipaudit[spark]' (and Java 17 or newer)",
            )
        from pyspark.sql import SparkSession

        spark = (
            SparkSession.builder.master("local[2]")
            .appName("tipaudit")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.local.dir", str(workdir / "spark"))
            .config("spark.sql.warehouse.dir", str(workdir / "spark-warehouse"))
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        engine = Engine("spark", ibis.pyspark.connect(spark), _spark=spark)
    else:
        raise ConfigurationError(f"unknown engine {name!r}: choose {' or '.join(ENGINES)}")
    try:
        yield engine
    finally:
        engine.close()
