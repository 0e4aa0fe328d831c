"""Builders for synthetic OCDS input: releases and every file shape the ingest accepts."""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import orjson

from tipaudit.procurement.ingest import CompiledRelease, IngestOptions, IngestReport, iter_compiled

Release = dict[str, Any]

SHAPES = (
    "release_package",
    "record_package",
    "bare_release",
    "bare_record",
    "array",
    "jsonl",
    "concatenated",
    "concatenated_pretty",
)


def release(ocid: str, rid: str, date: str, **fields: Any) -> Release:
    """A small valid OCDS 1.1 release."""
    base: Release = {
        "ocid": ocid,
        "id": rid,
        "date": date,
        "tag": ["tender"],
        "initiationType": "tender",
    }
    base.update(fields)
    return base


def package(releases: Sequence[Release], **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "uri": "https://example.org/package.json",
        "publishedDate": "2024-01-01T00:00:00Z",
        "publisher": {"name": "Example"},
        "version": "1.1",
        "releases": list(releases),
    }
    base.update(fields)
    return base


def record_package(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {
        "uri": "https://example.org/records.json",
        "publishedDate": "2024-01-01T00:00:00Z",
        "publisher": {"name": "Example"},
        "version": "1.1",
        "records": list(records),
    }


def records_of(releases: Sequence[Release]) -> list[dict[str, Any]]:
    """One record per ocid (no compiledRelease), releases in the given order."""
    grouped: dict[str, list[Release]] = {}
    for item in releases:
        grouped.setdefault(item["ocid"], []).append(item)
    return [{"ocid": ocid, "releases": items} for ocid, items in grouped.items()]


def dumps(value: Any, *, pretty: bool = False) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 if pretty else 0)


def encode(shape: str, releases: Sequence[Release]) -> list[bytes]:
    """The files (contents) holding ``releases`` in ``shape``; some shapes need several files."""
    if shape == "release_package":
        return [dumps(package(releases), pretty=True)]
    if shape == "record_package":
        return [dumps(record_package(records_of(releases)))]
    if shape == "bare_release":
        return [dumps(item, pretty=True) for item in releases]
    if shape == "bare_record":
        return [dumps(record) for record in records_of(releases)]
    if shape == "array":
        return [dumps(list(releases))]
    if shape == "jsonl":
        return [b"".join(dumps(item) + b"\n" for item in releases)]
    if shape == "concatenated":
        return [b" ".join(dumps(item) for item in releases)]
    if shape == "concatenated_pretty":
        return [b"\n".join(dumps(item, pretty=True) for item in releases)]
    raise ValueError(shape)


def write_shape(
    folder: Path, stem: str, shape: str, releases: Sequence[Release], *, gz: bool = False
) -> list[Path]:
    """Write ``releases`` as ``shape`` files named after ``stem``; returns the paths."""
    if not releases:
        return []
    paths = []
    suffix = ".jsonl" if shape == "jsonl" else ".json"
    for i, content in enumerate(encode(shape, releases)):
        path = folder / f"{stem}-{i:03d}{suffix}{'.gz' if gz else ''}"
        path.write_bytes(gzip.compress(content, mtime=0) if gz else content)
        paths.append(path)
    return paths


def ingest(paths: Iterable[Path], **options: Any) -> tuple[list[CompiledRelease], IngestReport]:
    """Run the ingest to the end; returns the compiled releases and the report."""
    report = IngestReport()
    compiled = list(iter_compiled(list(paths), IngestOptions(**options), report))
    return compiled, report


def by_ocid(compiled: Iterable[CompiledRelease]) -> dict[str, dict[str, Any]]:
    return {item.ocid: item.release for item in compiled}
