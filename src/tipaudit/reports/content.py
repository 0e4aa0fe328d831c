"""What a report says, checked and bounded before it is encrypted.

A submission is validated field by field. Problems come back as ``{field: message_key}`` so
the public form can show them in the reporter's language (``locales/<lang>.yaml`` under
``errors``); nothing here is stored in clear.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from tipaudit.core.countries import all_countries
from tipaudit.core.indicators import load_taxonomy
from tipaudit.errors import ValidationError

__all__ = [
    "LIMITS",
    "MAX_SUBJECTS",
    "Contact",
    "ReportContent",
    "ReportInputError",
    "Subject",
    "SubjectKind",
    "Submission",
    "clean_text",
    "decode_json",
    "encode_json",
    "validate_submission",
]

#: Longest value accepted per field, in characters.
LIMITS: Mapping[str, int] = {
    "what": 20_000,
    "where": 500,
    "when": 300,
    "subject_name": 300,
    "subject_identifiers": 500,
    "contact_name": 200,
    "contact_email": 254,
    "contact_phone": 60,
    "contact_other": 1_000,
    "consent_note": 1_000,
    "message": 10_000,
}
MAX_SUBJECTS = 5
MIN_WHAT = 10


class ReportInputError(ValidationError):
    """Input refused on the public pages; ``key`` names its message in the locale files."""

    def __init__(self, message: str, *, key: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.key = key


class SubjectKind(StrEnum):
    """Who a report is about."""

    ORGANISATION = "organisation"
    CONTRACTOR = "contractor"
    RECRUITER = "recruiter"
    UNIT = "unit"
    PERSON = "person"


@dataclass(frozen=True)
class Subject:
    kind: SubjectKind
    name: str
    identifiers: str = ""

    @property
    def schema(self) -> str:
        """The entity schema of an allegation about this subject."""
        return "Person" if self.kind is SubjectKind.PERSON else "Organization"


@dataclass(frozen=True)
class ReportContent:
    """The report itself (encrypted as one JSON document)."""

    what: str
    country: str = ""
    where: str = ""
    when: str = ""
    subjects: tuple[Subject, ...] = ()
    indicators: tuple[str, ...] = ()
    language: str = "en"
    consent_note: str = ""

    def to_json(self) -> bytes:
        data = asdict(self)
        data["subjects"] = [asdict(s) for s in self.subjects]
        return encode_json(data)

    @classmethod
    def from_json(cls, raw: bytes) -> ReportContent:
        data = decode_json(raw)
        subjects = tuple(
            Subject(SubjectKind(s["kind"]), s["name"], s.get("identifiers", ""))
            for s in data.get("subjects", [])
        )
        return cls(
            what=data["what"],
            country=data.get("country", ""),
            where=data.get("where", ""),
            when=data.get("when", ""),
            subjects=subjects,
            indicators=tuple(data.get("indicators", [])),
            language=data.get("language", "en"),
            consent_note=data.get("consent_note", ""),
        )


@dataclass(frozen=True)
class Contact:
    """How to reach the reporter: optional, kept apart from the report."""

    name: str = ""
    email: str = ""
    phone: str = ""
    other: str = ""

    @property
    def empty(self) -> bool:
        return not (self.name or self.email or self.phone or self.other)

    def to_json(self) -> bytes:
        return encode_json(asdict(self))

    @classmethod
    def from_json(cls, raw: bytes) -> Contact:
        data = decode_json(raw)
        return cls(**{k: str(data.get(k, "")) for k in ("name", "email", "phone", "other")})


@dataclass(frozen=True)
class Submission:
    content: ReportContent
    contact: Contact
    share_report: bool = False
    share_contact: bool = False
    problems: Mapping[str, str] = field(default_factory=dict)


def encode_json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8")


def decode_json(raw: bytes) -> Any:
    return json.loads(raw.decode("utf-8"))


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def clean_text(value: object, limit: int, *, multiline: bool = False) -> str:
    """Normalised text without control characters; ValidationError when over ``limit``."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError("expected text")
    text = unicodedata.normalize("NFC", value)
    # Lone surrogates cannot be stored or encrypted as UTF-8.
    text = text.encode("utf-8", errors="replace").decode("utf-8")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not multiline:
        text = text.replace("\n", " ").replace("\t", " ")
    text = _CONTROL.sub("", text).strip()
    if len(text) > limit:
        raise ValidationError(f"longer than {limit} characters")
    return text


_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]{2,63}")
_PHONE = re.compile(r"[0-9+()\-. ]{4,60}")


def _country_codes() -> frozenset[str]:
    return frozenset(c.alpha2 for c in all_countries())


def validate_submission(form: Mapping[str, Any], *, language: str = "en") -> Submission:
    """Check a submitted form; ``problems`` maps field names to message keys."""
    problems: dict[str, str] = {}

    def text(name: str, limit_key: str, *, multiline: bool = False) -> str:
        try:
            return clean_text(form.get(name), LIMITS[limit_key], multiline=multiline)
        except ValidationError:
            problems[name] = "too_long"
            return ""

    what = text("what", "what", multiline=True)
    if "what" not in problems and len(what) < MIN_WHAT:
        problems["what"] = "what_required"
    country = text("country", "where").upper()
    if country and country not in _country_codes():
        problems["country"] = "country_unknown"
        country = ""
    where = text("where", "where")
    when = text("when", "when")

    subjects: list[Subject] = []
    for index in range(MAX_SUBJECTS):
        name = text(f"subject_{index}_name", "subject_name")
        identifiers = text(f"subject_{index}_identifiers", "subject_identifiers")
        kind_raw = form.get(f"subject_{index}_kind") or "organisation"
        try:
            kind = SubjectKind(str(kind_raw))
        except ValueError:
            problems[f"subject_{index}_kind"] = "choice_unknown"
            continue
        if name:
            subjects.append(Subject(kind, name, identifiers))
        elif identifiers:
            problems[f"subject_{index}_name"] = "subject_name_required"

    codes = _indicator_codes(form.get("indicators"), problems)

    contact = Contact(
        name=text("contact_name", "contact_name"),
        email=text("contact_email", "contact_email"),
        phone=text("contact_phone", "contact_phone"),
        other=text("contact_other", "contact_other", multiline=True),
    )
    if contact.email and not _EMAIL.fullmatch(contact.email):
        problems["contact_email"] = "email_invalid"
    if contact.phone and not _PHONE.fullmatch(contact.phone):
        problems["contact_phone"] = "phone_invalid"
    consent_note = text("consent_note", "consent_note", multiline=True)

    content = ReportContent(
        what=what,
        country=country,
        where=where,
        when=when,
        subjects=tuple(subjects),
        indicators=tuple(codes),
        language=language,
        consent_note=consent_note,
    )
    return Submission(
        content=content,
        contact=contact,
        share_report=_flag(form.get("share_report")),
        share_contact=_flag(form.get("share_contact")) and not contact.empty,
        problems=problems,
    )


def _indicator_codes(raw: object, problems: dict[str, str]) -> list[str]:
    """Ticked indicator codes, each known to the taxonomy, in order, without repeats."""
    taxonomy = load_taxonomy()
    if not raw:
        return []
    values = (raw,) if isinstance(raw, str) else raw
    if not isinstance(values, Sequence) or len(values) > len(taxonomy):
        problems["indicators"] = "choice_unknown"
        return []
    codes: list[str] = []
    for code in values:
        if not isinstance(code, str) or code not in taxonomy:
            problems["indicators"] = "choice_unknown"
        elif code not in codes:
            codes.append(code)
    return codes


def _flag(value: object) -> bool:
    return value is True or (isinstance(value, str) and value in {"yes", "on", "true", "1"})
