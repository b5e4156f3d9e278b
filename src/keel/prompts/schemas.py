"""Prompt request and response bodies, and the push-file format (`keel prompts push FILE`), which is the
same as the create body."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

PROMPT_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
LABEL_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
ROLES = ("system", "developer", "user", "assistant", "tool")


class PromptMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str = Field(description="system, developer, user, assistant or tool.")
    content: str | list[dict[str, Any]] | None = Field(description="Text (a template) or content parts.")

    @model_validator(mode="after")
    def _role(self) -> "PromptMessage":
        if self.role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}; got {self.role!r}")
        return self


class PromptCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200, pattern=PROMPT_NAME)
    messages: list[PromptMessage] | None = Field(default=None, description="A chat prompt's messages.")
    template: str | None = Field(default=None, description="A text prompt (instead of messages).")
    model: str | None = Field(default=None, max_length=200, description="Model or route to call.")
    params: dict[str, Any] = Field(
        default_factory=dict, description="temperature, max_tokens, response_format, tools, ..."
    )
    message: str = Field(default="", max_length=2000, description="Commit message for this version.")
    description: str | None = Field(default=None, max_length=2000)
    labels: list[str] = Field(default_factory=list, description="Labels to point at the new version.")
    only_if_changed: bool = Field(
        default=False, description="Return the latest version instead of a new one when nothing changed."
    )

    @model_validator(mode="after")
    def _one_body(self) -> "PromptCreate":
        if (self.messages is None) == (self.template is None):
            raise ValueError("give exactly one of `messages` (a chat prompt) or `template` (a text prompt)")
        if self.messages is not None and not self.messages:
            raise ValueError("`messages` must not be empty")
        for forbidden in ("messages", "model", "stream", "prompt", "variables"):
            if forbidden in self.params:
                raise ValueError(f"params may not set `{forbidden}`")
        return self


class PromptVersionOut(BaseModel):
    name: str
    version: int
    type: str = Field(description="chat or text")
    messages: list[dict[str, Any]] | None
    template: str | None
    variables: list[str]
    model: str | None
    params: dict[str, Any]
    message: str
    author: str
    labels: list[str]
    created_at: datetime
    created: bool = Field(
        default=True, description="False when only_if_changed returned an existing version."
    )


class PromptOut(BaseModel):
    id: str
    name: str
    description: str
    latest_version: int
    labels: dict[str, int]
    protected_labels: list[str]
    created_at: datetime
    updated_at: datetime


class PromptList(BaseModel):
    items: list[PromptOut]
    next_cursor: str | None


class VersionList(BaseModel):
    items: list[PromptVersionOut]


class LabelMove(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1)


class PromptUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str | None = Field(default=None, max_length=2000)
    protected_labels: list[str] | None = Field(default=None, description="Labels only admins may move.")


class RenderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    variables: dict[str, Any] = Field(default_factory=dict)


class RenderOut(BaseModel):
    name: str
    version: int
    messages: list[dict[str, Any]] | None
    text: str | None
    model: str | None
    params: dict[str, Any]


class DiffOut(BaseModel):
    name: str
    from_version: int
    to_version: int
    changed: list[str] = Field(description="Top-level fields that differ: messages/template, model, params.")
    diff: str = Field(description="Unified diff of the two versions rendered as YAML.")
