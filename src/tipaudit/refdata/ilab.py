"""US DOL ILAB: the List of Goods Produced by Child Labor or Forced Labor, and country findings.

Two datasets come from ILAB's own XML (the files its "Sweat & Toil" app ships):

- the **List of Goods** (``<Goods><Good>…``): one :class:`IlabGood` per good x country pair,
  with the child-labour, forced-labour and forced-child-labour flags and, since the 2022 edition,
  the "derived" downstream goods (e.g. solar modules made in China from polysilicon produced with
  forced labour). Editions are labelled by the year of the list, not the file name.
- the **country findings** (``<Countries><Country>…``, *Findings on the Worst Forms of Child
  Labor*): per country the advancement level, ratifications (including the Palermo protocol),
  12 legal standards with whether each meets the international standard, and enforcement figures.
  Only structured facts are kept; the long prose descriptions are not.

``parse_*_xml`` read the publisher's file (untrusted input, see :func:`~tipaudit.refdata._io.
parse_xml`); ``*_to_json`` / ``*_from_json`` read and write tipaudit's compact vendored form.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as StdET
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar

from tipaudit.errors import NotFoundError, ValidationError
from tipaudit.refdata._io import (
    ReferenceDataError,
    child_text,
    dump_records,
    iter_children,
    load_document,
    parse_xml,
)
from tipaudit.refdata._resolve import resolve_names

__all__ = [
    "CONVENTIONS",
    "ENFORCEMENT_FIELDS",
    "LEGAL_STANDARDS",
    "CountryFindings",
    "Fact",
    "IlabFindings",
    "IlabGood",
    "IlabGoodsList",
    "LegalStandard",
    "findings_from_json",
    "findings_to_json",
    "goods_from_json",
    "goods_to_json",
    "parse_findings_xml",
    "parse_goods_xml",
]

#: A published fact: ``True``/``False`` for Yes/No, an ``int`` for a whole number, the text
#: as published otherwise (``"Unknown"``, ``"N/A"``, ``"$3.5 million"``, ``"17.5"``), ``None``
#: if blank.
Fact = bool | int | str | None

_T = TypeVar("_T")

GOODS_FORMAT = "tipaudit.refdata.ilab-goods"
FINDINGS_FORMAT = "tipaudit.refdata.ilab-findings"
FORMAT_VERSION = 1

_GOODS_FIELDS = (
    "good",
    "sector",
    "country",
    "iso3",
    "region",
    "child_labor",
    "forced_labor",
    "forced_child_labor",
    "derived",
    "derived_from",
    "derived_from_iso3",
)

_STANDARD_FIELDS = ("standard", "age", "calculated_age", "conforms")

#: Publisher tag → tipaudit key, for the ratifications in ``<Conventions>``.
CONVENTIONS: Mapping[str, str] = MappingProxyType(
    {
        "C_138_Ratified": "ilo_c138_minimum_age",
        "C_182_Ratified": "ilo_c182_worst_forms",
        "Convention_on_the_Rights_of_the_Child_Ratified": "un_crc",
        "CRC_Armed_Conflict_Ratified": "un_crc_armed_conflict",
        "CRC_Commercial_Sexual_Exploitation_of_Children_Ratified": "un_crc_sexual_exploitation",
        "Palermo_Ratified": "palermo_protocol",
    }
)

#: Publisher tag → tipaudit key, for the 12 items of ``<Legal_Standards>`` (ILAB's spelling
#: mistakes "Minumum" are corrected in the keys).
LEGAL_STANDARDS: Mapping[str, str] = MappingProxyType(
    {
        "Minimum_Work": "minimum_age_for_work",
        "Minimum_Hazardous_Work": "minimum_age_for_hazardous_work",
        "Types_Hazardous_Work": "hazardous_occupations_prohibited",
        "Prohibition_Forced_Labor": "prohibition_of_forced_labor",
        "Prohibition_Child_Trafficking": "prohibition_of_child_trafficking",
        "Prohibition_CSEC": "prohibition_of_commercial_sexual_exploitation",
        "Prohibition_Illicit_Activities": "prohibition_of_illicit_activities",
        "Minimum_Compulsory_Military": "minimum_age_compulsory_military",
        "Minumum_Voluntary_Military": "minimum_age_voluntary_military",
        "Minumum_Non_State_Military": "prohibition_non_state_military_recruitment",
        "Compulsory_Education": "compulsory_education_age",
        "Free_Public_Education": "free_public_education",
    }
)

#: Publisher tag → tipaudit key, for the 21 items of ``<Enforcements>``.
ENFORCEMENT_FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "Labor_Funding": "labor_inspectorate_funding",
        "Labor_Inspectors": "labor_inspectors",
        "Labor_Inspectors_Intl_Standards": "labor_inspectors_meet_ilo_ratio",
        "Authorized_Access_Penalties": "inspectorate_may_assess_penalties",
        "Labor_New_Employee_Training": "labor_initial_training",
        "Labor_Inspections": "labor_inspections",
        "Labor_Violations": "child_labor_violations_found",
        "Labor_Penalties_Imposed": "child_labor_penalties_imposed",
        "Labor_Penalties_Collected": "child_labor_penalties_collected",
        "Labor_Routine_Inspections_Conducted": "routine_inspections_conducted",
        "Labor_Routine_Inspections_Targeted": "routine_inspections_targeted",
        "Labor_Unannounced_Inspections_Premitted": "unannounced_inspections_permitted",
        "Labor_Unannounced_Inspections_Conducted": "unannounced_inspections_conducted",
        "Labor_Complaint_Mechanism": "labor_complaint_mechanism",
        "Labor_Referral_Mechanism": "labor_referral_mechanism",
        "Criminal_New_Employee_Training": "criminal_initial_training",
        "Criminal_Investigations": "criminal_investigations",
        "Criminal_Prosecutions": "criminal_prosecutions",
        "Criminal_Convictions": "criminal_convictions",
        "Criminal_Referral_Mechanism": "criminal_referral_mechanism",
        "Criminal_Penalties_for_WFCL": "criminal_penalties_imposed_wfcl",
    }
)

_YES_NO: Mapping[str, bool | None] = MappingProxyType(
    {"yes": True, "no": False, "n/a": None, "": None, "unknown": None}
)
_WHOLE_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+|\d+")


# -- records ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IlabGood:
    """One good x country pair on the List of Goods."""

    good: str
    sector: str
    #: The country's name as ILAB publishes it (e.g. "Turkey (Türkiye)").
    country: str
    iso3: str
    region: str | None
    child_labor: bool
    forced_labor: bool
    forced_child_labor: bool
    #: A downstream good listed because an input was produced with forced labour (2022 edition on).
    derived: bool = False
    #: Where the input was produced, as published, and its ISO code.
    derived_from: str | None = None
    derived_from_iso3: str | None = None

    @property
    def any_forced_labor(self) -> bool:
        """Listed for forced labour (adult or child)."""
        return self.forced_labor or self.forced_child_labor


@dataclass(frozen=True, slots=True)
class IlabGoodsList:
    """One edition of the List of Goods."""

    edition: str
    entries: tuple[IlabGood, ...]

    def __iter__(self) -> Iterator[IlabGood]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def for_country(self, iso3: str) -> tuple[IlabGood, ...]:
        """Every listed good produced in a country (by alpha-3 code)."""
        code = iso3.strip().upper()
        return tuple(e for e in self.entries if e.iso3 == code)

    def goods(self) -> tuple[str, ...]:
        """Distinct good names, sorted."""
        return tuple(sorted({e.good for e in self.entries}))

    def countries(self) -> tuple[str, ...]:
        """Distinct alpha-3 codes of producing countries, sorted."""
        return tuple(sorted({e.iso3 for e in self.entries}))


@dataclass(frozen=True, slots=True)
class LegalStandard:
    """One of the 12 legal standards ILAB checks, for one country."""

    #: Whether the country has the law or regulation (``None``: not applicable).
    standard: bool | None
    #: The age the law sets, where it sets one (an ``int``, or text such as "17.5" or "12/13").
    age: int | str | None
    #: Whether ILAB calculated the age (rather than reading it in the law).
    calculated_age: bool | None
    #: Whether the law meets international standards (``None``: not applicable).
    conforms: bool | None


@dataclass(frozen=True, slots=True)
class CountryFindings:
    """ILAB's structured findings for one country or territory."""

    iso3: str
    country: str
    region: str | None
    #: ``False`` for countries on the List of Goods that the findings report does not cover
    #: (they have no assessment, ratifications, standards or enforcement data).
    covered: bool
    advancement_level: str | None
    multiple_territories: bool | None
    webpage: str | None
    #: Ratification status by :data:`CONVENTIONS` key (``None``: not applicable).
    conventions: Mapping[str, bool | None] = field(default_factory=dict)
    #: By :data:`LEGAL_STANDARDS` key.
    legal_standards: Mapping[str, LegalStandard] = field(default_factory=dict)
    #: By :data:`ENFORCEMENT_FIELDS` key, as :data:`Fact` values.
    enforcement: Mapping[str, Fact] = field(default_factory=dict)

    @property
    def palermo_ratified(self) -> bool | None:
        """Whether the country ratified the UN Palermo trafficking protocol."""
        return self.conventions.get("palermo_protocol")

    def standards_not_conforming(self) -> tuple[str, ...]:
        """Keys of the legal standards that do not meet international standards."""
        return tuple(k for k, s in self.legal_standards.items() if s.conforms is False)


@dataclass(frozen=True, slots=True)
class IlabFindings:
    """One edition of the country findings, keyed by alpha-3 code."""

    edition: str
    countries: Mapping[str, CountryFindings]

    def __len__(self) -> int:
        return len(self.countries)

    def get(self, iso3: str) -> CountryFindings:
        code = iso3.strip().upper()
        try:
            return self.countries[code]
        except KeyError:
            raise NotFoundError(
                f"no ILAB country findings for {code} in the {self.edition} edition"
            ) from None


# -- publisher XML ----------------------------------------------------------------------------


def _flag(value: str | None, *, where: str, tag: str, required: bool = True) -> bool:
    if value is None:
        if required:
            raise ValidationError(f"{where}: <{tag}> is missing")
        return False
    lowered = value.lower()
    if lowered not in {"yes", "no"}:
        raise ValidationError(f"{where}: <{tag}> is {value!r}, expected Yes or No")
    return lowered == "yes"


def _yes_no(value: str | None, *, where: str, tag: str) -> bool | None:
    if value is None:
        return None
    try:
        return _YES_NO[value.lower()]
    except KeyError:
        raise ValidationError(
            f"{where}: <{tag}> is {value!r}, expected Yes, No, N/A or Unknown"
        ) from None


def _fact(value: str | None) -> Fact:
    if value is None or not value:
        return None
    lowered = value.lower()
    if lowered == "yes":
        return True
    if lowered == "no":
        return False
    if _WHOLE_NUMBER.fullmatch(value):
        return int(value.replace(",", ""))
    return value


def parse_goods_xml(data: bytes, *, origin: str, edition: str) -> IlabGoodsList:
    """Read ILAB's List of Goods XML (``goods_*.xml``) into one edition.

    The file does not say which edition it is, so the caller gives ``edition``. Every country
    name (and derived-from country) must resolve to an ISO code; all that do not are listed.
    """
    root = parse_xml(data, origin=origin, root="Goods")
    raw: list[dict[str, Any]] = []
    for g_index, good_el in enumerate(root, start=1):
        where = f"{origin}: <Good> #{g_index}"
        if good_el.tag != "Good":
            raise ValidationError(f"{where}: unexpected <{good_el.tag}> under <Goods>")
        name = child_text(good_el, "Good_Name")
        if not name:
            raise ValidationError(f"{where}: <Good_Name> is missing or empty")
        where = f"{origin}: <Good> #{g_index} ({name!r})"
        sector = child_text(good_el, "Good_Sector")
        if not sector:
            raise ValidationError(f"{where}: <Good_Sector> is missing or empty")
        countries = good_el.find("Countries")
        if countries is None:
            raise ValidationError(f"{where}: <Countries> is missing")
        # An empty <Countries/> occurs in ILAB's own files (goods_2016.xml, goods_2017.xml):
        # such a good lists no country, so it contributes no good x country pair.
        for c_index, country_el in enumerate(countries, start=1):
            raw.append(_good_row(country_el, f"{where}, <Country> #{c_index}", name, sector))
    if not raw:
        raise ValidationError(f"{origin}: no <Good> entries with a <Country>")
    pairs: set[tuple[str, str]] = set()
    for row in raw:
        pair = (row["good"], row["country"])
        if pair in pairs:
            raise ValidationError(f"{origin}: {pair[0]!r} is listed twice for {pair[1]!r}")
        pairs.add(pair)
    names = [r["country"] for r in raw] + [r["derived_from"] for r in raw if r["derived_from"]]
    codes = resolve_names(names, origin=origin)
    entries = tuple(
        IlabGood(
            **r,
            iso3=codes[r["country"]],
            derived_from_iso3=codes[r["derived_from"]] if r["derived_from"] else None,
        )
        for r in raw
    )
    return IlabGoodsList(edition=edition, entries=entries)


def _good_row(element: StdET.Element, where: str, good: str, sector: str) -> dict[str, Any]:
    if element.tag != "Country":
        raise ValidationError(f"{where}: unexpected <{element.tag}> under <Countries>")
    country = child_text(element, "Country_Name")
    if not country:
        raise ValidationError(f"{where}: <Country_Name> is missing or empty")
    where = f"{where} ({country!r})"
    derived = _flag(
        child_text(element, "Derived_Labor_Exploitation"),
        where=where,
        tag="Derived_Labor_Exploitation",
        required=False,
    )
    derived_from = child_text(element, "Derived_Country")
    if derived_from is not None and derived_from.lower() in {"", "no", "n/a"}:
        derived_from = None
    if derived and derived_from is None:
        raise ValidationError(f"{where}: a derived good without <Derived_Country>")
    return {
        "good": good,
        "sector": sector,
        "country": country,
        "region": child_text(element, "Country_Region") or None,
        "child_labor": _flag(child_text(element, "Child_Labor"), where=where, tag="Child_Labor"),
        "forced_labor": _flag(child_text(element, "Forced_Labor"), where=where, tag="Forced_Labor"),
        "forced_child_labor": _flag(
            child_text(element, "Forced_Child_Labor"), where=where, tag="Forced_Child_Labor"
        ),
        "derived": derived,
        "derived_from": derived_from if derived else None,
    }


def parse_findings_xml(data: bytes, *, origin: str, edition: str) -> IlabFindings:
    """Read ILAB's country findings XML (``countries_*.xml``), keeping structured facts only."""
    root = parse_xml(data, origin=origin, root="Countries")
    raw: list[dict[str, Any]] = []
    for index, element in enumerate(root, start=1):
        where = f"{origin}: <Country> #{index}"
        if element.tag != "Country":
            raise ValidationError(f"{where}: unexpected <{element.tag}> under <Countries>")
        raw.append(_findings_row(element, where))
    if not raw:
        raise ValidationError(f"{origin}: no <Country> entries")
    codes = resolve_names((r["country"] for r in raw), origin=origin)
    countries: dict[str, CountryFindings] = {}
    for r in raw:
        iso3 = codes[r["country"]]
        if iso3 in countries:
            raise ValidationError(
                f"{origin}: {r['country']!r} and {countries[iso3].country!r} are both {iso3}"
            )
        countries[iso3] = CountryFindings(iso3=iso3, **r)
    return IlabFindings(
        edition=edition, countries=MappingProxyType(dict(sorted(countries.items())))
    )


def _findings_row(element: StdET.Element, where: str) -> dict[str, Any]:
    name = child_text(element, "Name")
    if not name:
        raise ValidationError(f"{where}: <Name> is missing or empty")
    where = f"{where} ({name!r})"
    conventions_el = element.find("Conventions")
    standards_el = element.find("Legal_Standards")
    enforcement_el = element.find("Enforcements")
    conventions: dict[str, bool | None] = {}
    for c in iter_children(conventions_el):
        if c.tag in CONVENTIONS:
            value = _yes_no((c.text or "").strip(), where=where, tag=c.tag)
            _put(conventions, CONVENTIONS[c.tag], value, where=where, tag=c.tag)
    standards: dict[str, LegalStandard] = {}
    for s in iter_children(standards_el):
        if s.tag not in LEGAL_STANDARDS:
            continue
        at = f"{where}, <{s.tag}>"
        standard = LegalStandard(
            standard=_yes_no(child_text(s, "Standard"), where=at, tag="Standard"),
            age=_age(child_text(s, "Age")),
            calculated_age=_yes_no(child_text(s, "Calculated_Age"), where=at, tag="Calculated_Age"),
            conforms=_yes_no(
                child_text(s, "Conforms_To_Intl_Standard"),
                where=at,
                tag="Conforms_To_Intl_Standard",
            ),
        )
        _put(standards, LEGAL_STANDARDS[s.tag], standard, where=where, tag=s.tag)
    enforcement: dict[str, Fact] = {}
    for e in iter_children(enforcement_el):
        if e.tag in ENFORCEMENT_FIELDS:
            fact = _fact((e.text or "").strip())
            _put(enforcement, ENFORCEMENT_FIELDS[e.tag], fact, where=where, tag=e.tag)
    return {
        "country": name,
        "region": child_text(element, "Region") or None,
        "covered": any(x is not None for x in (conventions_el, standards_el, enforcement_el)),
        "advancement_level": child_text(element, "Advancement_Level") or None,
        "multiple_territories": _yes_no(
            child_text(element, "Multiple_Territories"), where=where, tag="Multiple_Territories"
        ),
        "webpage": child_text(element, "Webpage") or None,
        "conventions": MappingProxyType(_ordered(conventions, CONVENTIONS)),
        "legal_standards": MappingProxyType(_ordered(standards, LEGAL_STANDARDS)),
        "enforcement": MappingProxyType(_ordered(enforcement, ENFORCEMENT_FIELDS)),
    }


def _put(values: dict[str, _T], key: str, value: _T, *, where: str, tag: str) -> None:
    """Store a fact; ILAB's files repeat some elements (Zimbabwe's conventions), which is
    harmless when the values agree and refused when they do not."""
    if key in values and values[key] != value:
        raise ValidationError(
            f"{where}: <{tag}> appears twice with different values ({values[key]!r} and {value!r})"
        )
    values[key] = value


def _age(value: str | None) -> int | str | None:
    fact = _fact(value)
    if fact is None or isinstance(fact, bool) or fact == "N/A":
        return None
    return fact


def _ordered(values: dict[str, _T], order: Mapping[str, str]) -> dict[str, _T]:
    return {key: values[key] for key in order.values() if key in values}


# -- vendored JSON ----------------------------------------------------------------------------


def goods_to_json(goods: IlabGoodsList) -> bytes:
    """The compact vendored form: a header and one array per good x country pair."""
    header = {
        "format": GOODS_FORMAT,
        "version": FORMAT_VERSION,
        "edition": goods.edition,
        "fields": list(_GOODS_FIELDS),
    }
    rows = [[getattr(e, name) for name in _GOODS_FIELDS] for e in goods.entries]
    return dump_records(header, rows)


def goods_from_json(data: bytes, *, origin: str) -> IlabGoodsList:
    doc = load_document(data, origin=origin, expected=GOODS_FORMAT, version=FORMAT_VERSION)
    if doc.get("fields") != list(_GOODS_FIELDS):
        raise ReferenceDataError(f"{origin}: unexpected fields {doc.get('fields')!r}")
    try:
        entries = tuple(IlabGood(*row) for row in doc["records"])
    except TypeError as exc:
        raise ReferenceDataError(f"{origin}: a record has the wrong shape ({exc})") from None
    return IlabGoodsList(edition=str(doc["edition"]), entries=entries)


def findings_to_json(findings: IlabFindings) -> bytes:
    header = {
        "format": FINDINGS_FORMAT,
        "version": FORMAT_VERSION,
        "edition": findings.edition,
        "legal_standard_fields": list(_STANDARD_FIELDS),
    }
    rows = [
        {
            "iso3": f.iso3,
            "country": f.country,
            "region": f.region,
            "covered": f.covered,
            "advancement_level": f.advancement_level,
            "multiple_territories": f.multiple_territories,
            "webpage": f.webpage,
            "conventions": dict(f.conventions),
            "legal_standards": {
                key: [s.standard, s.age, s.calculated_age, s.conforms]
                for key, s in f.legal_standards.items()
            },
            "enforcement": dict(f.enforcement),
        }
        for f in findings.countries.values()
    ]
    return dump_records(header, rows)


def findings_from_json(data: bytes, *, origin: str) -> IlabFindings:
    doc = load_document(data, origin=origin, expected=FINDINGS_FORMAT, version=FORMAT_VERSION)
    if doc.get("legal_standard_fields") != list(_STANDARD_FIELDS):
        raise ReferenceDataError(f"{origin}: unexpected legal standard fields")
    countries: dict[str, CountryFindings] = {}
    try:
        for row in doc["records"]:
            standards = {
                key: LegalStandard(*value) for key, value in row.pop("legal_standards").items()
            }
            countries[row["iso3"]] = CountryFindings(
                **{
                    **row,
                    "conventions": MappingProxyType(_ordered(row["conventions"], CONVENTIONS)),
                    "legal_standards": MappingProxyType(_ordered(standards, LEGAL_STANDARDS)),
                    "enforcement": MappingProxyType(
                        _ordered(row["enforcement"], ENFORCEMENT_FIELDS)
                    ),
                }
            )
    except (TypeError, KeyError, AttributeError) as exc:
        raise ReferenceDataError(f"{origin}: a record has the wrong shape ({exc})") from None
    return IlabFindings(edition=str(doc["edition"]), countries=MappingProxyType(countries))
