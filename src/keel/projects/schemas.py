"""Request and response bodies for projects and keys. Unknown fields are rejected, not ignored."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from keel.core.auth import Role


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$"


class ProjectCreate(Strict):
    name: str = Field(min_length=1, max_length=100, pattern=NAME_PATTERN)


class ProjectUpdate(Strict):
    name: str = Field(min_length=1, max_length=100, pattern=NAME_PATTERN)


class ProjectOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    created_at: datetime


class KeyCreate(Strict):
    project_id: str | None = Field(default=None, description="Defaults to the caller's project.")
    role: Role = Role.member
    name: str = Field(min_length=1, max_length=100)
    expires_at: datetime | None = Field(
        default=None, description="UTC time after which the key stops working."
    )


class KeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    project_id: str
    name: str
    role: Role
    prefix: str
    instance_admin: bool
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class KeyCreated(KeyOut):
    key: str = Field(description="The secret. Shown only in this response; store it now.")


class ProjectList(BaseModel):
    items: list[ProjectOut]
    next_cursor: str | None


class KeyList(BaseModel):
    items: list[KeyOut]
    next_cursor: str | None
