"""Entity vetting: saved matches and decisions, allegations, support, cases, overrides, alerts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tipaudit.audit import AuditAction
from tipaudit.core.clock import utcnow
from tipaudit.core.roles import Role
from tipaudit.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    TwoPersonRuleError,
    ValidationError,
)
from tipaudit.screening import Query
from tipaudit.services.accounts import StaffUser
from tipaudit.services.container import Services
from tipaudit.storage.vetting import AllegationStatusChange, EntityMatch, MatchDecision

PASSWORD = "a long enough passphrase"
HEADER = "id,name,aliases,schema,country,identifiers,list,reason,source_url,start_date,end_date\n"
REASON = "checked the registry extract and the list entry"


def _write(path: Path, *rows: str) -> Path:
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def _user(services: Services, name: str, *roles: Role) -> StaffUser:
    return services.accounts.create_user(name, PASSWORD, roles=set(roles))


@pytest.fixture
def officers(services: Services) -> tuple[StaffUser, StaffUser]:
    return (
        _user(services, "olga", Role.VETTING_OFFICER),
        _user(services, "omar", Role.VETTING_OFFICER),
    )


@pytest.fixture
def demo_list(services: Services, tmp_path: Path) -> Path:
    path = _write(
        tmp_path / "demo.csv",
        "f-1,Zebra Quartz Foundry Ltd (fictional),,Company,KE,reg:FICT-77,Test,"
        "fictional entry,https://example.org/f-1,,",
        "f-2,Yellow Onyx Mills (fictional),,Company,KE,,Test,fictional entry,,,",
    )
    services.watchlists.import_list("system:test", "demo", path, "csv", kind="sample")
    return path


def _actions(services: Services) -> list[str]:
    return [r.action for r in services.audit.recent(5000)]


# --- matches and decisions ------------------------------------------------------------------


def test_rejected_pair_is_suppressed_on_later_runs(
    services: Services, officers: tuple[StaffUser, StaffUser], demo_list: Path
) -> None:
    olga, omar = officers
    queries = [
        Query("supplier:S1", "Company", ("Zebra Quartz Foundry Limited",), ("KE",)),
        Query("supplier:S2", "Company", ("Totally Different Bakery",)),
    ]
    first = services.vetting.screen_and_save(olga, queries, ["demo"], purpose="procurement")
    assert (2, 1, 0) == (first.queries, first.flagged, first.suppressed)
    match = first.matches[0]
    assert ("supplier:S1", "demo", "f-1", "candidate") == (
        match.query_ref,
        match.list_slug,
        match.entity_id,
        match.status,
    )
    assert "name_similarity" in {f["name"] for f in match.features}
    assert match.explanation.startswith("f-1: score")

    services.vetting.decide_match(
        olga, match.id, "rejected", reason="different company, other town"
    )
    second = services.vetting.screen_and_save(omar, queries, ["demo"], purpose="procurement")
    assert (1, 1) == (second.flagged, second.suppressed)
    assert "suppressed" == second.matches[0].status
    assert [] == services.vetting.supplier_matches()
    assert [] == services.vetting.matches(status="candidate")

    # A new decision supersedes; the old one is kept.
    services.vetting.decide_match(omar, second.matches[0].id, "confirmed", reason=REASON)
    view, history = services.vetting.match(first.matches[0].id)
    assert (["confirmed", "rejected"], "confirmed") == (
        [d.decision for d in history],
        view.status,
    )
    found = services.vetting.supplier_matches(["S1"])
    assert [("S1", "f-1", "confirmed", None, "https://example.org/f-1")] == [
        (m.supplier_key, m.entity_id, m.decision, m.allegation_status, m.source_url) for m in found
    ]
    assert [] == services.vetting.supplier_matches(["S2"])
    with services.db.read() as session:
        assert 2 == len(session.scalars(select(MatchDecision)).all())
    assert 2 == _actions(services).count(AuditAction.MATCH_DECIDED.value)


def test_a_changed_entry_lifts_a_rejection(
    services: Services, officers: tuple[StaffUser, StaffUser], demo_list: Path, tmp_path: Path
) -> None:
    olga, _ = officers
    queries = [Query("party:1", "Company", ("Yellow Onyx Mills",))]
    first = services.vetting.screen_and_save(olga, queries, ["demo"])
    services.vetting.decide_match(olga, first.matches[0].id, "rejected", reason=REASON)
    changed = _write(
        tmp_path / "v2.csv",
        "f-1,Zebra Quartz Foundry Ltd (fictional),,Company,KE,,Test,fictional entry,,,",
        "f-2,Yellow Onyx Mills (fictional),,Company,KE,,Test,now listed for forced labour,,,",
    )
    services.watchlists.import_list("system:test", "demo", changed, "csv", kind="sample")
    again = services.vetting.screen_and_save(olga, queries, ["demo"])
    assert (0, "candidate", True) == (
        again.suppressed,
        again.matches[0].status,
        again.matches[0].entry_changed,
    )


def test_decisions_need_permission_and_reason(
    services: Services, officers: tuple[StaffUser, StaffUser], demo_list: Path
) -> None:
    olga, _ = officers
    analyst = _user(services, "paula", Role.PROCUREMENT_ANALYST)
    result = services.vetting.screen_and_save(
        olga, [Query("party:x", "Company", ("Zebra Quartz Foundry",))], ["demo"]
    )
    match_id = result.matches[0].id
    with pytest.raises(PermissionDeniedError):
        services.vetting.decide_match(analyst, match_id, "rejected", reason=REASON)
    with pytest.raises(PermissionDeniedError):
        services.vetting.screen_and_save(analyst, [], ["demo"])
    with pytest.raises(ValidationError):
        services.vetting.decide_match(olga, match_id, "rejected", reason="no")
    with pytest.raises(ValidationError):
        services.vetting.decide_match(olga, match_id, "maybe", reason=REASON)
    with pytest.raises(NotFoundError):
        services.vetting.decide_match(olga, 10**12, "rejected", reason=REASON)
    with pytest.raises(ValidationError):
        services.vetting.screen_and_save(olga, [Query("nope", "Company", ("A",))], ["demo"])
    with pytest.raises(NotFoundError):
        services.vetting.screen_and_save(olga, [], ["no-such-list"])


# --- allegations ----------------------------------------------------------------------------


def test_allegations_count_only_when_credible(
    services: Services, officers: tuple[StaffUser, StaffUser]
) -> None:
    olga, omar = officers
    investigator = _user(services, "ivan", Role.INVESTIGATOR)
    allegation_id = services.allegations.create(
        investigator,
        name="Quiet Harbour Manning Agency (fictional)",
        schema="Company",
        country="Kenya",
        identifiers=["reg:QH-1"],
        aliases=["QH Manning (fictional)"],
        source_ref="R-2026-0042",
        summary="Workers report passports withheld (fictional test entry).",
        reason="recorded from public report R-2026-0042",
    )
    assert allegation_id.startswith("AL-")
    view = services.allegations.get(allegation_id)
    assert ("pending", "KE", ("reg:qh1",), False) == (
        view.status,
        view.country,
        view.identifiers,
        view.counts,
    )
    queries = [Query("supplier:QH", "Company", ("Quiet Harbour Manning Agency",))]
    pending = services.vetting.screen_and_save(olga, queries, ["allegations"])
    assert ["pending"] == [m.allegation_status for m in pending.matches]
    assert [] == services.vetting.supplier_matches()

    # Only someone else may find it credible; the investigator who recorded it may not.
    with pytest.raises(PermissionDeniedError):
        services.allegations.set_status(investigator, allegation_id, "credible", reason=REASON)
    creator = _user(services, "vera", Role.VETTING_OFFICER)
    other = services.allegations.create(
        creator,
        name="Other Example (fictional)",
        schema="Organization",
        country=None,
        identifiers=[],
        source_ref=None,
        summary="test",
        reason=REASON,
    )
    with pytest.raises(TwoPersonRuleError):
        services.allegations.set_status(creator, other, "credible", reason=REASON)
    services.allegations.set_status(omar, allegation_id, "credible", reason=REASON)
    found = services.vetting.supplier_matches(["QH"])
    assert [("credible", "allegations")] == [(m.allegation_status, m.list_kind) for m in found]
    services.allegations.set_status(olga, allegation_id, "unsubstantiated", reason=REASON)
    assert [] == services.vetting.supplier_matches(["QH"])
    view = services.allegations.get(allegation_id)
    assert [None, "pending", "credible"] == [h.old_status for h in view.history]
    with services.db.read() as session:
        assert 4 == len(session.scalars(select(AllegationStatusChange)).all())
    assert ["R-2026-0042"] == [
        a.source_ref for a in services.allegations.list(source_ref="R-2026-0042")
    ]
    assert {allegation_id, other} == {a.id for a in services.allegations.list()}
    assert [allegation_id] == [a.id for a in services.allegations.list("unsubstantiated")]
    records = [r for r in services.audit.recent(5000) if r.object_type == "allegation"]
    assert all("Quiet" not in str(r.details) for r in records)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "x" * 5000),
        ("schema", "Vessel"),
        ("country", "Atlantis"),
        ("source_ref", "R 1; DROP TABLE"),
        ("summary", "y" * 5000),
        ("identifiers", "not-a-list"),
        ("reason", "short"),
    ],
)
def test_allegation_input_is_checked(
    services: Services, officers: tuple[StaffUser, StaffUser], field: str, value: object
) -> None:
    fields: dict[str, object] = {
        "name": "Example (fictional)",
        "schema": "Company",
        "country": "KE",
        "identifiers": [],
        "source_ref": "R-1",
        "summary": "fictional",
        "reason": REASON,
    }
    fields[field] = value
    with pytest.raises(ValidationError):
        services.allegations.create(officers[0], **fields)  # type: ignore[arg-type]
    assert [] == list(services.allegations.list())


# --- vetting cases and the two-person override ----------------------------------------------


def _credible_unit(services: Services, reporter: StaffUser, reviewer: StaffUser) -> str:
    allegation_id = services.allegations.create(
        reporter,
        name="7th Example Rifles Battalion (fictional)",
        schema="Organization",
        country="SS",
        identifiers=[],
        source_ref="R-2026-0007",
        summary="Credible account of abuse by the unit (fictional test entry).",
        reason="recorded from report R-2026-0007",
    )
    services.allegations.set_status(reviewer, allegation_id, "credible", reason=REASON)
    return allegation_id


def test_credible_allegation_needs_a_second_officer(
    services: Services, officers: tuple[StaffUser, StaffUser], demo_list: Path
) -> None:
    """The core rule: one officer alone cannot approve a unit with a credible allegation."""
    olga, omar = officers
    _credible_unit(services, omar, olga)
    case_id = services.vetting.open_case(
        olga,
        purpose="security_assistance",
        name="7th Example Rifles Battalion",
        country="South Sudan",
        lists=["demo"],
    )
    services.vetting.add_subject(
        olga, case_id, role="commander", name="Jon Example-Commander", birth_date="1970"
    )
    with pytest.raises(ValidationError, match="screen"):
        services.vetting.decide_case(olga, case_id, "approve", reason=REASON)
    result = services.vetting.screen_case(olga, case_id)
    case = services.vetting.case(case_id)
    assert [("credible allegation",)] == [m.blocking_reasons for m in case.blockers]
    assert result.screening_id == services.vetting.case(case_id).matches[0].screening_id

    with pytest.raises(ConflictError, match="two-person override"):
        services.vetting.decide_case(olga, case_id, "approve", reason=REASON)
    assert "open" == services.vetting.case(case_id).status

    approval_id = services.vetting.request_override(
        olga, case_id, reason="assistance limited to human-rights training, monitored"
    )
    assert "override_requested" == services.vetting.case(case_id).status
    with pytest.raises(TwoPersonRuleError):
        services.approvals.decide(approval_id, olga, approve=True, reason="I approve my own")
    analyst = _user(services, "paula", Role.PROCUREMENT_ANALYST)
    with pytest.raises(TwoPersonRuleError):
        services.approvals.decide(approval_id, analyst, approve=True, reason=REASON)
    assert "override_requested" == services.vetting.case(case_id).status

    services.approvals.decide(approval_id, omar, approve=True, reason="reviewed the mitigation")
    case = services.vetting.case(case_id)
    decision = case.decisions[0]
    assert ("approved", "olga", "omar", "reviewed the mitigation", approval_id) == (
        case.status,
        decision.decided_by,
        decision.override_by,
        decision.override_reason,
        decision.override_approval_id,
    )
    assert ["credible allegation"] == decision.blockers[0]["why"]
    assert case.valid_until is not None
    assert case.revet_on is not None
    assert case.revet_on <= case.valid_until
    actions = _actions(services)
    assert {
        AuditAction.VETTING_OVERRIDE_REQUESTED.value,
        AuditAction.APPROVAL_GRANTED.value,
        AuditAction.VETTING_DECIDED.value,
    } <= set(actions)


def test_rejected_override_reopens_the_case(
    services: Services, officers: tuple[StaffUser, StaffUser], demo_list: Path
) -> None:
    olga, omar = officers
    _credible_unit(services, omar, olga)
    case_id = services.vetting.open_case(
        olga, purpose="security_assistance", name="7th Example Rifles Battalion", lists=["demo"]
    )
    services.vetting.screen_case(olga, case_id)
    approval_id = services.vetting.request_override(olga, case_id, reason=REASON)
    with pytest.raises(ConflictError):
        services.vetting.request_override(olga, case_id, reason=REASON)
    services.approvals.decide(approval_id, omar, approve=False, reason="not acceptable risk")
    assert "open" == services.vetting.case(case_id).status
    assert "denied" == services.vetting.decide_case(omar, case_id, "deny", reason=REASON).status
    assert ["deny"] == [d.decision for d in services.vetting.case(case_id).decisions]


def test_open_candidates_and_child_recruitment(
    services: Services, officers: tuple[StaffUser, StaffUser], tmp_path: Path
) -> None:
    olga, omar = officers
    path = _write(
        tmp_path / "caac.csv",
        "c-1,Example Northern Brigade (fictional),,Organization,,,Test,"
        "recruitment and use of children in armed conflict (fictional),,,",
        "c-2,Example Harbour Traders (fictional),,Company,,,Test,debarred (fictional),,,",
    )
    services.watchlists.import_list("system:test", "caac", path, "csv", kind="sample")
    case_id = services.vetting.open_case(
        olga, purpose="contract_award", name="Example Harbour Traders", lists=["caac"]
    )
    services.vetting.screen_case(olga, case_id)
    with pytest.raises(ValidationError, match="candidate"):
        services.vetting.decide_case(olga, case_id, "approve", reason=REASON)
    candidate = services.vetting.case(case_id).open_candidates[0]
    services.vetting.decide_match(olga, candidate.id, "rejected", reason=REASON)
    outcome = services.vetting.decide_case(
        olga, case_id, "approve", reason=REASON, valid_until=utcnow().date() + timedelta(days=90)
    )
    assert "approved" == outcome.status

    brigade = services.vetting.open_case(
        omar, purpose="security_assistance", name="Example Northern Brigade", lists=["caac"]
    )
    services.vetting.screen_case(omar, brigade)
    assert [("child-recruitment listing",)] == [
        m.blocking_reasons for m in services.vetting.case(brigade).blockers
    ]
    with pytest.raises(ConflictError):
        services.vetting.decide_case(omar, brigade, "approve", reason=REASON)
    assert (
        "escalated" == services.vetting.decide_case(omar, brigade, "escalate", reason=REASON).status
    )


def test_list_tag_makes_every_entry_child_recruitment(
    services: Services, officers: tuple[StaffUser, StaffUser], demo_list: Path
) -> None:
    olga, _ = officers
    services.vetting.tag_list(olga, "demo", "child-recruitment", on=True, reason=REASON)
    case_id = services.vetting.open_case(
        olga, purpose="contract_award", name="Yellow Onyx Mills", lists=["demo"]
    )
    services.vetting.screen_case(olga, case_id)
    assert services.vetting.case(case_id).blockers
    services.vetting.tag_list(olga, "demo", "child-recruitment", on=False, reason=REASON)
    assert not services.vetting.case(case_id).blockers
    assert {} == services.vetting.list_tags()


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"purpose": "friendship"}, ValidationError),
        ({"lists": []}, ValidationError),
        ({"lists": ["nope"]}, NotFoundError),
        ({"schema": "Person"}, ValidationError),
        ({"name": "\x00" * 10}, ValidationError),
        ({"country": "Narnia"}, ValidationError),
    ],
)
def test_case_input_is_checked(
    services: Services,
    officers: tuple[StaffUser, StaffUser],
    demo_list: Path,
    kwargs: dict[str, object],
    error: type[Exception],
) -> None:
    fields: dict[str, object] = {"purpose": "contract_award", "name": "Example", "lists": ["demo"]}
    fields.update(kwargs)
    with pytest.raises(error):
        services.vetting.open_case(officers[0], **fields)  # type: ignore[arg-type]


def test_subject_and_date_checks(
    services: Services, officers: tuple[StaffUser, StaffUser], demo_list: Path
) -> None:
    olga, _ = officers
    case_id = services.vetting.open_case(
        olga, purpose="recruitment_licence", name="Example Agency", lists=["demo"]
    )
    with pytest.raises(ValidationError):
        services.vetting.add_subject(olga, case_id, role="commander", name="X", schema="Company")
    with pytest.raises(ValidationError):
        services.vetting.add_subject(olga, case_id, role="owner", name="X", birth_date="soon")
    with pytest.raises(NotFoundError):
        services.vetting.add_subject(olga, 999, role="owner", name="X")
    services.vetting.screen_case(olga, case_id)
    with pytest.raises(ValidationError):
        services.vetting.decide_case(
            olga, case_id, "approve", reason=REASON, valid_until=utcnow().date()
        )
    with pytest.raises(ValidationError):
        services.vetting.decide_case(
            olga,
            case_id,
            "approve",
            reason=REASON,
            valid_until=utcnow().date() + timedelta(days=10),
            revet_on=utcnow().date() + timedelta(days=20),
        )
    services.vetting.decide_case(olga, case_id, "approve", reason=REASON)
    services.vetting.add_subject(olga, case_id, role="director", name="Ann Example")
    case = services.vetting.case(case_id)
    assert ("open", True) == (case.status, case.needs_screening)


# --- support register and re-screening ------------------------------------------------------


def test_support_register_lifecycle(
    services: Services, officers: tuple[StaffUser, StaffUser]
) -> None:
    olga, _ = officers
    support_id = services.support.add(
        olga,
        kind="security_assistance",
        recipient="3rd Example Coastal Unit (fictional)",
        country="KE",
        assistance_type="training",
        amount="250,000",
        currency="usd",
        reason=REASON,
    )
    entry = services.support.get(support_id)
    assert ("active", "250000.00", "USD", "support:1") == (
        entry.status,
        entry.amount,
        entry.currency,
        entry.query_ref,
    )
    services.support.set_status(olga, support_id, "suspended", reason=REASON)
    services.support.set_status(olga, support_id, "ended", reason=REASON)
    with pytest.raises(ValidationError):
        services.support.set_status(olga, support_id, "active", reason=REASON)
    assert ["active", "suspended", "ended"] == [
        h.new_status for h in services.support.get(support_id).history
    ]
    bad: list[dict[str, object]] = [
        {"kind": "contract"},
        {"kind": "recruitment_licence"},
        {"kind": "security_assistance"},
        {"kind": "gift"},
        {"kind": "contract", "ocid": "x", "amount": "lots", "currency": "USD"},
        {"kind": "contract", "ocid": "x", "amount": "10"},
        {"kind": "contract", "ocid": "x", "amount": "-1", "currency": "USD"},
        {"kind": "contract", "ocid": "x", "currency": "dollars"},
        {"kind": "contract", "ocid": "\x00bad"},
    ]
    for fields in bad:
        with pytest.raises(ValidationError):
            services.support.add(olga, recipient="X", reason=REASON, **fields)  # type: ignore[arg-type]
    analyst = _user(services, "paula", Role.POLICY_ANALYST)
    with pytest.raises(PermissionDeniedError):
        services.support.add(analyst, kind="contract", recipient="X", ocid="o", reason=REASON)


def test_list_update_alerts_on_cleared_subjects(
    services: Services, officers: tuple[StaffUser, StaffUser], demo_list: Path, tmp_path: Path
) -> None:
    olga, omar = officers
    case_id = services.vetting.open_case(
        olga, purpose="contract_award", name="Silver Lantern Works", country="KE", lists=["demo"]
    )
    services.vetting.screen_case(olga, case_id)
    services.vetting.decide_case(olga, case_id, "approve", reason=REASON)
    services.support.add(
        olga,
        kind="contract",
        recipient="Copper Kettle Logistics",
        supplier_key="SK-9",
        ocid="ocds-x-1",
        reason=REASON,
    )
    assert [] == services.vetting.alerts()
    v2 = _write(
        tmp_path / "v2.csv",
        "f-1,Zebra Quartz Foundry Ltd (fictional),,Company,KE,reg:FICT-77,Test,"
        "fictional entry,https://example.org/f-1,,",
        "f-3,Silver Lantern Works (fictional),,Company,KE,,Test,newly listed,,,",
        "f-4,Copper Kettle Logistics (fictional),,Company,,,Test,newly listed,,,",
    )
    result = services.watchlists.import_list("system:test", "demo", v2, "csv", kind="sample")
    assert 2 == result.alerts
    alerts = services.vetting.alerts()
    assert {("subject:1", case_id), ("supplier:SK-9", None)} == {
        (a.subject_ref, a.vetting_case_id) for a in alerts
    }
    # The same version again raises nothing new.
    assert (
        0 == services.watchlists.import_list("system:test", "demo", v2, "csv", kind="sample").alerts
    )
    services.vetting.close_alert(omar, alerts[0].id, reason="case re-opened for review")
    with pytest.raises(ConflictError):
        services.vetting.close_alert(omar, alerts[0].id, reason="case re-opened for review")
    assert 1 == len(services.vetting.alerts())
    assert 2 == len(services.vetting.alerts(None))
    assert AuditAction.ALERT_RAISED.value in _actions(services)
    # Supplier matches learn from re-screening too.
    assert ["f-4"] == [m.entity_id for m in services.vetting.supplier_matches(["SK-9"])]


def test_credible_allegation_alerts_at_once(
    services: Services, officers: tuple[StaffUser, StaffUser], demo_list: Path
) -> None:
    olga, omar = officers
    case_id = services.vetting.open_case(
        olga, purpose="security_assistance", name="Example Lake Patrol Unit", lists=["demo"]
    )
    services.vetting.screen_case(olga, case_id)
    services.vetting.decide_case(olga, case_id, "approve", reason=REASON)
    allegation_id = services.allegations.create(
        olga,
        name="Example Lake Patrol Unit",
        schema="Organization",
        country=None,
        identifiers=[],
        source_ref="R-9",
        summary="fictional",
        reason=REASON,
    )
    assert [] == services.vetting.alerts()  # pending: shown, never raised
    services.allegations.set_status(omar, allegation_id, "substantiated", reason=REASON)
    alerts = services.vetting.alerts()
    assert [(allegation_id, "substantiated")] == [
        (a.match.entity_id, a.match.allegation_status) for a in alerts
    ]


def test_allegations_register_cannot_be_overwritten_by_import(
    services: Services, officers: tuple[StaffUser, StaffUser], tmp_path: Path
) -> None:
    services.allegations.create(
        officers[0],
        name="Example (fictional)",
        schema="Company",
        country=None,
        identifiers=[],
        source_ref=None,
        summary="fictional",
        reason=REASON,
    )
    path = _write(tmp_path / "a.csv", "x,Other,,Company,,,T,r,,,")
    with pytest.raises(ValidationError, match="kept by staff"):
        services.watchlists.import_list("system:test", "allegations", path, "csv")
    lists = {i.slug: i for i in services.watchlists.lists()}
    assert ("allegations", 1) == (lists["allegations"].kind, lists["allegations"].entries)


def test_many_queries_are_stored_in_one_unit(
    services: Services, officers: tuple[StaffUser, StaffUser], demo_list: Path
) -> None:
    queries = [Query(f"party:{i}", "Company", (f"Name {i} Zebra Quartz",)) for i in range(2000)]
    result = services.vetting.screen_and_save(officers[0], queries, ["demo"])
    with services.db.read() as session:
        stored = len(session.scalars(select(EntityMatch.id)).all())
    assert (2000, result.flagged) == (result.queries, stored)


HOSTILE = [
    "\x00\x01\x02",
    "Robert'); DROP TABLE vetting_cases;--",
    "\u202eevil\u202c name",
    "名前 テスト 🙂" * 10,
    "a" * 100_000,
    "   ",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_is_refused_or_kept_verbatim(
    services: Services, officers: tuple[StaffUser, StaffUser], demo_list: Path, text: str
) -> None:
    """Every text input either fails with a ValidationError or is stored as printable text."""
    olga, _ = officers
    try:
        case_id = services.vetting.open_case(
            olga, purpose="contract_award", name=text, lists=["demo"]
        )
    except ValidationError:
        assert not text.strip() or len(text) > 300 or not text.isprintable()
        return
    services.vetting.add_subject(olga, case_id, role="other", name=text[:300] or "x")
    result = services.vetting.screen_case(olga, case_id)
    assert result.queries == 2
    case = services.vetting.case(case_id)
    assert all(s.name.isprintable() for s in case.subjects)
    with pytest.raises(ValidationError):
        services.vetting.decide_case(olga, case_id, "approve", reason=text[:5])
