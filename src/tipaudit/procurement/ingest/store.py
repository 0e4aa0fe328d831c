"""Grouping releases by ``ocid`` within a memory budget, spilling to disk when needed.

Releases of one ``ocid`` may be spread over many files in any order, so nothing can be compiled
before all input is read. The store keeps each release as its JSON text (compact, and invisible to
Python's garbage collector, which slows down sharply when millions of parsed objects are held) in
a dictionary keyed by ``ocid`` while they fit half the memory budget (the fast path: no disk, and
an ``ocid`` with a single release is compiled straight away). Past that it *spills*: every
release held so far and every later one is written, as a small binary frame, to one of N
temporary bucket files
chosen by the CRC-32 of its ``ocid`` (range partitioning: bucket ``i`` holds the hashes in
``[i * 2**32 / N, (i + 1) * 2**32 / N)``). N is sized from the expected input so that a bucket
is about a quarter of the budget; a bucket that turns out bigger is split again by hash range
before it is loaded. Buckets are then read one at a time and grouped in memory.

Either way the groups come out ordered by ``(crc32(ocid), ocid)``, so the output order is the
same whatever the memory budget, and the same on every run over the same input.

A frame holds the release's JSON text; the rare release nested deeper than ``orjson`` writes
(254 levels) is held as a parsed object and framed with :mod:`marshal` — these files are written
and read by the same process only, in a private temporary folder removed at the end. When the
run drops fields it does not read (see ``project``), the frame also holds the dropped values'
JSON text, read back only for an ``ocid`` with more than one release, to tell identical copies
from conflicting ones.
"""

from __future__ import annotations

import contextlib
import marshal
import math
import shutil
import struct
import tempfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, Final

import orjson

__all__ = [
    "COMPILED",
    "RELEASE",
    "GroupStore",
    "SpillWriter",
    "Unit",
    "bucket_count",
    "drain_buckets",
    "make_spill_root",
    "ocid_order",
    "remove_spill_root",
    "spill_buffering",
]

RELEASE: Final = 0
COMPILED: Final = 1

# A held unit costs its JSON text plus the Unit, its strings and the dictionary entry.
_UNIT_OVERHEAD = 300
# A parsed object (only for releases too deep for orjson to write) is counted as this many bytes.
_PARSED_COST = 64 * 1024
_MAX_BUCKETS = 256
_MAX_SPLIT_DEPTH = 4
_HEADER = struct.Struct(
    "<IIIQBBIqqHIB"
)  # crc, ocid, payload, seq, kind, codec, file, line, offset, index, extra, extra codec
_CODEC_JSON = 0
_CODEC_MARSHAL = 1


class Unit:
    """One release (or a publisher's compiled release) waiting for the others of its ocid.

    ``obj`` is the JSON text of the release (or, rarely, the parsed object); call :meth:`load`.
    ``extra`` is what was dropped from it, the same way (``None``: nothing, or not loaded).
    """

    __slots__ = ("extra", "file", "index", "kind", "line", "obj", "ocid", "offset", "seq")

    def __init__(
        self,
        ocid: str,
        seq: int,
        kind: int,
        obj: bytes | dict[str, Any],
        file: int,
        line: int | None,
        offset: int | None,
        index: str,
        extra: bytes | dict[str, Any] | None = None,
    ) -> None:
        self.ocid = ocid
        self.seq = seq
        self.kind = kind
        self.obj = obj
        self.file = file
        self.line = line
        self.offset = offset
        self.index = index
        self.extra = extra

    def load(self) -> dict[str, Any]:
        """The release as a dict (parsed once, then kept)."""
        obj = self.obj
        if type(obj) is bytes:
            parsed: dict[str, Any] = orjson.loads(obj)
            self.obj = parsed
            return parsed
        return obj  # type: ignore[return-value]

    def same_content(self, other: Unit) -> bool:
        """Whether two units hold equal releases (what was dropped from them included)."""
        if self.load() != other.load():
            return False
        mine, theirs = self.extra, other.extra
        if mine is None or theirs is None:
            return mine is theirs
        if type(mine) is bytes and type(theirs) is bytes and mine == theirs:
            return True
        return _parsed(mine) == _parsed(theirs)  # equal values, perhaps keys in another order


def _parsed(value: bytes | dict[str, Any]) -> dict[str, Any]:
    if type(value) is bytes:
        parsed: dict[str, Any] = orjson.loads(value)
        return parsed
    return value  # type: ignore[return-value]


def _frame_payload(value: bytes | dict[str, Any]) -> tuple[bytes, int]:
    if type(value) is bytes:
        return value, _CODEC_JSON
    return marshal.dumps(value), _CODEC_MARSHAL


def ocid_order(ocid: str) -> tuple[int, str]:
    """The output order: CRC-32 of the ocid's UTF-8 bytes, then the ocid."""
    return zlib.crc32(ocid.encode("utf-8", "surrogatepass")), ocid


class SpillWriter:
    """Appends units as frames to ``len(paths)`` bucket files, chosen by CRC-32 range."""

    def __init__(self, paths: list[Path], buffering: int) -> None:
        self.paths = paths
        self._writers: list[IO[bytes]] = []
        try:
            for path in paths:
                self._writers.append(path.open("wb", buffering=buffering))
        except BaseException:
            self.close()
            raise

    def write(self, unit: Unit) -> None:
        ocid = unit.ocid.encode("utf-8", "surrogatepass")
        crc = zlib.crc32(ocid)
        index = unit.index.encode("utf-8", "surrogatepass")
        obj = unit.obj
        if type(obj) is bytes:
            payload = obj
            codec = _CODEC_JSON
        else:
            payload, codec = _frame_payload(obj)
        extra, extra_codec = (
            (b"", _CODEC_JSON) if unit.extra is None else _frame_payload(unit.extra)
        )
        writer = self._writers[(crc * len(self._writers)) >> 32]
        writer.write(
            _HEADER.pack(
                crc,
                len(ocid),
                len(payload),
                unit.seq,
                unit.kind,
                codec,
                unit.file,
                -1 if unit.line is None else unit.line,
                -1 if unit.offset is None else unit.offset,
                len(index),
                len(extra),
                extra_codec,
            )
        )
        writer.write(ocid)
        writer.write(index)
        writer.write(payload)
        if extra:
            writer.write(extra)

    def close(self) -> None:
        """Flush and close the files (safe to call more than once)."""
        writers, self._writers = self._writers, []
        for writer in writers:
            writer.close()


def make_spill_root(spill_dir: Path | None) -> tuple[Path, bool]:
    """A private temporary folder in ``spill_dir``; also whether ``spill_dir`` had to be made.

    Screening passes "<run folder>/spill", which does not exist yet: it is made here and should
    be removed again (see :func:`remove_spill_root`).
    """
    made = False
    if spill_dir is not None and not spill_dir.exists():
        spill_dir.mkdir(parents=True)
        made = True
    return Path(tempfile.mkdtemp(prefix="tipaudit-ocds-", dir=spill_dir)), made


def remove_spill_root(root: Path, spill_dir: Path | None, made_spill_dir: bool) -> None:
    shutil.rmtree(root, ignore_errors=True)
    if made_spill_dir and spill_dir is not None:
        with contextlib.suppress(OSError):  # not empty: someone else uses it too
            spill_dir.rmdir()


def bucket_count(expected_bytes: int, memory_budget: int) -> int:
    """How many buckets so that one is about a quarter of the budget (2 to 256)."""
    limit = _bucket_limit(memory_budget)
    return min(max(math.ceil(max(expected_bytes, 1) * 1.25 / limit), 2), _MAX_BUCKETS)


def spill_buffering(memory_budget: int, count: int) -> int:
    """The write buffer of each of ``count`` bucket files: all of them take 1/8 of the budget."""
    return max(64 * 1024, memory_budget // (8 * count))


def _bucket_limit(memory_budget: int) -> int:
    return max(memory_budget // 4, 64 * 1024)


class GroupStore:
    """Collect :class:`Unit` objects and give them back grouped by ``ocid``."""

    def __init__(
        self,
        memory_budget: int,
        spill_dir: Path | None,
        expected_bytes: Callable[[], int],
    ) -> None:
        self._budget = memory_budget
        self._held_limit = memory_budget // 2
        self._spill_dir = spill_dir
        self._expected_bytes = expected_bytes
        self._groups: dict[str, Unit | list[Unit]] = {}
        self._held = 0
        self._root: Path | None = None
        self._made_spill_dir = False
        self._spill: SpillWriter | None = None
        self.buckets = 0

    @property
    def spilled(self) -> bool:
        return self._root is not None

    def add(self, unit: Unit) -> None:
        if self._spill is not None:
            self._spill.write(unit)
            return
        groups = self._groups
        held = groups.get(unit.ocid)
        if held is None:
            groups[unit.ocid] = unit
        elif type(held) is list:
            held.append(unit)
        else:
            groups[unit.ocid] = [held, unit]  # type: ignore[list-item]
        obj = unit.obj
        extra = unit.extra
        self._held += (
            (len(obj) if type(obj) is bytes else _PARSED_COST)
            + (0 if extra is None else len(extra) if type(extra) is bytes else _PARSED_COST)
            + _UNIT_OVERHEAD
        )
        if self._held > self._held_limit:
            self._start_spill()

    # -- spilling ---------------------------------------------------------------------------
    def _start_spill(self) -> None:
        count = bucket_count(self._expected_bytes(), self._budget)
        self._root, self._made_spill_dir = make_spill_root(self._spill_dir)
        paths = [self._root / f"bucket-{i:03d}" for i in range(count)]
        self._spill = spill = SpillWriter(paths, spill_buffering(self._budget, count))
        self.buckets = count
        held = self._groups
        self._groups = {}
        for group in held.values():
            if type(group) is list:
                for unit in group:
                    spill.write(unit)
            else:
                spill.write(group)  # type: ignore[arg-type]
        self._held = 0

    # -- reading back -----------------------------------------------------------------------
    def groups(self) -> Iterator[list[Unit]]:
        """The units of each ocid, in input order, ocids in :func:`ocid_order`."""
        if self._spill is None:
            groups = self._groups
            for ocid in sorted(groups, key=ocid_order):
                held = groups.pop(ocid)
                yield held if type(held) is list else [held]  # type: ignore[list-item]
            return
        self._spill.close()
        yield from drain_buckets([[path] for path in self._spill.paths], self._budget)

    def close(self) -> None:
        """Remove the temporary files (safe to call more than once)."""
        if self._spill is not None:
            self._spill.close()
        self._groups = {}
        if self._root is not None:
            remove_spill_root(self._root, self._spill_dir, self._made_spill_dir)
            self._root = None
            self._made_spill_dir = False


def drain_buckets(
    buckets: list[list[Path]], memory_budget: int, first: int = 0, stop: int | None = None
) -> Iterator[list[Unit]]:
    """The groups of buckets ``first`` to ``stop`` (exclusive) of ``len(buckets)``, in order.

    Each bucket is given as the files that hold its frames (one per process that wrote it);
    they are removed as they are read. Groups come in :func:`ocid_order`, units in input order.
    """
    count = len(buckets)
    limit = _bucket_limit(memory_budget)
    buffer = _BucketBuffer()
    for i in range(first, count if stop is None else stop):
        lo = (i << 32) // count
        hi = ((i + 1) << 32) // count
        yield from _drain(buckets[i], lo, hi, 0, limit, buffer)


class _BucketBuffer:
    """One buffer that every bucket of a drain is read into, in turn.

    Why: a bucket is about a quarter of the memory budget; reading each into new memory
    would make the system map and zero that much afresh every time (slow on virtual machines).
    """

    def __init__(self) -> None:
        self._data = bytearray()

    def load(self, paths: list[Path]) -> memoryview:
        sizes = [path.stat().st_size for path in paths]
        total = sum(sizes)
        if len(self._data) < total:
            self._data = bytearray(total)
        view = memoryview(self._data)
        position = 0
        for path, size in zip(paths, sizes, strict=True):
            with path.open("rb", buffering=0) as handle:
                end = position + size
                while position < end:
                    read = handle.readinto(view[position:end])
                    if not read:
                        raise OSError(f"{path}: shorter than expected")
                    position += read
        return view[:total]


def _drain(
    paths: list[Path], lo: int, hi: int, depth: int, limit: int, buffer: _BucketBuffer
) -> Iterator[list[Unit]]:
    size = sum(path.stat().st_size for path in paths)
    if size > limit and depth < _MAX_SPLIT_DEPTH and hi - lo > 1:
        yield from _split(paths, lo, hi, depth, size, limit, buffer)
        return
    data = buffer.load(paths)
    for path in paths:
        path.unlink()
    frames: dict[str, list[int]] = {}
    crcs: dict[str, int] = {}
    header_size = _HEADER.size
    position = 0
    while position < len(data):
        crc, ocid_len, payload_len, *_, index_len, extra_len, _ = _HEADER.unpack_from(
            data, position
        )
        start = position + header_size
        ocid = str(data[start : start + ocid_len], "utf-8", "surrogatepass")
        found = frames.get(ocid)
        if found is None:
            frames[ocid] = [position]
            crcs[ocid] = crc
        else:
            found.append(position)
        position = start + ocid_len + index_len + payload_len + extra_len
    for ocid in sorted(frames, key=lambda o: (crcs[o], o)):
        offsets = frames.pop(ocid)
        # What was dropped is compared only between releases of one ocid: read it only then.
        with_extra = len(offsets) > 1
        units = [_decode(data, offset, with_extra) for offset in offsets]
        units.sort(key=lambda u: u.seq)
        yield units


def _split(
    paths: list[Path],
    lo: int,
    hi: int,
    depth: int,
    size: int,
    limit: int,
    buffer: _BucketBuffer,
) -> Iterator[list[Unit]]:
    parts = min(max(math.ceil(size * 2 / limit), 2), _MAX_BUCKETS, hi - lo)
    span = hi - lo
    sub_paths = [paths[0].with_name(f"{paths[0].name}.{i:03d}") for i in range(parts)]
    writers = [p.open("wb", buffering=64 * 1024) for p in sub_paths]
    header_size = _HEADER.size
    try:
        for path in paths:
            with path.open("rb", buffering=1024 * 1024) as reader:
                while True:
                    header = reader.read(header_size)
                    if not header:
                        break
                    crc, ocid_len, payload_len, *_, index_len, extra_len, _ = _HEADER.unpack(header)
                    body = reader.read(ocid_len + index_len + payload_len + extra_len)
                    target = writers[((crc - lo) * parts) // span]
                    target.write(header)
                    target.write(body)
    finally:
        for writer in writers:
            writer.close()
    for path in paths:
        path.unlink()
    for i, sub in enumerate(sub_paths):
        sub_lo = lo + (i * span) // parts
        yield from _drain([sub], sub_lo, lo + ((i + 1) * span) // parts, depth + 1, limit, buffer)


def _decode(data: memoryview, position: int, with_extra: bool) -> Unit:
    (
        _crc,
        ocid_len,
        payload_len,
        seq,
        kind,
        codec,
        file,
        line,
        offset,
        index_len,
        extra_len,
        extra_codec,
    ) = _HEADER.unpack_from(data, position)
    start = position + _HEADER.size
    ocid = str(data[start : start + ocid_len], "utf-8", "surrogatepass")
    start += ocid_len
    index = str(data[start : start + index_len], "utf-8", "surrogatepass")
    start += index_len
    view = data[start : start + payload_len]
    # marshal frames are written by this process into its private temporary folder (see above)
    obj: dict[str, Any] = (
        orjson.loads(view) if codec == _CODEC_JSON else marshal.loads(view)  # noqa: S302
    )
    extra: bytes | dict[str, Any] | None = None
    if with_extra and extra_len:
        start += payload_len
        raw = bytes(data[start : start + extra_len])  # the buffer is reused for the next bucket
        extra = raw if extra_codec == _CODEC_JSON else marshal.loads(raw)  # noqa: S302
    return Unit(
        ocid,
        seq,
        kind,
        obj,
        file,
        None if line < 0 else line,
        None if offset < 0 else offset,
        index,
        extra,
    )
