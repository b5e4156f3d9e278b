"""Built-in plugin: the web UI's pages."""

from keel.plugins.hookspecs import Register, hookimpl


@hookimpl
def register_routers(register: Register) -> None:
    from keel.ui import (
        auth_routes,
        canary,
        evals,
        gateway,
        guardrails,
        knowledge,
        loops,
        models,
        monitoring,
        overview,
        playground,
        prompts,
        traces,
    )

    pages = (
        auth_routes,
        overview,
        traces,
        playground,
        prompts,
        evals,
        knowledge,
        models,
        loops,
        gateway,
        canary,
        guardrails,
        monitoring,
    )
    for module in pages:
        register(module.router)
