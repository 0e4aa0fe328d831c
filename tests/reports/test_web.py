"""The public intake and the console pages of reports, through HTTP."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.reports.conftest import PASSWORD, SECRET_TEXT, form
from tests.web.conftest import csrf_from, login
from tipaudit.core.roles import Role
from tipaudit.reports.workflow import State
from tipaudit.services.container import Services
from tipaudit.web.app import create_app
from tipaudit.web.intake import create_intake_server

RECEIPT_RE = re.compile(r'receipt-group">([^<]+)<')
FAKE_IP = "203.0.113.77"
FAKE_UA = "Mozilla/5.0 (ReporterPhone; UniqueAgent-9931)"


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    app = create_app(services.settings, services=services)
    with TestClient(
        app,
        base_url="http://127.0.0.1:8000",
        follow_redirects=False,
        client=(FAKE_IP, 50123),
        headers={"User-Agent": FAKE_UA},
    ) as test_client:
        yield test_client


def _submit(client: TestClient, lang: str = "en", **overrides: object) -> str:
    token = csrf_from(client, f"/report/?lang={lang}")
    data = form(**overrides)
    data.update(csrf_token=token, lang=lang)
    response = client.post(
        "/report/", data=data, files={"attachments": ("notes.txt", b"block 7", "text/plain")}
    )
    assert response.status_code == 200, response.text
    return " ".join(RECEIPT_RE.findall(response.text))


def test_public_form_in_both_languages(client: TestClient) -> None:
    english = client.get("/report/")
    assert english.status_code == 200
    assert '<html lang="en"' in english.text
    assert "kept my passport or ID card" in english.text  # indicator wording from the taxonomy
    spanish = client.get("/report/?lang=es")
    assert '<html lang="es"' in spanish.text
    assert "¿Qué pasó?" in spanish.text
    assert "Catar" in spanish.text  # country names translated
    by_header = client.get("/report/", headers={"Accept-Language": "es-BO,es;q=0.9"})
    assert '<html lang="es"' in by_header.text
    assert "<script" not in english.text


def test_submit_and_follow_up_with_the_receipt(client: TestClient, services: Services) -> None:
    receipt = _submit(client, lang="es")
    assert len(receipt.split()) == 2 + 11
    token = csrf_from(client, "/report/follow-up?lang=es")
    page = client.post(
        "/report/follow-up", data={"csrf_token": token, "receipt": receipt, "lang": "es"}
    )
    assert page.status_code == 200
    assert "Recibida" in page.text
    assert services.reports.case_summaries()[0].channel == "public"


def test_wrong_receipt_and_rate_limit(client: TestClient, services: Services) -> None:
    receipt = _submit(client)
    wrong = receipt.rsplit(" ", 1)[0] + " bafo"
    token = csrf_from(client, "/report/follow-up")
    statuses = [
        client.post("/report/follow-up", data={"csrf_token": token, "receipt": wrong}).status_code
        for _ in range(services.settings.reports_receipt_max_failures + 1)
    ]
    assert statuses[:-1] == [401] * services.settings.reports_receipt_max_failures
    assert statuses[-1] == 429
    bad = client.post("/report/follow-up", data={"csrf_token": token, "receipt": "x" * 399})
    assert bad.status_code == 422


def test_incomplete_form_is_shown_again_with_errors(client: TestClient) -> None:
    token = csrf_from(client, "/report/?lang=es")
    response = client.post(
        "/report/",
        data={
            "csrf_token": token,
            "lang": "es",
            "what": "x",
            "country": "ZZ",
            "contact_email": "not-an-email",
            "indicators": ["ILO-99"],
        },
    )
    assert response.status_code == 422
    assert "Describa lo que pasó" in response.text
    assert "Elija un país" in response.text
    assert 'value="not-an-email"' in response.text  # what was typed is kept


@pytest.mark.parametrize(
    "data",
    [
        {"what": "A" * 20_001},
        {"what": "\x00\x01 hostile \u202e text long enough"},
        {"what": "normal text long enough", "subject_0_kind": "dragon"},
        {"what": "normal text long enough", "indicators": ["<script>alert(1)</script>"]},
        {"what": "<script>alert(1)</script> and more words"},
    ],
)
def test_hostile_input_is_4xx_or_escaped(client: TestClient, data: dict[str, object]) -> None:
    token = csrf_from(client, "/report/")
    response = client.post("/report/", data={"csrf_token": token, **data})
    assert response.status_code in {200, 422}
    assert "<script>alert(1)</script>" not in response.text


def test_csrf_and_size_limits(client: TestClient, services: Services) -> None:
    assert client.post("/report/", data={"what": "no token given here"}).status_code == 403
    token = csrf_from(client, "/report/")
    limit = services.settings.reports_max_attachment_mb * 1024 * 1024
    files = [("attachments", (f"f{i}.txt", b"a" * 10, "text/plain")) for i in range(6)]
    too_many = client.post(
        "/report/", data={"csrf_token": token, "what": "enough words here"}, files=files
    )
    assert too_many.status_code == 422
    big = client.post(
        "/report/",
        data={"csrf_token": token, "what": "enough words here"},
        files={"attachments": ("big.txt", b"a" * (limit + 1), "text/plain")},
    )
    assert big.status_code == 422
    huge = client.post(
        "/report/",
        content=b"x" * (services.settings.reports_max_attachments * limit + 2 * 1024 * 1024),
        headers={"Content-Type": "multipart/form-data; boundary=zzz"},
    )
    assert huge.status_code == 413
    broken = client.post(
        "/report/",
        content=b"--zzz\r\nContent-Disposition: form-data; name=\r\n\r\n",
        headers={"Content-Type": "multipart/form-data; boundary=zzz"},
    )
    assert 400 <= broken.status_code < 500
    refused = client.post(
        "/report/",
        data={"csrf_token": token, "what": "enough words here"},
        files={"attachments": ("x.exe", b"MZ\x90\x00binary", "application/octet-stream")},
    )
    assert refused.status_code == 422


def test_forged_follow_up_token_is_refused(client: TestClient) -> None:
    token = csrf_from(client, "/report/follow-up")
    response = client.post(
        "/report/follow-up/message",
        data={"csrf_token": token, "token": "AAAA", "message": "hello there"},
    )
    assert response.status_code == 401


def test_logs_carry_no_address_or_user_agent(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    logger = logging.getLogger("tipaudit")
    logger.propagate = True
    try:
        with caplog.at_level(logging.DEBUG):
            receipt = _submit(client)
            token = csrf_from(client, "/report/follow-up")
            client.post("/report/follow-up", data={"csrf_token": token, "receipt": receipt})
            client.get("/report/nope")
    finally:
        logger.propagate = False
    text = "\n".join(r.getMessage() + " " + str(r.__dict__) for r in caplog.records)
    assert "/report" in text  # the requests were logged (route and status)
    for needle in (FAKE_IP, FAKE_UA, "UniqueAgent", SECRET_TEXT, receipt.split()[2]):
        assert needle not in text


def test_intake_only_server(services: Services) -> None:
    app = create_intake_server(services.settings, services)
    with TestClient(app, base_url="http://127.0.0.1:8000", follow_redirects=False) as client:
        assert client.get("/").headers["location"] == "/report/"
        assert client.get("/report/").status_code == 200
        assert client.get("/static/tipaudit.css").status_code == 200
        assert client.get("/login").status_code == 404
        assert client.get("/reports").status_code == 404
        assert client.get("/api/openapi.json").status_code == 404


def _staff_client(services: Services, client: TestClient, name: str, roles: set[Role]) -> None:
    services.accounts.create_user(name, PASSWORD, roles=roles)
    login(client, name)


def test_console_review_pages(client: TestClient, services: Services) -> None:
    receipt = _submit(client)
    _staff_client(services, client, "ines", {Role.INTAKE_OFFICER, Role.INVESTIGATOR})
    queue = client.get("/reports")
    assert queue.status_code == 200
    reference = re.search(r"/reports/(R-[A-Z0-9]+)", queue.text)
    assert reference is not None
    ref = reference.group(1)
    page = client.get(f"/reports/{ref}")
    assert SECRET_TEXT in page.text
    token = csrf_from(client, f"/reports/{ref}")
    moved = client.post(
        f"/reports/{ref}/transition", data={"csrf_token": token, "target": "acknowledged"}
    )
    assert moved.status_code == 303
    wrong = client.post(
        f"/reports/{ref}/transition", data={"csrf_token": token, "target": "closed"}
    )
    assert wrong.status_code == 422
    assert "cannot move" in wrong.text
    asked = client.post(
        f"/reports/{ref}/messages",
        data={"csrf_token": token, "kind": "question", "text": "Which block?"},
    )
    assert asked.status_code == 303
    no_csrf = client.post(f"/reports/{ref}/messages", data={"kind": "note", "text": "x y z"})
    assert no_csrf.status_code == 403
    assert client.get("/reports/R-NOSUCH1").status_code == 404
    assert client.get(f"/reports/{ref}/identity").status_code == 403
    attachment = re.search(rf"/reports/{ref}/attachments/(\d+)", page.text)
    assert attachment is not None
    download = client.get(attachment.group(0))
    assert download.content == b"block 7"
    assert services.reports.view(services.accounts.get_user("ines"), ref).state is (
        State.ACKNOWLEDGED
    )
    # the reporter sees the question
    public = csrf_from(client, "/report/follow-up")
    status = client.post("/report/follow-up", data={"csrf_token": public, "receipt": receipt})
    assert "Which block?" in status.text


def test_record_on_behalf_needs_consent(client: TestClient, services: Services) -> None:
    _staff_client(services, client, "consul", {Role.INTAKE_OFFICER})
    token = csrf_from(client, "/reports/record")
    data = form()
    data.update(csrf_token=token)
    refused = client.post("/reports/record", data=data)
    assert refused.status_code == 422
    data.update(consent_recorded="yes", consent_note="agreed in person at the consulate")
    done = client.post("/reports/record", data=data)
    assert done.status_code == 200
    assert len(RECEIPT_RE.findall(done.text)) == 4
    assert services.reports.case_summaries()[0].channel == "on_behalf"


def test_console_needs_a_report_role(client: TestClient, services: Services) -> None:
    assert client.get("/reports").status_code == 303  # to the log-in page
    _staff_client(services, client, "pat", {Role.PROCUREMENT_ANALYST})
    assert client.get("/reports").status_code == 403
