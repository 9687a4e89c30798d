"""The generic repository base every domain's `repository.py` builds on (docs/architecture.md).

    class HeartbeatRepository(Repository[Heartbeat]):
        model = Heartbeat
        label = "heartbeat"          # 404 says "heartbeat not found"

    repo = HeartbeatRepository(session)
    hb = await repo.get_or_404(heartbeat_id)
    page = await repo.page(params, select(Heartbeat).order_by(Heartbeat.name), out=to_out)
    hb = await repo.update_checked(heartbeat_id, if_match, lambda hb: apply(hb, data),
                                   audit=lambda hb: audit.record(session, "heartbeat.updated", ...))
    response ETag: set_version(response, hb)   # in the router: shaping the answer is HTTP's job

Tenant scoping is inherited, not written: every statement here runs on the request's session, whose
automatic tenancy criteria (kit/tenancy.py) add `tenant_id = <the bound tenant>` to each tenant-owned
table the statement touches. So another tenant's object is simply not found — the answer is the same
404 (`NOT_FOUND`, "<label> not found") whether the id exists elsewhere or nowhere, and a session with
neither a tenant nor a named system scope raises `TenantContextMissing` instead of reading anything.

`update_checked` is the one copy of the versioned-update sequence the CRUD routers used to repeat:
read (404) → If-Match against the current version (412 PRECONDITION_FAILED, details.current_etag) →
apply the change → flush → the audit hook → (refresh) → return the object, whose new version the
router sends as the ETag. The audit hook is a callable, so kit imports no domain: the service passes
`lambda obj: audit.record(...)`. `delete_checked` is the same for a delete.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar, overload

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.kit.errors import not_found
from xinex.kit.etag import check_if_match_value, version_tag
from xinex.kit.pagination import Page, PageParams, paginate
from xinex.kit.types import Entity, utcnow

M = TypeVar("M", bound=Entity)
T = TypeVar("T")

# Called with the changed object after the change is flushed (audit records, outbox events).
Hook = Callable[[M], object]
# The change itself: a plain function or a coroutine function; what it returns is ignored.
Change = Callable[[M], object]


class Repository(Generic[M]):
    """Queries on one model, scoped to the session's tenant. Subclass per domain with `model` and `label`."""

    model: ClassVar[type[Any]]
    label: ClassVar[str] = "object"

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def select(self) -> Select[M]:
        """`SELECT model`; the session adds the tenant criterion when the statement runs."""
        return select(self.model)

    async def get(self, object_id: uuid.UUID, *, for_update: bool = False) -> M | None:
        """The object with this id in the bound tenant, or None. `for_update` locks the row on
        PostgreSQL (SELECT … FOR UPDATE; SQLite's write gate serializes writers already)."""
        stmt = self.select().where(self.model.id == object_id)
        if for_update and self.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        return (await self.session.scalars(stmt)).one_or_none()

    async def get_or_404(self, object_id: uuid.UUID, *, for_update: bool = False) -> M:
        """The object, or 404 NOT_FOUND ("<label> not found") — also when it belongs to another tenant."""
        obj = await self.get(object_id, for_update=for_update)
        if obj is None:
            raise not_found(self.label)
        return obj

    @overload
    async def page(self, params: PageParams, stmt: Select[Any] | None = None) -> Page[M]: ...

    @overload
    async def page(self, params: PageParams, stmt: Select[Any] | None = None, *,
                   out: Callable[[M], T]) -> Page[T]: ...

    async def page(self, params: PageParams, stmt: Select[Any] | None = None, *,
                   out: Callable[[M], Any] | None = None) -> Page[Any]:
        """The list envelope ({items, total, page, per_page, total_pages}) of `stmt` (default: every object,
        newest first). Count and slice both run scoped. `out` maps each row to its response schema."""
        if stmt is None:
            stmt = self.select().order_by(self.model.created_at.desc(), self.model.id)
        rows, total = await paginate(self.session, stmt, params)
        return Page.of([out(r) for r in rows] if out is not None else rows, total, params)

    async def update_checked(self, target: M | uuid.UUID, if_match: str | None, change: Change[M], *,
                             audit: Hook[M] | None = None, touch: bool = False, refresh: bool = False) -> M:
        """Read → If-Match → change → flush → audit → (refresh), once for every CRUD update.

        `target` is the object (already read by the caller, e.g. with its joined rows) or its id (read
        here, 404 when absent). `if_match` is the request's If-Match value: None or empty is an
        unconditional update, a stale one a 412 before anything changes. `touch` stamps `updated_at`
        when the change may leave the row itself untouched (a child row changed) so that the version
        still moves; `refresh` reloads the row after the flush (server-computed columns)."""
        obj = await self._checked(target, if_match)
        result = change(obj)
        if inspect.isawaitable(result):
            await result
        if touch:
            obj.updated_at = utcnow()
        await self.session.flush()
        if audit is not None:
            audit(obj)
        if refresh:
            await self.session.refresh(obj)
        return obj

    async def delete_checked(self, target: M | uuid.UUID, if_match: str | None, *,
                             guard: Callable[[M], object] | None = None, audit: Hook[M] | None = None) -> M:
        """Read → If-Match → guard (raise to refuse, e.g. 409) → delete → audit. Returns the deleted object
        (its attributes stay readable for the answer or the audit details)."""
        obj = await self._checked(target, if_match)
        if guard is not None:
            guard(obj)
        await self.session.delete(obj)
        if audit is not None:
            audit(obj)
        return obj

    async def _checked(self, target: M | uuid.UUID, if_match: str | None) -> M:
        obj = await self.get_or_404(target) if isinstance(target, uuid.UUID) else target
        check_if_match_value(if_match, version_tag(obj))
        return obj
