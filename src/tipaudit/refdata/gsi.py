"""Walk Free's Global Slavery Index (GSI): per-country prevalence, vulnerability and response.

Only the summary figures are kept, per country: estimated prevalence per 1,000 people, estimated
number of people in modern slavery, the total vulnerability score with its five dimensions, and
the government-response total with its five milestones. The workbook is © Minderoo Foundation,
all rights reserved: tipaudit vendors these figures with their citation only, and anyone can
import the workbook they download from Walk Free (:func:`parse_gsi_workbook`).
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as StdET
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import defusedxml

from tipaudit.errors import ConfigurationError, NotFoundError, ValidationError
from tipaudit.refdata._io import ReferenceDataError, dump_records, join_limited, load_document
from tipaudit.refdata._resolve import resolve_names

__all__ = [
    "GsiCountry",
    "GsiGovernmentResponse",
    "GsiIndex",
    "GsiVulnerability",
    "attribution",
    "gsi_from_json",
    "gsi_to_json",
    "parse_gsi_workbook",
]

GSI_FORMAT = "tipaudit.refdata.gsi"
FORMAT_VERSION = 1

LICENCE_NOTE = (
    "© Minderoo Foundation Limited, all rights reserved; no open licence. tipaudit vendors only "
    "the per-country summary figures, cited to Walk Free. Download the workbook from "
    "https://www.walkfree.org/global-slavery-index/downloads/ and import it with "
    "`tipaudit data import gsi FILE`."
)

#: Largest total uncompressed size of a workbook's parts (a guard against zip bombs).
MAX_UNCOMPRESSED_BYTES = 250 * 1024 * 1024

#: Header text (normalised: lower case, single spaces) that starts each column → field.
_COLUMNS: Mapping[str, str] = MappingProxyType(
    {
        "country": "country",
        "population": "population",
        "region": "region",
        "estimated prevalence of modern slavery per 1,000": "prevalence_per_1000",
        "estimated number of people in modern slavery": "estimated_number",
        "total vulnerability score": "vulnerability_total",
        "governance issues": "governance_issues",
        "lack of basic needs": "lack_of_basic_needs",
        "inequality": "inequality",
        "disenfranchised groups": "disenfranchised_groups",
        "effects of conflict": "effects_of_conflict",
        "government response total": "response_total",
        "survivors of slavery are identified and supported": "survivors_supported",
        "criminal justice mechanisms function effectively": "criminal_justice",
        "coordination occurs at the national and regional level": "coordination",
        "risk factors, such as attitudes, social systems": "risk_factors",
        "government and business stop sourcing goods and services": "supply_chains",
    }
)
_OPTIONAL = frozenset({"population", "region"})
_FIELDS = (
    "iso3",
    "country",
    "region",
    "population",
    "prevalence_per_1000",
    "estimated_number",
    "vulnerability_total",
    "governance_issues",
    "lack_of_basic_needs",
    "inequality",
    "disenfranchised_groups",
    "effects_of_conflict",
    "response_total",
    "survivors_supported",
    "criminal_justice",
    "coordination",
    "risk_factors",
    "supply_chains",
)
_INTEGER_FIELDS = frozenset({"population", "estimated_number"})
_MISSING_TEXT = frozenset({"", "-", "n/a", "na", "..", "not assessed"})
_SUMMARY_SHEET = re.compile(r"gsi\s*(\d{4})\s*summary data", re.IGNORECASE)
_EDITION_TEXT = re.compile(r"global slavery index\s*(\d{4})", re.IGNORECASE)
_HEADER_SCAN_ROWS = 30


def attribution(edition: str) -> str:
    """The citation Walk Free asks for."""
    return f"Walk Free {edition}, The Global Slavery Index {edition}, Minderoo Foundation"


@dataclass(frozen=True, slots=True)
class GsiVulnerability:
    """Vulnerability to modern slavery, scores 0-100 (higher: more vulnerable)."""

    total: float | None
    governance_issues: float | None
    lack_of_basic_needs: float | None
    inequality: float | None
    disenfranchised_groups: float | None
    effects_of_conflict: float | None


@dataclass(frozen=True, slots=True)
class GsiGovernmentResponse:
    """Government response, % of the maximum (``None``: not assessed, e.g. during conflict)."""

    total: float | None
    #: Milestone 1: survivors are identified and supported to exit and remain out of slavery.
    survivors_supported: float | None
    #: Milestone 2: criminal justice mechanisms function effectively to prevent modern slavery.
    criminal_justice: float | None
    #: Milestone 3: coordination nationally, regionally and across borders; accountability.
    coordination: float | None
    #: Milestone 4: risk factors (attitudes, social systems, institutions) are addressed.
    risk_factors: float | None
    #: Milestone 5: government and business stop sourcing goods and services made by forced labour.
    supply_chains: float | None


@dataclass(frozen=True, slots=True)
class GsiCountry:
    """The GSI summary figures for one country."""

    iso3: str
    #: The country's name as Walk Free publishes it (e.g. "Türkiye").
    country: str
    region: str | None
    population: int | None
    #: Estimated people in modern slavery per 1,000 population (``None``: no estimate).
    prevalence_per_1000: float | None
    estimated_number: int | None
    vulnerability: GsiVulnerability
    government_response: GsiGovernmentResponse


@dataclass(frozen=True, slots=True)
class GsiIndex:
    """One edition of the Global Slavery Index, keyed by alpha-3 code."""

    edition: str
    attribution: str
    licence_note: str
    countries: Mapping[str, GsiCountry]

    def __len__(self) -> int:
        return len(self.countries)

    def __iter__(self) -> Iterator[GsiCountry]:
        return iter(self.countries.values())

    def get(self, iso3: str) -> GsiCountry:
        code = iso3.strip().upper()
        try:
            return self.countries[code]
        except KeyError:
            raise NotFoundError(
                f"{code} is not in the Global Slavery Index {self.edition}"
            ) from None


# -- records <-> flat rows --------------------------------------------------------------------


def _from_flat(values: Mapping[str, Any]) -> GsiCountry:
    return GsiCountry(
        iso3=values["iso3"],
        country=values["country"],
        region=values["region"],
        population=values["population"],
        prevalence_per_1000=values["prevalence_per_1000"],
        estimated_number=values["estimated_number"],
        vulnerability=GsiVulnerability(
            total=values["vulnerability_total"],
            governance_issues=values["governance_issues"],
            lack_of_basic_needs=values["lack_of_basic_needs"],
            inequality=values["inequality"],
            disenfranchised_groups=values["disenfranchised_groups"],
            effects_of_conflict=values["effects_of_conflict"],
        ),
        government_response=GsiGovernmentResponse(
            total=values["response_total"],
            survivors_supported=values["survivors_supported"],
            criminal_justice=values["criminal_justice"],
            coordination=values["coordination"],
            risk_factors=values["risk_factors"],
            supply_chains=values["supply_chains"],
        ),
    )


def _to_flat(c: GsiCountry) -> list[Any]:
    v, r = c.vulnerability, c.government_response
    return [
        c.iso3,
        c.country,
        c.region,
        c.population,
        c.prevalence_per_1000,
        c.estimated_number,
        v.total,
        v.governance_issues,
        v.lack_of_basic_needs,
        v.inequality,
        v.disenfranchised_groups,
        v.effects_of_conflict,
        r.total,
        r.survivors_supported,
        r.criminal_justice,
        r.coordination,
        r.risk_factors,
        r.supply_chains,
    ]


def gsi_to_json(index: GsiIndex) -> bytes:
    header = {
        "format": GSI_FORMAT,
        "version": FORMAT_VERSION,
        "edition": index.edition,
        "attribution": index.attribution,
        "licence_note": index.licence_note,
        "fields": list(_FIELDS),
    }
    return dump_records(header, [_to_flat(c) for c in index.countries.values()])


def gsi_from_json(data: bytes, *, origin: str) -> GsiIndex:
    doc = load_document(data, origin=origin, expected=GSI_FORMAT, version=FORMAT_VERSION)
    if doc.get("fields") != list(_FIELDS):
        raise ReferenceDataError(f"{origin}: unexpected fields {doc.get('fields')!r}")
    try:
        countries = {
            row[0]: _from_flat(dict(zip(_FIELDS, row, strict=True))) for row in doc["records"]
        }
    except (TypeError, ValueError, KeyError) as exc:
        raise ReferenceDataError(f"{origin}: a record has the wrong shape ({exc})") from None
    return GsiIndex(
        edition=str(doc["edition"]),
        attribution=str(doc["attribution"]),
        licence_note=str(doc["licence_note"]),
        countries=MappingProxyType(countries),
    )


# -- the publisher's workbook -----------------------------------------------------------------


def parse_gsi_workbook(data: bytes, *, origin: str, edition: str | None = None) -> GsiIndex:
    """Read the GSI summary sheet from Walk Free's ``.xlsx`` workbook.

    The sheet is ``GSI <year> summary data`` or, failing that, the first sheet with a header row
    whose first column is ``Country`` and which has the GSI columns. The edition is read from the
    sheet name or the workbook's citation; ``edition`` must agree with it when both are known.
    """
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    if not openpyxl.DEFUSEDXML:
        raise ConfigurationError(
            "openpyxl is not using defusedxml (is OPENPYXL_DEFUSEDXML=False set?); "
            "refusing to read a workbook without hardened XML parsing"
        )
    _check_zip(data, origin=origin)
    unreadable = (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError)
    try:
        workbook = openpyxl.load_workbook(
            io.BytesIO(data), read_only=True, data_only=True, keep_links=False
        )
        try:
            sheet, header_row, columns = _find_summary_sheet(workbook, origin=origin)
            found_edition = _edition_in(workbook, sheet)
            rows = list(sheet.iter_rows(min_row=header_row + 1, values_only=True))
        finally:
            workbook.close()
    except ValidationError:
        raise
    except (*unreadable, StdET.ParseError) as exc:
        unsafe = _unsafe_xml_cause(exc)
        if unsafe is not None:
            raise ValidationError(
                f"{origin}: the workbook holds unsafe XML (a DTD, entities or external "
                f"references: {type(unsafe).__name__}); refused"
            ) from None
        raise ValidationError(f"{origin}: not a readable .xlsx workbook ({exc})") from None
    edition = _settle_edition(edition, found_edition, origin=origin)
    where = f"{origin}, sheet {sheet.title!r}"
    raw: list[dict[str, Any]] = []
    for offset, row in enumerate(rows, start=header_row + 1):
        values = _row_values(row, columns, where=f"{where}, row {offset}")
        if values is not None:
            raw.append(values)
    if not raw:
        raise ValidationError(f"{where}: no country rows below the header (row {header_row})")
    codes = resolve_names((r["country"] for r in raw), origin=where)
    countries: dict[str, GsiCountry] = {}
    for values in raw:
        iso3 = codes[values["country"]]
        if iso3 in countries:
            raise ValidationError(
                f"{where}: {values['country']!r} and {countries[iso3].country!r} are both {iso3}"
            )
        countries[iso3] = _from_flat({**values, "iso3": iso3})
    return GsiIndex(
        edition=edition,
        attribution=attribution(edition),
        licence_note=LICENCE_NOTE,
        countries=MappingProxyType(dict(sorted(countries.items()))),
    )


def _unsafe_xml_cause(exc: BaseException) -> BaseException | None:
    """The defusedxml refusal behind an error (openpyxl wraps it in its own ValueError)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, defusedxml.DefusedXmlException):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _check_zip(data: bytes, *, origin: str) -> None:
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ValidationError(
            f"{origin}: not an .xlsx workbook (an .xlsx file is a zip archive)",
            hint="save the workbook as Excel .xlsx and import it again",
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise ValidationError(f"{origin}: a damaged .xlsx archive ({exc})") from None
    if total > MAX_UNCOMPRESSED_BYTES:
        raise ValidationError(
            f"{origin}: the workbook unpacks to {total:,} bytes, more than the "
            f"{MAX_UNCOMPRESSED_BYTES:,}-byte limit"
        )


def _normalise(value: object) -> str:
    return " ".join(str(value).split()).lower() if value is not None else ""


def _find_summary_sheet(workbook: Any, *, origin: str) -> tuple[Any, int, dict[str, int]]:
    sheets = list(workbook.worksheets)
    sheets.sort(key=lambda s: 0 if _SUMMARY_SHEET.fullmatch(s.title.strip()) else 1)
    problems: list[str] = []
    for sheet in sheets:
        for number, row in enumerate(
            sheet.iter_rows(max_row=_HEADER_SCAN_ROWS, values_only=True), start=1
        ):
            cells = [_normalise(v) for v in row]
            if "country" not in cells[:3]:
                continue
            columns = _match_columns(cells)
            missing = [
                prefix
                for prefix, name in _COLUMNS.items()
                if name not in columns and name not in _OPTIONAL
            ]
            if not missing:
                return sheet, number, columns
            problems.append(
                f"sheet {sheet.title!r} row {number} has a Country header but lacks the "
                f"columns {join_limited(repr(m) for m in missing)}"
            )
            break
    if problems:
        raise ValidationError(f"{origin}: {'; '.join(problems)}")
    raise ValidationError(
        f"{origin}: no sheet has a header row with a 'Country' column in its first "
        f"{_HEADER_SCAN_ROWS} rows (looked in {join_limited(repr(s.title) for s in sheets)})",
        hint="import the Walk Free workbook with the 'GSI <year> summary data' sheet",
    )


def _match_columns(cells: Sequence[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, text in enumerate(cells):
        for prefix, name in _COLUMNS.items():
            if name not in columns and _header_matches(text, prefix):
                columns[name] = index
                break
    return columns


def _header_matches(text: str, prefix: str) -> bool:
    """Exact, or the prefix followed by more words ("(%)"); long prefixes may run on."""
    if text == prefix:
        return True
    if not text.startswith(prefix):
        return False
    return len(prefix) > 20 or text[len(prefix)] in " ("


def _edition_in(workbook: Any, sheet: Any) -> str | None:
    match = _SUMMARY_SHEET.fullmatch(sheet.title.strip())
    if match:
        return match.group(1)
    for candidate in workbook.worksheets[:2]:
        for row in candidate.iter_rows(max_row=5, values_only=True):
            for value in row:
                found = _EDITION_TEXT.search(str(value)) if isinstance(value, str) else None
                if found:
                    return found.group(1)
    return None


def _settle_edition(given: str | None, found: str | None, *, origin: str) -> str:
    if given is not None and found is not None and given != found:
        raise ValidationError(
            f"{origin}: the workbook is the {found} edition, not {given} as given"
        )
    edition = given or found
    if edition is None:
        raise ValidationError(
            f"{origin}: cannot tell which edition this workbook is", hint="pass --edition YEAR"
        )
    return edition


def _row_values(
    row: Sequence[object], columns: Mapping[str, int], *, where: str
) -> dict[str, Any] | None:
    def cell(name: str) -> object:
        index = columns.get(name)
        return row[index] if index is not None and index < len(row) else None

    country = cell("country")
    if country is None or (isinstance(country, str) and not country.strip()):
        return None
    if not isinstance(country, str):
        raise ValidationError(f"{where}: the Country cell holds {country!r}, not a name")
    values: dict[str, Any] = {"country": " ".join(country.split())}
    region = cell("region")
    values["region"] = " ".join(str(region).split()) if region not in (None, "") else None
    for name in _FIELDS[3:]:
        values[name] = _number(cell(name), where=where, column=name)
    return values


def _number(value: object, *, where: str, column: str) -> float | int | None:
    if value is None or isinstance(value, bool):
        if isinstance(value, bool):
            raise ValidationError(f"{where}: {column} is {value!r}, not a number")
        return None
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _MISSING_TEXT:
            return None
        try:
            value = float(text.replace(",", ""))
        except ValueError:
            raise ValidationError(f"{where}: {column} is {value!r}, not a number") from None
    if not isinstance(value, int | float):
        raise ValidationError(f"{where}: {column} is {value!r}, not a number")
    if column in _INTEGER_FIELDS:
        return round(value)
    return float(value)
