#!/usr/bin/env python3
# ruff: noqa: T201 - a command-line script reports with print
"""Regenerate the vendored reference data in ``src/tipaudit/refdata/data`` from ``../shared``.

Usage (from the repository root)::

    .venv/bin/python scripts/vendor_refdata.py            # rewrite the files and the manifest
    .venv/bin/python scripts/vendor_refdata.py --check    # exit 1 if the files are out of date

The shared data folder is ``../shared/data`` next to the repository (``--shared`` to change it).
Only this script needs it; tipaudit runs on the vendored files alone. The output is
deterministic: the same sources give byte-identical files, and the dates in the manifest only
change when a source file (``retrieved``) or a vendored file (``converted``) changes.

It fails, listing them, when a country name does not resolve to an ISO 3166 code.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tipaudit.errors import TipAuditError
from tipaudit.refdata import gsi, ilab, ocds_schema, tiers
from tipaudit.refdata._io import atomic_write_bytes, sha256_bytes
from tipaudit.refdata.manifest import (
    KIND_INFO,
    MANIFEST_NAME,
    DataFile,
    DatasetInfo,
    DatasetKind,
    SourceInfo,
    manifest_to_json,
    read_manifest,
)
from tipaudit.refdata.registry import BUNDLED_FOLDER

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = ROOT.parent / "shared" / "data"
GENERATOR = "scripts/vendor_refdata.py"

ILAB_REPO = "USDepartmentofLabor/Child-Labor-Android"
ILAB_COMMIT = "b8891386cc88513baa4411196561934f0a36f063"
ILAB_URL = "https://www.dol.gov/agencies/ilab/reports/child-labor/list-of-goods"
GSI_REPO = "modern-slavery-open-lib/make-labour-satellite"
GSI_COMMIT = "0523fb5b5d087c82aaa6d83fa108c6d4c9e5f22f"
GSI_URL = "https://www.walkfree.org/global-slavery-index/"
TIP_REPO = "andrewheiss/scorecard-diplomacy"
TIP_COMMIT = "f8c06be83c75c34c97bc3992e24fedc8d275c83b"
OCDS_REPO = "open-contracting/standard"
OCDS_COMMIT = "715687a462f9869f7290dca9408fce1bf0bd931f"
OCDS_URL = "https://standard.open-contracting.org/1.1/en/"


@dataclass(frozen=True)
class Output:
    """One dataset to vendor: its manifest entry (without dates) and its files' bytes."""

    info: DatasetInfo
    files: dict[str, bytes]
    source_sha256: str


# -- ILAB -------------------------------------------------------------------------------------

#: (file in ../shared/data/ilab-goods, edition of the list, notes)
GOODS_EDITIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("goods_2016.xml", "2016", ("File goods_2016.xml (the app's data year 2016).",)),
    (
        "goods_2018.xml",
        "2018",
        (
            "goods_2017.xml and goods_2018.xml are both the 2018 edition (418 pairs each); "
            "the later file, goods_2018.xml, is vendored.",
            "goods_2018.xml leaves the region empty for 58 of its 418 rows.",
        ),
    ),
    ("goods_2019.xml", "2020", ("File goods_2019.xml is the 2020 edition of the list.",)),
    (
        "goods_2021.xml",
        "2022",
        (
            "File goods_2021.xml is the 2022 edition: 159 goods from 78 countries plus 10 "
            "derived (downstream) goods.",
        ),
    ),
)


def ilab_goods(shared: Path) -> list[Output]:
    outputs = []
    for file_name, edition, notes in GOODS_EDITIONS:
        source = shared / "ilab-goods" / file_name
        data = source.read_bytes()
        goods = ilab.parse_goods_xml(data, origin=file_name, edition=edition)
        name = f"ilab-goods-{edition}.json"
        content = ilab.goods_to_json(goods)
        outputs.append(
            _output(
                DatasetKind.ILAB_GOODS,
                edition,
                len(goods),
                {name: content},
                SourceInfo(
                    repository=ILAB_REPO,
                    commit=ILAB_COMMIT,
                    path=f"app/src/main/assets/{file_name}",
                    sha256=sha256_bytes(data),
                    url=ILAB_URL,
                ),
                notes,
            )
        )
    return outputs


def ilab_findings(shared: Path) -> list[Output]:
    file_name = "countries_2021.xml"
    data = (shared / "ilab-goods" / file_name).read_bytes()
    findings = ilab.parse_findings_xml(data, origin=file_name, edition="2022")
    notes = (
        "File countries_2021.xml: Findings on the Worst Forms of Child Labor, reporting year 2022.",
        "Structured facts only: the prose descriptions, suggested actions and projects are "
        "left out.",
        "12 of the 143 entries are countries on the List of Goods that the report does not "
        "cover (covered = false).",
    )
    return [
        _output(
            DatasetKind.ILAB_FINDINGS,
            "2022",
            len(findings),
            {"ilab-findings-2022.json": ilab.findings_to_json(findings)},
            SourceInfo(
                repository=ILAB_REPO,
                commit=ILAB_COMMIT,
                path=f"app/src/main/assets/{file_name}",
                sha256=sha256_bytes(data),
                url="https://www.dol.gov/agencies/ilab/resources/reports/child-labor/findings",
            ),
            notes,
        )
    ]


# -- Walk Free GSI ----------------------------------------------------------------------------


def walk_free_gsi(shared: Path) -> list[Output]:
    file_name = "2023-Global-Slavery-Index-Data.xlsx"
    data = (shared / "global-slavery-index" / file_name).read_bytes()
    index = gsi.parse_gsi_workbook(data, origin=file_name, edition="2023")
    notes = (
        index.licence_note,
        "Sheet 'GSI 2023 summary data': prevalence, estimated number, vulnerability (total and "
        "5 dimensions), government response (total and 5 milestones); 20 of the 180 countries "
        "have no prevalence estimate.",
        "Government responses were not assessed for Afghanistan, South Sudan, Syria and Yemen.",
    )
    return [
        _output(
            DatasetKind.GSI,
            "2023",
            len(index),
            {"gsi-2023.json": gsi.gsi_to_json(index)},
            SourceInfo(
                repository=GSI_REPO,
                commit=GSI_COMMIT,
                path=f"objects/raw/{file_name}",
                sha256=sha256_bytes(data),
                url=GSI_URL,
            ),
            notes,
            attribution=index.attribution,
        )
    ]


# -- TIP tiers --------------------------------------------------------------------------------


def tip_tiers(shared: Path) -> list[Output]:
    file_name = "map_tiers.csv"
    data = (shared / "tip-tiers" / file_name).read_bytes()
    series = tiers.parse_tiers_csv(data, origin=file_name)
    notes = (
        "Years are TIP Report years; 1999 and 2000 have no placements (all NA).",
        "map_tiers.csv codes 1, 2, 3, 4 are Tier 1, Tier 2, Tier 2 Watch List, Tier 3; NA "
        "(not ranked or special case) is null.",
        "No machine-readable series after report year 2015 exists; import later years with "
        "`tipaudit data import tip-tiers FILE`.",
        "Kosovo is coded KOS in the source (not an ISO code) and resolved by its name.",
    )
    return [
        _output(
            DatasetKind.TIP_TIERS,
            series.edition,
            len(series),
            {f"tip-tiers-{series.edition}.json": tiers.tiers_to_json(series)},
            SourceInfo(
                repository=TIP_REPO,
                commit=TIP_COMMIT,
                path="data/processed/map_tiers.csv",
                sha256=sha256_bytes(data),
                url="https://www.state.gov/trafficking-in-persons-report/",
            ),
            notes,
            title="Trafficking in Persons Report tier placements (academic compilation)",
            publisher="Judith G. Kelley and Andrew Heiss (Scorecard Diplomacy replication "
            "data), from US Department of State TIP Reports",
            licence="MIT (compilation, Copyright (c) 2017 Judith Kelley and Andrew Heiss); "
            "the placements are US government work",
            attribution="Judith G. Kelley, Scorecard Diplomacy (Cambridge University Press, "
            "2017), replication data by Judith Kelley and Andrew Heiss; US Department of "
            f"State, Trafficking in Persons Report, report years {series.edition}",
        )
    ]


# -- OCDS -------------------------------------------------------------------------------------


def ocds(shared: Path) -> list[Output]:
    folder = shared / "ocds" / "schema-1.1"
    files: dict[str, bytes] = {}
    for schema_file in ocds_schema.SCHEMAS.values():
        files[f"{ocds_schema.OCDS_FOLDER}/{schema_file}"] = (folder / schema_file).read_bytes()
    for name in ocds_schema.CODELISTS:
        files[ocds_schema.codelist_path(name)] = (folder / "codelists" / f"{name}.csv").read_bytes()
    listing = "".join(f"{sha256_bytes(b)}  {p}\n" for p, b in files.items())
    return [
        _output(
            DatasetKind.OCDS_SCHEMA,
            "1.1.5",
            len(files),
            files,
            SourceInfo(
                repository=OCDS_REPO,
                commit=OCDS_COMMIT,
                path="schema/{release-schema,release-package-schema,record-package-schema}.json"
                " and schema/codelists/*.csv (branch 1.1)",
                url=OCDS_URL,
            ),
            (
                "Byte copies: each file's SHA-256 is also its source file's.",
                "3 schemas (JSON Schema draft-04) and 19 codelists.",
            ),
            source_sha256=sha256_bytes(listing.encode()),
        )
    ]


# -- assembly ---------------------------------------------------------------------------------


def _output(
    kind: DatasetKind,
    edition: str,
    records: int,
    files: dict[str, bytes],
    source: SourceInfo,
    notes: tuple[str, ...],
    *,
    title: str | None = None,
    publisher: str | None = None,
    licence: str | None = None,
    attribution: str | None = None,
    source_sha256: str | None = None,
) -> Output:
    meta = KIND_INFO[kind]
    info = DatasetInfo(
        id=f"{kind.value}-{edition}",
        kind=kind,
        title=title or meta.title,
        edition=edition,
        publisher=publisher or meta.publisher,
        licence=licence or meta.licence,
        attribution=attribution or meta.attribution.format(edition=edition),
        records=records,
        files=tuple(
            DataFile(path=path, sha256=sha256_bytes(content), bytes=len(content))
            for path, content in files.items()
        ),
        source=source,
        origin="bundled",
        folder=BUNDLED_FOLDER,
        notes=notes,
    )
    return Output(info=info, files=files, source_sha256=source_sha256 or source.sha256 or "")


BUILDERS: tuple[Callable[[Path], list[Output]], ...] = (
    ilab_goods,
    ilab_findings,
    walk_free_gsi,
    tip_tiers,
    ocds,
)


def build(shared: Path, out: Path, today: str) -> dict[str, bytes]:
    """Every file to write (relative path → bytes), the manifest included."""
    previous = _previous_manifest(out)
    outputs = [o for builder in BUILDERS for o in builder(shared)]
    infos = []
    files: dict[str, bytes] = {}
    for output in outputs:
        old = previous.get(output.info.id)
        same_source = old is not None and _source_digest(old) == output.source_sha256
        same_files = old is not None and old.files == output.info.files
        retrieved = old.retrieved if same_source and old is not None else today
        converted = old.converted if same_files and old is not None else today
        infos.append(
            DatasetInfo(
                **{
                    **{f: getattr(output.info, f) for f in _INFO_FIELDS},
                    "retrieved": retrieved,
                    "converted": converted,
                }
            )
        )
        files.update(output.files)
    files[MANIFEST_NAME] = manifest_to_json(infos, generator=GENERATOR)
    return files


_INFO_FIELDS = (
    "id",
    "kind",
    "title",
    "edition",
    "publisher",
    "licence",
    "attribution",
    "records",
    "files",
    "source",
    "origin",
    "folder",
    "notes",
)


def _source_digest(info: DatasetInfo) -> str:
    if info.source.sha256:
        return info.source.sha256
    listing = "".join(f"{f.sha256}  {f.path}\n" for f in info.files)
    return sha256_bytes(listing.encode())


def _previous_manifest(out: Path) -> dict[str, DatasetInfo]:
    path = out / MANIFEST_NAME
    if not path.exists():
        return {}
    return {
        info.id: info for info in read_manifest(path.read_bytes(), origin="bundled", folder=out)
    }


def _existing_files(out: Path) -> set[str]:
    if not out.exists():
        return set()
    return {
        p.relative_to(out).as_posix()
        for p in out.rglob("*")
        if p.is_file() and p.suffix in {".json", ".csv"}
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="../shared/data")
    parser.add_argument("--out", type=Path, default=BUNDLED_FOLDER, help="output folder")
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if stale")
    args = parser.parse_args(argv)
    shared: Path = args.shared
    out: Path = args.out
    if not shared.is_dir():
        print(f"error: no shared data folder at {shared} (pass --shared)", file=sys.stderr)
        return 2
    today = datetime.now(UTC).date().isoformat()
    try:
        files = build(shared, out, today)
    except TipAuditError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    stale = sorted(_existing_files(out) - set(files))
    changed = sorted(
        p
        for p, content in files.items()
        if not (out / p).exists() or (out / p).read_bytes() != content
    )
    if args.check:
        for path in changed:
            print(f"out of date: {path}")
        for path in stale:
            print(f"not produced by the script: {path}")
        return 1 if changed or stale else 0
    for path in changed:
        atomic_write_bytes(out / path, files[path])
    for path in stale:
        (out / path).unlink()
    manifest = json.loads(files[MANIFEST_NAME])
    total = sum(len(b) for b in files.values())
    for entry in manifest["datasets"]:
        print(f"{entry['id']:<24} {entry['records']:>6} records")
    print(f"{len(files)} files, {total:,} bytes in {out} ({len(changed)} changed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
