"""Built-in plugin: knowledge bases (API, ingestion job, service) and `keel kb`."""

from typing import Any

from keel.plugins.hookspecs import Register, hookimpl


def ingest(ctx: Any) -> dict[str, Any]:
    result: dict[str, Any] = ctx.services["knowledge"].run_job(ctx)
    return result


@hookimpl
def register_job_kinds(register: Register) -> None:
    register("knowledge.ingest", ingest)


@hookimpl
def register_vector_stores(register: Register) -> None:
    from keel.knowledge.stores import BUILT_IN

    for store in BUILT_IN:
        register(store.name, store)


@hookimpl
def register_loaders(register: Register) -> None:
    from keel.knowledge.loaders import BUILT_IN

    for suffix, loader in BUILT_IN.items():
        register(suffix, loader)


@hookimpl
def register_services(register: Register) -> None:
    from keel.knowledge.runtime import Knowledge

    register("knowledge", Knowledge)


@hookimpl
def register_routers(register: Register) -> None:
    from keel.knowledge.routes import router

    register(router)


@hookimpl
def register_commands(cli: Any) -> None:
    from keel.knowledge.cli import app

    cli.add_typer(app, name="kb", help="Knowledge bases: create, ingest files, folders and URLs, search.")
