"""/api/v1/integrations: create (the key is answered once), list, read, change, rotate the key,
delete, and the test console that shows what a sample payload becomes."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from xinex.audit.context import AuditContext
from xinex.identity.deps import Authorize
from xinex.identity.principal import Principal
from xinex.integrations import importer, repository, service
from xinex.integrations.schemas import (
    ImportReportOut,
    ImportRequest,
    IntegrationCreate,
    IntegrationOut,
    IntegrationSecretOut,
    IntegrationUpdate,
    Kind,
    TestRequest,
    TestResult,
)
from xinex.kit.db import SessionDep
from xinex.kit.errors import error_responses
from xinex.kit.etag import set_version
from xinex.kit.pagination import Page, PageDep
from xinex.models.tenant import Role

router = APIRouter(tags=["integrations"])
Reader = Annotated[Principal, Depends(Authorize("incidents", write=False))]
Admin = Annotated[Principal, Depends(Authorize("incidents", write=True, min_role=Role.admin))]


def _public_url(request: Request) -> str:
    return str(request.app.state.settings.public_url)


@router.get("/integrations", response_model=Page[IntegrationOut], responses=error_responses(401, 403, 422),
            summary="List integrations")
async def list_integrations(principal: Reader, session: SessionDep, params: PageDep,
                            kind: Annotated[Kind | None, Query(description="only this kind")] = None
                            ) -> Page[IntegrationOut]:
    """The tenant's inbound alert sources, oldest first. Keys are never shown again after creation
    or rotation: `key_hint` tells them apart."""
    repo = repository.IntegrationRepository(session)
    return await repo.page(params, repo.listing(kind), out=service.to_out)


@router.post("/integrations", status_code=201, response_model=IntegrationSecretOut,
             responses=error_responses(401, 403, 422), summary="Create an integration")
async def create_integration(data: IntegrationCreate, request: Request, principal: Admin,
                             session: SessionDep) -> IntegrationSecretOut:
    """A new inbound alert source (admins). The answer carries the secret `key` (the routing key for
    PagerDuty-compatible senders, the GenieKey for Opsgenie-compatible ones, the last segment of the
    ingestion URL otherwise), the `ingestion_url` and the `sender_config` to paste — once: only the
    key's hash is stored. 422: an unknown kind, a mapping on a kind other than webhook, a JMESPath
    expression that does not compile (details name it)."""
    return await service.create(session, principal, AuditContext.of(request), data, _public_url(request))


@router.get("/integrations/{integration_id}", response_model=IntegrationOut,
            responses=error_responses(401, 403, 404, 422), summary="Read an integration")
async def read_integration(integration_id: uuid.UUID, response: Response, principal: Reader,
                           session: SessionDep) -> IntegrationOut:
    """One integration (without its key). 404: no such integration in this tenant."""
    i = await repository.IntegrationRepository(session).get_or_404(integration_id)
    set_version(response, i)
    return service.to_out(i)


@router.put("/integrations/{integration_id}", response_model=IntegrationOut,
            responses=error_responses(401, 403, 404, 412, 422), summary="Change an integration")
async def update_integration(integration_id: uuid.UUID, data: IntegrationUpdate, request: Request,
                             response: Response, principal: Admin, session: SessionDep) -> IntegrationOut:
    """Change name, default routing (service, tags, severities), mapping, rate limit or enabled;
    fields left out stay. The kind and the key do not change here (rotate the key with
    POST …/rotate-key). If-Match guards against lost updates (412)."""
    i = await service.update(session, principal, AuditContext.of(request), integration_id, data, request.headers.get("if-match"))
    set_version(response, i)
    return service.to_out(i)


@router.post("/integrations/{integration_id}/rotate-key", response_model=IntegrationSecretOut,
             responses=error_responses(401, 403, 404, 412, 422), summary="Rotate an integration's key")
async def rotate_key(integration_id: uuid.UUID, request: Request, principal: Admin,
                     session: SessionDep) -> IntegrationSecretOut:
    """A new secret key, answered once; the old key is refused (404) from this moment on, so
    update the sender right after. If-Match guards (412)."""
    return await service.rotate(session, principal, AuditContext.of(request), integration_id, request.headers.get("if-match"),
                                _public_url(request))


@router.delete("/integrations/{integration_id}", status_code=204,
               responses=error_responses(401, 403, 404, 412, 422), summary="Delete an integration")
async def delete_integration(integration_id: uuid.UUID, request: Request, principal: Admin,
                             session: SessionDep) -> Response:
    """Delete an integration: its key is refused from now on. Incidents it opened stay.
    If-Match guards (412)."""
    await service.delete(session, principal, AuditContext.of(request), integration_id, request.headers.get("if-match"))
    return Response(status_code=204)


@router.post("/integrations/{integration_id}/test", response_model=TestResult,
             responses=error_responses(401, 403, 404, 422), summary="Test a payload against an integration")
async def test_integration(integration_id: uuid.UUID, data: TestRequest, principal: Reader,
                           session: SessionDep) -> TestResult:
    """The test console: what a sample body posted by the sender becomes — the alerts (action,
    dedup key, summary, severity after the integration's mapping, tags for routing) or the errors the
    sender would get, each naming the field. Nothing is stored and nobody is paged. For generic
    webhooks, `mapping` tries other expressions without saving them."""
    i = await repository.IntegrationRepository(session).get_or_404(integration_id)
    return service.test(i, data.payload, data.mapping)


@router.post("/integrations/import", response_model=ImportReportOut, responses=error_responses(400, 401, 403, 422),
             summary="Import schedules, escalation policies and services from PagerDuty, Opsgenie or Grafana OnCall")
async def import_from(data: ImportRequest, request: Request, principal: Admin, session: SessionDep) -> ImportReportOut:
    """Read PagerDuty's (Opsgenie's, Grafana OnCall's) REST API with the given token and create (or, on a re-run, update) members
    (matched by e-mail; missing ones are invited), schedules, escalation policies, and for each service
    an integration of that kind (PagerDuty services, Opsgenie API integrations) with a routing rule to its
    policy (the new routing keys are in this
    answer only). `dry_run` answers the same plan without changing anything. Every object that cannot be
    mapped is listed in `problems` with the reason. 400: the source could not be read (unreachable,
    token refused) — nothing was changed. `xinex import pagerduty|opsgenie|grafana-oncall` calls this endpoint."""
    report = await importer.run_import(session, principal, request, _public_url(request), url=data.url,
                                       token=data.token, dry_run=data.dry_run, source_name=data.source)
    return ImportReportOut.model_validate(report.as_dict())
