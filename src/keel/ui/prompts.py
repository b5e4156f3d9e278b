"""Prompts: the list, one prompt's versions with a diff between any two, labels moved with confirmation."""

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, RedirectResponse

from keel.core.errors import InvalidInput
from keel.prompts import service as prompts
from keel.ui.core import UI, UIRoute, current, number

router = APIRouter(route_class=UIRoute, include_in_schema=False)


@router.get("/prompts")
def prompt_list(ui: Annotated[UI, Depends(current)]) -> HTMLResponse:
    with ui.session() as session:
        page = prompts.list_prompts(session, ui.principal, None, 200)
        labels = prompts.labels_of(session, [p.id for p in page.items])
    return ui.render("prompts.html", prompts=page.items, labels=labels)


@router.get("/prompts/{name}")
def prompt_view(
    name: str,
    ui: Annotated[UI, Depends(current)],
    a: int | None = None,
    b: int | None = None,
    notice: str = "",
) -> HTMLResponse:
    with ui.session() as session:
        prompt, versions = prompts.list_versions(session, ui.principal, name)
        labels = prompts.labels_of(session, [prompt.id]).get(prompt.id, {})
        newest = versions[-1].version if versions else 0
        old, new = a or max(1, newest - 1), b or newest
        changed, unified = prompts.diff(session, ui.principal, name, old, new) if newest > 1 else ([], "")
        protected = list(prompt.protected_labels)
    return ui.render(
        "prompt.html",
        prompt=prompt,
        versions=list(reversed(versions)),
        labels=labels,
        protected=protected,
        old=old,
        new=new,
        changed=changed,
        diff_lines=unified.splitlines(),
        notice=notice,
    )


@router.post("/prompts/{name}/labels")
async def move_label(name: str, ui: Annotated[UI, Depends(current)]) -> RedirectResponse:
    fields = await ui.form()
    label = fields.get("label", "").strip()
    if not label:
        raise InvalidInput("give the label to move")
    version = number(fields, "version", int)
    with ui.session() as session:
        prompts.move_label(session, ui.principal, name, label, version)
    return RedirectResponse(f"/prompts/{name}?notice=Moved+{label}+to+version+{version}", status_code=303)
