"""Built-in plugin: the prompt registry API, its in-server resolver and `keel prompts`."""

from typing import Any

from keel.plugins.hookspecs import Register, hookimpl


@hookimpl
def register_routers(register: Register) -> None:
    from keel.prompts.routes import router

    register(router)


@hookimpl
def register_services(register: Register) -> None:
    from keel.prompts.runtime import Prompts

    register("prompts", Prompts)


@hookimpl
def register_commands(cli: Any) -> None:
    from keel.prompts.cli import app

    cli.add_typer(app, name="prompts", help="Version prompts: push, pull, list, show, label, diff, render.")


@hookimpl
def register_apply_sections(register: Register) -> None:
    from keel.prompts.apply import SECTION

    register(SECTION.name, SECTION)
