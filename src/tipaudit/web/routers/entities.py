"""Entities & vetting in the console: lists, matches to decide, allegations, support, vetting
cases, alerts; and read-only JSON under ``/api/entities``."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from tipaudit.core.roles import Permission
from tipaudit.errors import TipAuditError, ValidationError
from tipaudit.services import allegations as allegation_rules
from tipaudit.services import support as support_rules
from tipaudit.services import vetting as vetting_rules
from tipaudit.services.accounts import StaffUser
from tipaudit.services.container import Services
from tipaudit.services.procurement import ProcurementRuns
from tipaudit.services.vetting import MatchView
from tipaudit.web.deps import ServicesDep, api_permission, page_permission
from tipaudit.web.pages import render
from tipaudit.web.security import CSRF_FIELD, check_csrf

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/entities", tags=["entities"])

Csrf = Annotated[str, Form(alias=CSRF_FIELD, max_length=200)]
Reader = Annotated[StaffUser, Depends(page_permission(Permission.ENTITIES_READ))]
ApiReader = Annotated[StaffUser, api_permission(Permission.ENTITIES_READ)]
Text = Annotated[str, Form(max_length=2000)]
Short = Annotated[str, Form(max_length=400)]
Reason = Annotated[str, Form(max_length=2000)]

DONE = {
    "screened": "The suppliers were screened; the matches below wait for a decision.",
    "decided": "The decision was recorded.",
    "allegation": "The allegation was recorded as pending review.",
    "status": "The status was changed.",
    "support": "The support was recorded.",
    "opened": "The vetting case was opened.",
    "subject": "The subject was added; screen the case again.",
    "case-screened": "The case was screened.",
    "case-decided": "The decision was recorded.",
    "override": "The override request waits for a second officer under Approvals.",
    "closed": "The alert was closed.",
    "tagged": "The list's tag was changed.",
}
MATCH_STATUSES = ("candidate", "confirmed", "rejected", "suppressed", "all")


def _done(code: str) -> str | None:
    return DONE.get(code)


def _optional_date(value: str, what: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(f"the {what} must be a date (YYYY-MM-DD)") from None


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.replace("\n", ";").split(";") if part.strip()]


def _redirect(path: str) -> Response:
    return RedirectResponse(path, status_code=303)


# --- overview and lists ----------------------------------------------------------------------


def _home(
    request: Request,
    services: Services,
    *,
    error: str | None = None,
    done: str = "",
    code: int = 200,
) -> Response:
    runs = ProcurementRuns(services.settings).list()
    vetting = services.vetting
    return render(
        request,
        "entities_home.html",
        {
            "lists": services.watchlists.lists(),
            "tags": vetting.list_tags(),
            "awaiting": len(vetting.matches(status="candidate")),
            "alerts": len(vetting.alerts()),
            "cases": vetting.cases(),
            "pending_allegations": len(services.allegations.list("pending")),
            "screenings": vetting.screenings(10),
            "newest_run": runs[0].id if runs else None,
            "error": error,
            "done": _done(done),
        },
        status_code=code,
    )


@router.get("/entities")
def entities_home(
    request: Request, user: Reader, services: ServicesDep, done: str = ""
) -> Response:
    return _home(request, services, done=done)


@router.post("/entities/screen")
def screen_suppliers(
    request: Request,
    user: Reader,
    services: ServicesDep,
    csrf_token: Csrf = "",
    lists: Annotated[list[str] | None, Form()] = None,
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    try:
        store = ProcurementRuns(services.settings)
        runs = store.list()
        if not runs:
            raise ValidationError("there is no procurement screening run yet")
        run = store.open(runs[0].id)
        services.vetting.screen_procurement_run(user, run.folder, lists or [])
    except TipAuditError as exc:
        return _home(request, services, error=exc.message, code=exc.status)
    return _redirect("/entities/matches?done=screened")


@router.get("/entities/lists/{slug}")
def list_page(
    request: Request, slug: str, user: Reader, services: ServicesDep, done: str = ""
) -> Response:
    return _list_page(request, services, slug, done=done)


def _list_page(
    request: Request,
    services: Services,
    slug: str,
    *,
    error: str | None = None,
    done: str = "",
    code: int = 200,
) -> Response:
    info = next((i for i in services.watchlists.lists() if i.slug == slug), None)
    if info is None:
        return _home(request, services, error=f"no list {slug[:70]!r}", code=404)
    return render(
        request,
        "entities_list.html",
        {
            "info": info,
            "versions": services.vetting.versions(slug),
            "tags": services.vetting.list_tags().get(slug, ()),
            "error": error,
            "done": _done(done),
        },
        status_code=code,
    )


@router.post("/entities/lists/{slug}/tags")
def tag_list(
    request: Request,
    slug: str,
    user: Reader,
    services: ServicesDep,
    csrf_token: Csrf = "",
    on: Annotated[bool, Form()] = False,
    reason: Reason = "",
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    try:
        services.vetting.tag_list(
            user, slug, vetting_rules.CHILD_RECRUITMENT_TAG, on=on, reason=reason
        )
    except TipAuditError as exc:
        return _list_page(request, services, slug, error=exc.message, code=exc.status)
    return _redirect(f"/entities/lists/{slug}?done=tagged")


# --- matches ---------------------------------------------------------------------------------


def _matches_page(
    request: Request,
    services: Services,
    status: str,
    *,
    error: str | None = None,
    done: str = "",
    code: int = 200,
) -> Response:
    shown = services.vetting.matches(status=None if status == "all" else status, limit=500)
    return render(
        request,
        "entities_matches.html",
        {
            "matches": shown,
            "status": status,
            "statuses": MATCH_STATUSES,
            "error": error,
            "done": _done(done),
        },
        status_code=code,
    )


@router.get("/entities/matches")
def matches_page(
    request: Request,
    user: Reader,
    services: ServicesDep,
    status: Annotated[str, Query(pattern="^(candidate|confirmed|rejected|suppressed|all)$")] = (
        "candidate"
    ),
    done: str = "",
) -> Response:
    return _matches_page(request, services, status, done=done)


@router.get("/entities/matches/{match_id}")
def match_page(request: Request, match_id: int, user: Reader, services: ServicesDep) -> Response:
    view, history = services.vetting.match(match_id)
    return render(request, "entities_match.html", {"m": view, "history": history, "error": None})


@router.post("/entities/matches/{match_id}/decide")
def decide_match(
    request: Request,
    match_id: int,
    user: Reader,
    services: ServicesDep,
    csrf_token: Csrf = "",
    decision: Annotated[str, Form(max_length=20)] = "",
    reason: Reason = "",
    back: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    try:
        services.vetting.decide_match(user, match_id, decision, reason=reason)
    except TipAuditError as exc:
        return _matches_page(request, services, "candidate", error=exc.message, code=exc.status)
    target = back if back.startswith("/entities/") and "//" not in back else "/entities/matches"
    return _redirect(f"{target}{'&' if '?' in target else '?'}done=decided")


# --- allegations ------------------------------------------------------------------------------


def _allegations_page(
    request: Request,
    services: Services,
    *,
    error: str | None = None,
    done: str = "",
    code: int = 200,
) -> Response:
    return render(
        request,
        "entities_allegations.html",
        {
            "allegations": services.allegations.list(),
            "statuses": allegation_rules.STATUSES,
            "schemas": allegation_rules.ALLEGATION_SCHEMAS,
            "error": error,
            "done": _done(done),
        },
        status_code=code,
    )


@router.get("/entities/allegations")
def allegations_page(
    request: Request, user: Reader, services: ServicesDep, done: str = ""
) -> Response:
    return _allegations_page(request, services, done=done)


@router.post("/entities/allegations")
def create_allegation(
    request: Request,
    user: Reader,
    services: ServicesDep,
    csrf_token: Csrf = "",
    name: Short = "",
    schema_: Annotated[str, Form(alias="schema", max_length=40)] = "Organization",
    country: Short = "",
    identifiers: Text = "",
    aliases: Text = "",
    source_ref: Short = "",
    summary: Text = "",
    reason: Reason = "",
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    try:
        services.allegations.create(
            user,
            name=name,
            schema=schema_,
            country=country or None,
            identifiers=_split(identifiers),
            aliases=_split(aliases),
            source_ref=source_ref or None,
            summary=summary,
            reason=reason,
        )
    except TipAuditError as exc:
        return _allegations_page(request, services, error=exc.message, code=exc.status)
    return _redirect("/entities/allegations?done=allegation")


@router.post("/entities/allegations/{allegation_id}/status")
def allegation_status(
    request: Request,
    allegation_id: str,
    user: Reader,
    services: ServicesDep,
    csrf_token: Csrf = "",
    status: Annotated[str, Form(max_length=20)] = "",
    reason: Reason = "",
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    try:
        services.allegations.set_status(user, allegation_id, status, reason=reason)
    except TipAuditError as exc:
        return _allegations_page(request, services, error=exc.message, code=exc.status)
    return _redirect("/entities/allegations?done=status")


# --- support register -------------------------------------------------------------------------


def _support_page(
    request: Request,
    services: Services,
    *,
    error: str | None = None,
    done: str = "",
    code: int = 200,
) -> Response:
    return render(
        request,
        "entities_support.html",
        {
            "entries": services.support.list(),
            "kinds": support_rules.KINDS,
            "schemas": support_rules.RECIPIENT_SCHEMAS,
            "transitions": support_rules.TRANSITIONS,
            "error": error,
            "done": _done(done),
        },
        status_code=code,
    )


@router.get("/entities/support")
def support_page(request: Request, user: Reader, services: ServicesDep, done: str = "") -> Response:
    return _support_page(request, services, done=done)


@router.post("/entities/support")
def add_support(
    request: Request,
    user: Reader,
    services: ServicesDep,
    csrf_token: Csrf = "",
    kind: Annotated[str, Form(max_length=40)] = "",
    recipient: Short = "",
    schema_: Annotated[str, Form(alias="schema", max_length=40)] = "Organization",
    country: Short = "",
    identifiers: Text = "",
    supplier_key: Short = "",
    ocid: Short = "",
    licence_number: Short = "",
    assistance_type: Short = "",
    amount: Annotated[str, Form(max_length=60)] = "",
    currency: Annotated[str, Form(max_length=10)] = "",
    start_date: Annotated[str, Form(max_length=20)] = "",
    end_date: Annotated[str, Form(max_length=20)] = "",
    description: Text = "",
    reason: Reason = "",
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    try:
        services.support.add(
            user,
            kind=kind,
            recipient=recipient,
            schema=schema_,
            country=country or None,
            identifiers=_split(identifiers),
            supplier_key=supplier_key or None,
            ocid=ocid or None,
            licence_number=licence_number or None,
            assistance_type=assistance_type or None,
            amount=amount or None,
            currency=currency or None,
            start_date=_optional_date(start_date, "start date"),
            end_date=_optional_date(end_date, "end date"),
            description=description,
            reason=reason,
        )
    except TipAuditError as exc:
        return _support_page(request, services, error=exc.message, code=exc.status)
    return _redirect("/entities/support?done=support")


@router.post("/entities/support/{support_id}/status")
def support_status(
    request: Request,
    support_id: int,
    user: Reader,
    services: ServicesDep,
    csrf_token: Csrf = "",
    status: Annotated[str, Form(max_length=20)] = "",
    reason: Reason = "",
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    try:
        services.support.set_status(user, support_id, status, reason=reason)
    except TipAuditError as exc:
        return _support_page(request, services, error=exc.message, code=exc.status)
    return _redirect("/entities/support?done=status")


# --- vetting cases ----------------------------------------------------------------------------


def _cases_page(
    request: Request,
    services: Services,
    *,
    error: str | None = None,
    done: str = "",
    code: int = 200,
) -> Response:
    return render(
        request,
        "vetting_cases.html",
        {
            "cases": services.vetting.cases(),
            "lists": [i for i in services.watchlists.lists() if i.kind != "allegations"],
            "purposes": vetting_rules.PURPOSE_LABELS,
            "support": [s for s in services.support.list() if s.status == "active"],
            "error": error,
            "done": _done(done),
        },
        status_code=code,
    )


@router.get("/entities/vetting")
def cases_page(request: Request, user: Reader, services: ServicesDep, done: str = "") -> Response:
    return _cases_page(request, services, done=done)


@router.post("/entities/vetting")
def open_case(
    request: Request,
    user: Reader,
    services: ServicesDep,
    csrf_token: Csrf = "",
    purpose: Annotated[str, Form(max_length=40)] = "",
    name: Short = "",
    schema_: Annotated[str, Form(alias="schema", max_length=40)] = "Organization",
    country: Short = "",
    identifiers: Text = "",
    lists: Annotated[list[str] | None, Form()] = None,
    support_id: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    try:
        if support_id and not support_id.isdigit():
            raise ValidationError("choose a support entry from the list")
        case_id = services.vetting.open_case(
            user,
            purpose=purpose,
            name=name,
            schema=schema_,
            country=country or None,
            identifiers=_split(identifiers),
            lists=lists or [],
            support_id=int(support_id) if support_id else None,
        )
    except TipAuditError as exc:
        return _cases_page(request, services, error=exc.message, code=exc.status)
    return _redirect(f"/entities/vetting/{case_id}?done=opened")


def _case_page(
    request: Request,
    services: Services,
    case_id: int,
    *,
    error: str | None = None,
    done: str = "",
    code: int = 200,
) -> Response:
    case = services.vetting.case(case_id)
    approval = (
        services.approvals.get(case.pending_approval_id)
        if case.pending_approval_id is not None
        else None
    )
    overrides = [
        services.approvals.get(d.override_approval_id)
        for d in case.decisions
        if d.override_approval_id is not None
    ]
    return render(
        request,
        "vetting_case.html",
        {
            "case": case,
            "approval": approval,
            "overrides": overrides,
            "roles": vetting_rules.SUBJECT_ROLES,
            "schemas": vetting_rules.SUBJECT_SCHEMAS,
            "alerts": [a for a in services.vetting.alerts(None) if a.vetting_case_id == case.id],
            "error": error,
            "done": _done(done),
        },
        status_code=code,
    )


@router.get("/entities/vetting/{case_id}")
def case_page(
    request: Request, case_id: int, user: Reader, services: ServicesDep, done: str = ""
) -> Response:
    return _case_page(request, services, case_id, done=done)


@router.post("/entities/vetting/{case_id}/subjects")
def add_subject(
    request: Request,
    case_id: int,
    user: Reader,
    services: ServicesDep,
    csrf_token: Csrf = "",
    role: Annotated[str, Form(max_length=30)] = "",
    name: Short = "",
    schema_: Annotated[str, Form(alias="schema", max_length=40)] = "Person",
    country: Short = "",
    identifiers: Text = "",
    birth_date: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    try:
        services.vetting.add_subject(
            user,
            case_id,
            role=role,
            name=name,
            schema=schema_,
            country=country or None,
            identifiers=_split(identifiers),
            birth_date=birth_date or None,
        )
    except TipAuditError as exc:
        return _case_page(request, services, case_id, error=exc.message, code=exc.status)
    return _redirect(f"/entities/vetting/{case_id}?done=subject")


@router.post("/entities/vetting/{case_id}/screen")
def screen_case(
    request: Request, case_id: int, user: Reader, services: ServicesDep, csrf_token: Csrf = ""
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    try:
        services.vetting.screen_case(user, case_id)
    except TipAuditError as exc:
        return _case_page(request, services, case_id, error=exc.message, code=exc.status)
    return _redirect(f"/entities/vetting/{case_id}?done=case-screened")


@router.post("/entities/vetting/{case_id}/decide")
def decide_case(
    request: Request,
    case_id: int,
    user: Reader,
    services: ServicesDep,
    csrf_token: Csrf = "",
    decision: Annotated[str, Form(max_length=20)] = "",
    reason: Reason = "",
    valid_until: Annotated[str, Form(max_length=20)] = "",
    revet_on: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    try:
        until = _optional_date(valid_until, "validity end")
        revet = _optional_date(revet_on, "re-vetting date")
        if decision == "override":
            services.vetting.request_override(
                user, case_id, reason=reason, valid_until=until, revet_on=revet
            )
            return _redirect(f"/entities/vetting/{case_id}?done=override")
        services.vetting.decide_case(
            user, case_id, decision, reason=reason, valid_until=until, revet_on=revet
        )
    except TipAuditError as exc:
        return _case_page(request, services, case_id, error=exc.message, code=exc.status)
    return _redirect(f"/entities/vetting/{case_id}?done=case-decided")


# --- alerts -----------------------------------------------------------------------------------


def _alerts_page(
    request: Request,
    services: Services,
    show: str,
    *,
    error: str | None = None,
    done: str = "",
    code: int = 200,
) -> Response:
    return render(
        request,
        "entities_alerts.html",
        {
            "alerts": services.vetting.alerts(None if show == "all" else "open"),
            "show": show,
            "error": error,
            "done": _done(done),
        },
        status_code=code,
    )


@router.get("/entities/alerts")
def alerts_page(
    request: Request,
    user: Reader,
    services: ServicesDep,
    show: Annotated[str, Query(pattern="^(open|all)$")] = "open",
    done: str = "",
) -> Response:
    return _alerts_page(request, services, show, done=done)


@router.post("/entities/alerts/{alert_id}/close")
def close_alert(
    request: Request,
    alert_id: int,
    user: Reader,
    services: ServicesDep,
    csrf_token: Csrf = "",
    reason: Reason = "",
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    try:
        services.vetting.close_alert(user, alert_id, reason=reason)
    except TipAuditError as exc:
        return _alerts_page(request, services, "open", error=exc.message, code=exc.status)
    return _redirect("/entities/alerts?done=closed")


# --- JSON API ---------------------------------------------------------------------------------


def _match_json(m: MatchView) -> dict[str, Any]:
    data = {
        k: v
        for k, v in dataclasses.asdict(m).items()
        if k not in {"decision", "features", "created_at"}
    }
    data["created_at"] = m.created_at.isoformat()
    data["features"] = [dict(f) for f in m.features]
    data["counts"] = m.counts
    data["blocks"] = list(m.blocking_reasons)
    data["decision"] = (
        None
        if m.decision is None
        else {
            "decision": m.decision.decision,
            "reason": m.decision.reason,
            "decided_by": m.decision.decided_by,
            "decided_at": m.decision.decided_at.isoformat(),
        }
    )
    return data


@api_router.get("/matches")
def api_matches(
    services: ServicesDep,
    user: ApiReader,
    status: Annotated[str, Query(pattern="^(candidate|confirmed|rejected|suppressed|all)$")] = (
        "candidate"
    ),
    ref: Annotated[str, Query(max_length=300)] = "",
) -> list[dict[str, Any]]:
    """Stored matches (newest per query and list entry) with explanations and decisions."""
    found = services.vetting.matches(
        status=None if status == "all" else status, query_ref=ref or None
    )
    return [_match_json(m) for m in found]


@api_router.get("/supplier-matches")
def api_supplier_matches(services: ServicesDep, user: ApiReader) -> list[dict[str, Any]]:
    """The matches that count against procurement suppliers."""
    return [dataclasses.asdict(m) for m in services.vetting.supplier_matches()]


@api_router.get("/allegations")
def api_allegations(
    services: ServicesDep,
    user: ApiReader,
    status: Annotated[
        str, Query(pattern="^(|pending|credible|substantiated|unsubstantiated)$")
    ] = "",
) -> list[dict[str, Any]]:
    """The allegations register with each entry's status history."""
    return [
        {**dataclasses.asdict(a), "counts": a.counts}
        for a in services.allegations.list(status or None)
    ]


@api_router.get("/support")
def api_support(services: ServicesDep, user: ApiReader) -> list[dict[str, Any]]:
    """The support register."""
    return [dataclasses.asdict(s) for s in services.support.list()]


@api_router.get("/vetting/{case_id}")
def api_case(case_id: int, services: ServicesDep, user: ApiReader) -> dict[str, Any]:
    """A vetting case: subjects, matches with explanations, blockers, decisions."""
    case = services.vetting.case(case_id)
    data = dataclasses.asdict(case)
    data["matches"] = [_match_json(m) for m in case.matches]
    data["blockers"] = [m.id for m in case.blockers]
    return data


@api_router.get("/alerts")
def api_alerts(
    services: ServicesDep,
    user: ApiReader,
    show: Annotated[str, Query(pattern="^(open|all)$")] = "open",
) -> list[dict[str, Any]]:
    """Alerts raised by re-screening."""
    return [
        {
            **{k: v for k, v in dataclasses.asdict(a).items() if k != "match"},
            "match": _match_json(a.match),
        }
        for a in services.vetting.alerts(None if show == "all" else "open")
    ]
