"""The reference-data registry: bundled editions, imported editions, newest served.

:class:`ReferenceData` is built from :class:`~tipaudit.settings.Settings`. It reads the bundled
manifest (``tipaudit/refdata/data``) and the imported one (``<data_dir>/refdata``) on first use,
never at import time, and caches what it loads. For each kind it serves the newest edition; an
imported edition wins over a bundled one of the same edition. TIP tier imports *add* report
years to the bundled series instead (an imported year replaces the same year from older data).
Every file's SHA-256 is checked against its manifest before it is read.

Typical use::

    refdata = ReferenceData(settings)
    refdata.ilab_goods().for_country("TUR")
    refdata.gsi("TUR").prevalence_per_1000
    refdata.tip_tiers("TUR")[-1].tier
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from tipaudit.errors import NotFoundError, ValidationError
from tipaudit.refdata import ilab, ocds_schema
from tipaudit.refdata._io import ReferenceDataError, sha256_bytes
from tipaudit.refdata._resolve import alpha3_of
from tipaudit.refdata.gsi import GsiCountry, GsiIndex, gsi_from_json
from tipaudit.refdata.ilab import CountryFindings, IlabFindings, IlabGoodsList
from tipaudit.refdata.manifest import (
    MANIFEST_NAME,
    DatasetInfo,
    DatasetKind,
    Origin,
    edition_key,
    read_manifest,
)
from tipaudit.refdata.tiers import TierPlacement, TipTierSeries, tiers_from_json
from tipaudit.settings import Settings

__all__ = ["BUNDLED_FOLDER", "FileCheck", "ReferenceData", "imported_folder"]

#: Where the vendored files and their manifest live inside the package.
BUNDLED_FOLDER = Path(__file__).resolve().parent / "data"

_T = TypeVar("_T")


def imported_folder(settings: Settings) -> Path:
    """Where imported editions and their manifest live: ``<data_dir>/refdata``."""
    return settings.data_dir / "refdata"


@dataclass(frozen=True, slots=True)
class FileCheck:
    """The result of checking one file against its manifest."""

    dataset_id: str
    origin: Origin
    path: Path
    ok: bool
    problem: str | None = None


class ReferenceData:
    """Serves reference data; lazy, cached per instance, safe to share between threads."""

    def __init__(self, settings: Settings, *, bundled_folder: Path | None = None) -> None:
        self._bundled_folder = bundled_folder or BUNDLED_FOLDER
        self._imported_folder = imported_folder(settings)
        self._lock = threading.RLock()
        self._catalogue: list[DatasetInfo] | None = None
        self._loaded: dict[tuple[Origin, str, str], Any] = {}

    # -- catalogue -----------------------------------------------------------------------------
    def reload(self) -> None:
        """Forget everything read so far (e.g. after an import in this process)."""
        with self._lock:
            self._catalogue = None
            self._loaded.clear()

    def datasets(self, kind: DatasetKind | str | None = None) -> list[DatasetInfo]:
        """Every bundled and imported edition (of one kind, if given), with ``serving`` set."""
        catalogue = self._datasets()
        if kind is None:
            return list(catalogue)
        wanted = DatasetKind.parse(kind)
        return [d for d in catalogue if d.kind is wanted]

    def dataset(self, kind: DatasetKind | str, edition: str | int | None = None) -> DatasetInfo:
        """The edition served for a kind, or a named edition (imported before bundled)."""
        candidates = self.datasets(kind)
        if edition is None:
            serving = [d for d in candidates if d.serving]
            if not serving:
                raise NotFoundError(f"no {DatasetKind.parse(kind)} data is installed")
            return serving[-1]
        wanted = str(edition).strip()
        matching = [d for d in candidates if d.edition == wanted]
        if not matching:
            editions = ", ".join(d.edition for d in candidates) or "none"
            raise NotFoundError(
                f"no {DatasetKind.parse(kind)} edition {wanted}", hint=f"editions: {editions}"
            )
        return max(matching, key=lambda d: d.origin == "imported")

    def editions(self, kind: DatasetKind | str) -> list[str]:
        """The distinct editions of a kind, oldest first."""
        return sorted({d.edition for d in self.datasets(kind)}, key=edition_key)

    # -- ILAB ----------------------------------------------------------------------------------
    def ilab_goods(self, edition: str | int | None = None) -> IlabGoodsList:
        """The List of Goods: the newest edition, or the one named (e.g. ``2018``)."""
        info = self.dataset(DatasetKind.ILAB_GOODS, edition)
        return self._load(info, ilab.goods_from_json)

    def ilab_findings_edition(self, edition: str | int | None = None) -> IlabFindings:
        """All country findings of the newest (or the named) edition."""
        info = self.dataset(DatasetKind.ILAB_FINDINGS, edition)
        return self._load(info, ilab.findings_from_json)

    def ilab_findings(self, country: str) -> CountryFindings:
        """ILAB's findings for one country (ISO alpha-3, alpha-2 or numeric code)."""
        return self.ilab_findings_edition().get(_alpha3(country))

    # -- Walk Free -----------------------------------------------------------------------------
    def gsi_index(self, edition: str | int | None = None) -> GsiIndex:
        """The Global Slavery Index figures of the newest (or the named) edition."""
        info = self.dataset(DatasetKind.GSI, edition)
        return self._load(info, gsi_from_json)

    def gsi(self, country: str) -> GsiCountry:
        """The newest GSI figures for one country (cite :attr:`GsiIndex.attribution`)."""
        return self.gsi_index().get(_alpha3(country))

    # -- TIP tiers -----------------------------------------------------------------------------
    def tip_tier_series(self) -> TipTierSeries:
        """Every tier placement: bundled years plus imported years (imports win per year)."""
        infos = self.datasets(DatasetKind.TIP_TIERS)
        bundled = [d for d in infos if d.origin == "bundled"]
        imported = sorted(
            (d for d in infos if d.origin == "imported"), key=lambda d: d.imported_at or ""
        )
        series = TipTierSeries(())
        for info in [*bundled, *imported]:
            series = series.merged_with(self._load(info, tiers_from_json))
        return series

    def tip_tiers(self, country: str) -> tuple[TierPlacement, ...]:
        """One country's placements by report year, oldest first (empty if never listed)."""
        return self.tip_tier_series().for_country(_alpha3(country))

    # -- OCDS ----------------------------------------------------------------------------------
    def ocds_schema(self, name: str = "release") -> dict[str, Any]:
        """An OCDS 1.1 JSON Schema: ``release``, ``release-package`` or ``record-package``.

        A fresh copy each call, so callers may modify it (e.g. to resolve references).
        """
        import copy

        schema = self._ocds(ocds_schema.schema_path(name), ocds_schema.parse_schema)
        return copy.deepcopy(schema)

    def ocds_release_schema(self) -> dict[str, Any]:
        """The OCDS 1.1 release schema."""
        return self.ocds_schema("release")

    def ocds_codelist(self, name: str) -> tuple[Mapping[str, str], ...]:
        """An OCDS codelist's rows (``Code``, ``Title``, ``Description``, …)."""
        return self._ocds(ocds_schema.codelist_path(name), ocds_schema.parse_codelist)

    # -- integrity -----------------------------------------------------------------------------
    def verify(self) -> list[FileCheck]:
        """Re-check every bundled and imported file against its manifest's SHA-256."""
        checks: list[FileCheck] = []
        sources: tuple[tuple[Origin, Path], ...] = (
            ("bundled", self._bundled_folder),
            ("imported", self._imported_folder),
        )
        for origin, folder in sources:
            try:
                infos = self._read_manifest(origin, folder)
            except ReferenceDataError as exc:
                checks.append(
                    FileCheck("manifest", origin, folder / MANIFEST_NAME, False, str(exc))
                )
                continue
            for info in infos:
                for entry in info.files:
                    path = info.folder / entry.path
                    try:
                        actual = sha256_bytes(path.read_bytes())
                    except OSError as exc:
                        checks.append(FileCheck(info.id, origin, path, False, exc.strerror))
                        continue
                    problem = None
                    if actual != entry.sha256:
                        problem = f"SHA-256 {actual} does not match the manifest's {entry.sha256}"
                    checks.append(FileCheck(info.id, origin, path, problem is None, problem))
        return checks

    # -- internals -----------------------------------------------------------------------------
    def _datasets(self) -> list[DatasetInfo]:
        with self._lock:
            if self._catalogue is None:
                bundled = self._read_manifest("bundled", self._bundled_folder)
                if not bundled:
                    raise ReferenceDataError(
                        f"the bundled reference data is missing ({self._bundled_folder})",
                        hint="reinstall tipaudit",
                    )
                imported = self._read_manifest("imported", self._imported_folder)
                self._catalogue = _mark_serving([*bundled, *imported])
            return self._catalogue

    @staticmethod
    def _read_manifest(origin: Origin, folder: Path) -> list[DatasetInfo]:
        path = folder / MANIFEST_NAME
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise ReferenceDataError(f"cannot read {path}: {exc.strerror}") from None
        return read_manifest(data, origin=origin, folder=folder)

    def _load(self, info: DatasetInfo, parse: Callable[..., _T]) -> _T:
        key = (info.origin, info.kind.value, info.id)
        with self._lock:
            if key not in self._loaded:
                data = _read_verified(info, 0)
                self._loaded[key] = parse(data, origin=str(info.path))
            value: _T = self._loaded[key]
            return value

    def _ocds(self, relative: str, parse: Callable[..., _T]) -> _T:
        key: tuple[Origin, str, str] = ("bundled", DatasetKind.OCDS_SCHEMA.value, relative)
        with self._lock:
            if key not in self._loaded:
                info = self.dataset(DatasetKind.OCDS_SCHEMA)
                index = next(
                    (i for i, entry in enumerate(info.files) if entry.path == relative), None
                )
                if index is None:
                    raise ReferenceDataError(f"{relative} is not in the {info.id} manifest")
                self._loaded[key] = parse(_read_verified(info, index), origin=relative)
            value: _T = self._loaded[key]
            return value


def _read_verified(info: DatasetInfo, index: int) -> bytes:
    entry = info.files[index]
    path = info.folder / entry.path
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReferenceDataError(
            f"{info.id} ({info.origin}): cannot read {path}: {exc.strerror}",
            hint="run `tipaudit data verify`",
        ) from None
    actual = sha256_bytes(data)
    if actual != entry.sha256:
        raise ReferenceDataError(
            f"{info.id} ({info.origin}): {path} was altered: its SHA-256 is {actual}, the "
            f"manifest says {entry.sha256}",
            hint="run `tipaudit data verify`; re-import the edition or reinstall tipaudit",
        )
    return data


def _mark_serving(datasets: list[DatasetInfo]) -> list[DatasetInfo]:
    """Mark the newest edition of each kind (imported wins a tie); every TIP tier file serves."""
    best: dict[DatasetKind, DatasetInfo] = {}
    for info in datasets:
        current = best.get(info.kind)
        if current is None or _rank(info) > _rank(current):
            best[info.kind] = info
    marked = [
        d.with_serving(d.kind is DatasetKind.TIP_TIERS or best[d.kind] is d) for d in datasets
    ]
    return sorted(
        marked,
        key=lambda d: (list(DatasetKind).index(d.kind), edition_key(d.edition), d.origin),
    )


def _rank(info: DatasetInfo) -> tuple[tuple[int, ...], bool, str]:
    return (edition_key(info.edition), info.origin == "imported", info.imported_at or "")


def _alpha3(code: str) -> str:
    text = code.strip().upper()
    if len(text) == 3 and text.isalpha():
        return text
    alpha3 = alpha3_of(text)
    if alpha3 is None:
        raise ValidationError(f"{code!r} is not an ISO 3166-1 country code")
    return alpha3
