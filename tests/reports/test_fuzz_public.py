"""Property-based fuzzing of the public surface from its OpenAPI documents: never a 5xx.

Schemathesis generates requests for every operation of the public intake (its own OpenAPI
document at ``/report/openapi.json``) and of the JSON API (``/api/openapi.json``), valid and
invalid, and sends them to the real application in-process. Intake forms get a valid CSRF
token so that generated bodies reach the form validation and the report service, not just the
CSRF check. The public pages outside the OpenAPI documents (``/transparency``, its CSV) are
fuzzed with random query strings. ``FUZZ_EXAMPLES`` (default 25) bounds examples per operation.
"""

from __future__ import annotations

import contextlib
import os
import re
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from tipaudit.services.container import Services
from tipaudit.web.app import create_app

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def _fuzz(
    schema: Any, *, csrf: str | None, cookies: dict[str, str], statuses: dict[int, int]
) -> list[str]:
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the OpenAPI document lists no operation"
    for operation in operations:
        _fuzz_operation(operation, csrf=csrf, cookies=cookies, statuses=statuses, out=failures)
    return failures


def _fuzz_operation(
    operation: Any,
    *,
    csrf: str | None,
    cookies: dict[str, str],
    statuses: dict[int, int],
    out: list[str],
) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        if csrf is not None and isinstance(case.body, dict) and "csrf_token" in case.body:
            case.body["csrf_token"] = csrf
        response = case.call(cookies=cookies)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        try:
            case.validate_response(response, checks=[not_a_server_error])
        except Exception as exc:
            out.append(f"{operation.label}: {type(exc).__name__}: {str(exc)[:300]}")
            raise

    # A failure is recorded in `out` (Hypothesis has shrunk it); go on to the next operation.
    with contextlib.suppress(Exception):
        run()


@pytest.fixture
def app(services: Services) -> Any:
    return create_app(services.settings, services=services)


def test_intake_operations_never_answer_5xx(app: Any, services: Services) -> None:
    """Every intake operation (form, submit, follow-up, receipt check, reply) under fuzzing."""
    services.reports.ensure_key()
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        page = client.get("/report/")
        match = CSRF.search(page.text)
        assert match is not None
        cookies = dict(client.cookies)
    schema = schemathesis.openapi.from_asgi("/report/openapi.json", app)
    statuses: dict[int, int] = {}
    assert [] == _fuzz(schema, csrf=match.group(1), cookies=cookies, statuses=statuses)
    # Generated forms got past the CSRF check into the form validation.
    assert statuses.get(422, 0) > 0, statuses


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)


@settings(max_examples=EXAMPLES * 2, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    what=st.text(min_size=40, max_size=3000),
    fields=st.dictionaries(
        st.sampled_from(
            [
                "where",
                "when",
                "subject_0_name",
                "subject_0_identifiers",
                "subject_1_name",
                "contact_name",
                "contact_email",
                "contact_phone",
                "contact_other",
                "lang",
                "subject_0_kind",
            ]
        ),
        _TEXT,
    ),
    country=st.sampled_from(["", "QA", "MX", "zz", "Q\x00"]),
    indicators=st.lists(st.sampled_from(["ILO-07", "TIP-FEES", "ILO-99", "", "x" * 300])),
)
def test_near_valid_reports_are_accepted_or_refused_never_5xx(
    services: Services,
    what: str,
    fields: dict[str, str],
    country: str,
    indicators: list[str],
) -> None:
    """Forms that pass the CSRF check with a plausible text and hostile other fields."""
    services.reports.ensure_key()
    app = create_app(services.settings, services=services)
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        match = CSRF.search(client.get("/report/").text)
        assert match is not None
        data: dict[str, Any] = {
            "csrf_token": match.group(1),
            "what": what,
            "country": country,
            "indicators": indicators,
            **fields,
        }
        response = client.post("/report/", data=data)
    assert response.status_code in {200, 422}, response.text[:500]


def test_api_operations_never_answer_5xx(app: Any) -> None:
    """The JSON API (unauthenticated, as the public meets it) answers 4xx, never 5xx."""
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    statuses: dict[int, int] = {}
    assert [] == _fuzz(schema, csrf=None, cookies={}, statuses=statuses)
    assert statuses.get(401, 0) > 0, statuses


def test_some_near_valid_report_is_accepted(services: Services) -> None:
    """The near-valid generator above reaches the real service: a plain one is accepted."""
    services.reports.ensure_key()
    app = create_app(services.settings, services=services)
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        match = CSRF.search(client.get("/report/").text)
        assert match is not None
        response = client.post(
            "/report/",
            data={"csrf_token": match.group(1), "what": "x" * 60, "country": "QA"},
        )
    assert 200 == response.status_code
    assert 1 == len(services.reports.case_summaries())


@settings(max_examples=EXAMPLES * 2, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    path=st.sampled_from(["/transparency", "/transparency.csv", "/exports/htcds"]),
    query=st.dictionaries(st.text(max_size=20), st.text(max_size=200), max_size=4),
)
def test_transparency_pages_never_answer_5xx(
    path: str, query: dict[str, str], services: Services
) -> None:
    """Public statistics pages with arbitrary query strings: 200, or a 4xx/redirect."""
    app = create_app(services.settings, services=services)
    with TestClient(app, base_url="http://127.0.0.1:8000", follow_redirects=False) as client:
        response = client.get(path, params=query)
    assert response.status_code < 500
