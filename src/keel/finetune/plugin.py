"""Built-in plugin: the fine-tune job and service, its API, `keel finetune` and `keel models`."""

from typing import Any

from keel.plugins.hookspecs import Register, hookimpl


def run_finetune(ctx: Any) -> dict[str, Any]:
    result: dict[str, Any] = ctx.services["finetune"].run_job(ctx)
    return result


@hookimpl
def register_job_kinds(register: Register) -> None:
    from keel.finetune.runs_service import JOB_KIND

    register(JOB_KIND, run_finetune)


@hookimpl
def register_services(register: Register) -> None:
    from keel.finetune.runtime import FineTune

    register("finetune", FineTune)


@hookimpl
def register_routers(register: Register) -> None:
    from keel.finetune.routes import model_router, router

    register(router)
    register(model_router)


@hookimpl
def register_commands(cli: Any) -> None:
    from keel.finetune.cli import finetune_app, models_app

    cli.add_typer(
        finetune_app, name="finetune", help="Fine-tune open models with LoRA; follow, list, cancel."
    )
    cli.add_typer(models_app, name="models", help="The model registry: versions, lineage, aliases, exports.")
