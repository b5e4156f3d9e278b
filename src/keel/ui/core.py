"""What every UI page shares: who is signed in, rendering, forms, and errors shown as pages.

UI routes use `UIRoute`, which turns a `KeelError` into the same page layout with the message (a 403 for a
viewer who tries to edit, a 404 for another project's object) and a missing or dead session into a redirect
to the login page. Forms are plain urlencoded posts checked against the session's CSRF token.
"""

import json
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError

from keel.core.auth import Principal, Role
from keel.core.errors import Forbidden, InvalidInput, KeelError, Unauthorized
from keel.core.jsontext import parse_json_or_text
from keel.server.deps import principal_from_header
from keel.ui import charts, session

TEMPLATES = Path(__file__).parent / "templates"
env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(), trim_blocks=True)
env.globals.update(
    line_chart=charts.line_chart, bar_chart=charts.bar_chart, overlay_chart=charts.overlay_chart
)


def pretty(text: str | None) -> str:
    """Stored span I/O for reading: chat messages as `role: content` lines, other JSON indented."""
    value = parse_json_or_text(text) if text else ""
    if isinstance(value, list) and all(isinstance(m, dict) and "role" in m for m in value):
        return "\n\n".join(f"{m['role']}: {m.get('content')}" for m in value)
    return value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False)


env.filters["pretty"] = pretty
NAV = (
    ("/", "Overview"),
    ("/traces", "Traces"),
    ("/playground", "Playground"),
    ("/prompts", "Prompts"),
    ("/datasets", "Datasets"),
    ("/experiments", "Experiments"),
    ("/knowledge", "Knowledge"),
    ("/finetunes", "Fine-tunes"),
    ("/models", "Models"),
    ("/loops", "Loops"),
    ("/gateway", "Gateway"),
    ("/guardrails", "Guardrails"),
    ("/monitoring", "Monitoring"),
)


class LoginRequired(Exception):
    def __init__(self, reason: str = "") -> None:
        self.reason = reason


class UI:
    """The request's signed-in principal, its store session and page rendering."""

    def __init__(self, request: Request, principal: Principal, cookie: str) -> None:
        self.request = request
        self.runtime: Any = request.app.state.runtime
        self.principal = principal
        self.csrf = session.csrf_token(cookie)

    def session(self) -> Any:
        return self.runtime.sessions()

    def can(self, role: Role) -> bool:
        return self.principal.instance_admin or self.principal.role.rank >= role.rank

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        page = env.get_template(template).render(
            ui=self, nav=NAV, path=self.request.url.path, Role=Role, **context
        )
        return HTMLResponse(page, status_code=status)

    async def form(self) -> dict[str, str]:
        """The posted form (urlencoded), after checking its CSRF token; last value wins per field."""
        fields = {
            k: v[-1]
            for k, v in parse_qs((await self.request.body()).decode(), keep_blank_values=True).items()
        }
        if not session.csrf_ok(self.request.cookies.get(session.COOKIE), fields.pop("csrf", None)):
            raise Forbidden("the form expired or came from another site; reload the page and try again")
        return fields


async def current(request: Request) -> UI:
    """FastAPI dependency: the signed-in UI, or LoginRequired (redirect to /login)."""
    runtime = request.app.state.runtime
    cookie = request.cookies.get(session.COOKIE)
    key = session.read(runtime.secrets, cookie)
    if key is None or cookie is None:
        raise LoginRequired("expired" if cookie else "")
    try:
        principal = await principal_from_header(runtime, f"Bearer {key}")
    except Unauthorized as exc:
        raise LoginRequired(exc.detail) from None
    return UI(request, principal, cookie)


def error_page(request: Request, status: int, title: str, detail: str) -> HTMLResponse:
    page = env.get_template("error.html").render(
        ui=None, nav=NAV, path=request.url.path, status=status, title=title, detail=detail
    )
    return HTMLResponse(page, status_code=status)


class UIRoute(APIRoute):
    """Errors become pages; a missing session becomes a redirect to the login page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired as exc:
                target = f"/login?next={quote(request.url.path)}"
                if exc.reason:
                    target += f"&reason={quote(exc.reason)}"
                return RedirectResponse(target, status_code=303)
            except KeelError as exc:
                return error_page(request, exc.status, exc.title, exc.detail)

        return run


def invalid(exc: ValidationError, prefix: str = "") -> InvalidInput:
    """A form's validation errors as one readable 422 (field: problem; ...)."""
    problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    return InvalidInput(prefix + problems)


def number(fields: dict[str, str], name: str, kind: type = float) -> Any:
    raw = fields.get(name, "").strip()
    try:
        return kind(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be a number; got {raw!r}", param=name) from None
