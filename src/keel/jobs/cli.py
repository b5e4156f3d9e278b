"""`keel jobs`: follow background work (eval runs, ingestion, fine-tunes) from the terminal."""

import json
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from keel.cli.output import JsonOption, api, console, emit, fail

if TYPE_CHECKING:
    from keel.client.http import Client

app = typer.Typer(no_args_is_help=True)
COLUMNS = ("id", "kind", "status", "progress", "progress_message", "attempts", "created_at", "finished_at")
FINAL = {"succeeded", "failed", "cancelled"}


@app.command("list")
def list_jobs(
    status: Annotated[str | None, typer.Option(help="queued, running, succeeded, failed, cancelled")] = None,
    kind: Annotated[str | None, typer.Option(help="Job kind")] = None,
    as_json: bool = JsonOption,
) -> None:
    """List this project's jobs, newest first."""
    with api() as client:
        emit(client.list_jobs(status, kind), as_json, COLUMNS, title="jobs")


@app.command("show")
def show_job(
    job_id: str,
    logs: Annotated[bool, typer.Option(help="Include log lines")] = True,
    as_json: bool = JsonOption,
) -> None:
    """Show a job, its result or error, and its log."""
    with api() as client:
        job = client.get_job(job_id)
        lines = client.job_logs(job_id) if logs else []
    if as_json:
        emit({**job, "logs": lines}, True)
        return
    emit(job, False, COLUMNS)
    if job.get("result") is not None:
        console.print("result:", json.dumps(job["result"], indent=2), highlight=False)
    if job.get("error"):
        console.print(f"[red]error:[/] {job['error']}", highlight=False)
    for line in lines:
        console.print(f"{line['at']} {line['level']:<7} {line['message']}", highlight=False, markup=False)


@app.command("submit")
def submit(
    kind: str,
    params: Annotated[str, typer.Option(help="JSON object of parameters")] = "{}",
    wait: Annotated[bool, typer.Option(help="Follow progress until it ends")] = False,
    as_json: bool = JsonOption,
) -> None:
    """Submit a job of a registered kind."""
    try:
        parsed = json.loads(params)
    except json.JSONDecodeError as exc:
        fail(f"--params is not valid JSON: {exc}", 2)
    with api() as client:
        job = client.submit_job(kind, parsed)
        if wait:
            job = _follow(client, job["id"])
    emit(job, as_json, COLUMNS)
    if job["status"] == "failed":
        raise typer.Exit(1)


@app.command("cancel")
def cancel(job_id: str, as_json: bool = JsonOption) -> None:
    """Cancel a queued job, or ask a running one to stop."""
    with api() as client:
        emit(client.cancel_job(job_id), as_json, COLUMNS)


def _follow(client: "Client", job_id: str) -> dict[str, Any]:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(job_id, total=1.0)
        while True:
            job = client.get_job(job_id)
            progress.update(
                task,
                completed=job["progress"],
                description=f"{job_id} {job['progress_message'] or job['status']}",
            )
            if job["status"] in FINAL:
                return dict(job)
            time.sleep(0.3)
