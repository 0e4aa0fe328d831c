"""The screening rules: prohibition versus permission, negation, exceptions, restrictions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tipaudit.core.indicators import load_taxonomy
from tipaudit.policy.check import screen_provision
from tipaudit.policy.evaluate import _single, load_labelled
from tipaudit.policy.rubrics import find_item
from tipaudit.policy.rulebook import load_rulebook


def risks(text: str, lead_in: str = "", policy_type: str | None = None) -> set[str]:
    findings, _ = screen_provision(_single(text, lead_in), load_rulebook(), policy_type)
    return {f.rule_id for f in findings}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # prohibition protects, permission creates risk
        ("Employers shall not retain workers' passports.", set()),
        ("The employer may retain passports for safekeeping.", {"docs-retention"}),
        ("No employer shall retain a worker's passport.", set()),
        (
            "An employer is entitled to keep the identity documents of its workers.",
            {"docs-retention"},
        ),
        ("Employers are prohibited from retaining passports.", set()),
        ("The retention of passports by employers is prohibited.", set()),
        ("Any employer who confiscates a worker's passport commits an offence.", set()),
        ("Employers shall not be prohibited from retaining passports.", {"docs-retention"}),
        # exceptions: reopen the risk unless the worker keeps access
        ("No employer shall retain a passport except for safekeeping.", {"docs-retention"}),
        (
            "No employer shall retain a passport, except at the worker's request and with "
            "access at any time.",
            set(),
        ),
        ("No employer shall retain a passport unless a court orders it.", {"docs-retention"}),
        # "not later than" is not a negation
        (
            "The employer shall, not later than 30 days after arrival, retain the passport.",
            {"docs-retention"},
        ),
        # fees
        ("No fee shall be charged to workers.", set()),
        ("Recruitment fees shall be borne by the employer, not the worker.", set()),
        (
            "The agency may charge workers a recruitment fee capped at one month's wage.",
            {"worker-pays-fees"},
        ),
        ("The worker shall bear the visa and medical costs of recruitment.", {"worker-pays-fees"}),
        # freedoms: denying or conditioning them is the risk
        ("Workers may change employer at any time.", set()),
        ("Workers may not change employer.", {"employer-tied-permit"}),
        (
            "Workers may change employer only with the approval of the employer.",
            {"employer-tied-permit"},
        ),
        ("Workers may change employer without the approval of the employer.", set()),
        ("No worker shall be prevented from changing employer.", set()),
        ("The deployment of women as domestic workers is hereby suspended.", {"deployment-ban"}),
        ("Women may be deployed as domestic workers through licensed agencies.", set()),
        ("This Act shall not apply to domestic workers.", {"domestic-workers-excluded"}),
        ("This Act applies to domestic workers.", set()),
        # statements
        ("The visa is tied to a single employer.", {"employer-tied-permit"}),
        ("The visa shall not be tied to a single employer.", set()),
        # Spanish
        ("El empleador podrá retener el pasaporte del trabajador.", {"docs-retention"}),
        ("Se prohíbe retener el pasaporte del trabajador.", set()),
        ("El trabajador podrá cambiar de empleador.", set()),
        ("El trabajador no podrá cambiar de empleador.", {"employer-tied-permit"}),
        # passive voice, coordinated clauses, lifting a ban
        ("Passports of workers shall be kept by the employer.", {"docs-retention"}),
        ("It shall be unlawful for any employer to retain a worker's passport.", set()),
        (
            "The employer shall not charge, and the worker shall not pay, any recruitment fee.",
            set(),
        ),
        (
            "The employer shall not charge fees, and the worker shall pay the recruitment fees.",
            {"worker-pays-fees"},
        ),
        ("The Ministry may lift the ban on the deployment of women domestic workers.", set()),
        ("Workers are not allowed to change employers.", {"employer-tied-permit"}),
        # definitions and neutral wording
        ("The term “debt bondage” means the status arising from a pledge of services.", set()),
        ("The applicant shall attach a copy of the passport.", set()),
    ],
)
def test_modality_and_negation(text: str, expected: set[str]) -> None:
    assert risks(text) == expected


def test_lead_in_decides_list_items() -> None:
    item = "Charging recruited employees placement or recruitment fees."
    prohibited = (
        "The agency may terminate the contract if the contractor engages in the following acts:"
    )
    assert risks(item, prohibited) == set()
    # the same item under a neutral lead-in and with a permission is a risk
    assert risks("Contractors may charge recruited employees placement fees.") == {
        "worker-pays-fees"
    }


def test_finding_explains_itself() -> None:
    findings, decisions = screen_provision(
        _single("The employer may retain the worker's passport for safekeeping."),
        load_rulebook(),
        "visa_scheme",
    )
    (finding,) = findings
    assert finding.item_id == "lm-documents"  # the item that applies to a visa scheme
    assert "“may”" in finding.decision
    assert finding.evidence is not None
    assert finding.evidence.match == "retain the worker's passport"
    assert finding.alternative.startswith("Prohibit")
    assert finding.sources
    assert decisions
    assert decisions[0][1].outcome == "risk"
    # the rubric item cited depends on the policy type
    (proc,) = screen_provision(
        _single("The contractor may retain the passports of its employees."),
        load_rulebook(),
        "procurement_framework",
    )[0]
    assert proc.item_id == "proc-documents"


def test_rules_cite_real_items_and_codes() -> None:
    rulebook = load_rulebook()
    taxonomy = load_taxonomy()
    for rule in rulebook.risks:
        for item_id in rule.items:
            find_item(item_id)
        assert all(code in taxonomy for code in rule.indicators)
    for prot in rulebook.protections:
        assert prot.items
        for item_id in prot.items.values():
            find_item(item_id)


def test_labelled_set_covers_every_rule_in_both_parts() -> None:
    labelled = load_labelled()
    rulebook = load_rulebook()
    for rule in rulebook.risks:
        for split in ("tuning", "heldout"):
            assert any(rule.id in p.risks and p.split == split for p in labelled.provisions), (
                rule.id,
                split,
            )
    assert any(p.label == "protective" and p.lang == "es" for p in labelled.provisions)
    missing_types = {m for d in labelled.documents for m in d.missing}
    expected = {p.id for p in rulebook.protections}
    assert len(missing_types) >= len(expected) - 4


def test_pathological_input_is_fast() -> None:
    import time

    text = ("worker " * 2000) + "pay " + ("fee " * 2000)
    start = time.perf_counter()
    risks(text)
    risks("(" * 5000 + "the employer may retain" + " x" * 3000)
    assert time.perf_counter() - start < 5


def test_keyword_prefilter_never_changes_a_result() -> None:
    from tipaudit.policy.bundled import BUNDLED_TEXTS, bundled_path
    from tipaudit.policy.provisions import split_document
    from tipaudit.policy.reading import read_document

    rulebook = load_rulebook()
    provisions = [
        _single(item.text) for item in load_labelled().provisions if item.text is not None
    ]
    for text in BUNDLED_TEXTS:
        provisions.extend(split_document(read_document(bundled_path(text.file))))
    assert len(provisions) > 300
    for provision in provisions:
        fast, fast_decisions = screen_provision(provision, rulebook, "other")
        slow, slow_decisions = screen_provision(provision, rulebook, "other", prefilter=False)
        assert [f.rule_id for f in fast] == [f.rule_id for f in slow], provision.text
        assert fast_decisions == slow_decisions, provision.text


_WORDS = st.sampled_from(
    [
        "the",
        "employer",
        "worker",
        "may",
        "shall",
        "not",
        "no",
        "retain",
        "passport",
        "fee",
        "pay",
        "change",
        "only",
        "with",
        "consent",
        "of",
        "except",
        "unless",
        "prohibited",
        "is",
        "hereby",
        ";",
        ":",
        ",",
        "and",
        "women",
        "deployment",
        "domestic",
        "workers",
        "visa",
        "tied",
        "to",
        "a",
        "single",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_WORDS, max_size=40).map(" ".join))
def test_decisions_are_total_and_explained(text: str) -> None:
    findings, decisions = screen_provision(_single(text), load_rulebook(), "visa_scheme")
    for _, decision in decisions:
        assert decision.outcome in {"risk", "protective", "neutral"}
        assert decision.reason
    for finding in findings:
        assert finding.evidence is not None
        assert finding.evidence.match in text
        assert finding.decision.startswith(f"Rule {finding.rule_id} matched")
