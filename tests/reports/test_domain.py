"""The reports domain: workflow rules, deadlines, receipts, locales and input checks."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tipaudit.core.indicators import load_taxonomy
from tipaudit.errors import ValidationError
from tipaudit.reports import crypto, receipts
from tipaudit.reports.content import LIMITS, clean_text, validate_submission
from tipaudit.reports.locales import available_languages, choose_language, load_locale
from tipaudit.reports.workflow import (
    Category,
    State,
    add_months,
    deadlines_for,
    next_steps,
    overdue,
    step_to,
)


def test_every_state_is_reachable_and_closed_is_final() -> None:
    reachable = {State.RECEIVED}
    frontier = [State.RECEIVED]
    while frontier:
        state = frontier.pop()
        for category in (None, *Category):
            for step in next_steps(state, category):
                if step.target not in reachable:
                    reachable.add(step.target)
                    frontier.append(step.target)
    assert reachable == set(State)
    assert next_steps(State.CLOSED) == ()
    assert step_to(State.FINDING, State.DECISION).needs_second_person
    with pytest.raises(ValidationError, match="allowed: acknowledged"):
        step_to(State.RECEIVED, State.CLOSED)
    # crisis and tips are investigated; out of scope and duplicates get feedback directly
    assert [s.target for s in next_steps(State.TRIAGED, Category.CRISIS)] == [State.INVESTIGATION]
    assert [s.target for s in next_steps(State.TRIAGED, Category.DUPLICATE)] == [State.FEEDBACK]


def test_deadlines_follow_the_eu_directive() -> None:
    received = datetime(2026, 1, 30, 9, 0, tzinfo=UTC)
    plain = deadlines_for(received)
    assert plain.acknowledge_due == datetime(2026, 2, 6, 9, 0, tzinfo=UTC)
    # no acknowledgement: three months from the end of the 7-day period
    assert plain.feedback_due == datetime(2026, 5, 6, 9, 0, tzinfo=UTC)
    acknowledged = deadlines_for(received, received + timedelta(days=1))
    assert acknowledged.feedback_due == datetime(2026, 4, 30, 9, 0, tzinfo=UTC)
    assert add_months(datetime(2026, 11, 30, tzinfo=UTC), 3) == datetime(2027, 2, 28, tzinfo=UTC)
    late = received + timedelta(days=8)
    assert overdue(State.RECEIVED, plain.acknowledge_due, plain.feedback_due, late) == (
        "acknowledgement",
    )
    assert overdue(State.ACKNOWLEDGED, plain.acknowledge_due, plain.feedback_due, late) == ()
    much_later = received + timedelta(days=200)
    assert overdue(State.CLOSED, plain.acknowledge_due, plain.feedback_due, much_later) == ()
    assert "feedback" in overdue(
        State.INVESTIGATION, plain.acknowledge_due, plain.feedback_due, much_later
    )


def test_receipts_have_at_least_128_bits() -> None:
    assert receipts.secret_bits() >= 128
    words = receipts.word_list()
    assert len(set(words)) == len(words) >= 3000
    assert all(w.isascii() and w.isalpha() and w.islower() for w in words)
    assert "puta" not in words
    receipt = receipts.new_receipt()
    assert len(receipt.locator) == 8
    assert receipt.locator.isdigit()
    assert len(receipt.secret.split()) == receipts.SECRET_WORDS
    assert receipts.parse_receipt(receipt.text) == receipt
    assert receipts.new_receipt() != receipt


@pytest.mark.parametrize(
    "text",
    ["", "1234", "1234 5678", "1234 5678 " + "bafo " * 10, "12345678 " + "bafo " * 12, "x" * 401],
)
def test_malformed_receipts_are_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        receipts.parse_receipt(text)


def test_receipt_keys_depend_on_salt_and_secret() -> None:
    salt = receipts.new_salt()
    one = receipts.derive_keys("bafo kile", salt)
    assert one == receipts.derive_keys("bafo kile", salt)
    assert one.verifier != receipts.derive_keys("bafo kilo", salt).verifier
    assert one.verifier != receipts.derive_keys("bafo kile", receipts.new_salt()).verifier
    assert one.verifier != one.wrapping_key
    key_a = receipts.locator_hash(b"k" * 32, "12345678")
    assert key_a != receipts.locator_hash(b"j" * 32, "12345678")
    assert "12345678" not in key_a


def test_report_keys_open_for_staff_and_reporter_only() -> None:
    org_private, org_public = crypto.generate_organisation_key()
    wrapping = receipts.derive_keys("bafo", receipts.new_salt()).wrapping_key
    keys = crypto.new_report_keys(org_public, wrapping)
    sealed = crypto.seal(keys.public_key, b"what happened")
    staff = crypto.open_private_key_for_staff(org_private, keys.private_key_for_staff)
    reporter = crypto.open_private_key_for_reporter(wrapping, keys.private_key_for_reporter)
    assert staff == reporter
    assert crypto.open_sealed(staff, sealed) == b"what happened"
    other_private, _ = crypto.generate_organisation_key()
    with pytest.raises(crypto.DecryptionError):
        crypto.open_private_key_for_staff(other_private, keys.private_key_for_staff)
    with pytest.raises(crypto.DecryptionError):
        crypto.open_private_key_for_reporter(b"\x00" * 32, keys.private_key_for_reporter)


def test_locales_are_complete() -> None:
    assert available_languages()[0] == "en"
    assert "es" in available_languages()
    english = load_locale("en")

    def keys(node: object, prefix: str = "") -> set[str]:
        if isinstance(node, dict):
            return {k for key, value in node.items() for k in keys(value, f"{prefix}{key}.")}
        return {prefix.rstrip(".")}

    english_keys = keys(dict(english.strings))
    for code in available_languages():
        locale = load_locale(code)
        raw = keys(dict(locale.strings))
        assert english_keys <= raw, f"{code} lacks {sorted(english_keys - raw)}"
        for indicator in load_taxonomy():
            assert indicator.plain(code)
    assert load_locale("es")("errors.too_long") != english("errors.too_long")
    assert load_locale("xx").code == "en"
    assert choose_language(None, "fr-FR,es;q=0.8") == "es"
    assert choose_language("EN", "es") == "en"
    assert choose_language("../../etc", None) == "en"


def test_submission_validation() -> None:
    ok = validate_submission(
        {
            "what": "  They kept our passports.  ",
            "country": "qa",
            "subject_0_name": "Acme",
            "subject_0_kind": "unit",
            "indicators": ["ILO-07", "ILO-07"],
            "contact_email": "a@b.org",
            "share_contact": "yes",
        }
    )
    assert not ok.problems
    assert ok.content.what == "They kept our passports."
    assert ok.content.country == "QA"
    assert ok.content.indicators == ("ILO-07",)
    assert ok.content.subjects[0].schema == "Organization"
    assert ok.share_contact
    bad = validate_submission(
        {
            "what": "x" * (LIMITS["what"] + 1),
            "country": "Atlantis",
            "subject_0_kind": "dragon",
            "subject_1_identifiers": "CR 1",
            "indicators": ["ILO-99"],
            "contact_email": "nope",
            "contact_phone": "call me maybe",
        }
    )
    assert bad.problems == {
        "what": "too_long",
        "country": "country_unknown",
        "subject_0_kind": "choice_unknown",
        "subject_1_name": "subject_name_required",
        "indicators": "choice_unknown",
        "contact_email": "email_invalid",
        "contact_phone": "phone_invalid",
    }
    # no contact details: sharing them is meaningless and not recorded
    assert not validate_submission(
        {"what": "long enough text", "share_contact": "yes"}
    ).share_contact


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "what",
                "country",
                "where",
                "when",
                "subject_0_name",
                "subject_0_kind",
                "contact_email",
                "contact_phone",
                "indicators",
                "share_report",
            ]
        ),
        st.one_of(st.text(max_size=300), st.lists(st.text(max_size=20)), st.none(), st.integers()),
    )
)
def test_validation_never_crashes(form: dict[str, object]) -> None:
    try:
        result = validate_submission(form)
    except ValidationError:
        return
    assert isinstance(result.problems, dict)
    for value in (result.content.what, result.content.where, result.contact.email):
        assert "\x00" not in value
        value.encode("utf-8")


def test_clean_text_strips_controls_and_bidi_overrides() -> None:
    assert clean_text("a\x00b\u202ec\r\nd", 100, multiline=True) == "abc\nd"
    assert clean_text("a\nb", 100) == "a b"
    with pytest.raises(ValidationError):
        clean_text("x" * 11, 10)
    assert math.isclose(len(clean_text("é", 5)), 1)
