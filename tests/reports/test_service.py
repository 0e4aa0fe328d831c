"""The reports service: intake, receipts, the review workflow, disclosure and retention."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.reports.conftest import SECRET_CONTACT, SECRET_MESSAGE, SECRET_TEXT, Staff, submission
from tipaudit.audit import AuditAction
from tipaudit.core.clock import utcnow
from tipaudit.errors import (
    AuthenticationError,
    PermissionDeniedError,
    RateLimitedError,
    TwoPersonRuleError,
    ValidationError,
)
from tipaudit.reports.workflow import State
from tipaudit.services.container import Services
from tipaudit.services.reports import AttachmentFile


def _through_finding(services: Services, staff: Staff, reference: str) -> None:
    reports = services.reports
    reports.transition(staff.intake, reference, State.ACKNOWLEDGED)
    reports.transition(
        staff.intake,
        reference,
        State.TRIAGED,
        category="tip",
        priority="high",
        reason="credible detail on named contractor",
    )
    reports.transition(staff.investigator, reference, State.INVESTIGATION)
    reports.transition(
        staff.investigator,
        reference,
        State.FINDING,
        finding="substantiated",
        reason="site visit confirmed passports held",
    )


def test_full_workflow_with_receipt_follow_up(services: Services, staff: Staff) -> None:
    reports = services.reports
    result = reports.submit(submission())
    reference = result.reference
    queue = reports.queue(staff.intake)
    assert [row.reference for row in queue] == [reference]
    assert queue[0].state is State.RECEIVED

    case = reports.view(staff.intake, reference)
    assert case.content.what == SECRET_TEXT
    assert case.content.indicators == ("ILO-07", "TIP-FEES")
    assert next(s.name for s in case.content.subjects) == "Gulf Star Building Contractors"

    _through_finding(services, staff, reference)
    question = reports.send_message(staff.investigator, reference, "question", "Which camp block?")

    # The reporter reads the question with the receipt and answers it.
    token = reports.open_with_receipt(result.receipt.text)
    seen = reports.reporter_view(token)
    assert seen.state is State.FINDING
    assert [q.id for q in seen.open_questions] == [question]
    assert all(m.author is None for m in seen.messages)  # no staff names for the reporter
    reports.reporter_message(seen.token, SECRET_MESSAGE, reply_to=question)
    assert reports.reporter_view(token).open_questions == ()

    # A decision needs a second decision-maker; the proposer cannot approve it.
    approval = reports.propose_decision(
        staff.decider, reference, "remediation_plan", reason="contractor to return documents"
    )
    with pytest.raises(TwoPersonRuleError):
        services.approvals.decide(approval, staff.decider, approve=True, reason="approving my own")
    assert reports.view(staff.intake, reference).state is State.FINDING
    services.approvals.decide(approval, staff.decider2, approve=True, reason="agree with the plan")
    case = reports.view(staff.intake, reference)
    assert case.state is State.DECISION
    assert case.decision == "remediation_plan"
    assert case.transitions[-1].approved_by == "dan"

    with pytest.raises(ValidationError):
        reports.transition(staff.intake, reference, State.FEEDBACK, message="")
    reports.transition(
        staff.intake, reference, State.FEEDBACK, message="The contractor must return passports."
    )
    reports.transition(staff.intake, reference, State.CLOSED, reason="feedback given, plan set")
    final = reports.reporter_view(token)
    assert final.state is State.CLOSED
    assert [m.kind for m in final.messages] == [
        "acknowledgement",
        "question",
        "answer",
        "feedback",
    ]
    summaries = reports.case_summaries()
    assert len(summaries) == 1
    assert summaries[0].decision == "remediation_plan"
    assert summaries[0].feedback_at is not None

    actions = [e.action for e in services.audit.events_for("report", reference)]
    assert actions.count(AuditAction.REPORT_TRANSITIONED.value) == 7
    assert AuditAction.REPORT_VIEWED.value in actions
    assert AuditAction.REPORT_REPORTER_MESSAGE.value in actions


def test_steps_out_of_order_and_wrong_roles_are_refused(services: Services, staff: Staff) -> None:
    reports = services.reports
    reference = reports.submit(submission()).reference
    with pytest.raises(ValidationError):
        reports.transition(staff.intake, reference, State.INVESTIGATION)
    reports.transition(staff.intake, reference, State.ACKNOWLEDGED)
    with pytest.raises(ValidationError):  # triage needs a reason
        reports.transition(staff.intake, reference, State.TRIAGED, category="tip", reason="")
    reports.transition(
        staff.intake, reference, State.TRIAGED, category="tip", reason="named contractor"
    )
    with pytest.raises(PermissionDeniedError):  # intake officers do not investigate
        reports.transition(staff.intake, reference, State.INVESTIGATION)
    with pytest.raises(PermissionDeniedError):
        reports.queue(staff.auditor)


def test_out_of_scope_goes_straight_to_feedback(services: Services, staff: Staff) -> None:
    reports = services.reports
    reference = reports.submit(submission()).reference
    reports.transition(staff.intake, reference, State.ACKNOWLEDGED)
    reports.transition(
        staff.intake, reference, State.TRIAGED, category="out_of_scope", reason="not our remit"
    )
    with pytest.raises(ValidationError):
        reports.transition(staff.investigator, reference, State.INVESTIGATION)
    reports.transition(
        staff.intake, reference, State.FEEDBACK, message="We passed this to the labour ministry."
    )


def test_duplicate_names_the_original(services: Services, staff: Staff) -> None:
    reports = services.reports
    first = reports.submit(submission()).reference
    second = reports.submit(submission()).reference
    reports.transition(staff.intake, second, State.ACKNOWLEDGED)
    with pytest.raises(Exception, match="no report"):
        reports.transition(
            staff.intake,
            second,
            State.TRIAGED,
            category="duplicate",
            duplicate_of="R-NOPE",
            reason="same camp same week",
        )
    reports.transition(
        staff.intake,
        second,
        State.TRIAGED,
        category="duplicate",
        duplicate_of=first.lower(),
        reason="same camp same week",
    )
    assert reports.view(staff.intake, second).duplicate_of == first


def test_conflict_of_interest_recuses(services: Services, staff: Staff) -> None:
    reports = services.reports
    reference = reports.submit(submission()).reference
    _through_finding(services, staff, reference)
    reports.declare_conflict(staff.decider2, reference, reason="my brother works there")
    assert reports.queue(staff.decider2)[0].recused
    with pytest.raises(PermissionDeniedError):
        reports.view(staff.decider2, reference)
    approval = reports.propose_decision(
        staff.decider, reference, "contract_termination", reason="serious and repeated"
    )
    with pytest.raises(PermissionDeniedError):
        services.approvals.decide(approval, staff.decider2, approve=True, reason="fine by me too")
    assert reports.view(staff.intake, reference).state is State.FINDING


def test_identity_needs_an_approved_request(services: Services, staff: Staff) -> None:
    reports = services.reports
    reference = reports.submit(submission()).reference
    with pytest.raises(PermissionDeniedError):
        reports.identity(staff.investigator, reference)
    approval = reports.request_identity(
        staff.investigator, reference, reason="need to arrange a safe interview"
    )
    with pytest.raises(PermissionDeniedError):
        reports.identity(staff.investigator, reference)
    services.approvals.decide(approval, staff.decider, approve=True, reason="interview justified")
    contact = reports.identity(staff.investigator, reference)
    assert contact.email == SECRET_CONTACT
    with pytest.raises(PermissionDeniedError):  # the grant is personal
        reports.identity(staff.decider, reference)
    actions = [e.action for e in services.audit.events_for("report", reference)]
    assert AuditAction.REPORT_IDENTITY_REVEALED.value in actions


def test_wrong_receipts_are_rate_limited_per_locator(services: Services) -> None:
    reports = services.reports
    result = reports.submit(submission())
    wrong = result.receipt.text.rsplit(" ", 1)[0] + " bafo"
    for _ in range(services.settings.reports_receipt_max_failures):
        with pytest.raises(AuthenticationError):
            reports.open_with_receipt(wrong)
    with pytest.raises(RateLimitedError):  # even the right receipt waits now
        reports.open_with_receipt(result.receipt.text)


def test_receipt_is_forgiving_about_spacing_and_case(services: Services) -> None:
    reports = services.reports
    result = reports.submit(submission())
    typed = "  " + result.receipt.locator + "\n" + result.receipt.secret.upper().replace(" ", "-")
    assert reports.reporter_view(reports.open_with_receipt(typed)).state is State.RECEIVED
    with pytest.raises(ValidationError):
        reports.open_with_receipt("1234 not a receipt")
    with pytest.raises(AuthenticationError):
        reports.reporter_view("forged-token")


def test_attachments_are_encrypted_and_opened_for_reviewers(
    services: Services, staff: Staff
) -> None:
    reports = services.reports
    result = reports.submit(submission(), [AttachmentFile("notes.txt", b"camp block 7 notes")])
    case = reports.view(staff.intake, result.reference)
    assert len(case.attachments) == 1
    name, content_type, data = reports.attachment(
        staff.intake, result.reference, case.attachments[0].id
    )
    assert data == b"camp block 7 notes"
    assert name.endswith(".txt")
    assert content_type.startswith("text/plain")
    stored = list(services.reports.upload_dir.iterdir())
    assert len(stored) == 1
    assert b"camp block" not in stored[0].read_bytes()


def test_digest_flags_overdue_acknowledgement(services: Services, staff: Staff) -> None:
    reports = services.reports
    reference = reports.submit(submission()).reference
    later = utcnow() + timedelta(days=8)
    digest = reports.digest(later)
    assert [(o.reference, o.deadline) for o in digest.overdue] == [(reference, "acknowledgement")]
    assert reports.digest().overdue == ()
    assert [o.reference for o in reports.digest(utcnow() + timedelta(days=6)).due_soon] == [
        reference
    ]


def test_purge_deletes_expired_reports_and_files(services: Services, staff: Staff) -> None:
    reports = services.reports
    kept = reports.submit(submission()).reference
    gone = reports.submit(submission(), [AttachmentFile("n.txt", b"some notes here")]).reference
    for reference in (gone,):
        reports.transition(staff.intake, reference, State.ACKNOWLEDGED)
        reports.transition(
            staff.intake, reference, State.TRIAGED, category="out_of_scope", reason="not in remit"
        )
        reports.transition(staff.intake, reference, State.FEEDBACK, message="Not in our remit.")
        reports.transition(staff.intake, reference, State.CLOSED, reason="feedback was given")
    future = utcnow() + timedelta(days=731)
    assert reports.purge("cli", now=future, dry_run=True).purged == (gone,)
    result = reports.purge("cli", now=future)
    assert result.purged == (gone,)
    assert result.files_removed == 1
    assert [row.reference for row in reports.queue(staff.intake)] == [kept]
    assert list(reports.upload_dir.iterdir()) == []
    events = services.audit.events_for("report", gone)
    assert events[-1].action == AuditAction.REPORT_PURGED.value


def test_allegations_from_a_report(services: Services, staff: Staff) -> None:
    reports = services.reports
    reference = reports.submit(submission()).reference
    with pytest.raises(PermissionDeniedError):
        reports.create_allegation(
            staff.intake,
            reference,
            name="Gulf Star Building Contractors",
            schema="Organization",
            country="QA",
            identifiers=["CR 55123"],
            summary="Passports withheld at a labour camp",
            reason="named in a public report",
        )
    allegation_id = reports.create_allegation(
        staff.investigator,
        reference,
        name="Gulf Star Building Contractors",
        schema="Organization",
        country="QA",
        identifiers=["CR 55123"],
        summary="Passports withheld at a labour camp",
        reason="named in a public report",
    )
    with pytest.raises(PermissionDeniedError):
        reports.set_allegation_status(
            staff.investigator, reference, allegation_id, "credible", reason="not my call"
        )
    reports.set_allegation_status(
        staff.decider,
        reference,
        allegation_id,
        "credible",
        reason="site visit corroborated the report",
    )
    entry = services.allegations.get(allegation_id)
    assert entry.status == "credible"
    assert entry.source_ref == f"report:{reference}"
    assert SECRET_TEXT not in entry.summary
    assert reports.view(staff.investigator, reference).allegations == (allegation_id,)
    other = reports.submit(submission()).reference
    with pytest.raises(Exception, match="was not created from"):
        reports.set_allegation_status(
            staff.decider, other, allegation_id, "substantiated", reason="wrong report"
        )
    actions = [e.action for e in services.audit.events_for("report", reference)]
    assert AuditAction.REPORT_ALLEGATION_CREATED.value in actions
    assert AuditAction.REPORT_ALLEGATION_STATUS_SET.value in actions


def test_referral_is_redacted_to_consent(services: Services, staff: Staff) -> None:
    import json

    reports = services.reports
    shared = reports.submit(submission(share_report="yes", share_contact="yes")).reference
    private = reports.submit(submission(share_report="", share_contact="")).reference
    _id, data = reports.prepare_referral(
        staff.decider, shared, authority="Qatar labour inspectorate", reason="joint investigation"
    )
    package = json.loads(data)
    assert package["report"]["what"] == SECRET_TEXT
    assert package["contact"]["email"] == SECRET_CONTACT
    referral_id, data = reports.prepare_referral(
        staff.decider, private, authority="Qatar labour inspectorate", reason="joint investigation"
    )
    package = json.loads(data)
    assert "report" not in package
    assert "contact" not in package
    assert SECRET_TEXT.encode() not in data
    assert SECRET_CONTACT.encode() not in data
    assert len(package["redactions"]) == 3
    with pytest.raises(PermissionDeniedError):
        reports.prepare_referral(staff.intake, private, authority="X police", reason="because!!!!")
    reports.record_handover(
        staff.decider, private, referral_id, to="Inspector A. Noor", method="encrypted USB"
    )
    case = reports.view(staff.decider, private)
    assert case.referrals[0].handed_over_to == "Inspector A. Noor"
    actions = [e.action for e in services.audit.events_for("report", private)]
    assert AuditAction.REPORT_REFERRAL_HANDED_OVER.value in actions


def test_on_behalf_report_is_marked_and_needs_consent(services: Services, staff: Staff) -> None:
    reports = services.reports
    with pytest.raises(ValidationError):
        reports.submit(submission(), recorded_by=staff.intake, consent_recorded=False)
    with pytest.raises(PermissionDeniedError):
        reports.submit(submission(), recorded_by=staff.decider, consent_recorded=True)
    result = reports.submit(submission(), recorded_by=staff.intake, consent_recorded=True)
    case = reports.view(staff.intake, result.reference)
    assert case.channel == "on_behalf"
    assert case.recorded_by == "ines"
    assert case.consent_recorded
    seen = reports.reporter_view(reports.open_with_receipt(result.receipt.text))
    assert seen.channel == "on_behalf"
