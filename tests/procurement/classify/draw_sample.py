"""Extract every item from the real OCDS samples and draw the labelled evaluation sample.

This is the reproducible half of ``labelled_items.csv``: it finds the population of distinct
items and draws the stratified sample. It does NOT label anything; the labels (and the
language and "plausibly risky" screening it reads from ``population.csv``) were decided by a
person reading each item. See ``docs/item-labels.md``.

Usage (from the repository root)::

    .venv/bin/python -m tests.procurement.classify.draw_sample extract   # -> candidates JSON
    .venv/bin/python -m tests.procurement.classify.draw_sample draw      # -> ids and splits

``extract`` writes every distinct item as JSON lines to stdout; ``draw`` reads the screened
population (``population.csv``) and prints the ids the seeded draw selects, with their split.

``population.csv`` has one row per distinct item: where it was first seen (``file``, ``ocid``,
``item_path``, ``occurrences``), its near-duplicate ``group`` and cross-language ``family``
(both computed by :func:`grouping`), and the two screening decisions a person made by reading
it: ``language`` and ``plausibly_risky``. ``test_labels.py`` checks that the computed columns
match a fresh extraction and that ``labelled_items.csv`` is exactly this draw.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import re
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = (
    Path(__file__).resolve().parents[4] / "shared" / "data" / "ocds" / "sample-data-real-examples"
)
HERE = Path(__file__).resolve().parent
POPULATION = HERE / "population.csv"

#: The 17 publisher folders named in the sample's README (longest prefix wins).
PUBLISHERS = (
    "armenia",
    "australia/new-south-wales",
    "canada/buyandsell",
    "canada/montreal",
    "colombia",
    "mexico/administracion-publica-federal",
    "mexico/cdmx",
    "mexico/grupo-aeroportuario",
    "mexico/inai",
    "mexico/jalisco",
    "moldova",
    "nigeria/open-contracting-portal",
    "paraguay",
    "taiwan",
    "uganda",
    "uk-contracts-finder",
    "ukraine",
)

#: Item descriptions that say nothing about the item; the process title is kept for them.
PLACEHOLDERS = frozenset({"see description of related tender.", "згідно додатку"})

#: The seed of the draw; recorded in docs/item-labels.md.
SEED = 20240523
#: Ordinary (not plausibly risky) items drawn per language, on top of every risky one.
ORDINARY_PER_LANGUAGE = 40
#: Languages with at most this many groups are kept whole.
KEEP_WHOLE_UP_TO = 45


@dataclass(frozen=True)
class Candidate:
    """One distinct item text, with where it was first seen."""

    id: str
    publisher: str
    file: str
    ocid: str
    item_path: str
    scheme: str
    code: str
    classification_description: str
    description: str
    process_title: str
    occurrences: int


def clean(value: Any) -> str:
    """Text with runs of whitespace collapsed; non-strings become ''."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int | float):
        return str(value)
    if not isinstance(value, str):
        return ""
    return re.sub(r"\s+", " ", value).strip()


def publisher_of(relative: str) -> str:
    """The publisher folder a file belongs to."""
    for name in sorted(PUBLISHERS, key=len, reverse=True):
        if relative.startswith(name + "/"):
            return name
    raise ValueError(f"no publisher folder for {relative}")


def release_likes(doc: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """(JSON path, release) for every embedded release or compiled release in a file."""
    if not isinstance(doc, dict):
        return
    for i, record in enumerate(doc.get("records") or []):
        if not isinstance(record, dict):
            continue
        if isinstance(record.get("compiledRelease"), dict):
            yield f"records[{i}].compiledRelease", record["compiledRelease"]
        for j, release in enumerate(record.get("releases") or []):
            if isinstance(release, dict) and "ocid" in release and len(release) > 3:
                yield f"records[{i}].releases[{j}]", release
    for j, release in enumerate(doc.get("releases") or []):
        if isinstance(release, dict) and "ocid" in release and len(release) > 3:
            yield f"releases[{j}]", release
    if isinstance(doc.get("compiledRelease"), dict):
        yield "compiledRelease", doc["compiledRelease"]
    if "ocid" in doc and not {"releases", "records", "compiledRelease"} & doc.keys():
        yield "", doc


def items_in(node: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object in an ``items`` array anywhere under a release.

    Besides ``tender.items``, ``awards[].items`` and ``contracts[].items`` this finds the
    publishers' non-standard places: Armenia's ``planning(.[]).tender.items``, Paraguay's
    ``tender.lots[].items`` and Taiwan's ``awards.items`` (awards as an object).
    """
    if isinstance(node, dict):
        for key, value in node.items():
            sub = f"{path}.{key}" if path else key
            if key == "items" and isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, dict):
                        yield f"{sub}[{i}]", item
            else:
                yield from items_in(value, sub)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from items_in(value, f"{path}[{i}]")


def process_title(release: dict[str, Any]) -> str:
    """tender.title, else tender.description, else the release ``name`` (Taiwan)."""
    tender = release.get("tender")
    if isinstance(tender, dict):
        for key in ("title", "description"):
            if text := clean(tender.get(key)):
                return text[:500]
    return clean(release.get("name"))[:500]


def _texts(item: dict[str, Any]) -> list[tuple[str, str]]:
    """(path suffix, text): the description, else its _en/_fr variants (Canada buyandsell)."""
    if text := clean(item.get("description")):
        return [("", text)]
    variants = (
        (f".description_{lang}", clean(item.get(f"description_{lang}"))) for lang in ("en", "fr")
    )
    return [(suffix, text) for suffix, text in variants if text]


def extract(root: Path = ROOT) -> list[Candidate]:
    """Every distinct item in the samples, first occurrence first (files in path order)."""
    seen: dict[tuple[str, ...], dict[str, Any]] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = path.relative_to(root).as_posix()
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            print(f"skipped (not JSON): {relative}", file=sys.stderr)
            continue
        for prefix, release in release_likes(doc):
            title = process_title(release)
            for item_path, item in items_in(release, prefix):
                for key, row in _rows(item, item_path):
                    row.update(publisher=publisher_of(relative), file=relative)
                    row["ocid"] = clean(release.get("ocid"))
                    if not row["description"] or row["description"].lower() in PLACEHOLDERS:
                        row["process_title"] = title
                    if key in seen:
                        seen[key]["occurrences"] += 1
                    else:
                        seen[key] = row
    return [
        Candidate(id="it-" + hashlib.sha1("\x1f".join(k).encode()).hexdigest()[:10], **row)
        for k, row in seen.items()
    ]


def _rows(item: dict[str, Any], item_path: str) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
    """(dedup key, row) for an item and for each of its additional classifications.

    Item rows are deduplicated on (scheme, id, description). Additional classifications carry
    no description of their own, so their rows are deduplicated on (scheme, id, text).
    """
    classification = item.get("classification")
    if isinstance(classification, list):
        classification = classification[0] if classification else {}
    if not isinstance(classification, dict):
        classification = {}
    scheme, code = clean(classification.get("scheme")), clean(classification.get("id"))
    label = clean(classification.get("description"))
    for suffix, text in _texts(item) or [("", "")]:
        yield (
            ("item", scheme, code, text),
            _row(item_path + suffix, scheme, code, label, text),
        )
    for k, extra in enumerate(item.get("additionalClassifications") or []):
        if not isinstance(extra, dict) or not clean(extra.get("description")):
            continue
        a_scheme, a_code, a_label = (clean(extra.get(f)) for f in ("scheme", "id", "description"))
        yield (
            ("additional", a_scheme, a_code, a_label),
            _row(f"{item_path}.additionalClassifications[{k}]", a_scheme, a_code, a_label, ""),
        )


def _row(item_path: str, scheme: str, code: str, label: str, text: str) -> dict[str, Any]:
    return {
        "item_path": item_path,
        "scheme": scheme,
        "code": code,
        "classification_description": label,
        "description": text,
        "process_title": "",
        "occurrences": 1,
    }


POPULATION_FIELDS = (
    "id",
    "group",
    "family",
    "publisher",
    "file",
    "ocid",
    "item_path",
    "occurrences",
    "language",
    "plausibly_risky",
)


def effective_text(c: Candidate) -> str:
    """The text a reader identifies the item by: description, else classification, else title."""
    description = "" if c.description.lower() in PLACEHOLDERS else c.description
    return description or c.classification_description or c.process_title


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def _base_path(item_path: str) -> str:
    return re.sub(r"\.description_(en|fr)$", "", item_path)


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, key: str) -> str:
        self.parent.setdefault(key, key)
        while self.parent[key] != key:
            self.parent[key] = self.parent[self.parent[key]]
            key = self.parent[key]
        return key

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def grouping(candidates: list[Candidate], languages: dict[str, str]) -> dict[str, tuple[str, str]]:
    """id -> (group, family), each named by its smallest member id.

    A *group* gathers near-duplicates in one language: the same normalised effective text from
    the same publisher (e.g. Paraguay's items published once with and once without a scheme
    name, or Nigeria's pairs of items that differ only in a malformed code), or the same item
    seen in several releases. One item per group is drawn. A *family* gathers whole processes:
    every group sharing an ``ocid`` or an item (Canada's description_en / description_fr,
    Armenia's item and its CPV-AM classification). The split keeps families together, so
    ``heldout`` measures items from tenders the tuning never saw.
    """
    groups, families = _UnionFind(), _UnionFind()
    first_by_key: dict[tuple[str, ...], str] = {}
    for c in candidates:
        language = languages[c.id]
        keys = [
            ("text", c.publisher, language, _norm(effective_text(c))),
            ("path", language, c.file, _base_path(c.item_path)),
        ]
        for key in keys:
            if key in first_by_key:
                groups.union(c.id, first_by_key[key])
                families.union(c.id, first_by_key[key])
            else:
                first_by_key[key] = c.id
        for key in (("item", c.file, _base_path(c.item_path)), ("ocid", c.publisher, c.ocid)):
            if key in first_by_key:
                families.union(c.id, first_by_key[key])
            else:
                first_by_key[key] = c.id
    return {c.id: (groups.find(c.id), families.find(c.id)) for c in candidates}


def read_population(path: Path = POPULATION) -> list[dict[str, str]]:
    """The screened population: one row per candidate with its language and risk screening."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def draw(rows: list[dict[str, str]], seed: int = SEED) -> list[str]:
    """The ids of the sample: per language, every plausibly risky group plus seeded ordinary ones.

    One item per group (its smallest id) is eligible. Languages with at most
    ``KEEP_WHOLE_UP_TO`` groups are kept whole. Otherwise the language's groups, sorted by id,
    are shuffled with ``random.Random(f"{seed}:{language}")``; every group with a plausibly risky
    member is kept, and the first ``ORDINARY_PER_LANGUAGE`` other groups in shuffled order are
    added. The shuffle does not depend on the screening, so correcting one screening decision
    moves at most one ordinary item.
    """
    chosen: list[str] = []
    for language in sorted({r["language"] for r in rows}):
        members: dict[str, list[dict[str, str]]] = {}
        for row in rows:
            if row["language"] == language:
                members.setdefault(row["group"], []).append(row)
        groups = sorted(members)
        if len(groups) <= KEEP_WHOLE_UP_TO:
            chosen.extend(groups)
            continue
        random.Random(f"{seed}:{language}").shuffle(groups)
        risky = {g for g in groups if any(r["plausibly_risky"] == "yes" for r in members[g])}
        ordinary = [g for g in groups if g not in risky]
        chosen.extend(risky)
        chosen.extend(ordinary[:ORDINARY_PER_LANGUAGE])
    return sorted(chosen)


def split(rows: list[dict[str, str]], seed: int = SEED) -> dict[str, str]:
    """id -> "tuning" | "heldout": about 60/40 within each language, whole families together.

    Languages are taken in name order. Within one, families are ordered by a seeded hash of
    their id; a family already placed through an earlier language keeps its split, and each
    other family goes to ``tuning`` when that brings the language's tuning count closer to
    round(0.6 * n), else to ``heldout``.
    """
    result: dict[str, str] = {}
    by_family: dict[str, str] = {}
    for language in sorted({r["language"] for r in rows}):
        members: dict[str, list[str]] = {}
        for row in rows:
            if row["language"] == language:
                members.setdefault(row["family"], []).append(row["id"])
        target = round(0.6 * sum(len(ids) for ids in members.values()))
        tuning = sum(len(ids) for f, ids in members.items() if by_family.get(f) == "tuning")
        order = sorted(members, key=lambda f: hashlib.sha256(f"{seed}:{f}".encode()).hexdigest())
        for family in order:
            if family not in by_family:
                size = len(members[family])
                closer = abs(tuning + size - target) < abs(tuning - target)
                by_family[family] = "tuning" if closer else "heldout"
                tuning += size if closer else 0
            for item_id in members[family]:
                result[item_id] = by_family[family]
    return result


def main(argv: list[str]) -> int:
    """Command-line entry: ``extract`` or ``draw``."""
    if argv[:1] == ["extract"]:
        for candidate in extract():
            print(json.dumps(asdict(candidate), ensure_ascii=False))
        return 0
    if argv[:1] == ["draw"]:
        rows = read_population()
        chosen = set(draw(rows))
        splits = split([r for r in rows if r["id"] in chosen])
        for item_id in sorted(chosen):
            print(item_id, splits[item_id])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
