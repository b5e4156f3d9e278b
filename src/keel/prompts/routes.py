"""Prompt registry API, `/api/v1/prompts`: push, list, get `name[@version|@label]`, labels, diff, render."""

from typing import Annotated

from fastapi import APIRouter, Query, Response

from keel.prompts import service, templates
from keel.prompts.models import Prompt, PromptVersion
from keel.prompts.schemas import (
    DiffOut,
    LabelMove,
    PromptCreate,
    PromptList,
    PromptOut,
    PromptUpdate,
    PromptVersionOut,
    RenderIn,
    RenderOut,
    VersionList,
)
from keel.server.deps import PrincipalDep, RuntimeDep, SessionDep

router = APIRouter(prefix="/api/v1/prompts", tags=["prompts"])
PageLimit = Annotated[int, Query(ge=1, le=200)]


def prompt_out(prompt: Prompt, labels: dict[str, int]) -> PromptOut:
    return PromptOut(
        id=prompt.id,
        name=prompt.name,
        description=prompt.description,
        latest_version=prompt.latest_version,
        labels=labels,
        protected_labels=prompt.protected_labels,
        created_at=prompt.created_at,
        updated_at=prompt.updated_at,
    )


def version_out(
    prompt: Prompt, version: PromptVersion, labels: dict[str, int], created: bool = True
) -> PromptVersionOut:
    pointing = sorted(label for label, number in labels.items() if number == version.version)
    if version.version == prompt.latest_version:
        pointing.append(service.LATEST)
    return PromptVersionOut(
        name=prompt.name,
        version=version.version,
        type="chat" if version.messages is not None else "text",
        messages=version.messages,
        template=version.template,
        variables=version.variables,
        model=version.model,
        params=version.params,
        message=version.message,
        author=version.author,
        labels=pointing,
        created_at=version.created_at,
        created=created,
    )


@router.post("", status_code=201)
def push(
    body: PromptCreate, response: Response, runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> PromptVersionOut:
    prompt, version, created = service.push(session, principal, body)
    if not created:
        response.status_code = 200
    labels = service.labels_of(session, [prompt.id]).get(prompt.id, {})
    return version_out(prompt, version, labels, created)


@router.get("")
def list_all(
    session: SessionDep, principal: PrincipalDep, cursor: str | None = None, limit: PageLimit = 50
) -> PromptList:
    page = service.list_prompts(session, principal, cursor, limit)
    labels = service.labels_of(session, [p.id for p in page.items])
    return PromptList(
        items=[prompt_out(p, labels.get(p.id, {})) for p in page.items], next_cursor=page.next_cursor
    )


@router.get("/{ref}")
def get(ref: str, session: SessionDep, principal: PrincipalDep) -> PromptVersionOut:
    """`name` (latest), `name@3` or `name@production`."""
    prompt, version = service.resolve(session, principal, ref)
    return version_out(prompt, version, service.labels_of(session, [prompt.id]).get(prompt.id, {}))


@router.get("/{name}/versions")
def versions(name: str, session: SessionDep, principal: PrincipalDep) -> VersionList:
    prompt, found = service.list_versions(session, principal, name)
    labels = service.labels_of(session, [prompt.id]).get(prompt.id, {})
    return VersionList(items=[version_out(prompt, v, labels) for v in found])


@router.get("/{name}/info")
def info(name: str, session: SessionDep, principal: PrincipalDep) -> PromptOut:
    prompt = service.get_prompt(session, principal, name)
    return prompt_out(prompt, service.labels_of(session, [prompt.id]).get(prompt.id, {}))


@router.patch("/{name}")
def update(name: str, body: PromptUpdate, session: SessionDep, principal: PrincipalDep) -> PromptOut:
    prompt = service.update_prompt(session, principal, name, body)
    return prompt_out(prompt, service.labels_of(session, [prompt.id]).get(prompt.id, {}))


@router.delete("/{name}", status_code=204)
def delete(name: str, runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep) -> Response:
    service.delete_prompt(session, principal, name)
    return Response(status_code=204)


@router.put("/{name}/labels/{label}")
def move_label(
    name: str, label: str, body: LabelMove, runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> PromptOut:
    prompt = service.move_label(session, principal, name, label, body.version)
    return prompt_out(prompt, service.labels_of(session, [prompt.id]).get(prompt.id, {}))


@router.delete("/{name}/labels/{label}", status_code=204)
def delete_label(
    name: str, label: str, runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> Response:
    service.delete_label(session, principal, name, label)
    return Response(status_code=204)


@router.get("/{name}/diff")
def diff(
    name: str,
    session: SessionDep,
    principal: PrincipalDep,
    from_version: Annotated[int, Query(alias="from", ge=1)],
    to_version: Annotated[int, Query(alias="to", ge=1)],
) -> DiffOut:
    changed, unified = service.diff(session, principal, name, from_version, to_version)
    return DiffOut(name=name, from_version=from_version, to_version=to_version, changed=changed, diff=unified)


@router.post("/{ref}/render")
def render(ref: str, body: RenderIn, session: SessionDep, principal: PrincipalDep) -> RenderOut:
    prompt, version = service.resolve(session, principal, ref)
    messages, text = templates.render(version.messages, version.template, version.variables, body.variables)
    return RenderOut(
        name=prompt.name,
        version=version.version,
        messages=messages,
        text=text,
        model=version.model,
        params=version.params,
    )
