"""Built-in plugin: evaluators, the experiment job, the experiments API and `keel eval`."""

from typing import Any

from keel.plugins.hookspecs import Register, hookimpl


@hookimpl
def register_evaluators(register: Register) -> None:
    from keel.evals.evaluators import BUILTIN

    for evaluator in BUILTIN:
        register(evaluator.name, evaluator)


def run_experiment(ctx: Any) -> dict[str, Any]:
    result: dict[str, Any] = ctx.services["evals"].run_job(ctx)
    return result


@hookimpl
def register_job_kinds(register: Register) -> None:
    register("evals.experiment", run_experiment)


@hookimpl
def register_services(register: Register) -> None:
    from keel.evals.online import OnlineEvaluator
    from keel.evals.runtime import Evals

    register("evals", Evals)
    register("evals.online", OnlineEvaluator)


@hookimpl
def register_routers(register: Register) -> None:
    from keel.evals import online_routes
    from keel.evals.routes import evaluator_router, router

    register(router)
    register(evaluator_router)
    register(online_routes.router)


@hookimpl
def register_commands(cli: Any) -> None:
    from keel.evals.cli import app

    cli.add_typer(
        app, name="eval", help="Run experiments over datasets, compare them, gate CI on regressions."
    )
