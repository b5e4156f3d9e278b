"""Built-in plugin: canary releases judged and acted on, and the closed loops that feed them."""

from typing import Any

from keel.plugins.hookspecs import Register, hookimpl


@hookimpl
def register_services(register: Register) -> None:
    from keel.loops.canary import Canaries
    from keel.loops.runner import LoopRunner

    register("loops.canary", Canaries)
    register("loops.runner", LoopRunner)


@hookimpl
def register_routers(register: Register) -> None:
    from keel.loops import loop_routes, routes

    register(routes.router)
    register(loop_routes.router)


@hookimpl
def register_commands(cli: Any) -> None:
    from keel.loops.cli import app
    from keel.loops.demo_cli import demo
    from keel.loops.loop_cli import app as loops_app

    cli.add_typer(app, name="canary", help="Canary releases: status, and overruling the judge.")
    cli.add_typer(
        loops_app, name="loops", help="Closed loops: production traces → fine-tune → gate → canary."
    )
    cli.command("demo")(demo)


@hookimpl
def register_apply_sections(register: Register) -> None:
    from keel.loops.apply import SECTION

    register(SECTION.name, SECTION)
