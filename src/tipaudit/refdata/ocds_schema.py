"""The Open Contracting Data Standard (OCDS) 1.1 schemas and codelists, vendored as-is.

The files are byte copies of ``open-contracting/standard`` (Apache-2.0): the release,
release-package and record-package JSON Schemas (draft-04) and the 19 closed and open codelists.
Point validators at these instead of the canonical URLs to work offline. Read them through
:meth:`tipaudit.refdata.ReferenceData.ocds_schema` and
:meth:`~tipaudit.refdata.ReferenceData.ocds_codelist`, which check their SHA-256 first.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from tipaudit.errors import NotFoundError
from tipaudit.refdata._io import ReferenceDataError, load_json

__all__ = [
    "CODELISTS",
    "OCDS_FOLDER",
    "SCHEMAS",
    "codelist_path",
    "parse_codelist",
    "parse_schema",
    "schema_path",
]

#: Folder of the OCDS files inside the bundled data folder.
OCDS_FOLDER = "ocds-1.1"

#: Schema name → file name.
SCHEMAS: Mapping[str, str] = MappingProxyType(
    {
        "release": "release-schema.json",
        "release-package": "release-package-schema.json",
        "record-package": "record-package-schema.json",
    }
)

#: The 19 OCDS 1.1 codelists, by name (file ``codelists/<name>.csv``).
CODELISTS: tuple[str, ...] = (
    "awardCriteria",
    "awardStatus",
    "contractStatus",
    "currency",
    "documentType",
    "extendedProcurementCategory",
    "initiationType",
    "itemClassificationScheme",
    "method",
    "milestoneStatus",
    "milestoneType",
    "partyRole",
    "procurementCategory",
    "relatedProcess",
    "relatedProcessScheme",
    "releaseTag",
    "submissionMethod",
    "tenderStatus",
    "unitClassificationScheme",
)


def schema_path(name: str) -> str:
    """Path of a schema relative to the data folder."""
    try:
        return f"{OCDS_FOLDER}/{SCHEMAS[name]}"
    except KeyError:
        raise NotFoundError(
            f"no OCDS schema {name!r}", hint=f"one of: {', '.join(SCHEMAS)}"
        ) from None


def codelist_path(name: str) -> str:
    """Path of a codelist relative to the data folder (``name`` with or without ``.csv``)."""
    stem = name.removesuffix(".csv")
    if stem not in CODELISTS:
        raise NotFoundError(f"no OCDS codelist {name!r}", hint=f"one of: {', '.join(CODELISTS)}")
    return f"{OCDS_FOLDER}/codelists/{stem}.csv"


def parse_schema(data: bytes, *, origin: str) -> dict[str, Any]:
    schema = load_json(data, origin=origin)
    if not isinstance(schema, dict):
        raise ReferenceDataError(f"{origin}: not a JSON Schema object")
    return schema


def parse_codelist(data: bytes, *, origin: str) -> tuple[Mapping[str, str], ...]:
    """The rows of a codelist CSV, each a mapping of its columns (``Code``, ``Title``, …)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReferenceDataError(f"{origin}: not UTF-8 ({exc})") from None
    rows = csv.DictReader(io.StringIO(text, newline=""))
    return tuple(MappingProxyType(dict(row)) for row in rows)
