"""Probes: admin registration (`/probes`) and the probe-facing API (`/probe/*`, prober token)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select

from xinex.audit import service as audit
from xinex.identity.deps import Authorize
from xinex.identity.principal import Principal
from xinex.kit.db import SessionDep, commit
from xinex.kit.errors import error_responses
from xinex.kit.etag import set_version
from xinex.kit.fields import NonBlankStr
from xinex.kit.pagination import Page, PageDep, paginate
from xinex.kit.types import UTCDatetime
from xinex.models.monitors import Probe
from xinex.models.tenant import Role
from xinex.monitors import probes
from xinex.monitors.checks import CheckResult
from xinex.monitors.scheduler import write_results
from xinex.monitors.schemas import REGION_RE
from xinex.tiers.service import history_retention_days

router = APIRouter(tags=["probes"])
probe_api = APIRouter(tags=["probes"])
AdminPrincipal = Annotated[Principal, Depends(Authorize("probes", min_role=Role.admin))]
ReaderPrincipal = Annotated[Principal, Depends(Authorize("probes", write=False))]


class ProbeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "frankfurt-1", "region": "eu-central"},
    ]})

    name: NonBlankStr = Field(min_length=1, max_length=100)
    region: str = Field(min_length=1, max_length=50, json_schema_extra={"pattern": REGION_RE.pattern})

    @field_validator("region")
    @classmethod
    def _region(cls, v: str) -> str:
        if not REGION_RE.match(v):
            raise ValueError("lowercase letters, digits and dashes (1-50)")
        return v


class ProbeOut(BaseModel):
    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    region: str
    token_prefix: str
    enabled: bool
    last_seen_at: UTCDatetime | None
    created_at: UTCDatetime
    updated_at: UTCDatetime


class ProbeCreated(ProbeOut):
    token: str = Field(description="the prober token; shown only once")


def _out(p: Probe) -> ProbeOut:
    return ProbeOut.model_validate(p, from_attributes=True)


@router.get("/probes", response_model=Page[ProbeOut], responses=error_responses(401, 403, 422))
async def list_probes(principal: ReaderPrincipal, session: SessionDep, params: PageDep):
    """The tenant's remote probes: agents that run checks from a region of your choice (a monitor's `regions`)."""
    items, total = await paginate(session, select(Probe).order_by(Probe.region, Probe.name), params)
    return Page.of([_out(p) for p in items], total, params)


@router.post("/probes", status_code=201, response_model=ProbeCreated, responses=error_responses(401, 403, 409, 422))
async def create_probe(data: ProbeIn, request: Request, response: Response, principal: AdminPrincipal,
                       session: SessionDep):
    """Register a probe for a region and get its prober token, shown only once: run the agent with it. Admins only.
    409: a probe of that name exists."""
    probe, raw = await probes.register(session, principal.tenant_id, data.name.strip(), data.region)
    audit.record(session, "probe.created", request=request, principal=principal, target_type="probe",
                 target_id=probe.id, details={"name": probe.name, "region": probe.region})
    set_version(response, probe)
    return ProbeCreated(**_out(probe).model_dump(), token=raw)


@router.get("/probes/{probe_id}", response_model=ProbeOut, responses=error_responses(401, 403, 404, 422))
async def read_probe(probe_id: uuid.UUID, response: Response, principal: ReaderPrincipal, session: SessionDep):
    """One probe, with when it last asked for work (liveness). 404: no such probe in this tenant."""
    probe = await probes.get(session, probe_id)
    set_version(response, probe)
    return _out(probe)


@router.delete("/probes/{probe_id}", status_code=204, responses=error_responses(401, 403, 404, 422))
async def delete_probe(probe_id: uuid.UUID, request: Request, principal: AdminPrincipal, session: SessionDep):
    """Remove a probe; its token stops working at once. Admins only."""
    probe = await probes.get(session, probe_id)
    await session.delete(probe)
    audit.record(session, "probe.deleted", request=request, principal=principal, target_type="probe",
                 target_id=probe.id, details={"name": probe.name, "region": probe.region})
    return Response(status_code=204)


# --- the probe-facing API ---------------------------------------------------------------------

async def current_probe(request: Request, session: SessionDep) -> Probe:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return await probes.authenticate(session, value.strip() if scheme.lower() == "bearer" else None)


CurrentProbe = Annotated[Probe, Depends(current_probe)]


class Assignments(BaseModel):
    probe_id: uuid.UUID
    region: str
    items: list[dict]


class ResultIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    monitor_id: uuid.UUID
    check_id: uuid.UUID
    checked_at: UTCDatetime
    status: str = Field(pattern="^(up|degraded|down)$")
    latency_ms: float = Field(ge=0, le=600_000)
    status_code: int | None = Field(default=None, ge=0, le=999)
    error: str = Field(default="", max_length=2000)
    reason: str = Field(default="ok", max_length=60)
    details: dict[str, str] = Field(default_factory=dict, max_length=20)


class ResultsIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {
            "results": [
                {
                    "monitor_id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f",
                    "check_id": "7a9e2d4c-1b3f-4c5d-8e6f-0a1b2c3d4e5f",
                    "checked_at": "2026-12-04T12:00:00Z",
                    "status": "up",
                    "latency_ms": 84.2,
                    "status_code": 200,
                },
            ],
        },
    ]})

    results: list[ResultIn] = Field(min_length=1, max_length=500)


@probe_api.get("/probe/assignments", response_model=Assignments, responses=error_responses(401, 422))
async def assignments(probe: CurrentProbe, session: SessionDep):
    """For the probe agent (prober token): the checks due in its region, claimed for this probe so that two agents
    of a region do not both run them."""
    return Assignments(probe_id=probe.id, region=probe.region, items=await probes.claim_assignments(session, probe))


@probe_api.post("/probe/results", responses=error_responses(401, 404, 422))
async def post_results(data: ResultsIn, probe: CurrentProbe, session: SessionDep) -> dict:
    """For the probe agent: report up to 500 check results. Each is answered accepted or not (a re-posted
    check id is a duplicate; a paused monitor takes none); accepted results move the monitor's state and are kept
    as history. 404: a monitor unknown or not checked in this probe's region."""
    outcomes, stored = [], []
    for item in data.results:
        result = CheckResult(item.status, item.latency_ms, item.status_code, item.error[:500], item.reason,
                             {k[:60]: v[:500] for k, v in item.details.items()}, item.checked_at, item.check_id)
        outcome = await probes.record_region_result(session, probe, item.monitor_id, result)
        outcomes.append(outcome)
        if outcome["accepted"]:
            stored.append((item.monitor_id, "", probe.region, result))
    days = await history_retention_days(session, probe.tenant_id)
    await commit(session)  # state first; history follows (best effort)
    if stored:
        await write_results(probe.tenant_id, stored, retention_days=days)
    return {"results": outcomes}
