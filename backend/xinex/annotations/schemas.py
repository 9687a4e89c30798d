"""Annotation request/response shapes. A marker is a point (`time`) or a range (`start`/`end`)."""

from __future__ import annotations

import uuid
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.config import JsonDict

from xinex.kit.fields import VISIBLE
from xinex.kit.types import NUL_MESSAGE, NulFreeStr, UTCDatetime, UTCInstant

MAX_TAGS = 20
# What clean_tags accepts, for the OpenAPI document.
ANNOTATION_TAGS_SCHEMA: JsonDict = {"maxItems": MAX_TAGS, "items": {"type": "string", "minLength": 1, "maxLength": 100,
                                                          "pattern": f"^[^\\x00]*{VISIBLE}[^\\x00]*$"}}


def clean_tags(tags: list[str] | None) -> list[str] | None:
    if tags is None:
        return None
    out: list[str] = []
    for tag in tags:
        tag = tag.strip()
        if not tag or len(tag) > 100:
            raise ValueError("each tag must be 1-100 characters")
        if "\x00" in tag:
            raise ValueError(f"each tag {NUL_MESSAGE}")
        if tag not in out:
            out.append(tag)
    if len(out) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} tags")
    return out


class _Fields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: NulFreeStr | None = Field(default=None, max_length=4000)
    time: UTCInstant | None = Field(default=None, description="a point in time (same as start without end); "
                                   "a time without an offset is UTC")
    start: UTCInstant | None = Field(default=None, description="start of a range; no offset = UTC")
    end: UTCInstant | None = Field(default=None, description="end of a range; no offset = UTC")
    tags: list[str] | None = Field(default=None, json_schema_extra=ANNOTATION_TAGS_SCHEMA)

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: list[str] | None) -> list[str] | None:
        return clean_tags(v)

    @model_validator(mode="after")
    def _range(self) -> Self:
        if self.time is not None and (self.start is not None or self.end is not None):
            raise ValueError("give either time, or start (and optionally end)")
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError("end must not be before start")
        return self


def _name(v: str) -> str:
    v = v.strip()
    if not v:
        raise ValueError("must not be blank")
    return v


class AnnotationCreate(_Fields):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"name": "deploy v2.14.0", "time": "2026-12-04T15:30:00Z", "tags": ["deploy", "api"]},
        {"name": "load test", "start": "2026-12-04T16:00:00Z", "end": "2026-12-04T17:00:00Z"},
    ]})

    name: NulFreeStr = Field(min_length=1, max_length=200)

    @field_validator("name")
    @classmethod
    def _n(cls, v: str) -> str:
        return _name(v)


class AnnotationUpdate(_Fields):
    model_config = ConfigDict(json_schema_extra={"examples": [{"description": "rolled back at 15:42"}]})

    name: NulFreeStr | None = Field(default=None, min_length=1, max_length=200)

    @field_validator("name")
    @classmethod
    def _n(cls, v: str | None) -> str | None:
        return None if v is None else _name(v)


class AnnotationOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "name": "deploy checkout 2.4", "description": "canary at 10 %", "time": "2026-12-04T09:30:00Z",
        "start": "2026-12-04T09:30:00Z", "end": None, "tags": ["deploy"], "created_at": "2026-12-01T08:00:00Z",
        "updated_at": "2026-12-04T09:30:00Z"}]})
    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    description: str
    time: UTCDatetime
    start: UTCDatetime
    end: UTCDatetime | None
    tags: list[str]
    created_at: UTCDatetime
    updated_at: UTCDatetime
