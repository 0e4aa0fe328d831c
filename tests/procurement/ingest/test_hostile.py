"""Unreadable input: precise errors under "fail"; under "skip", skipped and listed, rest kept."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from tests.procurement.ingest.factory import by_ocid, dumps, ingest, package, release
from tipaudit.errors import ValidationError
from tipaudit.procurement.ingest import UnreadableInputError, WarningKind

NL = b"\n"
GOOD_A = dumps(release("ocds-h-a", "1", "2024-01-01"))
GOOD_C = dumps(release("ocds-h-c", "1", "2024-01-01"))


def _both(path: Path) -> tuple[UnreadableInputError, list[str], list[tuple[str, str, str]]]:
    """Run under "fail" (the error) and "skip" (ocids kept, skipped items)."""
    with pytest.raises(UnreadableInputError) as caught:
        ingest([path])
    compiled, report = ingest([path], on_error="skip")
    skipped = [(s.index, str(s.position), s.reason) for s in report.skipped]
    assert report.skipped_count == len(skipped)
    return caught.value, sorted(by_ocid(compiled)), skipped


def test_error_is_a_validation_error_naming_file_index_and_position(tmp_path: Path) -> None:
    """UnreadableInputError is a tipaudit ValidationError with file, index and position."""
    path = tmp_path / "t.json"
    path.write_bytes(b'{"releases": [{"ocid": "x", "id": "1"')
    error, kept, skipped = _both(path)
    assert isinstance(error, ValidationError)
    assert 422 == error.status
    assert error.file == str(path)
    assert "document 1, releases[0]" == error.index
    assert "line 1, byte 37" == error.position
    assert "truncated JSON" in error.reason
    assert str(path) in str(error)
    assert [] == kept
    assert [
        ("document 1, releases[0]", "line 1, byte 37", "truncated JSON: unexpected end of data")
    ] == skipped


def test_truncated_pretty_printed_package(tmp_path: Path) -> None:
    """A package cut short: the cut release is unreadable, the releases before it are kept."""
    items = [release("ocds-h-1", "1", "2024-01-01"), release("ocds-h-2", "1", "2024-01-01")]
    content = dumps(package(items), pretty=True)
    path = tmp_path / "cut.json"
    path.write_bytes(content[:-20])
    error, kept, skipped = _both(path)
    assert "truncated JSON" in error.reason
    assert "document 1, releases[1]" == error.index
    lines = content[:-20].count(NL) + 1
    assert error.position.startswith(f"line {lines},")
    assert ["ocds-h-1"] == kept
    assert 1 == len(skipped)


def test_invalid_utf8_names_the_byte(tmp_path: Path) -> None:
    """Non-UTF-8 bytes are unreadable, with the exact line and offset of the bad byte."""
    bad = b'{"ocid": "ocds-h-b", "id": "1", "date": "2024", "title": "caf\xe9"}'
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(GOOD_A + b"\n" + bad + b"\n" + GOOD_C + b"\n")
    error, kept, skipped = _both(path)
    offset = len(GOOD_A) + 1 + bad.index(b"\xe9")
    assert f"line 2, byte {offset}" == error.position
    assert "invalid UTF-8 byte 0xe9" in error.reason
    assert ["ocds-h-a", "ocds-h-c"] == kept
    assert ["document 2"] == [s[0] for s in skipped]


def test_release_without_ocid_in_the_middle_of_json_lines(tmp_path: Path) -> None:
    """A release without ocid is unreadable; the other lines are kept."""
    orphan = dumps({"id": "1", "date": "2024-01-01", "tag": ["tender"]})
    path = tmp_path / "lines.jsonl"
    path.write_bytes(GOOD_A + b"\n" + orphan + b"\n" + GOOD_C + b"\n")
    error, kept, skipped = _both(path)
    assert 'release without "ocid"' == error.reason
    assert f"line 2, byte {len(GOOD_A) + 1}" == error.position
    assert ["ocds-h-a", "ocds-h-c"] == kept
    assert [("document 2", f"line 2, byte {len(GOOD_A) + 1}", 'release without "ocid"')] == skipped


def test_non_objects_where_releases_belong(tmp_path: Path) -> None:
    """Numbers, strings or arrays in a release list are skipped one by one."""
    doc = {"version": "1.1", "releases": [release("ocds-h-1", "1", "2024"), 5, "x", [1]]}
    path = tmp_path / "p.json"
    path.write_bytes(dumps(doc))
    error, kept, skipped = _both(path)
    assert "document 1, releases[1]" == error.index
    assert "a number where a release belongs" == error.reason
    assert ["ocds-h-1"] == kept
    assert ["document 1, releases[1]", "document 1, releases[2]", "document 1, releases[3]"] == [
        s[0] for s in skipped
    ]


def test_a_bad_ocid_is_unreadable(tmp_path: Path) -> None:
    """An ocid that is not a non-empty string cannot group releases."""
    path = tmp_path / "p.jsonl"
    path.write_bytes(
        dumps(release("", "1", "2024")) + b"\n" + dumps({"ocid": 12, "id": "1"}) + b"\n"
    )
    _, kept, skipped = _both(path)
    assert [] == kept
    assert 2 == len(skipped)


@pytest.mark.parametrize("threshold", [None, 64 * 1024], ids=["parsed", "streamed"])
def test_very_deep_nesting_is_unreadable_not_a_crash(tmp_path: Path, threshold: int | None) -> None:
    """100,000 levels of nesting are reported (orjson stops at 1024), not a crash or OOM."""
    path = tmp_path / "deep.json"
    path.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(UnreadableInputError, match="nested more than 1024 levels"):
        ingest([path], stream_threshold_bytes=threshold)
    deep_release = b'{"releases": [' + b'{"a":' * 100_000 + b"1" + b"}" * 100_000 + b"]}"
    path.write_bytes(deep_release)
    _, report = ingest([path], on_error="skip", stream_threshold_bytes=threshold)
    assert 1 == report.skipped_count
    assert "nested more than 1024 levels" in report.skipped[0].reason


def test_nesting_between_the_limits_still_merges(tmp_path: Path) -> None:
    """A release nested 300 levels (deeper than orjson writes) is held parsed and spilled."""
    nested: object = 1
    for _ in range(300):
        nested = [nested]
    items = [release(f"ocds-n-{i}", "1", "2024", deep=nested) for i in range(3)]
    path = tmp_path / "n.json"
    path.write_text(json.dumps({"version": "1.1", "releases": items}), encoding="utf-8")
    compiled, _ = ingest([path], memory_budget_bytes=2**20)
    assert 3 == len(compiled)
    assert nested == compiled[0].release["deep"]


def test_empty_and_blank_files(tmp_path: Path) -> None:
    """An empty file and a whitespace-only file are unreadable."""
    (tmp_path / "a.json").write_bytes(b"")
    (tmp_path / "b.json").write_bytes(b" \n\t\n")
    with pytest.raises(UnreadableInputError, match=r"a\.json: document 1, line 1, byte 0: empty"):
        ingest([tmp_path])
    _, report = ingest([tmp_path], on_error="skip")
    assert ["empty file", "no JSON value"] == [s.reason for s in report.skipped]


def test_byte_order_mark_is_skipped_and_noted(tmp_path: Path) -> None:
    """A UTF-8 BOM is tolerated with a warning; UTF-16 is unreadable."""
    (tmp_path / "bom.json").write_bytes(b"\xef\xbb\xbf" + GOOD_A)
    compiled, report = ingest([tmp_path / "bom.json"])
    assert ["ocds-h-a"] == sorted(by_ocid(compiled))
    assert 1 == report.warning_count(WarningKind.BYTE_ORDER_MARK)
    (tmp_path / "u16.json").write_bytes(GOOD_A.decode().encode("utf-16"))
    with pytest.raises(UnreadableInputError, match="UTF-16"):
        ingest([tmp_path / "u16.json"])


def test_concatenated_json_with_a_broken_value_keeps_the_others(tmp_path: Path) -> None:
    """In concatenated JSON, a broken value is skipped and reading resumes at the next value."""
    pretty_a = dumps(release("ocds-h-a", "1", "2024"), pretty=True)
    broken = b'{\n  "ocid": "ocds-h-b",\n  "id": oops\n}'
    pretty_c = dumps(release("ocds-h-c", "1", "2024"), pretty=True)
    path = tmp_path / "concat.json"
    path.write_bytes(pretty_a + b"\n" + broken + b"\n" + pretty_c + b"\n")
    error, kept, skipped = _both(path)
    assert "invalid JSON" in error.reason
    assert error.position.startswith(f"line {pretty_a.count(NL) + 4},")
    assert ["ocds-h-a", "ocds-h-c"] == kept
    assert ["document 2, id"] == [s[0] for s in skipped]


def test_json_lines_with_a_cut_line_keeps_the_next_line(tmp_path: Path) -> None:
    """A line cut in the middle is skipped; the next line is read."""
    path = tmp_path / "cut.jsonl"
    path.write_bytes(GOOD_A + b"\n" + GOOD_C[:20] + b"\n" + GOOD_C + b"\n")
    _, kept, skipped = _both(path)
    assert ["ocds-h-a", "ocds-h-c"] == kept
    assert [("document 2")] == [s[0] for s in skipped]


def test_broken_json_lines_are_skipped_alike_anywhere_in_a_gzip_file(tmp_path: Path) -> None:
    """A broken line is skipped whole, named by its line, early in the file or megabytes in.

    (Past the first read, lines longer than the reader had buffered used to go through the
    windowed path instead, which could blame the wrong document or drop good lines.)"""
    lines = [dumps(release(f"ocds-j-{i}", "1", "2024", note="x" * 3000)) for i in range(2000)]
    broken = {3: b'"id": oops', 1500: b'"id": "1",,', 1800: b"\xff"}
    for at, bad in broken.items():
        lines[at] = lines[at][:200] + bad + lines[at][200:]
    path = tmp_path / "lines.jsonl.gz"
    path.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    compiled, report = ingest([path], on_error="skip")
    assert 2000 - len(broken) == len(compiled)
    assert [(f"document {at + 1}", at + 1) for at in broken] == [
        (s.index, s.position.line) for s in report.skipped
    ]


def test_top_level_values_that_are_not_ocds(tmp_path: Path) -> None:
    """A number, a string or an unrelated object is unreadable input."""
    path = tmp_path / "x.jsonl"
    path.write_bytes(b'3\n"text"\n{"name": "not ocds"}\n' + GOOD_A + b"\n")
    _, kept, skipped = _both(path)
    assert ["ocds-h-a"] == kept
    assert 3 == len(skipped)
    assert "not OCDS" in skipped[2][2]


@pytest.mark.parametrize("cut", [0.5, 0.99])
def test_corrupt_or_truncated_gzip(tmp_path: Path, cut: float) -> None:
    """A gzip stream that breaks is unreadable from there; lines read before are kept."""
    lines = b"".join(dumps(release(f"ocds-g-{i}", "1", "2024")) + b"\n" for i in range(2000))
    data = gzip.compress(lines)
    path = tmp_path / "g.jsonl.gz"
    path.write_bytes(data[: int(len(data) * cut)])
    with pytest.raises(UnreadableInputError, match=r"gzip|truncated"):
        ingest([path])
    compiled, report = ingest([path], on_error="skip", stream_threshold_bytes=64 * 1024)
    assert report.skipped_count >= 1
    assert 0 < len(compiled) < 2000


def test_streamed_document_with_a_broken_element(tmp_path: Path) -> None:
    """In a walked package a broken element is skipped; reading resumes at the next sibling."""
    items = [dumps(release(f"ocds-s-{i}", "1", "2024", note="x" * 2000)) for i in range(100)]
    items[60] = items[60].replace(b'"id"', b"id", 1)
    content = b'{"version": "1.1", "releases": [\n' + b",\n".join(items) + b"\n]}"
    path = tmp_path / "big.json"
    path.write_bytes(content)
    with pytest.raises(UnreadableInputError) as caught:
        ingest([path], stream_threshold_bytes=64 * 1024)
    assert "document 1, releases[60]" == caught.value.index
    assert caught.value.position.startswith("line 62,")
    compiled, report = ingest([path], on_error="skip", stream_threshold_bytes=64 * 1024)
    assert 99 == len(compiled)
    assert ["document 1, releases[60]"] == [s.index for s in report.skipped]
    # Minified on one line there is no sibling to resume at: the rest is lost, and reported.
    path.write_bytes(content.replace(b"\n", b""))
    compiled, report = ingest([path], on_error="skip", stream_threshold_bytes=64 * 1024)
    assert 60 == len(compiled)
    assert 1 == report.skipped_count


def test_a_file_that_cannot_be_opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file the operating system refuses to open is unreadable input, named."""
    from tipaudit.procurement.ingest import pipeline

    path = tmp_path / "locked.json"
    path.write_bytes(GOOD_A)

    def refuse(_: Path) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(pipeline, "open_input", refuse)
    with pytest.raises(UnreadableInputError, match=r"locked\.json: file: cannot be opened"):
        ingest([path])
    _, report = ingest([path], on_error="skip")
    assert ["file"] == [s.index for s in report.skipped]
