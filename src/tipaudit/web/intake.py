"""The public report intake: an application of its own, mounted at ``/report``.

``tipaudit serve`` mounts it beside the console; ``tipaudit serve --intake-only`` serves it
alone (with the stylesheet) so that it can run on a host apart from the console, without the
reviewers' private key. It works without JavaScript, in every language that has a file in
``tipaudit/reports/locales/``, and it never records who sent a request: no address, user
agent or query is stored or logged (only the route template and status, as in the console).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tipaudit import __version__
from tipaudit.core.countries import all_countries
from tipaudit.core.indicators import load_taxonomy
from tipaudit.errors import (
    AuthenticationError,
    ConflictError,
    PermissionDeniedError,
    RateLimitedError,
    TipAuditError,
    ValidationError,
)
from tipaudit.reports.content import LIMITS, MAX_SUBJECTS, ReportInputError, SubjectKind
from tipaudit.reports.locales import Locale, available_languages, choose_language, load_locale
from tipaudit.reports.receipts import SECRET_WORDS
from tipaudit.reports.workflow import State
from tipaudit.services.container import Services
from tipaudit.services.reports import AttachmentFile, ReporterView, Reports, SubmitResult
from tipaudit.settings import Settings
from tipaudit.web.pages import TEMPLATES
from tipaudit.web.security import (
    CSRF_COOKIE,
    CSRF_FIELD,
    apply_security_headers,
    check_csrf,
    csrf_token_for,
    set_cookie,
)

__all__ = ["MOUNT_PATH", "create_intake_app", "create_intake_server"]

MOUNT_PATH = "/report"
STATIC = Path(__file__).parent / "static"
log = logging.getLogger("tipaudit.web.intake")

_MAX_FIELDS = 100
_FORM_OVERHEAD = 1024 * 1024  # text fields and multipart framing


class _BodyLimit:
    """Refuse request bodies over a limit before they are parsed (413), and bodies of
    unknown length (411): a form post from a browser always says how long it is."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in {"POST", "PUT", "PATCH"}:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        raw = headers.get(b"content-length")
        if raw is None:
            await PlainTextResponse("Length required.", status_code=411)(scope, receive, send)
            return
        try:
            declared = int(raw)
        except ValueError:
            declared = -1
        if declared < 0 or declared > self.limit:
            await PlainTextResponse("The request is too large.", status_code=413)(
                scope, receive, send
            )
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLargeError
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLargeError:
            await PlainTextResponse("The request is too large.", status_code=413)(
                scope, receive, send
            )


class _TooLargeError(Exception):
    pass


# --- rendering -------------------------------------------------------------------------------


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def _language(request: Request, form: Mapping[str, Any] | None = None) -> str:
    requested = None
    if form is not None and isinstance(form.get("lang"), str):
        requested = str(form.get("lang"))
    requested = requested or request.query_params.get("lang")
    return choose_language(requested, request.headers.get("accept-language"))


def _countries(locale: Locale) -> list[tuple[str, str]]:
    """Country choices in the reporter's language (pycountry's translations where present)."""
    import gettext

    import pycountry

    translate: Callable[[str], str]
    try:
        translate = gettext.translation(
            "iso3166-1", pycountry.LOCALES_DIR, languages=[locale.code]
        ).gettext
    except OSError:
        translate = str
    choices = []
    for country in all_countries():
        iso = pycountry.countries.get(alpha_2=country.alpha2)
        name = translate(iso.name) if iso is not None else country.name
        if locale.code == "en":
            name = country.name
        choices.append((country.alpha2, name))
    return sorted(choices, key=lambda item: item[1].casefold())


def intake_context(request: Request, locale: Locale, settings: Settings) -> dict[str, Any]:
    """What every form of the intake (public, or staff on someone's behalf) needs."""
    taxonomy = load_taxonomy()
    return {
        "t": locale,
        "lang": locale.code,
        "countries": _countries(locale),
        "indicators": [(i.code, i.plain(locale.code)) for i in taxonomy],
        "subject_kinds": [k.value for k in SubjectKind],
        "subject_slots": range(3),
        "limits": LIMITS,
        "max_subjects": MAX_SUBJECTS,
        "max_files": settings.reports_max_attachments,
        "max_mb": settings.reports_max_attachment_mb,
    }


def _render(
    request: Request,
    template: str,
    locale: Locale,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> Response:
    values: dict[str, Any] = {
        "t": locale,
        "lang": locale.code,
        "languages": [(code, load_locale(code)("language_name")) for code in available_languages()],
        "root": _root(request),
        "current_path": request.url.path,
        "csrf_token": csrf_token_for(request, request.app.state.secret_key),
        "version": __version__,
    }
    values.update(context or {})
    return TEMPLATES.TemplateResponse(request, template, values, status_code=status_code)


def form_values(form: FormData) -> dict[str, Any]:
    """Text fields of a form as plain values (lists where a field repeats)."""
    values: dict[str, Any] = {}
    for key in form:
        items = [v for v in form.getlist(key) if isinstance(v, str)]
        if key == "indicators":
            values[key] = items
        elif items:
            values[key] = items[0]
    return values


async def uploaded_files(form: FormData, field: str = "attachments") -> list[AttachmentFile]:
    files = []
    for item in form.getlist(field):
        if isinstance(item, UploadFile):
            data = await item.read()
            if data:
                files.append(AttachmentFile(item.filename or "file", data))
    return files


def problem_messages(locale: Locale, problems: Mapping[str, str]) -> dict[str, str]:
    return {name: locale(f"errors.{key}") for name, key in problems.items()}


# --- the application -------------------------------------------------------------------------


def _form_body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    """OpenAPI description of a form body, so that the public endpoints can be fuzzed."""
    schema = {"type": "object", "properties": properties, "required": required}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {"schema": schema},
                "application/x-www-form-urlencoded": {"schema": schema},
            },
        }
    }


def _text(limit: int) -> dict[str, Any]:
    return {"type": "string", "maxLength": limit}


_LANG = {"type": "string", "enum": ["en", "es"]}
_CSRF = {"type": "string", "maxLength": 200}
_FILES = {"type": "array", "items": {"type": "string", "format": "binary"}}
_SUBMIT_BODY = _form_body(
    {
        CSRF_FIELD: _CSRF,
        "lang": _LANG,
        "what": _text(LIMITS["what"]),
        "country": _text(2),
        "where": _text(LIMITS["where"]),
        "when": _text(LIMITS["when"]),
        "subject_0_kind": {"type": "string", "enum": [k.value for k in SubjectKind]},
        "subject_0_name": _text(LIMITS["subject_name"]),
        "subject_0_identifiers": _text(LIMITS["subject_identifiers"]),
        "indicators": {"type": "array", "items": {"type": "string"}},
        "contact_name": _text(LIMITS["contact_name"]),
        "contact_email": _text(LIMITS["contact_email"]),
        "contact_phone": _text(LIMITS["contact_phone"]),
        "contact_other": _text(LIMITS["contact_other"]),
        "share_report": {"type": "string", "enum": ["yes"]},
        "share_contact": {"type": "string", "enum": ["yes"]},
        "attachments": _FILES,
    },
    [CSRF_FIELD, "what"],
)
_FOLLOW_UP_BODY = _form_body(
    {CSRF_FIELD: _CSRF, "lang": _LANG, "receipt": _text(400)}, [CSRF_FIELD, "receipt"]
)
_MESSAGE_BODY = _form_body(
    {
        CSRF_FIELD: _CSRF,
        "lang": _LANG,
        "token": _text(1000),
        "reply_to": _text(12),
        "message": _text(LIMITS["message"]),
        "attachments": _FILES,
    },
    [CSRF_FIELD, "token", "message"],
)
_PAGE = {200: {"description": "An HTML page", "content": {"text/html": {}}}}


router = APIRouter()


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _reports(request: Request) -> Reports:
    services: Services = request.app.state.services
    return services.reports


async def read_form(request: Request) -> FormData:
    settings = _settings(request)
    try:
        return await request.form(
            max_files=settings.reports_max_attachments + 1,
            max_fields=_MAX_FIELDS,
            max_part_size=LIMITS["what"] * 4 + 1024,
        )
    except StarletteHTTPException as exc:
        raise ValidationError("the form could not be read") from exc
    except (ValueError, KeyError, UnicodeDecodeError) as exc:  # malformed multipart
        raise ValidationError("the form could not be read") from exc


@router.get("/", response_class=HTMLResponse, summary="The report form")
def form_page(request: Request) -> Response:
    locale = load_locale(_language(request))
    context = intake_context(request, locale, _settings(request))
    context.update(values={}, problems={})
    return _render(request, "intake_form.html", locale, context)


@router.post("/", response_class=HTMLResponse, summary="Send a report", openapi_extra=_SUBMIT_BODY)
async def submit(request: Request) -> Response:
    form = await read_form(request)
    try:
        return await _submit_form(request, form)
    finally:
        await form.close()


async def _submit_form(request: Request, form: FormData) -> Response:
    values = form_values(form)
    locale = load_locale(_language(request, values))
    check_csrf(request, request.app.state.secret_key, values.get(CSRF_FIELD))
    from tipaudit.reports.content import validate_submission

    submission = validate_submission(values, language=locale.code)
    files = await uploaded_files(form)
    problems = dict(submission.problems)
    result: SubmitResult | None = None
    if not problems:
        try:
            result = await run_in_threadpool(_reports(request).submit, submission, files)
        except ReportInputError as exc:
            problems["attachments"] = exc.key
            detail = exc.message if locale.code == "en" else None
        else:
            detail = None
    if result is None:
        context = intake_context(request, locale, _settings(request))
        messages = problem_messages(locale, problems)
        if "attachments" in problems and detail:
            messages["attachments"] = f"{messages['attachments']} {detail}"
        context.update(values=values, problems=messages)
        return _render(request, "intake_form.html", locale, context, status_code=422)
    return _render(
        request,
        "intake_receipt.html",
        locale,
        {"receipt": result.receipt, "removed": result.removed, "words": SECRET_WORDS},
    )


@router.get("/follow-up", response_class=HTMLResponse, summary="The receipt form")
def follow_up_page(request: Request) -> Response:
    locale = load_locale(_language(request))
    return _render(request, "intake_follow_up.html", locale, {"error": None})


@router.post(
    "/follow-up",
    response_class=HTMLResponse,
    summary="Open a report with its receipt",
    openapi_extra=_FOLLOW_UP_BODY,
)
async def follow_up(request: Request) -> Response:
    form = await read_form(request)
    try:
        return await _follow_up_form(request, form)
    finally:
        await form.close()


async def _follow_up_form(request: Request, form: FormData) -> Response:
    values = form_values(form)
    locale = load_locale(_language(request, values))
    check_csrf(request, request.app.state.secret_key, values.get(CSRF_FIELD))
    text = str(values.get("receipt", ""))
    try:
        token = await run_in_threadpool(_reports(request).open_with_receipt, text)
    except RateLimitedError:
        error, status = (
            locale("errors.rate_limited", minutes=_settings(request).reports_receipt_lock_minutes),
            429,
        )
    except AuthenticationError:
        error, status = locale("errors.receipt_invalid"), 401
    except ValidationError:
        error, status = locale("errors.receipt_format"), 422
    else:
        view = await run_in_threadpool(_reports(request).reporter_view, token)
        return _status_page(request, locale, view)
    return _render(request, "intake_follow_up.html", locale, {"error": error}, status_code=status)


@router.post(
    "/follow-up/message",
    response_class=HTMLResponse,
    summary="Answer a question or add information",
    openapi_extra=_MESSAGE_BODY,
)
async def reporter_message(request: Request) -> Response:
    form = await read_form(request)
    try:
        return await _reporter_message_form(request, form)
    finally:
        await form.close()


async def _reporter_message_form(request: Request, form: FormData) -> Response:
    values = form_values(form)
    locale = load_locale(_language(request, values))
    check_csrf(request, request.app.state.secret_key, values.get(CSRF_FIELD))
    token = str(values.get("token", ""))
    reply_raw = str(values.get("reply_to", "") or "")
    reply_to = int(reply_raw) if reply_raw.isdigit() and len(reply_raw) < 12 else None
    files = await uploaded_files(form)
    try:
        await run_in_threadpool(
            lambda: _reports(request).reporter_message(
                token, str(values.get("message", "")), reply_to=reply_to, files=files
            )
        )
    except AuthenticationError:
        return _render(
            request,
            "intake_follow_up.html",
            locale,
            {"error": locale("errors.expired")},
            status_code=401,
        )
    except ReportInputError as exc:
        view = await run_in_threadpool(_reports(request).reporter_view, token)
        return _status_page(
            request, locale, view, error=locale(f"errors.{exc.key}"), status_code=422
        )
    except ValidationError:
        view = await run_in_threadpool(_reports(request).reporter_view, token)
        return _status_page(
            request, locale, view, error=locale("errors.choice_unknown"), status_code=422
        )
    view = await run_in_threadpool(_reports(request).reporter_view, token)
    return _status_page(request, locale, view, done=locale("message_sent"))


def _status_page(
    request: Request,
    locale: Locale,
    view: ReporterView,
    *,
    error: str | None = None,
    done: str | None = None,
    status_code: int = 200,
) -> Response:
    return _render(
        request,
        "intake_status.html",
        locale,
        {
            "view": view,
            "state_label": locale(f"states.{view.state.value}"),
            "closed": view.state is State.CLOSED,
            "error": error,
            "done": done,
        },
        status_code=status_code,
    )


def create_intake_app(settings: Settings, services: Services) -> FastAPI:
    """The public intake as an application to mount at :data:`MOUNT_PATH`."""
    app = FastAPI(
        title="tipaudit public report intake",
        version=__version__,
        description="Public, anonymous reporting of forced labour and trafficking abuses.",
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.services = services
    app.state.settings = settings
    app.state.secret_key = settings.load_secret_key()
    body_limit = (
        settings.reports_max_attachments * settings.reports_max_attachment_mb * 1024 * 1024
        + _FORM_OVERHEAD
    )

    app.include_router(router)

    @app.middleware("http")
    async def _headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        apply_security_headers(response, settings)
        fresh = getattr(request.state, "new_csrf_secret", None)
        if fresh is not None:
            set_cookie(response, settings, CSRF_COOKIE, fresh, max_age=None)
        # Route template and status only: no client address, user agent, query or body.
        route = request.scope.get("route")
        log.info(
            "%s %s%s -> %s in %.0f ms",
            request.method,
            _root(request),
            getattr(route, "path", "(unmatched)"),
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return response

    def _error(request: Request, status: int, key: str | None, message: str) -> Response:
        locale = load_locale(_language(request))
        text = locale(f"errors.{key}") if key else message
        return _render(
            request,
            "intake_error.html",
            locale,
            {"status": status, "message": text},
            status_code=status,
        )

    @app.exception_handler(TipAuditError)
    async def _tipaudit_error(request: Request, exc: TipAuditError) -> Response:
        key = None
        if isinstance(exc, PermissionDeniedError):
            key = "form_expired"
        elif isinstance(exc, RateLimitedError):
            return _error(request, 429, None, exc.message)
        elif isinstance(exc, ConflictError):
            return _error(request, exc.status, None, exc.message)
        elif isinstance(exc, AuthenticationError):
            key = "expired"
        return _error(request, exc.status, key, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = {404: "There is no such page.", 405: "That method is not allowed here."}.get(
            exc.status_code, str(exc.detail)
        )
        return _error(request, exc.status_code, None, message)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.error("unexpected %s on the report intake", type(exc).__name__, exc_info=exc)
        return _error(request, 500, None, "Something went wrong on our side.")

    app.add_middleware(_BodyLimit, limit=body_limit)
    return app


def create_intake_server(settings: Settings, services: Services) -> FastAPI:
    """The intake alone (``tipaudit serve --intake-only``): ``/report``, ``/static``, and a
    redirect from ``/``. No console, no API, no staff log-in."""
    server = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    server.state.services = services
    server.state.settings = settings
    server.state.secret_key = settings.load_secret_key()
    server.mount("/static", StaticFiles(directory=STATIC), name="static")
    server.mount(MOUNT_PATH, create_intake_app(settings, services))

    @server.get("/", include_in_schema=False)
    def _home() -> Response:
        return RedirectResponse(MOUNT_PATH + "/", status_code=303)

    @server.middleware("http")
    async def _headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        apply_security_headers(response, settings)
        return response

    return server
