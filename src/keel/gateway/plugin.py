"""Built-in plugin: provider kinds, the provider configuration API and `keel providers`."""

from typing import Any

from keel.plugins.hookspecs import Register, hookimpl


@hookimpl
def register_providers(register: Register) -> None:
    from keel.gateway.providers import anthropic, local, openai_compatible

    for module in (openai_compatible, anthropic, local):
        register(module.KIND.name, module.KIND)


@hookimpl
def register_routers(register: Register) -> None:
    from keel.gateway.config_routes import limit_router, price_router, route_router, router
    from keel.gateway.routes import v1

    register(router)
    register(route_router)
    register(price_router)
    register(limit_router)
    register(v1)


@hookimpl
def register_fast_routes(register: Register) -> None:
    from keel.gateway.routes import chat_completions, embeddings, text_completions

    register("POST", "/v1/chat/completions", chat_completions)
    register("POST", "/v1/completions", text_completions)
    register("POST", "/v1/embeddings", embeddings)


@hookimpl
def register_services(register: Register) -> None:
    from keel.gateway.runtime import Gateway
    from keel.local.runtime import LocalModels

    register("gateway", Gateway)
    register("local", LocalModels)


@hookimpl
def register_apply_sections(register: Register) -> None:
    from keel.gateway.apply import SECTIONS

    for section in SECTIONS:
        register(section.name, section)


@hookimpl
def register_commands(cli: Any) -> None:
    from keel.gateway.cli import app, apply_command

    cli.add_typer(app, name="providers", help="Configure model providers (credentials stored encrypted).")
    cli.command("apply")(apply_command)
