"""Built-in plugin: the feedback API."""

from keel.plugins.hookspecs import Register, hookimpl


@hookimpl
def register_routers(register: Register) -> None:
    from keel.feedback.routes import router

    register(router)
