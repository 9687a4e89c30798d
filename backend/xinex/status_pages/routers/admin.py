"""The tenant's status-page API: /status-pages, /status/groups, /status/components, incidents, subscribers."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from xinex.identity.deps import Authorize
from xinex.identity.principal import Principal
from xinex.kit.db import DatabaseDep, SessionDep
from xinex.kit.errors import error_responses
from xinex.kit.etag import check_if_match, set_version
from xinex.kit.pagination import Page, PageDep
from xinex.models.status_pages import (
    StatusPage,
    StatusPageComponent,
    StatusPageGroup,
    StatusPageIncident,
    StatusPageSubscriber,
)
from xinex.status_pages import repository, service
from xinex.status_pages.schemas import (
    ComponentCreateIn,
    ComponentIn,
    ComponentOut,
    GroupCreateIn,
    GroupIn,
    GroupOut,
    IncidentIn,
    IncidentOut,
    IncidentPatch,
    PageCreateIn,
    PageIn,
    PageOut,
    SubscriberOut,
    UpdateIn,
)

router = APIRouter(tags=["status pages"])
Reader = Annotated[Principal, Depends(Authorize("statuspages", write=False))]
Writer = Annotated[Principal, Depends(Authorize("statuspages", write=True))]
READ = error_responses(401, 403, 404, 422)
WRITE = error_responses(401, 403, 404, 409, 412, 422)


def _actor(request: Request, principal: Principal) -> service.Actor:
    return service.Actor(request, principal)


# --- pages ------------------------------------------------------------------------------------------


@router.get("/status-pages", response_model=Page[PageOut], responses=error_responses(401, 403, 422))
async def list_pages(principal: Reader, session: SessionDep, params: PageDep) -> Page[PageOut]:
    """The tenant's status pages, oldest first."""
    rows, total = await repository.pages(session, params.offset, params.per_page)
    return Page.of([service.page_out(p) for p in rows], total, params)


@router.post("/status-pages", status_code=201, response_model=PageOut, responses=error_responses(401, 403, 409, 422))
async def create_page(data: PageCreateIn, request: Request, response: Response, principal: Writer, session: SessionDep,
                      db: DatabaseDep) -> PageOut:
    """Create a status page. 409: the slug is taken (slugs are unique across all tenants: they are the public
    address /status/{slug}); 403 TIER_LIMIT_EXCEEDED: the plan's `status_pages` limit is reached."""
    page = await service.create_page(session, db, _actor(request, principal), data)
    set_version(response, page)
    return service.page_out(page)


@router.get("/status-pages/{page_id}", response_model=PageOut, responses=READ)
async def read_page(page_id: uuid.UUID, response: Response, principal: Reader, session: SessionDep) -> PageOut:
    """One status page. 404: no such page in this tenant."""
    page = await repository.get_or_404(session, StatusPage, page_id)
    set_version(response, page)
    return service.page_out(page)


@router.put("/status-pages/{page_id}", response_model=PageOut, responses=WRITE)
async def update_page(page_id: uuid.UUID, data: PageIn, request: Request, response: Response, principal: Writer,
                      session: SessionDep, db: DatabaseDep) -> PageOut:
    """Replace a page's settings (the whole body, as on create; omit `password` to keep the current one).
    If-Match guards against lost updates (412)."""
    page = await repository.get_or_404(session, StatusPage, page_id)
    check_if_match(request, page)
    await service.update_page(session, db, _actor(request, principal), page, data)
    set_version(response, page)
    return service.page_out(page)


@router.delete("/status-pages/{page_id}", status_code=204, responses=error_responses(401, 403, 404, 412, 422))
async def delete_page(page_id: uuid.UUID, request: Request, principal: Writer, session: SessionDep,
                      db: DatabaseDep) -> Response:
    """Delete a page with its groups, components, incidents and subscribers; its public address answers 404."""
    page = await repository.get_or_404(session, StatusPage, page_id)
    check_if_match(request, page)
    await service.delete_page(session, db, _actor(request, principal), page)
    return Response(status_code=204)


# --- groups -----------------------------------------------------------------------------------------


@router.get("/status/groups", response_model=Page[GroupOut], responses=READ)
async def list_groups(principal: Reader, session: SessionDep, params: PageDep,
                      page_id: uuid.UUID | None = None) -> Page[GroupOut]:
    """Component groups, of one page (`page_id`) or of all the tenant's pages, in display order."""
    rows, total = await repository.groups(session, page_id, params.offset, params.per_page)
    return Page.of([service.group_out(g) for g in rows], total, params)


@router.get("/status-pages/{page_id}/groups", response_model=Page[GroupOut], responses=READ)
async def list_page_groups(page_id: uuid.UUID, principal: Reader, session: SessionDep,
                           params: PageDep) -> Page[GroupOut]:
    """The component groups of one page, in display order. 404: no such page."""
    await repository.get_or_404(session, StatusPage, page_id)
    rows, total = await repository.groups(session, page_id, params.offset, params.per_page)
    return Page.of([service.group_out(g) for g in rows], total, params)


@router.post("/status/groups", status_code=201, response_model=GroupOut, responses=WRITE)
async def create_group(data: GroupCreateIn, request: Request, response: Response, principal: Writer, session: SessionDep,
                       db: DatabaseDep) -> GroupOut:
    """Add a component group to the page `page_id`. 404: no such page."""
    g = await service.create_group(session, db, _actor(request, principal), data)
    set_version(response, g)
    return service.group_out(g)


@router.post("/status-pages/{page_id}/groups", status_code=201, response_model=GroupOut, responses=WRITE)
async def create_page_group(page_id: uuid.UUID, data: GroupIn, request: Request, response: Response,
                            principal: Writer, session: SessionDep, db: DatabaseDep) -> GroupOut:
    """Add a component group to this page (the body's page_id, if given, must be this one)."""
    data = data.model_copy(update={"page_id": page_id})
    g = await service.create_group(session, db, _actor(request, principal), data)
    set_version(response, g)
    return service.group_out(g)


@router.get("/status/groups/{group_id}", response_model=GroupOut, responses=READ)
async def read_group(group_id: uuid.UUID, response: Response, principal: Reader, session: SessionDep) -> GroupOut:
    """One component group. 404: no such group in this tenant."""
    g = await repository.get_or_404(session, StatusPageGroup, group_id)
    set_version(response, g)
    return service.group_out(g)


@router.put("/status/groups/{group_id}", response_model=GroupOut, responses=WRITE)
async def update_group(group_id: uuid.UUID, data: GroupIn, request: Request, response: Response, principal: Writer,
                       session: SessionDep, db: DatabaseDep) -> GroupOut:
    """Rename or reorder a group (it stays on its page). If-Match guards (412)."""
    g = await repository.get_or_404(session, StatusPageGroup, group_id)
    check_if_match(request, g)
    await service.update_group(session, db, _actor(request, principal), g, data)
    set_version(response, g)
    return service.group_out(g)


@router.delete("/status/groups/{group_id}", status_code=204, responses=error_responses(401, 403, 404, 412, 422))
async def delete_group(group_id: uuid.UUID, request: Request, principal: Writer, session: SessionDep,
                       db: DatabaseDep) -> Response:
    """Delete a group; its components stay on the page, outside any group."""
    g = await repository.get_or_404(session, StatusPageGroup, group_id)
    check_if_match(request, g)
    await service.delete_group(session, db, _actor(request, principal), g)
    return Response(status_code=204)


# --- components -------------------------------------------------------------------------------------


@router.get("/status/components", response_model=Page[ComponentOut], responses=READ)
async def list_components(principal: Reader, session: SessionDep, params: PageDep,
                          page_id: uuid.UUID | None = None) -> Page[ComponentOut]:
    """Components, of one page (`page_id`) or of all the tenant's pages, with the status each shows now."""
    rows, total = await repository.components(session, page_id, params.offset, params.per_page)
    return Page.of([await service.component_out(session, c) for c in rows], total, params)


@router.get("/status-pages/{page_id}/components", response_model=Page[ComponentOut], responses=READ)
async def list_page_components(page_id: uuid.UUID, principal: Reader, session: SessionDep,
                               params: PageDep) -> Page[ComponentOut]:
    """The components of one page, in display order. 404: no such page."""
    await repository.get_or_404(session, StatusPage, page_id)
    rows, total = await repository.components(session, page_id, params.offset, params.per_page)
    return Page.of([await service.component_out(session, c) for c in rows], total, params)


@router.post("/status/components", status_code=201, response_model=ComponentOut, responses=WRITE)
async def create_component(data: ComponentCreateIn, request: Request, response: Response, principal: Writer,
                           session: SessionDep, db: DatabaseDep) -> ComponentOut:
    """Add a component to the page `page_id`, bound to a monitor, heartbeat or AI heartbeat of this tenant
    (`source_type` + `source_id`) or manual. 422: no such source or group."""
    c = await service.create_component(session, db, _actor(request, principal), data)
    set_version(response, c)
    return await service.component_out(session, c)


@router.post("/status-pages/{page_id}/components", status_code=201, response_model=ComponentOut, responses=WRITE)
async def create_page_component(page_id: uuid.UUID, data: ComponentIn, request: Request, response: Response,
                                principal: Writer, session: SessionDep, db: DatabaseDep) -> ComponentOut:
    """Add a component to this page (as POST /status/components with this page_id)."""
    data = data.model_copy(update={"page_id": page_id})
    c = await service.create_component(session, db, _actor(request, principal), data)
    set_version(response, c)
    return await service.component_out(session, c)


@router.get("/status/components/{component_id}", response_model=ComponentOut, responses=READ)
async def read_component(component_id: uuid.UUID, response: Response, principal: Reader,
                         session: SessionDep) -> ComponentOut:
    """One component with the status it shows. 404: no such component in this tenant."""
    c = await repository.get_or_404(session, StatusPageComponent, component_id)
    set_version(response, c)
    return await service.component_out(session, c)


@router.put("/status/components/{component_id}", response_model=ComponentOut, responses=WRITE)
async def update_component(component_id: uuid.UUID, data: ComponentIn, request: Request, response: Response,
                           principal: Writer, session: SessionDep, db: DatabaseDep) -> ComponentOut:
    """Replace a component (name, group, source, `status_override`: set it to pin a status, null to derive it
    again). If-Match guards (412)."""
    c = await repository.get_or_404(session, StatusPageComponent, component_id)
    check_if_match(request, c)
    await service.update_component(session, db, _actor(request, principal), c, data)
    set_version(response, c)
    return await service.component_out(session, c)


@router.delete("/status/components/{component_id}", status_code=204,
               responses=error_responses(401, 403, 404, 412, 422))
async def delete_component(component_id: uuid.UUID, request: Request, principal: Writer, session: SessionDep,
                           db: DatabaseDep) -> Response:
    """Remove a component from its page."""
    c = await repository.get_or_404(session, StatusPageComponent, component_id)
    check_if_match(request, c)
    await service.delete_component(session, db, _actor(request, principal), c)
    return Response(status_code=204)


# --- incidents --------------------------------------------------------------------------------------


async def _incident(session: SessionDep, page_id: uuid.UUID, incident_id: uuid.UUID) -> StatusPageIncident:
    inc = await repository.get_or_404(session, StatusPageIncident, incident_id)
    if inc.page_id != page_id:
        return await repository.get_or_404(session, StatusPageIncident, uuid.UUID(int=0))
    return inc


@router.get("/status-pages/{page_id}/incidents", response_model=Page[IncidentOut], responses=READ)
async def list_incidents(page_id: uuid.UUID, principal: Reader, session: SessionDep,
                         params: PageDep) -> Page[IncidentOut]:
    """The page's public incidents, newest first, each with its updates (newest first)."""
    await repository.get_or_404(session, StatusPage, page_id)
    rows, total = await repository.incidents(session, page_id, offset=params.offset, limit=params.per_page)
    return Page.of([await service.incident_out(session, i) for i in rows], total, params)


@router.post("/status-pages/{page_id}/incidents", status_code=201, response_model=IncidentOut, responses=WRITE)
async def create_incident(page_id: uuid.UUID, data: IncidentIn, request: Request, response: Response,
                          principal: Writer, session: SessionDep, db: DatabaseDep) -> IncidentOut:
    """Open a public incident with its first update; `notify` sends it to the confirmed subscribers after
    commit. `linked_incident_id` ties it to an internal incident (never shown publicly)."""
    page = await repository.get_or_404(session, StatusPage, page_id)
    inc = await service.create_incident(session, db, _actor(request, principal), page, data)
    set_version(response, inc)
    return await service.incident_out(session, inc)


@router.get("/status-pages/{page_id}/incidents/{incident_id}", response_model=IncidentOut, responses=READ)
async def read_incident(page_id: uuid.UUID, incident_id: uuid.UUID, response: Response, principal: Reader,
                        session: SessionDep) -> IncidentOut:
    """One public incident with its updates."""
    inc = await _incident(session, page_id, incident_id)
    set_version(response, inc)
    return await service.incident_out(session, inc)


@router.patch("/status-pages/{page_id}/incidents/{incident_id}", response_model=IncidentOut, responses=WRITE)
async def patch_incident(page_id: uuid.UUID, incident_id: uuid.UUID, data: IncidentPatch, request: Request,
                         response: Response, principal: Writer, session: SessionDep, db: DatabaseDep) -> IncidentOut:
    """Change the title, impact, affected components or linked incident (the state changes through updates)."""
    inc = await _incident(session, page_id, incident_id)
    check_if_match(request, inc)
    await service.patch_incident(session, db, _actor(request, principal), inc, data)
    set_version(response, inc)
    return await service.incident_out(session, inc)


@router.post("/status-pages/{page_id}/incidents/{incident_id}/updates", status_code=201, response_model=IncidentOut,
             responses=WRITE)
async def post_update(page_id: uuid.UUID, incident_id: uuid.UUID, data: UpdateIn, request: Request,
                      response: Response, principal: Writer, session: SessionDep, db: DatabaseDep) -> IncidentOut:
    """Post an update: investigating, identified, monitoring or resolved (resolved closes the incident; a later
    update reopens it). `notify` sends it to the confirmed subscribers."""
    inc = await _incident(session, page_id, incident_id)
    await service.add_update(session, db, _actor(request, principal), inc, data)
    set_version(response, inc)
    return await service.incident_out(session, inc)


@router.delete("/status-pages/{page_id}/incidents/{incident_id}", status_code=204,
               responses=error_responses(401, 403, 404, 412, 422))
async def delete_incident(page_id: uuid.UUID, incident_id: uuid.UUID, request: Request, principal: Writer,
                          session: SessionDep, db: DatabaseDep) -> Response:
    """Delete a public incident (e.g. opened by mistake) and its updates."""
    inc = await _incident(session, page_id, incident_id)
    check_if_match(request, inc)
    await service.delete_incident(session, db, _actor(request, principal), inc)
    return Response(status_code=204)


# --- subscribers ------------------------------------------------------------------------------------


@router.get("/status-pages/{page_id}/subscribers", response_model=Page[SubscriberOut], responses=READ)
async def list_subscribers(page_id: uuid.UUID, principal: Writer, session: SessionDep,
                           params: PageDep) -> Page[SubscriberOut]:
    """The page's subscribers (e-mail addresses and webhook URLs, confirmed or not). Needs write access:
    it lists personal data."""
    await repository.get_or_404(session, StatusPage, page_id)
    rows, total = await repository.subscribers(session, page_id, params.offset, params.per_page)
    return Page.of([service.subscriber_out(s) for s in rows], total, params)


@router.delete("/status-pages/{page_id}/subscribers/{subscriber_id}", status_code=204,
               responses=error_responses(401, 403, 404, 422))
async def delete_subscriber(page_id: uuid.UUID, subscriber_id: uuid.UUID, request: Request, principal: Writer,
                            session: SessionDep) -> Response:
    """Remove a subscriber."""
    sub = await repository.get_or_404(session, StatusPageSubscriber, subscriber_id)
    if sub.page_id != page_id:
        await repository.get_or_404(session, StatusPageSubscriber, uuid.UUID(int=0))
    await service.delete_subscriber(session, _actor(request, principal), sub)
    return Response(status_code=204)
