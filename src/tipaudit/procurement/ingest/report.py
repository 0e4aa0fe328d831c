"""What an ingest read, skipped, warned about and merged: :class:`IngestReport`."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

__all__ = [
    "Conflict",
    "IngestReport",
    "Position",
    "ProgressTick",
    "SkippedItem",
    "WarningExample",
    "WarningKind",
    "WarningSummary",
]

MAX_EXAMPLES = 5
# The plain counters of IngestReport (added up by IngestReport.absorb).
_COUNTERS = (
    "files",
    "bytes",
    "documents",
    "releases",
    "records",
    "compiled_from_records",
    "merged",
    "ocids",
    "identical_duplicates",
)


class WarningKind(StrEnum):
    """Input that reads but breaks the schema or cannot be used fully: kept, counted, listed."""

    MISSING_VERSION = "missing_version"
    OCDS_1_0_FORM = "ocds_1_0_form"
    WRONG_TYPE = "wrong_type"
    MISSING_ID = "missing_id"
    MISSING_DATE = "missing_date"
    MISSING_TAG = "missing_tag"
    LINKED_RELEASE_NOT_FETCHED = "linked_release_not_fetched"
    DUPLICATE_ARRAY_ID = "duplicate_array_id"
    OCID_MISMATCH = "ocid_mismatch"
    RECORD_WITHOUT_RELEASES = "record_without_releases"
    RELEASES_IGNORED_FOR_COMPILED_RELEASE = "releases_ignored_for_compiled_release"
    MULTIPLE_COMPILED_RELEASES = "multiple_compiled_releases"
    BYTE_ORDER_MARK = "byte_order_mark"
    IGNORED_FILE = "ignored_file"


@dataclass(frozen=True, slots=True)
class Position:
    """Where in a file: 1-based line and 0-based byte offset of the decompressed stream."""

    line: int | None = None
    offset: int | None = None

    def __str__(self) -> str:
        parts = []
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.offset is not None:
            parts.append(f"byte {self.offset}")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, int | None]:
        return {"line": self.line, "offset": self.offset}


@dataclass(frozen=True, slots=True)
class SkippedItem:
    """An unreadable item skipped under ``on_error="skip"``.

    ``index`` names the value in the file: ``document 3`` (the third top-level JSON value, i.e.
    line 3 of JSON Lines) or ``document 1, releases[17]``.
    """

    file: str
    position: Position
    index: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "position": self.position.to_dict(),
            "index": self.index,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class WarningExample:
    file: str
    position: Position
    index: str
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "position": self.position.to_dict(),
            "index": self.index,
            "detail": self.detail,
        }


@dataclass(slots=True)
class WarningSummary:
    """How often one kind of warning occurred, with the first few examples."""

    count: int = 0
    examples: list[WarningExample] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"count": self.count, "examples": [e.to_dict() for e in self.examples]}


@dataclass(frozen=True, slots=True)
class Conflict:
    """Two releases with the same ``ocid`` and ``id`` but different content.

    ``files`` is ``(kept, dropped)``: the release with the later ``date`` is kept; on equal
    dates, the one read later (later file in input order, or later in the same file).
    """

    ocid: str
    release_id: str | None
    files: tuple[str, str]
    kept_date: str | None
    dropped_date: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ocid": self.ocid,
            "release_id": self.release_id,
            "files": list(self.files),
            "kept_date": self.kept_date,
            "dropped_date": self.dropped_date,
        }


@dataclass(frozen=True, slots=True)
class ProgressTick:
    """Progress of a run, sent at most about ten times a second.

    ``bytes_read``/``total_bytes`` count bytes on disk (compressed size for gzip files);
    ``releases`` is the number of releases read so far and ``ocids`` the number of compiled
    releases yielded so far (all of them come after the reading phase).
    """

    bytes_read: int
    total_bytes: int
    releases: int
    ocids: int
    phase: Literal["reading", "merging", "done"] = "reading"


@dataclass(slots=True)
class IngestReport:
    """Counters, skipped items, warnings and conflicts of one ingest run.

    Counters: ``files`` and ``bytes`` read (on disk); ``documents`` (top-level JSON values,
    i.e. lines of JSON Lines); ``releases`` (release objects read, linked releases excluded);
    ``records``; ``compiled_from_records`` (compiled releases taken as published from a
    record's ``compiledRelease``); ``merged`` (compiled releases merged here); ``ocids``
    (compiled releases yielded: the sum of the two); ``identical_duplicates`` (copies dropped).

    ``skipped`` and ``conflicts`` list at most ``max_listed`` entries each; ``skipped_count`` and
    ``conflict_count`` always count all of them.
    """

    files: int = 0
    bytes: int = 0
    documents: int = 0
    releases: int = 0
    records: int = 0
    compiled_from_records: int = 0
    merged: int = 0
    ocids: int = 0
    identical_duplicates: int = 0
    skipped: list[SkippedItem] = field(default_factory=list)
    skipped_count: int = 0
    warnings: dict[str, WarningSummary] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)
    conflict_count: int = 0
    spill_buckets: int = 0
    max_listed: int = 10_000

    def warn(
        self,
        kind: WarningKind,
        file: str,
        position: Position,
        index: str,
        detail: str,
        count: int = 1,
    ) -> None:
        summary = self.warnings.get(kind)
        if summary is None:
            summary = self.warnings[kind] = WarningSummary()
        summary.count += count
        if len(summary.examples) < MAX_EXAMPLES:
            summary.examples.append(WarningExample(file, position, index, detail))

    def add_skipped(self, item: SkippedItem) -> None:
        self.skipped_count += 1
        if len(self.skipped) < self.max_listed:
            self.skipped.append(item)

    def add_conflict(self, conflict: Conflict) -> None:
        self.conflict_count += 1
        if len(self.conflicts) < self.max_listed:
            self.conflicts.append(conflict)

    def absorb(self, other: IngestReport) -> None:
        """Add ``other``, the report of a later part of the same run (a file or a range of
        ocids read by a worker process), as if its events had come after this report's."""
        for name in _COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for kind, summary in other.warnings.items():
            mine = self.warnings.get(kind)
            if mine is None:
                mine = self.warnings[kind] = WarningSummary()
            mine.count += summary.count
            mine.examples.extend(summary.examples[: MAX_EXAMPLES - len(mine.examples)])
        self.skipped_count += other.skipped_count
        self.skipped.extend(other.skipped[: max(self.max_listed - len(self.skipped), 0)])
        self.conflict_count += other.conflict_count
        self.conflicts.extend(other.conflicts[: max(self.max_listed - len(self.conflicts), 0)])

    def warning_count(self, kind: WarningKind | str) -> int:
        summary = self.warnings.get(kind)
        return summary.count if summary else 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy of the report."""
        return {
            "files": self.files,
            "bytes": self.bytes,
            "documents": self.documents,
            "releases": self.releases,
            "records": self.records,
            "compiled_from_records": self.compiled_from_records,
            "merged": self.merged,
            "ocids": self.ocids,
            "identical_duplicates": self.identical_duplicates,
            "skipped_count": self.skipped_count,
            "skipped": [s.to_dict() for s in self.skipped],
            "warnings": {str(k): self.warnings[k].to_dict() for k in sorted(self.warnings)},
            "conflict_count": self.conflict_count,
            "conflicts": [c.to_dict() for c in self.conflicts],
            "spill_buckets": self.spill_buckets,
        }

    def summary(self) -> str:
        """A short plain-text account for people (the CLI prints it)."""
        lines = [
            f"Read {self.files} files ({self.bytes:,} bytes), {self.documents} documents: "
            f"{self.releases} releases, {self.records} records.",
            f"Compiled {self.ocids} contracting processes (ocids): {self.merged} merged from "
            f"releases, {self.compiled_from_records} compiled releases taken from records.",
            f"Identical duplicates dropped: {self.identical_duplicates}. Conflicts (same release "
            f"id, different content; later date kept): {self.conflict_count}.",
        ]
        if self.spill_buckets:
            lines.append(f"Grouped on disk in {self.spill_buckets} buckets (memory budget).")
        if self.skipped_count:
            lines.append(f"Skipped {self.skipped_count} unreadable items:")
            lines.extend(
                f"  {s.file} ({s.index}{', ' + str(s.position) if str(s.position) else ''}): "
                f"{s.reason}"
                for s in self.skipped[:20]
            )
            if self.skipped_count > 20:
                lines.append(f"  … and {self.skipped_count - 20} more (see the JSON report)")
        if self.warnings:
            lines.append("Warnings (input kept):")
            for kind in sorted(self.warnings):
                summary = self.warnings[kind]
                example = summary.examples[0] if summary.examples else None
                tail = (
                    f" e.g. {example.file} ({example.index}): {example.detail}" if example else ""
                )
                lines.append(f"  {kind}: {summary.count}{tail}")
        for conflict in self.conflicts[:10]:
            lines.append(
                f"Conflict {conflict.ocid} release {conflict.release_id!r}: kept "
                f"{conflict.files[0]} ({conflict.kept_date}), dropped {conflict.files[1]} "
                f"({conflict.dropped_date})"
            )
        return "\n".join(lines)
