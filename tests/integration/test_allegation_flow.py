"""End to end: a public report becomes a credible allegation that blocks vetting and raises
the supplier in the procurement register.

report (public form data) -> allegations created by an investigator -> a decision-maker finds
them credible -> the unit's vetting cannot be approved by one officer -> the supplier's
processes rise in the procurement register, with the allegation as the reason.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from tests.procurement.conftest import release, write_package
from tests.reports.conftest import form
from tipaudit.core.roles import Role
from tipaudit.errors import ConflictError, TwoPersonRuleError
from tipaudit.procurement.classify import Classifier
from tipaudit.procurement.ingest import IngestOptions
from tipaudit.procurement.outputs import register_rows
from tipaudit.procurement.screening import screen
from tipaudit.reports.content import validate_submission
from tipaudit.services.accounts import StaffUser
from tipaudit.services.container import Services
from tipaudit.services.procurement import ProcurementRuns

PASSWORD = "a long enough passphrase"
SUPPLIER = "Fictional Supplier of ocds-e2e-clean"
UNIT = "9th Example Coastal Battalion (fictional)"


def _user(services: Services, name: str, *roles: Role) -> StaffUser:
    services.accounts.create_user(name, PASSWORD, roles=set(roles))
    return services.accounts.get_user(name)


def _levels(services: Services) -> dict[str, dict]:  # type: ignore[type-arg]
    run = ProcurementRuns(services.settings).open()
    return {row["ocid"]: row for row in register_rows(run)}


def test_report_to_credible_allegation_to_blocked_vetting_and_raised_supplier(
    services: Services, tmp_path: Path
) -> None:
    investigator = _user(services, "ivan", Role.INVESTIGATOR)
    decider = _user(services, "dora", Role.DECISION_MAKER)
    olga = _user(services, "olga", Role.VETTING_OFFICER)
    omar = _user(services, "omar", Role.VETTING_OFFICER)
    sample_lists = Path(str(resources.files("tipaudit") / "screening" / "data"))
    services.watchlists.import_list(
        "system",
        "fictional-demo",
        sample_lists / "fictional-demo-list.csv",
        "csv",
        title="Fictional demonstration list",
        source="written for tipaudit; every entry is fictional",
        kind="sample",
    )

    # A screened procurement run: cleaning services bought from the supplier (medium risk).
    package = write_package(
        tmp_path / "ocds.json",
        [
            release(
                "ocds-e2e-clean",
                supplier_country="Denmark",
                items=[("90910000", "Office cleaning services")],
            ),
            release("ocds-e2e-paper", supplier_country="Denmark", items=[("30197630", "Paper")]),
        ],
    )
    runs = ProcurementRuns(services.settings)
    run = screen(
        [package],
        folder=runs.new_folder(),
        refdata=services.refdata,
        classifier=Classifier.load(),
        options=IngestOptions(),
    )
    assert "medium" == _levels(services)["ocds-e2e-clean"]["level"]

    # 1. Someone reports abuse by the supplier and by a unit the government supports.
    data = form(
        subject_0_kind="contractor",
        subject_0_name=SUPPLIER,
        subject_0_identifiers="",
        subject_1_kind="unit",
        subject_1_name=UNIT,
    )
    submitted = services.reports.submit(validate_submission(data))
    reference = submitted.reference

    # 2. An investigator records the accused as allegations (pending: they count for nothing).
    supplier_allegation = services.reports.create_allegation(
        investigator,
        reference,
        name=SUPPLIER,
        schema="Company",
        country="DK",
        identifiers=[],
        summary="Workers' passports retained (fictional test entry).",
        reason="named in the report",
    )
    unit_allegation = services.reports.create_allegation(
        investigator,
        reference,
        name=UNIT,
        schema="Organization",
        country="SS",
        identifiers=[],
        summary="Forced recruitment reported (fictional test entry).",
        reason="named in the report",
    )
    # The suppliers are screened against the lists and the allegations register; a pending
    # allegation does not raise anything.
    services.vetting.screen_procurement_run(
        olga, run.folder, ["fictional-demo", "allegations"], threshold=0.7
    )
    assert "medium" == _levels(services)["ocds-e2e-clean"]["level"]

    # 3. A decision-maker finds both allegations credible, with reasons.
    for allegation_id in (supplier_allegation, unit_allegation):
        services.reports.set_allegation_status(
            decider, reference, allegation_id, "credible", reason="corroborated by two sources"
        )

    # 4. The unit's vetting can no longer be approved by one officer.
    case_id = services.vetting.open_case(
        olga, purpose="security_assistance", name=UNIT, country="SS", lists=["fictional-demo"]
    )
    services.vetting.screen_case(olga, case_id)
    assert services.vetting.case(case_id).blockers
    with pytest.raises(ConflictError):
        services.vetting.decide_case(olga, case_id, "approve", reason="looks fine to me")
    approval_id = services.vetting.request_override(
        olga, case_id, reason="training only, monitored by the embassy"
    )
    with pytest.raises(TwoPersonRuleError):
        services.approvals.decide(approval_id, olga, approve=True, reason="approving my own")
    assert "override_requested" == services.vetting.case(case_id).status
    services.approvals.decide(approval_id, omar, approve=True, reason="mitigation reviewed")
    assert "approved" == services.vetting.case(case_id).status

    # 5. The matches are shown "to review": nothing is scored until a reviewer confirms that
    # the allegation is about this supplier (a similar name is not the same company).
    rows = _levels(services)
    assert "medium" == rows["ocds-e2e-clean"]["level"]
    assert "supplier_possible_match" in rows["ocds-e2e-clean"]["factors"]
    candidates = {
        m.query_name: m
        for m in services.vetting.matches(status="candidate")
        if m.list_kind == "allegations" and m.entity_id == supplier_allegation
    }
    assert SUPPLIER in candidates
    services.vetting.decide_match(
        olga, candidates[SUPPLIER].id, "confirmed", reason="same registry number and address"
    )
    for name, match in candidates.items():
        if name != SUPPLIER:  # the other supplier only has a similar (fictional) name
            services.vetting.decide_match(
                olga, match.id, "rejected", reason="a different company with a similar name"
            )

    # 6. The supplier's contracts rise in the register, with the allegation as the reason.
    rows = _levels(services)
    clean = rows["ocds-e2e-clean"]
    assert "high" == clean["level"]
    assert "supplier_allegation" in clean["factors"]
    reason = next(r for r in clean["reasons"] if "allegations register" in r)
    assert supplier_allegation in reason
    assert "credible" in reason
    paper = rows["ocds-e2e-paper"]
    assert not {"supplier_allegation", "supplier_possible_match"} & set(paper["factors"])
