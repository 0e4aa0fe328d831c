"""The ingest run: files in, one compiled release per ``ocid`` out. See ``docs/ocds-ingest.md``."""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import orjson

from tipaudit.procurement.ingest.checks import is_linked_release, release_problems
from tipaudit.procurement.ingest.errors import UnreadableInputError
from tipaudit.procurement.ingest.gctune import relaxed_gc
from tipaudit.procurement.ingest.merge import (
    MergeNotes,
    MergeRules,
    compile_releases,
    release_sort_key,
)
from tipaudit.procurement.ingest.parallel import WorkerPool, available_cores, can_fork
from tipaudit.procurement.ingest.project import FieldSpec, Projection
from tipaudit.procurement.ingest.reader import (
    GZIP_MAGIC,
    FileReader,
    discover_files,
    open_input,
)
from tipaudit.procurement.ingest.report import (
    MAX_EXAMPLES,
    Conflict,
    IngestReport,
    Position,
    ProgressTick,
    SkippedItem,
    WarningKind,
)
from tipaudit.procurement.ingest.store import (
    COMPILED,
    RELEASE,
    GroupStore,
    SpillWriter,
    Unit,
    bucket_count,
    drain_buckets,
    make_spill_root,
    remove_spill_root,
    spill_buffering,
)

__all__ = ["CompiledRelease", "CompiledReleases", "IngestOptions", "iter_compiled"]

T = TypeVar("T")

MiB = 2**20
_TICK_SECONDS = 0.1
_TICK_EVERY = 256
_MAX_AUTO_WORKERS = 4
# How much larger gzip-compressed JSON is when read: a guess, to size the buckets and to tell
# whether the input fits in memory before reading it.
_GZIP_EXPANSION = 8
# Units read by workers are numbered (file number << 40) + their order in the file.
_SEQ_FILE_SHIFT = 40


@dataclass(frozen=True, slots=True)
class IngestOptions:
    """How to ingest.

    * ``on_error``: ``"fail"`` raises :class:`UnreadableInputError` at the first unreadable
      item; ``"skip"`` skips it, lists it in ``report.skipped`` and keeps everything else.
    * ``spill_dir``: where temporary bucket files go when the input outgrows the memory budget
      (default: the system temporary folder).
    * ``memory_budget_bytes``: the memory the run aims to stay within (at least 1 MiB).
    * ``stream_threshold_bytes``: JSON values larger than this are walked element by element
      instead of parsed whole; default ``memory_budget_bytes / 16`` (32 MiB by default).
    * ``max_listed``: the most skipped items and conflicts listed in the report (all counted).
    * ``merge_rules``: default the OCDS 1.1.5 rules; use :meth:`MergeRules.from_schema` for a
      schema with extensions.
    * ``workers``: worker processes for reading and merging. ``None`` (the default): one per
      core, up to four, when the input is too large for the memory budget (it is then grouped
      on disk anyway) and the system can fork (Linux); ``1``: none; ``2`` or more: that many,
      whatever the size of the input. The output and the report are the same either way.
    * ``drop_fields``: fields of each release that whoever uses the compiled releases never
      reads (see :mod:`~tipaudit.procurement.ingest.project`); they are dropped when a release
      is read, leaving stand-ins, so that less is held, parsed again and merged. Every other
      field of the compiled releases, and the report, are the same as without.
    """

    on_error: Literal["fail", "skip"] = "fail"
    spill_dir: Path | None = None
    memory_budget_bytes: int = 512 * MiB
    stream_threshold_bytes: int | None = None
    max_listed: int = 10_000
    merge_rules: MergeRules | None = None
    workers: int | None = None
    drop_fields: FieldSpec | None = None

    def __post_init__(self) -> None:
        if self.on_error not in ("fail", "skip"):
            raise ValueError(f'on_error must be "fail" or "skip", not {self.on_error!r}')
        if self.memory_budget_bytes < MiB:
            raise ValueError("memory_budget_bytes must be at least 1 MiB")
        if self.stream_threshold_bytes is not None and self.stream_threshold_bytes < 64 * 1024:
            raise ValueError("stream_threshold_bytes must be at least 64 KiB")
        if self.workers is not None and self.workers < 1:
            raise ValueError("workers must be at least 1")

    @property
    def threshold(self) -> int:
        if self.stream_threshold_bytes is not None:
            return self.stream_threshold_bytes
        return max(self.memory_budget_bytes // 16, 64 * 1024)


@dataclass(frozen=True, slots=True)
class CompiledRelease:
    """One contracting process: its compiled release and where it came from.

    ``release`` is a plain OCDS-shaped dict. ``sources`` are the files of the releases used, in
    input order. ``releases_merged`` is how many distinct releases were merged here (0 when
    ``from_record`` is true: the publisher's ``compiledRelease`` was used as published).
    """

    ocid: str
    release: dict[str, Any]
    sources: tuple[str, ...]
    releases_merged: int
    from_record: bool


def iter_compiled(
    paths: Sequence[Path],
    options: IngestOptions,
    report: IngestReport,
    progress: Callable[[ProgressTick], None] | None = None,
) -> CompiledReleases:
    """Read OCDS files and folders and yield one compiled release per ``ocid``.

    All input is read before the first compiled release is yielded (a later file may hold more
    releases of any ocid); with ``on_error="fail"`` the first unreadable item raises
    :class:`UnreadableInputError` before anything is yielded. Compiled releases come in the
    order of :func:`~tipaudit.procurement.ingest.store.ocid_order`. ``report`` is filled in as
    the run goes and is complete when the iterator is exhausted. Close the iterator (or run it
    to the end) to remove spill files at once.

    The result is an iterator; instead of iterating it, :meth:`CompiledReleases.map_shards` can
    hand the compiled releases to worker processes.
    """
    return CompiledReleases(paths, options, report, progress)


class CompiledReleases(Iterator[CompiledRelease]):
    """The compiled releases of an ingest run: iterate them, or :meth:`map_shards` them once."""

    def __init__(
        self,
        paths: Sequence[Path],
        options: IngestOptions,
        report: IngestReport,
        progress: Callable[[ProgressTick], None] | None,
    ) -> None:
        self._paths = list(paths)
        self._options = options
        self._report = report
        self._progress = progress
        self._iterator: Generator[CompiledRelease, None, None] | None = None
        self._mapped = False

    def __iter__(self) -> CompiledReleases:
        return self

    def __next__(self) -> CompiledRelease:
        if self._mapped:
            raise StopIteration  # map_shards() had them all
        if self._iterator is None:
            self._iterator = self._generate()
        return next(self._iterator)

    def close(self) -> None:
        """Stop early: temporary files are removed at once."""
        if self._iterator is not None:
            self._iterator.close()

    def _generate(self) -> Generator[CompiledRelease, None, None]:
        run = _Run(self._options, self._report, self._progress)
        try:
            with relaxed_gc():
                yield from run.execute(self._paths)
        finally:
            run.close()

    def map_shards(self, fn: Callable[[int, int, Iterator[CompiledRelease]], T]) -> list[T]:
        """Call ``fn(shard, shards, releases)`` on consecutive parts of the output; its results.

        The compiled releases, in the same order as when iterating, are cut into ``shards``
        consecutive parts and ``fn`` gets each part with its number. With worker processes (see
        ``IngestOptions.workers``) each part is merged and given to ``fn`` in a worker, ``fn``
        having been inherited from this process: it must return something picklable, and
        whatever else it does must not need this process (write its output to files). Without
        workers there is one part, handled here. Call this instead of iterating, once; the
        report is complete when it returns.
        """
        if self._iterator is not None or self._mapped:
            raise RuntimeError("map_shards() is called instead of iterating, and only once")
        self._mapped = True
        run = _Run(self._options, self._report, self._progress)
        try:
            with relaxed_gc():
                return run.map_shards(self._paths, fn)
        finally:
            run.close()


class _Run:
    """One ingest: the reader's sink, the store and the per-ocid resolution."""

    def __init__(
        self,
        options: IngestOptions,
        report: IngestReport,
        progress: Callable[[ProgressTick], None] | None,
    ) -> None:
        self.options = options
        self.report = report
        report.max_listed = options.max_listed
        self.progress = progress
        self.rules = options.merge_rules or MergeRules.default()
        self.projection = (
            None if options.drop_fields is None else Projection(options.drop_fields, self.rules)
        )
        self.fail = options.on_error == "fail"
        self.files: list[str] = []
        self.file_index = -1
        self.file_name = ""
        self.seq = 0
        self.total_bytes = 0
        self.done_bytes = 0
        self.decompressed = 0
        self._raw: Any = None
        self._reader: FileReader | None = None
        self._calls = 0
        self._last_tick = 0.0
        self.store = GroupStore(options.memory_budget_bytes, options.spill_dir, self._expected)
        self._add = self.store.add  # where units go: the store, or a worker's bucket files
        self._paths: list[Path] = []
        self._sizes: list[int] = []
        # With worker processes (see _start_workers): the shared spill folder and buckets.
        self._pool: WorkerPool | None = None
        self._workers = 1
        self._worker_budget = options.memory_budget_bytes
        self._root: Path | None = None
        self._made_spill_dir = False
        self._buckets = 0
        self._shard_fn: Callable[[int, int, Iterator[CompiledRelease]], Any] | None = None
        self._spill: SpillWriter | None = None  # in a worker: its own bucket files

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        self.store.close()
        if self._root is not None:
            remove_spill_root(self._root, self.options.spill_dir, self._made_spill_dir)
            self._root = None

    # -- driving ----------------------------------------------------------------------------
    def execute(self, paths: Sequence[Path]) -> Iterator[CompiledRelease]:
        yield from self._compiled(self._discover(paths))

    def _compiled(self, workers: int) -> Iterator[CompiledRelease]:
        if workers > 1:
            self._start_workers(workers, None)
            self._read_in_workers()
            assert self._pool is not None
            self._pool.close()  # the merging is done here, where the releases are wanted
            groups = drain_buckets(self._bucket_files(), self._worker_budget)
        else:
            for index, (path, size) in enumerate(zip(self._paths, self._sizes, strict=True)):
                self._read_file(index, path, size)
            self.report.spill_buckets = self.store.buckets
            groups = self.store.groups()
        self._tick(force=True, phase="merging")
        for units in groups:
            compiled = self._resolve(units)
            if compiled is not None:
                yield compiled
                self._count("merging")
        self._tick(force=True, phase="done")

    def map_shards(
        self, paths: Sequence[Path], fn: Callable[[int, int, Iterator[CompiledRelease]], T]
    ) -> list[T]:
        workers = self._discover(paths)
        if workers <= 1:
            return [fn(0, 1, self._compiled(1))]
        self._start_workers(workers, fn)
        self._read_in_workers()
        assert self._pool is not None
        self._tick(force=True, phase="merging")
        results: list[T] = []
        for shard_report, result in self._pool.map_ordered(
            [("shard", shard) for shard in range(workers)]
        ):
            self.report.absorb(shard_report)
            results.append(result)
            self._tick(force=True, phase="merging")
        self._tick(force=True, phase="done")
        return results

    def _discover(self, paths: Sequence[Path]) -> int:
        """Find the files to read; how many worker processes to read and merge them with."""
        self._paths = discover_files(paths, self._ignored)
        self._sizes = [path.stat().st_size for path in self._paths]
        self.files = [str(path) for path in self._paths]
        self.total_bytes = sum(self._sizes)
        wanted = self.options.workers
        if wanted == 1 or not self._paths or not can_fork():
            return 1
        if wanted is None:
            cores = available_cores()
            if cores < 2 or self._expected_size() <= self.options.memory_budget_bytes // 2:
                return 1  # it fits in memory: grouping there, in this process, is faster
            wanted = min(cores, _MAX_AUTO_WORKERS)
        return wanted

    def _expected_size(self) -> int:
        """A guess of the decompressed size of the input, before reading it."""
        total = 0
        for path, size in zip(self._paths, self._sizes, strict=True):
            try:
                with path.open("rb") as handle:
                    gzipped = handle.read(2) == GZIP_MAGIC
            except OSError:
                gzipped = False
            total += size * (_GZIP_EXPANSION if gzipped else 1)
        return total

    # -- with worker processes ------------------------------------------------------------------
    # Workers read whole files (one at a time, whichever is free takes the next) into their own
    # bucket files, as the spill does; then each merges a consecutive range of buckets (a
    # shard). The report of each file and each shard is built in the worker and added here in
    # input order, so it is the same as without workers.
    def _start_workers(
        self, workers: int, fn: Callable[[int, int, Iterator[CompiledRelease]], Any] | None
    ) -> None:
        # Each worker holds its own buffers and bucket at a time: it gets its share of the budget.
        self._worker_budget = max(self.options.memory_budget_bytes // workers, MiB)
        self._buckets = bucket_count(self._expected_size(), self._worker_budget)
        self.report.spill_buckets = self._buckets
        self._root, self._made_spill_dir = make_spill_root(self.options.spill_dir)
        self._shard_fn = fn  # set before the fork: the workers inherit it
        self._workers = workers
        self._pool = WorkerPool(workers, self._work)

    def _read_in_workers(self) -> None:
        assert self._pool is not None
        tasks = [("read", index) for index in range(len(self._paths))]
        for index, file_report in enumerate(self._pool.map_ordered(tasks)):
            self.report.absorb(file_report)
            self.done_bytes += self._sizes[index]
            self._tick(force=False, phase="reading")
        self._pool.each(lambda _worker: ("flush", None))

    def _bucket_files(self) -> list[list[Path]]:
        assert self._root is not None
        workers = range(self._workers)
        return [
            [self._root / f"w{worker}-{i:03d}" for worker in workers] for i in range(self._buckets)
        ]

    def _work(self, worker: int, task: tuple[str, int | None]) -> Any:
        """A task, in a worker process (a copy of this object made by the fork)."""
        kind, number = task
        if kind == "read":
            assert number is not None
            return self._work_read(worker, number)
        if kind == "flush":
            self._worker_spill(worker).close()
            return None
        if kind == "shard":
            assert number is not None
            return self._work_shard(number)
        raise ValueError(f"unknown task {kind!r}")

    def _worker_spill(self, worker: int) -> SpillWriter:
        if self._spill is None:
            assert self._root is not None
            paths = [self._root / f"w{worker}-{i:03d}" for i in range(self._buckets)]
            buffering = spill_buffering(self._worker_budget, self._buckets)
            self._spill = SpillWriter(paths, buffering)
        return self._spill

    def _work_read(self, worker: int, index: int) -> IngestReport:
        self._add = self._worker_spill(worker).write
        self.report = IngestReport(max_listed=self.options.max_listed)
        self.progress = None
        # Input order across workers: the file's number, then the order within the file.
        self.seq = index << _SEQ_FILE_SHIFT
        self._read_file(index, self._paths[index], self._sizes[index])
        return self.report

    def _work_shard(self, shard: int) -> tuple[IngestReport, Any]:
        assert self._shard_fn is not None
        self.report = IngestReport(max_listed=self.options.max_listed)
        self.progress = None
        shards = self._workers
        first = shard * self._buckets // shards
        stop = (shard + 1) * self._buckets // shards
        groups = drain_buckets(self._bucket_files(), self._worker_budget, first, stop)

        def releases() -> Iterator[CompiledRelease]:
            for units in groups:
                compiled = self._resolve(units)
                if compiled is not None:
                    yield compiled

        return self.report, self._shard_fn(shard, shards, releases())

    # -- reading ------------------------------------------------------------------------------
    def _read_file(self, index: int, path: Path, size: int) -> None:
        self.file_index = index
        self.file_name = self.files[index]
        self.report.files += 1
        self.report.bytes += size
        try:
            raw, stream = open_input(path)
        except OSError as exc:
            self._unreadable("file", None, None, f"cannot be opened: {exc.strerror or exc}")
            return
        self._raw = raw
        try:
            hint = size if stream is raw else None
            reader = FileReader(stream, self, self.options.threshold, hint)
            self._reader = reader
            reader.read()
            self.decompressed += reader.decompressed
        finally:
            self._reader = None
            self._raw = None
            if stream is not raw:
                stream.close()
            raw.close()
        self.done_bytes += size
        self._tick(force=False, phase="reading")

    def _expected(self) -> int:
        """Expected decompressed input bytes, extrapolated from what was read so far."""
        read = self.decompressed + (self._reader.decompressed if self._reader else 0)
        on_disk = self.done_bytes + self._raw_position()
        if on_disk <= 0:
            return max(read, self.total_bytes)
        return max(read, int(read * self.total_bytes / on_disk))

    def _raw_position(self) -> int:
        try:
            return int(self._raw.tell()) if self._raw is not None else 0
        except (OSError, ValueError):
            return 0

    def _ignored(self, path: Path, reason: str) -> None:
        self.report.warn(WarningKind.IGNORED_FILE, str(path), Position(), "file", reason)

    # -- progress ---------------------------------------------------------------------------
    def tick(self) -> None:
        """Called by the reader at each read: a time-throttled progress tick."""
        self._tick(force=False, phase="reading")

    def _count(self, phase: Literal["reading", "merging"]) -> None:
        """Count an item; every few hundred, a time-throttled progress tick."""
        self._calls += 1
        if not self._calls % _TICK_EVERY:
            self._tick(force=False, phase=phase)

    def _tick(self, *, force: bool, phase: Literal["reading", "merging", "done"]) -> None:
        if self.progress is None:
            return
        now = time.monotonic()
        if not force and now - self._last_tick < _TICK_SECONDS:
            return
        self._last_tick = now
        read = min(self.done_bytes + self._raw_position(), self.total_bytes)
        self.progress(
            ProgressTick(read, self.total_bytes, self.report.releases, self.report.ocids, phase)
        )

    # -- errors -----------------------------------------------------------------------------
    def _unreadable(
        self, index: str, line: int | None, offset: int | None, reason: str, file: str | None = None
    ) -> None:
        name = self.file_name if file is None else file
        position = Position(line, offset)
        if self.fail:
            raise UnreadableInputError(name, index, str(position), reason)
        self.report.add_skipped(SkippedItem(name, position, index, reason))

    # -- the reader's sink ------------------------------------------------------------------
    def unreadable(
        self, doc: int, item: str | None, line: int | None, offset: int | None, reason: str
    ) -> None:
        index = f"document {doc}" if item is None else f"document {doc}, {item}"
        self._unreadable(index, line, offset, reason)

    def byte_order_mark(self) -> None:
        self.report.warn(
            WarningKind.BYTE_ORDER_MARK,
            self.file_name,
            Position(1, 0),
            "document 1",
            "UTF-8 byte order mark at the start of the file (skipped)",
        )

    def document(self, value: Any, raw: memoryview, doc: int, line: int, offset: int) -> None:
        self.report.documents += 1
        self._classify(value, raw, f"document {doc}", line, offset, top=True)
        self._count("reading")

    def stream_item(
        self,
        key: str | None,
        index: int,
        value: Any,
        raw: memoryview,
        doc: int,
        line: int,
        offset: int,
    ) -> None:
        label = f"document {doc}, {key or ''}[{index}]"
        if key == "releases":
            self._release(value, raw, label, line, offset, None)
        elif key == "records":
            self._record(value, label, line, offset)
        else:
            self._classify(value, raw, label, line, offset, top=False)
        self._count("reading")

    def stream_end(
        self, meta: dict[str, Any], streamed: list[str], doc: int, line: int, offset: int
    ) -> None:
        self.report.documents += 1
        label = f"document {doc}"
        if not streamed:
            self._classify(meta, None, label, line, offset, top=True)
            return
        if streamed == ["[]"]:
            return
        if "ocid" in meta and "releases" in streamed and "records" not in streamed:
            # A bare record, streamed: its releases are already in; now its compiledRelease.
            self.report.records += 1
            ocid = meta.get("ocid")
            compiled = meta.get("compiledRelease")
            if type(ocid) is str and type(compiled) is dict:
                self._add_compiled(ocid, compiled, f"{label}, compiledRelease", line, offset)
            return
        if "version" not in meta:
            self._warn(
                WarningKind.MISSING_VERSION,
                label,
                line,
                offset,
                'package has no "version" (OCDS 1.0 style)',
            )

    # -- shapes -----------------------------------------------------------------------------
    def _warn(
        self, kind: WarningKind, index: str, line: int | None, offset: int | None, detail: str
    ) -> None:
        summary = self.report.warnings.get(kind)
        if summary is not None and len(summary.examples) >= MAX_EXAMPLES:
            summary.count += 1  # (the usual case on big inputs) only counted from now on
            return
        self.report.warn(kind, self.file_name, Position(line, offset), index, detail)

    def _classify(
        self, value: Any, raw: memoryview | None, index: str, line: int, offset: int, *, top: bool
    ) -> None:
        """Detect the shape of one JSON value and take what it holds."""
        if type(value) is not dict:
            if type(value) is list and top:
                for i, item in enumerate(value):
                    self._classify(item, None, f"{index}, [{i}]", line, offset, top=False)
                return
            self._unreadable(
                index,
                line,
                offset,
                f"{_kind(value)} where an OCDS release, record or package belongs",
            )
        elif "ocid" in value:
            if "releases" in value and "id" not in value:
                self._record(value, index, line, offset)
            else:
                self._release(value, raw, index, line, offset, None)
        elif "records" in value:
            self._package(value, "records", index, line, offset)
        elif "releases" in value:
            self._package(value, "releases", index, line, offset)
        else:
            if "id" in value or "date" in value or "tag" in value:
                reason = 'release without "ocid"'
            else:
                reason = 'an object with no "ocid", "releases" or "records": not OCDS'
            self._unreadable(index, line, offset, reason)

    def _package(
        self, package: dict[str, Any], key: str, index: str, line: int, offset: int
    ) -> None:
        items = package[key]
        if type(items) is not list:
            self._unreadable(index, line, offset, f'"{key}" is {_kind(items)}, not an array')
            return
        self._package_version(package, index, line, offset)
        for i, item in enumerate(items):
            if key == "records":
                self._record(item, f"{index}, records[{i}]", line, offset)
            else:
                self._release(item, None, f"{index}, releases[{i}]", line, offset, None)

    def _package_version(self, package: dict[str, Any], index: str, line: int, offset: int) -> None:
        if "version" not in package:
            self._warn(
                WarningKind.MISSING_VERSION,
                index,
                line,
                offset,
                'package has no "version" (OCDS 1.0 style)',
            )

    def _release(
        self,
        release: Any,
        raw: memoryview | None,
        index: str,
        line: int,
        offset: int,
        record_ocid: str | None,
    ) -> bool:
        """Take one release; False when it was not kept (unreadable or linked)."""
        if type(release) is not dict:
            self._unreadable(index, line, offset, f"{_kind(release)} where a release belongs")
            return False
        if is_linked_release(release):
            self._warn(
                WarningKind.LINKED_RELEASE_NOT_FETCHED,
                index,
                line,
                offset,
                f"linked release not fetched: {str(release.get('url'))[:200]}",
            )
            return False
        ocid = release.get("ocid")
        if type(ocid) is not str or not ocid:
            reason = (
                'release without "ocid"'
                if ocid is None
                else f'release whose "ocid" is {_kind(ocid)}, not a non-empty string'
            )
            self._unreadable(index, line, offset, reason)
            return False
        self.report.releases += 1
        problems = release_problems(release)
        if problems:
            for kind, detail in problems:
                self._warn(kind, index, line, offset, detail)
        if record_ocid is not None and ocid != record_ocid:
            self._warn(
                WarningKind.OCID_MISMATCH,
                index,
                line,
                offset,
                f"release ocid {ocid!r} in the record of {record_ocid!r} (grouped by its own)",
            )
        self.seq += 1
        self._add(self._unit(ocid, RELEASE, release, raw, line, offset, index))
        return True

    def _unit(
        self,
        ocid: str,
        kind: int,
        value: dict[str, Any],
        raw: memoryview | None,
        line: int,
        offset: int,
        index: str,
    ) -> Unit:
        """What is held of a release: its JSON text, less what the run does not read."""
        projection = self.projection
        if projection is None:
            held = _text(value, raw)
            return Unit(ocid, self.seq, kind, held, self.file_index, line, offset, index)
        dropped = projection.drop(value, published=kind == COMPILED)
        return Unit(
            ocid,
            self.seq,
            kind,
            _text(value, None),
            self.file_index,
            line,
            offset,
            index,
            _text(dropped, None) if dropped else None,
        )

    def _record(self, record: Any, index: str, line: int, offset: int) -> None:
        """A record: its compiledRelease when published, else its embedded releases."""
        if type(record) is not dict:
            self._unreadable(index, line, offset, f"{_kind(record)} where a record belongs")
            return
        compiled = record.get("compiledRelease")
        ocid = _record_ocid(record, compiled)
        if ocid is None:
            self._unreadable(index, line, offset, 'record without "ocid"')
            return
        if compiled is not None and type(compiled) is not dict:
            self._unreadable(
                index, line, offset, f'"compiledRelease" is {_kind(compiled)}, not an object'
            )
            return
        self.report.records += 1
        releases = record.get("releases")
        if releases is None:
            releases = []
        elif type(releases) is not list:
            self._warn(
                WarningKind.WRONG_TYPE, index, line, offset, f'"releases" is {_kind(releases)}'
            )
            releases = []
        if compiled is not None:
            self._count_releases(releases, index, line, offset)
            self._add_compiled(ocid, compiled, f"{index}.compiledRelease", line, offset)
            return
        kept = 0
        for j, release in enumerate(releases):
            if self._release(release, None, f"{index}.releases[{j}]", line, offset, ocid):
                kept += 1
        if not kept:
            if "versionedRelease" in record:
                detail = "record with only a versionedRelease (not used: no releases to merge)"
            elif releases:
                detail = "record with only linked releases: nothing to merge"
            else:
                detail = "record without releases"
            self._warn(WarningKind.RECORD_WITHOUT_RELEASES, index, line, offset, detail)

    def _count_releases(self, releases: list[Any], index: str, line: int, offset: int) -> None:
        """The releases of a record whose compiledRelease is used: counted, not merged."""
        for j, release in enumerate(releases):
            if type(release) is not dict:
                continue
            if is_linked_release(release):
                self._warn(
                    WarningKind.LINKED_RELEASE_NOT_FETCHED,
                    f"{index}.releases[{j}]",
                    line,
                    offset,
                    f"linked release not fetched: {str(release.get('url'))[:200]}",
                )
            else:
                self.report.releases += 1

    def _add_compiled(
        self, ocid: str, compiled: dict[str, Any], index: str, line: int, offset: int
    ) -> None:
        problems = release_problems(compiled)
        if problems:
            for kind, detail in problems:
                self._warn(kind, index, line, offset, detail)
        self.seq += 1
        self._add(self._unit(ocid, COMPILED, compiled, None, line, offset, index))

    # -- resolution -------------------------------------------------------------------------
    def _resolve(self, units: list[Unit]) -> CompiledRelease | None:
        try:
            return self._resolve_group(units)
        except RecursionError:
            first = units[0]
            self._unreadable(
                first.index,
                first.line,
                first.offset,
                f"releases of {first.ocid!r} are nested too deeply to merge",
                file=self.files[first.file],
            )
            return None

    def _resolve_group(self, units: list[Unit]) -> CompiledRelease | None:
        report = self.report
        ocid = units[0].ocid
        for unit in units:
            unit.load()
        if len(units) == 1:
            unit = units[0]
            if unit.kind == COMPILED:
                report.compiled_from_records += 1
                report.ocids += 1
                return CompiledRelease(ocid, unit.load(), (self.files[unit.file],), 0, True)
            return self._merge(ocid, [unit])
        compiled = [u for u in units if u.kind == COMPILED]
        if not compiled:
            return self._merge(ocid, self._dedupe(ocid, units))
        chosen = self._dedupe(ocid, compiled)
        winner = max(chosen, key=lambda u: (release_sort_key(u.load()), u.seq))
        for other in chosen:
            if other is not winner:
                self._warn_at(
                    other,
                    WarningKind.MULTIPLE_COMPILED_RELEASES,
                    f"compiled release {other.load().get('id')!r} of {ocid!r} not used: "
                    f"{winner.load().get('id')!r} in {self.files[winner.file]} is later",
                )
        ignored = len(units) - len(compiled)
        if ignored:
            first = next(u for u in units if u.kind == RELEASE)
            self._warn_at(
                first,
                WarningKind.RELEASES_IGNORED_FOR_COMPILED_RELEASE,
                f"{ignored} release(s) of {ocid!r} not merged: the record's compiledRelease "
                f"in {self.files[winner.file]} is used as published",
                count=ignored,
            )
        report.compiled_from_records += 1
        report.ocids += 1
        return CompiledRelease(ocid, winner.load(), (self.files[winner.file],), 0, True)

    def _merge(self, ocid: str, units: list[Unit]) -> CompiledRelease:
        if len(units) > 1:
            units.sort(key=lambda u: (release_sort_key(u.load()), u.seq))
        notes = MergeNotes()
        release = compile_releases(
            [u.load() for u in units],
            self.rules,
            ocid=ocid,
            presorted=True,
            notes=notes,
            consume=True,  # parsed for this merge only (the store holds JSON text)
        )
        if notes.duplicate_ids:
            self._warn_at(
                units[0],
                WarningKind.DUPLICATE_ARRAY_ID,
                f"objects sharing an id in one release were merged into one "
                f"({', '.join(sorted(set(notes.duplicate_ids)))})",
                count=len(notes.duplicate_ids),
            )
        sources = tuple(dict.fromkeys(self.files[u.file] for u in sorted(units, key=_seq)))
        self.report.merged += 1
        self.report.ocids += 1
        return CompiledRelease(ocid, release, sources, len(units), False)

    def _dedupe(self, ocid: str, units: list[Unit]) -> list[Unit]:
        """Drop identical copies; of releases sharing an id, keep the latest (see Conflict)."""
        by_id: dict[str | None, list[Unit]] = {}
        for unit in units:
            raw = unit.load().get("id")
            key = None if raw is None else (raw if type(raw) is str else str(raw))
            found = by_id.get(key)
            if found is None:
                by_id[key] = [unit]
            else:
                found.append(unit)
        kept: list[Unit] = []
        for key, group in by_id.items():
            if len(group) == 1:
                kept.append(group[0])
                continue
            variants: list[list[Unit]] = []
            for unit in group:
                for variant in variants:
                    if variant[0].same_content(unit):
                        variant.append(unit)
                        self.report.identical_duplicates += 1
                        break
                else:
                    variants.append([unit])
            if key is None or len(variants) == 1:
                kept.extend(variant[0] for variant in variants)
                continue
            winner = max(variants, key=lambda v: (release_sort_key(v[0].load()), v[-1].seq))
            for variant in variants:
                if variant is not winner:
                    self.report.add_conflict(
                        Conflict(
                            ocid,
                            key,
                            (self.files[winner[-1].file], self.files[variant[-1].file]),
                            _date(winner[0].load()),
                            _date(variant[0].load()),
                        )
                    )
            kept.append(winner[-1])
        return kept

    def _warn_at(self, unit: Unit, kind: WarningKind, detail: str, count: int = 1) -> None:
        self.report.warn(
            kind, self.files[unit.file], Position(unit.line, unit.offset), unit.index, detail, count
        )


def _seq(unit: Unit) -> int:
    return unit.seq


def _text(value: dict[str, Any], raw: memoryview | None) -> bytes | dict[str, Any]:
    """The JSON text to hold for a release: its own bytes when the reader gave them."""
    if raw is not None:
        return bytes(raw)
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return value  # nested deeper than orjson writes: held parsed (see store)


def _record_ocid(record: dict[str, Any], compiled: Any) -> str | None:
    """A record's ocid, or its compiledRelease's when the record has none."""
    for candidate in (record.get("ocid"), compiled.get("ocid") if type(compiled) is dict else None):
        if type(candidate) is str and candidate:
            return candidate
    return None


def _date(release: dict[str, Any]) -> str | None:
    date = release.get("date")
    return date if type(date) is str else None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {
        str: "a string",
        int: "a number",
        float: "a number",
        bool: "a boolean",
        list: "an array",
        dict: "an object",
    }.get(type(value), type(value).__name__)
