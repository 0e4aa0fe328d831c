"""Reading OCDS files: discovery, gzip sniffing, splitting into JSON values, streaming big ones.

Every file is read forward through one buffer, whatever its shape: a single document, JSON Lines,
concatenated JSON (values back to back, pretty-printed or not), gzipped or not (the gzip magic
bytes decide, not the name). Each top-level value is parsed with ``orjson``:

* one value per line is parsed from the line alone (JSON Lines: one parse per value);
* otherwise a window of the buffer is parsed and, when more follows, ``orjson``'s "unexpected
  content after document" error gives the value's end (then the value is parsed on its own);
* a value larger than ``stream_threshold`` bytes is walked instead: its top-level keys are read
  one by one and the elements of a ``releases`` or ``records`` array (or of a top-level array)
  are parsed one at a time, so memory stays bounded by the largest element.

Why not ijson: its C backend builds the prefix text of every nesting level, so memory grows with
the square of the nesting depth — a 100,000-level document takes tens of gigabytes. Here every
element goes through ``orjson``, which refuses more than 1024 levels, and error positions are
exact bytes and lines.

A value that cannot be read is reported to the sink with its line and byte offset; reading goes
on with the next line that starts with ``{`` or ``[`` (so the other lines of JSON Lines and the
other values of concatenated JSON are kept).
"""

from __future__ import annotations

import os
import re
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, Protocol, cast

import orjson
from isal import igzip, isal_zlib

from tipaudit.procurement.ingest.errors import InputNotFoundError

__all__ = ["KNOWN_SUFFIXES", "DocumentSink", "FileReader", "discover_files", "open_input"]

#: What reading a damaged gzip stream raises (ISA-L has its own error for bad deflate data).
_STREAM_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    EOFError,
    zlib.error,
    cast("type[BaseException]", isal_zlib.error),
)

KNOWN_SUFFIXES = (".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz", ".ndjson.gz")
GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")

_WS = re.compile(rb"[^ \t\r\n]")
_KEY = re.compile(rb'"(?:[^"\\\x00-\x1f]|\\.)*"')
_MIN_WINDOW = 64 * 1024
# Reads are small enough to stay in the CPU caches until parsed (bigger reads are slower).
_READ_SIZE = 2 * 1024 * 1024
_MAX_KEY = 64 * 1024
_STREAMED_KEYS = frozenset({"releases", "records"})

_EOF_MESSAGES = ("unexpected end of data", "EOF while parsing")
_TRAILING_MESSAGES = ("unexpected content after document", "trailing characters")


def _is_eof(exc: orjson.JSONDecodeError) -> bool:
    return exc.msg.startswith(_EOF_MESSAGES)


def _is_trailing(exc: orjson.JSONDecodeError) -> bool:
    return exc.msg.startswith(_TRAILING_MESSAGES)


def _char_boundary(buf: bytes, end: int) -> int:
    """Move a cut at ``end`` back so that it does not split a UTF-8 character."""
    if end < len(buf):
        floor = max(end - 3, 0)
        while end > floor and (buf[end] & 0xC0) == 0x80:
            end -= 1
    return end


def _cut_number(value: Any, buf: bytes, end: int) -> bool:
    """Whether a window ending at ``end`` may have cut a number short (``12`` of ``123``)."""
    return type(value) in (int, float) and end < len(buf) and buf[end : end + 1] in _NUMBER_BYTES


_NUMBER_BYTES = frozenset(bytes([c]) for c in b"0123456789.eE+-")


class DocumentSink(Protocol):
    """Receives what a :class:`FileReader` finds; positions are 1-based lines, 0-based bytes."""

    def document(self, value: Any, raw: memoryview, doc: int, line: int, offset: int) -> None:
        """A complete top-level JSON value; ``raw`` is its JSON text (valid during the call)."""

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
        """An element of a streamed ``releases``/``records`` array (``key``) or top-level array."""

    def stream_end(
        self, meta: dict[str, Any], streamed: list[str], doc: int, line: int, offset: int
    ) -> None:
        """The end of a streamed object: its other keys and which arrays were streamed."""

    def unreadable(
        self, doc: int, item: str | None, line: int | None, offset: int | None, reason: str
    ) -> None:
        """Input that cannot be read (raise to stop, or return to go on)."""

    def byte_order_mark(self) -> None:
        """The file starts with a UTF-8 byte order mark (skipped)."""

    def tick(self) -> None:
        """Called now and then so the caller can report progress."""


def discover_files(paths: Sequence[Path], on_ignored: Callable[[Path, str], None]) -> list[Path]:
    """Expand files and folders into the files to read, in a deterministic order.

    A named file is always read. A folder is walked recursively in sorted order (hidden entries
    skipped, symbolic links to folders not followed); its files are read when their name ends
    in one of :data:`KNOWN_SUFFIXES` or their first bytes look like JSON or gzip; others are
    passed to ``on_ignored``. A file reached twice is read once.
    """
    seen: set[Path] = set()
    result: list[Path] = []

    def add(path: Path) -> None:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            result.append(path)

    for path in paths:
        if path.is_file():
            add(path)
        elif path.is_dir():
            for found in _walk(path):
                if found.name.lower().endswith(KNOWN_SUFFIXES):
                    add(found)
                else:
                    reason = _sniff_unknown(found)
                    if reason is None:
                        add(found)
                    else:
                        on_ignored(found, reason)
        elif path.exists():
            raise InputNotFoundError(str(path), "neither a file nor a folder")
        else:
            raise InputNotFoundError(str(path), "no such file or folder")
    return result


def _walk(folder: Path) -> Iterator[Path]:
    entries = sorted(os.scandir(folder), key=lambda e: e.name)
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(Path(entry.path))
        elif entry.is_file():
            yield Path(entry.path)


def _sniff_unknown(path: Path) -> str | None:
    """``None`` when an unknown-suffix file looks like JSON or gzip, else why it is ignored."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError as exc:
        return f"cannot be opened: {exc.strerror or exc}"
    if head.startswith(GZIP_MAGIC):
        return None
    text = head.removeprefix(UTF8_BOM).lstrip(b" \t\r\n")
    if text[:1] in (b"{", b"["):
        return None
    return "empty" if not head else "does not look like JSON or gzip"


def open_input(path: Path) -> tuple[IO[bytes], IO[bytes]]:
    """Open a file for reading: ``(raw, stream)``, ``stream`` decompressing gzip by magic."""
    raw = path.open("rb")
    try:
        magic = raw.read(2)
        raw.seek(0)
        if magic == GZIP_MAGIC:
            # ISA-L's gzip: the same format and checks as the standard library's, decompressed
            # about three times as fast (decompression was a tenth of a large screening run).
            stream = igzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[no-untyped-call]
            return raw, cast(IO[bytes], stream)
    except BaseException:
        raw.close()
        raise
    return raw, raw


class FileReader:
    """Split one decompressed byte stream into JSON values and send them to a sink.

    ``threshold`` is the largest value parsed in one piece (bigger ones are walked).
    ``size_hint`` is the stream's size when known (a plain file, not gzip): a file up to the
    threshold is then read in one go and a single document in it parsed at once.
    """

    def __init__(
        self, stream: IO[bytes], sink: DocumentSink, threshold: int, size_hint: int | None = None
    ) -> None:
        self._stream = stream
        self._sink = sink
        self._threshold = max(threshold, _MIN_WINDOW)
        self._size_hint = size_hint
        # Decompress in small steps: a corrupt gzip stream then loses at most one step.
        self._step = 0 if size_hint is not None else 64 * 1024
        self._buf = b""
        self._base = 0  # absolute offset of _buf[0]
        self._eof = False
        self._line_pos = 0  # _line_no is the line number at _buf[_line_pos]
        self._line_no = 1
        self._doc = 0
        self._last_size = 0
        self._stream_error: str | None = None
        self.decompressed = 0

    # -- buffer -------------------------------------------------------------------------
    def _fill(self, keep_from: int, need: int) -> int:
        """Drop ``_buf[:keep_from]`` and read until ``need`` bytes follow it (or EOF).

        Returns the new position of ``keep_from`` (always 0).
        """
        buf = self._buf
        if keep_from:
            self._line_at(keep_from)
            buf = buf[keep_from:]
            self._base += keep_from
            self._line_pos -= keep_from
        parts = [buf]
        have = len(buf)
        while have < need and not self._eof:
            try:
                chunk = self._stream.read(self._step or max(_READ_SIZE, need - have))
            except _STREAM_ERRORS as exc:
                # Keep what was read: the values before the damage are still good.
                self._eof = True
                self._stream_error = (
                    f"the file cannot be read further (corrupt or truncated gzip?): {exc}"
                )
                break
            if not chunk:
                self._eof = True
                break
            self.decompressed += len(chunk)
            parts.append(chunk)
            have += len(chunk)
        self._buf = parts[0] if len(parts) == 1 else b"".join(parts)
        self._sink.tick()
        return 0

    def _truncated(self) -> str:
        """Why input ended early: a broken stream, reported once, or truncated JSON."""
        if self._stream_error is not None:
            reason, self._stream_error = self._stream_error, None
            return reason
        return "truncated JSON: unexpected end of data"

    def _line_at(self, pos: int) -> int:
        """The 1-based line number at ``_buf[pos]`` (positions asked for mostly increase)."""
        if pos >= self._line_pos:
            self._line_no += self._buf.count(b"\n", self._line_pos, pos)
        else:
            self._line_no -= self._buf.count(b"\n", pos, self._line_pos)
        self._line_pos = pos
        return self._line_no

    def _skip_ws(self, p: int) -> int:
        """The next non-whitespace position at or after ``p`` (refilling), or -1 at EOF."""
        while True:
            match = _WS.search(self._buf, p)
            if match is not None:
                return match.start()
            if self._eof:
                return -1
            p = self._fill(len(self._buf), 1)

    def _ensure(self, p: int, need: int) -> int:
        """Make ``need`` bytes available from ``p`` if the stream has them; returns new ``p``."""
        if len(self._buf) - p < need and not self._eof:
            return self._fill(p, need)
        return p

    # -- positions and errors -------------------------------------------------------------
    def _byte_offset(self, start: int, end: int, char_pos: int) -> int:
        """The position in ``_buf`` of character ``char_pos`` of ``_buf[start:end]``."""
        char_pos = max(min(char_pos, end - start), 0)
        if self._buf[start : start + char_pos].isascii():
            return start + char_pos
        # A character takes at most 4 bytes: decode just enough to count ``char_pos`` of them.
        chunk = self._buf[start : min(end, start + 4 * char_pos)]
        text = chunk.decode("utf-8", "surrogateescape")[:char_pos]
        return start + len(text.encode("utf-8", "surrogateescape"))

    def _report(self, start: int, end: int, exc: orjson.JSONDecodeError, item: str | None) -> None:
        msg = exc.msg
        if "UTF-8" in msg or "utf-8" in msg:
            try:
                bytes(self._buf[start:end]).decode("utf-8")
            except UnicodeDecodeError as bad:
                pos = start + bad.start
                reason = f"invalid UTF-8 byte 0x{self._buf[pos]:02x} (OCDS data must be UTF-8)"
            else:
                pos = start
                reason = f"invalid text: {msg}"
        else:
            pos = self._byte_offset(start, end, exc.pos)
            if "depth" in msg or "recursion" in msg:
                reason = "JSON nested more than 1024 levels deep"
            elif _is_eof(exc):
                reason = self._truncated()
            else:
                reason = f"invalid JSON: {msg}"
        self._sink.unreadable(self._doc, item, self._line_at(pos), self._base + pos, reason)

    def _resync(self, p: int) -> int:
        """After a broken value starting at ``p``: the next line starting with ``{`` or ``[``."""
        start = p + 1
        while True:
            buf = self._buf
            candidates = [i for i in (buf.find(b"\n{", start), buf.find(b"\n[", start)) if i >= 0]
            if candidates:
                return min(candidates) + 1
            if self._eof:
                return len(buf)
            # keep the last byte: it may be the newline of "\n{" split across reads
            keep = max(len(buf) - 1, p)
            start = 0
            self._fill(keep, 2)
            p = 0

    # -- reading ------------------------------------------------------------------------------
    def read(self) -> None:
        """Read the whole stream; reports go to the sink."""
        self._read()

    def _read(self) -> None:
        hint = self._size_hint
        p = self._fill(0, hint + 1 if hint is not None and hint <= self._threshold else _READ_SIZE)
        buf = self._buf
        if buf.startswith(UTF8_BOM):
            self._sink.byte_order_mark()
            p = 3
            self._line_pos = 3
        elif buf.startswith(_UTF16_BOMS):
            self._sink.unreadable(1, None, 1, 0, "UTF-16 text: OCDS data must be UTF-8")
            return
        while True:
            p = self._skip_ws(p)
            if p < 0:
                break
            self._doc += 1
            p = self._one_value(p)
        if self._stream_error is not None:
            end = len(self._buf)
            self._sink.unreadable(
                self._doc + 1, None, self._line_at(end), self._base + end, self._truncated()
            )
            return
        if self._doc == 0:
            reason = "empty file" if self._base + len(self._buf) == 0 else "no JSON value"
            self._sink.unreadable(1, None, 1, 0, reason)

    def _one_value(self, p: int) -> int:
        """Read the value starting at ``p``; returns the position after it."""
        buf = self._buf
        # Fast path: the value is alone on its line (JSON Lines).
        nl = buf.find(b"\n", p, p + self._threshold)
        # A line running past the buffer: read on (doubling) until its end, so that long lines
        # (packages of many releases) are parsed once here rather than by the windowed path,
        # which parses them twice and reads only a little ahead.
        while nl == -1 and not self._eof and len(buf) - p < self._threshold:
            searched = len(buf) - p
            p = self._fill(p, min(max(2 * searched, _READ_SIZE), self._threshold) + 1)
            buf = self._buf
            nl = buf.find(b"\n", searched, self._threshold)
        if nl != -1:
            try:
                value = orjson.loads(memoryview(buf)[p:nl])
            except orjson.JSONDecodeError as exc:
                if not (_is_eof(exc) or _is_trailing(exc)):
                    self._report(p, nl, exc, None)
                    return nl + 1
            else:
                self._last_size = nl - p
                line = self._line_at(p)
                self._sink.document(value, memoryview(buf)[p:nl], self._doc, line, self._base + p)
                # nl is the first newline after p: the next line is known without counting.
                if self._buf is buf:
                    self._line_pos = nl + 1
                    self._line_no = line + 1
                return nl + 1
        return self._windowed(p)

    def _windowed(self, p: int) -> int:
        first = self._doc == 1
        window = max(_MIN_WINDOW, 2 * self._last_size)
        while True:
            if first and self._eof:
                window = len(self._buf) - p
            p = self._ensure(p, window)
            buf = self._buf
            end = _char_boundary(buf, min(p + window, len(buf)))
            try:
                value = orjson.loads(memoryview(buf)[p:end])
            except orjson.JSONDecodeError as exc:
                if _is_trailing(exc):
                    q = self._byte_offset(p, end, exc.pos)
                    return self._exact(p, q)
                if _is_eof(exc) and not (end >= len(buf) and self._eof):
                    if window >= self._threshold:
                        return self._walk(p)
                    window *= 2
                    continue
                if buf[p : p + 1] in (b"{", b"["):
                    # Broken or truncated: walk it to keep the elements that read and to name
                    # the one that does not (e.g. "document 1, releases[17]").
                    return self._walk(p)
                self._report(p, end, exc, None)
                return self._resync(p)
            if _cut_number(value, buf, end):
                window *= 2
                continue
            self._last_size = end - p
            self._sink.document(
                value, memoryview(buf)[p:end], self._doc, self._line_at(p), self._base + p
            )
            return end

    def _exact(self, p: int, q: int) -> int:
        """Parse ``_buf[p:q]``, known to hold one whole value."""
        raw = memoryview(self._buf)[p:q]
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:  # pragma: no cover - orjson found its end
            self._report(p, q, exc, None)
            return self._resync(p)
        self._last_size = q - p
        self._sink.document(value, raw, self._doc, self._line_at(p), self._base + p)
        return q

    # -- walking a value too big to parse at once ----------------------------------------
    def _walk(self, p: int) -> int:
        start_line = self._line_at(p)
        start_offset = self._base + p
        opener = self._buf[p : p + 1]
        try:
            if opener == b"{":
                return self._walk_object(p, start_line, start_offset)
            if opener == b"[":
                p, _ = self._walk_array(p + 1, None)
                self._sink.stream_end({}, ["[]"], self._doc, start_line, start_offset)
                return p
        except _BrokenError as broken:
            return self._resync(broken.position)
        self._sink.unreadable(
            self._doc,
            None,
            start_line,
            start_offset,
            f"a JSON value over {self._threshold} bytes that is not an object or array",
        )
        return self._resync(p)

    def _expect(self, p: int, what: bytes, item: str | None) -> int:
        p = self._skip_ws(p)
        if p < 0:
            self._broken_at(len(self._buf), item, self._truncated())
        got = self._buf[p : p + 1]
        if got not in what:
            expected = " or ".join(repr(chr(c)) for c in what)
            self._broken_at(p, item, f"invalid JSON: expected {expected}, found {got!r}")
        return p

    def _broken_at(self, pos: int, item: str | None, reason: str) -> None:
        self._sink.unreadable(self._doc, item, self._line_at(pos), self._base + pos, reason)
        raise _BrokenError(pos)

    def _walk_object(self, p: int, start_line: int, start_offset: int) -> int:
        meta: dict[str, Any] = {}
        streamed: list[str] = []
        p += 1
        p = self._expect(p, b'"}', None)
        if self._buf[p : p + 1] == b"}":
            self._sink.stream_end(meta, streamed, self._doc, start_line, start_offset)
            return p + 1
        while True:
            p = self._ensure(p, _MAX_KEY)
            match = _KEY.match(self._buf, p)
            if match is None:
                self._broken_at(p, None, "invalid JSON: expected a key")
            assert match is not None  # for mypy: _broken_at raised
            try:
                key = orjson.loads(match.group())
            except orjson.JSONDecodeError:
                self._broken_at(p, None, "invalid JSON: bad key")
            p = self._expect(match.end(), b":", key)
            p = self._skip_ws(p + 1)
            if p < 0:
                self._broken_at(len(self._buf), key, self._truncated())
            if key in _STREAMED_KEYS and self._buf[p : p + 1] == b"[":
                p, _ = self._walk_array(p + 1, key)
                streamed.append(key)
            else:
                value, _, p = self._value(p, key)
                meta[key] = value
            p = self._expect(p, b",}", key)
            if self._buf[p : p + 1] == b"}":
                self._sink.stream_end(meta, streamed, self._doc, start_line, start_offset)
                return p + 1
            p = self._expect(p + 1, b'"', key)

    def _walk_array(self, p: int, key: str | None) -> tuple[int, int]:
        label = key if key is not None else ""
        p = self._skip_ws(p)
        if p < 0:
            self._broken_at(len(self._buf), label or None, self._truncated())
        if self._buf[p : p + 1] == b"]":
            return p + 1, 0
        index = 0
        while True:
            item = f"{label}[{index}]"
            line = self._line_at(p)
            offset = self._base + p
            indent = self._indent(p)
            try:
                value, raw, q = self._value(p, item)
            except _BrokenError as broken:
                # Resume at the next sibling: a line with the same indentation starting an
                # object or array (one element per line, or pretty-printed). Else give up.
                if indent is None:
                    raise
                q = self._find_sibling(broken.position, b"\n" + indent)
                if q < 0:
                    raise
                index += 1
                p = q
                continue
            self._sink.stream_item(key, index, value, raw, self._doc, line, offset)
            index += 1
            p = self._expect(q, b",]", item)
            if self._buf[p : p + 1] == b"]":
                return p + 1, index
            p = self._skip_ws(p + 1)
            if p < 0:
                self._broken_at(len(self._buf), item, self._truncated())

    def _indent(self, p: int) -> bytes | None:
        """The whitespace before ``p`` on its line, if ``p`` starts its line's content."""
        buf = self._buf
        nl = buf.rfind(b"\n", max(p - 256, 0), p)
        if nl < 0:
            return None
        indent = buf[nl + 1 : p]
        return indent if not indent.strip() else None

    def _find_sibling(self, start: int, prefix: bytes) -> int:
        """The position of the next ``{``/``[`` right after ``prefix``, from ``start``; or -1."""
        while True:
            buf = self._buf
            i = buf.find(prefix, start)
            while i >= 0:
                j = i + len(prefix)
                if j >= len(buf):
                    break
                if buf[j : j + 1] in (b"{", b"["):
                    return j
                i = buf.find(prefix, i + 1)
            if self._eof:
                return -1
            keep = max(len(buf) - len(prefix) - 1, start, 0)
            self._fill(keep, len(prefix) + 2)
            start = 0

    def _value(self, p: int, item: str | None) -> tuple[Any, memoryview, int]:
        """Parse one value inside a walked container: it must be followed by more JSON."""
        window = max(_MIN_WINDOW, 2 * self._last_size)
        while True:
            p = self._ensure(p, window)
            buf = self._buf
            end = _char_boundary(buf, min(p + window, len(buf)))
            try:
                value = orjson.loads(memoryview(buf)[p:end])
            except orjson.JSONDecodeError as exc:
                if _is_trailing(exc):
                    q = self._byte_offset(p, end, exc.pos)
                    # the value ends before the whitespace that precedes ``q``
                    raw = memoryview(buf)[p:q]
                    value = orjson.loads(raw)
                    self._last_size = q - p
                    return value, raw, q
                if _is_eof(exc) and not (end >= len(buf) and self._eof):
                    window *= 2
                    continue
                self._report(p, end, exc, item)
                raise _BrokenError(p) from exc
            if _cut_number(value, buf, end):
                window *= 2
                continue
            # The window ended right after the value: what follows is checked by the caller.
            self._last_size = end - p
            return value, memoryview(buf)[p:end], end


class _BrokenError(Exception):
    """A walked document broke at ``position`` (already reported)."""

    def __init__(self, position: int) -> None:
        super().__init__(position)
        self.position = position
