"""Procurement screening in the console: the register, its charts and one process explained."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tipaudit.core.roles import Role
from tipaudit.procurement.classify import Classifier
from tipaudit.procurement.screening import screen
from tipaudit.refdata import ReferenceData
from tipaudit.services.container import Services
from tipaudit.services.procurement import ProcurementRuns
from tipaudit.settings import Settings

from ..procurement.test_screening import DEMO
from .conftest import PASSWORD, login


@pytest.fixture(scope="module")
def demo_run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo screened once per module; each test gets a copy in its own data folder."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("demo-run"))
    runs = ProcurementRuns(settings)
    run = screen(
        [DEMO],
        folder=runs.new_folder(),
        refdata=ReferenceData(settings),
        classifier=Classifier.load(),
    )
    return run.folder


@pytest.fixture
def run_id(services: Services, demo_run_folder: Path) -> str:
    target = ProcurementRuns(services.settings).folder / demo_run_folder.name
    shutil.copytree(demo_run_folder, target)
    return demo_run_folder.name


def test_no_run_yet_explains_how(admin_client: TestClient) -> None:
    """Before any screening the page says how to run one."""
    page = admin_client.get("/procurement")
    assert 200 == page.status_code
    assert "tipaudit procurement screen" in page.text


def test_register_page_shows_levels_charts_and_reasons(
    admin_client: TestClient, run_id: str
) -> None:
    """The newest run opens with level counts, charts and the highest-risk processes first."""
    page = admin_client.get("/procurement")
    assert 200 == page.status_code
    for text in ("Risk levels", "<svg", "By industry", "Cotton is bought from a supplier in"):
        assert text in page.text
    high = admin_client.get(f"/procurement/runs/{run_id}", params={"level": "high"})
    assert "level-tag level-low" not in high.text


def test_process_page_explains_one_contract(admin_client: TestClient, run_id: str) -> None:
    """One process shows each factor with its rule, indicators, actions and uncertainties."""
    page = admin_client.get(f"/procurement/runs/{run_id}/processes/ocds-fictional-uniforms-tr")
    assert 200 == page.status_code
    for text in (
        "Good on the ILAB list from the supplier",
        "US DOL ILAB List of Goods",
        'href="/indicators#TIP-CHILD"',
        "Map the supply chain at selection",
        "Whether the work is subcontracted is not published",
    ):
        assert text in page.text


@pytest.mark.parametrize(
    "path",
    [
        "/procurement/runs/not-a-run",
        "/procurement/runs/../../etc",
        "/procurement/runs/20260101T000000Z-abcdef",
    ],
)
def test_unknown_runs_are_404(admin_client: TestClient, run_id: str, path: str) -> None:
    """Unknown or malformed run ids are a 404, never a file read or a 500."""
    assert 404 == admin_client.get(path).status_code


def test_unknown_process_and_bad_filters(admin_client: TestClient, run_id: str) -> None:
    """An unknown ocid is a 404; a bad level or page is a 422."""
    assert 404 == admin_client.get(f"/procurement/runs/{run_id}/processes/nope").status_code
    assert 422 == admin_client.get(f"/procurement/runs/{run_id}?level=extreme").status_code
    assert 422 == admin_client.get(f"/procurement/runs/{run_id}?page=0").status_code


def test_policy_analyst_cannot_read_procurement(
    client: TestClient, services: Services, run_id: str
) -> None:
    """The register needs the procurement-read permission."""
    services.accounts.create_user("pam", PASSWORD, roles={Role.POLICY_ANALYST})
    login(client, "pam")
    assert 403 == client.get("/procurement").status_code


def test_register_api_with_a_token(
    admin_client: TestClient, services: Services, run_id: str
) -> None:
    """Scripts read the register through the API with a personal token, filtered and paged."""
    admin = services.accounts.get_user("admin")
    _, token = services.accounts.create_token(admin, "register export")
    admin_client.cookies.clear()
    headers = {"Authorization": f"Bearer {token}"}
    runs = admin_client.get("/api/procurement/runs", headers=headers).json()
    assert [run_id] == [r["id"] for r in runs]
    high = admin_client.get(
        "/api/procurement/runs/latest/register", params={"level": "high"}, headers=headers
    ).json()
    assert high
    assert {"high"} == {r["level"] for r in high}
    first_two = admin_client.get(
        f"/api/procurement/runs/{run_id}/register", params={"limit": 2}, headers=headers
    ).json()
    second = admin_client.get(
        f"/api/procurement/runs/{run_id}/register",
        params={"limit": 1, "offset": 1},
        headers=headers,
    ).json()
    assert first_two[1] == second[0]
    one = admin_client.get(
        f"/api/procurement/runs/{run_id}/processes/ocds-fictional-uniforms-tr", headers=headers
    ).json()
    assert "high" == one["level"]
    assert any("Cotton" in r for r in one["reasons"])
    assert (
        404 == admin_client.get("/api/procurement/runs/nope/register", headers=headers).status_code
    )
    assert (
        422
        == admin_client.get(
            f"/api/procurement/runs/{run_id}/register", params={"limit": 0}, headers=headers
        ).status_code
    )


def test_suppliers_page(admin_client: TestClient, run_id: str) -> None:
    """Suppliers are listed across their contracts, filterable by their highest level."""
    page = admin_client.get(f"/procurement/runs/{run_id}/suppliers", params={"level": "high"})
    assert 200 == page.status_code
    assert "Anatolian Example Garments Ltd (fictional)" in page.text
    assert "Example Software Ltd (fictional)" not in page.text
