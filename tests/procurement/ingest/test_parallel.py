"""Worker processes: the same compiled releases, report and tables as a single process."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import shared_path
from tests.procurement.ingest.factory import dumps, ingest, release
from tipaudit.procurement.ingest import (
    CompiledRelease,
    IngestOptions,
    IngestReport,
    UnreadableInputError,
    iter_compiled,
)
from tipaudit.procurement.ingest.parallel import can_fork
from tipaudit.procurement.tables import SCHEMAS, write_tables

pytestmark = pytest.mark.skipif(not can_fork(), reason="worker processes need fork (Linux)")

Row = tuple[str, dict[str, Any], tuple[str, ...], int, bool]


def _rows(compiled: Iterator[CompiledRelease] | list[CompiledRelease]) -> list[Row]:
    return [(c.ocid, c.release, c.sources, c.releases_merged, c.from_record) for c in compiled]


def _same_report(one: IngestReport, other: IngestReport) -> bool:
    # Only the number of spill buckets may differ: workers always group on disk.
    return one.to_dict() | {"spill_buckets": 0} == other.to_dict() | {"spill_buckets": 0}


def _samples() -> Path:
    return shared_path("data", "ocds", "sample-data-real-examples")


@pytest.mark.shared
@pytest.mark.parametrize("workers", [2, 3])
def test_workers_give_the_same_releases_in_the_same_order(workers: int) -> None:
    """All real samples (skips, warnings, conflicts, records) read by workers, merged here."""
    serial, serial_report = ingest([_samples()], on_error="skip", workers=1)
    parallel, parallel_report = ingest([_samples()], on_error="skip", workers=workers)
    assert 0 == serial_report.spill_buckets
    assert parallel_report.spill_buckets >= 2
    assert _rows(serial) == _rows(parallel)
    assert _same_report(serial_report, parallel_report)


def _collect(shard: int, shards: int, releases: Iterator[CompiledRelease]) -> Any:
    return shard, shards, _rows(releases)


@pytest.mark.shared
@pytest.mark.parametrize("workers", [1, 2, 3])
def test_map_shards_cuts_the_output_into_consecutive_parts(workers: int) -> None:
    """Each worker merges a consecutive part of the output; together they are the output."""
    serial, serial_report = ingest([_samples()], on_error="skip", workers=1)
    report = IngestReport()
    options = IngestOptions(on_error="skip", workers=workers, memory_budget_bytes=2**20)
    parts = iter_compiled([_samples()], options, report).map_shards(_collect)
    assert [(shard, workers) for shard in range(workers)] == [(p[0], p[1]) for p in parts]
    assert all(p[2] for p in parts), "every shard has some ocids"
    assert _rows(serial) == [row for part in parts for row in part[2]]
    assert _same_report(serial_report, report)


def _lines(count: int, prefix: str) -> list[bytes]:
    return [dumps(release(f"{prefix}-{i}", "1", "2024", note="x" * 2000)) for i in range(count)]


def test_the_first_error_in_input_order_is_raised(tmp_path: Path) -> None:
    """The third file breaks at once, the second late: the second's error is the one raised,
    as without workers, and the spill folder is removed."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.jsonl.gz").write_bytes(gzip.compress(b"\n".join(_lines(3000, "ocds-a"))))
    late = [*_lines(1500, "ocds-b"), b'{"ocid": broken', *_lines(10, "ocds-b2")]
    (data / "b.jsonl.gz").write_bytes(gzip.compress(b"\n".join(late)))
    (data / "c.jsonl").write_bytes(b'{"oops"\n' + b"\n".join(_lines(10, "ocds-c")))
    spill = tmp_path / "spill"
    errors = []
    for workers in (1, 2, 3):
        with pytest.raises(UnreadableInputError) as caught:
            ingest([data], workers=workers, spill_dir=spill)
        errors.append((caught.value.file, caught.value.index, caught.value.position))
        assert not spill.exists()
    assert [(str(data / "b.jsonl.gz"), "document 1501", errors[0][2])] * 3 == errors
    skipped = [ingest([data], workers=w, on_error="skip") for w in (1, 2)]
    assert _rows(skipped[0][0]) == _rows(skipped[1][0])
    assert _same_report(skipped[0][1], skipped[1][1])
    assert 2 == skipped[1][1].skipped_count


def _boom(shard: int, shards: int, releases: Iterator[CompiledRelease]) -> None:
    for _ in releases:
        raise ValueError(f"boom in shard {shard}")


def test_a_failure_in_a_worker_is_raised_here(tmp_path: Path) -> None:
    """An exception in a worker comes back as itself, and nothing is left behind."""
    path = tmp_path / "p.jsonl"
    path.write_bytes(b"\n".join(_lines(200, "ocds-x")))
    spill = tmp_path / "spill"
    compiled = iter_compiled([path], IngestOptions(workers=2, spill_dir=spill), IngestReport())
    with pytest.raises(ValueError, match="boom in shard 0") as caught:
        compiled.map_shards(_boom)
    assert any("ingest worker" in note for note in getattr(caught.value, "__notes__", []))
    assert not spill.exists()
    with pytest.raises(RuntimeError, match="only once"):
        compiled.map_shards(_collect)


def _tables(folder: Path) -> dict[str, list[dict[str, Any]]]:
    return {
        name: pa.concat_tables(
            [pq.read_table(part) for part in sorted((folder / name).glob("*.parquet"))]
        ).to_pylist()
        for name in SCHEMAS
    }


@pytest.mark.shared
def test_flattening_in_workers_gives_the_same_tables(tmp_path: Path, classifier: Any) -> None:
    """write_tables hands the flattening to the workers, each writing its own files: the same
    rows in the same order (read in file-name order), and the same report."""
    folders, reports, parts = [], [], []
    for workers in (1, 2):
        report = IngestReport()
        options = IngestOptions(on_error="skip", workers=workers)
        folder = tmp_path / f"tables-{workers}"
        write_tables(iter_compiled([_samples()], options, report), folder, classifier)
        folders.append(_tables(folder))
        reports.append(report)
        parts.append(sorted(p.name for p in (folder / "processes").glob("*.parquet")))
    assert ["part-00000.parquet"] == parts[0]
    assert ["part-000-00000.parquet", "part-001-00000.parquet"] == parts[1]
    for name in SCHEMAS:
        assert folders[0][name] == folders[1][name], name
    assert _same_report(reports[0], reports[1])
