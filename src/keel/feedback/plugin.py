"""Built-in plugin: the feedback and annotation queue APIs."""

from keel.plugins.hookspecs import Register, hookimpl


@hookimpl
def register_routers(register: Register) -> None:
    from keel.feedback import annotation_routes
    from keel.feedback.routes import router

    register(router)
    register(annotation_routes.router)
