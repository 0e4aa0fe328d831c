"""Policy review in the console: register, upload, diff, assessments, report, API."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from tipaudit.core.roles import Role
from tipaudit.services.container import Services
from tipaudit.services.policy import MAX_DOCUMENT_BYTES, CheckOutcome

from .conftest import PASSWORD, csrf_from, login

RUBRIC = "fair-recruitment"
V1 = "Recruitment rules\n1. Employers shall not retain passports.\n2. No recruitment fee.\n"
V2 = "Recruitment rules\n1. The employer may retain passports for safekeeping.\n"


def fake_checker(paths: Sequence[Path], policy_type: str) -> CheckOutcome:
    text = paths[0].read_text(encoding="utf-8").lower()
    findings = []
    if "may retain passports" in text:
        findings.append(
            {
                "rule_id": "document-retention",
                "item_id": "fr-documents",
                "kind": "risk",
                "title": "Employer may keep workers' passports",
                "severity": "high",
                "evidence": "The employer may retain passports for safekeeping.",
                "location": f"{paths[0].name}, provision 1",
                "explanation": "The text permits retention of identity documents.",
                "alternative": "Prohibit retention of identity documents, with penalties.",
                "indicators": ["ILO-07"],
                "sources": ["ILO general principles, 11"],
            }
        )
    return CheckOutcome(findings=findings, provisions=2, checker="fake 1")


@pytest.fixture
def analyst_client(client: TestClient, services: Services) -> TestClient:
    services.policies.checker = fake_checker
    services.accounts.create_user("paula", PASSWORD, roles={Role.POLICY_ANALYST})
    services.accounts.create_user("lara", PASSWORD, roles={Role.POLICY_ANALYST})
    login(client, "paula")
    return client


def _register(client: TestClient, slug: str = "rec-rules") -> None:
    token = csrf_from(client, "/policies")
    response = client.post(
        "/policies",
        data={
            "csrf_token": token,
            "name": "Recruitment rules",
            "slug": slug,
            "policy_type": "recruitment_regulation",
            "jurisdiction": "Examplestan",
            "owner": "Ministry of Labour",
        },
    )
    assert 303 == response.status_code, response.text
    assert f"/policies/{slug}?done=registered" == response.headers["location"]


def _upload(
    client: TestClient,
    text: str | bytes,
    label: str,
    name: str = "rules.txt",
    slug: str = "rec-rules",
) -> object:
    token = csrf_from(client, f"/policies/{slug}")
    body = text.encode() if isinstance(text, str) else text
    return client.post(
        f"/policies/{slug}/versions",
        data={"csrf_token": token, "label": label, "effective_date": "2025-01-01"},
        files={"document": (name, body, "text/plain")},
    )


def test_register_upload_diff_and_api(analyst_client: TestClient, services: Services) -> None:
    client = analyst_client
    home = client.get("/")
    assert 'href="/policies"' in home.text
    _register(client)
    assert 303 == _upload(client, V1, "2024").status_code  # type: ignore[attr-defined]
    assert 303 == _upload(client, V2, "2025", name="rules-2025.txt").status_code  # type: ignore[attr-defined]
    page = client.get("/policies/rec-rules")
    assert 200 == page.status_code
    assert "Employer may keep workers&#39; passports" in page.text
    assert "<svg" in page.text
    assert "version 2025: 1 high" in page.text
    versions = services.policies.versions("rec-rules")
    diff_page = client.get(f"/policies/rec-rules/versions/{versions[1].id}")
    assert 200 == diff_page.status_code
    new_section = diff_page.text.split('id="new-h"')[1].split('id="resolved-h"')[0]
    assert "The employer may retain passports for safekeeping." in new_section
    assert "diff-new" in new_section
    assert "VersionInfo(" not in diff_page.text  # the footer's version is the tool's
    listing = client.get("/policies?type=recruitment_regulation")
    assert "Recruitment rules" in listing.text
    assert "1 high" in listing.text
    assert "No policies of this type" in client.get("/policies?type=visa_scheme").text
    document = client.get(f"/policies/rec-rules/versions/{versions[0].id}/document")
    assert V1 == document.text
    assert "attachment" in document.headers["content-disposition"]
    api = client.get("/api/policies")
    assert ["rec-rules"] == [p["slug"] for p in api.json()]
    detail = client.get(f"/api/policies/rec-rules/versions/{versions[1].id}")
    assert ["document-retention"] == [f["rule_id"] for f in detail.json()["new"]]
    assert "2024" == detail.json()["previous_version"]


def test_bad_input_is_4xx(analyst_client: TestClient, services: Services) -> None:
    client = analyst_client
    _register(client)
    # the same slug twice, an unknown type, a missing name
    token = csrf_from(client, "/policies")
    again = client.post(
        "/policies",
        data={"csrf_token": token, "name": "X", "slug": "rec-rules", "policy_type": "other"},
    )
    assert 409 == again.status_code
    assert "already in the register" in again.text
    bad_type = client.post(
        "/policies", data={"csrf_token": token, "name": "Y rules", "policy_type": "magic"}
    )
    assert 422 == bad_type.status_code
    assert "Unknown policy type" in bad_type.text
    assert 422 == client.get("/policies?type=magic").status_code
    # malformed documents
    for body, name, message in (
        (b"%PDF-1.7 broken", "rules.docx", "not a Word document"),
        (b"hello", "rules.pdf", "not a PDF"),
        (b"MZ\x00\x00", "rules.exe", "must be one of"),
        (b"", "rules.txt", "empty"),
    ):
        response = _upload(client, body, "v-bad", name=name)
        assert 422 == response.status_code, (name, response.text[:300])  # type: ignore[attr-defined]
        assert message in response.text  # type: ignore[attr-defined]
    # a missing label
    response = _upload(client, V1, "")
    assert 422 == response.status_code  # type: ignore[attr-defined]
    # a huge upload is refused from its length, before the body is read
    token = csrf_from(client, "/policies/rec-rules")
    huge = client.post(
        "/policies/rec-rules/versions",
        data={"csrf_token": token, "label": "huge"},
        files={"document": ("big.txt", b"a" * (MAX_DOCUMENT_BYTES + 100_000), "text/plain")},
    )
    assert 413 == huge.status_code
    # a form post that is not multipart
    plain = client.post("/policies/rec-rules/versions", data={"csrf_token": token, "label": "x"})
    assert 422 == plain.status_code
    # unknown policy, unknown version, unknown assessment
    assert 404 == client.get("/policies/nope").status_code
    assert 404 == client.get("/policies/rec-rules/versions/999").status_code
    assert 404 == client.get("/policies/rec-rules/assessments/999").status_code
    assert 422 == client.get("/policies/rec-rules/versions/abc").status_code
    assert [] == services.policies.versions("rec-rules")


def test_csrf_and_permissions(client: TestClient, services: Services) -> None:
    services.accounts.create_user("paula", PASSWORD, roles={Role.POLICY_ANALYST})
    services.accounts.create_user("audrey", PASSWORD, roles={Role.AUDITOR})
    services.accounts.create_user("pete", PASSWORD, roles={Role.PROCUREMENT_ANALYST})
    assert 303 == client.get("/policies").status_code  # log in first
    assert 401 == client.get("/api/policies").status_code
    login(client, "paula")
    missing = client.post("/policies", data={"name": "X", "policy_type": "other"})
    assert 403 == missing.status_code
    upload = client.post(
        "/policies/x/versions",
        data={"label": "v1"},
        files={"document": ("a.txt", b"text", "text/plain")},
    )
    assert 403 == upload.status_code
    client.cookies.clear()
    login(client, "audrey")  # may read, not assess
    assert 200 == client.get("/policies").status_code
    assert "Register a policy" not in client.get("/policies").text
    token = csrf_from(client, "/policies")
    denied = client.post(
        "/policies", data={"csrf_token": token, "name": "X", "policy_type": "other"}
    )
    assert 403 == denied.status_code
    client.cookies.clear()
    login(client, "pete")
    assert 403 == client.get("/policies").status_code
    assert 'href="/policies"' not in client.get("/").text


def test_assessment_flow_and_report(analyst_client: TestClient, services: Services) -> None:
    client = analyst_client
    _register(client)
    _upload(client, V1, "2024")
    version = services.policies.versions("rec-rules")[0]
    token = csrf_from(client, "/policies/rec-rules")
    started = client.post(
        "/policies/rec-rules/assessments",
        data={
            "csrf_token": token,
            "version_id": str(version.id),
            "rubric_id": RUBRIC,
            "reviewer_1": "paula",
            "expertise_1": "anti_trafficking",
            "reviewer_2": "lara",
            "expertise_2": "labour_rights",
        },
    )
    assert 303 == started.status_code, started.text
    url = started.headers["location"].split("?")[0]
    page = client.get(url)
    assert 200 == page.status_code
    items = re.findall(r'name="answer-([a-z0-9-]+)" value="yes"', page.text)
    assert len(items) >= 3
    token = csrf_from(client, url)
    data = {"csrf_token": token}
    for item in items:
        data[f"answer-{item}"] = "yes"
    data[f"answer-{items[0]}"] = "no"
    data[f"comment-{items[0]}"] = "Art. 3 lets agencies charge <b>fees</b>."
    saved = client.post(f"{url}/answers", data=data)
    assert 303 == saved.status_code, saved.text
    page = client.get(url)
    assert "Art. 3 lets agencies charge &lt;b&gt;fees&lt;/b&gt;." in page.text  # escaped
    # a bad answer value and an unknown item are refused with the page
    bad = client.post(f"{url}/answers", data={"csrf_token": token, f"answer-{items[1]}": "maybe"})
    assert 422 == bad.status_code
    assert "not one of" in bad.text
    empty = client.post(f"{url}/answers", data={"csrf_token": token, "answer-zzz": "yes"})
    assert 422 == empty.status_code
    signed = client.post(f"{url}/signoff", data={"csrf_token": token})
    assert f"{url}?done=signed" == signed.headers["location"]
    locked = client.post(f"{url}/answers", data={**data, f"answer-{items[0]}": "yes"})
    assert 409 == locked.status_code
    assert "locked" in locked.text

    # the second reviewer disagrees on the first item, then signs off: final
    client.cookies.clear()
    login(client, "lara")
    token = csrf_from(client, url)
    data = {"csrf_token": token, **{f"answer-{item}": "yes" for item in items}}
    assert 303 == client.post(f"{url}/answers", data=data).status_code
    page = client.get(url)
    assert "Reviewers disagree." in page.text
    assert "Where reviewers disagree (1)" in page.text
    final = client.post(f"{url}/signoff", data={"csrf_token": token})
    assert f"{url}?done=final" == final.headers["location"]
    page = client.get(url)
    assert "Final" in page.text
    assert 'name="answer-' not in page.text
    report = client.get(f"{url}/report")
    assert 200 == report.status_code
    assert "Assessment findings and recommendations (1)" in report.text
    assert items[0] in report.text
    assert "VersionInfo(" not in report.text
    pdf = client.get(f"{url}/report.pdf")
    assert pdf.content.startswith(b"%PDF-")
    pdf_text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert items[0] in pdf_text
    assert "Art. 3 lets agencies charge <b>fees</b>." in pdf_text
    assert "Compared with the previous version" in pdf_text
    assert "application/pdf" == pdf.headers["content-type"]
    api = client.get(f"/api/policies/rec-rules/assessments/{url.rsplit('/', 1)[1]}").json()
    assert "final" == api["status"]
    first = next(i for i in api["items"] if i["item_id"] == items[0])
    assert first["disagreement"]
    assert "no" == first["combined"]
    # the assessment belongs to its policy only
    assert 404 == client.get(url.replace("rec-rules", "other-policy")).status_code


def _docx_with(body: bytes) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", body)
    return buffer.getvalue()


def test_hostile_uploads_with_the_real_check(client: TestClient, services: Services) -> None:
    """Traversal in the file name, broken DOCX and PDF bodies: stored safely or refused (4xx)."""
    services.accounts.create_user("paula", PASSWORD, roles={Role.POLICY_ANALYST})
    login(client, "paula")
    _register(client)
    stored = _upload(client, V2, "v1", name="../../../etc/cron.d/evil name.txt")
    assert 303 == stored.status_code  # type: ignore[attr-defined]
    (version,) = services.policies.versions("rec-rules")
    path = services.settings.data_dir / version.stored_path
    assert path.resolve().is_relative_to((services.settings.data_dir / "policies").resolve())
    assert "evil_name.txt" == path.name
    assert "../../../etc/cron.d/evil name.txt" == version.file_name
    assert "docs-retention" in {f["rule_id"] for f in version.findings}  # the real check ran
    for body, name in (
        (_docx_with(b"<w:document><unclosed"), "broken.docx"),
        (b"%PDF-1.7\n" + b"\x00garbage" * 100, "broken.pdf"),
        (b"<html><body>" + b"<div>" * 50_000 + b"</body></html>", "deep.html"),
    ):
        response = _upload(client, body, f"bad-{name}", name=name)
        assert response.status_code in (303, 422), (name, response.status_code)  # type: ignore[attr-defined]
        if response.status_code == 422:  # type: ignore[attr-defined]
            assert "could not be" in response.text  # type: ignore[attr-defined]
            assert str(services.settings.data_dir) not in response.text  # type: ignore[attr-defined]
    page = client.get("/policies/rec-rules")
    assert 200 == page.status_code
    assert "<script>" not in page.text
    # a script in an HTML policy is quoted as text, never run
    script = (
        b"<html><body><p>The employer may retain passports."
        b"<script>alert(1)</script></p></body></html>"
    )
    assert _upload(client, script, "html", name="p.html").status_code in (303, 422)  # type: ignore[attr-defined]
    assert "<script>alert(1)</script>" not in client.get("/policies/rec-rules").text


def test_api_with_tokens(client: TestClient, services: Services, tmp_path: Path) -> None:
    services.policies.checker = fake_checker
    auditor = services.accounts.create_user("audrey", PASSWORD, roles={Role.AUDITOR})
    buyer = services.accounts.create_user("pete", PASSWORD, roles={Role.PROCUREMENT_ANALYST})
    services.policies.register("system:test", name="Visa rules", policy_type="visa_scheme")
    document = tmp_path / "visa.txt"
    document.write_text(V2, encoding="utf-8")
    version = services.policies.add_version("system:test", "visa-rules", document, label="v1")
    _, token = services.accounts.create_token(auditor, "read")
    headers = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/policies?type=visa_scheme", headers=headers)
    assert ["visa-rules"] == [p["slug"] for p in listed.json()]
    detail = client.get("/api/policies/visa-rules", headers=headers).json()
    assert ["v1"] == [v["label"] for v in detail["version_history"]]
    one = client.get(f"/api/policies/visa-rules/versions/{version.id}", headers=headers).json()
    assert one["previous_version"] is None
    assert ["document-retention"] == [f["rule_id"] for f in one["new"]]
    missing = client.get("/api/policies/nope", headers=headers)
    assert 404 == missing.status_code
    assert "error" in missing.json()
    bad = client.get("/api/policies?type=magic", headers=headers)
    assert 422 == bad.status_code
    _, other = services.accounts.create_token(buyer, "buy")
    denied = client.get("/api/policies", headers={"Authorization": f"Bearer {other}"})
    assert 403 == denied.status_code
    schema = client.get("/api/openapi.json").json()
    assert "/api/policies/{slug}/assessments/{assessment_id}" in schema["paths"]
