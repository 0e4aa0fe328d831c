"""Bounded memory: big documents are walked, the grouping spills to disk, output is the same."""

from __future__ import annotations

import gc
import random
import tracemalloc
from pathlib import Path

import orjson
import pytest

from tests.conftest import shared_path
from tests.procurement.ingest.factory import by_ocid, dumps, ingest, release
from tipaudit.procurement.ingest import IngestOptions, IngestReport, iter_compiled, ocid_order
from tipaudit.procurement.ingest.store import RELEASE, GroupStore, Unit

MiB = 2**20


def _big_package(path: Path, size: int) -> int:
    """Write a release package of about ``size`` bytes; returns the number of releases."""
    body = "Suministro de uniformes y calzado de seguridad para el personal — lote " * 40
    count = 0
    written = 0
    with path.open("wb") as out:
        out.write(b'{"uri": "https://example.org/p.json", "version": "1.1",\n "releases": [\n')
        while written < size:
            item = release(
                f"ocds-big-{count % 4000}",
                f"r{count}",
                f"2024-01-{1 + count % 28:02d}T00:00:00Z",
                tender={"id": "t", "description": body, "items": [{"id": str(count)}]},
            )
            chunk = (b",\n" if count else b"") + dumps(item)
            out.write(chunk)
            written += len(chunk)
            count += 1
        out.write(b"\n]}\n")
    return count


def test_a_50_mb_package_streams_within_the_memory_budget(tmp_path: Path) -> None:
    """A 50 MB single package is walked and spilled: traced peak stays far under its size."""
    path = tmp_path / "big.json"
    releases = _big_package(path, 50 * MiB)
    size = path.stat().st_size
    report = IngestReport()
    options = IngestOptions(memory_budget_bytes=8 * MiB, spill_dir=tmp_path)
    gc.collect()
    tracemalloc.start()
    try:
        count = 0
        merged_items = 0
        for compiled in iter_compiled([path], options, report):
            count += 1
            merged_items += len(compiled.release["tender"]["items"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert 4000 == count == report.ocids
    assert releases == report.releases == merged_items
    assert report.spill_buckets >= 2
    assert peak < 16 * MiB, f"peak {peak / MiB:.1f} MiB for a {size / MiB:.0f} MiB file"
    assert peak < size / 3
    assert [] == list(tmp_path.glob("tipaudit-ocds-*")), "spill files are removed"


def test_a_missing_spill_folder_is_made_and_removed(tmp_path: Path) -> None:
    """Screening passes "<run folder>/spill", which does not exist yet: spilling must still work
    (it used to fail with FileNotFoundError) and leave no folder behind."""
    path = tmp_path / "big.json"
    _big_package(path, 4 * MiB)
    spill = tmp_path / "run" / "spill"
    report = IngestReport()
    options = IngestOptions(memory_budget_bytes=MiB, spill_dir=spill)
    count = sum(1 for _ in iter_compiled([path], options, report))
    assert 0 < count == report.ocids
    assert report.spill_buckets >= 2
    assert not spill.exists()


@pytest.mark.shared
def test_spilling_gives_the_same_output_in_the_same_order() -> None:
    """All real samples with a 1 MiB budget (many buckets) give what the in-memory run gives."""
    root = shared_path("data", "ocds", "sample-data-real-examples")
    # The same stream threshold in both runs: walked documents report element positions.
    in_memory, memory_report = ingest([root], on_error="skip", stream_threshold_bytes=64 * 1024)
    spilled, spill_report = ingest(
        [root], on_error="skip", memory_budget_bytes=MiB, stream_threshold_bytes=64 * 1024
    )
    assert 0 == memory_report.spill_buckets
    assert spill_report.spill_buckets > 10
    assert [c.ocid for c in in_memory] == [c.ocid for c in spilled]
    assert [c.release for c in in_memory] == [c.release for c in spilled]
    assert [c.sources for c in in_memory] == [c.sources for c in spilled]
    assert memory_report.to_dict() | {"spill_buckets": 0} == spill_report.to_dict() | {
        "spill_buckets": 0
    }


def test_oversized_buckets_are_split_before_loading(tmp_path: Path) -> None:
    """When the size estimate is wrong, a bucket over the limit is split again by hash range."""
    store = GroupStore(MiB, tmp_path, lambda: 1)
    units = []
    for i in range(3000):
        obj = orjson.dumps(release(f"ocds-{i % 700}", str(i), "2024", pad="x" * 1000))
        units.append(Unit(f"ocds-{i % 700}", i, RELEASE, obj, 0, i + 1, i * 10, f"document {i}"))
    for unit in units:
        store.add(unit)
    assert 2 == store.buckets
    groups = list(store.groups())
    store.close()
    assert [g[0].ocid for g in groups] == sorted({u.ocid for u in units}, key=ocid_order)
    assert all(len({u.ocid for u in g}) == 1 for g in groups)
    assert [u.seq for g in groups for u in g] == sorted(
        range(3000), key=lambda i: (ocid_order(f"ocds-{i % 700}"), i)
    )
    first = groups[0][0]
    assert (first.line, first.offset, first.index) == (
        first.seq + 1,
        first.seq * 10,
        f"document {first.seq}",
    )
    assert [] == list(tmp_path.iterdir())


def test_one_huge_ocid_is_still_grouped(tmp_path: Path) -> None:
    """All releases of one ocid land in one bucket: splitting stops and the group loads."""
    store = GroupStore(MiB, tmp_path, lambda: 1)
    for i in range(1500):
        obj = orjson.dumps(release("ocds-one", str(i), "2024", pad="x" * 1000))
        store.add(Unit("ocds-one", i, RELEASE, obj, 0, None, None, "d"))
    groups = list(store.groups())
    store.close()
    assert 1 == len(groups)
    assert 1500 == len(groups[0])


def test_streamed_bare_record_uses_its_compiled_release(tmp_path: Path) -> None:
    """A record too big to parse at once is walked; its compiledRelease still wins."""
    items = [release("ocds-rec", str(i), "2024-01-01", note="y" * 5000) for i in range(40)]
    record = {"ocid": "ocds-rec", "releases": items, "compiledRelease": {"ocid": "ocds-rec"}}
    path = tmp_path / "record.json"
    path.write_bytes(dumps(record))
    compiled, report = ingest([path], stream_threshold_bytes=64 * 1024)
    assert [{"ocid": "ocds-rec"}] == [c.release for c in compiled]
    assert 1 == report.records
    assert 40 == report.releases


@pytest.mark.parametrize("budget", [MiB, 64 * MiB])
def test_output_does_not_depend_on_the_budget(tmp_path: Path, budget: int) -> None:
    """Releases of one ocid spread over files merge the same with or without spilling."""
    paths = []
    for f in range(6):
        lines = [
            dumps(release(f"ocds-m-{i}", f"{f}", f"2024-0{1 + f}-01", **{f"field{f}": i})) + b"\n"
            for i in range(400)
        ]
        path = tmp_path / f"part-{f}.jsonl"
        path.write_bytes(b"".join(lines))
        paths.append(path)
    compiled, report = ingest(paths, memory_budget_bytes=budget)
    assert 400 == len(compiled)
    assert all(6 == c.releases_merged for c in compiled)
    sample = by_ocid(compiled)["ocds-m-7"]
    assert {f"field{f}": 7 for f in range(6)}.items() <= sample.items()
    assert "2024-06-01" == sample["date"]
    assert (report.spill_buckets > 0) == (budget == MiB)


@pytest.mark.parametrize("seed", range(6))
def test_walked_documents_read_whatever_the_element_sizes(tmp_path: Path, seed: int) -> None:
    """Elements of any size (around and above the parse window) are cut at the right places."""
    rng = random.Random(seed)
    items = [
        release(f"ocds-w-{i}", "1", "2024", pad="é" * rng.randrange(0, 90_000), n=rng.random())
        for i in range(25)
    ]
    doc = {"uri": "x", "releases": items, "version": "1.1", "extensions": ["https://x/y.json"]}
    for pretty in (False, True):
        path = tmp_path / f"w{pretty}.json"
        path.write_bytes(dumps(doc, pretty=pretty))
        streamed, report = ingest([path], stream_threshold_bytes=64 * 1024)
        assert {i["ocid"]: i["pad"] for i in items} == {c.ocid: c.release["pad"] for c in streamed}
        assert 0 == report.warning_count("missing_version")
