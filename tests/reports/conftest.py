"""Fixtures for public reports: reviewers with the roles of the workflow, and a submission."""

from __future__ import annotations

from typing import Any

import pytest

from tipaudit.core.roles import Role
from tipaudit.reports.content import Submission, validate_submission
from tipaudit.services.accounts import StaffUser
from tipaudit.services.container import Services

PASSWORD = "a long enough passphrase"

#: Text the dump tests search for: none of it may appear in clear anywhere on disk.
SECRET_TEXT = "Señor Quispe confiscated our passports at Camp Zeta-Nine"
SECRET_CONTACT = "whistle.reporter-7731@example.org"
SECRET_PHONE = "+591 7123 9988"
SECRET_MESSAGE = "The foreman Huaman-Delgado keeps the keys in the blue office"
SECRET_FILE = "invoice of recruitment fee paid to Agencia Puente Dorado"


def form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "what": SECRET_TEXT,
        "country": "QA",
        "where": "Camp Zeta-Nine, Al Wakrah",
        "when": "from March 2026 until now",
        "subject_0_kind": "contractor",
        "subject_0_name": "Gulf Star Building Contractors",
        "subject_0_identifiers": "CR 55123",
        "subject_1_kind": "recruiter",
        "subject_1_name": "Agencia Puente Dorado",
        "indicators": ["ILO-07", "TIP-FEES"],
        "contact_email": SECRET_CONTACT,
        "contact_phone": SECRET_PHONE,
        "share_report": "yes",
    }
    data.update(overrides)
    return data


def submission(**overrides: Any) -> Submission:
    result = validate_submission(form(**overrides))
    assert not result.problems, result.problems
    return result


class Staff:
    def __init__(self, services: Services) -> None:
        self.services = services
        accounts = services.accounts
        self.intake = self._make("ines", {Role.INTAKE_OFFICER})
        self.investigator = self._make("ivan", {Role.INVESTIGATOR})
        self.decider = self._make("dora", {Role.DECISION_MAKER})
        self.decider2 = self._make("dan", {Role.DECISION_MAKER})
        self.auditor = self._make("aud", {Role.AUDITOR})
        del accounts

    def _make(self, name: str, roles: set[Role]) -> StaffUser:
        self.services.accounts.create_user(name, PASSWORD, roles=roles)
        return self.services.accounts.get_user(name)


@pytest.fixture
def staff(services: Services) -> Staff:
    return Staff(services)
