"""App factory: `create_app(settings)` builds a FastAPI app whose lifespan opens the store, starts the job
worker and stops both cleanly. Nothing happens at import time; every app owns its runtime.
"""

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import APIRouter, FastAPI
from starlette.routing import BaseRoute

from keel import __version__
from keel.jobs.worker import Worker
from keel.plugins.manager import Plugins
from keel.server import problems
from keel.server.fast import FastRoutes
from keel.server.logs import configure as configure_logging
from keel.server.middleware import BodyLimit, RequestContext
from keel.server.runtime import open_runtime
from keel.settings import Settings


def create_app(
    settings: Settings | None = None, *, plugins: Iterable[object] = (), configure_logs: bool = False
) -> FastAPI:
    settings = settings or Settings()
    if configure_logs:
        configure_logging(settings.log_format, settings.log_level)
    registry = Plugins(plugins)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await anyio.to_thread.run_sync(open_runtime, settings, registry)
        app.state.runtime = runtime
        for name, factory in registry.services.items():
            runtime.services[name] = factory(runtime)
        for service in runtime.services.values():  # every service exists before any starts
            service.start()
        if settings.worker_enabled:
            runtime.worker = Worker(runtime.sessions, registry.job_kinds, settings, runtime.services)
            runtime.worker.start()
        try:
            yield
        finally:
            if runtime.worker is not None:
                await anyio.to_thread.run_sync(runtime.worker.stop, settings.shutdown_grace_seconds)
            for service in reversed(list(runtime.services.values())):
                if hasattr(service, "aclose"):  # services holding event-loop resources close on the loop
                    await service.aclose()
                else:
                    await anyio.to_thread.run_sync(service.stop)
            runtime.engine.dispose()

    app = FastAPI(
        title="Keel",
        version=__version__,
        description="Self-hosted LLMOps platform: gateway, tracing, prompts, knowledge, evals, fine-tuning.",
        lifespan=lifespan,
        docs_url=None,  # Swagger UI and ReDoc load from a CDN; Keel serves /openapi.json only
        redoc_url=None,
    )
    problems.install(app)
    for router in registry.routers():
        app.router.routes.extend(mounted(router))
    app.add_middleware(FastRoutes, routes=registry.fast_routes())
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(RequestContext)
    return app


_MOUNTED: dict[int, tuple[Any, list[BaseRoute]]] = {}


def mounted(router: Any) -> list[BaseRoute]:
    """`router` as included into an app, built once per process and shared by every app made here.

    FastAPI builds an included router's dependants (a pydantic adapter per parameter) on its first request,
    once per inclusion; including each plugin's router once and handing every app the same inclusion keeps
    that cost at one per process instead of one per app (the test suite makes hundreds of apps).
    Plugin routers are module-level objects and carry no lifespan or dependency overrides of their own.
    """
    known = _MOUNTED.get(id(router))
    if known is None or known[0] is not router:
        holder = APIRouter()
        holder.include_router(router)
        known = _MOUNTED[id(router)] = (router, list(holder.routes))
    return known[1]
