"""Request/response shapes of /dsl and the telemetry read endpoints."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from xinex.annotations.schemas import AnnotationOut


class DslIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, max_length=20_000, description="an OQL query")
    annotations: bool = Field(default=False, description="also return annotations in the query's time range")


class DslColumn(BaseModel):
    name: str
    type: str


class DslOut(BaseModel):
    columns: list[DslColumn]
    rows: list[list[Any]]
    annotations: list[AnnotationOut] | None = None


class LogOut(BaseModel):
    timestamp: str
    observed_timestamp: str
    service: str
    severity: str
    severity_number: int
    body: str
    trace_id: str | None
    span_id: str | None
    scope: str
    attributes: dict[str, str]
    resource: dict[str, str]


class ServiceOut(BaseModel):
    name: str
    span_count: int
    error_count: int
    error_rate: float
    p95_ms: float | None
    log_count: int
    last_seen: str
