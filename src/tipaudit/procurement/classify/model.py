"""The results of classifying one procurement item, and the fixed industry vocabulary."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tipaudit.errors import ConfigurationError

__all__ = [
    "INDUSTRIES",
    "NONE",
    "CrosswalkDataError",
    "ItemClassification",
    "Match",
    "Via",
]

#: The high-risk industries of UK PPN 02/23 as tipaudit names them (see ``docs/item-labels.md``
#: for the reading of each). The data files may also say ``none``: "identified, and in none of
#: these" — it is never reported as an industry.
INDUSTRIES: frozenset[str] = frozenset(
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
    }
)

#: The pseudo-industry of an item identified as outside every high-risk industry.
NONE = "none"

#: How a label was found: from the item's classification code (or its classification text
#: being a code's official label), from a keyword in its text, or from the OCDS
#: ``mainProcurementCategory`` when nothing else placed the item.
Via = Literal["code", "keyword", "category"]


class CrosswalkDataError(ConfigurationError):
    """A crosswalk or keyword data file is malformed; the message names the file and entry."""

    code = "crosswalk_data_error"


@dataclass(frozen=True, slots=True)
class Match:
    """One label given to an item, with the evidence for it.

    ``label`` is an ILAB good name (2022 edition spelling) or an industry of :data:`INDUSTRIES`
    (``none`` only in :attr:`ItemClassification.not_at_risk`). ``evidence`` is a sentence a
    person can check, e.g. ``CPV 18110000 'Occupational clothing' → Garments`` or
    ``keyword 'algodón' (es) in description``; ``source_file`` the data file that holds the
    mapping (``crosswalk/cpv.yaml``, ``keywords/es.yaml``, ...).
    """

    label: str
    via: Via
    evidence: str
    source_file: str


@dataclass(frozen=True, slots=True)
class ItemClassification:
    """What an item is, as far as the crosswalk can tell.

    ``goods`` and ``industries`` hold one :class:`Match` per label and way of finding it (a
    label found both by code and by keyword appears twice). ``not_at_risk`` holds the matches
    that identified the item as outside every high-risk industry (e.g. ``CPV 79111000 'Legal
    advisory services' → none``); they explain why nothing was flagged. ``notes`` says what was
    ignored and why (an invalid code, a weak code overruled by the text, a blocked keyword).
    """

    goods: tuple[Match, ...] = ()
    industries: tuple[Match, ...] = ()
    not_at_risk: tuple[Match, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def good_labels(self) -> frozenset[str]:
        """The distinct ILAB goods."""
        return frozenset(m.label for m in self.goods)

    @property
    def industry_labels(self) -> frozenset[str]:
        """The distinct high-risk industries (never ``none``)."""
        return frozenset(m.label for m in self.industries)

    @property
    def is_risky(self) -> bool:
        """Whether any ILAB good or high-risk industry was found."""
        return bool(self.goods or self.industries)

    def explain(self) -> list[str]:
        """One line per match and note, for people."""
        lines = [f"{m.label}: {m.evidence}" for m in (*self.goods, *self.industries)]
        lines += [f"not at risk: {m.evidence}" for m in self.not_at_risk]
        lines += [f"note: {note}" for note in self.notes]
        return lines
