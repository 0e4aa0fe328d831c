"""The web application factory."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from tipaudit import __version__
from tipaudit.errors import TipAuditError
from tipaudit.services.container import Services, build_services
from tipaudit.settings import Settings
from tipaudit.web import pages
from tipaudit.web.deps import LoginRequiredError
from tipaudit.web.intake import MOUNT_PATH, create_intake_app
from tipaudit.web.routers import (
    account,
    admin,
    api,
    audit,
    auth,
    console,
    countries,
    entities,
    match,
    policy,
    procurement,
    public,
    reports,
    transparency,
)
from tipaudit.web.security import CSRF_COOKIE, apply_security_headers, set_cookie

STATIC = Path(__file__).parent / "static"
log = logging.getLogger("tipaudit.web")


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/api"


def create_app(settings: Settings, *, services: Services | None = None) -> FastAPI:
    """Build the console, public pages and JSON API for ``settings``."""
    services = services or build_services(settings)
    app = FastAPI(
        title="tipaudit API",
        version=__version__,
        description="JSON API of tipaudit. Authenticate with a personal API token: "
        "`Authorization: Bearer tpa_…` (create one under *Account* in the console).",
        openapi_url="/api/openapi.json",
        docs_url=None,  # the interactive docs load scripts from a CDN, which the CSP forbids
        redoc_url=None,
    )
    app.state.services = services
    app.state.settings = settings
    app.state.secret_key = settings.load_secret_key()
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # The public report intake is an application of its own (see web/intake.py).
    app.mount(MOUNT_PATH, create_intake_app(settings, services))

    for router in (
        public.router,
        countries.router,
        auth.router,
        console.router,
        procurement.router,
        account.router,
        admin.router,
        audit.router,
        api.router,
        reports.router,
        match.router,
        policy.router,
        policy.api_router,
        entities.router,
        entities.api_router,
        transparency.router,
    ):
        app.include_router(router)

    @app.middleware("http")
    async def _security(
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
            "%s %s -> %s in %.0f ms",
            request.method,
            getattr(route, "path", "(unmatched)"),
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return response

    @app.exception_handler(TipAuditError)
    async def _tipaudit_error(request: Request, exc: TipAuditError) -> Response:
        if isinstance(exc, LoginRequiredError) and not _wants_json(request):
            target = request.url.path if request.method == "GET" else "/"
            return RedirectResponse(f"/login?next={target}", status_code=303)
        if _wants_json(request):
            body = {"error": {"code": exc.code, "message": exc.message}}
            headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
            return JSONResponse(body, status_code=exc.status, headers=headers)
        return pages.error_page(request, exc.status, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            {"field": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        if _wants_json(request):
            return JSONResponse(
                {
                    "error": {
                        "code": "invalid_input",
                        "message": "the request is not valid",
                        "problems": problems,
                    }
                },
                status_code=422,
            )
        detail = "; ".join(f"{p['field'].split('.')[-1]}: {p['message']}" for p in problems)
        return pages.error_page(request, 422, f"The form is not complete: {detail}")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = {404: "There is no such page.", 405: "That method is not allowed here."}.get(
            exc.status_code, str(exc.detail)
        )
        if _wants_json(request):
            return JSONResponse(
                {"error": {"code": f"http_{exc.status_code}", "message": message}},
                status_code=exc.status_code,
            )
        return pages.error_page(request, exc.status_code, message)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.error("unexpected %s on %s", type(exc).__name__, request.url.path, exc_info=exc)
        if _wants_json(request):
            return JSONResponse(
                {"error": {"code": "internal", "message": "something went wrong on our side"}},
                status_code=500,
            )
        return pages.error_page(request, 500, "Something went wrong on our side.")

    return app
