"""Built-in plugin: the Prometheus metrics, drift reports and alert rules."""

from typing import Any

from keel.plugins.hookspecs import Register, hookimpl


@hookimpl
def register_services(register: Register) -> None:
    from keel.monitoring.alerts import Alerts
    from keel.monitoring.metrics import Metrics

    register("monitoring.metrics", Metrics)
    register("monitoring.alerts", Alerts)


@hookimpl
def register_routers(register: Register) -> None:
    from keel.monitoring.routes import alerts_router, metrics_router, monitoring_router

    register(metrics_router)
    register(alerts_router)
    register(monitoring_router)


@hookimpl
def register_apply_sections(register: Register) -> None:
    from keel.monitoring.apply import SECTION

    register(SECTION.name, SECTION)


@hookimpl
def register_commands(cli: Any) -> None:
    from keel.monitoring.cli import app

    cli.add_typer(app, name="alerts", help="Alert rules and their history.")
