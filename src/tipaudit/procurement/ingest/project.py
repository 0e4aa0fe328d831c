"""Dropping the fields a run never reads: smaller releases to hold, parse again and merge.

A screening run reads a few dozen fields of each compiled release and none of its documents,
milestones, contract implementation, planning or bids, which are over a third of a typical
release's bytes. Every release is held on disk until all input is read and is parsed again to
be merged, so those fields are dropped once, when the release is read.

Dropping fields must not change the compiled release in any other field, nor whether an object
exists (an award that has only documents still counts as an award). So a dropped field is
replaced, not just removed, by a *stand-in* that the merge treats the same way:

* ``None`` where the release has ``null`` (it removes what earlier releases set there);
* ``1`` where the value would set something in the merge (a scalar, an object or array with
  something in it, any value of a ``wholeListMerge`` field);
* nothing where the value would change nothing in the merge (an empty object or array, objects
  with nothing set, an ``omitWhenMerged`` field).

A publisher's compiled release is used as published, not merged: each of its dropped fields
becomes ``1``, so an object is empty exactly when it was.

The dropped values are kept as they were, apart (see :meth:`Projection.drop`): two releases with
the same ``ocid`` and ``id`` are identical only if what is kept and what was dropped are both
equal, so duplicates and conflicts are told apart as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

from tipaudit.procurement.ingest.merge import OMIT, JSONObject, MergeRules, RuleTree

__all__ = ["FieldSpec", "Projection"]

#: Field name -> ``None`` (drop the field) or the fields to drop in the object, or in each
#: object of the array, found there.
FieldSpec: TypeAlias = Mapping[str, "FieldSpec | None"]


class Projection:
    """Drops the fields of ``spec`` from releases, in place, leaving stand-ins."""

    __slots__ = ("_spec", "_tree")

    def __init__(self, spec: FieldSpec, rules: MergeRules | None = None) -> None:
        self._spec = spec
        self._tree = (rules or MergeRules.default()).tree

    def drop(self, release: JSONObject, *, published: bool = False) -> JSONObject:
        """Drop the fields from ``release`` (changed in place); what was dropped.

        The result mirrors the release's shape (objects, and arrays as lists of per-item
        results) and is ``{}`` when nothing was there to drop. ``published`` is for a
        publisher's compiled release (see the module's notes).
        """
        dropped: JSONObject = {}
        _drop(release, self._spec, self._tree, dropped, published)
        return dropped


def _drop(
    obj: JSONObject,
    spec: FieldSpec,
    rules: RuleTree | None,
    dropped: JSONObject,
    published: bool,
) -> None:
    for key, sub in spec.items():
        if key not in obj:
            continue
        value = obj[key]
        rule = rules.get(key) if rules is not None else None
        if sub is not None:
            sub_rules = rule if type(rule) is dict else None
            kind = type(value)
            if kind is dict:
                inner: JSONObject = {}
                _drop(value, sub, sub_rules, inner, published)
                if inner:
                    dropped[key] = inner
            elif kind is list:
                inners: list[JSONObject] = []
                found = False
                for item in value:
                    inner = {}
                    if type(item) is dict:
                        _drop(item, sub, sub_rules, inner, published)
                        found = found or bool(inner)
                    inners.append(inner)
                if found:
                    dropped[key] = inners
            continue
        dropped[key] = value
        stand_in = _stand_in(value, rule, published)
        if stand_in is _NOTHING:
            del obj[key]
        else:
            obj[key] = stand_in


_NOTHING: Any = object()


def _stand_in(value: Any, rule: int | RuleTree | None, published: bool) -> Any:
    if published:
        return 1
    if type(rule) is int:
        if rule == OMIT:
            return _NOTHING
        return None if value is None else 1
    if value is None:
        return None
    return 1 if _sets_something(value, rule if type(rule) is dict else None) else _NOTHING


def _sets_something(value: Any, rules: RuleTree | None) -> bool:
    """Whether merging ``value`` (not ``None``) into nothing would set or remove anything.

    The decisions of ``merge._merge_object`` and ``merge._merge_array``, without building
    anything.
    """
    kind = type(value)
    if kind is dict:
        return _object_sets_something(value, rules)
    if kind is not list:
        return True
    if not value:
        return False
    first = value[0]
    if type(first) is not dict or "id" in first:
        return True  # (the usual case) whatever the other items are, something is set
    if any(type(item) is not dict for item in value):
        return True  # a list of values replaces whatever was there
    return any("id" in item or _object_sets_something(item, rules) for item in value)


def _object_sets_something(obj: JSONObject, rules: RuleTree | None) -> bool:
    for key, value in obj.items():
        rule = rules.get(key) if rules is not None else None
        if type(rule) is int:
            if rule != OMIT:
                return True
            continue
        if value is None or _sets_something(value, rule if type(rule) is dict else None):
            return True
    return False
