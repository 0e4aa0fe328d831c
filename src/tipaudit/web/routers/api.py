"""The JSON API under ``/api``. Authenticate with ``Authorization: Bearer <token>``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from tipaudit import __version__
from tipaudit.core.indicators import load_taxonomy
from tipaudit.core.roles import Permission
from tipaudit.errors import NotFoundError
from tipaudit.procurement.outputs import register_rows
from tipaudit.refdata.profiles import build_profile, profile_to_dict
from tipaudit.services.accounts import StaffUser
from tipaudit.services.procurement import ProcurementRuns
from tipaudit.web.deps import ApiUser, ServicesDep, api_permission

router = APIRouter(prefix="/api", tags=["api"])


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "Missing, malformed or revoked token"},
    403: {"model": ErrorResponse, "description": "Your roles do not allow this"},
}


class Me(BaseModel):
    username: str
    display_name: str
    roles: list[str]
    permissions: list[str]
    via_token: bool


class UserOut(BaseModel):
    username: str
    display_name: str
    roles: list[str]
    active: bool
    second_factor: bool


class HtcdsOut(BaseModel):
    field: str
    value: str


class IndicatorOut(BaseModel):
    code: str
    kind: str
    name: str
    definition: str
    plain_language: dict[str, str]
    htcds: list[HtcdsOut]


class TaxonomyOut(BaseModel):
    version: str
    indicators: list[IndicatorOut]


class AuditEventOut(BaseModel):
    seq: int
    occurred_at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    reason: str | None
    details: dict[str, object]
    hash: str


class VersionOut(BaseModel):
    name: str = "tipaudit"
    version: str = Field(default=__version__)


@router.get("", response_model=VersionOut, summary="API version")
def root() -> VersionOut:
    return VersionOut()


@router.get("/me", response_model=Me, responses=ERRORS, summary="Who am I")
def me(user: ApiUser) -> Me:
    from tipaudit.core.roles import permissions_for

    return Me(
        username=user.username,
        display_name=user.display_name,
        roles=sorted(user.roles),
        permissions=sorted(permissions_for(user.roles)),
        via_token=user.via_token,
    )


@router.get("/users", response_model=list[UserOut], responses=ERRORS, summary="Staff accounts")
def users(
    services: ServicesDep,
    user: Annotated[StaffUser, api_permission(Permission.USERS_MANAGE)],
) -> list[UserOut]:
    return [
        UserOut(
            username=u.username,
            display_name=u.display_name,
            roles=sorted(u.roles),
            active=u.is_active,
            second_factor=u.has_second_factor,
        )
        for u in services.accounts.list_users()
    ]


@router.get("/indicators", response_model=TaxonomyOut, summary="Indicator taxonomy (public)")
def indicators() -> TaxonomyOut:
    taxonomy = load_taxonomy()
    return TaxonomyOut(
        version=taxonomy.version,
        indicators=[
            IndicatorOut(
                code=i.code,
                kind=i.kind,
                name=i.name,
                definition=i.definition,
                plain_language=dict(i.plain_language),
                htcds=[HtcdsOut(field=m.field, value=m.value) for m in i.htcds],
            )
            for i in taxonomy
        ],
    )


@router.get(
    "/countries/{code}",
    summary="Country risk profile (public)",
    responses={404: {"model": ErrorResponse, "description": "Not a recognised country"}},
)
def country_profile(code: str, services: ServicesDep) -> dict[str, Any]:
    """ILAB goods, Global Slavery Index figures, TIP tiers and ILAB findings, with sources."""
    if len(code) > 100:
        raise NotFoundError("there is no such country")
    return profile_to_dict(build_profile(services.refdata, code))


class RunOut(BaseModel):
    id: str
    created: str
    processes: int
    levels: dict[str, int]
    engine: str


class RegisterRowOut(BaseModel):
    rank: int
    ocid: str
    level: str
    score: int
    title: str | None
    buyer: str | None
    buyer_country: str | None
    suppliers: list[str]
    supplier_countries: list[str]
    value: float | None
    currency: str | None
    reasons: list[str]
    factors: list[str]
    indicator_codes: list[str]
    actions: list[str]
    uncertainties: list[str]


ProcurementReader = Annotated[StaffUser, api_permission(Permission.PROCUREMENT_READ)]


@router.get(
    "/procurement/runs", response_model=list[RunOut], responses=ERRORS, summary="Screening runs"
)
def procurement_runs(services: ServicesDep, user: ProcurementReader) -> list[RunOut]:
    return [
        RunOut(id=r.id, created=r.created, processes=r.processes, levels=r.levels, engine=r.engine)
        for r in ProcurementRuns(services.settings).list()
    ]


@router.get(
    "/procurement/runs/{run_id}/register",
    response_model=list[RegisterRowOut],
    responses={**ERRORS, 404: {"model": ErrorResponse, "description": "No such run"}},
    summary="A run's risk register, highest risk first",
)
def procurement_register(
    run_id: str,
    services: ServicesDep,
    user: ProcurementReader,
    level: Annotated[str | None, Query(pattern="^(high|medium|low)$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[RegisterRowOut]:
    """Rows of the register with reasons, indicator codes, actions and uncertainties.

    ``latest`` as the run id means the newest run.
    """
    run = ProcurementRuns(services.settings).open(None if run_id == "latest" else run_id)
    rows = register_rows(run, level=level, limit=offset + limit)
    return [
        RegisterRowOut(**{k: row[k] for k in RegisterRowOut.model_fields})
        for index, row in enumerate(rows)
        if index >= offset
    ]


@router.get(
    "/procurement/runs/{run_id}/processes/{ocid:path}",
    response_model=RegisterRowOut,
    responses={**ERRORS, 404: {"model": ErrorResponse, "description": "No such run or process"}},
    summary="One contracting process explained",
)
def procurement_process(
    run_id: str, ocid: str, services: ServicesDep, user: ProcurementReader
) -> RegisterRowOut:
    run = ProcurementRuns(services.settings).open(None if run_id == "latest" else run_id)
    rows = list(register_rows(run, ocid=ocid[:300]))
    if not rows:
        raise NotFoundError(f"{ocid[:80]!r} is not in this screening run")
    return RegisterRowOut(**{k: rows[0][k] for k in RegisterRowOut.model_fields})


@router.get(
    "/audit/events", response_model=list[AuditEventOut], responses=ERRORS, summary="Audit events"
)
def audit_events(
    services: ServicesDep,
    user: Annotated[StaffUser, api_permission(Permission.AUDIT_READ)],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    action: Annotated[str | None, Query(max_length=80)] = None,
    actor: Annotated[str | None, Query(max_length=120)] = None,
) -> list[AuditEventOut]:
    records = services.audit.recent(limit=limit, action=action, actor=actor)
    return [
        AuditEventOut(
            seq=r.seq,
            occurred_at=datetime.fromisoformat(r.occurred_at),
            actor=r.actor,
            action=r.action,
            object_type=r.object_type,
            object_id=r.object_id,
            reason=r.reason,
            details=dict(r.details),
            hash=r.hash,
        )
        for r in records
    ]
