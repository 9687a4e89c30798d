"""kit/repository.py: get_or_404, page and the versioned update/delete, on a real tenant-owned table
(annotations) in PostgreSQL, with two tenants. RLS is switched off in the reading transactions so
that what is proven is the session's own tenancy criteria, which the repository inherits."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select
from xinex.kit.errors import AppError
from xinex.kit.etag import version_tag
from xinex.kit.pagination import PageParams
from xinex.kit.repository import Repository
from xinex.kit.tenancy import TenantContextMissing
from xinex.kit.types import utcnow
from xinex.models.annotations import Annotation

from tests.tenancy.helpers import without_rls


class Annotations(Repository[Annotation]):
    model = Annotation
    label = "annotation"


async def _seed(db, tenant_id: str, names: list[str]) -> list[uuid.UUID]:
    ids = []
    async with db.session(tenant_id=uuid.UUID(tenant_id)) as s:
        start = utcnow() - timedelta(hours=1)
        for i, name in enumerate(names):
            a = Annotation(name=name, start_at=start, created_at=start + timedelta(seconds=i))
            s.add(a)
            ids.append(a.id)
    return ids


@pytest.fixture
async def rows(db, alice, outsider):
    mine = await _seed(db, alice.tenant_id, ["a1", "a2", "a3"])
    theirs = await _seed(db, outsider.tenant_id, ["b1"])
    return uuid.UUID(alice.tenant_id), mine, theirs


async def test_get_or_404_finds_own_and_hides_another_tenants_object(db, rows):
    tenant, mine, theirs = rows
    async with db.session(tenant_id=tenant) as s:
        await without_rls(s)
        repo = Annotations(s)
        assert (await repo.get_or_404(mine[0])).name == "a1"
        assert (await repo.get_or_404(mine[0], for_update=True)).id == mine[0]
        assert await repo.get(theirs[0]) is None
        with pytest.raises(AppError) as other:
            await repo.get_or_404(theirs[0])
        with pytest.raises(AppError) as nowhere:
            await repo.get_or_404(uuid.uuid4())
    # Another tenant's id and an id that exists nowhere answer alike: nothing is revealed.
    for exc in (other.value, nowhere.value):
        assert (exc.status, exc.code, exc.message, exc.details) == (404, "NOT_FOUND", "annotation not found", {})


async def test_no_tenant_context_reads_nothing(db, rows):
    _, mine, _ = rows
    async with db.sessionmaker() as s:
        with pytest.raises(TenantContextMissing):
            await Annotations(s).get_or_404(mine[0])


async def test_page_is_the_list_envelope_scoped_to_the_tenant(db, rows):
    tenant, mine, _ = rows
    async with db.session(tenant_id=tenant) as s:
        await without_rls(s)
        repo = Annotations(s)
        first = await repo.page(PageParams(page=1, per_page=2))
        second = await repo.page(PageParams(page=2, per_page=2), out=lambda a: a.name)
        by_name = await repo.page(PageParams(page=1, per_page=10), select(Annotation).order_by(Annotation.name),
                                  out=lambda a: a.name)
        beyond = await repo.page(PageParams(page=5, per_page=2))
    # Default order: newest first.
    assert [a.id for a in first.items] == [mine[2], mine[1]]
    assert (first.total, first.page, first.per_page, first.total_pages) == (3, 1, 2, 2)
    assert second.items == ["a1"] and second.total == 3
    assert by_name.items == ["a1", "a2", "a3"]
    assert beyond.items == [] and beyond.total == 3 and beyond.total_pages == 2


async def test_update_checked_applies_flushes_audits_and_moves_the_version(db, rows):
    tenant, mine, _ = rows
    seen = []
    async with db.session(tenant_id=tenant) as s:
        await without_rls(s)
        repo = Annotations(s)
        before = await repo.get_or_404(mine[0])
        old_tag, old_updated = version_tag(before), before.updated_at

        def rename(a: Annotation) -> None:
            a.name = "renamed"

        def audit(a: Annotation) -> None:
            # The hook runs after the flush: the row in the database already holds the change.
            seen.append((a.id, a.name, not s.new and not s.dirty))

        a = await repo.update_checked(mine[0], old_tag, rename, audit=audit)
        assert a is before and a.name == "renamed"
        assert a.updated_at > old_updated and version_tag(a) != old_tag
    assert seen == [(mine[0], "renamed", True)]
    async with db.session(tenant_id=tenant) as s:
        assert (await Annotations(s).get_or_404(mine[0])).name == "renamed"


async def test_update_checked_refuses_a_stale_version_before_changing_anything(db, rows):
    tenant, mine, _ = rows
    calls = []
    async with db.session(tenant_id=tenant) as s:
        repo = Annotations(s)
        a = await repo.get_or_404(mine[1])
        current = version_tag(a)
        stale = 'W/"0123456789abcdef0123456789abcdef"'
        with pytest.raises(AppError) as refused:
            await repo.update_checked(a, stale, lambda x: calls.append("change"), audit=lambda x: calls.append("audit"))
        assert (refused.value.status, refused.value.code) == (412, "PRECONDITION_FAILED")
        assert refused.value.details == {"current_etag": current}
        assert calls == [] and a.name == "a2"
        # A list naming the current version (weak or strong), or "*", or no If-Match at all, passes.
        for if_match in (f'"nope", {current}', current.removeprefix("W/"), "*", None, ""):
            await repo.update_checked(a, if_match, lambda x: calls.append("change"))
            current = version_tag(a)
    assert calls == ["change"] * 5


async def test_update_checked_takes_an_async_change_and_touch_moves_the_version(db, rows):
    tenant, mine, _ = rows
    async with db.session(tenant_id=tenant) as s:
        repo = Annotations(s)
        a = await repo.get_or_404(mine[2])
        tag = version_tag(a)

        async def nothing(x: Annotation) -> None:
            await s.execute(select(Annotation.id).limit(1))  # e.g. a child row changed, not this one

        await repo.update_checked(a, tag, nothing)
        assert version_tag(a) == tag  # nothing on the row changed: same version
        await repo.update_checked(a, tag, nothing, touch=True, refresh=True)
        assert version_tag(a) != tag


async def test_update_checked_of_another_tenants_id_is_404_and_changes_nothing(db, rows, outsider):
    tenant, _, theirs = rows
    async with db.session(tenant_id=tenant) as s:
        with pytest.raises(AppError) as exc:
            await Annotations(s).update_checked(theirs[0], "*", lambda a: setattr(a, "name", "stolen"))
        assert exc.value.status == 404
        with pytest.raises(AppError) as exc:
            await Annotations(s).delete_checked(theirs[0], None)
        assert exc.value.status == 404
    async with db.session(tenant_id=uuid.UUID(outsider.tenant_id)) as s:
        assert (await Annotations(s).get_or_404(theirs[0])).name == "b1"


async def test_delete_checked_guards_checks_the_version_and_audits(db, rows):
    tenant, mine, _ = rows
    audited = []

    def refuse(a: Annotation) -> None:
        raise AppError("CONFLICT", "kept")

    async with db.session(tenant_id=tenant) as s:
        repo = Annotations(s)
        with pytest.raises(AppError) as exc:
            await repo.delete_checked(mine[0], None, guard=refuse, audit=audited.append)
        assert exc.value.code == "CONFLICT"
        with pytest.raises(AppError) as exc:
            await repo.delete_checked(mine[0], '"stale"', audit=audited.append)
        assert exc.value.code == "PRECONDITION_FAILED"
        assert audited == []
        a = await repo.get_or_404(mine[0])
        gone = await repo.delete_checked(mine[0], version_tag(a), guard=lambda x: None, audit=audited.append)
        assert gone.name == "a1" and audited == [gone]
    async with db.session(tenant_id=tenant) as s:
        assert await Annotations(s).get(mine[0]) is None
        assert await Annotations(s).get(mine[1]) is not None
