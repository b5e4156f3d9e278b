"""Closed loops: each loop's selector, fine-tune, gate and canary at a glance, its runs with their stage and
why they ended, links to everything a run made, and a button to start one now."""

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, RedirectResponse

from keel.core.auth import Role
from keel.loops import loop_service as loops
from keel.ui.core import UI, UIRoute, current

router = APIRouter(route_class=UIRoute, include_in_schema=False)


@router.get("/loops")
def page(ui: Annotated[UI, Depends(current)], notice: str = "") -> HTMLResponse:
    with ui.session() as session:
        found = [
            (loop, loops.spec_of(loop), [loops.run_out(r, loop.name) for r in loops.runs(session, loop, 20)])
            for loop in loops.list_loops(session, ui.principal)
        ]
    return ui.render("loops.html", loops=found, notice=notice)


@router.post("/loops/{name}/run")
async def run_now(name: str, ui: Annotated[UI, Depends(current)]) -> RedirectResponse:
    await ui.form()
    ui.principal.require(Role.admin)
    with ui.session() as session:
        run = loops.start(session, loops.get(session, ui.principal, name), "manual")
    return RedirectResponse(f"/loops?notice=Run+{run.number}+of+{name}+started", status_code=303)
