"""Public country pages, pre-departure pages and PDFs, and staff-edited contacts."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tipaudit.services.container import Services

from .conftest import csrf_from


def test_profile_page_shows_goods_gsi_and_tier_chart(client: TestClient) -> None:
    """/countries/TR is public and shows Türkiye's goods, GSI figures and tier history chart."""
    page = client.get("/countries/TR")
    assert 200 == page.status_code
    for text in ("Türkiye", "Hazelnuts", "15.6 people in modern slavery per 1,000", "<svg"):
        assert text in page.text
    assert "2004: Tier 2 Watch List" in page.text  # the chart's description for screen readers


@pytest.mark.parametrize(
    ("path", "target"),
    [("/countries/tur", "/countries/TR"), ("/countries/Türkiye", "/countries/TR")],
)
def test_names_and_codes_redirect_to_the_canonical_page(
    client: TestClient, path: str, target: str
) -> None:
    """Any name or code for a country leads to its one address."""
    response = client.get(path)
    assert (301, target) == (response.status_code, response.headers["location"])


@pytest.mark.parametrize("path", ["/countries/XX", "/countries/Congo", "/countries/" + "a" * 500])
def test_unknown_countries_are_404_with_reason(client: TestClient, path: str) -> None:
    """Unknown, ambiguous or absurd names are a friendly 404, never a 500."""
    response = client.get(path)
    assert 404 == response.status_code


def test_search_redirects_or_explains(client: TestClient) -> None:
    """The search box takes names in any script; an unknown name is explained."""
    found = client.get("/countries", params={"q": "Україна"})
    assert (303, "/countries/UA") == (found.status_code, found.headers["location"])
    missing = client.get("/countries", params={"q": "Atlantis"})
    assert 404 == missing.status_code
    assert "not a recognised country" in missing.text


@pytest.mark.parametrize(
    ("lang", "phrase", "html_lang"),
    [
        ("en", "You should not pay to get a job", 'lang="en"'),
        ("es", "No debes pagar para conseguir un trabajo", 'lang="es"'),
    ],
)
def test_predeparture_page_in_each_language(
    client: TestClient, lang: str, phrase: str, html_lang: str
) -> None:
    """The pre-departure page renders in English and Spanish, with the page language set."""
    page = client.get("/countries/MY/pre-departure", params={"lang": lang})
    assert 200 == page.status_code
    assert phrase in page.text
    assert html_lang in page.text[:200]


@pytest.mark.parametrize("lang", ["zz", "../../etc/passwd", "e" * 50])
def test_unknown_language_is_refused(client: TestClient, lang: str) -> None:
    """A language without a content file is a 404 or 422, never a file read or a 500."""
    assert client.get("/countries/MY/pre-departure", params={"lang": lang}).status_code in {
        404,
        422,
    }


def test_predeparture_pdf(client: TestClient) -> None:
    """The PDF is a real PDF with the page's title in it."""
    response = client.get("/countries/MY/pre-departure.pdf", params={"lang": "es"})
    assert 200 == response.status_code
    assert "application/pdf" == response.headers["content-type"]
    assert response.content.startswith(b"%PDF-")
    assert b"Trabajar en Malasia" in response.content  # the document title metadata


def test_contacts_need_the_permission(client: TestClient) -> None:
    """Editing contacts needs a log-in; the public cannot."""
    assert 303 == client.get("/countries/MY/contacts").status_code


def test_staff_add_and_remove_contacts(admin_client: TestClient, services: Services) -> None:
    """An administrator adds a hotline; it appears on the public page; removing it is audited."""
    token = csrf_from(admin_client, "/countries/MY/contacts")
    bad = admin_client.post(
        "/countries/MY/contacts",
        data={"csrf_token": token, "kind": "hotline", "name": "Hotline", "website": "http://x"},
    )
    assert 422 == bad.status_code
    assert "https://" in bad.text
    added = admin_client.post(
        "/countries/MY/contacts",
        data={
            "csrf_token": token,
            "kind": "hotline",
            "name": "Workers' hotline <script>",
            "phone": "+60 3 1234 5678",
        },
    )
    assert 303 == added.status_code
    page = admin_client.get("/countries/MY/pre-departure")
    assert "Workers&#39; hotline &lt;script&gt;" in page.text
    [(contact_id, _)] = services.destinations.contacts("MYS")
    removed = admin_client.post(
        f"/countries/MY/contacts/{contact_id}/remove", data={"csrf_token": token}
    )
    assert 303 == removed.status_code
    assert [] == services.destinations.contacts("MY")
    actions = [e.action for e in services.audit.recent(limit=10)]
    assert {"destination.contact_added", "destination.contact_removed"} <= set(actions)


def test_api_country_profile(client: TestClient) -> None:
    """/api/countries/{code} gives the profile as JSON with sources; unknown is a JSON 404."""
    data = client.get("/api/countries/TR").json()
    assert "TUR" == data["country"]["alpha3"]
    assert "2022" == data["ilab_goods"]["edition"]
    missing = client.get("/api/countries/Atlantis")
    assert 404 == missing.status_code
    assert "not a recognised country" in missing.json()["error"]["message"]
