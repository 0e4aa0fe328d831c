"""List entities and queries: the two sides of a screening comparison.

Both are frozen and hold plain strings: countries as ISO 3166-1 alpha-2 codes, identifiers as
``scheme:value`` (``passport:X123``; a bare value has scheme ``id``), birth dates as ISO
``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``. :func:`normalise_identifier` and
:func:`normalise_date` put other spellings into those forms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Schema = Literal["Person", "Organization", "Company", "LegalEntity"]
SCHEMAS: tuple[Schema, ...] = ("Person", "Organization", "Company", "LegalEntity")

#: Identifier schemes that identify a means of contact rather than the person or body:
#: shared by households and offices, so a weaker signal.
CONTACT_SCHEMES: frozenset[str] = frozenset({"email", "phone"})

_ID_VALUE = re.compile(r"[^0-9a-z@.]+")
_DATE = re.compile(r"^\s*(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?\s*$")
_US_DATE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})\s*$")


@dataclass(frozen=True, slots=True)
class ListEntity:
    """An entry on a watchlist: a person or body, with its names and why it is listed."""

    id: str
    schema: Schema
    names: tuple[str, ...]
    countries: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ()
    birth_dates: tuple[str, ...] = ()
    list_id: str = ""
    reason: str = ""
    source_url: str = ""


@dataclass(frozen=True, slots=True)
class Query:
    """A person or body to screen against the lists."""

    id: str
    schema: Schema
    names: tuple[str, ...]
    countries: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ()
    birth_dates: tuple[str, ...] = ()


Record = ListEntity | Query


def normalise_identifier(value: str, scheme: str = "id") -> str:
    """``scheme:value`` with the value casefolded and stripped of spaces, dashes and slashes.

    An empty value gives an empty string (callers drop it).
    """
    if ":" in value and scheme == "id":
        scheme, value = value.split(":", 1)
    cleaned = _ID_VALUE.sub("", value.casefold()[:200])
    if scheme.casefold() == "phone":
        cleaned = re.sub(r"\D", "", cleaned)
    if not cleaned:
        return ""
    return f"{scheme.strip().casefold() or 'id'}:{cleaned}"


def identifier_scheme(identifier: str) -> str:
    """The scheme part of a normalised identifier."""
    return identifier.split(":", 1)[0] if ":" in identifier else "id"


def normalise_date(value: str) -> str:
    """An ISO date (``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD``) from ISO-like or US ``M/D/Y`` text.

    Two-digit US years above the current century's 30 are read as 19xx. Unreadable text
    gives an empty string.
    """
    match = _DATE.match(value)
    if match:
        year, month, day = match.groups()
        parts = [year] + [f"{int(p):02d}" for p in (month, day) if p]
        return "-".join(parts)
    match = _US_DATE.match(value)
    if match:
        month, day, year = match.groups()
        if len(year) == 2:
            year = f"{'19' if int(year) > 30 else '20'}{year}"
        return f"{year}-{int(month):02d}-{int(day):02d}"
    return ""
