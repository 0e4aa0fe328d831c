"""Risk factors of the forced-labour risk register, written once as Ibis expressions.

Each factor is declared in :data:`FACTORS` with its weight, the rule it comes from, the
indicator codes it bears on and a sentence template; :func:`compute_factors` computes every
factor row inside the engine. A factor row is structured evidence (``good``, ``country``,
``industry``, numbers and a text value); the reason people read is the factor's template
filled with that evidence (:func:`explain`), so the same words appear in every output.

Weights follow UK PPN 02/23's logic that more than one indicator triggers assessment:

* ``strong`` — on its own enough to require an assessment (a good on the ILAB list from a
  country where the list names it);
* ``moderate`` — one indicator among several (industry, workforce, location, competition,
  price, subcontracting, amendments);
* ``context`` — changes the actions required (the FAR compliance-plan trigger), not the level;
* ``to review`` — shown so that someone reviews it (an unreviewed watchlist match), never
  counted in the level or the score.

Levels: **high** when a strong factor meets any other strong or moderate factor, or three
moderate factors meet; **medium** for one strong factor alone or two moderate ones; **low**
otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from tipaudit.procurement.classify.model import INDUSTRIES
from tipaudit.refdata import ReferenceData

Weight = Literal["strong", "moderate", "context", "to review"]

LABOUR_INTENSIVE = (
    "cleaning_services",
    "security_services",
    "catering",
    "hospitality",
    "logistics",
    "health_social_care",
    "construction",
)
#: Every industry the classifier assigns is one PPN 02/23 rates high-risk.
HIGH_RISK_INDUSTRIES = tuple(sorted(INDUSTRIES))


@dataclass(frozen=True)
class Factor:
    """One explained risk factor."""

    code: str
    title: str
    weight: Weight
    source: str
    indicators: tuple[str, ...]
    template: str
    dimension: str


FACTORS: dict[str, Factor] = {
    f.code: f
    for f in (
        Factor(
            "ilab_listed_good",
            "Good on the ILAB list from the supplier's country",
            "strong",
            "US DOL ILAB List of Goods Produced by Child Labor or Forced Labor; UK PPN 02/23 "
            "(commodity type and supplier location)",
            ("ILO-07", "ILO-08", "ILO-09", "TIP-CHILD"),
            "{good} is bought from a supplier in {country_name}, and the ILAB List of Goods "
            "({text} edition) names {good} from {country_name} as produced with {labour}.",
            "commodity",
        ),
        Factor(
            "high_risk_industry",
            "High-risk industry",
            "moderate",
            "UK PPN 02/23 risk table: industry type",
            ("ILO-09", "ILO-10", "ILO-11"),
            "The purchase is in {industry_name}, an industry PPN 02/23 rates high-risk for "
            "modern slavery.",
            "industry",
        ),
        Factor(
            "labour_intensive_services",
            "Labour-intensive work with agency or migrant workforces",
            "moderate",
            "UK PPN 02/23 risk table: nature of the workforce",
            ("TIP-FEES", "TIP-DOCS", "TIP-WAGES"),
            "{industry_name} is labour-intensive work often done through agencies or by "
            "migrant workers, where recruitment fees, retained documents and unpaid wages "
            "are common.",
            "workforce",
        ),
        Factor(
            "country_risk",
            "Supplier in a high-risk country",
            "moderate",
            "UK PPN 02/23 risk table: supplier location; Walk Free GSI; US TIP Report",
            ("ILO-01",),
            "The supplier is in {country_name}: {text}.",
            "location",
        ),
        Factor(
            "weak_competition",
            "Weak competition in a high-risk category",
            "moderate",
            "UK PPN 02/23 (award and selection stages); OCP red flags R018 and R035",
            ("ILO-09", "ILO-10", "ILO-11"),
            "A high-risk purchase was {text}, leaving little leverage to require safeguards.",
            "competition",
        ),
        Factor(
            "abnormally_low_price",
            "Abnormally low price",
            "moderate",
            "Abnormally low tenders (EU Directive 2014/24/EU Art. 69); wage-theft signal",
            ("ILO-08", "ILO-11"),
            "The award value is {percent} of the tender estimate ({number2} vs {number} "
            "{text}): very low prices can mean unpaid wages or excessive hours.",
            "price",
        ),
        Factor(
            "subcontracting",
            "Subcontracting published",
            "moderate",
            "UK PPN 02/23 (supply-chain model); OCP red flags R071-R072",
            ("TIP-FEES", "TIP-CONTRACT"),
            "The supplier subcontracts part of the work{text}: labour brokers and lower tiers "
            "are where abuse hides.",
            "supply_chain",
        ),
        Factor(
            "amendment_value_increase",
            "Amendments added value",
            "moderate",
            "OCP red flags (contract amendments); UK PPN 02/23 enhanced contract management",
            ("ILO-11",),
            "The contracts are worth {percent} of the award after {text} amendment(s): added "
            "scope without added time pushes workers into excessive overtime.",
            "amendments",
        ),
        Factor(
            "far_compliance_plan",
            "FAR 52.222-50 compliance-plan trigger",
            "context",
            "US FAR 52.222-50(h) and 52.222-56; 22 U.S.C. 7104a",
            ("TIP-FEES", "TIP-DOCS", "TIP-CONTRACT", "TIP-HOUSING", "TIP-RETURN"),
            "The value ({number} USD) exceeds the compliance-plan threshold of {number2} USD "
            "and the supplier is outside the buyer's country ({country_name}).",
            "context",
        ),
        Factor(
            "supplier_allegation",
            "Supplier named in a credible allegation",
            "strong",
            "The government's allegations register: reports reviewed as credible or "
            "substantiated (never an unreviewed report on its own); the match confirmed by a "
            "reviewer",
            (),
            "The supplier matches {detail} in the government's allegations register, "
            "reviewed as {text}.",
            "entity",
        ),
        Factor(
            "supplier_listed",
            "Supplier on a watchlist (match confirmed)",
            "strong",
            "Entity screening against the imported watchlists; the match confirmed by a reviewer",
            (),
            "A reviewer confirmed that the supplier is {detail}: {text}.",
            "entity",
        ),
        Factor(
            "supplier_possible_match",
            "Supplier resembles a watchlist entry (not yet reviewed)",
            "to review",
            "Entity screening against the imported watchlists; the match awaits review",
            (),
            "The supplier's name resembles {detail} ({text}); a reviewer has not yet "
            "confirmed or rejected the match.",
            "entity",
        ),
    )
}

# The factors that come from entity screening rather than from the OCDS data.
ENTITY_FACTORS = ("supplier_allegation", "supplier_listed", "supplier_possible_match")


@dataclass(frozen=True)
class EntityFlag:
    """A supplier's match with a watchlist entry or an allegation, from entity screening.

    ``factor`` is one of :data:`ENTITY_FACTORS`: a credible or substantiated allegation, a
    confirmed watchlist match, or a possible match nobody has reviewed yet. Rejected matches and
    allegations that are pending or unsubstantiated are never flags.
    """

    supplier_key: str
    factor: str
    entity: str  # "ACME Ltd (entry X) on List Y"
    status: str  # "credible", "substantiated", "confirmed by a reviewer", "score 0.82"
    reason: str = ""  # the listing's reason or the allegation's summary
    score: float | None = None

    def __post_init__(self) -> None:
        if self.factor not in ENTITY_FACTORS:
            raise ValueError(f"an entity flag's factor must be one of {ENTITY_FACTORS}")


INDUSTRY_NAMES = {
    "agriculture": "agriculture",
    "mining": "mining",
    "logging": "logging",
    "fishing": "fishing",
    "construction": "construction",
    "manufacturing_electronics": "manufacturing and electronics",
    "garments_textiles_footwear": "garments, textiles and footwear",
    "food_processing": "food processing",
    "hospitality": "hospitality",
    "security_services": "security services",
    "cleaning_services": "cleaning services",
    "catering": "catering",
    "logistics": "logistics",
    "health_social_care": "health and social care",
}

ACTIONS = {
    "high": (
        "Map the supply chain at selection: require suppliers to declare where and by whom the "
        "goods or services are produced (PPN 02/23).",
        "Include modern-slavery contract clauses with flow-down to subcontractors and agents, "
        "and remedies up to termination (FAR 52.222-50; ABA Model Contract Clauses 2.0).",
        "Ask the supplier to complete a supplier self-assessment and act on its gaps.",
        "Manage the contract with enhanced monitoring: worker voice, audits of recruitment "
        "fees, documents and wages, and a grievance channel.",
    ),
    "medium": (
        "Assess the risk further before award: ask the supplier for a self-assessment and its "
        "recruitment and subcontracting practices (PPN 02/23: more than one indicator).",
        "Include modern-slavery contract clauses with flow-down to subcontractors.",
    ),
    "low": ("Use the standard modern-slavery contract terms; no further action is required.",),
}
FAR_ACTION = (
    "Require a compliance plan and annual certification before award (FAR 52.222-50(h), "
    "52.222-56): awareness, a non-retaliatory reporting channel, a recruitment and wage plan "
    "with no fees charged to workers, a housing plan, and monitoring of agents and "
    "subcontractors."
)


ENTITY_ACTION = (
    "Open or review the supplier's vetting case before any award, renewal or payment: the "
    "allegation or listing, the supplier's response, and whether to require remediation, "
    "suspend payments or end the contract (decisions are recorded and need a second officer "
    "where an allegation is credible)."
)
POSSIBLE_MATCH_ACTION = (
    "Review the possible watchlist match (confirm or reject it under Entities & vetting) "
    "before relying on this register for the supplier."
)


@dataclass(frozen=True)
class ScreeningConfig:
    """Thresholds of the rules; every one is reported with the results."""

    #: FAR 52.222-50(h) compliance-plan threshold in USD. $500,000 in the 2015 rule (80 FR
    #: 4967) and 22 U.S.C. 7104a; $550,000 after the October 2020 inflation adjustment.
    far_threshold_usd: float = 550_000.0
    #: Conversion rates to USD for the FAR trigger; other currencies are stated as not evaluated.
    usd_rates: Mapping[str, float] = field(default_factory=lambda: {"USD": 1.0})
    #: GSI 2023 prevalence per 1,000 at or above which a country counts as high-risk (the top
    #: fifth of the 160 countries with an estimate).
    gsi_prevalence: float = 8.0
    #: GSI 2023 government response (% of maximum) below which a country counts as high-risk
    #: (the bottom fifth of the 176 countries assessed).
    gsi_government_response: float = 36.0
    #: TIP Report placements that count as high-risk (the latest year held for the country).
    risky_tiers: tuple[str, ...] = ("Tier 3", "Tier 2 Watch List")
    #: Award value below this share of the tender estimate (same currency) is abnormally low.
    low_price_ratio: float = 0.7
    #: Contract values above this multiple of the award value after amendments are flagged.
    amendment_increase_ratio: float = 1.1

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> ScreeningConfig:
        """The configuration recorded in a run's ``run.json`` (see :meth:`to_dict`)."""
        return cls(
            far_threshold_usd=float(values["far_threshold_usd"]),
            usd_rates={str(k): float(v) for k, v in values["usd_rates"].items()},
            gsi_prevalence=float(values["gsi_prevalence"]),
            gsi_government_response=float(values["gsi_government_response"]),
            risky_tiers=tuple(values["risky_tiers"]),
            low_price_ratio=float(values["low_price_ratio"]),
            amendment_increase_ratio=float(values["amendment_increase_ratio"]),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "far_threshold_usd": self.far_threshold_usd,
            "usd_rates": dict(self.usd_rates),
            "gsi_prevalence": self.gsi_prevalence,
            "gsi_government_response": self.gsi_government_response,
            "risky_tiers": list(self.risky_tiers),
            "low_price_ratio": self.low_price_ratio,
            "amendment_increase_ratio": self.amendment_increase_ratio,
        }


# -- reference tables ----------------------------------------------------------------------------


def entity_flag_table(flags: Sequence[EntityFlag]) -> pa.Table:
    """Entity-screening flags as the ``ref_entity_flags`` table the rules join on."""

    def text(flag: EntityFlag) -> str:
        return f"{flag.status}; {flag.reason}" if flag.reason else flag.status

    return pa.table(
        {
            "supplier_key": pa.array([f.supplier_key for f in flags], pa.string()),
            "factor": pa.array([f.factor for f in flags], pa.string()),
            "detail": pa.array([f.entity for f in flags], pa.string()),
            "text": pa.array([text(f) for f in flags], pa.string()),
            "number": pa.array([f.score for f in flags], pa.float64()),
        }
    )


def reference_tables(
    refdata: ReferenceData,
    config: ScreeningConfig,
    entity_flags: Sequence[EntityFlag] = (),
) -> dict[str, pa.Table]:
    """The reference data the rules join against, as small Arrow tables."""
    goods = refdata.ilab_goods()
    ilab = pa.table(
        {
            "good": [g.good for g in goods],
            "iso3": [g.iso3 for g in goods],
            "forced": [g.any_forced_labor for g in goods],
            "child": [g.child_labor for g in goods],
            "edition": [goods.edition] * len(goods),
        }
    )
    risk_country: list[str] = []
    risk_reason: list[str] = []
    reasons: dict[str, list[str]] = {}
    gsi = refdata.gsi_index()
    for country in gsi:
        found: list[str] = []
        if (
            country.prevalence_per_1000 is not None
            and country.prevalence_per_1000 >= config.gsi_prevalence
        ):
            found.append(
                f"an estimated {country.prevalence_per_1000:.1f} people per 1,000 in modern "
                f"slavery (Global Slavery Index {gsi.edition})"
            )
        response = country.government_response.total
        if response is not None and response < config.gsi_government_response:
            found.append(
                f"a government response of {response:.0f}% (Global Slavery Index {gsi.edition})"
            )
        if found:
            reasons.setdefault(country.iso3, []).extend(found)
    latest: dict[str, tuple[int, str]] = {}
    for placement in refdata.tip_tier_series():
        if placement.tier is None:
            continue
        if placement.iso3 not in latest or placement.report_year > latest[placement.iso3][0]:
            latest[placement.iso3] = (placement.report_year, placement.tier.value)
    for iso3, (year, tier) in latest.items():
        if tier in config.risky_tiers:
            reasons.setdefault(iso3, []).append(f"{tier} in the {year} TIP Report")
    for iso3, found in sorted(reasons.items()):
        risk_country.append(iso3)
        risk_reason.append("; ".join(found))
    rates = sorted(config.usd_rates.items())
    return {
        "ref_ilab": ilab,
        "ref_country_risk": pa.table({"iso3": risk_country, "reason": risk_reason}),
        "ref_usd": pa.table(
            {"currency": [c for c, _ in rates], "rate": [float(r) for _, r in rates]}
        ),
        "ref_entity_flags": entity_flag_table(entity_flags),
    }


# -- the factors ----------------------------------------------------------------------------------

FACTOR_SCHEMA = ibis.schema(
    {
        "ocid": "string",
        "supplier_key": "string",
        "factor": "string",
        "good": "string",
        "country": "string",
        "industry": "string",
        "detail": "string",
        "number": "float64",
        "number2": "float64",
        "text": "string",
    }
)


def _shape(expr: ir.Table, factor: str, **columns: Any) -> ir.Table:
    """Project a rule's rows onto the common factor schema."""
    values: dict[str, Any] = {}
    for name, dtype in FACTOR_SCHEMA.items():
        if name == "factor":
            values[name] = ibis.literal(factor, type="string")
        elif name in columns:
            values[name] = columns[name].cast(dtype)
        else:
            values[name] = ibis.null(dtype)
    return expr.select(**values).distinct()


def compute_factors(
    t: Mapping[str, ir.Table], ref: Mapping[str, ir.Table], config: ScreeningConfig
) -> ir.Table:
    """Every factor row of every process, inside the engine."""
    items, suppliers, processes = t["items"], t["suppliers"], t["processes"]
    item_goods = items.select("ocid", good=items.goods.unnest()).distinct()
    item_industries = items.select("ocid", industry=items.industries.unnest()).distinct()
    supplier_places = suppliers.select("ocid", "supplier_key", "country").distinct()

    ilab = ref["ref_ilab"]
    goods_from = item_goods.join(supplier_places, "ocid")
    listed = goods_from.join(
        ilab, (goods_from.good == ilab.good) & (goods_from.country == ilab.iso3)
    )
    labour = ibis.cases(
        (listed.forced & listed.child, "forced labour and child labour"),
        (listed.forced, "forced labour"),
        else_="child labour",
    )
    rules: list[ir.Table] = [
        _shape(
            listed,
            "ilab_listed_good",
            ocid=listed.ocid,
            supplier_key=listed.supplier_key,
            good=listed.good,
            country=listed.country,
            text=listed.edition,
            detail=labour,
        )
    ]

    risky = item_industries.filter(item_industries.industry.isin(HIGH_RISK_INDUSTRIES))
    rules.append(_shape(risky, "high_risk_industry", ocid=risky.ocid, industry=risky.industry))
    intensive = item_industries.filter(item_industries.industry.isin(LABOUR_INTENSIVE))
    rules.append(
        _shape(
            intensive, "labour_intensive_services", ocid=intensive.ocid, industry=intensive.industry
        )
    )

    country_risk = ref["ref_country_risk"]
    placed = supplier_places.join(country_risk, supplier_places.country == country_risk.iso3)
    rules.append(
        _shape(
            placed,
            "country_risk",
            ocid=placed.ocid,
            supplier_key=placed.supplier_key,
            country=placed.country,
            text=placed.reason,
        )
    )

    risky_ocids = risky.select("ocid").union(goods_from.select("ocid")).distinct()
    weak = processes.join(risky_ocids, "ocid")
    method = weak.procurement_method.lower()
    weak = weak.filter(method.isin(("direct", "limited")) | (weak.number_of_tenderers == 1))
    how = ibis.cases(
        (weak.procurement_method.lower() == "direct", "a direct award"),
        (weak.procurement_method.lower() == "limited", "a limited procedure"),
        else_="awarded with a single tender",
    )
    rules.append(_shape(weak, "weak_competition", ocid=weak.ocid, text=how))

    priced = processes.filter(
        (processes.tender_value > 0)
        & (processes.award_value > 0)
        & (processes.tender_currency == processes.award_currency)
        & (processes.award_value < processes.tender_value * config.low_price_ratio)
    )
    rules.append(
        _shape(
            priced,
            "abnormally_low_price",
            ocid=priced.ocid,
            number=priced.tender_value,
            number2=priced.award_value,
            text=priced.tender_currency,
        )
    )

    sub = processes.filter(processes.has_subcontracting.fill_null(False))
    share = ibis.cases(
        (sub.subcontracting_share.notnull(), " (up to a published share of the value)"),
        else_="",
    )
    rules.append(
        _shape(sub, "subcontracting", ocid=sub.ocid, number=sub.subcontracting_share, text=share)
    )

    amended = processes.filter(
        (processes.amendment_count > 0)
        & (processes.award_value > 0)
        & (processes.contract_currency == processes.award_currency)
        & (processes.contract_value > processes.award_value * config.amendment_increase_ratio)
    )
    rules.append(
        _shape(
            amended,
            "amendment_value_increase",
            ocid=amended.ocid,
            number=amended.award_value,
            number2=amended.contract_value,
            text=amended.amendment_count.cast("string"),
        )
    )

    usd = ref["ref_usd"]
    valued = processes.mutate(
        value=ibis.coalesce(
            processes.contract_value, processes.award_value, processes.tender_value
        ),
        currency=ibis.coalesce(
            processes.contract_currency, processes.award_currency, processes.tender_currency
        ),
    )
    converted = valued.join(usd, valued.currency == usd.currency)
    converted = converted.mutate(value_usd=converted.value * converted.rate)
    abroad = converted.join(supplier_places, "ocid")
    abroad = abroad.filter(
        (abroad.value_usd > config.far_threshold_usd)
        & abroad.buyer_country.notnull()
        & abroad.country.notnull()
        & (abroad.country != abroad.buyer_country)
    )
    rules.append(
        _shape(
            abroad,
            "far_compliance_plan",
            ocid=abroad.ocid,
            supplier_key=abroad.supplier_key,
            country=abroad.buyer_country,
            number=abroad.value_usd,
            number2=ibis.literal(config.far_threshold_usd),
        )
    )

    flags = ref["ref_entity_flags"]
    flagged = supplier_places.join(flags, "supplier_key")
    for code in ENTITY_FACTORS:
        hits = flagged.filter(flagged.factor == code)
        rules.append(
            _shape(
                hits,
                code,
                ocid=hits.ocid,
                supplier_key=hits.supplier_key,
                detail=hits.detail,
                text=hits.text,
                number=hits.number,
            )
        )

    factors = rules[0]
    for more in rules[1:]:
        factors = factors.union(more)
    return factors


def compute_uncertainties(t: Mapping[str, ir.Table], config: ScreeningConfig) -> ir.Table:
    """What could not be judged for each process, stated instead of scored as zero."""
    processes, suppliers, items = t["processes"], t["suppliers"], t["items"]
    rows: list[ir.Table] = []

    def add(expr: ir.Table, code: str) -> None:
        rows.append(expr.select(ocid=expr.ocid, uncertainty=ibis.literal(code)).distinct())

    unknown = suppliers.filter(suppliers.country.isnull())
    add(unknown, "supplier_country_unknown")
    no_supplier = processes.anti_join(suppliers, "ocid")
    add(no_supplier, "no_supplier_published")
    classified = items.filter((items.goods.length() > 0) | (items.industries.length() > 0))
    add(processes.anti_join(classified, "ocid"), "nothing_classified")
    valued = processes.filter(
        processes.tender_value.isnull()
        & processes.award_value.isnull()
        & processes.contract_value.isnull()
    )
    add(valued, "no_value_published")
    add(processes.filter(processes.has_subcontracting.isnull()), "subcontracting_not_published")
    currency = ibis.coalesce(
        processes.contract_currency, processes.award_currency, processes.tender_currency
    )
    known = list(config.usd_rates)
    not_converted = processes.filter(currency.notnull() & ~currency.isin(known))
    add(not_converted, "currency_not_converted")
    result = rows[0]
    for more in rows[1:]:
        result = result.union(more)
    return result


UNCERTAINTIES = {
    "supplier_country_unknown": "A supplier's country is not published or not recognised, so "
    "country and ILAB checks could not be made for it.",
    "no_supplier_published": "No supplier is published (no award yet, or not disclosed).",
    "nothing_classified": "Nothing bought could be classified from its codes or descriptions.",
    "no_value_published": "No value is published.",
    "subcontracting_not_published": "Whether the work is subcontracted is not published (a "
    "transparency gap in almost all OCDS data).",
    "currency_not_converted": "The value is in a currency without a configured USD rate, so the "
    "FAR compliance-plan threshold was not evaluated.",
}


def compute_register(processes: ir.Table, factors: ir.Table, uncertainties: ir.Table) -> ir.Table:
    """One row per process: its level, score and factor counts (the reasons are ``factors``)."""
    weights = ibis.memtable(
        pa.table(
            {
                "factor": list(FACTORS),
                "weight": [f.weight for f in FACTORS.values()],
                "dimension": [f.dimension for f in FACTORS.values()],
            }
        )
    )
    weighted = factors.join(weights, "factor")
    per_dimension = weighted.group_by(["ocid", "dimension", "weight"]).aggregate(n=weighted.count())
    summary = per_dimension.group_by("ocid").aggregate(
        # count(where=...), not sum(): DuckDB sums BIGINT into HUGEINT.
        strong=per_dimension.count(where=per_dimension.weight == "strong"),
        moderate=per_dimension.count(where=per_dimension.weight == "moderate"),
        context=per_dimension.count(where=per_dimension.weight == "context"),
    )
    unsure = uncertainties.group_by("ocid").aggregate(
        uncertainties=uncertainties.count().cast("int64")
    )
    joined = processes.left_join(summary, "ocid").left_join(unsure, "ocid")
    strong = joined.strong.fill_null(0)
    moderate = joined.moderate.fill_null(0)
    level = ibis.cases(
        (((strong >= 1) & (strong + moderate >= 2)) | (moderate >= 3), "high"),
        ((strong >= 1) | (moderate >= 2), "medium"),
        else_="low",
    )
    return joined.select(
        "ocid",
        "title",
        "buyer_name",
        "buyer_key",
        "buyer_country",
        "main_category",
        "procurement_method",
        "date",
        value=ibis.coalesce(joined.contract_value, joined.award_value, joined.tender_value),
        currency=ibis.coalesce(
            joined.contract_currency, joined.award_currency, joined.tender_currency
        ),
        level=level,
        score=strong * 3 + moderate * 2 + joined.context.fill_null(0),
        strong=strong,
        moderate=moderate,
        uncertainties=joined.uncertainties.fill_null(0),
        source_file=joined.source_file,
    )


def explain(row: Mapping[str, Any], country_names: Mapping[str, str]) -> str:
    """The sentence a person reads for one factor row."""
    factor = FACTORS[row["factor"]]
    number = row.get("number")
    number2 = row.get("number2")
    percent = ""
    if number and number2 is not None:
        percent = f"{number2 / number:.0%}"
    country = row.get("country")
    values = {
        "good": row.get("good") or "",
        "country_name": country_names.get(country or "", country or "an unknown country"),
        "industry_name": INDUSTRY_NAMES.get(row.get("industry") or "", row.get("industry") or ""),
        "labour": row.get("detail") or "",
        "detail": row.get("detail") or "",
        "text": row.get("text") or "",
        "number": f"{number:,.0f}" if isinstance(number, int | float) else "",
        "number2": f"{number2:,.0f}" if isinstance(number2, int | float) else "",
        "percent": percent,
    }
    sentence = factor.template.format(**values)
    return sentence[:1].upper() + sentence[1:]


def actions_for(level: str, factor_codes: Sequence[str]) -> list[str]:
    """The due-diligence actions a level (and the FAR trigger) requires."""
    actions = list(ACTIONS[level])
    if "far_compliance_plan" in factor_codes:
        actions.append(FAR_ACTION)
    if "supplier_allegation" in factor_codes or "supplier_listed" in factor_codes:
        actions.append(ENTITY_ACTION)
    elif "supplier_possible_match" in factor_codes:
        actions.append(POSSIBLE_MATCH_ACTION)
    return actions


FORCED_LABOUR_CODES = ("ILO-07", "ILO-08", "ILO-09")
CHILD_LABOUR_CODES = ("TIP-CHILD",)


def factor_indicators(row: Mapping[str, Any]) -> tuple[str, ...]:
    """The indicator codes one factor row bears on (an ILAB listing by the labour it names)."""
    if row["factor"] == "ilab_listed_good":
        detail = row.get("detail") or ""
        codes: tuple[str, ...] = ()
        if "forced" in detail:
            codes += FORCED_LABOUR_CODES
        if "child" in detail:
            codes += CHILD_LABOUR_CODES
        return codes
    return FACTORS[row["factor"]].indicators


def indicator_codes(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    codes: set[str] = set()
    for row in rows:
        codes.update(factor_indicators(row))
    return sorted(codes)
