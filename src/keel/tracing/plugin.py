"""Built-in plugin: trace ingest and query API, the trace writer, the retention sweeper and `keel traces`."""

from typing import Any

from keel.plugins.hookspecs import Register, hookimpl


@hookimpl
def register_routers(register: Register) -> None:
    from keel.tracing.routes import ingest, router

    register(ingest)
    register(router)


@hookimpl
def register_services(register: Register) -> None:
    from keel.tracing.retention import RetentionSweeper
    from keel.tracing.writer import TraceWriter

    def writer(runtime: Any) -> TraceWriter:
        settings = runtime.settings
        return TraceWriter(
            runtime.sessions,
            max_queued=settings.trace_queue_max_spans,
            max_batch=settings.trace_batch_max_spans,
            linger_s=settings.trace_linger_ms / 1000,
        )

    register("tracing.writer", writer)
    register("tracing.retention", RetentionSweeper)


@hookimpl
def register_commands(cli: Any) -> None:
    from keel.tracing.cli import app

    cli.add_typer(app, name="traces", help="List, show and tail traces.")
