"""Wording of the public report pages, one YAML file per language in ``locales/``.

A language is added by dropping ``<code>.yaml`` into the folder (no code change); keys missing
from a translation fall back to English, and the form's indicator wording comes from the
indicator taxonomy.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

__all__ = ["DEFAULT_LANGUAGE", "Locale", "available_languages", "choose_language", "load_locale"]

DEFAULT_LANGUAGE = "en"
_CODE = re.compile(r"[a-z]{2,3}")
_MAX_FILE_BYTES = 200_000


@functools.cache
def available_languages() -> tuple[str, ...]:
    """Codes of the languages with a locale file, English first."""
    folder = resources.files("tipaudit.reports") / "locales"
    codes = sorted(
        entry.name.removesuffix(".yaml")
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml") and _CODE.fullmatch(entry.name.removesuffix(".yaml"))
    )
    return tuple(sorted(codes, key=lambda code: code != DEFAULT_LANGUAGE))


def _read(code: str) -> Mapping[str, Any]:
    raw = (resources.files("tipaudit.reports") / "locales" / f"{code}.yaml").read_bytes()
    if len(raw) > _MAX_FILE_BYTES:
        raise RuntimeError(f"locale file {code}.yaml is too large")  # pragma: no cover
    data = yaml.safe_load(raw)
    if not isinstance(data, dict):
        raise TypeError(f"locale file {code}.yaml is not a mapping")  # pragma: no cover
    return data


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), Mapping):
            merged[key] = _merge(base[key], value)
        else:
            merged[key] = value
    return merged


@dataclass(frozen=True)
class Locale:
    code: str
    strings: Mapping[str, Any]

    def __call__(self, key: str, **values: object) -> str:
        """The text for ``key`` (dotted for nested keys), with ``{name}`` values filled in."""
        node: Any = self.strings
        for part in key.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return key
            node = node[part]
        text = str(node)
        return text.format(**values) if values else text

    def get(self, key: str) -> Any:
        node: Any = self.strings
        for part in key.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return None
            node = node[part]
        return node


@functools.cache
def load_locale(code: str) -> Locale:
    """The locale for ``code`` (English when there is no file for it)."""
    english = _read(DEFAULT_LANGUAGE)
    if code == DEFAULT_LANGUAGE or code not in available_languages():
        return Locale(DEFAULT_LANGUAGE, english)
    return Locale(code, _merge(english, _read(code)))


def choose_language(requested: str | None, accept_language: str | None = None) -> str:
    """The language to show: an explicit choice, else the browser's preference, else English."""
    languages = available_languages()
    if requested and requested.lower() in languages:
        return requested.lower()
    for part in (accept_language or "")[:200].split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in languages:
            return code
    return DEFAULT_LANGUAGE
