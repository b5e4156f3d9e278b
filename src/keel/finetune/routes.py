"""Fine-tune runs under `/api/v1/finetunes`; the model registry under `/api/v1/models`."""

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Query, Response
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from keel.finetune import export
from keel.finetune import runs_service as runs
from keel.finetune import service as registry
from keel.finetune.models import FineTuneRun, ModelVersion, RegisteredModel
from keel.finetune.schemas import (
    AliasIn,
    ExportIn,
    FineTuneCreate,
    MetricOut,
    ModelCreate,
    ModelOut,
    RunOut,
    VersionEdit,
    VersionOut,
)
from keel.server.deps import PrincipalDep, RuntimeDep, SessionDep

router = APIRouter(prefix="/api/v1/finetunes", tags=["fine-tuning"])
model_router = APIRouter(prefix="/api/v1/models", tags=["model registry"])
Limit = Annotated[int, Query(ge=1, le=200)]


def run_out(session: SessionDep, run: FineTuneRun) -> RunOut:
    job = runs.job_of(session, run)
    version = runs.version_of(session, run)
    return RunOut(
        id=run.id,
        name=run.name,
        job_id=run.job_id,
        status=job.status if job else "unknown",
        progress=job.progress if job else 0.0,
        progress_message=job.progress_message if job else None,
        error=job.error if job else None,
        base_model=run.base_model,
        dataset=run.dataset_name,
        dataset_version=run.dataset_version,
        method=run.method,
        params=run.params,
        register_as=run.register_as,
        system=run.system,
        summary=run.summary,
        model_version=f"{run.register_as}@v{version.version}" if version else None,
        created_at=run.created_at,
    )


@router.post("", status_code=202)
def start(body: FineTuneCreate, runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep) -> RunOut:
    run = runs.create_run(session, principal, body, runtime.settings.finetune_model_roots)
    return run_out(session, run)


@router.get("")
def list_runs(
    session: SessionDep, principal: PrincipalDep, cursor: str | None = None, limit: Limit = 50
) -> dict[str, Any]:
    page = runs.list_runs(session, principal, cursor, limit)
    return {"items": [run_out(session, r) for r in page.items], "next_cursor": page.next_cursor}


@router.get("/{run_id}")
def get_run(run_id: str, session: SessionDep, principal: PrincipalDep) -> RunOut:
    return run_out(session, runs.get_run(session, principal, run_id))


@router.get("/{run_id}/metrics")
def metrics(
    run_id: str, session: SessionDep, principal: PrincipalDep, after_step: Annotated[int, Query(ge=-1)] = -1
) -> dict[str, list[MetricOut]]:
    rows = runs.metrics(session, principal, run_id, after_step)
    return {"items": [MetricOut(kind=m.kind, step=m.step, values=m.values, at=m.at) for m in rows]}


@router.post("/{run_id}/cancel")
def cancel(run_id: str, session: SessionDep, principal: PrincipalDep) -> RunOut:
    return run_out(session, runs.cancel(session, principal, run_id))


def model_out(session: SessionDep, model: RegisteredModel) -> ModelOut:
    return ModelOut(
        id=model.id,
        name=model.name,
        description=model.description,
        latest_version=model.latest_version,
        aliases=registry.aliases(session, model.id),
        created_at=model.created_at,
        updated_at=model.updated_at,
    )


def version_out(session: SessionDep, name: str, version: ModelVersion) -> VersionOut:
    return VersionOut(
        id=version.id,
        model=name,
        version=version.version,
        kind=version.kind,
        base_model=version.base_model,
        aliases=registry.version_aliases(session, version),
        run_id=version.run_id,
        lineage=version.lineage,
        metrics=version.metrics,
        evaluations=version.evaluations,
        notes=version.notes,
        status=version.status,
        status_reason=version.status_reason,
        author=version.author,
        created_at=version.created_at,
    )


@model_router.post("", status_code=201)
def create_model(body: ModelCreate, session: SessionDep, principal: PrincipalDep) -> ModelOut:
    return model_out(session, registry.create_model(session, principal, body))


@model_router.get("")
def list_models(
    session: SessionDep, principal: PrincipalDep, cursor: str | None = None, limit: Limit = 50
) -> dict[str, Any]:
    page = registry.list_models(session, principal, cursor, limit)
    return {"items": [model_out(session, m) for m in page.items], "next_cursor": page.next_cursor}


@model_router.get("/{name}")
def get_model(name: str, session: SessionDep, principal: PrincipalDep) -> ModelOut:
    return model_out(session, registry.get_model(session, principal, name))


@model_router.get("/{name}/versions")
def list_versions(name: str, session: SessionDep, principal: PrincipalDep) -> dict[str, list[VersionOut]]:
    return {"items": [version_out(session, name, v) for v in registry.versions(session, principal, name)]}


@model_router.get("/{name}/versions/{ref}")
def get_version(name: str, ref: str, session: SessionDep, principal: PrincipalDep) -> VersionOut:
    _, version = registry.resolve(session, principal, f"{name}@{ref}")
    return version_out(session, name, version)


@model_router.patch("/{name}/versions/{ref}")
def edit_version(
    name: str, ref: str, body: VersionEdit, session: SessionDep, principal: PrincipalDep
) -> VersionOut:
    return version_out(session, name, registry.edit_notes(session, principal, f"{name}@{ref}", body.notes))


@model_router.put("/{name}/aliases/{alias}")
def set_alias(
    name: str, alias: str, body: AliasIn, runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> ModelOut:
    model = registry.set_alias(session, principal, name, alias, body.version)
    return model_out(session, model)


@model_router.delete("/{name}/aliases/{alias}", status_code=204)
def delete_alias(
    name: str, alias: str, runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> Response:
    registry.delete_alias(session, principal, name, alias)
    return Response(status_code=204)


@model_router.post("/{name}/versions/{ref}/export")
async def export_version(
    name: str,
    ref: str,
    body: ExportIn,
    runtime: RuntimeDep,
    session: SessionDep,
    principal: PrincipalDep,
    background: BackgroundTasks,
) -> FileResponse:
    """A `.tar` of the adapter, or of the base merged with it (safetensors, loadable by any runtime)."""
    _, version = registry.resolve(session, principal, f"{name}@{ref}")
    finetune = runtime.service("finetune")
    folder = Path(tempfile.mkdtemp(prefix="keel-export-"))
    archive = await run_in_threadpool(
        export.archive, finetune, version.base_model, version.artifact_key, body.format, folder
    )
    background.add_task(export.remove, folder)
    filename = f"{name}-v{version.version}-{body.format}.tar"
    return FileResponse(archive, media_type="application/x-tar", filename=filename, background=background)
