"""Provenance of reference data: dataset kinds, what is known about each edition, manifests.

Two manifests exist. The bundled one (``tipaudit/refdata/data/manifest.json``) is written by
``scripts/vendor_refdata.py`` and records, per dataset, the source repository, commit and path,
the SHA-256 of the source file and of each vendored file. The imported one
(``<data_dir>/refdata/manifest.json``) is written by :func:`tipaudit.refdata.import_dataset` and
records the imported file's name, SHA-256 and import time. Both share one format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from tipaudit.errors import ValidationError
from tipaudit.refdata._io import ReferenceDataError, load_json, sha256_bytes

__all__ = [
    "IMPORTABLE_KINDS",
    "KIND_INFO",
    "DataFile",
    "DatasetInfo",
    "DatasetKind",
    "KindInfo",
    "Origin",
    "SourceInfo",
    "edition_key",
    "manifest_to_json",
    "read_manifest",
]

MANIFEST_FORMAT = "tipaudit.refdata.manifest"
MANIFEST_VERSION = 1
MANIFEST_NAME = "manifest.json"

Origin = Literal["bundled", "imported"]


class DatasetKind(StrEnum):
    """The kinds of reference data tipaudit knows."""

    ILAB_GOODS = "ilab-goods"
    ILAB_FINDINGS = "ilab-findings"
    GSI = "gsi"
    TIP_TIERS = "tip-tiers"
    OCDS_SCHEMA = "ocds-schema"

    @classmethod
    def parse(cls, value: str | DatasetKind) -> DatasetKind:
        """A kind from its name; ``ilab_goods`` and ``ILAB-GOODS`` are accepted too."""
        if isinstance(value, DatasetKind):
            return value
        text = value.strip().lower().replace("_", "-")
        try:
            return cls(text)
        except ValueError:
            known = ", ".join(k.value for k in cls)
            raise ValidationError(
                f"unknown dataset kind {value!r}", hint=f"one of: {known}"
            ) from None


#: Kinds that can be imported from the publisher's own files.
IMPORTABLE_KINDS: tuple[DatasetKind, ...] = (
    DatasetKind.ILAB_GOODS,
    DatasetKind.ILAB_FINDINGS,
    DatasetKind.GSI,
    DatasetKind.TIP_TIERS,
)


@dataclass(frozen=True, slots=True)
class KindInfo:
    """What is the same for every edition of a kind (used for imported editions)."""

    title: str
    publisher: str
    licence: str
    #: The citation; ``{edition}`` is replaced by the edition.
    attribution: str
    #: The publisher file format an import reads.
    import_format: str


KIND_INFO: Mapping[DatasetKind, KindInfo] = MappingProxyType(
    {
        DatasetKind.ILAB_GOODS: KindInfo(
            title="List of Goods Produced by Child Labor or Forced Labor",
            publisher="US Department of Labor, Bureau of International Labor Affairs (ILAB)",
            licence="US federal government work (public domain in the US)",
            attribution="US Department of Labor, {edition} List of Goods Produced by Child "
            "Labor or Forced Labor",
            import_format="ILAB goods XML (<Goods><Good>…), as in goods_2021.xml",
        ),
        DatasetKind.ILAB_FINDINGS: KindInfo(
            title="Findings on the Worst Forms of Child Labor (country findings)",
            publisher="US Department of Labor, Bureau of International Labor Affairs (ILAB)",
            licence="US federal government work (public domain in the US)",
            attribution="US Department of Labor, {edition} Findings on the Worst Forms of "
            "Child Labor",
            import_format="ILAB country findings XML (<Countries><Country>…), as in "
            "countries_2021.xml",
        ),
        DatasetKind.GSI: KindInfo(
            title="Global Slavery Index (summary data)",
            publisher="Walk Free (Minderoo Foundation)",
            licence="© Minderoo Foundation Limited, all rights reserved; summary figures "
            "vendored with citation only",
            attribution="Walk Free {edition}, The Global Slavery Index {edition}, "
            "Minderoo Foundation",
            import_format="Walk Free GSI workbook (.xlsx) with a 'GSI <year> summary data' sheet",
        ),
        DatasetKind.TIP_TIERS: KindInfo(
            title="Trafficking in Persons Report tier placements",
            publisher="US Department of State, Office to Monitor and Combat Trafficking in Persons",
            licence="US federal government work (public domain in the US); check the terms of "
            "the file you imported",
            attribution="US Department of State, Trafficking in Persons Report, report years "
            "{edition}",
            import_format="CSV with columns countryname and/or iso, year, tier",
        ),
        DatasetKind.OCDS_SCHEMA: KindInfo(
            title="Open Contracting Data Standard schema and codelists",
            publisher="Open Contracting Partnership",
            licence="Apache-2.0",
            attribution="Open Contracting Data Standard {edition}, Open Contracting Partnership",
            import_format="not importable",
        ),
    }
)


def edition_key(edition: str) -> tuple[int, ...]:
    """Sort key for editions: the numbers in the label ("2022", "1.1.5", "1999-2015")."""
    return tuple(int(n) for n in re.findall(r"\d+", edition))


@dataclass(frozen=True, slots=True)
class DataFile:
    """One vendored or imported file of a dataset, relative to its manifest's folder."""

    path: str
    sha256: str
    bytes: int


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """Where a dataset came from."""

    #: ``owner/name`` of the public repository the file was copied from (bundled data).
    repository: str | None = None
    commit: str | None = None
    #: Path of the source file(s) in that repository.
    path: str | None = None
    #: The source file's name as imported (imported data).
    file_name: str | None = None
    #: SHA-256 of the source file (``None`` for multi-file byte copies: see each file's).
    sha256: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class DatasetInfo:
    """Provenance and integrity facts about one edition of one dataset."""

    id: str
    kind: DatasetKind
    title: str
    edition: str
    publisher: str
    licence: str
    attribution: str
    records: int
    files: tuple[DataFile, ...]
    source: SourceInfo
    origin: Origin
    #: Folder the ``files`` paths are relative to.
    folder: Path
    #: Date (ISO 8601) the source was retrieved (bundled) and converted to the vendored form.
    retrieved: str | None = None
    converted: str | None = None
    #: Time (ISO 8601, UTC) of the import (imported data).
    imported_at: str | None = None
    notes: tuple[str, ...] = ()
    #: Whether the registry serves this edition by default (set by the registry).
    serving: bool = field(default=False, compare=False)

    @property
    def path(self) -> Path:
        """The (first) data file."""
        return self.folder / self.files[0].path

    @property
    def checksum(self) -> str:
        """SHA-256 of the data file; for a multi-file dataset, of its ``sha256sum`` listing."""
        if len(self.files) == 1:
            return self.files[0].sha256
        listing = "".join(f"{f.sha256}  {f.path}\n" for f in self.files)
        return sha256_bytes(listing.encode())

    def with_serving(self, serving: bool) -> DatasetInfo:
        return replace(self, serving=serving)

    def to_dict(self, *, with_origin: bool = False) -> dict[str, Any]:
        """The manifest entry (plus ``origin``, ``path`` and ``serving`` when asked)."""
        entry: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind.value,
            "title": self.title,
            "edition": self.edition,
            "publisher": self.publisher,
            "licence": self.licence,
            "attribution": self.attribution,
            "records": self.records,
            "files": [{"path": f.path, "sha256": f.sha256, "bytes": f.bytes} for f in self.files],
            "source": {k: v for k, v in _source_dict(self.source).items() if v is not None},
            "retrieved": self.retrieved,
            "converted": self.converted,
            "imported_at": self.imported_at,
            "notes": list(self.notes),
        }
        entry = {k: v for k, v in entry.items() if v is not None}
        if with_origin:
            entry |= {
                "origin": self.origin,
                "path": str(self.path),
                "checksum": self.checksum,
                "serving": self.serving,
            }
        return entry


def _source_dict(source: SourceInfo) -> dict[str, str | None]:
    return {
        "repository": source.repository,
        "commit": source.commit,
        "path": source.path,
        "file_name": source.file_name,
        "sha256": source.sha256,
        "url": source.url,
    }


def _from_dict(entry: Mapping[str, Any], *, origin: Origin, folder: Path) -> DatasetInfo:
    source = entry.get("source") or {}
    return DatasetInfo(
        id=str(entry["id"]),
        kind=DatasetKind(entry["kind"]),
        title=str(entry["title"]),
        edition=str(entry["edition"]),
        publisher=str(entry["publisher"]),
        licence=str(entry["licence"]),
        attribution=str(entry["attribution"]),
        records=int(entry["records"]),
        files=tuple(
            DataFile(path=str(f["path"]), sha256=str(f["sha256"]), bytes=int(f["bytes"]))
            for f in entry["files"]
        ),
        source=SourceInfo(**{k: source.get(k) for k in _source_dict(SourceInfo())}),
        origin=origin,
        folder=folder,
        retrieved=entry.get("retrieved"),
        converted=entry.get("converted"),
        imported_at=entry.get("imported_at"),
        notes=tuple(entry.get("notes") or ()),
    )


def read_manifest(data: bytes, *, origin: Origin, folder: Path) -> list[DatasetInfo]:
    """Parse a manifest; a damaged manifest is a :class:`ReferenceDataError`."""
    try:
        return _parse_manifest(data, origin=origin, folder=folder)
    except ReferenceDataError as exc:
        hint = (
            "reinstall tipaudit"
            if origin == "bundled"
            else f"move {folder} aside and import the editions again"
        )
        raise ReferenceDataError(exc.message, hint=hint) from None


def _parse_manifest(data: bytes, *, origin: Origin, folder: Path) -> list[DatasetInfo]:
    where = str(folder / MANIFEST_NAME)
    doc = load_json(data, origin=where)
    if not isinstance(doc, dict) or doc.get("format") != MANIFEST_FORMAT:
        raise ReferenceDataError(f"{where}: not a tipaudit reference-data manifest")
    if doc.get("version") != MANIFEST_VERSION:
        raise ReferenceDataError(f"{where}: manifest version {doc.get('version')!r} is unknown")
    try:
        datasets = [_from_dict(e, origin=origin, folder=folder) for e in doc["datasets"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise ReferenceDataError(f"{where}: a dataset entry is damaged ({exc!r})") from None
    for info in datasets:
        for f in info.files:
            if Path(f.path).is_absolute() or ".." in Path(f.path).parts:
                raise ReferenceDataError(f"{where}: {info.id} names a file outside its folder")
    return datasets


def manifest_to_json(datasets: Sequence[DatasetInfo], *, generator: str) -> bytes:
    """Serialise a manifest deterministically (datasets sorted by kind and edition)."""
    ordered = sorted(
        datasets, key=lambda d: (list(DatasetKind).index(d.kind), edition_key(d.edition), d.id)
    )
    doc = {
        "format": MANIFEST_FORMAT,
        "version": MANIFEST_VERSION,
        "generator": generator,
        "datasets": [d.to_dict() for d in ordered],
    }
    return (json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=False) + "\n").encode()
