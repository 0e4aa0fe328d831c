"""Country risk profiles: what the reference data says about one country, with sources.

A profile gathers the ILAB goods listed for the country (newest edition), ILAB's country
findings (ratifications, legal standards, enforcement), the Walk Free Global Slavery Index
figures and the TIP Report tier history. Every figure keeps its source and edition, and every
gap is stated in words rather than shown as an empty cell or a zero.
"""

from __future__ import annotations

from dataclasses import dataclass

from tipaudit.core.countries import Country, resolve_country
from tipaudit.errors import NotFoundError
from tipaudit.refdata.gsi import GsiCountry
from tipaudit.refdata.ilab import CountryFindings, IlabGood
from tipaudit.refdata.registry import ReferenceData
from tipaudit.refdata.tiers import TierPlacement

LEGAL_STANDARD_LABELS = {
    "minimum_age_for_work": "Minimum age for work",
    "minimum_age_for_hazardous_work": "Minimum age for hazardous work",
    "hazardous_occupations_prohibited": (
        "Hazardous occupations or activities prohibited for children"
    ),
    "prohibition_of_forced_labor": "Prohibition of forced labour",
    "prohibition_of_child_trafficking": "Prohibition of child trafficking",
    "prohibition_of_commercial_sexual_exploitation": (
        "Prohibition of commercial sexual exploitation of children"
    ),
    "prohibition_of_illicit_activities": "Prohibition of using children in illicit activities",
    "minimum_age_compulsory_military": "Minimum age for compulsory military recruitment",
    "minimum_age_voluntary_military": "Minimum age for voluntary state military recruitment",
    "prohibition_non_state_military_recruitment": (
        "Prohibition of military recruitment by non-state armed groups"
    ),
    "compulsory_education_age": "Compulsory education age",
    "free_public_education": "Free public education",
}

CONVENTION_LABELS = {
    "ilo_c138_minimum_age": "ILO C138, Minimum Age",
    "ilo_c182_worst_forms": "ILO C182, Worst Forms of Child Labour",
    "un_crc": "UN Convention on the Rights of the Child",
    "un_crc_armed_conflict": "UN CRC Optional Protocol on Armed Conflict",
    "un_crc_sexual_exploitation": "UN CRC Optional Protocol on the Sale of Children",
    "palermo_protocol": "Palermo Protocol on Trafficking in Persons",
}

ENFORCEMENT_LABELS = {
    "labor_inspectors": "Labour inspectors",
    "labor_inspectors_meet_ilo_ratio": "Inspectors sufficient for the workforce (ILO ratio)",
    "labor_inspections": "Labour inspections",
    "child_labor_violations_found": "Child labour violations found",
    "child_labor_penalties_imposed": "Child labour penalties imposed",
    "unannounced_inspections_permitted": "Unannounced inspections permitted",
    "labor_complaint_mechanism": "Complaint mechanism exists",
    "criminal_investigations": "Criminal investigations (worst forms of child labour)",
    "criminal_prosecutions": "Criminal prosecutions",
    "criminal_convictions": "Criminal convictions",
}


@dataclass(frozen=True)
class SourceNote:
    """Where a block of figures comes from."""

    dataset: str
    edition: str
    citation: str


@dataclass(frozen=True)
class CountryProfile:
    """Everything tipaudit's reference data says about one country."""

    country: Country
    goods: tuple[IlabGood, ...]
    goods_source: SourceNote
    findings: CountryFindings | None
    findings_source: SourceNote
    gsi: GsiCountry | None
    gsi_source: SourceNote
    tiers: tuple[TierPlacement, ...]
    tiers_source: SourceNote
    gaps: tuple[str, ...]

    @property
    def forced_labour_goods(self) -> tuple[IlabGood, ...]:
        return tuple(g for g in self.goods if g.any_forced_labor)

    @property
    def child_labour_goods(self) -> tuple[IlabGood, ...]:
        return tuple(g for g in self.goods if g.child_labor)

    @property
    def latest_tier(self) -> TierPlacement | None:
        ranked = [t for t in self.tiers if t.tier is not None]
        return max(ranked, key=lambda t: t.report_year) if ranked else None


def resolve_or_raise(text: str) -> Country:
    """The country a person named, or a NotFoundError that says why it was not recognised."""
    resolution = resolve_country(text)
    if resolution.country is None:
        raise NotFoundError(
            f"{text.strip()[:80]!r} is not a recognised country: {resolution.reason}"
        )
    return resolution.country


def build_profile(refdata: ReferenceData, text: str) -> CountryProfile:
    """Assemble the profile of the country named by ``text`` (a name in any language or a code)."""
    country = resolve_or_raise(text)
    gaps: list[str] = []

    goods_list = refdata.ilab_goods()
    goods_info = refdata.dataset("ilab-goods", goods_list.edition)
    goods = tuple(sorted(goods_list.for_country(country.alpha3), key=lambda g: g.good.casefold()))
    goods_source = SourceNote(goods_info.title, goods_list.edition, goods_info.attribution)
    if not goods:
        gaps.append(
            f"The ILAB List of Goods ({goods_list.edition} edition) names no goods from "
            f"{country.name}. This means none were found to meet ILAB's evidence standard, "
            "not that there is no risk."
        )

    findings_index = refdata.ilab_findings_edition()
    findings_info = refdata.dataset("ilab-findings", findings_index.edition)
    findings: CountryFindings | None
    try:
        findings = findings_index.get(country.alpha3)
    except NotFoundError:
        findings = None
    if findings is None or not findings.covered:
        gaps.append(
            f"ILAB's Findings on the Worst Forms of Child Labor ({findings_index.edition}) do not "
            f"cover {country.name}: no ratification, legal-standard or enforcement facts."
        )
    findings_source = SourceNote(
        findings_info.title, findings_index.edition, findings_info.attribution
    )

    gsi_index = refdata.gsi_index()
    gsi: GsiCountry | None
    try:
        gsi = gsi_index.get(country.alpha3)
    except NotFoundError:
        gsi = None
    if gsi is None:
        gaps.append(
            f"The Global Slavery Index {gsi_index.edition} does not include {country.name}."
        )
    elif gsi.prevalence_per_1000 is None:
        gaps.append(
            f"The Global Slavery Index {gsi_index.edition} gives no prevalence estimate for "
            f"{country.name}."
        )
    gsi_source = SourceNote("Global Slavery Index", gsi_index.edition, gsi_index.attribution)

    tiers = tuple(sorted(refdata.tip_tiers(country.alpha3), key=lambda t: t.report_year))
    series = refdata.tip_tier_series()
    tiers_info = refdata.dataset("tip-tiers")
    if not any(t.tier is not None for t in tiers):
        gaps.append(f"tipaudit has no TIP Report tier placement for {country.name}.")
    elif (newest := max(t.report_year for t in tiers)) < 2020:
        gaps.append(
            f"The newest TIP Report tier tipaudit holds is for {newest}; "
            "later placements are in the State Department's reports and can be imported "
            "(tipaudit data import tip-tiers FILE)."
        )
    tiers_source = SourceNote(tiers_info.title, series.edition, tiers_info.attribution)

    return CountryProfile(
        country=country,
        goods=goods,
        goods_source=goods_source,
        findings=findings if findings is not None and findings.covered else None,
        findings_source=findings_source,
        gsi=gsi,
        gsi_source=gsi_source,
        tiers=tiers,
        tiers_source=tiers_source,
        gaps=tuple(gaps),
    )


def profile_to_dict(profile: CountryProfile) -> dict[str, object]:
    """The profile as JSON-ready data, every block with its source and edition."""
    c = profile.country
    gsi = profile.gsi
    return {
        "country": {"alpha2": c.alpha2, "alpha3": c.alpha3, "name": c.name},
        "ilab_goods": {
            "edition": profile.goods_source.edition,
            "source": profile.goods_source.citation,
            "goods": [
                {
                    "good": g.good,
                    "sector": g.sector,
                    "forced_labour": g.forced_labor,
                    "child_labour": g.child_labor,
                    "forced_child_labour": g.forced_child_labor,
                    "derived": g.derived,
                }
                for g in profile.goods
            ],
        },
        "global_slavery_index": {
            "edition": profile.gsi_source.edition,
            "source": profile.gsi_source.citation,
            "prevalence_per_1000": gsi.prevalence_per_1000 if gsi else None,
            "estimated_number": gsi.estimated_number if gsi else None,
            "vulnerability": gsi.vulnerability.total if gsi else None,
            "government_response": gsi.government_response.total if gsi else None,
        },
        "tip_tiers": {
            "source": profile.tiers_source.citation,
            "years": profile.tiers_source.edition,
            "placements": [
                {"report_year": t.report_year, "tier": t.tier.value if t.tier else None}
                for t in profile.tiers
            ],
        },
        "ilab_findings": None
        if profile.findings is None
        else {
            "edition": profile.findings_source.edition,
            "advancement_level": profile.findings.advancement_level,
            "palermo_ratified": profile.findings.palermo_ratified,
            "standards_not_conforming": list(profile.findings.standards_not_conforming()),
        },
        "gaps": list(profile.gaps),
    }
