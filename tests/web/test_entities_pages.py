"""Entities & vetting console pages and /api/entities: forms, permissions, hostile input."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tipaudit.core.roles import Role
from tipaudit.screening import Query
from tipaudit.services.container import Services
from tipaudit.web.app import create_app

from .conftest import PASSWORD, csrf_from, login

HEADER = "id,name,aliases,schema,country,identifiers,list,reason,source_url,start_date,end_date\n"
REASON = "checked against the registry extract"


@pytest.fixture
def officers(services: Services) -> None:
    services.accounts.create_user("olga", PASSWORD, roles={Role.VETTING_OFFICER})
    services.accounts.create_user("omar", PASSWORD, roles={Role.VETTING_OFFICER})
    services.accounts.create_user("paula", PASSWORD, roles={Role.POLICY_ANALYST})


@pytest.fixture
def listed(services: Services, tmp_path: Path) -> None:
    path = tmp_path / "demo.csv"
    path.write_text(
        HEADER + "f-1,Zebra Quartz Foundry Ltd (fictional),,Company,KE,,Test,"
        "fictional <script>alert(1)</script> entry,javascript:alert(1),,\n",
        encoding="utf-8",
    )
    services.watchlists.import_list("system:test", "demo", path, "csv", kind="sample")


def _client(services: Services) -> TestClient:
    app = create_app(services.settings, services=services)
    return TestClient(app, base_url="http://127.0.0.1:8000", follow_redirects=False)


def _post(client: TestClient, path: str, page: str, **data: object) -> object:
    return client.post(path, data={"csrf_token": csrf_from(client, page), **data})


def test_pages_need_the_entities_permission(
    client: TestClient, services: Services, officers: None
) -> None:
    assert 303 == client.get("/entities").status_code  # to the log-in form
    login(client, "paula")
    for path in ("/entities", "/entities/matches", "/entities/vetting", "/entities/alerts"):
        assert 403 == client.get(path).status_code, path
    assert 401 == client.get("/api/entities/matches", headers={"authorization": "x"}).status_code


def test_full_flow_in_the_console(services: Services, officers: None, listed: None) -> None:
    """Allegation, case, screening, blocked approval, override by a second officer."""
    olga, omar = _client(services), _client(services)
    with olga, omar:
        login(olga, "olga")
        login(omar, "omar")
        home = olga.get("/entities")
        assert 200 == home.status_code
        assert "Zebra" not in home.text
        assert "demo" in home.text
        created = _post(
            omar, "/entities/allegations", "/entities/allegations",
            name="Zebra Quartz Foundry (fictional)", schema="Company", country="Kenya",
            source_ref="R-2026-0001", summary="fictional test", reason=REASON,
        )  # fmt: skip
        assert 303 == created.status_code  # type: ignore[attr-defined]
        (allegation,) = services.allegations.list()
        refused = _post(
            omar, f"/entities/allegations/{allegation.id}/status", "/entities/allegations",
            status="credible", reason=REASON,
        )  # fmt: skip
        assert 403 == refused.status_code  # type: ignore[attr-defined]
        assert "cannot also find it credible" in refused.text  # type: ignore[attr-defined]
        _post(
            olga, f"/entities/allegations/{allegation.id}/status", "/entities/allegations",
            status="credible", reason=REASON,
        )  # fmt: skip
        assert "credible" == services.allegations.get(allegation.id).status

        opened = _post(
            olga, "/entities/vetting", "/entities/vetting", purpose="contract_award",
            name="Zebra Quartz Foundry", schema="Company", lists="demo",
        )  # fmt: skip
        location = opened.headers["location"]  # type: ignore[attr-defined]
        case_path = location.split("?")[0]
        case_id = int(case_path.rsplit("/", 1)[1])
        _post(olga, f"{case_path}/subjects", case_path, role="director", name="Ann Example",
              schema="Person", birth_date="1970-05-01")  # fmt: skip
        _post(olga, f"{case_path}/screen", case_path)
        page = olga.get(case_path)
        assert "Approval blocked" in page.text
        assert "blocks: credible allegation" in page.text
        assert "&lt;script&gt;" in page.text
        assert "<script>alert" not in page.text
        assert 'href="javascript:' not in page.text

        # The demo candidate on the plain list must be decided; reject it from the case page.
        case = services.vetting.case(case_id)
        for m in case.matches:
            if m.needs_decision and not m.blocking_reasons:
                _post(olga, f"/entities/matches/{m.id}/decide", case_path,
                      decision="rejected", reason=REASON, back=case_path)  # fmt: skip
        direct = _post(olga, f"{case_path}/decide", case_path, decision="approve", reason=REASON)
        assert 409 == direct.status_code  # type: ignore[attr-defined]
        asked = _post(olga, f"{case_path}/decide", case_path, decision="override",
                      reason="training only, monitored")  # fmt: skip
        assert 303 == asked.status_code, asked.text  # type: ignore[attr-defined]
        waiting = olga.get(case_path).text
        assert "you cannot approve your own request" in waiting
        approval_id = services.vetting.case(case_id).pending_approval_id
        self_approval = _post(olga, f"/approvals/{approval_id}/decide", "/approvals",
                              decision="approve", reason="approving my own")  # fmt: skip
        assert 403 == self_approval.status_code  # type: ignore[attr-defined]
        approved = _post(omar, f"/approvals/{approval_id}/decide", "/approvals",
                         decision="approve", reason="mitigation is adequate")  # fmt: skip
        assert 303 == approved.status_code  # type: ignore[attr-defined]
        final = olga.get(case_path).text
        assert "approved by omar" in final

        api = olga.get(f"/api/entities/vetting/{case_id}").json()
        assert ("approved", ["credible allegation"]) == (
            api["status"],
            api["decisions"][0]["blockers"][0]["why"],
        )
        assert 404 == olga.get("/entities/vetting/999999").status_code
        assert 404 == olga.get("/api/entities/vetting/999999").status_code


def test_matches_page_decides_and_suppresses(
    services: Services, officers: None, listed: None
) -> None:
    olga = services.accounts.get_user("olga")
    services.vetting.screen_and_save(
        olga, [Query("supplier:K1", "Company", ("Zebra Quartz Foundry",))], ["demo"]
    )
    with _client(services) as client:
        login(client, "olga")
        page = client.get("/entities/matches")
        assert "Why score" in page.text
        assert "name_similarity" in page.text
        (match,) = services.vetting.matches()
        bad = _post(client, f"/entities/matches/{match.id}/decide", "/entities/matches",
                    decision="rejected", reason="x")  # fmt: skip
        assert 422 == bad.status_code  # type: ignore[attr-defined]
        hostile = _post(
            client, f"/entities/matches/{match.id}/decide", "/entities/matches",
            decision="rejected", reason=REASON, back="https://evil.example/",
        )  # fmt: skip
        assert "/entities/matches?done=decided" == hostile.headers["location"]  # type: ignore[attr-defined]
        assert "Nothing to show" in client.get("/entities/matches").text
        history = client.get(f"/entities/matches/{match.id}").text
        assert REASON in history
        api = client.get("/api/entities/matches?status=rejected").json()
        assert [("supplier:K1", "rejected")] == [(m["query_ref"], m["status"]) for m in api]
        assert [] == client.get("/api/entities/supplier-matches").json()
        assert 422 == client.get("/entities/matches?status=evil").status_code
        assert 422 == client.get("/api/entities/matches?status=evil").status_code
        missing = _post(client, "/entities/matches/0/decide", "/entities/matches",
                        decision="rejected", reason=REASON)  # fmt: skip
        assert 404 == missing.status_code  # type: ignore[attr-defined]


def test_support_and_alert_pages(services: Services, officers: None, listed: None) -> None:
    with _client(services) as client:
        login(client, "olga")
        made = _post(
            client, "/entities/support", "/entities/support", kind="security_assistance",
            recipient="Silver Lantern Unit (fictional)", assistance_type="training",
            amount="1000", currency="USD", start_date="2026-01-01", reason=REASON,
        )  # fmt: skip
        assert 303 == made.status_code  # type: ignore[attr-defined]
        bad = _post(client, "/entities/support", "/entities/support", kind="contract",
                    recipient="X", start_date="not a date", reason=REASON)  # fmt: skip
        assert 422 == bad.status_code  # type: ignore[attr-defined]
        huge = _post(client, "/entities/support", "/entities/support", kind="contract",
                     recipient="X" * 100_000, reason=REASON)  # fmt: skip
        assert 422 == huge.status_code  # type: ignore[attr-defined]
        assert "Silver Lantern Unit" in client.get("/entities/support").text
        assert 1 == len(client.get("/api/entities/support").json())
        ended = _post(client, "/entities/support/1/status", "/entities/support",
                      status="suspended", reason=REASON)  # fmt: skip
        assert 303 == ended.status_code  # type: ignore[attr-defined]
        assert "No open alerts" in client.get("/entities/alerts").text
        assert [] == client.get("/api/entities/alerts").json()
        listing = client.get("/entities/lists/demo")
        assert "Versions and changes" in listing.text
        tagged = _post(client, "/entities/lists/demo/tags", "/entities/lists/demo",
                       on="true", reason=REASON)  # fmt: skip
        assert 303 == tagged.status_code  # type: ignore[attr-defined]
        assert "child-recruitment" in client.get("/entities").text
        assert 404 == client.get("/entities/lists/nope").status_code
        no_csrf = client.post("/entities/support", data={"kind": "contract"})
        assert 403 == no_csrf.status_code or 400 == no_csrf.status_code
