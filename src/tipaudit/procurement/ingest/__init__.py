"""Streaming, strict OCDS ingest with merging: files in, one compiled release per ocid out.

Typical use::

    from tipaudit.procurement.ingest import IngestOptions, IngestReport, iter_compiled

    report = IngestReport()
    for compiled in iter_compiled([Path("data/")], IngestOptions(on_error="skip"), report):
        screen(compiled.release)
    print(report.summary())

Accepted inputs, what is an error and what a warning, the duplicate and conflict rule, the merge
rules and the memory bound are described in ``docs/ocds-ingest.md``. Nothing here ever fetches a
URL found in the data.
"""

from __future__ import annotations

from tipaudit.procurement.ingest.errors import (
    InputNotFoundError,
    OCDSInputError,
    UnreadableInputError,
)
from tipaudit.procurement.ingest.merge import MergeRules, compile_releases
from tipaudit.procurement.ingest.pipeline import CompiledRelease, IngestOptions, iter_compiled
from tipaudit.procurement.ingest.report import (
    Conflict,
    IngestReport,
    Position,
    ProgressTick,
    SkippedItem,
    WarningExample,
    WarningKind,
    WarningSummary,
)
from tipaudit.procurement.ingest.store import ocid_order

__all__ = [
    "CompiledRelease",
    "Conflict",
    "IngestOptions",
    "IngestReport",
    "InputNotFoundError",
    "MergeRules",
    "OCDSInputError",
    "Position",
    "ProgressTick",
    "SkippedItem",
    "UnreadableInputError",
    "WarningExample",
    "WarningKind",
    "WarningSummary",
    "compile_releases",
    "iter_compiled",
    "ocid_order",
]
