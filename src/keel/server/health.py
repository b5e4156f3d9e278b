"""Built-in plugin: the `/healthz` and `/readyz` routes (in `health_routes`, loaded only by the server)."""

from keel.plugins.hookspecs import Register, hookimpl


@hookimpl
def register_routers(register: Register) -> None:
    from keel.server.health_routes import router

    register(router)
