"""The hand-labelled evaluation set of real procurement item descriptions.

``labelled_items.csv`` holds items drawn from the real OCDS samples in ``../shared`` and labelled
by a person (see ``docs/item-labels.md``) with the ILAB goods they are or contain and the UK
PPN 02/23 high-risk industries they belong to. It was committed before the item crosswalk was
written, so that the crosswalk can be evaluated honestly: tune on ``split == "tuning"`` only
and look at ``heldout`` once, to report.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

LABELLED_ITEMS = Path(__file__).with_name("labelled_items.csv")

Split = Literal["tuning", "heldout"]

FIELDS = (
    "id",
    "split",
    "publisher",
    "language",
    "scheme",
    "code",
    "classification_description",
    "description",
    "process_title",
    "ilab_goods",
    "industries",
    "notes",
)

#: Languages of the item text; ``other`` is text in Armenian script.
LANGUAGES = frozenset({"en", "es", "fr", "ro", "uk", "ru", "zh", "hy-Latn", "other"})

#: UK PPN 02/23 high-risk industries, plus ``none`` for items in none of them.
INDUSTRIES = frozenset(
    {
        "agriculture",
        "mining",
        "logging",
        "fishing",
        "construction",
        "manufacturing_electronics",
        "garments_textiles_footwear",
        "food_processing",
        "hospitality",
        "security_services",
        "cleaning_services",
        "catering",
        "logistics",
        "health_social_care",
        "none",
    }
)


@dataclass(frozen=True, slots=True)
class LabelledItem:
    """One distinct real item and its labels."""

    id: str
    split: Split
    publisher: str
    language: str
    scheme: str
    code: str
    classification_description: str
    description: str
    process_title: str
    ilab_goods: tuple[str, ...]
    industries: tuple[str, ...]
    notes: str

    @property
    def text(self) -> str:
        """Everything a classifier may read about the item, joined with `` | ``."""
        parts = (self.classification_description, self.description, self.process_title)
        return " | ".join(part for part in parts if part)


def _split_list(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(";") if part.strip())


def load_labelled_items(
    path: Path = LABELLED_ITEMS, *, split: Split | None = None
) -> list[LabelledItem]:
    """The labelled items in file order, optionally only one split.

    Raises ``ValueError`` when the header is not exactly :data:`FIELDS` or a row names an
    unknown split. Vocabulary checks (languages, goods, industries) live in the tests.
    """
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != FIELDS:
            raise ValueError(f"{path.name}: header must be {','.join(FIELDS)}")
        items = []
        for line, row in enumerate(reader, start=2):
            part = row["split"]
            if part not in get_args(Split):
                raise ValueError(f"{path.name} line {line}: unknown split {part!r}")
            items.append(
                LabelledItem(
                    id=row["id"],
                    split=part,  # type: ignore[arg-type]  # checked against Split above
                    publisher=row["publisher"],
                    language=row["language"],
                    scheme=row["scheme"],
                    code=row["code"],
                    classification_description=row["classification_description"],
                    description=row["description"],
                    process_title=row["process_title"],
                    ilab_goods=_split_list(row["ilab_goods"]),
                    industries=_split_list(row["industries"]),
                    notes=row["notes"],
                )
            )
    return [item for item in items if split is None or item.split == split]
