#!/usr/bin/env python3
# ruff: noqa: T201 - a command-line script reports with print
"""Vendor the procurement classification vocabularies into the item classifier's data folder.

Usage (from the repository root)::

    .venv/bin/python scripts/vendor_classifications.py           # rewrite the files
    .venv/bin/python scripts/vendor_classifications.py --check   # exit 1 if out of date

Reads ``../shared/data/classifications`` (``--shared`` to change it) and writes, into
``src/tipaudit/procurement/classify/data/``:

- ``cpv-2008.json.gz`` — the 9,454 CPV 2008 codes (with check digit) and their labels in
  English, Romanian, Ukrainian and Russian (``openprocurement/standards``, keyed by code) and
  Spanish and French (``xterr/cpv-codes`` translation files, keyed by the English label);
- ``unspsc-ungm.json.gz`` — the segment, family and class titles (English) of UNGM's UNSPSC
  list; commodities are left out (the list is not openly licensed; see ``sources.json``);
- ``sources.json`` — for every source file its repository, commit, path, licence and SHA-256,
  and the SHA-256 of every vendored file.

Only this script needs ``../shared``; tipaudit runs on the vendored files. The output is
deterministic: sorted keys, compact JSON, gzip without a timestamp, so the same sources give
byte-identical files.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = ROOT.parent / "shared" / "data" / "classifications"
OUT = ROOT / "src" / "tipaudit" / "procurement" / "classify" / "data"
GENERATOR = "scripts/vendor_classifications.py"

OPENPROCUREMENT = {
    "repository": "openprocurement/standards",
    "commit": "a0f4c8aff81405b0fda9e2376e2fdcc8c69132df",
    "licence": "Apache-2.0 (repository); CPV codes and official-language labels: EU legislation, "
    "Regulation (EC) No 213/2008, reuse with acknowledgement (Commission Decision "
    "2011/833/EU); the Russian labels are an unofficial translation",
}
XTERR = {
    "repository": "xterr/cpv-codes",
    "commit": "3fddd3c006f2031ad1f3aebf330943e8912310de",
    "licence": "MIT (repository); CPV labels: EU legislation, Regulation (EC) No 213/2008",
}
UNGM = {
    "repository": "albertlockett/lancedb-unspsc",
    "commit": "bc87dc52fcdbe31b0210996b8ccc233e511e655d",
    "licence": "UNSPSC is a registered trademark of UNDP, which owns the code set; no open "
    "licence. Reference data for use inside tipaudit only: keep the 'UNSPSC®, UNDP' "
    "attribution and do not publish the list or a list derived from it",
}

#: Column order of the CPV labels in ``cpv-2008.json.gz``.
CPV_LANGUAGES = ("en", "es", "fr", "ro", "uk", "ru")
_CPV_CODE = re.compile(r"\d{8}-\d")
_UNSPSC_CODE = re.compile(r"\d{8}")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _gzip_json(document: dict[str, Any]) -> bytes:
    text = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    buffer = io.BytesIO()
    # mtime=0 and no file name in the header: byte-identical output for identical input.
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as fh:
        fh.write(text.encode("utf-8"))
    return buffer.getvalue()


class _Sources:
    """Records every source file read, for ``sources.json``."""

    def __init__(self, shared: Path) -> None:
        self.shared = shared
        self.entries: list[dict[str, str]] = []

    def read(self, relative: str, origin: dict[str, str], repo_path: str) -> bytes:
        data = (self.shared / relative).read_bytes()
        self.entries.append(
            {
                "file": relative,
                "repository": origin["repository"],
                "commit": origin["commit"],
                "path": repo_path,
                "licence": origin["licence"],
                "sha256": _sha256(data),
            }
        )
        return data


def _yaml(data: bytes) -> Any:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(data, Loader=loader)  # noqa: S506 - a safe loader is chosen above


def cpv(sources: _Sources) -> tuple[bytes, int]:
    """CPV 2008 code → labels in :data:`CPV_LANGUAGES` order ("" where a label is missing)."""
    by_language: dict[str, dict[str, str]] = {}
    for language in ("en", "ro", "uk", "ru"):
        data = sources.read(
            f"cpv/openprocurement/cpv/{language}.json",
            OPENPROCUREMENT,
            f"classifiers/cpv/{language}.json",
        )
        by_language[language] = json.loads(data)
    codes = sorted(by_language["en"])
    if len(codes) != 9454 or not all(_CPV_CODE.fullmatch(c) for c in codes):
        raise SystemExit("cpv/openprocurement/cpv/en.json: expected 9,454 CPV 2008 codes")
    xterr_codes = json.loads(
        sources.read("cpv/xterr/cpvCodes.json", XTERR, "Resources/cpvCodes.json")
    )
    english_name = {c["code"]: c["name"] for c in xterr_codes if c["version"] == 2}
    if set(english_name) != set(codes):
        raise SystemExit("xterr and openprocurement disagree on the CPV 2008 code list")
    for language, file_name in (("es", "messages.es_es.yaml"), ("fr", "messages.fr_fr.yaml")):
        translations = _yaml(
            sources.read(
                f"cpv/xterr/translations/{file_name}",
                XTERR,
                f"Resources/translations/{file_name}",
            )
        )
        by_language[language] = {code: str(translations[english_name[code]]) for code in codes}
    table: dict[str, list[str]] = {}
    for code in codes:
        labels = []
        for language in CPV_LANGUAGES:
            label = str(by_language[language].get(code) or "").strip()
            # Russian division entries carry the code itself instead of a label.
            labels.append("" if label == code else label)
        table[code] = labels
    document = {
        "format": "tipaudit.classify.cpv",
        "version": 1,
        "edition": "CPV 2008",
        "languages": list(CPV_LANGUAGES),
        "attribution": "Common Procurement Vocabulary (CPV 2008), Regulation (EC) No 213/2008, "
        "© European Union",
        "codes": table,
    }
    return _gzip_json(document), len(table)


def unspsc(sources: _Sources) -> tuple[bytes, int]:
    """UNSPSC segment, family and class code → English title (UNGM's selection)."""
    data = sources.read("unspsc/unspsc_codes.csv", UNGM, "unspsc_codes.csv")
    rows = csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""))
    titles: dict[str, str] = {}
    for row in rows:
        code = row["Code"].strip()
        if not _UNSPSC_CODE.fullmatch(code) or not code.endswith("00"):
            continue  # UNGM's letter groups and the commodities
        title = " ".join(row["Title"].split())
        if titles.get(code, title) != title:
            raise SystemExit(f"unspsc_codes.csv: two titles for {code}")
        titles[code] = title
    document = {
        "format": "tipaudit.classify.unspsc",
        "version": 1,
        "edition": "UNGM UNSPSC list (segments, families and classes)",
        "attribution": "UNSPSC®, UNDP; list as published by the UN Global Marketplace",
        "codes": dict(sorted(titles.items())),
    }
    return _gzip_json(document), len(titles)


def build(shared: Path) -> dict[str, bytes]:
    """Every file to write (name → bytes)."""
    sources = _Sources(shared)
    cpv_bytes, cpv_count = cpv(sources)
    unspsc_bytes, unspsc_count = unspsc(sources)
    files = {"cpv-2008.json.gz": cpv_bytes, "unspsc-ungm.json.gz": unspsc_bytes}
    manifest = {
        "format": "tipaudit.classify.sources",
        "version": 1,
        "generator": GENERATOR,
        "files": [
            {
                "path": "cpv-2008.json.gz",
                "records": cpv_count,
                "bytes": len(cpv_bytes),
                "sha256": _sha256(cpv_bytes),
                "content": "CPV 2008 main vocabulary: code (with check digit) → labels in "
                + ", ".join(CPV_LANGUAGES),
            },
            {
                "path": "unspsc-ungm.json.gz",
                "records": unspsc_count,
                "bytes": len(unspsc_bytes),
                "sha256": _sha256(unspsc_bytes),
                "content": "UNSPSC segments, families and classes with English titles, from "
                "the UN Global Marketplace list (commodities left out)",
            },
        ],
        "sources": sources.entries,
    }
    text = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    files["sources.json"] = text.encode("utf-8")
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="classifications")
    parser.add_argument("--out", type=Path, default=OUT, help="output folder")
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if stale")
    args = parser.parse_args(argv)
    shared: Path = args.shared
    out: Path = args.out
    if not shared.is_dir():
        print(f"error: no classifications folder at {shared} (pass --shared)", file=sys.stderr)
        return 2
    files = build(shared)
    changed = sorted(
        name
        for name, data in files.items()
        if not (out / name).exists() or (out / name).read_bytes() != data
    )
    if args.check:
        for name in changed:
            print(f"out of date: {name}")
        return 1 if changed else 0
    out.mkdir(parents=True, exist_ok=True)
    for name in changed:
        (out / name).write_bytes(files[name])
    total = sum(len(data) for data in files.values())
    print(f"{len(files)} files, {total:,} bytes in {out} ({len(changed)} changed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
