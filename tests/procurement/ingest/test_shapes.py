"""Every accepted input shape, gzipped or not; folders; duplicates, conflicts; progress."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from tests.procurement.ingest.factory import (
    SHAPES,
    by_ocid,
    dumps,
    ingest,
    package,
    record_package,
    release,
    write_shape,
)
from tipaudit.procurement.ingest import (
    IngestOptions,
    IngestReport,
    InputNotFoundError,
    ProgressTick,
    WarningKind,
    compile_releases,
    iter_compiled,
    ocid_order,
)

RELEASES = [
    release("ocds-a-1", "1", "2024-01-01", tender={"id": "t", "title": "Uniforms"}),
    release("ocds-a-2", "1", "2024-01-05", tender={"id": "t", "title": "Bricks"}),
    release(
        "ocds-a-1",
        "2",
        "2024-02-01",
        tag=["award"],
        awards=[{"id": "aw", "value": {"amount": 10, "currency": "USD"}}],
    ),
    release("ocds-a-3", "1", "2024-03-01", tender={"id": "t", "title": "Cocoa"}),
]


def _expected() -> dict[str, dict[str, object]]:
    grouped: dict[str, list[dict[str, object]]] = {}
    for item in RELEASES:
        grouped.setdefault(str(item["ocid"]), []).append(item)
    return {ocid: compile_releases(items) for ocid, items in grouped.items()}


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("shape", SHAPES)
def test_each_shape_yields_the_same_compiled_releases(tmp_path: Path, shape: str, gz: bool) -> None:
    """Packages, records, bare releases, arrays, JSON Lines and concatenated JSON all read."""
    paths = write_shape(tmp_path, "data", shape, RELEASES, gz=gz)
    compiled, report = ingest(paths)
    assert _expected() == by_ocid(compiled)
    assert [c.ocid for c in compiled] == sorted((c.ocid for c in compiled), key=ocid_order)
    assert 4 == report.releases
    assert 0 == report.skipped_count
    assert 3 == report.merged == report.ocids
    merged = {c.ocid: c.releases_merged for c in compiled}
    assert {"ocds-a-1": 2, "ocds-a-2": 1, "ocds-a-3": 1} == merged


@pytest.mark.parametrize("shape", SHAPES)
def test_each_shape_streams_when_larger_than_the_threshold(tmp_path: Path, shape: str) -> None:
    """A tiny stream threshold makes every multi-value document go through the walker."""
    many = [
        release(f"ocds-s-{i % 40}", str(i), f"2024-01-{1 + i % 28:02d}", description="x" * 3000)
        for i in range(120)
    ]
    paths = write_shape(tmp_path, "big", shape, many, gz=True)
    streamed, streamed_report = ingest(paths, stream_threshold_bytes=64 * 1024)
    whole, _ = ingest(paths)
    assert by_ocid(whole) == by_ocid(streamed)
    assert 120 == streamed_report.releases
    assert 40 == len(streamed)


def test_gzip_is_sniffed_not_guessed_from_the_name(tmp_path: Path) -> None:
    """A gzip file named .json and a plain file named .gz are both read."""
    (tmp_path / "a.json").write_bytes(gzip.compress(dumps(package(RELEASES[:1]))))
    (tmp_path / "b.json.gz").write_bytes(dumps(package(RELEASES[1:2])))
    compiled, report = ingest([tmp_path])
    assert {"ocds-a-1", "ocds-a-2"} == set(by_ocid(compiled))
    assert 2 == report.files


def test_record_compiled_release_is_used_as_published(tmp_path: Path) -> None:
    """A record's compiledRelease is taken as is; its releases are counted, not merged."""
    compiled_release = {"ocid": "ocds-r-1", "id": "x", "date": "2024-05-01", "tag": ["compiled"]}
    record = {
        "ocid": "ocds-r-1",
        "releases": [
            release("ocds-r-1", "1", "2024-04-01"),
            {"url": "https://example.org/r/2", "date": "2024-05-01", "tag": ["award"]},
        ],
        "compiledRelease": compiled_release,
    }
    (tmp_path / "records.json").write_bytes(dumps(record_package([record])))
    compiled, report = ingest([tmp_path])
    assert [compiled_release] == [c.release for c in compiled]
    assert compiled[0].from_record
    assert 1 == report.compiled_from_records == report.records
    assert 1 == report.releases
    assert 1 == report.warning_count(WarningKind.LINKED_RELEASE_NOT_FETCHED)


def test_folders_are_read_recursively_in_sorted_order(tmp_path: Path) -> None:
    """Files in sub-folders are found; hidden and non-JSON files are left out (with a note)."""
    (tmp_path / "b").mkdir()
    (tmp_path / "a").mkdir()
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "b" / "x.json").write_bytes(dumps(RELEASES[0]))
    (tmp_path / "a" / "y.data").write_bytes(b"  \n" + dumps(RELEASES[1]))
    (tmp_path / ".hidden" / "z.json").write_bytes(dumps(RELEASES[3]))
    (tmp_path / "a" / "README.txt").write_text("not data", encoding="utf-8")
    (tmp_path / "a" / "notes.md").write_text("", encoding="utf-8")
    compiled, report = ingest([tmp_path])
    assert {"ocds-a-1", "ocds-a-2"} == set(by_ocid(compiled))
    assert 2 == report.files
    assert 2 == report.warning_count(WarningKind.IGNORED_FILE)
    # a named file is always read, whatever its name
    compiled, report = ingest([tmp_path / "a" / "README.txt"], on_error="skip")
    assert 1 == report.skipped_count


def test_missing_path_is_an_error(tmp_path: Path) -> None:
    """A path that does not exist is named in a ValidationError."""
    with pytest.raises(InputNotFoundError, match=r"nope\.json"):
        ingest([tmp_path / "nope.json"])


def test_identical_copies_are_kept_once(tmp_path: Path) -> None:
    """The same release in two files (even formatted differently) is merged once."""
    item = release("ocds-d-1", "1", "2024-01-01", awards=[{"title": "no id"}])
    (tmp_path / "one.json").write_bytes(dumps(package([item])))
    (tmp_path / "two.jsonl").write_bytes(dumps(item) + b"\n")
    compiled, report = ingest([tmp_path])
    assert 1 == report.identical_duplicates
    assert 0 == report.conflict_count
    assert [{"title": "no id"}] == compiled[0].release["awards"]  # not appended twice
    assert 1 == compiled[0].releases_merged


def test_conflicting_releases_keep_the_later_date(tmp_path: Path) -> None:
    """Same ocid and id, different content: both reported, the later date wins."""
    old = release("ocds-c-1", "1", "2024-01-01", tender={"title": "old"})
    new = release("ocds-c-1", "1", "2024-02-01", tender={"title": "new"})
    (tmp_path / "1.json").write_bytes(dumps(new))
    (tmp_path / "2.json").write_bytes(dumps(old))
    compiled, report = ingest([tmp_path])
    assert "new" == compiled[0].release["tender"]["title"]
    assert 1 == report.conflict_count
    conflict = report.conflicts[0]
    assert "ocds-c-1" == conflict.ocid
    assert "1" == conflict.release_id
    assert (str(tmp_path / "1.json"), str(tmp_path / "2.json")) == conflict.files
    assert ("2024-02-01", "2024-01-01") == (conflict.kept_date, conflict.dropped_date)


def test_conflict_with_equal_dates_keeps_the_later_file(tmp_path: Path) -> None:
    """On equal dates the release read later (later file in input order) wins."""
    first = release("ocds-c-2", "1", "2024-01-01", tender={"title": "first"})
    second = release("ocds-c-2", "1", "2024-01-01", tender={"title": "second"})
    (tmp_path / "a.json").write_bytes(dumps(first))
    (tmp_path / "b.json").write_bytes(dumps(second))
    compiled, report = ingest([tmp_path])
    assert "second" == compiled[0].release["tender"]["title"]
    assert (str(tmp_path / "b.json"), str(tmp_path / "a.json")) == report.conflicts[0].files
    compiled, report = ingest([tmp_path / "b.json", tmp_path / "a.json"])
    assert "first" == compiled[0].release["tender"]["title"]


def test_schema_problems_are_warnings_not_errors(tmp_path: Path) -> None:
    """Missing id/date/tag, OCDS 1.0 forms and wrong types are counted; data is kept."""
    items = [
        {"ocid": "ocds-w-1", "tag": "tender", "buyer": {"name": "Ministry"}},
        {
            "ocid": "ocds-w-2",
            "id": 7,
            "date": "2024-01-01",
            "tag": ["award"],
            "tender": {"value": {"amount": "1,234.00"}, "numberOfTenderers": "3"},
            "awards": [{"id": "a", "suppliers": [{"name": "Acme"}]}],
        },
    ]
    (tmp_path / "p.json").write_bytes(dumps({"releases": items}))
    compiled, report = ingest([tmp_path])
    assert 2 == len(compiled)
    counts = {kind: summary.count for kind, summary in report.warnings.items()}
    assert {
        WarningKind.MISSING_VERSION: 1,
        WarningKind.MISSING_ID: 1,
        WarningKind.MISSING_DATE: 1,
        WarningKind.WRONG_TYPE: 4,  # tag, id, amount, numberOfTenderers
        WarningKind.OCDS_1_0_FORM: 2,  # buyer, suppliers
    } == counts
    assert "1,234.00" == by_ocid(compiled)["ocds-w-2"]["tender"]["value"]["amount"]
    assert "ocds-w-1" == by_ocid(compiled)["ocds-w-1"]["id"]  # no date: the ocid alone


def test_progress_is_reported_and_throttled(tmp_path: Path) -> None:
    """progress gets ticks with growing byte counts, a final one, and not too many."""
    many = [release(f"ocds-p-{i}", "1", "2024-01-01") for i in range(3000)]
    paths = write_shape(tmp_path, "p", "jsonl", many)
    ticks: list[ProgressTick] = []
    report = IngestReport()
    out = list(iter_compiled(paths, IngestOptions(), report, ticks.append))
    assert 3000 == len(out)
    assert ticks
    assert "done" == ticks[-1].phase
    assert ticks[-1].bytes_read == ticks[-1].total_bytes == paths[0].stat().st_size
    assert 3000 == ticks[-1].releases == ticks[-1].ocids
    assert len(ticks) <= 10
    assert [t.bytes_read for t in ticks] == sorted(t.bytes_read for t in ticks)


def test_options_are_checked() -> None:
    """Bad options fail fast."""
    with pytest.raises(ValueError, match="on_error"):
        IngestOptions(on_error="ignore")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="memory_budget_bytes"):
        IngestOptions(memory_budget_bytes=1000)
