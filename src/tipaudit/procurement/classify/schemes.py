"""Item classification schemes as publishers really write them, and their codes.

OCDS names eleven schemes (CPV, CPVS, GSIN, UNSPSC, CPC, OKDP, OKPD, CUCOP, NAICS, PSC, HS), but
real data spells them ``cpv``, ``CPV-AM``, Ukraine's DK021 and DKPP in Cyrillic, a catalogue's
full name, a budget line's label, or nothing. :func:`canonical_scheme` maps a scheme name (and,
when the name says nothing, the shape of the code) to the scheme whose crosswalk applies:

=========  ==================================================================================
``CPV``     CPV 2008 (also Ukraine's ДК 021:2015, which copies it); codes must be real CPV codes
``CPV-AM``  national extensions of CPV (Armenia): the most specific real CPV code they start with
``UNSPSC``  UNSPSC, and Paraguay's DNCP catalogue (UNSPSC code + ``-NNN`` suffix)
``CPA``     CPA 2008 and the national classifications built on it: Ukraine's DKPP
            (DK 016:2010), Russia's OKPD2
``CPC``     UN Central Product Classification (Taiwan uses the provisional CPC)
``HS``      Harmonized System headings
``GSIN``    Canada's GSIN and the US PSC/FSC (goods: ``N`` + 4-digit federal supply class)
``COG-MX``  Mexico's *Clasificador por Objeto del Gasto* (budget partidas; CUCoP codes start
            with the partida; GACM writes the partida's label as scheme and ``6220``-style code)
``NAICS``   North American Industry Classification System
=========  ==================================================================================

Anything else (``FAM-GOB-JAL``, ``OKDP``, ``CPVS``) has no crosswalk: only the text is used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from tipaudit.procurement.classify.text import normalise

__all__ = ["CROSSWALK_SCHEMES", "SchemeCode", "canonical_scheme", "scheme_code"]

#: The schemes that have a crosswalk table.
CROSSWALK_SCHEMES = frozenset(
    {"CPV", "CPV-AM", "UNSPSC", "CPA", "CPC", "HS", "GSIN", "COG-MX", "NAICS"}
)

#: Scheme names (case-folded, without punctuation or spaces) → crosswalk scheme. Cyrillic
#: spellings are those of Ukrainian and Russian data (DK021, DKPP, DK016, OKPD, OKDP).
_ALIASES: dict[str, str] = {
    "cpv": "CPV",
    "cpv2008": "CPV",
    "cpvcode": "CPV",
    "dk021": "CPV",
    "dk0212015": "CPV",
    "\u0434\u043a021": "CPV",
    "\u0434\u043a0212015": "CPV",
    "cpvam": "CPV-AM",
    "cpvarmenia": "CPV-AM",
    "unspsc": "UNSPSC",
    "unspsccode": "UNSPSC",
    "ungm": "UNSPSC",
    "cpa": "CPA",
    "cpa2008": "CPA",
    "cpa21": "CPA",
    "dkpp": "CPA",
    "dk016": "CPA",
    "dk0162010": "CPA",
    "okpd": "CPA",
    "okpd2": "CPA",
    "\u0434\u043a\u043f\u043f": "CPA",
    "\u0434\u043a016": "CPA",
    "\u0434\u043a0162010": "CPA",
    "\u043e\u043a\u043f\u0434": "CPA",
    "\u043e\u043a\u043f\u04342": "CPA",
    "cpc": "CPC",
    "cpc2": "CPC",
    "cpc21": "CPC",
    "cpcprov": "CPC",
    "cpc10": "CPC",
    "cpc11": "CPC",
    "hs": "HS",
    "hs2012": "HS",
    "hs2017": "HS",
    "hs2022": "HS",
    "hscode": "HS",
    "harmonizedsystem": "HS",
    "gsin": "GSIN",
    "psc": "GSIN",
    "fsc": "GSIN",
    "cucop": "COG-MX",
    "cog": "COG-MX",
    "cogmx": "COG-MX",
    "partida": "COG-MX",
    "naics": "NAICS",
    "cpvs": "CPVS",
    "okdp": "OKDP",
    "\u043e\u043a\u0434\u043f": "OKDP",
}
_KEY = re.compile(r"[\W_]+")
_PARAGUAY_CATALOGUE = "catalogo de productos, bienes y servicios de la direccion nacional"
_PARAGUAY_CODE = re.compile(r"\d{8}-\d{3,4}")
_CPV_WITH_CHECK_DIGIT = re.compile(r"\d{8}-\d")
_COG_PARTIDA = re.compile(r"[1-9]\d{3}")
_LABEL_AS_SCHEME = re.compile(r"[^\W\d_][^\d]*\s[^\d]*")


@dataclass(frozen=True, slots=True)
class SchemeCode:
    """A scheme name resolved to a crosswalk scheme, and the code cleaned for lookup."""

    scheme: str
    #: Upper-case letters and digits only (``"18110000"``, ``"1412301300"``, ``"N8405"``).
    code: str
    #: How the scheme was decided, for the evidence (``"scheme 'cpv'"``, ``"code shape"``).
    reason: str


def canonical_scheme(scheme: str | None, code: str | None = None) -> str | None:
    """The crosswalk scheme for a scheme name as published (``None`` if unknown or empty).

    An empty scheme is resolved from the code's shape only when that is unambiguous:
    ``NNNNNNNN-N`` is CPV with its check digit, ``NNNNNNNN-NNN`` Paraguay's catalogue (UNSPSC).
    A scheme that is a label in words with a 4-digit code is a Mexican budget partida (COG).
    """
    name = (scheme or "").strip()
    raw_code = (code or "").strip()
    if not name:
        if _PARAGUAY_CODE.fullmatch(raw_code):
            return "UNSPSC"
        return "CPV" if _CPV_WITH_CHECK_DIGIT.fullmatch(raw_code) else None
    found = _ALIASES.get(_KEY.sub("", name.casefold()))
    if found is None and normalise(name).startswith(_PARAGUAY_CATALOGUE):
        found = "UNSPSC"
    if found is None and _COG_PARTIDA.fullmatch(raw_code) and _LABEL_AS_SCHEME.fullmatch(name):
        found = "COG-MX"
    return found


@lru_cache(maxsize=1 << 16)
def scheme_code(scheme: str | None, code: str | None) -> SchemeCode | None:
    """The canonical scheme and cleaned code, or ``None`` when there is nothing to look up."""
    canonical = canonical_scheme(scheme, code)
    raw = (code or "").strip()
    if canonical is None or not raw:
        return None
    if canonical == "GSIN":
        cleaned = _KEY.sub("", raw).upper()
        if cleaned.isdigit():  # a US PSC/FSC goods code: the GSIN form is "N" + the class
            cleaned = "N" + cleaned
    elif canonical == "UNSPSC":
        cleaned = _KEY.sub("", raw.split("-")[0])
    else:
        cleaned = _KEY.sub("", raw).upper()
    if not cleaned:
        return None
    if scheme and scheme.strip():
        reason = f"scheme {scheme.strip()[:60]!r}"
    else:
        reason = "no scheme; code shape"
    return SchemeCode(canonical, cleaned, reason)
