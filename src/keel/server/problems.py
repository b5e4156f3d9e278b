"""Error bodies in two dialects: OpenAI-style `{"error": {...}}` under `/v1`, RFC 9457 problem+json elsewhere.

Clients of the OpenAI-compatible API parse the first shape; everything else gets the standard one. Every
handler here answers with a precise message and never a traceback.
"""

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from keel.core.errors import KeelError

log = logging.getLogger("keel.server")

_OPENAI_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    409: "invalid_request_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    503: "service_unavailable",
}


def error_response(
    path: str, status: int, code: str, title: str, detail: str, extra: dict[str, Any] | None = None
) -> Response:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    if extra and extra.get("retry_after"):
        headers["Retry-After"] = str(extra["retry_after"])
    if path == "/v1" or path.startswith("/v1/"):
        if status == 422:  # OpenAI answers a request that fails validation with 400 invalid_request_error
            status = 400
        body = {
            "error": {
                "message": detail,
                "type": _OPENAI_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error"),
                "param": (extra or {}).get("param"),
                "code": code,
            }
        }
        return Response(orjson.dumps(body), status, headers, media_type="application/json")
    problem = {"type": "about:blank", "title": title, "status": status, "detail": detail, "code": code}
    problem.update(extra or {})
    return Response(orjson.dumps(problem), status, headers, media_type="application/problem+json")


def _validation_detail(
    exc: RequestValidationError, content_type: str
) -> tuple[str, str, list[dict[str, Any]]]:
    if "json" not in content_type and any(tuple(e.get("loc", ())) == ("body",) for e in exc.errors()):
        return "malformed_json", "request body must be JSON; send Content-Type: application/json", []
    errors = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ()) if part != "body"]
        errors.append({"field": ".".join(loc) or "body", "message": err.get("msg", "invalid")})
        if err.get("type") == "json_invalid":
            ctx = err.get("ctx") or {}
            return "malformed_json", f"request body is not valid JSON: {ctx.get('error', 'parse error')}", []
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return "invalid_input", summary or "invalid request", errors


async def _keel_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, KeelError)
    return error_response(request.url.path, exc.status, exc.code, exc.title, exc.detail, exc.extra)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    code, detail, errors = _validation_detail(exc, request.headers.get("content-type", ""))
    status = 400 if code == "malformed_json" else 422
    extra: dict[str, Any] = {"errors": errors} if errors else {}
    if errors:
        extra["param"] = errors[0]["field"]
    return error_response(request.url.path, status, code, "Invalid request", detail, extra)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        detail = f"no route for {request.method} {request.url.path}"
    else:
        detail = str(exc.detail)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return error_response(request.url.path, exc.status_code, code, "Request failed", detail)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(
        request.url.path,
        500,
        "internal_error",
        "Internal error",
        "the server hit an unexpected error; see logs",
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(KeelError, _keel_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
