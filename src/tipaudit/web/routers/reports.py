"""Console pages of public reports: the queue, a report, its review, and on-behalf intake."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData
from starlette.responses import Response

from tipaudit.core.roles import Permission
from tipaudit.errors import NotFoundError, TipAuditError
from tipaudit.reports.content import ReportInputError, SubjectKind, validate_submission
from tipaudit.reports.locales import load_locale
from tipaudit.reports.workflow import Category, Decision, Finding, Priority, State
from tipaudit.services.accounts import StaffUser
from tipaudit.services.reports import ALLEGATION_STATUSES
from tipaudit.web.deps import ServicesDep, page_permission
from tipaudit.web.intake import form_values, intake_context, problem_messages, uploaded_files
from tipaudit.web.pages import render
from tipaudit.web.security import CSRF_FIELD, check_csrf

router = APIRouter(include_in_schema=False)

Csrf = Annotated[str, Form(alias=CSRF_FIELD, max_length=200)]
Reader = Annotated[StaffUser, Depends(page_permission(Permission.REPORTS_READ))]
Recorder = Annotated[StaffUser, Depends(page_permission(Permission.REPORTS_TRIAGE))]
Reason = Annotated[str, Form(max_length=4000)]
Text = Annotated[str, Form(max_length=10_000)]

DONE = {
    "moved": "The report moved on; the step is in its timeline and the audit log.",
    "proposed": "The decision is proposed. It takes effect when a second decision-maker "
    "approves it below.",
    "approved": "Your decision on the request is recorded.",
    "message": "The message was added.",
    "conflict": "Your conflict of interest is recorded: you are recused from this report.",
    "identity": "The request to see the reporter's identity is waiting for a decision-maker.",
    "allegation": "The allegation was added to the register.",
    "status": "The allegation's status was set.",
    "handover": "The hand-over is recorded.",
}


def _ref(reference: str) -> str:
    return reference.strip().upper()[:20]


def _report_page(
    request: Request,
    services: ServicesDep,
    user: StaffUser,
    reference: str,
    *,
    error: str | None = None,
    done: str = "",
    status_code: int = 200,
) -> Response:
    case = services.reports.view(user, _ref(reference))
    allegations = []
    for allegation_id in case.allegations:
        try:
            allegations.append(services.allegations.get(allegation_id))
        except NotFoundError:
            continue
    return render(
        request,
        "report_view.html",
        {
            "case": case,
            "allegations": allegations,
            "allegation_statuses": ALLEGATION_STATUSES,
            "categories": list(Category),
            "priorities": list(Priority),
            "findings": list(Finding),
            "decisions": list(Decision),
            "subject_kinds": list(SubjectKind),
            "indicator_names": _indicator_names(),
            "error": error,
            "done": DONE.get(done),
        },
        status_code=status_code,
    )


def _indicator_names() -> dict[str, str]:
    from tipaudit.core.indicators import load_taxonomy

    return {i.code: i.name for i in load_taxonomy()}


def _act(
    request: Request,
    services: ServicesDep,
    user: StaffUser,
    reference: str,
    action: Any,
    done: str,
) -> Response:
    try:
        action()
    except TipAuditError as exc:
        return _report_page(
            request, services, user, reference, error=exc.message, status_code=exc.status
        )
    return RedirectResponse(f"/reports/{_ref(reference)}?done={done}", status_code=303)


@router.get("/reports")
def queue(
    request: Request, user: Reader, services: ServicesDep, state: str = "", done: str = ""
) -> Response:
    chosen = State(state) if state in {s.value for s in State} else None
    rows = services.reports.queue(user, state=chosen)
    return render(
        request,
        "report_queue.html",
        {
            "rows": rows,
            "states": list(State),
            "state": chosen.value if chosen else "",
            "overdue_count": sum(1 for r in rows if r.overdue),
            "digest": services.reports.digest(),
            "can_record": user.can(Permission.REPORTS_TRIAGE),
            "done": DONE.get(done),
        },
    )


@router.get("/reports/record")
def record_form(request: Request, user: Recorder, lang: str = "en") -> Response:
    locale = load_locale(lang)
    context = intake_context(request, locale, request.app.state.settings)
    context.update(values={}, problems={}, consent_error=None)
    return render(request, "report_record.html", context)


@router.post("/reports/record")
async def record(request: Request, user: Recorder, services: ServicesDep) -> Response:
    settings = request.app.state.settings
    form = await request.form(
        max_files=settings.reports_max_attachments + 1, max_fields=100, max_part_size=100_000
    )
    try:
        return await _record(request, user, services, form)
    finally:
        await form.close()


async def _record(
    request: Request, user: StaffUser, services: ServicesDep, form: FormData
) -> Response:
    settings = request.app.state.settings
    values = form_values(form)
    check_csrf(request, request.app.state.secret_key, values.get(CSRF_FIELD))
    locale = load_locale(str(values.get("lang", "en")))
    submission = validate_submission(values, language=locale.code)
    problems = problem_messages(locale, submission.problems)
    consent = values.get("consent_recorded") == "yes"
    files = await uploaded_files(form)
    if not problems and consent:
        try:
            result = await run_in_threadpool(
                lambda: services.reports.submit(
                    submission, files, recorded_by=user, consent_recorded=True
                )
            )
        except ReportInputError as exc:
            problems["attachments"] = f"{locale('errors.' + exc.key)} {exc.message}"
        else:
            return render(
                request,
                "report_receipt.html",
                {"result": result, "receipt": result.receipt},
            )
    context = intake_context(request, locale, settings)
    context.update(
        values=values,
        problems=problems,
        consent_error=None
        if consent
        else "Record that the person agreed to this report being made on their behalf.",
    )
    return render(request, "report_record.html", context, status_code=422)


@router.get("/reports/{reference}")
def report(
    request: Request, reference: str, user: Reader, services: ServicesDep, done: str = ""
) -> Response:
    return _report_page(request, services, user, reference, done=done)


@router.post("/reports/{reference}/transition")
def transition(
    request: Request,
    reference: str,
    user: Reader,
    services: ServicesDep,
    csrf_token: Csrf = "",
    target: Annotated[str, Form(max_length=20)] = "",
    reason: Reason = "",
    category: Annotated[str, Form(max_length=20)] = "",
    priority: Annotated[str, Form(max_length=10)] = "",
    duplicate_of: Annotated[str, Form(max_length=20)] = "",
    finding: Annotated[str, Form(max_length=30)] = "",
    message: Text = "",
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    return _act(
        request,
        services,
        user,
        reference,
        lambda: services.reports.transition(
            user,
            _ref(reference),
            target,
            reason=reason,
            category=category or None,
            priority=priority or None,
            duplicate_of=duplicate_of or None,
            finding=finding or None,
            message=message,
        ),
        "moved",
    )


@router.post("/reports/{reference}/decision")
def propose_decision(
    request: Request,
    reference: str,
    user: Reader,
    services: ServicesDep,
    csrf_token: Csrf = "",
    decision: Annotated[str, Form(max_length=40)] = "",
    reason: Reason = "",
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    return _act(
        request,
        services,
        user,
        reference,
        lambda: services.reports.propose_decision(user, _ref(reference), decision, reason=reason),
        "proposed",
    )


@router.post("/reports/{reference}/approvals/{approval_id}")
def decide_request(
    request: Request,
    reference: str,
    approval_id: int,
    user: Reader,
    services: ServicesDep,
    csrf_token: Csrf = "",
    decision: Annotated[str, Form(pattern="^(approve|reject)$")] = "reject",
    reason: Reason = "",
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)

    def act() -> None:
        approval = services.approvals.get(approval_id)
        if approval.object_type != "report" or approval.object_id != _ref(reference):
            raise NotFoundError("that request is not about this report")
        services.approvals.decide(approval_id, user, approve=decision == "approve", reason=reason)

    return _act(request, services, user, reference, act, "approved")


@router.post("/reports/{reference}/messages")
def send_message(
    request: Request,
    reference: str,
    user: Reader,
    services: ServicesDep,
    csrf_token: Csrf = "",
    kind: Annotated[str, Form(max_length=20)] = "question",
    text: Text = "",
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    return _act(
        request,
        services,
        user,
        reference,
        lambda: services.reports.send_message(user, _ref(reference), kind, text),
        "message",
    )


@router.post("/reports/{reference}/conflict")
def declare_conflict(
    request: Request,
    reference: str,
    user: Reader,
    services: ServicesDep,
    csrf_token: Csrf = "",
    reason: Reason = "",
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    try:
        services.reports.declare_conflict(user, _ref(reference), reason=reason)
    except TipAuditError as exc:
        return _report_page(
            request, services, user, reference, error=exc.message, status_code=exc.status
        )
    return RedirectResponse("/reports?done=conflict", status_code=303)


@router.post("/reports/{reference}/identity/request")
def request_identity(
    request: Request,
    reference: str,
    user: Reader,
    services: ServicesDep,
    csrf_token: Csrf = "",
    reason: Reason = "",
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    return _act(
        request,
        services,
        user,
        reference,
        lambda: services.reports.request_identity(user, _ref(reference), reason=reason),
        "identity",
    )


@router.get("/reports/{reference}/identity")
def identity(request: Request, reference: str, user: Reader, services: ServicesDep) -> Response:
    contact = services.reports.identity(user, _ref(reference))
    return render(
        request, "report_identity.html", {"reference": _ref(reference), "contact": contact}
    )


@router.get("/reports/{reference}/attachments/{attachment_id}")
def attachment(
    request: Request, reference: str, attachment_id: int, user: Reader, services: ServicesDep
) -> Response:
    name, content_type, data = services.reports.attachment(user, _ref(reference), attachment_id)
    safe = "".join(ch for ch in name if ch.isalnum() or ch in "._-")[:120] or "attachment"
    return Response(
        data,
        media_type=content_type or "application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{safe}"'},
    )


@router.post("/reports/{reference}/allegations")
def create_allegation(
    request: Request,
    reference: str,
    user: Reader,
    services: ServicesDep,
    csrf_token: Csrf = "",
    name: Annotated[str, Form(max_length=300)] = "",
    entity_kind: Annotated[str, Form(max_length=20)] = "Organization",
    country: Annotated[str, Form(max_length=60)] = "",
    identifiers: Annotated[str, Form(max_length=1000)] = "",
    summary: Annotated[str, Form(max_length=2000)] = "",
    reason: Reason = "",
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    ids = [part.strip() for part in identifiers.replace("\n", ";").split(";") if part.strip()]
    return _act(
        request,
        services,
        user,
        reference,
        lambda: services.reports.create_allegation(
            user,
            _ref(reference),
            name=name,
            schema=entity_kind,
            country=country or None,
            identifiers=ids,
            summary=summary,
            reason=reason,
        ),
        "allegation",
    )


@router.post("/reports/{reference}/allegations/{allegation_id}/status")
def allegation_status(
    request: Request,
    reference: str,
    allegation_id: str,
    user: Reader,
    services: ServicesDep,
    csrf_token: Csrf = "",
    status: Annotated[str, Form(max_length=20)] = "",
    reason: Reason = "",
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    return _act(
        request,
        services,
        user,
        reference,
        lambda: services.reports.set_allegation_status(
            user, _ref(reference), allegation_id[:100], status, reason=reason
        ),
        "status",
    )


@router.post("/reports/{reference}/referrals")
def prepare_referral(
    request: Request,
    reference: str,
    user: Reader,
    services: ServicesDep,
    csrf_token: Csrf = "",
    authority: Annotated[str, Form(max_length=200)] = "",
    reason: Reason = "",
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    try:
        referral_id, data = services.reports.prepare_referral(
            user, _ref(reference), authority=authority, reason=reason
        )
    except TipAuditError as exc:
        return _report_page(
            request, services, user, reference, error=exc.message, status_code=exc.status
        )
    filename = f"referral-{_ref(reference)}-{referral_id}.json"
    return Response(
        data,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post("/reports/{reference}/referrals/{referral_id}/handover")
def record_handover(
    request: Request,
    reference: str,
    referral_id: int,
    user: Reader,
    services: ServicesDep,
    csrf_token: Csrf = "",
    to: Annotated[str, Form(max_length=200)] = "",
    method: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    return _act(
        request,
        services,
        user,
        reference,
        lambda: services.reports.record_handover(
            user, _ref(reference), referral_id, to=to, method=method
        ),
        "handover",
    )
