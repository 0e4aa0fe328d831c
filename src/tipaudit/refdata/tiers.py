"""US State Department Trafficking in Persons (TIP) Report tier placements, by report year.

The bundled series (report years 1999-2015) comes from the academic compilation in
``map_tiers.csv`` (Kelley, *Scorecard Diplomacy*). Later years are not available as data, so
tipaudit imports CSV files that **add** report years to the series (:func:`parse_tiers_csv`).

Accepted CSV (UTF-8, header row, column names in any case and order):

- ``year`` (or ``report_year``): the TIP Report year, e.g. ``2024`` (required);
- ``tier``: the placement (required), either a label — ``Tier 1``, ``Tier 2``,
  ``Tier 2 Watch List`` (also ``Watch List``, ``Tier 2 WL``), ``Tier 3`` — or a numeric code
  in the ``map_tiers.csv`` coding: ``1`` = Tier 1, ``2`` = Tier 2, ``3`` = Tier 2 Watch List,
  ``4`` = Tier 3; empty, ``NA``, ``N/A``, ``Special Case`` and ``Not ranked`` mean no placement;
- ``iso`` (or ``iso3``, ``alpha3``, ``code``): an ISO 3166-1 code, and/or ``countryname``
  (or ``country``): the country's name (at least one of the two). A valid code wins; otherwise
  the name must resolve to a country.

Other columns (such as ``ccode``) are ignored. The codes ``2.5`` and ``666`` of the raw 2015
coding (where ``3`` means Tier 3) are refused, because a plain ``3`` is ambiguous between codings.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from tipaudit.core.countries import get_country
from tipaudit.errors import ValidationError
from tipaudit.refdata._io import (
    ReferenceDataError,
    decode_utf8,
    dump_records,
    join_limited,
    load_document,
)
from tipaudit.refdata._resolve import alpha3_of, resolve_names

__all__ = [
    "TierPlacement",
    "TipTier",
    "TipTierSeries",
    "parse_tiers_csv",
    "tiers_from_json",
    "tiers_to_json",
]

TIERS_FORMAT = "tipaudit.refdata.tip-tiers"
FORMAT_VERSION = 1
_FIELDS = ("iso3", "country", "report_year", "tier")
FIRST_REPORT_YEAR = 1999
LAST_PLAUSIBLE_YEAR = 2100


class TipTier(StrEnum):
    """A TIP Report tier placement, by its label."""

    TIER_1 = "Tier 1"
    TIER_2 = "Tier 2"
    TIER_2_WATCH_LIST = "Tier 2 Watch List"
    TIER_3 = "Tier 3"


_NUMERIC_CODES: Mapping[str, TipTier] = MappingProxyType(
    {
        "1": TipTier.TIER_1,
        "2": TipTier.TIER_2,
        "3": TipTier.TIER_2_WATCH_LIST,
        "4": TipTier.TIER_3,
    }
)
_LABELS: Mapping[str, TipTier] = MappingProxyType(
    {
        "tier 1": TipTier.TIER_1,
        "tier 2": TipTier.TIER_2,
        "tier 2 watch list": TipTier.TIER_2_WATCH_LIST,
        "tier 2 watchlist": TipTier.TIER_2_WATCH_LIST,
        "tier 2 wl": TipTier.TIER_2_WATCH_LIST,
        "watch list": TipTier.TIER_2_WATCH_LIST,
        "tier 3": TipTier.TIER_3,
    }
)
_NO_PLACEMENT = frozenset({"", "na", "n/a", "special case", "not ranked", "none"})
_OTHER_CODING = frozenset({"2.5", "666"})
_YEAR_COLUMNS = ("year", "report_year")
_NAME_COLUMNS = ("countryname", "country")
_CODE_COLUMNS = ("iso", "iso3", "alpha3", "code")


@dataclass(frozen=True, slots=True, order=True)
class TierPlacement:
    """One country's tier in one TIP Report year (``tier`` is ``None`` when not ranked)."""

    iso3: str
    report_year: int
    #: The country's name as given in the source.
    country: str
    tier: TipTier | None


@dataclass(frozen=True, slots=True)
class TipTierSeries:
    """Tier placements by country and report year."""

    placements: tuple[TierPlacement, ...]

    def __len__(self) -> int:
        return len(self.placements)

    def __iter__(self) -> Iterator[TierPlacement]:
        return iter(self.placements)

    @property
    def edition(self) -> str:
        """The report years covered, e.g. ``"1999-2015"``."""
        years = self.report_years()
        if not years:
            return ""
        return str(years[0]) if years[0] == years[-1] else f"{years[0]}-{years[-1]}"

    def report_years(self) -> tuple[int, ...]:
        return tuple(sorted({p.report_year for p in self.placements}))

    def countries(self) -> tuple[str, ...]:
        return tuple(sorted({p.iso3 for p in self.placements}))

    def for_country(self, iso3: str) -> tuple[TierPlacement, ...]:
        code = iso3.strip().upper()
        return tuple(sorted(p for p in self.placements if p.iso3 == code))

    def merged_with(self, newer: TipTierSeries) -> TipTierSeries:
        """This series with ``newer``'s placements added; ``newer`` wins for the same year."""
        by_key = {(p.iso3, p.report_year): p for p in self.placements}
        by_key.update({(p.iso3, p.report_year): p for p in newer.placements})
        return TipTierSeries(tuple(sorted(by_key.values())))


def parse_tier(value: str, *, where: str) -> TipTier | None:
    """A tier label or ``map_tiers.csv`` numeric code → :class:`TipTier` (``None``: not ranked)."""
    text = " ".join(value.split()).lower()
    if text in _NO_PLACEMENT:
        return None
    if text in _LABELS:
        return _LABELS[text]
    if text in _NUMERIC_CODES:
        return _NUMERIC_CODES[text]
    if text in _OTHER_CODING:
        raise ValidationError(
            f"{where}: tier code {value!r} belongs to the raw 2015 coding (2.5 = Watch List, "
            "3 = Tier 3, 666 = special case), in which a plain 3 means something else",
            hint="write tiers as labels: Tier 1, Tier 2, Tier 2 Watch List, Tier 3",
        )
    raise ValidationError(
        f"{where}: unknown tier code {value!r}",
        hint="use Tier 1, Tier 2, Tier 2 Watch List, Tier 3 (or 1-4 in the map_tiers coding; "
        "empty or NA for not ranked)",
    )


@dataclass(frozen=True, slots=True)
class _Columns:
    year: int
    tier: int
    name: int | None
    code: int | None
    width: int


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    code: str | None
    name: str
    year: int
    tier: TipTier | None


def parse_tiers_csv(data: bytes, *, origin: str) -> TipTierSeries:
    """Read a tier CSV (see the module documentation for the accepted columns and codes)."""
    text = decode_utf8(data, origin=origin)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        columns = _header(next(reader), origin=origin)
        rows = [r for r in (_row(cells, reader.line_num, columns, origin) for cells in reader) if r]
    except StopIteration:
        raise ValidationError(f"{origin}: the file is empty") from None
    except csv.Error as exc:
        raise ValidationError(
            f"{origin}: line {reader.line_num}: not readable CSV ({exc})"
        ) from None
    if not rows:
        raise ValidationError(f"{origin}: no data rows below the header")
    resolved = resolve_names((r.name for r in rows if r.code is None), origin=origin)
    seen: dict[tuple[str, int], int] = {}
    placements: list[TierPlacement] = []
    for row in rows:
        iso3 = row.code or resolved[row.name]
        key = (iso3, row.year)
        if key in seen:
            raise ValidationError(
                f"{origin}: line {row.line}: a second placement for {iso3} in {row.year} "
                f"(first on line {seen[key]})"
            )
        seen[key] = row.line
        country = row.name or get_country(iso3).name
        placements.append(
            TierPlacement(iso3=iso3, report_year=row.year, country=country, tier=row.tier)
        )
    return TipTierSeries(tuple(sorted(placements)))


def _header(header: list[str], *, origin: str) -> _Columns:
    names = [h.strip().lower().removeprefix("\ufeff") for h in header]
    year = _column(names, _YEAR_COLUMNS)
    tier = _column(names, ("tier",))
    name = _column(names, _NAME_COLUMNS)
    code = _column(names, _CODE_COLUMNS)
    missing = [
        label
        for label, absent in (
            ("year", year is None),
            ("tier", tier is None),
            ("countryname or iso", name is None and code is None),
        )
        if absent
    ]
    if missing or year is None or tier is None:
        raise ValidationError(
            f"{origin}: line 1: missing required column(s) {', '.join(missing)} "
            f"(found {', '.join(repr(h) for h in header) or 'none'})",
            hint="columns: countryname, iso, year, tier",
        )
    return _Columns(year=year, tier=tier, name=name, code=code, width=len(header))


def _row(cells: list[str], line: int, columns: _Columns, origin: str) -> _Row | None:
    if not any(cell.strip() for cell in cells):
        return None
    where = f"{origin}: line {line}"
    if len(cells) != columns.width:
        raise ValidationError(f"{where}: {len(cells)} fields, the header has {columns.width}")
    name = cells[columns.name].strip() if columns.name is not None else ""
    code = alpha3_of(cells[columns.code].strip()) if columns.code is not None else None
    if code is None and not name:
        raise ValidationError(f"{where}: neither a known ISO code nor a country name")
    return _Row(
        line=line,
        code=code,
        name=name,
        year=_year(cells[columns.year], where=where),
        tier=parse_tier(cells[columns.tier], where=where),
    )


def _column(names: list[str], candidates: tuple[str, ...]) -> int | None:
    for candidate in candidates:
        if candidate in names:
            return names.index(candidate)
    return None


def _year(value: str, *, where: str) -> int:
    text = value.strip()
    if not text.isdigit() or not FIRST_REPORT_YEAR <= int(text) <= LAST_PLAUSIBLE_YEAR:
        raise ValidationError(
            f"{where}: year {value!r} is not a TIP Report year ({FIRST_REPORT_YEAR} or later)"
        )
    return int(text)


def tiers_to_json(series: TipTierSeries) -> bytes:
    header = {
        "format": TIERS_FORMAT,
        "version": FORMAT_VERSION,
        "edition": series.edition,
        "years": "TIP Report years",
        "fields": list(_FIELDS),
    }
    rows = [
        [p.iso3, p.country, p.report_year, p.tier.value if p.tier else None]
        for p in series.placements
    ]
    return dump_records(header, rows)


def tiers_from_json(data: bytes, *, origin: str) -> TipTierSeries:
    doc = load_document(data, origin=origin, expected=TIERS_FORMAT, version=FORMAT_VERSION)
    if doc.get("fields") != list(_FIELDS):
        raise ReferenceDataError(f"{origin}: unexpected fields {doc.get('fields')!r}")
    try:
        placements = tuple(
            TierPlacement(
                iso3=iso3,
                country=country,
                report_year=int(year),
                tier=TipTier(tier) if tier else None,
            )
            for iso3, country, year, tier in doc["records"]
        )
    except (TypeError, ValueError) as exc:
        raise ReferenceDataError(f"{origin}: a record has the wrong shape ({exc})") from None
    return TipTierSeries(tuple(sorted(placements)))


def describe_codes() -> str:
    """One line listing the accepted tier codes, for help texts."""
    return join_limited(
        [*(t.value for t in TipTier), "1-4 (map_tiers coding)", "empty/NA (not ranked)"]
    )
