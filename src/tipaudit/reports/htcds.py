"""Export of report cases aligned with the Human Trafficking Case Data Standard (HTCDS) v2.0.

HTCDS (IOM / UN Migration, CC BY 4.0) is a *victim* case standard: it has fields for the
status of a case, the methods of control, the type of exploitation, the industry, where
exploitation happened, the roles of perpetrators and referrals, but none for the organisation
accused, the allegation, the finding or the decision. The export therefore has two kinds of
columns:

* HTCDS columns, named and filled exactly as the standard spells them (``cas_Status``,
  ``vic_MethodsOfControl``, ...), with picklist values checked against the vendored field list
  (``reports/data/htcds_enumerations_v2.0.json``; provenance beside it);
* ``x_tipaudit_*`` extension columns for what HTCDS lacks (reference, dates, category,
  finding, decision, accused organisations, indicator codes, the indicators no HTCDS value
  fits, and whether the report's encrypted answers could be read).

Indicators become HTCDS values through the taxonomy's own mappings
(``core/data/indicators.yaml``); an indicator without one adds ``Other`` to
``vic_MethodsOfControl`` and is listed in ``x_tipaudit_indicators_unmapped``, as the taxonomy's
notes ask. The export never contains report text, contact details or reporter identity: a
:class:`HtcdsCase` has no field for them. It is for authorised staff only
(``services.reports.Reports.export_htcds`` checks the permission, opens each report's coded
answers and records the audit events).
"""

from __future__ import annotations

import csv
import functools
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from typing import Any

from tipaudit.core.indicators import Taxonomy, load_taxonomy, validate_codes
from tipaudit.errors import ValidationError

__all__ = [
    "CONTENT_OPENED",
    "CONTENT_RECUSED",
    "CONTENT_UNOPENABLE",
    "EXTENSION_PREFIX",
    "HTCDS_COLUMNS",
    "AccusedParty",
    "HtcdsCase",
    "HtcdsStandard",
    "load_standard",
    "to_htcds_csv",
    "to_htcds_json",
    "to_htcds_rows",
]

EXTENSION_PREFIX = "x_tipaudit_"
MULTISELECT_SEPARATOR = ";"

#: HTCDS columns of the export, in this order.
HTCDS_COLUMNS: tuple[str, ...] = (
    "cas_Status",
    "cas_ReasonForCaseClosure",
    "vic_TraffickingStatus",
    "vic_TraffickingStatusDecisionMakingOrg",
    "vic_MethodsOfControl",
    "vic_TypeOfExploitation",
    "vic_TypeOfSexExploitation",
    "vic_ForcedLabourIndustry",
    "vic_AgeWhenTrafficked",
    "hte_Type",
    "hte_Country",
    "hte_Date",
    "per_RoleInProcess",
    "cas_ReferredOrganisation",
    "cas_ReasonForOutgoingReferral",
    "cas_OutgoingReferralDate",
    "con_Consent",
)

EXTENSION_COLUMNS: tuple[str, ...] = tuple(
    EXTENSION_PREFIX + name
    for name in (
        "reference",
        "channel",
        "state",
        "received_at",
        "closed_at",
        "category",
        "finding",
        "decision",
        "accused_organisations",
        "indicators",
        "indicators_unmapped",
        "content",
    )
)

#: Values of ``x_tipaudit_content``: whether the report's encrypted answers were read.
CONTENT_OPENED = "opened"
CONTENT_UNOPENABLE = "unopenable"
CONTENT_RECUSED = "recused"


@dataclass(frozen=True, slots=True)
class AccusedParty:
    """An organisation, unit or person a report accuses.

    ``name`` is empty for a person: the export carries the role of an accused individual but
    not their name (see ``x_tipaudit_accused_organisations``).
    """

    name: str
    #: What they did in the process, or what they are: recruiter, contractor, unit, ...
    role: str = ""


@dataclass(frozen=True, slots=True)
class HtcdsCase:
    """One report case as the export needs it; the reports service fills it.

    There is deliberately no field for report text, contact details or the reporter's
    identity.
    """

    reference: str
    state: str
    received_at: datetime
    channel: str = "public"
    category: str | None = None
    finding: str | None = None
    decision: str | None = None
    closed_at: datetime | None = None
    decided_at: datetime | None = None
    indicator_codes: tuple[str, ...] = ()
    #: Where the exploitation happened (ISO 3166 alpha-2 or a country name).
    country: str | None = None
    #: ISIC Rev.4 section letter (A-U) of the industry, when known.
    industry_section: str | None = None
    age_when_trafficked: int | None = None
    accused: tuple[AccusedParty, ...] = ()
    referred_to: str | None = None
    referred_at: datetime | None = None
    #: Whether the person consented to their case data being shared in this export.
    consent: bool | None = None
    #: Whether the coded answers (indicators, country, accused) were read from the report:
    #: :data:`CONTENT_OPENED`, :data:`CONTENT_UNOPENABLE` (its key is not on this server or the
    #: record is damaged) or :data:`CONTENT_RECUSED` (the exporter declared a conflict). Empty
    #: indicator and country columns mean "unknown" unless this is ``opened``.
    content_status: str | None = None


@dataclass(frozen=True)
class HtcdsStandard:
    """The vendored HTCDS v2.0 field list: names, types and picklist values."""

    source: str
    fields: Mapping[str, Mapping[str, Any]] = field(repr=False)

    def values(self, name: str) -> tuple[str, ...]:
        entry = self.fields[name]
        return tuple(value["name"] for value in entry.get("values") or ())

    def check(self, column: str, value: str | Sequence[str] | None) -> None:
        """Raise :class:`ValidationError` if ``column`` is not an HTCDS field or ``value`` is
        not one of its picklist values."""
        if column.startswith(EXTENSION_PREFIX):
            return
        if column not in self.fields:
            raise ValidationError(f"{column} is not a field of HTCDS v2.0")
        allowed = self.values(column)
        if not allowed or value is None or value == "":
            return
        chosen = [value] if isinstance(value, str) else list(value or ())
        unknown = [item for item in chosen if item not in allowed]
        if unknown:
            raise ValidationError(f"{column}: {', '.join(unknown)} not in the HTCDS v2.0 picklist")


@functools.cache
def load_standard() -> HtcdsStandard:
    """The packaged HTCDS v2.0 field list."""
    resource = resources.files("tipaudit.reports") / "data" / "htcds_enumerations_v2.0.json"
    payload = json.loads(resource.read_text(encoding="utf-8"))
    return HtcdsStandard(source=str(payload["source"]), fields=payload["fields"])


# --- mapping --------------------------------------------------------------------------------

_TRAFFICKING_STATUS = {
    "substantiated": "ActualVictimOfTrafficking",
    "partially_substantiated": "PossibleVictimOfTrafficking",
    "inconclusive": "PossibleVictimOfTrafficking",
    "unsubstantiated": "NotAVictimOfTrafficking",
}
_ROLE_WORDS = (
    (("recruit", "agency", "agent", "broker", "intermediar"), "RecruiterOrIntermediary"),
    (("transport", "driver"), "Transporter"),
    (("smuggl",), "Smuggler"),
    (("employer", "contractor", "supplier", "exploit", "company", "farm", "factory"), "Exploiter"),
    (("kidnap", "abduct"), "Kidnapper"),
    (("abuse",), "Abuser"),
)
_SECTIONS = "ABCDEFGHIJKLMNOPQRSTU"


def _case_status(case: HtcdsCase) -> str:
    if case.state == "closed":
        referral = (case.decision or "").startswith("referral") or case.referred_to
        return "ClosedReferred" if referral else "Closed"
    if case.state == "feedback":
        return "FollowUp"
    return "Active"


def _role(role: str) -> str:
    lowered = role.lower()
    for words, value in _ROLE_WORDS:
        if any(word in lowered for word in words):
            return value
    return "Other"


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def to_htcds_rows(
    cases: Iterable[HtcdsCase],
    *,
    taxonomy: Taxonomy | None = None,
    standard: HtcdsStandard | None = None,
) -> list[dict[str, Any]]:
    """One dict per case: HTCDS columns then ``x_tipaudit_*`` columns, every value checked.

    Multi-select values are lists. Raises :class:`ValidationError` when a case carries an
    unknown indicator code or an industry section that is not an ISIC Rev.4 letter.
    """
    tax = taxonomy or load_taxonomy()
    std = standard or load_standard()
    industries = {value[0]: value for value in std.values("vic_ForcedLabourIndustry")}
    rows = []
    for case in cases:
        mapped: dict[str, list[str]] = {
            "vic_MethodsOfControl": [],
            "vic_TypeOfExploitation": [],
            "vic_TypeOfSexExploitation": [],
        }
        unmapped = []
        for code in validate_codes(case.indicator_codes, taxonomy=tax):
            indicator = tax.get(code)
            if not indicator.htcds:
                unmapped.append(code)
            for mapping in indicator.htcds:
                mapped.setdefault(mapping.field, []).append(mapping.value)
        if unmapped:
            mapped["vic_MethodsOfControl"].append("Other")
        if mapped["vic_MethodsOfControl"] and not mapped["vic_TypeOfExploitation"]:
            # Methods of control without a named exploitation are recorded as forced labour,
            # the exploitation every ILO indicator describes.
            mapped["vic_TypeOfExploitation"].append("ForcedLabour")
        industry = None
        if case.industry_section:
            letter = case.industry_section.strip().upper()[:1]
            if letter not in _SECTIONS or letter not in industries:
                raise ValidationError(
                    f"{case.reference}: industry {case.industry_section!r} is not an ISIC Rev.4 "
                    "section letter (A-U)"
                )
            industry = industries[letter]
        referred = bool(case.referred_to)
        row: dict[str, Any] = {
            "cas_Status": _case_status(case),
            "cas_ReasonForCaseClosure": _closure_reason(case) if case.state == "closed" else "",
            "vic_TraffickingStatus": _TRAFFICKING_STATUS.get(case.finding or "", ""),
            "vic_TraffickingStatusDecisionMakingOrg": "Other" if case.finding else "",
            "vic_MethodsOfControl": _unique(mapped["vic_MethodsOfControl"]),
            "vic_TypeOfExploitation": _unique(mapped["vic_TypeOfExploitation"]),
            "vic_TypeOfSexExploitation": _unique(mapped["vic_TypeOfSexExploitation"]),
            "vic_ForcedLabourIndustry": industry or "",
            "vic_AgeWhenTrafficked": case.age_when_trafficked,
            "hte_Type": "Exploitation" if case.country else "",
            "hte_Country": case.country or "",
            "hte_Date": "",
            "per_RoleInProcess": _unique(_role(party.role) for party in case.accused),
            "cas_ReferredOrganisation": case.referred_to or "",
            "cas_ReasonForOutgoingReferral": "Other" if referred else "",
            "cas_OutgoingReferralDate": _date(case.referred_at) if referred else "",
            "con_Consent": case.consent,
            EXTENSION_PREFIX + "reference": case.reference,
            EXTENSION_PREFIX + "channel": case.channel,
            EXTENSION_PREFIX + "state": case.state,
            EXTENSION_PREFIX + "received_at": case.received_at.isoformat(),
            EXTENSION_PREFIX + "closed_at": case.closed_at.isoformat() if case.closed_at else "",
            EXTENSION_PREFIX + "category": case.category or "",
            EXTENSION_PREFIX + "finding": case.finding or "",
            EXTENSION_PREFIX + "decision": case.decision or "",
            EXTENSION_PREFIX + "accused_organisations": [p.name for p in case.accused if p.name],
            EXTENSION_PREFIX + "indicators": list(case.indicator_codes),
            EXTENSION_PREFIX + "indicators_unmapped": unmapped,
            EXTENSION_PREFIX + "content": case.content_status or "",
        }
        for column, value in row.items():
            if isinstance(value, str | list):
                std.check(column, value)
            else:
                std.check(column, None)
        rows.append(row)
    return rows


def _closure_reason(case: HtcdsCase) -> str:
    parts = []
    if case.finding:
        parts.append(f"finding: {case.finding.replace('_', ' ')}")
    if case.decision:
        parts.append(f"decision: {case.decision.replace('_', ' ')}")
    if case.category in {"out_of_scope", "duplicate"}:
        parts.append(f"triaged as {case.category.replace('_', ' ')}")
    return "; ".join(parts)


def _date(moment: datetime | None) -> str:
    return moment.date().isoformat() if moment else ""


COLUMNS: tuple[str, ...] = HTCDS_COLUMNS + EXTENSION_COLUMNS


def to_htcds_csv(cases: Iterable[HtcdsCase], **kwargs: Any) -> str:
    """The export as CSV; multi-select values are joined with ``;`` as HTCDS tools expect."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in to_htcds_rows(cases, **kwargs):
        writer.writerow(
            {
                key: _csv_scalar(
                    MULTISELECT_SEPARATOR.join(value) if isinstance(value, list) else value
                )
                for key, value in row.items()
            }
        )
    return out.getvalue()


def _csv_scalar(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    # A cell starting with =, +, - or @ would be run as a formula by spreadsheet programs.
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


def to_htcds_json(cases: Iterable[HtcdsCase], **kwargs: Any) -> str:
    """The export as JSON: ``{"standard": ..., "cases": [...]}`` with lists for multi-selects."""
    std = kwargs.get("standard") or load_standard()
    payload = {
        "standard": "HTCDS v2.0 (IOM / UN Migration, CC BY 4.0)",
        "source": std.source,
        "extension_prefix": EXTENSION_PREFIX,
        "cases": to_htcds_rows(cases, **kwargs),
    }
    return json.dumps(payload, ensure_ascii=False, indent=1)
