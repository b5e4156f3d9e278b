"""Built-in plugin: the Prometheus metrics, drift reports and alert rules."""

from keel.plugins.hookspecs import Register, hookimpl


@hookimpl
def register_services(register: Register) -> None:
    from keel.monitoring.metrics import Metrics

    register("monitoring.metrics", Metrics)


@hookimpl
def register_routers(register: Register) -> None:
    from keel.monitoring.routes import metrics_router

    register(metrics_router)
