"""Reference data with provenance: ILAB goods and findings, Walk Free GSI, TIP tiers, OCDS.

tipaudit ships compact, typed, versioned copies of public reference datasets (``data/``, made by
``scripts/vendor_refdata.py`` with a manifest of sources, licences and SHA-256 checksums), and
imports newer editions from the publishers' own files into the data folder. Read them through
:class:`ReferenceData`; see ``docs/reference-data.md``.

This package sits below the capability packages and above :mod:`tipaudit.core`: it imports only
``tipaudit.core``, ``tipaudit.errors`` and ``tipaudit.settings`` (no web, database or CLI code).
"""

from __future__ import annotations

from tipaudit.refdata._io import MAX_IMPORT_BYTES, ReferenceDataError
from tipaudit.refdata.gsi import GsiCountry, GsiGovernmentResponse, GsiIndex, GsiVulnerability
from tipaudit.refdata.ilab import (
    CountryFindings,
    IlabFindings,
    IlabGood,
    IlabGoodsList,
    LegalStandard,
)
from tipaudit.refdata.importer import import_dataset
from tipaudit.refdata.manifest import (
    IMPORTABLE_KINDS,
    DataFile,
    DatasetInfo,
    DatasetKind,
    SourceInfo,
)
from tipaudit.refdata.registry import FileCheck, ReferenceData, imported_folder
from tipaudit.refdata.tiers import TierPlacement, TipTier, TipTierSeries

__all__ = [
    "IMPORTABLE_KINDS",
    "MAX_IMPORT_BYTES",
    "CountryFindings",
    "DataFile",
    "DatasetInfo",
    "DatasetKind",
    "FileCheck",
    "GsiCountry",
    "GsiGovernmentResponse",
    "GsiIndex",
    "GsiVulnerability",
    "IlabFindings",
    "IlabGood",
    "IlabGoodsList",
    "LegalStandard",
    "ReferenceData",
    "ReferenceDataError",
    "SourceInfo",
    "TierPlacement",
    "TipTier",
    "TipTierSeries",
    "import_dataset",
    "imported_folder",
]
