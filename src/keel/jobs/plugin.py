"""Built-in plugin: the jobs API, CLI and the maintenance job kind, registered like any third-party plugin."""

from typing import Any

from keel.plugins.hookspecs import Register, hookimpl


@hookimpl
def register_job_kinds(register: Register) -> None:
    from keel.jobs.maintenance import prune_jobs

    register("maintenance.prune_jobs", prune_jobs)


@hookimpl
def register_routers(register: Register) -> None:
    from keel.jobs.routes import router

    register(router)


@hookimpl
def register_commands(cli: Any) -> None:
    from keel.jobs.cli import app

    cli.add_typer(app, name="jobs", help="List, inspect and cancel background jobs.")
