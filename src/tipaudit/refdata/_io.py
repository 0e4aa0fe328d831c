"""Low-level file handling shared by the reference-data parsers, the registry and the importer.

Everything here is defensive: publisher files are read as untrusted input (size limit, strict
UTF-8, hardened XML parsing), and vendored or imported files are written deterministically and
atomically so that a reader never sees half a file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
import xml.etree.ElementTree as StdET
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import defusedxml
import defusedxml.ElementTree as SafeET

from tipaudit.errors import TipAuditError, ValidationError

__all__ = [
    "MAX_IMPORT_BYTES",
    "ReferenceDataError",
    "atomic_write_bytes",
    "decode_utf8",
    "dump_records",
    "parse_xml",
    "read_limited",
    "sha256_bytes",
    "sha256_file",
]

#: Largest publisher file accepted by an import, in bytes (the real files are 0.1-2 MB).
MAX_IMPORT_BYTES = 50 * 1024 * 1024

_XML_DECLARED_ENCODING = re.compile(rb"^<\?xml[^>]*encoding=[\"']([A-Za-z0-9._-]+)[\"']")


class ReferenceDataError(TipAuditError):
    """A vendored or imported reference-data file is missing, altered or unreadable."""

    code = "reference_data_integrity"
    status = 500


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def read_limited(path: Path, *, limit: int = MAX_IMPORT_BYTES) -> bytes:
    """Read a publisher file, refusing missing, empty and oversized files before reading."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ValidationError(f"{path.name}: no such file ({path})") from None
    if not path.is_file():
        raise ValidationError(f"{path.name}: not a regular file")
    if size == 0:
        raise ValidationError(f"{path.name}: the file is empty")
    if size > limit:
        raise ValidationError(
            f"{path.name}: {size:,} bytes is larger than the {limit:,}-byte limit for an import"
        )
    data = path.read_bytes()
    if len(data) > limit:  # the file grew while we looked at it
        raise ValidationError(f"{path.name}: larger than the {limit:,}-byte limit for an import")
    return data


def decode_utf8(data: bytes, *, origin: str) -> str:
    """Decode strictly as UTF-8 (a BOM is allowed), naming the line of the first bad byte."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ValidationError(
            f"{origin}: not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line})",
            hint="save the file as UTF-8 and import it again",
        ) from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise ValidationError(f"{origin}: the file is empty")
    return text


def parse_xml(data: bytes, *, origin: str, root: str) -> StdET.Element:
    """Parse untrusted XML with defusedxml: no DTDs, entities or external references.

    The document must be UTF-8 and its root element must be ``root``.
    """
    decode_utf8(data, origin=origin)
    declared = _XML_DECLARED_ENCODING.match(data.removeprefix(b"\xef\xbb\xbf"))
    if declared and declared.group(1).decode().lower().replace("_", "-") not in {"utf-8", "utf8"}:
        raise ValidationError(
            f"{origin}: declares encoding {declared.group(1).decode()!r}; only UTF-8 is accepted"
        )
    try:
        element = SafeET.fromstring(data, forbid_dtd=True)
    except defusedxml.DTDForbidden:
        raise ValidationError(
            f"{origin}: the XML has a document type declaration (DTD); refused because DTDs "
            "allow entity-expansion and external-entity attacks"
        ) from None
    except defusedxml.EntitiesForbidden:
        raise ValidationError(
            f"{origin}: the XML declares entities; refused (entity expansion attack)"
        ) from None
    except defusedxml.DefusedXmlException as exc:
        raise ValidationError(f"{origin}: refused unsafe XML ({exc})") from None
    except StdET.ParseError as exc:
        line, column = exc.position
        raise ValidationError(
            f"{origin}: not well-formed XML at line {line}, column {column + 1}"
        ) from None
    if element.tag != root:
        raise ValidationError(
            f"{origin}: the root element is <{element.tag}>, expected <{root}>",
            hint="is this the right kind of file for this dataset?",
        )
    return element


def dump_records(header: dict[str, Any], records: Sequence[Any]) -> bytes:
    """Serialise a dataset deterministically: a header object with one record per line.

    The output is valid JSON (``{...header, "records": [ ... ]}``) that diffs line by line.
    """
    head = json.dumps(header, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    lines = [
        json.dumps(r, ensure_ascii=False, sort_keys=True, separators=(",", ":")) for r in records
    ]
    body = ",\n".join(lines)
    return f'{head[:-1]},"records":[\n{body}\n]}}\n'.encode()


def load_json(data: bytes, *, origin: str) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReferenceDataError(f"{origin}: not readable JSON ({exc})") from None


def atomic_write_bytes(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.chmod(mode)
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def child_text(element: StdET.Element, tag: str) -> str | None:
    """The stripped text of a direct child, or ``None`` when the child is absent."""
    child = element.find(tag)
    if child is None:
        return None
    return (child.text or "").strip()


def iter_children(element: StdET.Element | None) -> Iterator[StdET.Element]:
    if element is None:
        return iter(())
    return iter(element)


def join_limited(items: Iterable[str], limit: int = 20) -> str:
    """A readable, bounded list for error messages."""
    values = list(items)
    shown = ", ".join(values[:limit])
    return shown if len(values) <= limit else f"{shown} and {len(values) - limit} more"


def load_document(data: bytes, *, origin: str, expected: str, version: int) -> dict[str, Any]:
    """Read a vendored or imported dataset file written by :func:`dump_records`."""
    doc = load_json(data, origin=origin)
    if not isinstance(doc, dict) or doc.get("format") != expected:
        raise ReferenceDataError(f"{origin}: not a {expected} file")
    if doc.get("version") != version:
        raise ReferenceDataError(
            f"{origin}: format version {doc.get('version')!r}, this tipaudit reads {version}"
        )
    if not isinstance(doc.get("records"), list):
        raise ReferenceDataError(f"{origin}: no records")
    return doc
