"""``POST /match/{dataset}``: yente's matching API, answered by tipaudit's in-process matcher.

Existing yente clients work unchanged: the request is ``{"queries": {key: {"schema",
"properties"}}}`` with yente's query parameters, the answer ``{"responses": {key: {"status",
"results", "total", "query"}}, "matcher", "limit"}``. Every result carries its score, the
``match`` flag, the score of each feature (``features``) and, beyond yente, the reason of each
feature in words (``explanations``). See ``docs/entity-matching.md``.

``dataset`` is a watchlist slug, or ``default``/``all`` for every list. Entries of an
allegations register only count when their status is credible or substantiated
(:data:`ALLEGATION_STATUS_HOOK`). The match index of a dataset is built once per list version
and kept in the app (:class:`IndexCache`); re-importing a list gives it a new version, and the
next request rebuilds the index.

Errors are JSON ``{"detail": "...", "error": {"code", "message"}}`` (yente's ``detail`` plus
tipaudit's ``error``) with a 4xx status; no user input leads to a 500.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from tipaudit.core.roles import Permission
from tipaudit.errors import (
    AuthenticationError,
    NotFoundError,
    TipAuditError,
    ValidationError,
)
from tipaudit.screening import DEFAULT_THRESHOLD, FEATURES, ListEntity, MatchIndex, Query, Scorer
from tipaudit.screening.ftm import entity_properties, query_example, query_from_example
from tipaudit.screening.scoring import Feature, score_candidates, warm_up
from tipaudit.services.accounts import StaffUser
from tipaudit.services.container import Services
from tipaudit.storage.watchlists import Watchlist, WatchlistEntry, WatchlistVersion
from tipaudit.web.deps import api_user, get_services

router = APIRouter(tags=["matching"])

#: The permission a caller needs: matching tests names against the lists (a screening act).
MATCH_PERMISSION = Permission.ENTITIES_SCREEN

#: yente's limits and defaults: results per query, queries per request, excluded ids.
DEFAULT_LIMIT = 5
MAX_LIMIT = 500
MAX_QUERIES = 100
MAX_EXCLUDED_IDS = 50
#: Results scoring below this are not returned at all (unless ``cutoff`` says otherwise).
DEFAULT_CUTOFF = 0.5
#: A request body larger than this is refused with 413 before it is parsed.
MAX_BODY_BYTES = 2 * 1024 * 1024
#: Candidates scored per query: yente asks its search index for limit x 10 (at least 20).
CANDIDATE_FACTOR = 10

#: yente's algorithm names. All are answered by tipaudit's scorer (``tipaudit-v1``); the
#: name is accepted so that clients that send it keep working.
ALGORITHMS = (
    "best",
    "logic-v2",
    "logic-v1",
    "name-based",
    "name-qualified",
    "regression-v1",
    "ofac",
    "er-unstable",
    "tipaudit-v1",
)
ALGORITHM_NAME = "tipaudit-v1"
#: Query parameters accepted for compatibility that have no effect here (see the docs).
IGNORED_PARAMETERS = ("topics", "changed_since", "facets")
ALL_DATASETS = frozenset({"default", "all"})
#: Statuses of an allegation that count against an entity.
COUNTING_STATUSES = frozenset({"credible", "substantiated"})

_TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$"
)
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")

#: The allegations-register hook: ``(services, slug) -> {entity id: status}`` for the entries
#: of an allegations list, or ``None`` when the status is not known. Only entries whose status
#: is in :data:`COUNTING_STATUSES` are matched. When the status is unknown, the register is
#: left out of ``default``/``all`` and only matched when asked for by its slug.
AllegationStatusHook = Callable[[Services, str], Mapping[str, str] | None]


#: The slug of the register kept by ``services.allegations`` (its entries carry a status).
REGISTER_SLUG = "allegations"


def _allegation_statuses(services: Services, slug: str) -> Mapping[str, str] | None:
    """The default hook: the statuses of the allegations register (``services.allegations``);
    unknown (``None``) for any other list of kind ``allegations``."""
    register = getattr(services, "allegations", None)
    statuses = getattr(register, "statuses", None)
    if slug == REGISTER_SLUG and callable(statuses):
        result = statuses()
        if isinstance(result, Mapping):
            return {str(k): str(v) for k, v in result.items()}
    return None


ALLEGATION_STATUS_HOOK: AllegationStatusHook = _allegation_statuses


class MatchRequestError(ValidationError):
    """A malformed /match request: 400, as yente answers."""

    code = "invalid_match_request"
    status = 400


class BodyTooLargeError(ValidationError):
    """A request body over :data:`MAX_BODY_BYTES`."""

    code = "too_large"
    status = 413


# --- the index cache --------------------------------------------------------------------------


@dataclass(frozen=True)
class ListInfo:
    """A watchlist as the matcher needs it: slug, kind, title and newest version id."""

    slug: str
    kind: str
    title: str
    version_id: int
    version_date: str


@dataclass(frozen=True)
class DatasetIndex:
    """A built index with the dates of its entries and the lists it covers."""

    fingerprint: tuple[tuple[str, int, str], ...]
    index: MatchIndex
    seen: Mapping[str, tuple[datetime | None, datetime | None]]
    lists: tuple[str, ...]
    excluded_unreviewed: int


def current_lists(services: Services) -> list[ListInfo]:
    """Every list with its newest version (one query: cheap enough for every request)."""
    with services.db.read() as session:
        newest = (
            select(
                WatchlistVersion.watchlist_id,
                func.max(WatchlistVersion.id).label("version_id"),
            )
            .group_by(WatchlistVersion.watchlist_id)
            .subquery()
        )
        rows = session.execute(
            select(
                Watchlist.slug,
                Watchlist.kind,
                Watchlist.title,
                newest.c.version_id,
                WatchlistVersion.version_date,
            )
            .join(newest, newest.c.watchlist_id == Watchlist.id)
            .join(WatchlistVersion, WatchlistVersion.id == newest.c.version_id)
            .order_by(Watchlist.slug)
        ).all()
    return [
        ListInfo(slug, kind, title, int(version), str(version_date))
        for slug, kind, title, version, version_date in rows
    ]


def _seen_dates(
    services: Services, slugs: Iterable[str]
) -> dict[tuple[str, str], tuple[datetime | None, datetime | None]]:
    """``(slug, entity id) -> (first seen, last seen)``: import times of the first and newest
    version that had the entry."""
    first = WatchlistVersion.__table__.alias("first_version")
    last = WatchlistVersion.__table__.alias("last_version")
    with services.db.read() as session:
        rows = session.execute(
            select(
                Watchlist.slug, WatchlistEntry.entity_id, first.c.imported_at, last.c.imported_at
            )
            .join(Watchlist, Watchlist.id == WatchlistEntry.watchlist_id)
            .join(first, first.c.id == WatchlistEntry.first_version_id)
            .join(last, last.c.id == WatchlistEntry.last_version_id)
            .where(Watchlist.slug.in_(list(slugs)))
            .where(WatchlistEntry.removed_in_version_id.is_(None))
        ).all()
    return {(slug, entity_id): (f, la) for slug, entity_id, f, la in rows}


class IndexCache:
    """Match indexes by dataset, rebuilt when a list gets a new version."""

    def __init__(self, hook: AllegationStatusHook | None = None) -> None:
        self._lock = threading.Lock()
        self._indexes: dict[str, DatasetIndex] = {}
        self._hook = hook

    def get(self, services: Services, dataset: str) -> DatasetIndex:
        """The index of ``dataset`` (a slug, ``default`` or ``all``), built if stale."""
        lists = current_lists(services)
        if dataset in ALL_DATASETS:
            chosen = lists
        else:
            chosen = [info for info in lists if info.slug == dataset]
            if not chosen:
                known = ", ".join(["default", *(i.slug for i in lists)])
                raise NotFoundError(f"no dataset {dataset[:70]!r}; known: {known[:500]}")
        hook = self._hook or ALLEGATION_STATUS_HOOK
        statuses = {
            info.slug: hook(services, info.slug) for info in chosen if info.kind == "allegations"
        }
        # A status change creates no list version: the statuses are part of the fingerprint.
        fingerprint = tuple(
            (info.slug, info.version_id, _digest(statuses.get(info.slug))) for info in chosen
        )
        cached = self._indexes.get(dataset)
        if cached is not None and cached.fingerprint == fingerprint:
            return cached
        with self._lock:
            cached = self._indexes.get(dataset)
            if cached is not None and cached.fingerprint == fingerprint:
                return cached
            built = self._build(services, dataset, chosen, fingerprint, statuses)
            self._indexes[dataset] = built
            return built

    def _build(
        self,
        services: Services,
        dataset: str,
        chosen: list[ListInfo],
        fingerprint: tuple[tuple[str, int, str], ...],
        statuses_by_list: Mapping[str, Mapping[str, str] | None],
    ) -> DatasetIndex:
        warm_up()
        entities: list[ListEntity] = []
        used: set[str] = set()
        included: list[str] = []
        excluded = 0
        seen_raw = _seen_dates(services, (info.slug for info in chosen))
        seen: dict[str, tuple[datetime | None, datetime | None]] = {}
        for info in chosen:
            entries = services.watchlists.entries(info.slug)
            if info.kind == "allegations":
                statuses = statuses_by_list.get(info.slug)
                if statuses is None:
                    if dataset in ALL_DATASETS:
                        excluded += len(entries)
                        continue
                else:
                    kept = [
                        e for e in entries if statuses.get(e.id, "").casefold() in COUNTING_STATUSES
                    ]
                    excluded += len(entries) - len(kept)
                    entries = kept
            included.append(info.slug)
            for entry in entries:
                entity = (
                    entry if entry.id not in used else replace(entry, id=f"{info.slug}:{entry.id}")
                )
                used.add(entity.id)
                entities.append(entity)
                seen[entity.id] = seen_raw.get((info.slug, entry.id), (None, None))
        return DatasetIndex(fingerprint, MatchIndex(entities), seen, tuple(included), excluded)

    def clear(self) -> None:
        """Forget every index (the next request rebuilds)."""
        with self._lock:
            self._indexes.clear()


def _digest(statuses: Mapping[str, str] | None) -> str:
    if statuses is None:
        return ""
    text = json.dumps(sorted(statuses.items()), separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def index_cache(request: Request) -> IndexCache:
    """The app's index cache, created on first use."""
    state = request.app.state
    cache = getattr(state, "match_index_cache", None)
    if cache is None:
        with _CACHE_LOCK:
            cache = getattr(state, "match_index_cache", None)
            if cache is None:
                cache = IndexCache()
                state.match_index_cache = cache
    return cache


_CACHE_LOCK = threading.Lock()


# --- parsing the request ----------------------------------------------------------------------


@dataclass(frozen=True)
class MatchParameters:
    """The query parameters of one /match request, checked."""

    limit: int
    threshold: float
    cutoff: float
    algorithm: str
    exclude_entity_ids: frozenset[str]
    exclude_schema: frozenset[str]
    include_dataset: frozenset[str]
    exclude_dataset: frozenset[str]
    ignored: tuple[str, ...]


def _one(params: Any, name: str) -> str | None:
    values = params.getlist(name)
    if len(values) > 1:
        raise MatchRequestError(f"{name}: give it once")
    return values[0] if values else None


def _number(params: Any, name: str, default: float, low: float, high: float) -> float:
    raw = _one(params, name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise MatchRequestError(f"{name}: {raw[:30]!r} is not a number") from None
    if math.isnan(value) or not low <= value <= high:
        raise MatchRequestError(f"{name}: must be between {low:g} and {high:g}")
    return value


def _many(params: Any, name: str, limit: int = 200) -> frozenset[str]:
    values = [v.strip() for v in params.getlist(name) if v.strip()]
    if len(values) > limit:
        raise MatchRequestError(f"{name}: at most {limit} values")
    if any(len(v) > 300 for v in values):
        raise MatchRequestError(f"{name}: a value may have at most 300 characters")
    return frozenset(values)


def parse_parameters(params: Any) -> MatchParameters:
    """Check yente's query parameters; a bad one raises :class:`MatchRequestError`."""
    raw_limit = _one(params, "limit")
    limit = DEFAULT_LIMIT
    if raw_limit not in (None, ""):
        assert raw_limit is not None
        if not raw_limit.strip().isdigit():
            raise MatchRequestError(f"limit: {raw_limit[:30]!r} is not a whole number")
        limit = int(raw_limit.strip()[:6])
        if not 1 <= limit <= MAX_LIMIT:
            raise MatchRequestError(f"limit: must be between 1 and {MAX_LIMIT}")
    threshold = _number(params, "threshold", DEFAULT_THRESHOLD, 0.0, 1.0)
    cutoff = min(_number(params, "cutoff", DEFAULT_CUTOFF, 0.0, 1.0), threshold)
    algorithm = (_one(params, "algorithm") or "best").strip()
    if algorithm.casefold() not in ALGORITHMS:
        raise MatchRequestError(
            f"algorithm: {algorithm[:40]!r} is not known; use one of {', '.join(ALGORITHMS)} "
            f"(all are answered by {ALGORITHM_NAME})"
        )
    changed_since = _one(params, "changed_since")
    if changed_since and not _TIMESTAMP.match(changed_since):
        raise MatchRequestError("changed_since: use an ISO date or timestamp")
    ignored = tuple(name for name in IGNORED_PARAMETERS if params.getlist(name))
    return MatchParameters(
        limit=limit,
        threshold=threshold,
        cutoff=cutoff,
        algorithm=algorithm.casefold(),
        exclude_entity_ids=_many(params, "exclude_entity_ids", MAX_EXCLUDED_IDS),
        exclude_schema=_many(params, "exclude_schema"),
        include_dataset=_many(params, "include_dataset"),
        exclude_dataset=_many(params, "exclude_dataset"),
        ignored=ignored,
    )


def parse_body(
    raw: bytes, warnings: dict[str, list[str]] | None = None
) -> tuple[dict[str, Query], dict[str, str], tuple[Feature, ...]]:
    """The queries (by key), their FtM schema names, and the features with yente ``weights``.

    Values dropped while reading a query (a birth date that is not a date, an unknown
    country) are listed in ``warnings`` under the query's key.
    """
    if not raw.strip():
        raise MatchRequestError('the body is empty; send {"queries": {...}}')
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MatchRequestError(f"the body is not valid JSON: {str(exc)[:120]}") from None
    except RecursionError:
        raise MatchRequestError("the body is nested too deeply") from None
    if not isinstance(body, dict):
        raise MatchRequestError("the body must be a JSON object with 'queries'")
    queries = body.get("queries")
    if not isinstance(queries, dict):
        raise MatchRequestError("queries: must be an object of example entities keyed by id")
    if not queries:
        raise MatchRequestError("queries: no queries provided")
    if len(queries) > MAX_QUERIES:
        raise MatchRequestError(f"queries: too many in one batch (limit: {MAX_QUERIES})")
    config = body.get("config")
    if config not in (None, {}):
        raise MatchRequestError("config: this matcher takes no configuration parameters")
    features = _weighted_features(body.get("weights"))
    parsed: dict[str, Query] = {}
    schemas: dict[str, str] = {}
    for key, example in queries.items():
        if len(key) > 200:
            raise MatchRequestError("queries: a key may have at most 200 characters")
        try:
            notes: list[str] = []
            parsed[key] = query_from_example(key, example, notes)
            if notes and warnings is not None:
                warnings[key] = notes
        except ValidationError as exc:
            raise MatchRequestError(exc.message) from None
        schemas[key] = str(example["schema"])
    return parsed, schemas, features


def _weighted_features(weights: object) -> tuple[Feature, ...]:
    """:data:`FEATURES` with yente-style ``weights`` (feature name -> coefficient) applied."""
    if weights in (None, {}):
        return FEATURES
    if not isinstance(weights, dict):
        raise MatchRequestError("weights: must be an object of feature name -> number")
    by_name = {f.name: f for f in FEATURES}
    for name, value in weights.items():
        if name not in by_name:
            raise MatchRequestError(
                f"weights: {str(name)[:40]!r} is not a feature; use {', '.join(by_name)}"
            )
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            raise MatchRequestError(f"weights.{name}: must be a number")
        if abs(value) > 10:
            raise MatchRequestError(f"weights.{name}: must be between -10 and 10")
    return tuple(replace(f, weight=float(weights.get(f.name, f.weight))) for f in FEATURES)


# --- answering --------------------------------------------------------------------------------


def matcher_docs(features: tuple[Feature, ...] = FEATURES) -> dict[str, dict[str, Any]]:
    """yente's ``matcher`` block: every feature with its description and coefficient."""
    return {
        f.name: {"description": f.description, "coefficient": f.weight, "url": None}
        for f in features
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _result(
    built: DatasetIndex, entity: ListEntity, match: Any, threshold: float
) -> dict[str, Any]:
    first, last = built.seen.get(entity.id, (None, None))
    return {
        "id": entity.id,
        "caption": entity.names[0] if entity.names else entity.id,
        "schema": entity.schema,
        "properties": entity_properties(entity),
        "datasets": [entity.list_id] if entity.list_id else [],
        "referents": [],
        "target": True,
        "first_seen": _iso(first),
        "last_seen": _iso(last),
        "last_change": None,
        "score": match.score,
        "match": match.score >= threshold,
        "features": {f.name: round(f.score, 4) for f in match.features if f.score},
        "explanations": {
            f.name: {
                "score": round(f.score, 4),
                "weight": f.weight,
                "contribution": round(f.contribution, 4),
                "detail": f.detail,
            }
            for f in match.features
        },
        "explanation": match.explanation,
    }


def answer(
    built: DatasetIndex,
    queries: dict[str, Query],
    schemas: dict[str, str],
    features: tuple[Feature, ...],
    params: MatchParameters,
) -> dict[str, Any]:
    """Score every query against the dataset's index: yente's response body."""
    scorer = Scorer(threshold=params.threshold, features=features)
    index = built.index
    candidates_wanted = max(20, min(MAX_LIMIT, params.limit * CANDIDATE_FACTOR))
    responses: dict[str, Any] = {}
    for key, query in queries.items():
        candidates = [
            c
            for c in index.candidates(query, limit=candidates_wanted)
            if _allowed(c.entity, params)
        ]
        results = []
        for match in score_candidates(
            index, query, scorer, limit=params.limit, candidates=candidates
        ):
            entity = index.get(match.entity_id)
            if entity is None or match.score < params.cutoff or match.score == 0:
                continue
            results.append((match, entity))
        results.sort(key=lambda item: (-item[0].score, item[1].id))
        responses[key] = {
            "status": 200,
            "results": [_result(built, e, m, params.threshold) for m, e in results[: params.limit]],
            "total": {"value": len(results), "relation": "eq"},
            "query": query_example(query, schemas.get(key)),
        }
    return {
        "responses": responses,
        "matcher": matcher_docs(features),
        "limit": params.limit,
        "algorithm": {"requested": params.algorithm, "used": ALGORITHM_NAME},
        "threshold": params.threshold,
        "datasets": list(built.lists),
    }


def _allowed(entity: ListEntity, params: MatchParameters) -> bool:
    if entity.id in params.exclude_entity_ids:
        return False
    if ":" in entity.id and entity.id.split(":", 1)[1] in params.exclude_entity_ids:
        return False
    if entity.schema in params.exclude_schema:
        return False
    if params.include_dataset and entity.list_id not in params.include_dataset:
        return False
    return entity.list_id not in params.exclude_dataset


def _error(exc: TipAuditError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse(
        {"detail": exc.message, "error": {"code": exc.code, "message": exc.message}},
        status_code=exc.status,
        headers=headers,
    )


def _caller(request: Request) -> StaffUser:
    """A token (``Authorization: Bearer tpa_…`` or yente's ``ApiKey tpa_…``) or a session."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.casefold() == "apikey":
        if not value.strip():
            raise AuthenticationError("use 'Authorization: ApiKey <token>'")
        user = get_services(request).accounts.resolve_token(value.strip())
    else:
        user = api_user(request)
    user.require(MATCH_PERMISSION)
    return user


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BodyTooLargeError(f"the body may have at most {MAX_BODY_BYTES // 1024} KiB")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BodyTooLargeError(f"the body may have at most {MAX_BODY_BYTES // 1024} KiB")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/match/{dataset}",
    summary="Match entities against watchlists (yente-compatible)",
    responses={
        400: {"description": "Malformed query"},
        401: {"description": "Missing or invalid token"},
        403: {"description": "The token's roles do not allow screening"},
        404: {"description": "No such dataset"},
        413: {"description": "Body too large"},
    },
)
async def match(request: Request, dataset: str) -> JSONResponse:
    """Score each example entity in ``queries`` against the lists of ``dataset``."""
    try:
        if not _SLUG.match(dataset):
            raise NotFoundError(f"no dataset {dataset[:70]!r}")
        await run_in_threadpool(_caller, request)
        params = parse_parameters(request.query_params)
        raw = await _read_body(request)
        warnings: dict[str, list[str]] = {}
        queries, schemas, features = parse_body(raw, warnings)
        services = get_services(request)
        cache = index_cache(request)

        def work() -> dict[str, Any]:
            built = cache.get(services, dataset)
            body = answer(built, queries, schemas, features, params)
            for key, notes in warnings.items():
                body["responses"][key]["warnings"] = notes
            return body

        body = await run_in_threadpool(work)
    except TipAuditError as exc:
        return _error(exc)
    headers = {"x-batch-size": str(len(queries))}
    if params.ignored:
        headers["x-tipaudit-ignored-parameters"] = ",".join(params.ignored)
    return JSONResponse(body, headers=headers)


@router.get("/catalog", summary="The datasets /match can use (yente-compatible)")
async def catalog(request: Request) -> JSONResponse:
    """The lists, with ``default`` covering all of them."""
    try:
        await run_in_threadpool(_caller, request)
        lists = await run_in_threadpool(current_lists, get_services(request))
    except TipAuditError as exc:
        return _error(exc)
    datasets = [
        {
            "name": info.slug,
            "title": info.title,
            "kind": info.kind,
            "load": True,
            "version": info.version_date,
            "index_version": str(info.version_id),
            "index_current": True,
            "children": [],
        }
        for info in lists
    ]
    datasets.append(
        {
            "name": "default",
            "title": "All lists",
            "kind": "collection",
            "load": True,
            "version": max((i.version_date for i in lists), default=""),
            "index_version": None,
            "index_current": True,
            "children": [info.slug for info in lists],
        }
    )
    names = [d["name"] for d in datasets]
    return JSONResponse(
        {"datasets": datasets, "current": names, "outdated": [], "index_stale": False}
    )


@router.get("/algorithms", summary="Matching algorithms (yente-compatible)")
async def algorithms() -> JSONResponse:
    """The one scorer, under every name yente clients may ask for."""
    return JSONResponse(
        {
            "algorithms": [
                {
                    "name": ALGORITHM_NAME,
                    "description": "tipaudit's explained scorer",
                    "features": matcher_docs(),
                }
            ],
            "default": ALGORITHM_NAME,
            "best": ALGORITHM_NAME,
            "aliases": list(ALGORITHMS),
        }
    )
