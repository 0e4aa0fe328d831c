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
and read by the same process only, in a private temporary folder removed at the end.
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

__all__ = ["COMPILED", "RELEASE", "GroupStore", "Unit", "ocid_order"]

RELEASE: Final = 0
COMPILED: Final = 1

# A held unit costs its JSON text plus the Unit, its strings and the dictionary entry.
_UNIT_OVERHEAD = 300
# A parsed object (only for releases too deep for orjson to write) is counted as this many bytes.
_PARSED_COST = 64 * 1024
_MAX_BUCKETS = 256
_MAX_SPLIT_DEPTH = 4
_HEADER = struct.Struct(
    "<IIIQBBIqqH"
)  # crc, ocid, payload, seq, kind, codec, file, line, offset, index
_CODEC_JSON = 0
_CODEC_MARSHAL = 1


class Unit:
    """One release (or a publisher's compiled release) waiting for the others of its ocid.

    ``obj`` is the JSON text of the release (or, rarely, the parsed object); call :meth:`load`.
    """

    __slots__ = ("file", "index", "kind", "line", "obj", "ocid", "offset", "seq")

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
    ) -> None:
        self.ocid = ocid
        self.seq = seq
        self.kind = kind
        self.obj = obj
        self.file = file
        self.line = line
        self.offset = offset
        self.index = index

    def load(self) -> dict[str, Any]:
        """The release as a dict (parsed once, then kept)."""
        obj = self.obj
        if type(obj) is bytes:
            parsed: dict[str, Any] = orjson.loads(obj)
            self.obj = parsed
            return parsed
        return obj  # type: ignore[return-value]


def ocid_order(ocid: str) -> tuple[int, str]:
    """The output order: CRC-32 of the ocid's UTF-8 bytes, then the ocid."""
    return zlib.crc32(ocid.encode("utf-8", "surrogatepass")), ocid


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
        self._bucket_limit = max(memory_budget // 4, 64 * 1024)
        self._spill_dir = spill_dir
        self._expected_bytes = expected_bytes
        self._groups: dict[str, Unit | list[Unit]] = {}
        self._held = 0
        self._root: Path | None = None
        self._made_spill_dir = False
        self._writers: list[IO[bytes]] = []
        self._paths: list[Path] = []
        self.buckets = 0

    @property
    def spilled(self) -> bool:
        return self._root is not None

    def add(self, unit: Unit) -> None:
        if self._writers:
            self._write(unit)
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
        self._held += (len(obj) if type(obj) is bytes else _PARSED_COST) + _UNIT_OVERHEAD
        if self._held > self._held_limit:
            self._start_spill()

    # -- spilling ---------------------------------------------------------------------------
    def _start_spill(self) -> None:
        expected = max(self._expected_bytes(), 1)
        count = min(max(math.ceil(expected * 1.25 / self._bucket_limit), 2), _MAX_BUCKETS)
        spill_dir = self._spill_dir
        if spill_dir is not None and not spill_dir.exists():
            # e.g. screening passes "<run folder>/spill": make it, and remove it again at close.
            spill_dir.mkdir(parents=True)
            self._made_spill_dir = True
        self._root = Path(tempfile.mkdtemp(prefix="tipaudit-ocds-", dir=spill_dir))
        buffering = max(64 * 1024, self._budget // (8 * count))
        self._paths = [self._root / f"bucket-{i:03d}" for i in range(count)]
        self._writers = [path.open("wb", buffering=buffering) for path in self._paths]
        self.buckets = count
        held = self._groups
        self._groups = {}
        for group in held.values():
            if type(group) is list:
                for unit in group:
                    self._write(unit)
            else:
                self._write(group)  # type: ignore[arg-type]
        self._held = 0

    def _write(self, unit: Unit) -> None:
        ocid = unit.ocid.encode("utf-8", "surrogatepass")
        crc = zlib.crc32(ocid)
        index = unit.index.encode("utf-8", "surrogatepass")
        obj = unit.obj
        if type(obj) is bytes:
            payload = obj
            codec = _CODEC_JSON
        else:
            payload = marshal.dumps(obj)
            codec = _CODEC_MARSHAL
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
            )
        )
        writer.write(ocid)
        writer.write(index)
        writer.write(payload)

    # -- reading back -----------------------------------------------------------------------
    def groups(self) -> Iterator[list[Unit]]:
        """The units of each ocid, in input order, ocids in :func:`ocid_order`."""
        if not self._writers:
            groups = self._groups
            for ocid in sorted(groups, key=ocid_order):
                held = groups.pop(ocid)
                yield held if type(held) is list else [held]  # type: ignore[list-item]
            return
        for writer in self._writers:
            writer.close()
        count = len(self._paths)
        for i, path in enumerate(self._paths):
            lo = (i << 32) // count
            hi = ((i + 1) << 32) // count
            yield from self._drain(path, lo, hi, 0)

    def _drain(self, path: Path, lo: int, hi: int, depth: int) -> Iterator[list[Unit]]:
        size = path.stat().st_size
        if size > self._bucket_limit and depth < _MAX_SPLIT_DEPTH and hi - lo > 1:
            yield from self._split(path, lo, hi, depth, size)
            return
        data = path.read_bytes()
        path.unlink()
        frames: dict[str, list[int]] = {}
        crcs: dict[str, int] = {}
        header_size = _HEADER.size
        position = 0
        while position < len(data):
            crc, ocid_len, payload_len, *_, index_len = _HEADER.unpack_from(data, position)
            start = position + header_size
            ocid = data[start : start + ocid_len].decode("utf-8", "surrogatepass")
            found = frames.get(ocid)
            if found is None:
                frames[ocid] = [position]
                crcs[ocid] = crc
            else:
                found.append(position)
            position = start + ocid_len + index_len + payload_len
        for ocid in sorted(frames, key=lambda o: (crcs[o], o)):
            units = [_decode(data, offset) for offset in frames.pop(ocid)]
            units.sort(key=lambda u: u.seq)
            yield units

    def _split(self, path: Path, lo: int, hi: int, depth: int, size: int) -> Iterator[list[Unit]]:
        parts = min(max(math.ceil(size * 2 / self._bucket_limit), 2), _MAX_BUCKETS, hi - lo)
        span = hi - lo
        sub_paths = [path.with_name(f"{path.name}.{i:03d}") for i in range(parts)]
        writers = [p.open("wb", buffering=64 * 1024) for p in sub_paths]
        header_size = _HEADER.size
        try:
            with path.open("rb", buffering=1024 * 1024) as reader:
                while True:
                    header = reader.read(header_size)
                    if not header:
                        break
                    crc, ocid_len, payload_len, *_, index_len = _HEADER.unpack(header)
                    body = reader.read(ocid_len + index_len + payload_len)
                    target = writers[((crc - lo) * parts) // span]
                    target.write(header)
                    target.write(body)
        finally:
            for writer in writers:
                writer.close()
        path.unlink()
        for i, sub in enumerate(sub_paths):
            yield from self._drain(
                sub, lo + (i * span) // parts, lo + ((i + 1) * span) // parts, depth + 1
            )

    def close(self) -> None:
        """Remove the temporary files (safe to call more than once)."""
        for writer in self._writers:
            writer.close()
        self._writers = []
        self._groups = {}
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None
        if self._made_spill_dir and self._spill_dir is not None:
            with contextlib.suppress(OSError):  # not empty: someone else uses it too
                self._spill_dir.rmdir()
            self._made_spill_dir = False


def _decode(data: bytes, position: int) -> Unit:
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
    ) = _HEADER.unpack_from(data, position)
    start = position + _HEADER.size
    ocid = data[start : start + ocid_len].decode("utf-8", "surrogatepass")
    start += ocid_len
    index = data[start : start + index_len].decode("utf-8", "surrogatepass")
    start += index_len
    view = memoryview(data)[start : start + payload_len]
    # marshal frames are written by this process into its private temporary folder (see above)
    obj: dict[str, Any] = (
        orjson.loads(view) if codec == _CODEC_JSON else marshal.loads(view)  # noqa: S302
    )
    return Unit(
        ocid,
        seq,
        kind,
        obj,
        file,
        None if line < 0 else line,
        None if offset < 0 else offset,
        index,
    )
