"""Bodies of /account/export, /onboarding and /public/brand-settings."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from xinex.kit.types import UTCDatetime


class ExportOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "0c6f1c1e-3a57-4c3e-9a8e-6f0c1d2e3f4a", "status": "ready",
        "status_url": "/api/v1/account/exports/0c6f1c1e-3a57-4c3e-9a8e-6f0c1d2e3f4a",
        "download_url": "/api/v1/account/exports/0c6f1c1e-3a57-4c3e-9a8e-6f0c1d2e3f4a/download?expires=1764892800"
                        "&signature=5f2b…", "size_bytes": 48213, "created_at": "2026-12-04T23:00:00Z",
        "finished_at": "2026-12-04T23:00:02Z", "expires_at": "2026-12-05T23:00:02Z", "error": None}]})

    id: uuid.UUID
    status: Literal["pending", "running", "ready", "failed"]
    status_url: str
    download_url: str | None = Field(description="A signed link for the requester, valid until expires_at "
                                     "(24 h after the export is ready)")
    size_bytes: int | None
    created_at: UTCDatetime
    finished_at: UTCDatetime | None
    expires_at: UTCDatetime | None
    error: str | None


class OnboardingStep(BaseModel):
    key: str
    title: str
    done: bool
    how: Literal["derived", "manual"] | None = Field(description="derived: from what the tenant has; manual: "
                                                     "marked done with POST /onboarding/{step}/complete")
    completed_at: UTCDatetime | None


class OnboardingOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "steps": [{"key": "first_check", "title": "Create a monitor or a heartbeat", "done": True, "how": "derived",
                   "completed_at": None},
                  {"key": "invite_teammate", "title": "Invite a teammate", "done": False, "how": None,
                   "completed_at": None}],
        "completed": 1, "total": 2}]})

    steps: list[OnboardingStep]
    completed: int
    total: int


class BrandOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "name": "Xinex", "logo_url": "https://status.example.com/logo.svg", "primary_color": "#4f46e5",
        "accent_color": "#0ea5e9", "support_email": "support@example.com"}]})

    name: str
    logo_url: str | None
    primary_color: str
    accent_color: str
    support_email: str | None
