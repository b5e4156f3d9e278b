"""`keel loops list|show|run|runs`: closed loops and what each run made."""

import time
from typing import Annotated

import typer

from keel.cli.output import JsonOption, api, console, emit

app = typer.Typer(no_args_is_help=True)
LOOP_COLUMNS = ("name", "dataset", "enabled", "next_run_at")
RUN_COLUMNS = ("number", "trigger", "stage", "status", "model_version", "reason", "started_at")


@app.command("list")
def list_loops(as_json: bool = JsonOption) -> None:
    """This project's loops."""
    with api() as client:
        emit(client.request("GET", "/api/v1/loops")["items"], as_json, LOOP_COLUMNS, title="loops")


@app.command("show")
def show(name: str) -> None:
    """A loop's configuration and its last run."""
    with api() as client:
        emit(client.request("GET", f"/api/v1/loops/{name}"), True)  # nested config: always JSON


@app.command("runs")
def runs(name: str, as_json: bool = JsonOption) -> None:
    """A loop's runs, newest first, with what each one made and why it ended."""
    with api() as client:
        emit(client.request("GET", f"/api/v1/loops/{name}/runs")["items"], as_json, RUN_COLUMNS, title=name)


@app.command("run")
def run(
    name: str,
    wait: Annotated[bool, typer.Option(help="Follow the run until it ends, printing each step")] = False,
    as_json: bool = JsonOption,
) -> None:
    """Start a run now."""
    with api() as client:
        started = client.request("POST", f"/api/v1/loops/{name}/runs")
        if not wait:
            emit(started, as_json, RUN_COLUMNS)
            return
        shown = 0
        while True:
            current = client.request("GET", f"/api/v1/loops/{name}/runs/{started['id']}")
            for entry in current["log"][shown:]:
                console.print(f"[{entry['stage']}] {entry['message']}", highlight=False)
            shown = len(current["log"])
            if current["status"] != "running":
                emit(current, as_json, RUN_COLUMNS)
                raise typer.Exit(0 if current["status"] in ("succeeded", "skipped") else 1)
            time.sleep(2)
