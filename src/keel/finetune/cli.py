"""`keel finetune start|status|logs|cancel` and `keel models list|show|alias|export`."""

import io
import tarfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import yaml
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from keel.cli.output import JsonOption, api, console, emit, fail, read_mapping

if TYPE_CHECKING:
    from keel.client.http import Client

finetune_app = typer.Typer(no_args_is_help=True)
models_app = typer.Typer(no_args_is_help=True)
Opt = typer.Option
RUN_COLUMNS = ("id", "name", "status", "progress", "base_model", "dataset", "model_version", "created_at")
FINAL = ("succeeded", "failed", "cancelled")


def _follow(client: "Client", run: dict[str, Any]) -> dict[str, Any]:
    """A progress bar over the run's steps, eval losses as they come, until the job ends."""
    seen_eval: set[int] = set()
    last_step = -1
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[info]}"))
    with Progress(*columns, TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task(f"fine-tune {run['id']}", total=1.0, info="queued")
        while True:
            run = client.request("GET", f"/api/v1/finetunes/{run['id']}")
            rows = client.request(
                "GET", f"/api/v1/finetunes/{run['id']}/metrics", params={"after_step": max(-1, last_step - 1)}
            )["items"]
            for row in rows:
                if row["kind"] == "eval" and row["step"] not in seen_eval:
                    seen_eval.add(row["step"])
                    bar.console.print(f"step {row['step']:>5}  eval loss {row['values']['eval_loss']:.4f}")
                if row["kind"] == "train":
                    last_step = max(last_step, row["step"])
            bar.update(task, completed=run["progress"], info=run["progress_message"] or run["status"])
            if run["status"] in FINAL:
                return run
            time.sleep(1.0)


def _report(run: dict[str, Any]) -> None:
    summary = run.get("summary") or {}
    table = Table("", "", title=f"fine-tune {run['id']}: {run['status']}", show_header=False)
    for key in ("model_version", "base_model", "dataset", "dataset_version", "method"):
        table.add_row(key, str(run.get(key)))
    for key in (
        "train_items",
        "eval_items",
        "steps",
        "train_loss",
        "eval_loss",
        "train_seconds",
        "peak_rss_mb",
    ):
        if key in summary:
            value = summary[key]
            table.add_row(key, f"{value:.4f}" if isinstance(value, float) else str(value))
    if run.get("error"):
        table.add_row("error", run["error"])
    console.print(table)


@finetune_app.command("start")
def start(
    config: Path,
    detach: Annotated[bool, Opt("--detach", help="Print the run id and return")] = False,
    as_json: bool = JsonOption,
) -> None:
    """Start the fine-tune CONFIG.yaml describes and follow it (exit 1 if it fails)."""
    body = read_mapping(config, "at least `dataset`")
    with api() as client:
        run = client.request("POST", "/api/v1/finetunes", json=body)
        if detach:
            emit(run, as_json, RUN_COLUMNS) if as_json else console.print(run["id"])
            return
        run = _follow(client, run)
        if run.get("model_version"):
            version = client.request(
                "GET", f"/api/v1/models/{run['register_as']}/versions/{run['model_version'].split('@')[1]}"
            )
            run["evaluations"] = version["evaluations"]
    if as_json:
        emit(run, True)
    else:
        _report(run)
        for record in run.get("evaluations") or []:
            _evaluation(record)
    if run["status"] != "succeeded":
        raise typer.Exit(1)


def _evaluation(record: dict[str, Any]) -> None:
    if record.get("error"):
        console.print(f"[yellow]evaluation failed:[/] {record['error']}")
        return
    table = Table(
        "metric", record["against"], record["candidate"], "diff", "p", "verdict", title="evaluation"
    )
    for metric, result in record["metrics"].items():
        if result["n"]:
            table.add_row(
                metric,
                f"{result['mean_a']:.4f}",
                f"{result['mean_b']:.4f}",
                f"{result['diff']:+.4f}",
                f"{result['p_value']:.4f}",
                result["verdict"],
            )
    console.print(table)


@finetune_app.command("status")
def status(run_id: Annotated[str | None, typer.Argument()] = None, as_json: bool = JsonOption) -> None:
    """List fine-tunes, or show one with its latest metrics."""
    with api() as client:
        if run_id is None:
            emit(client.paginate("/api/v1/finetunes"), as_json, RUN_COLUMNS, title="fine-tunes")
            return
        run = client.request("GET", f"/api/v1/finetunes/{run_id}")
        rows = client.request("GET", f"/api/v1/finetunes/{run_id}/metrics")["items"]
    if as_json:
        emit({**run, "metrics": rows}, True)
        return
    _report(run)
    table = Table("step", "loss", "eval loss", "lr", "tokens/s", title="metrics (last 10 steps)")
    by_step: dict[int, dict[str, Any]] = {}
    for row in rows:
        by_step.setdefault(row["step"], {}).update(row["values"])
    for step in sorted(by_step)[-10:]:
        values = by_step[step]
        cells = [values.get(k) for k in ("loss", "eval_loss", "learning_rate", "tokens_per_s")]
        cells[2] = values.get("lr")
        table.add_row(str(step), *("-" if v is None else f"{v:.4g}" for v in cells))
    console.print(table)


@finetune_app.command("logs")
def logs(
    run_id: str, follow: Annotated[bool, Opt("--follow", "-f", help="Keep printing until it ends")] = False
) -> None:
    """Print the fine-tune's log lines (training, checkpoints, evaluation)."""
    with api() as client:
        job_id = client.request("GET", f"/api/v1/finetunes/{run_id}")["job_id"]
        printed = 0
        while True:
            finished = client.get_job(job_id)["status"] in FINAL  # read before the lines: none is missed
            lines = client.paginate(f"/api/v1/jobs/{job_id}/logs")
            for line in lines[printed:]:
                console.print(f"{line['at']}  {line['level']:<7} {line['message']}", highlight=False)
            printed = len(lines)
            if not follow or finished:
                return
            time.sleep(1.0)


@finetune_app.command("cancel")
def cancel(run_id: str) -> None:
    """Cancel a queued or running fine-tune (its checkpoints and logs are kept)."""
    with api() as client:
        run = client.request("POST", f"/api/v1/finetunes/{run_id}/cancel")
    console.print(f"cancel requested for {run['id']} (job {run['job_id']})")


@models_app.command("list")
def list_models(as_json: bool = JsonOption) -> None:
    """Registered models with their latest version and aliases."""
    with api() as client:
        models = client.paginate("/api/v1/models")
    for model in models:
        model["aliases_text"] = ", ".join(f"{a}=v{v}" for a, v in model["aliases"].items())
    emit(models, as_json, ("name", "latest_version", "aliases_text", "updated_at"), title="models")


@models_app.command("show")
def show(ref: str, as_json: bool = JsonOption) -> None:
    """A model's versions (NAME), or one version with its lineage (NAME@v3, NAME@champion)."""
    name, _, selector = ref.partition("@")
    with api() as client:
        if not selector:
            versions = client.request("GET", f"/api/v1/models/{name}/versions")["items"]
            for version in versions:
                version["aliases"] = ", ".join(version["aliases"])
                version["eval_loss"] = version["metrics"].get("eval_loss")
            columns = ("version", "aliases", "base_model", "eval_loss", "run_id", "created_at")
            emit(versions, as_json, columns, title=name)
            return
        version = client.request("GET", f"/api/v1/models/{name}/versions/{selector}")
    if as_json:
        emit(version, True)
        return
    console.print(f"[bold]{name}@v{version['version']}[/]  aliases: {', '.join(version['aliases']) or '-'}")
    console.print(yaml.safe_dump({k: version[k] for k in ("base_model", "lineage", "metrics", "notes")}))
    for record in version["evaluations"]:
        _evaluation(record)


@models_app.command("alias")
def alias(
    name: str,
    alias_name: Annotated[str, typer.Argument(metavar="ALIAS")],
    version: Annotated[int, typer.Argument()],
) -> None:
    """Point ALIAS (champion, challenger, ...) at a version; the gateway follows within seconds."""
    with api() as client:
        model = client.request(
            "PUT", f"/api/v1/models/{name}/aliases/{alias_name}", json={"version": version}
        )
    console.print(f"{name}@{alias_name} → v{model['aliases'][alias_name]}")


@models_app.command("export")
def export(
    ref: str,
    output: Annotated[Path, Opt("--output", "-o", help="Folder to write (created)")],
    fmt: Annotated[str, Opt("--format", help="merged (base + adapter) or adapter")] = "merged",
) -> None:
    """Write a version as a Hugging Face folder: merged weights, or the LoRA adapter alone."""
    name, _, selector = ref.partition("@")
    if output.exists() and any(output.iterdir()):
        fail(f"{output} exists and is not empty", 2)
    with api() as client, console.status(f"exporting {ref} ({fmt})"):
        data = client.raw(
            "POST",
            f"/api/v1/models/{name}/versions/{selector or 'latest'}/export",
            json={"format": fmt},
            timeout=600,
        )
    output.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
        tar.extractall(output, filter="data")
    files = sorted(p.name for p in output.iterdir())
    console.print(f"wrote {output}: {', '.join(files)}")
