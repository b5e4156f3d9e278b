"""Built-in plugin: the datasets API and `keel datasets`."""

from typing import Any

from keel.plugins.hookspecs import Register, hookimpl


@hookimpl
def register_routers(register: Register) -> None:
    from keel.datasets.routes import router

    register(router)


@hookimpl
def register_commands(cli: Any) -> None:
    from keel.datasets.cli import app

    cli.add_typer(
        app, name="datasets", help="Versioned datasets: create, import, export, split, from traces."
    )
