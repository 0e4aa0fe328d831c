"""Cheap, targeted schema checks on each release: what reads but breaks OCDS 1.1.

These are warnings, never errors: the release is kept as published (an amount written as
``"1,234.00"`` stays a string; later stages parse values). This is a handful of dictionary
look-ups per release on purpose; full JSON Schema validation against the vendored schema is a
separate, optional step.
"""

from __future__ import annotations

from typing import Any

from tipaudit.procurement.ingest.report import WarningKind

__all__ = ["Problem", "is_linked_release", "release_problems"]

Problem = tuple[WarningKind, str]

_NUMBER = (int, float)


def _type_name(value: Any) -> str:
    return {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "a boolean",
        list: "an array",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def is_linked_release(value: dict[str, Any]) -> bool:
    """A record's linked release: only ``url`` (with ``date``/``tag``), no content to merge."""
    return "url" in value and "ocid" not in value and "id" not in value


def _amount(problems: list[Problem], where: str, value: Any) -> None:
    if type(value) is dict:
        amount = value.get("amount")
        if amount is not None and (type(amount) not in _NUMBER):
            shown = repr(amount) if type(amount) is str and len(amount) < 40 else ""
            problems.append(
                (
                    WarningKind.WRONG_TYPE,
                    f"{where}.amount is {_type_name(amount)}{' ' + shown if shown else ''}",
                )
            )


def release_problems(release: dict[str, Any]) -> list[Problem] | None:
    """The schema problems of one release (``None`` when there is none, the usual case)."""
    problems: list[Problem] = []
    _identity(problems, release)
    buyer = release.get("buyer")
    if type(buyer) is dict and "id" not in buyer:
        problems.append(
            (
                WarningKind.OCDS_1_0_FORM,
                "buyer has no id (an OCDS 1.0 organization, not in parties)",
            )
        )
    tender = release.get("tender")
    if tender is not None:
        _tender(problems, tender)
    for name in ("awards", "contracts"):
        entries = release.get(name)
        if entries is not None:
            _entries(problems, name, entries)
    parties = release.get("parties")
    if parties is not None and type(parties) is not list:
        problems.append((WarningKind.WRONG_TYPE, f"parties is {_type_name(parties)}, not an array"))
    return problems or None


def _identity(problems: list[Problem], release: dict[str, Any]) -> None:
    if "id" not in release:
        problems.append((WarningKind.MISSING_ID, "release has no id"))
    elif type(release["id"]) is not str:
        problems.append((WarningKind.WRONG_TYPE, f"id is {_type_name(release['id'])}"))
    date = release.get("date")
    if date is None:
        problems.append((WarningKind.MISSING_DATE, "release has no date"))
    elif type(date) is not str:
        problems.append((WarningKind.WRONG_TYPE, f"date is {_type_name(date)}"))
    tag = release.get("tag")
    if tag is None:
        problems.append((WarningKind.MISSING_TAG, "release has no tag"))
    elif type(tag) is not list:
        problems.append((WarningKind.WRONG_TYPE, f"tag is {_type_name(tag)}, not an array"))


def _tender(problems: list[Problem], tender: Any) -> None:
    if type(tender) is not dict:
        problems.append((WarningKind.WRONG_TYPE, f"tender is {_type_name(tender)}"))
        return
    entity = tender.get("procuringEntity")
    if type(entity) is dict and "id" not in entity:
        problems.append((WarningKind.OCDS_1_0_FORM, "tender.procuringEntity has no id (OCDS 1.0)"))
    tenderers = tender.get("tenderers")
    if type(tenderers) is list and any(type(t) is dict and "id" not in t for t in tenderers):
        problems.append((WarningKind.OCDS_1_0_FORM, "tender.tenderers[] without id (OCDS 1.0)"))
    _amount(problems, "tender.value", tender.get("value"))
    count = tender.get("numberOfTenderers")
    if count is not None and type(count) is not int:
        problems.append(
            (WarningKind.WRONG_TYPE, f"tender.numberOfTenderers is {_type_name(count)}")
        )


def _entries(problems: list[Problem], name: str, entries: Any) -> None:
    if type(entries) is not list:
        problems.append((WarningKind.WRONG_TYPE, f"{name} is {_type_name(entries)}, not an array"))
        return
    suppliers_1_0 = name != "awards"
    for entry in entries:
        if type(entry) is not dict:
            problems.append((WarningKind.WRONG_TYPE, f"{name}[] holds {_type_name(entry)}"))
            return
        _amount(problems, f"{name}[].value", entry.get("value"))
        if not suppliers_1_0:
            suppliers = entry.get("suppliers")
            if type(suppliers) is list and any(
                type(s) is dict and "id" not in s for s in suppliers
            ):
                suppliers_1_0 = True
                problems.append(
                    (WarningKind.OCDS_1_0_FORM, "awards[].suppliers[] without id (OCDS 1.0)")
                )
