"""The OCDS merge routine: releases of one ``ocid`` into a compiled release.

This follows the merge routine of the OCDS 1.1 documentation ("Merging") and matches the
reference implementation ``ocdsmerge`` (0.8) on real data, with plain dict and list operations
instead of flattening to path tuples:

* releases are ordered by ``date`` (a stable sort on the string, as ``ocdsmerge`` does; a
  release without a string ``date`` sorts first);
* ``omitWhenMerged`` fields (``id``, ``date``, ``tag``) are dropped; the compiled release gets
  ``tag: ["compiled"]``, ``date`` = the latest release's date and ``id`` = ``{ocid}-{date}``;
* objects are merged field by field; ``null`` removes the field; an empty object or array in a
  release changes nothing;
* arrays of objects are merged by ``id`` (compared as text, so ``1`` and ``"1"`` match, as in
  ``ocdsmerge``); an object without ``id`` is appended; objects sharing an ``id`` inside one
  release are merged into one (``duplicate_array_id``);
* ``wholeListMerge`` arrays and arrays holding anything but objects replace the earlier value.

OCDS 1.0 data is merged with the same rules (1.0 did not define identifier merge; treating its
arrays of objects by ``id`` is what ``ocdsmerge`` does with the 1.1 schema and keeps the
parties, awards and contracts of successive releases apart).

One deliberate difference from ``ocdsmerge``: a ``null`` that replaces an object or an array
removes it with everything below, as the OCDS documentation says ("If the field in input has a
value of null, remove the field from the object in output"); ``ocdsmerge`` only drops leaf values
in that case. The merge rules come from ``merge_rules.json`` (derived from the OCDS 1.1.5
release schema; see :meth:`MergeRules.from_schema` to use an extended schema instead).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Final, TypeAlias

__all__ = ["MergeRules", "compile_releases", "release_sort_key"]

OMIT: Final = 1
WHOLE: Final = 2

RuleTree: TypeAlias = dict[str, "int | RuleTree"]
JSONObject: TypeAlias = dict[str, Any]

_RULES_RESOURCE = "merge_rules.json"
_MISSING: Final = object()
_MAX_SCHEMA_DEPTH = 64


@dataclass(frozen=True, slots=True)
class MergeRules:
    """``omitWhenMerged`` and ``wholeListMerge`` paths, as a tree keyed by field name.

    Paths are field names joined by ``/`` without array positions, e.g.
    ``tender/items/additionalClassifications``.
    """

    omit_when_merged: frozenset[str]
    whole_list_merge: frozenset[str]
    source: str = "custom"
    tree: RuleTree = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        tree: RuleTree = {}
        for path, rule in [(p, WHOLE) for p in self.whole_list_merge] + [
            (p, OMIT) for p in self.omit_when_merged
        ]:
            _insert(tree, path.split("/"), rule)
        # ``tag`` describes one release: never carried into a compiled release (``ocdsmerge``
        # drops it whatever the schema says; OCDS before 1.1.4 did not mark it).
        tree["tag"] = OMIT
        object.__setattr__(self, "tree", tree)

    @classmethod
    def default(cls) -> MergeRules:
        """The rules of OCDS 1.1.5, shipped as ``merge_rules.json``."""
        return _default_rules()

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, source: str = "custom") -> MergeRules:
        return cls(
            omit_when_merged=frozenset(data["omitWhenMerged"]),
            whole_list_merge=frozenset(data["wholeListMerge"]),
            source=source,
        )

    @classmethod
    def from_schema(cls, schema: Mapping[str, Any], *, source: str = "schema") -> MergeRules:
        """Derive the rules from a release schema (JSON Schema with local ``$ref`` only).

        The same walk as ``ocdsmerge.rules.get_merge_rules``: ``omitWhenMerged`` (or the OCDS
        1.0 ``mergeStrategy: ocdsOmit``) wins; an array with ``wholeListMerge`` (or
        ``mergeStrategy: ocdsVersion``), an array of non-objects, or an array of objects whose
        items declare no ``id`` is merged whole; objects and id-keyed arrays are walked into.
        """
        omit: set[str] = set()
        whole: set[str] = set()
        properties = _resolve(schema, schema.get("properties", {}))
        _walk_schema(schema, properties, (), omit, whole, 0)
        return cls(
            omit_when_merged=frozenset(omit), whole_list_merge=frozenset(whole), source=source
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "omitWhenMerged": sorted(self.omit_when_merged),
            "wholeListMerge": sorted(self.whole_list_merge),
        }


@functools.cache
def _default_rules() -> MergeRules:
    text = resources.files(__package__).joinpath(_RULES_RESOURCE).read_text(encoding="utf-8")
    data = json.loads(text)
    return MergeRules.from_json(data, source=str(data.get("schema", _RULES_RESOURCE)))


def _insert(tree: RuleTree, parts: list[str], rule: int) -> None:
    node = tree
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = rule


def _resolve(schema: Mapping[str, Any], node: Any) -> Any:
    seen = 0
    while isinstance(node, Mapping) and "$ref" in node:
        ref = node["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/"):
            raise ValueError(f"only local $ref are supported, not {ref!r}")
        target: Any = schema
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
        seen += 1
        if seen > _MAX_SCHEMA_DEPTH:
            raise ValueError(f"$ref loop at {ref!r}")
    return node


def _types(prop: Mapping[str, Any]) -> list[str]:
    value = prop.get("type")
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _walk_schema(
    schema: Mapping[str, Any],
    properties: Mapping[str, Any],
    path: tuple[str, ...],
    omit: set[str],
    whole: set[str],
    depth: int,
) -> None:
    if depth > _MAX_SCHEMA_DEPTH:
        raise ValueError("release schema nested too deeply (a $ref cycle?)")
    for key, raw in properties.items():
        value = _resolve(schema, raw)
        new_path = (*path, key)
        joined = "/".join(new_path)
        types = _types(value)
        if value.get("omitWhenMerged") or value.get("mergeStrategy") == "ocdsOmit":
            omit.add(joined)
        elif "array" in types and (
            value.get("wholeListMerge") or value.get("mergeStrategy") == "ocdsVersion"
        ):
            whole.add(joined)
        elif "object" in types and "properties" in value:
            _walk_schema(
                schema, _resolve(schema, value["properties"]), new_path, omit, whole, depth + 1
            )
        elif "array" in types and "items" in value:
            items = _resolve(schema, value["items"])
            item_types = _types(items)
            if any(t != "object" for t in item_types):
                whole.add(joined)
            elif "object" in item_types and "properties" in items:
                item_properties = _resolve(schema, items["properties"])
                if "id" not in item_properties:
                    whole.add(joined)
                else:
                    _walk_schema(schema, item_properties, new_path, omit, whole, depth + 1)


def release_sort_key(release: Mapping[str, Any]) -> str:
    """The merge order key: the ``date`` text; a missing or non-text date sorts first."""
    date = release.get("date")
    return date if type(date) is str else ""


class MergeNotes:
    """What the merge noticed, for the ingest report (kept tiny: usually nothing)."""

    __slots__ = ("duplicate_ids",)

    def __init__(self) -> None:
        self.duplicate_ids: list[str] = []


def compile_releases(
    releases: Sequence[JSONObject],
    rules: MergeRules | None = None,
    *,
    ocid: str | None = None,
    presorted: bool = False,
    notes: MergeNotes | None = None,
    consume: bool = False,
) -> JSONObject:
    """Merge releases of one contracting process into a compiled release.

    ``releases`` must be non-empty and belong to one ``ocid``. They are not modified unless
    ``consume=True`` (then the earliest is turned into the compiled release in place, which
    is faster: use it for releases parsed for this call only); either way the compiled release
    shares leaf values and whole lists with them. Pass ``presorted=True`` when they are already
    in merge order (see :func:`release_sort_key`).
    """
    if not releases:
        raise ValueError("compile_releases needs at least one release")
    tree = (rules or MergeRules.default()).tree
    ordered: list[JSONObject] = (
        list(releases) if presorted else sorted(releases, key=release_sort_key)
    )
    out: JSONObject = {"tag": ["compiled"], "id": None, "date": None, "ocid": ocid}
    last = ordered[-1]
    final_ocid = last.get("ocid", ocid)
    date = last.get("date")
    if consume:
        first = ordered[0]
        _clean_object(first, tree, notes)
        out.update(first)
        ordered = ordered[1:]
    for release in ordered:
        _merge_object(out, release, tree, notes)
    out["ocid"] = final_ocid
    if date is None:
        del out["date"]
        out["id"] = final_ocid
    else:
        out["date"] = date
        out["id"] = f"{final_ocid}-{date}" if type(date) is str else final_ocid
    if out["ocid"] is None:
        del out["ocid"]
    return out


def _merge_object(  # noqa: PLR0912 - the hot loop of the merge, kept in one piece for speed
    out: JSONObject, src: JSONObject, rules: RuleTree | None, notes: MergeNotes | None
) -> bool:
    """Merge ``src`` into ``out``; True when ``src`` set or removed anything (even ``null``)."""
    touched = False
    for key, value in src.items():
        rule = rules.get(key) if rules is not None else None
        if type(rule) is int:
            if rule == OMIT:
                continue
            if value is None:
                out.pop(key, None)
            else:
                out[key] = value
            touched = True
            continue
        if value is None:
            out.pop(key, None)
            touched = True
            continue
        kind = type(value)
        if kind is dict:
            if not value:
                continue
            sub = rule if type(rule) is dict else None
            existing = out.get(key)
            if type(existing) is dict:
                if _merge_object(existing, value, sub, notes):
                    touched = True
            else:
                fresh: JSONObject = {}
                if _merge_object(fresh, value, sub, notes):
                    out[key] = fresh
                    touched = True
        elif kind is list:
            if not value:
                continue
            for item in value:
                if type(item) is not dict:
                    out[key] = value
                    touched = True
                    break
            else:
                sub = rule if type(rule) is dict else None
                if _merge_array(out, key, value, sub, notes):
                    touched = True
        else:
            out[key] = value
            touched = True
    return touched


def _merge_array(  # noqa: PLR0912 - hot path, kept in one piece for speed
    out: JSONObject,
    key: str,
    items: list[JSONObject],
    rules: RuleTree | None,
    notes: MergeNotes | None,
) -> bool:
    existing = out.get(key)
    index: dict[str, JSONObject] = {}
    result: list[Any]
    if type(existing) is list:
        result = existing
        for item in existing:
            if type(item) is not dict:
                # An earlier release gave a list of non-objects: this one replaces it.
                result = []
                index.clear()
                break
            if "id" in item:
                raw = item["id"]
                index.setdefault(raw if type(raw) is str else str(raw), item)
    else:
        result = []
    created = result is not existing
    seen: set[str] | None = set() if notes is not None else None
    touched = False
    for item in items:
        if "id" in item:
            raw = item["id"]
            text = raw if type(raw) is str else str(raw)
            if seen is not None:
                if text in seen and notes is not None:
                    notes.duplicate_ids.append(key)
                seen.add(text)
            target = index.get(text)
            if target is None:
                target = {}
                index[text] = target
                result.append(target)
                _merge_object(target, item, rules, notes)
            else:
                first_id = target.get("id", _MISSING)
                _merge_object(target, item, rules, notes)
                if first_id is not _MISSING:
                    target["id"] = first_id
            touched = True
        else:
            target = {}
            if _merge_object(target, item, rules, notes):
                result.append(target)
                touched = True
    if touched and created:
        out[key] = result
    return touched


def _clean_object(  # noqa: PLR0912 - hot path, kept in one piece for speed
    obj: JSONObject, rules: RuleTree | None, notes: MergeNotes | None
) -> bool:
    """Turn ``obj`` in place into what ``_merge_object({}, obj)`` would build; same result."""
    touched = False
    dead: list[str] | None = None
    for key, value in obj.items():
        rule = rules.get(key) if rules is not None else None
        if type(rule) is int:
            if rule == OMIT or value is None:
                if dead is None:
                    dead = []
                dead.append(key)
            if rule != OMIT:
                touched = True
            continue
        if value is None:
            if dead is None:
                dead = []
            dead.append(key)
            touched = True
            continue
        kind = type(value)
        if kind is dict:
            sub = rule if type(rule) is dict else None
            if value and (
                _clean_object(value, sub, notes) if sub is not None else _clean_plain(value, notes)
            ):
                touched = True
            else:
                if dead is None:
                    dead = []
                dead.append(key)
        elif kind is list:
            cleaned = _clean_array(key, value, rule if type(rule) is dict else None, notes)
            if cleaned is None:
                if dead is None:
                    dead = []
                dead.append(key)
            else:
                if cleaned is not value:
                    obj[key] = cleaned  # replacing a value while iterating is allowed
                touched = True
        else:
            touched = True
    if dead is not None:
        for key in dead:
            del obj[key]
    return touched


def _clean_plain(  # noqa: PLR0912 - hot path, kept in one piece for speed
    obj: JSONObject, notes: MergeNotes | None
) -> bool:
    """:func:`_clean_object` where no merge rule applies below: most of a release.

    The same steps with no rule to look up for every key (the merge's hottest loop)."""
    touched = False
    dead: list[str] | None = None
    for key, value in obj.items():
        kind = type(value)
        if kind is dict:
            if value and _clean_plain(value, notes):
                touched = True
            else:
                if dead is None:
                    dead = []
                dead.append(key)
        elif kind is list:
            cleaned = _clean_array(key, value, None, notes)
            if cleaned is None:
                if dead is None:
                    dead = []
                dead.append(key)
            else:
                if cleaned is not value:
                    obj[key] = cleaned  # replacing a value while iterating is allowed
                touched = True
        elif value is None:
            if dead is None:
                dead = []
            dead.append(key)
            touched = True
        else:
            touched = True
    if dead is not None:
        for key in dead:
            del obj[key]
    return touched


def _clean_array(
    key: str, items: list[Any], rules: RuleTree | None, notes: MergeNotes | None
) -> list[Any] | None:
    """The in-place counterpart of ``_merge_array`` into nothing; ``None`` to drop the key."""
    if not items:
        return None
    ids: set[str] = set()
    shared_id = False
    for item in items:
        if type(item) is not dict:
            return items  # a list of values: kept whole
        if "id" in item:
            raw = item["id"]
            text = raw if type(raw) is str else str(raw)
            if text in ids:
                shared_id = True
            ids.add(text)
    if shared_id:
        # Objects sharing an id in one release: build it the merging way.
        fresh: JSONObject = {}
        _merge_array(fresh, key, items, rules, notes)
        return fresh.get(key)
    keep: list[Any] | None = None
    for i, item in enumerate(items):
        has_id = "id" in item
        # An object with an id always stays; one without stays if anything in it was set.
        set_any = (
            _clean_object(item, rules, notes) if rules is not None else _clean_plain(item, notes)
        )
        if set_any or has_id:
            if keep is not None:
                keep.append(item)
        elif keep is None:
            keep = items[:i]
    if keep is None:
        return items
    return keep or None
