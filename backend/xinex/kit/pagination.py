"""The list envelope: {"items", "total", "page", "per_page", "total_pages"}; per_page ≤ 100."""

from __future__ import annotations

import math
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


class PageParams(BaseModel):
    page: int = 1
    per_page: int = 25

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def page_params(
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 25,
) -> PageParams:
    return PageParams(page=page, per_page=per_page)


PageDep = Annotated[PageParams, Depends(page_params)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int
    total_pages: int

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        """A page of T is documented with an example built from T's own first example, so every list
        endpoint shows one without repeating it (`site/openapi.py` copies it into the operation)."""
        schema = handler(core_schema)
        examples = cls.page_examples()
        if examples:
            handler.resolve_ref_schema(schema).setdefault("examples", examples)
        return schema

    @classmethod
    def page_examples(cls) -> list[Any]:
        """[a page holding the item model's first example], or [] when the item model declares none."""
        args = cls.__pydantic_generic_metadata__.get("args") or ()
        item = args[0] if args else None
        extra = item.model_config.get("json_schema_extra") if isinstance(item, type) and issubclass(
            item, BaseModel) else None
        examples = extra.get("examples") if isinstance(extra, dict) else None
        if not isinstance(examples, list) or not examples:
            return []
        return [{"items": examples[:1], "total": 1, "page": 1, "per_page": 25, "total_pages": 1}]

    @classmethod
    def of(cls, items: list[Any], total: int, params: PageParams) -> Page[Any]:
        return cls(
            items=items,
            total=total,
            page=params.page,
            per_page=params.per_page,
            total_pages=math.ceil(total / params.per_page) if total else 0,
        )


async def paginate(session: AsyncSession, stmt: Select[Any], params: PageParams) -> tuple[list[Any], int]:
    """Runs the count and the page of `stmt` (ORM select); the tenancy layer scopes both."""
    total = (await session.execute(select(func.count()).select_from(stmt.order_by(None).subquery()))).scalar_one()
    rows = (await session.execute(stmt.offset(params.offset).limit(params.per_page))).scalars().all()
    return list(rows), int(total)
