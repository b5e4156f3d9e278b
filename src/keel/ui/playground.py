"""The playground: chat with any model, route, registered fine-tune or prompt version (streamed), two side by
side, and save what worked as a new prompt version. Calls go through the gateway like any other request, so
they are traced, priced and limited; the page only relays them."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from pydantic import ValidationError

from keel.core.errors import InvalidInput, KeelError
from keel.gateway import chat, turns
from keel.gateway.providers.local import MODELS as LOCAL_MODELS
from keel.prompts import service as prompts
from keel.prompts.schemas import PromptCreate
from keel.ui import session
from keel.ui.core import UI, UIRoute, current, invalid

router = APIRouter(route_class=UIRoute, include_in_schema=False)


async def targets(ui: UI) -> dict[str, list[str]]:
    view = await turns.view(ui.runtime, ui.principal.project_id)
    local = view.upstreams.get("local")
    chat_models = [f"local/{m}" for m in LOCAL_MODELS if "minilm" not in m] if local is not None else []
    with ui.session() as db:
        page = prompts.list_prompts(db, ui.principal, None, 200)
        labels = prompts.labels_of(db, [p.id for p in page.items])
    prompt_refs = []
    for prompt in page.items:
        prompt_refs += [f"prompt:{prompt.name}@{label}" for label in sorted(labels.get(prompt.id, {}))]
        newest = range(prompt.latest_version, max(0, prompt.latest_version - 10), -1)
        prompt_refs += [f"prompt:{prompt.name}@{number}" for number in newest]
    return {
        "routes": sorted(view.routes),
        "registered": view.registered(),
        "models": chat_models,
        "prompts": prompt_refs,
    }


@router.get("/playground")
async def page(ui: Annotated[UI, Depends(current)], notice: str = "") -> HTMLResponse:
    return ui.render("playground.html", options=await targets(ui), notice=notice)


def _openai_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": "invalid_request_error"}}, status_code=status)


@router.post("/ui/api/chat", response_model=None)
async def relay(request: Request, ui: Annotated[UI, Depends(current)]) -> Response:
    if not session.csrf_ok(request.cookies.get(session.COOKIE), request.headers.get("x-keel-csrf")):
        return _openai_error(403, "the page expired; reload it")
    try:
        body = chat.load_request(await request.body())
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
        reply, _ = await turns.run_chat(ui.runtime, ui.principal, body, {"keel.source": "playground"})
    except KeelError as exc:
        return _openai_error(exc.status, exc.detail)
    if isinstance(reply.body, bytes):
        return Response(reply.body, status_code=reply.status, media_type=reply.media_type)
    return StreamingResponse(reply.body, status_code=reply.status, media_type="text/event-stream")


@router.post("/playground/save")
async def save(ui: Annotated[UI, Depends(current)]) -> RedirectResponse:
    """The system and user messages as a new version of a prompt (created if new)."""
    fields = await ui.form()
    name = fields.get("prompt_name", "").strip()
    if not name:
        raise InvalidInput("give the prompt a name to save it")
    messages: list[dict[str, Any]] = []
    if fields.get("system"):
        messages.append({"role": "system", "content": fields["system"]})
    messages.append({"role": "user", "content": fields.get("user") or "{{ input }}"})
    model = fields.get("left", "")
    try:
        data = PromptCreate(
            name=name,
            messages=messages,
            model=model if model and not model.startswith("prompt:") else None,
            params={"temperature": float(fields.get("temperature") or 0)},
            message=fields.get("commit") or "saved from the playground",
        )
    except ValidationError as exc:
        raise invalid(exc) from None
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    with ui.session() as db:
        _, version, _ = prompts.push(db, ui.principal, data)
    return RedirectResponse(f"/prompts/{name}?notice=Saved+as+version+{version.version}", status_code=303)
