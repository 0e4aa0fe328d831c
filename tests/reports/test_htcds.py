"""HTCDS v2.0 export: columns are HTCDS fields or extensions; values are in the picklists."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest

from tests.conftest import shared_path
from tipaudit.core.indicators import load_taxonomy
from tipaudit.errors import ValidationError
from tipaudit.reports.htcds import (
    COLUMNS,
    EXTENSION_PREFIX,
    AccusedParty,
    HtcdsCase,
    load_standard,
    to_htcds_csv,
    to_htcds_json,
    to_htcds_rows,
)

RECEIVED = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

CLOSED = HtcdsCase(
    reference="R-7K3Q",
    state="closed",
    received_at=RECEIVED,
    category="tip",
    finding="substantiated",
    decision="referral_law_enforcement",
    closed_at=datetime(2026, 6, 1, tzinfo=UTC),
    indicator_codes=("ILO-07", "TIP-FEES", "ILO-03"),
    country="QA",
    industry_section="f",
    accused=(
        AccusedParty("Gulf Manpower Agency", "recruitment agency"),
        AccusedParty("BuildCo", "employer"),
    ),
    referred_to="Labour inspectorate",
    referred_at=datetime(2026, 5, 20, tzinfo=UTC),
    consent=True,
)
OPEN = HtcdsCase(reference="R-22AA", state="investigation", received_at=RECEIVED)


def test_closed_case_maps_to_htcds_values() -> None:
    """Status, trafficking status, control methods from the taxonomy, industry, roles, referral."""
    (row,) = to_htcds_rows([CLOSED])

    assert "ClosedReferred" == row["cas_Status"]
    assert "ActualVictimOfTrafficking" == row["vic_TraffickingStatus"]
    # ILO-07 -> WithholdsDocuments; TIP-FEES -> DebtBondage; ILO-03 has no value -> Other.
    assert ["WithholdsDocuments", "DebtBondage", "Other"] == row["vic_MethodsOfControl"]
    assert ["ILO-03"] == row[EXTENSION_PREFIX + "indicators_unmapped"]
    assert ["ForcedLabour"] == row["vic_TypeOfExploitation"]
    assert "F_Construction" == row["vic_ForcedLabourIndustry"]
    assert ["RecruiterOrIntermediary", "Exploiter"] == row["per_RoleInProcess"]
    assert "2026-05-20" == row["cas_OutgoingReferralDate"]
    assert "Exploitation" == row["hte_Type"]
    assert (
        "finding: substantiated; decision: referral law enforcement"
        == row["cas_ReasonForCaseClosure"]
    )


def test_every_taxonomy_mapping_is_a_valid_htcds_value() -> None:
    """A case citing every indicator passes the picklist check of every column."""
    every = HtcdsCase("R-ALL", "triaged", RECEIVED, indicator_codes=load_taxonomy().codes)
    (row,) = to_htcds_rows([every])
    assert "SexualExploitation" in row["vic_TypeOfExploitation"]
    assert "Active" == row["cas_Status"]


def test_open_case_leaves_outcome_columns_empty() -> None:
    """No finding yet: no trafficking status, no closure reason, no referral."""
    (row,) = to_htcds_rows([OPEN])
    assert "" == row["vic_TraffickingStatus"]
    assert "" == row["cas_ReasonForCaseClosure"]
    assert [] == row["vic_MethodsOfControl"]


def test_columns_are_htcds_fields_or_extensions_against_the_vendored_list() -> None:
    """Every non-extension column is a (non-deprecated) field of the vendored standard."""
    standard = load_standard()
    for column in COLUMNS:
        if column.startswith(EXTENSION_PREFIX):
            continue
        assert column in standard.fields, column
        assert "DEPRECATED" != standard.fields[column]["status"], column


def test_vendored_field_list_matches_the_shared_standard() -> None:
    """The packaged copy is the shared derived file, unchanged."""
    shared = json.loads(
        shared_path("data", "htcds", "htcds_enumerations_v2.0.derived.json").read_text()
    )
    assert shared["fields"] == dict(load_standard().fields)


def test_csv_round_trip_and_field_validation() -> None:
    """CSV header is the column list; multi-selects are joined with ';'."""
    rows = list(csv.DictReader(io.StringIO(to_htcds_csv([CLOSED, OPEN]))))
    assert list(COLUMNS) == list(rows[0])
    assert "WithholdsDocuments;DebtBondage;Other" == rows[0]["vic_MethodsOfControl"]
    standard = load_standard()
    for row in rows:
        for column, value in row.items():
            standard.check(column, value.split(";") if value else None)


def test_json_export_names_the_standard() -> None:
    """JSON keeps lists and says which standard and licence it follows."""
    payload = json.loads(to_htcds_json([CLOSED]))
    assert payload["standard"].startswith("HTCDS v2.0")
    assert ["Gulf Manpower Agency", "BuildCo"] == payload["cases"][0][
        EXTENSION_PREFIX + "accused_organisations"
    ]


def test_spreadsheet_formulas_in_names_are_neutralised() -> None:
    """An accused name starting with '=' cannot run as a formula in a spreadsheet."""
    hostile = HtcdsCase(
        "R-X", "triaged", RECEIVED, accused=(AccusedParty('=HYPERLINK("http://x")', "agent"),)
    )
    rows = list(csv.DictReader(io.StringIO(to_htcds_csv([hostile]))))
    assert rows[0][EXTENSION_PREFIX + "accused_organisations"].startswith("'=")


def test_unknown_indicator_or_industry_is_refused() -> None:
    """Bad codes are named in the error rather than exported."""
    with pytest.raises(ValidationError, match="ILO-99"):
        to_htcds_rows([HtcdsCase("R-1", "triaged", RECEIVED, indicator_codes=("ILO-99",))])
    with pytest.raises(ValidationError, match="ISIC"):
        to_htcds_rows([HtcdsCase("R-1", "triaged", RECEIVED, industry_section="Z")])


def test_standard_check_refuses_unknown_fields_and_values() -> None:
    """The validator itself: an invented field and a misspelt value."""
    standard = load_standard()
    with pytest.raises(ValidationError, match="not a field"):
        standard.check("vic_Invented", "x")
    with pytest.raises(ValidationError, match="picklist"):
        standard.check("cas_Status", "Open")


def test_export_has_no_place_for_report_text_or_identity() -> None:
    """No column can carry narrative text or reporter contact details."""
    forbidden = {"prs_FirstName", "prs_Email", "prs_MobilePhone", "cco_CaseComment"}
    assert not forbidden & set(COLUMNS)
    assert not {"text", "contact", "reporter"} & set(HtcdsCase.__dataclass_fields__)


def test_unnamed_parties_give_a_role_but_no_name_and_content_status_is_shown() -> None:
    """A person's role is exported without a name; ``x_tipaudit_content`` says what was read."""
    case = HtcdsCase(
        "R-P",
        "triaged",
        RECEIVED,
        accused=(AccusedParty("", "person"), AccusedParty("Agencia Sur", "recruiter")),
        content_status="opened",
    )
    (row,) = to_htcds_rows([case])
    assert ["Other", "RecruiterOrIntermediary"] == row["per_RoleInProcess"]
    assert ["Agencia Sur"] == row[EXTENSION_PREFIX + "accused_organisations"]
    assert "opened" == row[EXTENSION_PREFIX + "content"]
    assert "" == to_htcds_rows([OPEN])[0][EXTENSION_PREFIX + "content"]
