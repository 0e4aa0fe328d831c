"""The vendored classification vocabularies: CPV 2008 and UNGM's UNSPSC list.

Made by ``scripts/vendor_classifications.py`` into ``data/`` (provenance, licences and SHA-256
checksums in ``data/sources.json``). Each file's checksum is verified before it is read.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tipaudit.procurement.classify.model import CrosswalkDataError
from tipaudit.procurement.classify.text import label_key

__all__ = ["DATA_FOLDER", "CpvVocabulary", "UnspscVocabulary", "load_cpv", "load_unspsc"]

#: Where the vendored vocabularies and ``sources.json`` live.
DATA_FOLDER = Path(__file__).resolve().parent / "data"
SOURCES_NAME = "sources.json"


@dataclass(frozen=True, slots=True)
class CpvVocabulary:
    """CPV 2008: 8-digit code (no check digit) → labels by language."""

    languages: tuple[str, ...]
    #: ``"18110000"`` → ``("Occupational clothing", "Ropa de trabajo", ...)``.
    labels: Mapping[str, tuple[str, ...]]
    #: Label in any language (:func:`~tipaudit.procurement.classify.text.label_key`) → codes.
    by_label: Mapping[str, tuple[str, ...]]

    def english(self, code8: str) -> str:
        """The English label of a known 8-digit code."""
        return self.labels[code8][0]

    def __contains__(self, code8: object) -> bool:
        return code8 in self.labels


@dataclass(frozen=True, slots=True)
class UnspscVocabulary:
    """UNSPSC segments, families and classes (UNGM's list): 8-digit code → English title."""

    titles: Mapping[str, str]

    def title(self, code8: str) -> str | None:
        """The title of the most specific known level of a code (class, family or segment)."""
        for length in (6, 4, 2):
            title = self.titles.get(code8[:length].ljust(8, "0"))
            if title is not None:
                return title
        return None

    def __contains__(self, code8: object) -> bool:
        return code8 in self.titles


def _read_verified(folder: Path, name: str) -> Any:
    try:
        manifest = json.loads((folder / SOURCES_NAME).read_bytes())
        expected = {entry["path"]: entry["sha256"] for entry in manifest["files"]}
        data = (folder / name).read_bytes()
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CrosswalkDataError(f"data/{name}: cannot be read ({exc})") from None
    if hashlib.sha256(data).hexdigest() != expected.get(name):
        raise CrosswalkDataError(
            f"data/{name}: SHA-256 does not match data/{SOURCES_NAME}",
            hint="Re-run scripts/vendor_classifications.py.",
        )
    try:
        return json.loads(gzip.decompress(data))
    except (OSError, ValueError) as exc:
        raise CrosswalkDataError(f"data/{name}: not gzip JSON ({exc})") from None


def load_cpv(folder: Path = DATA_FOLDER) -> CpvVocabulary:
    """Read ``cpv-2008.json.gz``."""
    document = _read_verified(folder, "cpv-2008.json.gz")
    labels: dict[str, tuple[str, ...]] = {}
    by_label: dict[str, list[str]] = {}
    for code, names in document["codes"].items():
        code8 = code[:8]
        labels[code8] = tuple(names)
        for name in names:
            key = label_key(name)
            if key and code8 not in by_label.setdefault(key, []):
                by_label[key].append(code8)
    return CpvVocabulary(
        languages=tuple(document["languages"]),
        labels=MappingProxyType(labels),
        by_label=MappingProxyType({k: tuple(v) for k, v in by_label.items()}),
    )


def load_unspsc(folder: Path = DATA_FOLDER) -> UnspscVocabulary:
    """Read ``unspsc-ungm.json.gz``."""
    document = _read_verified(folder, "unspsc-ungm.json.gz")
    return UnspscVocabulary(titles=MappingProxyType(dict(document["codes"])))
