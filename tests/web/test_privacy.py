"""No identifying request data reaches the logs."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from tipaudit.core.roles import Role
from tipaudit.services.container import Services

from .conftest import PASSWORD, login

CLIENT_IP = "203.0.113.77"
USER_AGENT = "DistinctiveBrowser/9.9 (reporter laptop)"


def test_requests_log_route_not_client(
    client: TestClient, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    """Request logs carry the route template and status, never address, agent or query."""
    services.accounts.create_user("ann", PASSWORD, roles={Role.ADMINISTRATOR})
    caplog.set_level(logging.DEBUG)
    headers = {"User-Agent": USER_AGENT, "X-Forwarded-For": CLIENT_IP}
    client.headers.update(headers)
    login(client, "ann")
    client.get("/users?secret-query=findme", headers=headers)
    client.get("/api/me", headers={**headers, "Authorization": "Bearer tpa_bad"})
    # The server's own loggers (the test client's HTTP library logs URLs on its side).
    text = "\n".join(
        r.getMessage() for r in caplog.records if r.name.startswith(("tipaudit", "uvicorn"))
    )
    assert "GET /users -> 200" in text
    for needle in (CLIENT_IP, USER_AGENT, "DistinctiveBrowser", "findme", "testclient", PASSWORD):
        assert needle not in text
