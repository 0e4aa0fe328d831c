"""The console through HTTP: log-in, permissions, CSRF, tokens, errors and headers."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tipaudit.core.roles import Role
from tipaudit.services.container import Services

from .conftest import PASSWORD, csrf_from, login


def test_pages_need_login_and_redirect(client: TestClient) -> None:
    """A staff page redirects an anonymous visitor to the log-in form, keeping the target."""
    response = client.get("/users")
    assert (303, "/login?next=/users") == (response.status_code, response.headers["location"])


def test_public_pages_need_no_login(client: TestClient) -> None:
    """The indicator taxonomy and the OpenAPI document are public."""
    assert 200 == client.get("/indicators").status_code
    assert "/api/me" in client.get("/api/openapi.json").json()["paths"]


def test_login_and_logout(client: TestClient, services: Services) -> None:
    """A staff member logs in through the form, sees the console, and logs out."""
    services.accounts.create_user("amy", PASSWORD, roles={Role.POLICY_ANALYST})
    login(client, "amy")
    home = client.get("/")
    assert 200 == home.status_code
    assert "Welcome, amy" in home.text
    token = csrf_from(client, "/")
    assert 303 == client.post("/logout", data={"csrf_token": token}).status_code
    assert 303 == client.get("/").status_code


def test_wrong_password_is_401_with_message(client: TestClient, services: Services) -> None:
    """A failed log-in re-shows the form with a plain message."""
    services.accounts.create_user("ben", PASSWORD, roles={Role.AUDITOR})
    token = csrf_from(client)
    response = client.post(
        "/login", data={"username": "ben", "password": "nope nope nope", "csrf_token": token}
    )
    assert 401 == response.status_code
    assert "not correct" in response.text


def test_login_without_csrf_is_refused(client: TestClient, services: Services) -> None:
    """A log-in form posted from another site (no CSRF token) is refused."""
    services.accounts.create_user("cat", PASSWORD, roles={Role.AUDITOR})
    response = client.post("/login", data={"username": "cat", "password": PASSWORD})
    assert 403 == response.status_code
    assert "tipaudit_session" not in response.cookies


def test_role_without_permission_gets_403(client: TestClient, services: Services) -> None:
    """A policy analyst cannot open the user administration page or API."""
    services.accounts.create_user("dan", PASSWORD, roles={Role.POLICY_ANALYST})
    login(client, "dan")
    assert 403 == client.get("/users").status_code
    assert 403 == client.get("/audit").status_code


def test_open_redirect_is_blocked(client: TestClient, services: Services) -> None:
    """After log-in, only local paths are followed."""
    services.accounts.create_user("eve", PASSWORD, roles={Role.AUDITOR})
    token = csrf_from(client)
    response = client.post(
        "/login",
        data={
            "username": "eve",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/phish",
        },
    )
    assert "/" == response.headers["location"]


def test_security_headers(client: TestClient) -> None:
    """Every response carries a strict CSP and the other protective headers."""
    response = client.get("/login")
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "DENY" == response.headers["x-frame-options"]
    assert "no-referrer" == response.headers["referrer-policy"]
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie


def test_api_token_end_to_end(admin_client: TestClient, services: Services) -> None:
    """Create a token in the console, call the API with it; scope limits what it can do."""
    token = csrf_from(admin_client, "/account")
    created = admin_client.post(
        "/account/tokens",
        data={"csrf_token": token, "name": "reporting script", "roles": ["auditor"], "days": 30},
    )
    assert 200 == created.status_code
    value = created.text.split('value="tpa_')[1].split('"')[0]
    headers = {"Authorization": f"Bearer tpa_{value}"}
    admin_client.cookies.clear()  # only the token speaks from here on
    me = admin_client.get("/api/me", headers=headers)
    assert ["auditor"] == me.json()["roles"]
    assert 200 == admin_client.get("/api/audit/events", headers=headers).status_code
    denied = admin_client.get("/api/users", headers=headers)
    assert 403 == denied.status_code
    assert "forbidden" == denied.json()["error"]["code"]


@pytest.mark.parametrize(
    "header",
    ["Bearer nonsense", "Basic YWRtaW46YWRtaW4=", "Bearer tpa_aaaaaaaaaaaa_" + "b" * 43, "Bearer "],
)
def test_api_rejects_bad_tokens_with_401(client: TestClient, header: str) -> None:
    """Malformed, unknown or wrong-scheme credentials get a JSON 401, never a 500."""
    response = client.get("/api/me", headers={"Authorization": header})
    assert 401 == response.status_code
    assert response.json()["error"]["message"]
    assert "Bearer" == response.headers["www-authenticate"]


def test_api_without_credentials_is_401(client: TestClient) -> None:
    """The API never redirects to an HTML log-in page."""
    response = client.get("/api/me")
    assert (401, "application/json") == (
        response.status_code,
        response.headers["content-type"],
    )


def test_api_with_session_needs_csrf_header_for_writes(admin_client: TestClient) -> None:
    """A browser session can read the API; unsafe methods need the CSRF header."""
    assert 200 == admin_client.get("/api/me").status_code


def test_unknown_page_is_a_friendly_404(client: TestClient) -> None:
    """An unknown path renders the site's own 404 page."""
    response = client.get("/no/such/page")
    assert 404 == response.status_code
    assert "There is no such page" in response.text


def test_bad_form_values_are_422_not_500(admin_client: TestClient) -> None:
    """Out-of-range form values are explained, not crashed on."""
    token = csrf_from(admin_client, "/account")
    response = admin_client.post(
        "/account/tokens", data={"csrf_token": token, "name": "x", "days": "9999"}
    )
    assert 422 == response.status_code


def test_admin_creates_user_and_privileged_grant_waits(
    admin_client: TestClient, services: Services
) -> None:
    """Creating an account with the auditor role creates it, and waits for a second admin."""
    token = csrf_from(admin_client, "/users")
    response = admin_client.post(
        "/users",
        data={
            "csrf_token": token,
            "username": "fay",
            "display_name": "Fay",
            "password": PASSWORD,
            "roles": ["policy_analyst", "auditor"],
        },
    )
    assert (303, "/users?done=requested") == (
        response.status_code,
        response.headers["location"],
    )
    assert frozenset({Role.POLICY_ANALYST}) == services.accounts.get_user("fay").roles
    page = admin_client.get("/approvals")
    assert "grant an administrator, auditor or decision-maker role" in page.text
    assert "Waiting for someone else to decide" in page.text


def test_audit_verify_from_console(admin_client: TestClient) -> None:
    """An auditor verifies the chain from the console and sees it is intact."""
    token = csrf_from(admin_client, "/audit")
    response = admin_client.post("/audit/verify", data={"csrf_token": token})
    assert 200 == response.status_code
    assert "Intact." in response.text
