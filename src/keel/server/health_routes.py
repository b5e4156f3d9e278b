"""Liveness and readiness. `/healthz` says the process answers; `/readyz` runs every registered check.

A service with `alive` is a check; one with `health()` adds its details (the local runtime's models,
adapter serving and library versions).
"""

from typing import Any

import orjson
from fastapi import APIRouter, Response
from sqlalchemy import text

from keel.server.deps import RuntimeDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
def readyz(runtime: RuntimeDep) -> Response:
    checks: dict[str, Any] = {}
    ready = True
    try:
        with runtime.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = {"ok": True, "dialect": runtime.engine.dialect.name}
    except Exception as exc:
        ready = False
        checks["database"] = {"ok": False, "error": str(exc).splitlines()[0]}
    if runtime.worker is not None:
        checks["worker"] = {"ok": runtime.worker.alive, "id": runtime.worker.id}
        ready = ready and runtime.worker.alive
    for name, service in runtime.services.items():
        if hasattr(service, "alive"):
            checks[name] = {"ok": bool(service.alive)}
            if hasattr(service, "health"):
                checks[name].update(service.health())
            ready = ready and bool(service.alive)
    for name, check in runtime.plugins.readiness_checks.items():
        try:
            checks[name] = {"ok": True, "detail": check()}
        except Exception as exc:
            ready = False
            checks[name] = {"ok": False, "error": str(exc)}
    body = {"status": "ready" if ready else "not_ready", "checks": checks}
    return Response(orjson.dumps(body), 200 if ready else 503, media_type="application/json")
