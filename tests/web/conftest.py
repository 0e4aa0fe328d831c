"""A test client for the web application, and helpers to log in through the real forms."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tipaudit.core.roles import Role
from tipaudit.services.container import Services
from tipaudit.web.app import create_app

PASSWORD = "a long enough passphrase"
CSRF_RE = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    app = create_app(services.settings, services=services)
    with TestClient(app, base_url="http://127.0.0.1:8000", follow_redirects=False) as test_client:
        yield test_client


def csrf_from(client: TestClient, path: str = "/login") -> str:
    """Load a page and return the CSRF token its forms carry."""
    page = client.get(path)
    match = CSRF_RE.search(page.text)
    assert match is not None, f"no CSRF field on {path}"
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> None:
    token = csrf_from(client)
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token, "next": "/"},
    )
    assert 303 == response.status_code, response.text


@pytest.fixture
def admin_client(client: TestClient, services: Services) -> TestClient:
    services.accounts.create_user("admin", PASSWORD, roles=set(Role))
    login(client, "admin")
    return client
