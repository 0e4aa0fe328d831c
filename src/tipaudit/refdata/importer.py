"""Import a newer edition of a dataset from the publisher's own file.

:func:`import_dataset` reads the file as untrusted input (size limit, UTF-8 only, defusedxml,
strict structure, every country resolved), converts it to tipaudit's compact form and installs
it in ``<data_dir>/refdata`` atomically: the data file is written under a new name, then the
manifest is replaced in one rename. A refused or interrupted import leaves what was served
before unchanged.

Accepted files, by kind:

- ``ilab-goods``: ILAB's List of Goods XML (``<Goods><Good>…``); give the edition (the year of
  the list, e.g. ``2024``), since the file does not carry it.
- ``ilab-findings``: ILAB's country findings XML (``<Countries><Country>…``); give the edition
  (the reporting year, e.g. ``2023``).
- ``gsi``: Walk Free's Global Slavery Index workbook (``.xlsx``); the edition is read from it.
- ``tip-tiers``: a CSV of TIP Report tier placements (see :mod:`tipaudit.refdata.tiers`); the
  report years in the file are *added* to the series.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from tipaudit.core.clock import utcnow
from tipaudit.errors import ValidationError
from tipaudit.refdata import gsi, ilab, tiers
from tipaudit.refdata._io import (
    MAX_IMPORT_BYTES,
    atomic_write_bytes,
    read_limited,
    sha256_bytes,
)
from tipaudit.refdata.manifest import (
    IMPORTABLE_KINDS,
    KIND_INFO,
    MANIFEST_NAME,
    DataFile,
    DatasetInfo,
    DatasetKind,
    SourceInfo,
    manifest_to_json,
)
from tipaudit.refdata.registry import ReferenceData, imported_folder
from tipaudit.settings import Settings

try:  # POSIX: serialise concurrent imports; elsewhere the rename is still atomic
    import fcntl
except ImportError:  # pragma: no cover - not on the supported platforms
    fcntl = None  # type: ignore[assignment]

__all__ = ["import_dataset"]

_YEAR_EDITION = re.compile(r"(19|20)\d{2}")
_GENERATOR = "tipaudit data import"


def import_dataset(
    settings: Settings,
    kind: DatasetKind | str,
    path: Path,
    *,
    edition: str | int | None = None,
    max_bytes: int = MAX_IMPORT_BYTES,
    now: datetime | None = None,
) -> DatasetInfo:
    """Validate and install one edition of ``kind`` from the publisher's file at ``path``.

    Raises :class:`~tipaudit.errors.ValidationError` naming the file and the problem; nothing
    is changed then. Importing an edition that is already imported replaces it.
    """
    dataset_kind = DatasetKind.parse(kind)
    if dataset_kind not in IMPORTABLE_KINDS:
        importable = ", ".join(k.value for k in IMPORTABLE_KINDS)
        raise ValidationError(
            f"{dataset_kind.value} cannot be imported", hint=f"importable kinds: {importable}"
        )
    path = Path(path)
    origin = path.name
    data = read_limited(path, limit=max_bytes)
    given = _edition_argument(dataset_kind, edition, origin=origin)
    converted, label, records, notes = _convert(dataset_kind, data, origin=origin, edition=given)

    folder = imported_folder(settings)
    settings.ensure_data_dir()
    folder.mkdir(mode=0o700, exist_ok=True)
    digest = sha256_bytes(converted)
    file_name = f"{dataset_kind.value}-{label}-{digest[:12]}.json"
    stamp = (now or utcnow()).replace(microsecond=0).isoformat()
    meta = KIND_INFO[dataset_kind]
    info = DatasetInfo(
        id=f"{dataset_kind.value}-{label}",
        kind=dataset_kind,
        title=meta.title,
        edition=label,
        publisher=meta.publisher,
        licence=meta.licence,
        attribution=meta.attribution.format(edition=label),
        records=records,
        files=(DataFile(path=file_name, sha256=digest, bytes=len(converted)),),
        source=SourceInfo(file_name=origin, sha256=sha256_bytes(data)),
        origin="imported",
        folder=folder,
        converted=stamp[:10],
        imported_at=stamp,
        notes=notes,
    )
    with _exclusive(folder):
        current = ReferenceData(settings).datasets()  # also refuses a damaged manifest
        imported = [d for d in current if d.origin == "imported"]
        replaced = [d for d in imported if d.kind is dataset_kind and d.edition == label]
        kept = [d for d in imported if d not in replaced]
        atomic_write_bytes(folder / file_name, converted, mode=0o600)
        try:
            atomic_write_bytes(
                folder / MANIFEST_NAME,
                manifest_to_json([*kept, info], generator=_GENERATOR),
                mode=0o600,
            )
        except BaseException:
            if not any(f.path == file_name for d in replaced for f in d.files):
                with contextlib.suppress(OSError):
                    (folder / file_name).unlink()
            raise
        for old in replaced:
            for entry in old.files:
                if entry.path != file_name:
                    with contextlib.suppress(OSError):
                        (folder / entry.path).unlink()
    served = ReferenceData(settings).dataset(dataset_kind, label)
    return served


def _edition_argument(kind: DatasetKind, edition: str | int | None, *, origin: str) -> str | None:
    if edition is None:
        if kind in (DatasetKind.ILAB_GOODS, DatasetKind.ILAB_FINDINGS):
            raise ValidationError(
                f"{origin}: ILAB's XML does not say which edition it is",
                hint="pass --edition YEAR: the year of the list (goods) or the reporting "
                "year (findings), e.g. --edition 2024",
            )
        return None
    text = str(edition).strip()
    if kind is DatasetKind.TIP_TIERS:
        raise ValidationError(
            f"{origin}: TIP tier files carry their report years; --edition is not used"
        )
    if not _YEAR_EDITION.fullmatch(text):
        raise ValidationError(f"edition {text!r} is not a year such as 2024")
    return text


def _convert(
    kind: DatasetKind, data: bytes, *, origin: str, edition: str | None
) -> tuple[bytes, str, int, tuple[str, ...]]:
    """Parse the publisher file → (tipaudit JSON, edition label, record count, notes)."""
    if kind is DatasetKind.ILAB_GOODS:
        assert edition is not None
        goods = ilab.parse_goods_xml(data, origin=origin, edition=edition)
        return ilab.goods_to_json(goods), edition, len(goods), ()
    if kind is DatasetKind.ILAB_FINDINGS:
        assert edition is not None
        findings = ilab.parse_findings_xml(data, origin=origin, edition=edition)
        return ilab.findings_to_json(findings), edition, len(findings), ()
    if kind is DatasetKind.GSI:
        index = gsi.parse_gsi_workbook(data, origin=origin, edition=edition)
        return gsi.gsi_to_json(index), index.edition, len(index), (index.licence_note,)
    series = tiers.parse_tiers_csv(data, origin=origin)
    note = f"report years {series.edition}, added to the bundled series"
    return tiers.tiers_to_json(series), series.edition, len(series), (note,)


@contextlib.contextmanager
def _exclusive(folder: Path) -> Iterator[None]:
    if fcntl is None:  # pragma: no cover
        yield
        return
    with (folder / ".import.lock").open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
