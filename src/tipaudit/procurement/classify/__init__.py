"""What is bought: procurement items → ILAB goods and UK PPN 02/23 high-risk industries.

No public crosswalk exists from procurement classification codes to the US DOL ILAB *List of
Goods Produced by Child Labor or Forced Labor* or to PPN 02/23's high-risk industries, so this
package holds one as reviewed data, every entry with a short ``why``:

- ``crosswalk/cpv.yaml``, ``crosswalk/unspsc.yaml``, ``crosswalk/other.yaml`` — code prefixes of
  CPV, UNSPSC, HS, CPA (ДКПП), CPC, GSIN/PSC, Mexico's COG/CUCoP and NAICS;
- ``keywords/<language>.yaml`` — terms (with stems and plurals spelled out) and negative terms
  for descriptions in English, Spanish, French, Romanian, Ukrainian, Russian, Chinese and
  Armenian (Latin transliteration and Armenian script);
- ``data/`` — the vendored CPV 2008 and UNSPSC vocabularies (``scripts/vendor_classifications.py``).

Typical use::

    classifier = Classifier.load()          # once: reads and validates every data file
    result = classifier.classify_item("CPV", "18110000-3", "Uniformes de algodón")
    result.good_labels                       # frozenset({'Garments', 'Cotton'})
    [m.evidence for m in result.industries]  # ["CPV 18110000 'Occupational clothing' → ..."]

See ``docs/classification.md`` for the method, the files and how to correct a mapping, and
:mod:`tipaudit.procurement.classify.evaluate` for the measurement against the hand-labelled set.
"""

from __future__ import annotations

from tipaudit.procurement.classify.classifier import (
    CATEGORY_INDUSTRIES,
    Classifier,
    bundled_ilab_goods,
)
from tipaudit.procurement.classify.model import (
    INDUSTRIES,
    CrosswalkDataError,
    ItemClassification,
    Match,
    Via,
)
from tipaudit.procurement.classify.schemes import canonical_scheme

__all__ = [
    "CATEGORY_INDUSTRIES",
    "INDUSTRIES",
    "Classifier",
    "CrosswalkDataError",
    "ItemClassification",
    "Match",
    "Via",
    "bundled_ilab_goods",
    "canonical_scheme",
]
