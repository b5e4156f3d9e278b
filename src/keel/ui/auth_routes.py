"""Sign in with an API key, sign out, and the UI's own static files."""

from pathlib import Path
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from keel.core.errors import NotFound, Unauthorized
from keel.server.deps import principal_from_header
from keel.ui import session
from keel.ui.core import NAV, UIRoute, env

router = APIRouter(route_class=UIRoute, include_in_schema=False)
STATIC = Path(__file__).parent / "static"
ASSETS = {"keel.css": "text/css", "keel.js": "text/javascript"}


def _safe_next(target: str) -> str:
    """Only paths on this site (no `//host`, no scheme): no open redirect through the login form."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


def login_page(request: Request, error: str = "", status: int = 200) -> HTMLResponse:
    target = _safe_next(request.query_params.get("next", "/"))
    reason = request.query_params.get("reason", "")
    if not error and reason:
        error = "Your session expired; sign in again." if reason == "expired" else f"Signed out: {reason}"
    page = env.get_template("login.html").render(ui=None, nav=NAV, path="/login", next=target, error=error)
    return HTMLResponse(page, status_code=status)


@router.get("/login")
async def login_form(request: Request) -> HTMLResponse:
    return login_page(request)


@router.post("/login", response_model=None)
async def login(request: Request) -> Response:
    fields = {k: v[-1] for k, v in parse_qs((await request.body()).decode()).items()}
    key = fields.get("key", "").strip()
    target = _safe_next(fields.get("next", "/"))
    runtime = request.app.state.runtime
    try:
        await principal_from_header(runtime, f"Bearer {key}")
    except Unauthorized as exc:
        return login_page(request, f"That key does not work: {exc.detail}", status=401)
    response = RedirectResponse(target, status_code=303)
    secure = request.url.scheme == "https"
    response.set_cookie(
        session.COOKIE,
        session.issue(runtime.secrets, key),
        max_age=session.LIFETIME_S,
        httponly=True,
        samesite="strict",
        secure=secure,
    )
    return response


@router.post("/logout")
async def logout() -> RedirectResponse:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(session.COOKIE)
    return response


@router.get("/ui/static/{name}")
async def static(name: str) -> FileResponse:
    if name not in ASSETS:
        raise NotFound(f"no static file {name!r}")
    return FileResponse(STATIC / name, media_type=ASSETS[name], headers={"Cache-Control": "max-age=300"})
