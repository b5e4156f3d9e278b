"""Built-in plugin: canary releases judged and acted on (the closed loop's last step)."""

from typing import Any

from keel.plugins.hookspecs import Register, hookimpl


@hookimpl
def register_services(register: Register) -> None:
    from keel.loops.canary import Canaries

    register("loops.canary", Canaries)


@hookimpl
def register_routers(register: Register) -> None:
    from keel.loops.routes import router

    register(router)


@hookimpl
def register_commands(cli: Any) -> None:
    from keel.loops.cli import app

    cli.add_typer(app, name="canary", help="Canary releases: status, and overruling the judge.")
