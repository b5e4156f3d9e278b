"""Knowledge bases: their documents (with ingestion failures) and a search box over them."""

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from keel.knowledge import service as knowledge
from keel.ui.core import UI, UIRoute, current

router = APIRouter(route_class=UIRoute, include_in_schema=False)


@router.get("/knowledge")
def kb_list(ui: Annotated[UI, Depends(current)]) -> HTMLResponse:
    with ui.session() as session:
        rows = [(kb, knowledge.counts(session, kb.id)) for kb in knowledge.list_all(session, ui.principal)]
    return ui.render("knowledge.html", rows=rows)


@router.get("/knowledge/{name}")
def kb_view(
    name: str, ui: Annotated[UI, Depends(current)], q: str = "", mode: str = "hybrid"
) -> HTMLResponse:
    with ui.session() as session:
        kb = knowledge.get(session, ui.principal, name)
        documents = knowledge.documents(session, kb)
    hits = ui.runtime.service("knowledge").search_by_name(ui.principal, name, q, 5, mode) if q.strip() else []
    return ui.render("kb.html", kb=kb, documents=documents, hits=hits, q=q, mode=mode)
