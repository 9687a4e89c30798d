"""The tenant's status-page API: /status-pages, /status/groups, /status/components, incidents, subscribers."""

# No `from __future__ import annotations`: the routes made by mount_child() annotate with each kind's schemas,
# which FastAPI must see as objects, not as names to look up in this module.
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi import Path as FastPath
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.identity.deps import Authorize
from xinex.identity.principal import Principal
from xinex.kit.db import Database, DatabaseDep, SessionDep
from xinex.kit.errors import error_responses
from xinex.kit.etag import check_if_match, set_version
from xinex.kit.pagination import Page, PageDep, PageParams
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


# --- groups and components: one CRUD, reachable at /status/{kind} and /status-pages/{id}/{kind} ----------


@dataclass(frozen=True)
class Child:
    """A page's child objects (groups, components) and the use cases behind their routes."""

    kind: str  # the path segment: "groups" | "components"
    one: str  # "group" | "component": its id parameter is `{one}_id`, its operations `read_{one}` …
    model: type[Any]
    create_in: type[BaseModel]  # the body on /status/{kind} (names its page)
    body_in: type[BaseModel]  # the body under /status-pages/{id}/{kind} and of PUT
    out: type[BaseModel]
    rows: Callable[..., Awaitable[tuple[list[Any], int]]]  # repository.groups / components
    to_out: Callable[[AsyncSession, Any], Awaitable[Any]]
    create: Callable[..., Awaitable[Any]]
    update: Callable[..., Awaitable[None]]
    delete: Callable[..., Awaitable[None]]
    docs: dict[str, str]


async def _group_out(session: AsyncSession, g: StatusPageGroup) -> GroupOut:
    return service.group_out(g)


GROUPS = Child("groups", "group", StatusPageGroup, GroupCreateIn, GroupIn, GroupOut, repository.groups, _group_out,
               service.create_group, service.update_group, service.delete_group, {
                   "list": "Component groups, of one page (`page_id`) or of all the tenant's pages, in display order.",
                   "list_page": "The component groups of one page, in display order. 404: no such page.",
                   "create": "Add a component group to the page `page_id`. 404: no such page.",
                   "create_page": "Add a component group to this page (the body's page_id, if given, must be "
                                  "this one).",
                   "read": "One component group. 404: no such group in this tenant.",
                   "update": "Rename or reorder a group (it stays on its page). If-Match guards (412).",
                   "delete": "Delete a group; its components stay on the page, outside any group."})
COMPONENTS = Child(
    "components", "component", StatusPageComponent, ComponentCreateIn, ComponentIn, ComponentOut,
    repository.components, service.component_out, service.create_component, service.update_component,
    service.delete_component, {
        "list": "Components, of one page (`page_id`) or of all the tenant's pages, with the status each shows now.",
        "list_page": "The components of one page, in display order. 404: no such page.",
        "create": "Add a component to the page `page_id`, bound to a monitor, heartbeat or AI heartbeat of this "
                  "tenant (`source_type` + `source_id`) or manual. 422: no such source or group.",
        "create_page": "Add a component to this page (as POST /status/components with this page_id).",
        "read": "One component with the status it shows. 404: no such component in this tenant.",
        "update": "Replace a component (name, group, source, `status_override`: set it to pin a status, null to "
                  "derive it again). If-Match guards (412).",
        "delete": "Remove a component from its page."})


def _named(fn: Any, name: str, doc: str) -> Any:
    fn.__name__ = fn.__qualname__ = name  # the operation ids the routes always had
    fn.__doc__ = doc
    return fn


def mount_child(c: Child) -> None:
    """Register the CRUD of `c` at /status/{kind}[/{id}] and under /status-pages/{page_id}/{kind}."""
    ItemId = Annotated[uuid.UUID, FastPath(alias=f"{c.one}_id")]
    flat, under_page = f"/status/{c.kind}", f"/status-pages/{{page_id}}/{c.kind}"

    async def rows(session: AsyncSession, page_id: uuid.UUID | None, params: PageParams) -> Page[Any]:
        found, total = await c.rows(session, page_id, params.offset, params.per_page)
        return Page.of([await c.to_out(session, x) for x in found], total, params)

    async def create(data: BaseModel, request: Request, response: Response, principal: Principal,
                     session: AsyncSession, db: Database) -> Any:
        obj = await c.create(session, db, _actor(request, principal), data)
        set_version(response, obj)
        return await c.to_out(session, obj)

    async def list_all(principal: Reader, session: SessionDep, params: PageDep,
                       page_id: uuid.UUID | None = None) -> Any:
        return await rows(session, page_id, params)

    async def list_page(page_id: uuid.UUID, principal: Reader, session: SessionDep, params: PageDep) -> Any:
        await repository.get_or_404(session, StatusPage, page_id)
        return await rows(session, page_id, params)

    async def create_flat(data: c.create_in, request: Request, response: Response,  # type: ignore[name-defined]
                          principal: Writer, session: SessionDep, db: DatabaseDep) -> Any:
        return await create(data, request, response, principal, session, db)

    async def create_page(page_id: uuid.UUID, data: c.body_in, request: Request,  # type: ignore[name-defined]
                          response: Response, principal: Writer, session: SessionDep, db: DatabaseDep) -> Any:
        return await create(data.model_copy(update={"page_id": page_id}), request, response, principal, session, db)

    async def read(item_id: ItemId, response: Response, principal: Reader, session: SessionDep) -> Any:
        obj = await repository.get_or_404(session, c.model, item_id)
        set_version(response, obj)
        return await c.to_out(session, obj)

    async def update(item_id: ItemId, data: c.body_in, request: Request,  # type: ignore[name-defined]
                     response: Response, principal: Writer, session: SessionDep, db: DatabaseDep) -> Any:
        obj = await repository.get_or_404(session, c.model, item_id)
        check_if_match(request, obj)
        await c.update(session, db, _actor(request, principal), obj, data)
        set_version(response, obj)
        return await c.to_out(session, obj)

    async def delete(item_id: ItemId, request: Request, principal: Writer, session: SessionDep,
                     db: DatabaseDep) -> Response:
        obj = await repository.get_or_404(session, c.model, item_id)
        check_if_match(request, obj)
        await c.delete(session, db, _actor(request, principal), obj)
        return Response(status_code=204)

    one, many, item = c.one, c.kind, f"{flat}/{{{c.one}_id}}"
    router.get(flat, response_model=Page[c.out], responses=READ)(  # type: ignore[name-defined]
        _named(list_all, f"list_{many}", c.docs["list"]))
    router.get(under_page, response_model=Page[c.out], responses=READ)(  # type: ignore[name-defined]
        _named(list_page, f"list_page_{many}", c.docs["list_page"]))
    router.post(flat, status_code=201, response_model=c.out, responses=WRITE)(
        _named(create_flat, f"create_{one}", c.docs["create"]))
    router.post(under_page, status_code=201, response_model=c.out, responses=WRITE)(
        _named(create_page, f"create_page_{one}", c.docs["create_page"]))
    router.get(item, response_model=c.out, responses=READ)(_named(read, f"read_{one}", c.docs["read"]))
    router.put(item, response_model=c.out, responses=WRITE)(_named(update, f"update_{one}", c.docs["update"]))
    router.delete(item, status_code=204, responses=error_responses(401, 403, 404, 412, 422))(
        _named(delete, f"delete_{one}", c.docs["delete"]))


mount_child(GROUPS)
mount_child(COMPONENTS)


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
