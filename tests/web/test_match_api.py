"""The yente-compatible ``POST /match/{dataset}``: shape, parameters, auth, hostile input, cache.

The request and response shapes follow yente's documented examples (its ``/match`` endpoint
docstring and its response models): queries keyed by a client-chosen id, each with ``schema``
and ``properties``; responses under the same keys with ``status``, ``results``, ``total`` and
``query``; top-level ``matcher`` and ``limit``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tipaudit.core.roles import Role
from tipaudit.services.container import Services
from tipaudit.web.app import create_app
from tipaudit.web.routers import match as match_router

DATA = Path(__file__).resolve().parents[2] / "src" / "tipaudit" / "screening" / "data"
PASSWORD = "a long enough passphrase"

#: yente's documented example: a person and a company, keyed by the client's own ids.
YENTE_EXAMPLE: dict[str, Any] = {
    "queries": {
        "entity1": {
            "schema": "Person",
            "properties": {
                "name": ["John Doe"],
                "birthDate": ["1975-04-21"],
                "nationality": ["us"],
            },
        },
        "entity2": {
            "schema": "Company",
            "properties": {
                "name": ["Brilliant Amazing Limited"],
                "jurisdiction": ["hk"],
                "registrationNumber": ["84BA99810"],
            },
        },
    }
}


def _person(name: str, **props: list[str]) -> dict[str, Any]:
    return {"schema": "Person", "properties": {"name": [name], **props}}


@pytest.fixture
def services_with_lists(services: Services) -> Services:
    services.watchlists.import_list(
        "system:test", "un-sc-sample", DATA / "un-sc-sample.csv", "csv", kind="sample"
    )
    services.watchlists.import_list(
        "system:test", "fictional-demo", DATA / "fictional-demo-list.csv", "csv", kind="sample"
    )
    return services


@pytest.fixture
def api(services_with_lists: Services) -> Iterator[TestClient]:
    app = create_app(services_with_lists.settings, services=services_with_lists)
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        yield client


def _token(services: Services, username: str, roles: set[Role]) -> str:
    user = services.accounts.create_user(username, PASSWORD, roles=roles)
    _, token = services.accounts.create_token(user, "yente client")
    return token


@pytest.fixture
def headers(services_with_lists: Services) -> dict[str, str]:
    token = _token(services_with_lists, "vera", {Role.VETTING_OFFICER})
    return {"Authorization": f"Bearer {token}"}


def test_yente_documented_example_has_yente_shape(api: TestClient, headers: dict[str, str]) -> None:
    """The documented two-query example answers per key with yente's fields."""
    response = api.post("/match/default", json=YENTE_EXAMPLE, headers=headers)
    assert 200 == response.status_code, response.text
    body = response.json()
    assert {"entity1", "entity2"} == set(body["responses"])
    assert 5 == body["limit"]
    assert "name_similarity" in body["matcher"]
    assert {"description", "coefficient", "url"} <= set(body["matcher"]["name_similarity"])
    for key, schema in (("entity1", "Person"), ("entity2", "Company")):
        answer = body["responses"][key]
        assert 200 == answer["status"]
        assert {"value", "relation"} == set(answer["total"])
        assert schema == answer["query"]["schema"]
        assert isinstance(answer["results"], list)
    echoed = body["responses"]["entity2"]["query"]["properties"]
    assert (["Brilliant Amazing Limited"], ["hk"], ["84ba99810"]) == (
        echoed["name"],
        echoed["country"],
        echoed["registrationNumber"],
    )
    assert "2" == response.headers["x-batch-size"]


def test_a_perturbed_un_name_matches_with_explanations(
    api: TestClient, headers: dict[str, str]
) -> None:
    """A misspelt listed name comes back as a match with every feature explained."""
    query = {"queries": {"q1": _person("Atiqullah Akhund", nationality=["af"])}}
    body = api.post("/match/un-sc-sample", json=query, headers=headers).json()
    top = body["responses"]["q1"]["results"][0]
    expected_keys = {
        "id", "caption", "schema", "properties", "datasets", "referents", "target",
        "first_seen", "last_seen", "last_change", "score", "match", "features", "explanations",
    }  # fmt: skip
    assert expected_keys <= set(top)
    assert ("un-sc-8", "ATTIQULLAH AKHUND", True, ["un-sc-sample"]) == (
        top["id"],
        top["caption"],
        top["match"],
        top["datasets"],
    )
    assert top["score"] >= body["threshold"]
    assert "af" in top["properties"]["country"]
    assert top["first_seen"] is not None
    assert "similar" in top["explanations"]["name_similarity"]["detail"]
    assert top["features"]["name_similarity"] > 0.8
    assert "both linked to AF" == top["explanations"]["country_match"]["detail"]


def test_parameters_threshold_limit_and_exclusions(
    api: TestClient, headers: dict[str, str]
) -> None:
    """threshold moves the match flag; limit and exclude_entity_ids cut the results."""
    query = {"queries": {"q": _person("Attiqullah Akhund")}}

    def results(**params: Any) -> list[dict[str, Any]]:
        response = api.post("/match/un-sc-sample", json=query, headers=headers, params=params)
        assert 200 == response.status_code, response.text
        out: list[dict[str, Any]] = response.json()["responses"]["q"]["results"]
        return out

    assert "un-sc-8" == results()[0]["id"]
    assert False is results(threshold=1.0)[0]["match"] or 1.0 == results()[0]["score"]
    assert 1 == len(results(limit=1, cutoff=0.0))
    assert "un-sc-8" not in {r["id"] for r in results(exclude_entity_ids="un-sc-8")}
    assert [] == results(exclude_schema="Person")
    assert [] == results(exclude_dataset="un-sc-sample")
    assert [] == results(include_dataset="fictional-demo")
    assert "un-sc-8" == results(algorithm="logic-v2")[0]["id"]


def test_default_covers_every_list_and_catalog_lists_them(
    api: TestClient, headers: dict[str, str]
) -> None:
    """``default`` screens all lists; /catalog names them."""
    query = {
        "queries": {"s": {"schema": "Company", "properties": {"name": ["Example Brick Kilns"]}}}
    }
    body = api.post("/match/default", json=query, headers=headers).json()
    assert "fict-2" == body["responses"]["s"]["results"][0]["id"]
    assert {"fictional-demo", "un-sc-sample"} == set(body["datasets"])
    catalog = api.get("/catalog", headers=headers).json()
    assert {"un-sc-sample", "fictional-demo", "default"} == {d["name"] for d in catalog["datasets"]}


def test_weights_override_feature_coefficients(api: TestClient, headers: dict[str, str]) -> None:
    """yente's ``weights`` change a feature's coefficient; the matcher block shows it."""
    query = {"queries": {"q": _person("Attiqullah Akhund")}, "weights": {"name_similarity": 0.1}}
    body = api.post("/match/un-sc-sample", json=query, headers=headers, params={"cutoff": 0}).json()
    assert 0.1 == body["matcher"]["name_similarity"]["coefficient"]
    assert body["responses"]["q"]["results"][0]["score"] < 0.5


def test_yente_apikey_header_and_permissions(
    api: TestClient, services_with_lists: Services
) -> None:
    """Bearer and yente's ApiKey form work; no token is 401; a role without screening is 403."""
    token = _token(services_with_lists, "otto", {Role.VETTING_OFFICER})
    auditor = _token(services_with_lists, "aud", {Role.AUDITOR})
    url = "/match/default"
    statuses = [
        api.post(url, json=YENTE_EXAMPLE, headers={"Authorization": f"ApiKey {token}"}).status_code,
        api.post(url, json=YENTE_EXAMPLE).status_code,
        api.post(url, json=YENTE_EXAMPLE, headers={"Authorization": "Bearer tpa_x"}).status_code,
        api.post(url, json=YENTE_EXAMPLE, headers={"Authorization": "ApiKey "}).status_code,
        api.post(
            url, json=YENTE_EXAMPLE, headers={"Authorization": f"Bearer {auditor}"}
        ).status_code,
        api.get("/catalog").status_code,
    ]
    assert [200, 401, 401, 401, 403, 401] == statuses
    denied = api.post(url, json=YENTE_EXAMPLE, headers={"Authorization": f"Bearer {auditor}"})
    assert "forbidden" == denied.json()["error"]["code"]
    assert denied.json()["detail"]


BAD_BODIES: list[tuple[bytes, str]] = [
    (b"", "empty"),
    (b"not json", "not valid JSON"),
    (b"\xff\xfe\x00", "not valid JSON"),
    (b"[]", "JSON object"),
    (b'{"queries": []}', "queries"),
    (b'{"queries": {}}', "no queries"),
    (b'{"queries": {"a": 1}}', "queries.a"),
    (b'{"queries": {"a": {"schema": "Vessel", "properties": {"name": ["x"]}}}}', "schema"),
    (b'{"queries": {"a": {"schema": "Person"}}}', "properties"),
    (b'{"queries": {"a": {"schema": "Person", "properties": {"name": []}}}}', "at least one name"),
    (b'{"queries": {"a": {"schema": "Person", "properties": {"name": [{"x": 1}]}}}}', "strings"),
    (b'{"queries": {"a": {"schema": "Person", "properties": {"name": 5}}}}', "a string or a list"),
    (b'{"queries": {"a": {"schema": "Person", "properties": {"name": ["x"]}}}, "weights": {"zz": 1}}', "weights"),  # noqa: E501
    (b'{"queries": {"a": {"schema": "Person", "properties": {"name": ["x"]}}}, "weights": {"name_similarity": "1"}}', "number"),  # noqa: E501
    (b'{"queries": {"a": {"schema": "Person", "properties": {"name": ["x"]}}}, "config": {"x": 1}}', "config"),  # noqa: E501
    (b"[" * 100_000 + b"]" * 100_000, "nested"),
    (b'{"queries": {"a": {"schema": "Person", "properties": {"name": ["' + b"x" * 5000 + b'"]}}}}', "at most"),  # noqa: E501
]  # fmt: skip


@pytest.mark.parametrize(("body", "fragment"), BAD_BODIES)
def test_malformed_bodies_get_400_with_a_message(
    api: TestClient, headers: dict[str, str], body: bytes, fragment: str
) -> None:
    response = api.post(
        "/match/default", content=body, headers={**headers, "Content-Type": "application/json"}
    )
    assert (400, True) == (response.status_code, fragment in response.json()["detail"]), (
        response.text[:300]
    )


def test_too_many_queries_and_huge_bodies(api: TestClient, headers: dict[str, str]) -> None:
    """101 queries are refused (400); a body over the limit is refused unread (413)."""
    many = {"queries": {f"q{i}": _person(f"Name {i}") for i in range(101)}}
    too_many = api.post("/match/default", json=many, headers=headers)
    huge = b'{"queries": {"a": {"schema": "Person", "properties": {"name": ["' + b"x" * (3 << 20)
    too_big = api.post(
        "/match/default", content=huge, headers={**headers, "Content-Type": "application/json"}
    )
    assert (400, "too many", 413) == (
        too_many.status_code,
        "too many" in too_many.json()["detail"] and "too many",
        too_big.status_code,
    )


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "abc"},
        {"limit": "501"},
        {"limit": "-1"},
        {"threshold": "2"},
        {"threshold": "nan"},
        {"threshold": "x"},
        {"algorithm": "magic"},
        {"changed_since": "last week"},
        {"exclude_entity_ids": [f"id{i}" for i in range(51)]},
        {"limit": ["1", "2"]},
    ],
)
def test_bad_parameters_get_400(
    api: TestClient, headers: dict[str, str], params: dict[str, Any]
) -> None:
    response = api.post("/match/default", json=YENTE_EXAMPLE, headers=headers, params=params)
    assert (400, True) == (response.status_code, bool(response.json()["detail"]))


def test_unknown_dataset_is_404_json(api: TestClient, headers: dict[str, str]) -> None:
    unknown = api.post("/match/no-such-list", json=YENTE_EXAMPLE, headers=headers)
    hostile = api.post("/match/%3Cscript%3E", json=YENTE_EXAMPLE, headers=headers)
    assert (404, "no dataset", 404) == (
        unknown.status_code,
        unknown.json()["detail"][:10],
        hostile.status_code,
    )
    assert "<script>" not in hostile.text or hostile.headers["content-type"].startswith(
        "application/json"
    )


def test_values_that_cannot_be_read_are_dropped_with_a_warning(
    api: TestClient, headers: dict[str, str]
) -> None:
    """As FtM drops values it cannot clean: an impossible date or unknown country is ignored."""
    query = {
        "queries": {
            "q": _person("Attiqullah Akhund", birthDate=["1974-01-32"], nationality=["Atlantis"])
        }
    }
    response = api.post("/match/un-sc-sample", json=query, headers=headers)
    answer = response.json()["responses"]["q"]
    assert (200, 2, "un-sc-8") == (
        response.status_code,
        len(answer["warnings"]),
        answer["results"][0]["id"],
    )
    assert "birthDate" not in answer["query"]["properties"]


def test_ignored_parameters_are_named(api: TestClient, headers: dict[str, str]) -> None:
    """topics and changed_since are accepted for compatibility and reported as not applied."""
    response = api.post(
        "/match/default",
        json=YENTE_EXAMPLE,
        headers=headers,
        params={"topics": "sanction", "changed_since": "2024-01-01"},
    )
    assert (200, "topics,changed_since") == (
        response.status_code,
        response.headers["x-tipaudit-ignored-parameters"],
    )


def test_index_is_cached_and_rebuilt_after_reimport(
    api: TestClient, headers: dict[str, str], services_with_lists: Services, tmp_path: Path
) -> None:
    """The index is built once per list version; a re-import is seen by the next request."""
    query = {
        "queries": {"q": {"schema": "Company", "properties": {"name": ["Zebra Quartz Foundry"]}}}
    }
    first = api.post("/match/fictional-demo", json=query, headers=headers).json()
    cache = api.app.state.match_index_cache  # type: ignore[attr-defined]
    built = cache._indexes["fictional-demo"]
    api.post("/match/fictional-demo", json=query, headers=headers)
    same = cache._indexes["fictional-demo"] is built
    text = (DATA / "fictional-demo-list.csv").read_text(encoding="utf-8")
    new = tmp_path / "v2.csv"
    new.write_text(
        text + "fict-9,Zebra Quartz Foundry (fictional),,Company,,,x,FICTIONAL entry,,,\n",
        encoding="utf-8",
    )
    services_with_lists.watchlists.import_list(
        "system:test", "fictional-demo", new, "csv", kind="sample"
    )
    second = api.post("/match/fictional-demo", json=query, headers=headers).json()
    assert ([], True, "fict-9") == (
        first["responses"]["q"]["results"],
        same,
        second["responses"]["q"]["results"][0]["id"],
    )


def test_allegations_count_only_when_credible(services_with_lists: Services) -> None:
    """Register entries count once credible (re-read after a status change, which makes no
    list version); pending and unsubstantiated ones are never matched."""
    services = services_with_lists
    creator = services.accounts.create_user("cara", PASSWORD, roles={Role.VETTING_OFFICER})
    reviewer = services.accounts.create_user("rev", PASSWORD, roles={Role.VETTING_OFFICER})
    ids = [
        services.allegations.create(
            creator,
            name=name,
            schema="Company",
            country=None,
            identifiers=[],
            source_ref=None,
            summary="fictional test allegation",
            reason="a fictional test allegation",
        )
        for name in ("Zebra Quartz Foundry (fictional)", "Yellow Onyx Mills (fictional)")
    ]
    token = _token(services, "vio", {Role.VETTING_OFFICER})
    headers = {"Authorization": f"Bearer {token}"}
    query = {
        "queries": {
            "a": {"schema": "Company", "properties": {"name": ["Zebra Quartz Foundry"]}},
            "b": {"schema": "Company", "properties": {"name": ["Yellow Onyx Mills"]}},
        }
    }
    app = create_app(services.settings, services=services)
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:

        def hits(dataset: str) -> list[str]:
            body = client.post(f"/match/{dataset}", json=query, headers=headers).json()
            return sorted(r["caption"][:4] for k in "ab" for r in body["responses"][k]["results"])

        pending = (hits("default"), hits("allegations"))
        services.allegations.set_status(reviewer, ids[0], "credible", reason="checked twice")
        services.allegations.set_status(
            reviewer, ids[1], "unsubstantiated", reason="no support in the evidence"
        )
        reviewed = (hits("default"), hits("allegations"))
    assert (([], []), (["Zebr"], ["Zebr"])) == (pending, reviewed)


def test_other_allegation_lists_without_status_stay_out_of_default(
    services_with_lists: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A list of kind allegations whose status is unknown is matched only when named; a hook
    that knows the statuses lets the credible entries count."""
    register = tmp_path / "ngo.csv"
    register.write_text(
        "id,name,schema\nal-1,Zebra Quartz Foundry (fictional),Company\n"
        "al-2,Yellow Onyx Mills (fictional),Company\n",
        encoding="utf-8",
    )
    services_with_lists.watchlists.import_list(
        "system:test", "ngo-allegations", register, "csv", kind="allegations"
    )
    token = _token(services_with_lists, "vio", {Role.VETTING_OFFICER})
    headers = {"Authorization": f"Bearer {token}"}
    query = {
        "queries": {
            "a": {"schema": "Company", "properties": {"name": ["Zebra Quartz Foundry"]}},
            "b": {"schema": "Company", "properties": {"name": ["Yellow Onyx Mills"]}},
        }
    }

    def hits(dataset: str) -> list[str]:
        app = create_app(services_with_lists.settings, services=services_with_lists)
        with TestClient(app, base_url="http://127.0.0.1:8000") as client:
            body = client.post(f"/match/{dataset}", json=query, headers=headers).json()
        return sorted(r["id"] for k in "ab" for r in body["responses"][k]["results"])

    unknown = (hits("default"), hits("ngo-allegations"))
    monkeypatch.setattr(
        match_router,
        "ALLEGATION_STATUS_HOOK",
        lambda _services, _slug: {"al-1": "credible", "al-2": "pending"},
    )
    assert (([], ["al-1", "al-2"]), ["al-1"], ["al-1"]) == (
        unknown,
        hits("default"),
        hits("ngo-allegations"),
    )


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
_examples = st.fixed_dictionaries(
    {"schema": st.sampled_from(["Person", "Company", "LegalEntity", "Vessel", "", "person"])},
    optional={
        "properties": st.dictionaries(
            st.sampled_from(["name", "alias", "birthDate", "country", "registrationNumber", "x"]),
            st.lists(st.text(max_size=40), max_size=3) | _json,
            max_size=4,
        )
    },
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=st.one_of(
        _json,
        st.fixed_dictionaries(
            {"queries": st.dictionaries(st.text(max_size=8), _examples, max_size=3)}
        ),
    )
)
def test_any_json_body_gets_200_or_400_never_500(
    api: TestClient, headers: dict[str, str], body: object
) -> None:
    response = api.post(
        "/match/default",
        content=json.dumps(body),
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status_code in {200, 400}, response.text[:300]
    assert response.headers["content-type"].startswith("application/json")
