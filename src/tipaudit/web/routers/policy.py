"""Policy review in the console: the register, a policy and its versions, the diff of a
version's automatic findings, guided assessments and their report; and the JSON API reads."""

from __future__ import annotations

import contextlib
import secrets
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import FileResponse, Response

from tipaudit.core.roles import Permission
from tipaudit.errors import TipAuditError, ValidationError
from tipaudit.policy.rubrics import POLICY_TYPES, rubrics_for_type
from tipaudit.services.accounts import StaffUser
from tipaudit.services.policy import (
    ANSWER_LABELS,
    EXPERTISE,
    MAX_COMMENT_CHARS,
    MAX_DOCUMENT_BYTES,
    AssessmentView,
    PolicyInfo,
    VersionInfo,
)
from tipaudit.web.deps import ServicesDep, api_permission, page_permission
from tipaudit.web.pages import render
from tipaudit.web.policy_report import assessment_pdf, report_context, severity_history_svg
from tipaudit.web.security import CSRF_FIELD, check_csrf

router = APIRouter(include_in_schema=False)

Reader = Annotated[StaffUser, Depends(page_permission(Permission.POLICY_READ))]
Assessor = Annotated[StaffUser, Depends(page_permission(Permission.POLICY_ASSESS))]
Csrf = Annotated[str, Form(alias=CSRF_FIELD, max_length=200)]

REVIEWER_ROWS = 4
_FORM_OVERHEAD = 64 * 1024

DONE = {
    "registered": "The policy was added to the register.",
    "version": "The version was stored and checked.",
    "started": "The assessment was opened.",
    "joined": "You joined the assessment.",
    "answers": "Your answers were saved.",
    "signed": "You signed off; your answers are locked.",
    "final": "You signed off and the assessment is now final.",
}


class TooLargeError(ValidationError):
    code = "too_large"
    status = 413


class LengthRequiredError(ValidationError):
    code = "length_required"
    status = 411


# --- the register ------------------------------------------------------------------------------


def _register_page(
    request: Request,
    services: ServicesDep,
    user: StaffUser,
    *,
    policy_type: str = "",
    error: str | None = None,
    done: str = "",
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    policies = services.policies.list_policies(policy_type or None)
    return render(
        request,
        "policy_register.html",
        {
            "policies": policies,
            "types": POLICY_TYPES,
            "policy_type": policy_type,
            "can_assess": user.can(Permission.POLICY_ASSESS),
            "error": error,
            "done": DONE.get(done),
            "form": form or {},
        },
        status_code=status_code,
    )


@router.get("/policies")
def register_page(
    request: Request,
    user: Reader,
    services: ServicesDep,
    policy_type: Annotated[str, Query(alias="type", max_length=40)] = "",
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    if policy_type and policy_type not in POLICY_TYPES:
        raise ValidationError(f"unknown policy type {policy_type[:40]!r}")
    return _register_page(request, services, user, policy_type=policy_type, done=done)


@router.post("/policies")
def register_policy(
    request: Request,
    user: Assessor,
    services: ServicesDep,
    csrf_token: Csrf = "",
    name: Annotated[str, Form(max_length=400)] = "",
    slug: Annotated[str, Form(max_length=100)] = "",
    policy_type: Annotated[str, Form(max_length=60)] = "",
    jurisdiction: Annotated[str, Form(max_length=200)] = "",
    owner: Annotated[str, Form(max_length=300)] = "",
    description: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    form = {
        "name": name,
        "slug": slug,
        "policy_type": policy_type,
        "jurisdiction": jurisdiction,
        "owner": owner,
        "description": description,
    }
    try:
        info = services.policies.register(
            user,
            name=name,
            slug=slug,
            policy_type=policy_type,
            jurisdiction=jurisdiction,
            owner=owner,
            description=description,
        )
    except TipAuditError as exc:
        return _register_page(
            request, services, user, error=exc.message, form=form, status_code=exc.status
        )
    return RedirectResponse(f"/policies/{info.slug}?done=registered", status_code=303)


# --- one policy --------------------------------------------------------------------------------


def _policy_page(
    request: Request,
    services: ServicesDep,
    user: StaffUser,
    slug: str,
    *,
    error: str | None = None,
    done: str = "",
    status_code: int = 200,
) -> Response:
    review = services.policies
    info = review.get_policy(slug)
    versions = review.versions(info.slug)
    latest = versions[-1] if versions else None
    diff = review.diff(info.slug, latest.id) if latest else None
    can_assess = user.can(Permission.POLICY_ASSESS)
    return render(
        request,
        "policy_detail.html",
        {
            "policy": info,
            "versions": list(reversed(versions)),
            "latest": latest,
            "diff": diff,
            "chart": severity_history_svg(versions, chart_id="chart-severity"),
            "history": versions,
            "assessments": review.assessments(info.slug),
            "rubrics": rubrics_for_type(info.policy_type),
            "expertise": EXPERTISE,
            "reviewer_rows": range(1, REVIEWER_ROWS + 1),
            "can_assess": can_assess,
            "max_mb": MAX_DOCUMENT_BYTES // (1024 * 1024),
            "error": error,
            "done": DONE.get(done),
        },
        status_code=status_code,
    )


@router.get("/policies/{slug}")
def policy_page(
    request: Request,
    slug: str,
    user: Reader,
    services: ServicesDep,
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    return _policy_page(request, services, user, slug, done=done)


@router.post("/policies/{slug}/versions")
async def upload_version(
    request: Request, slug: str, user: Assessor, services: ServicesDep
) -> Response:
    """A new version from an uploaded document; the size is capped before the body is read."""
    length = request.headers.get("content-length")
    if length is None:
        raise LengthRequiredError("send the document with a Content-Length")
    if not length.isdigit() or int(length) > MAX_DOCUMENT_BYTES + _FORM_OVERHEAD:
        raise TooLargeError(
            f"the document is too large; the limit is {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB"
        )
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise ValidationError("upload the document with the form (multipart/form-data)")
    async with request.form(max_files=1, max_fields=8, max_part_size=64 * 1024) as form:
        check_csrf(request, request.app.state.secret_key, _text(form.get(CSRF_FIELD)))
        upload = form.get("document")
        label = _text(form.get("label"))[:200]
        effective = _text(form.get("effective_date"))[:40]
        if not isinstance(upload, UploadFile) or not upload.filename:
            return _policy_page(
                request, services, user, slug, error="choose a document to upload", status_code=422
            )
        try:
            effective_date = date.fromisoformat(effective) if effective else None
        except ValueError:
            return _policy_page(
                request,
                services,
                user,
                slug,
                error="the effective date must be a date (YYYY-MM-DD)",
                status_code=422,
            )
        incoming = services.settings.data_dir / "policies" / ".incoming"
        incoming.mkdir(parents=True, exist_ok=True)
        temporary = incoming / secrets.token_hex(12)
        try:
            await _spool(upload, temporary)
            # the check reads the whole document: keep it off the event loop
            await run_in_threadpool(
                services.policies.add_version,
                user,
                slug,
                temporary,
                label=label,
                effective_date=effective_date,
                file_name=upload.filename[:300],
            )
        except TooLargeError:
            raise
        except TipAuditError as exc:
            if exc.status == 404:
                raise
            return _policy_page(
                request, services, user, slug, error=exc.message, status_code=exc.status
            )
        finally:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
    return RedirectResponse(f"/policies/{slug}?done=version", status_code=303)


async def _spool(upload: UploadFile, target: Path) -> None:
    """Copy an upload to ``target``, refusing it as soon as it passes the size limit."""
    written = 0
    with target.open("wb") as out:
        while chunk := await upload.read(1 << 20):
            written += len(chunk)
            if written > MAX_DOCUMENT_BYTES:
                raise TooLargeError(
                    "the document is too large; the limit is "
                    f"{MAX_DOCUMENT_BYTES // (1024 * 1024)} MB"
                )
            out.write(chunk)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


@router.get("/policies/{slug}/versions/{version_id}")
def version_page(
    request: Request, slug: str, version_id: int, user: Reader, services: ServicesDep
) -> Response:
    review = services.policies
    info = review.get_policy(slug)
    diff = review.diff(info.slug, version_id)
    return render(
        request,
        "policy_version.html",
        {"policy": info, "pversion": diff.version, "diff": diff},
    )


@router.get("/policies/{slug}/versions/{version_id}/document")
def version_document(slug: str, version_id: int, user: Reader, services: ServicesDep) -> Response:
    review = services.policies
    version = review.version(slug, version_id)
    path = review.document_path(version)
    return FileResponse(
        path,
        media_type="application/octet-stream",
        filename=path.name,
        content_disposition_type="attachment",
    )


# --- assessments -------------------------------------------------------------------------------


@router.post("/policies/{slug}/assessments")
async def start_assessment(
    request: Request, slug: str, user: Assessor, services: ServicesDep
) -> Response:
    form = await request.form(max_files=0, max_fields=40, max_part_size=4096)
    check_csrf(request, request.app.state.secret_key, _text(form.get(CSRF_FIELD)))
    reviewers = [
        (_text(form.get(f"reviewer_{n}"))[:64], _text(form.get(f"expertise_{n}"))[:40])
        for n in range(1, REVIEWER_ROWS + 1)
    ]
    try:
        version_id = int(_text(form.get("version_id")) or "0")
    except ValueError:
        version_id = 0
    try:
        if version_id <= 0:
            raise ValidationError("choose the version to assess")
        assessment_id = services.policies.start_assessment(
            user,
            slug,
            version_id,
            _text(form.get("rubric_id"))[:80],
            [(u, e or "other") for u, e in reviewers if u.strip()],
        )
    except TipAuditError as exc:
        if exc.status == 404 and "rubric" not in exc.message.lower():
            raise
        return _policy_page(
            request, services, user, slug, error=exc.message, status_code=exc.status
        )
    return RedirectResponse(
        f"/policies/{slug}/assessments/{assessment_id}?done=started", status_code=303
    )


def _assessment_page(
    request: Request,
    services: ServicesDep,
    user: StaffUser,
    slug: str,
    assessment_id: int,
    *,
    error: str | None = None,
    done: str = "",
    status_code: int = 200,
) -> Response:
    view = services.policies.assessment(assessment_id, slug=slug)
    me = view.reviewer(user.username)
    can_answer = (
        user.can(Permission.POLICY_ASSESS)
        and not view.final
        and me is not None
        and me.signed_off_at is None
    )
    return render(
        request,
        "policy_assessment.html",
        {
            "view": view,
            "policy": view.policy,
            "me": me,
            "can_answer": can_answer,
            "can_join": user.can(Permission.POLICY_ASSESS) and not view.final and me is None,
            "answer_labels": ANSWER_LABELS,
            "expertise": EXPERTISE,
            "max_comment": MAX_COMMENT_CHARS,
            "error": error,
            "done": DONE.get(done),
        },
        status_code=status_code,
    )


@router.get("/policies/{slug}/assessments/{assessment_id}")
def assessment_page(
    request: Request,
    slug: str,
    assessment_id: int,
    user: Reader,
    services: ServicesDep,
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    return _assessment_page(request, services, user, slug, assessment_id, done=done)


@router.post("/policies/{slug}/assessments/{assessment_id}/answers")
async def save_answers(
    request: Request, slug: str, assessment_id: int, user: Assessor, services: ServicesDep
) -> Response:
    form = await request.form(max_files=0, max_fields=400, max_part_size=MAX_COMMENT_CHARS * 4)
    check_csrf(request, request.app.state.secret_key, _text(form.get(CSRF_FIELD)))
    view = services.policies.assessment(assessment_id, slug=slug)
    answers: dict[str, tuple[str, str]] = {}
    for item in view.items:
        value = _text(form.get(f"answer-{item.item.id}"))
        if not value:
            continue
        answers[item.item.id] = (value[:40], _text(form.get(f"comment-{item.item.id}")))
    try:
        if not answers:
            raise ValidationError("choose an answer for at least one item")
        services.policies.answer(user, assessment_id, answers)
    except TipAuditError as exc:
        return _assessment_page(
            request,
            services,
            user,
            slug,
            assessment_id,
            error=exc.message,
            status_code=exc.status,
        )
    return RedirectResponse(
        f"/policies/{slug}/assessments/{assessment_id}?done=answers", status_code=303
    )


@router.post("/policies/{slug}/assessments/{assessment_id}/join")
def join_assessment(
    request: Request,
    slug: str,
    assessment_id: int,
    user: Assessor,
    services: ServicesDep,
    csrf_token: Csrf = "",
    expertise: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    services.policies.assessment(assessment_id, slug=slug)  # 404 for a wrong policy
    try:
        services.policies.join_assessment(user, assessment_id, expertise)
    except TipAuditError as exc:
        return _assessment_page(
            request, services, user, slug, assessment_id, error=exc.message, status_code=exc.status
        )
    return RedirectResponse(
        f"/policies/{slug}/assessments/{assessment_id}?done=joined", status_code=303
    )


@router.post("/policies/{slug}/assessments/{assessment_id}/signoff")
def sign_off(
    request: Request,
    slug: str,
    assessment_id: int,
    user: Assessor,
    services: ServicesDep,
    csrf_token: Csrf = "",
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    services.policies.assessment(assessment_id, slug=slug)
    try:
        final = services.policies.sign_off(user, assessment_id)
    except TipAuditError as exc:
        return _assessment_page(
            request, services, user, slug, assessment_id, error=exc.message, status_code=exc.status
        )
    done = "final" if final else "signed"
    return RedirectResponse(
        f"/policies/{slug}/assessments/{assessment_id}?done={done}", status_code=303
    )


@router.get("/policies/{slug}/assessments/{assessment_id}/report")
def report_page(
    request: Request, slug: str, assessment_id: int, user: Reader, services: ServicesDep
) -> Response:
    view = services.policies.assessment(assessment_id, slug=slug)
    return render(request, "policy_report.html", report_context(services.policies, view))


@router.get("/policies/{slug}/assessments/{assessment_id}/report.pdf")
def report_pdf(
    request: Request, slug: str, assessment_id: int, user: Reader, services: ServicesDep
) -> Response:
    view = services.policies.assessment(assessment_id, slug=slug)
    context = report_context(services.policies, view)
    url = str(request.url).removesuffix(".pdf")
    body = assessment_pdf(context, url=url)
    name = f"assessment-{view.policy.slug}-{view.id}.pdf"
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


# --- JSON API ----------------------------------------------------------------------------------

api_router = APIRouter(prefix="/api/policies", tags=["policies"])
ApiReader = api_permission(Permission.POLICY_READ)


class PolicyOut(BaseModel):
    slug: str
    name: str
    type: str
    type_label: str
    jurisdiction: str
    owner: str
    description: str
    versions: int
    latest_version: str | None
    latest_findings: dict[str, int]


class FindingOut(BaseModel):
    rule_id: str
    item_id: str
    kind: str
    title: str
    severity: str
    indicators: list[str]
    evidence: str
    location: str
    explanation: str
    alternative: str
    sources: list[str]


class VersionOut(BaseModel):
    id: int
    number: int
    label: str
    effective_date: date | None
    file_name: str
    sha256: str
    size_bytes: int
    uploaded_at: datetime
    uploaded_by: str
    checker: str
    provisions: int
    findings: list[FindingOut]


class VersionDiffOut(VersionOut):
    previous_version: str | None
    new: list[FindingOut]
    resolved: list[FindingOut]
    unchanged: list[FindingOut]


class PolicyDetailOut(PolicyOut):
    version_history: list[VersionOut]
    assessments: list[int]


class ReviewerAnswerOut(BaseModel):
    reviewer: str
    answer: str
    comment: str


class ItemOut(BaseModel):
    item_id: str
    question: str
    severity: str
    combined: str | None
    disagreement: bool
    answers: list[ReviewerAnswerOut]


class ReviewerOut(BaseModel):
    username: str
    expertise: str
    required: bool
    signed_off_at: datetime | None


class AssessmentFindingOut(BaseModel):
    item_id: str
    question: str
    answer: str
    comment: str
    severity: str
    indicators: list[str]
    alternative: str
    sources: list[str]


class AssessmentOut(BaseModel):
    id: int
    policy: str
    version: str
    rubric_id: str
    rubric_version: str
    status: str
    score: float | None
    reviewers: list[ReviewerOut]
    waiting_for: list[str]
    items: list[ItemOut]
    findings: list[AssessmentFindingOut]


def _policy_out(info: PolicyInfo) -> dict[str, Any]:
    return {
        "slug": info.slug,
        "name": info.name,
        "type": info.policy_type,
        "type_label": info.type_label,
        "jurisdiction": info.jurisdiction,
        "owner": info.owner,
        "description": info.description,
        "versions": info.versions,
        "latest_version": info.latest_label,
        "latest_findings": dict(info.latest_counts),
    }


def _version_out(version: VersionInfo) -> dict[str, Any]:
    return {
        "id": version.id,
        "number": version.number,
        "label": version.label,
        "effective_date": version.effective_date,
        "file_name": version.file_name,
        "sha256": version.sha256,
        "size_bytes": version.size_bytes,
        "uploaded_at": version.uploaded_at,
        "uploaded_by": version.uploaded_by,
        "checker": version.checker,
        "provisions": version.provisions,
        "findings": version.findings,
    }


def _assessment_out(view: AssessmentView) -> dict[str, Any]:
    return {
        "id": view.id,
        "policy": view.policy.slug,
        "version": view.version.label,
        "rubric_id": view.rubric.id,
        "rubric_version": view.rubric.version,
        "status": view.status,
        "score": view.result.score,
        "reviewers": [
            {
                "username": r.username,
                "expertise": r.expertise,
                "required": r.required,
                "signed_off_at": r.signed_off_at,
            }
            for r in view.reviewers
        ],
        "waiting_for": view.waiting_for,
        "items": [
            {
                "item_id": i.item.id,
                "question": i.item.question,
                "severity": i.item.severity,
                "combined": i.combined,
                "disagreement": i.disagreement,
                "answers": [
                    {"reviewer": who, "answer": a, "comment": c}
                    for who, (a, c) in i.answers.items()
                ],
            }
            for i in view.items
        ],
        "findings": [
            {
                "item_id": f.item_id,
                "question": f.question,
                "answer": f.answer.value,
                "comment": f.comment,
                "severity": f.severity,
                "indicators": list(f.indicators),
                "alternative": f.alternative,
                "sources": [s.cite() for s in f.sources],
            }
            for f in view.result.findings
        ],
    }


@api_router.get("", response_model=list[PolicyOut], summary="The policy register")
def api_policies(
    services: ServicesDep,
    user: StaffUser = ApiReader,
    policy_type: Annotated[str, Query(alias="type", max_length=40)] = "",
) -> list[dict[str, Any]]:
    return [_policy_out(i) for i in services.policies.list_policies(policy_type or None)]


@api_router.get("/{slug}", response_model=PolicyDetailOut, summary="A policy and its versions")
def api_policy(slug: str, services: ServicesDep, user: StaffUser = ApiReader) -> dict[str, Any]:
    review = services.policies
    info = review.get_policy(slug)
    out = _policy_out(info)
    out["version_history"] = [_version_out(v) for v in review.versions(info.slug)]
    out["assessments"] = [a.id for a in review.assessments(info.slug)]
    return out


@api_router.get(
    "/{slug}/versions/{version_id}",
    response_model=VersionDiffOut,
    summary="A version, its automatic findings and the diff with the version before",
)
def api_version(
    slug: str, version_id: int, services: ServicesDep, user: StaffUser = ApiReader
) -> dict[str, Any]:
    diff = services.policies.diff(slug, version_id)
    out = _version_out(diff.version)
    out.update(
        {
            "previous_version": diff.previous.label if diff.previous else None,
            "new": diff.new,
            "resolved": diff.resolved,
            "unchanged": diff.unchanged,
        }
    )
    return out


@api_router.get(
    "/{slug}/assessments/{assessment_id}",
    response_model=AssessmentOut,
    summary="An assessment: every reviewer's answers, disagreements and findings",
)
def api_assessment(
    slug: str, assessment_id: int, services: ServicesDep, user: StaffUser = ApiReader
) -> dict[str, Any]:
    return _assessment_out(services.policies.assessment(assessment_id, slug=slug))


__all__ = ["api_router", "router"]
