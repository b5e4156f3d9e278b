"""Built-in plugin: projects and keys API and CLI."""

from typing import Any

from keel.plugins.hookspecs import Register, hookimpl


@hookimpl
def register_routers(register: Register) -> None:
    from keel.projects.routes import router

    register(router)


@hookimpl
def register_commands(cli: Any) -> None:
    from keel.projects.cli import keys_app, projects_app

    cli.add_typer(projects_app, name="projects", help="Create, list, rename and delete projects.")
    cli.add_typer(keys_app, name="keys", help="Create, list and revoke API keys.")
