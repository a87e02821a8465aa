"""The JSON bodies of the native jobs API as pydantic models, for the OpenAPI document. The
answers are built by ``serialize``; these models name and describe their fields."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

JobState = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class JobInfo(BaseModel):
    id: int
    kind: str = Field(description="What the job does: train")
    state: JobState
    title: str
    owner: str = Field(description="The user who submitted it")
    spec: dict[str, Any] = Field(description="The validated recipe")
    spec_text: str = Field(description="The recipe as submitted")
    created_at: str | None
    started_at: str | None
    finished_at: str | None
    cancel_requested: bool
    message: str = Field(description="How it ended, or why it is waiting")
    result: dict[str, Any] = Field(description="What the job reported at its end (its output revision)")
    progress: dict[str, Any] = Field(description="The newest metrics")
    attempts: int


class JobEvent(BaseModel):
    id: int
    kind: str = Field(description="metrics, log or state")
    data: dict[str, Any]
    created_at: str | None


class JobEvents(BaseModel):
    state: JobState
    events: list[JobEvent]
