"""Pre-departure information for people going to work in another country.

The wording is reviewed content kept as one YAML file per language in ``predeparture/``; this
module loads and checks those files and fills them with a country's profile. Nothing here
generates text: sentences are the translators' own, with the profile's facts in placeholders.
"""

from __future__ import annotations

import functools
import gettext
import re
import string
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pycountry
import yaml

from tipaudit.core.indicators import load_taxonomy
from tipaudit.errors import NotFoundError, ValidationError
from tipaudit.refdata.profiles import CountryProfile

DEFAULT_LANGUAGE = "en"
_LANG_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


@dataclass(frozen=True)
class Contact:
    """Someone a worker abroad can turn to, entered by staff for one destination."""

    kind: str
    name: str
    phone: str = ""
    email: str = ""
    website: str = ""
    hours: str = ""
    notes: str = ""


def _folder() -> Path:
    return Path(str(resources.files("tipaudit.refdata") / "predeparture"))


def available_languages() -> tuple[str, ...]:
    """Language codes that have a content file, English first."""
    codes = sorted(p.stem for p in _folder().glob("*.yaml"))
    return tuple(sorted(codes, key=lambda c: (c != DEFAULT_LANGUAGE, c)))


def _placeholders(value: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(value, str):
        found |= {name for _, name, _, _ in string.Formatter().parse(value) if name}
    elif isinstance(value, dict):
        for item in value.values():
            found |= _placeholders(item)
    elif isinstance(value, list):
        for item in value:
            found |= _placeholders(item)
    return found


def _shape(value: Any) -> Any:
    """The structure of a content file without its wording, to compare languages."""
    if isinstance(value, dict):
        return {
            key: _shape(item)
            for key, item in value.items()
            if key not in {"review", "country_names"}
        }
    if isinstance(value, list):
        return [_shape(item) for item in value]
    return type(value).__name__


def _load_file(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ValidationError(f"{path.name}: cannot read pre-departure content: {exc}") from exc
    if not isinstance(data, dict):
        raise ValidationError(f"{path.name}: pre-departure content must be a mapping")
    return data


@functools.cache
def load_content(language: str = DEFAULT_LANGUAGE) -> dict[str, Any]:
    """The content for ``language``, checked against the English file."""
    if not _LANG_RE.match(language):
        raise NotFoundError(f"no pre-departure information in language {language[:20]!r}")
    path = _folder() / f"{language}.yaml"
    if not path.exists():
        known = ", ".join(available_languages())
        raise NotFoundError(f"no pre-departure information in {language!r}; available: {known}")
    content = _load_file(path)
    reference = _load_file(_folder() / f"{DEFAULT_LANGUAGE}.yaml")
    if _shape(content) != _shape(reference):
        raise ValidationError(f"{path.name}: its keys differ from {DEFAULT_LANGUAGE}.yaml")
    for key in reference:
        if _placeholders(reference[key]) != _placeholders(content.get(key)):
            raise ValidationError(f"{path.name}: the placeholders of {key!r} differ from English")
    taxonomy = load_taxonomy()
    for sign in content["signs"]:
        taxonomy.get(sign["code"])  # every warning sign cites a known indicator
    return content


@functools.cache
def localized_country_name(alpha3: str, fallback: str, language: str) -> str:
    """The country's name in ``language`` from pycountry's ISO 3166 translations."""
    if language == DEFAULT_LANGUAGE:
        return fallback
    record = pycountry.countries.get(alpha_3=alpha3)
    if record is None:
        return fallback
    try:
        translation = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language])
    except OSError:
        return fallback
    translated = translation.gettext(getattr(record, "common_name", record.name))
    if translated == getattr(record, "common_name", record.name):
        translated = translation.gettext(record.name)
    return translated or fallback


def _number(value: float, language: str) -> str:
    text = f"{value:.1f}"
    return (
        text.replace(".", ",") if language in {"es", "fr", "pt", "de", "ro", "uk", "ru"} else text
    )


def _join(items: list[str], language: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    last = {"es": " y "}.get(language, " and ")
    return ", ".join(items[:-1]) + last + items[-1]


def page_context(profile: CountryProfile, language: str, contacts: list[Contact]) -> dict[str, Any]:
    """The filled-in sentences and lists for one destination in one language."""
    content = load_content(language)
    name = (content.get("country_names") or {}).get(
        profile.country.alpha3
    ) or localized_country_name(profile.country.alpha3, profile.country.name, language)
    facts: list[str] = []
    edition = profile.goods_source.edition
    forced = sorted({g.good for g in profile.forced_labour_goods}, key=str.casefold)
    child = sorted({g.good for g in profile.child_labour_goods}, key=str.casefold)
    if forced:
        facts.append(
            content["goods_forced"].format(
                country=name, edition=edition, goods=_join(forced, language)
            )
        )
    if child:
        facts.append(
            content["goods_child"].format(
                country=name, edition=edition, goods=_join(child, language)
            )
        )
    if not forced and not child:
        facts.append(content["goods_none"].format(country=name, edition=edition))
    gsi_year = profile.gsi_source.edition
    if profile.gsi is not None and profile.gsi.prevalence_per_1000 is not None:
        facts.append(
            content["gsi_prevalence"].format(
                prevalence=_number(profile.gsi.prevalence_per_1000, language),
                country=name,
                year=gsi_year,
            )
        )
    else:
        facts.append(content["gsi_missing"].format(country=name, year=gsi_year))
    latest = profile.latest_tier
    if latest is not None and latest.tier is not None:
        label = content["tier_labels"].get(latest.tier.value, latest.tier.value)
        facts.append(content["tier"].format(year=latest.report_year, country=name, tier=label))
    else:
        facts.append(content["tier_missing"].format(country=name))
    return {
        "country_name": name,
        "content": content,
        "language": language,
        "title": content["title"].format(country=name),
        "intro": content["intro"].format(country=name),
        "risks_heading": content["risks_heading"].format(country=name),
        "facts": facts,
        "help_none": content["help_none"].format(country=name),
        "contacts": contacts,
        "sources": [
            profile.goods_source.citation,
            profile.gsi_source.citation,
            profile.tiers_source.citation,
        ],
    }
