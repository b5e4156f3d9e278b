"""`keel eval`: run an experiment from a config file (a CI gate with `--fail-if`), list, show and compare."""

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from keel.cli.output import JsonOption, api, console, emit, fail, read_mapping
from keel.evals import gate

app = typer.Typer(no_args_is_help=True)
Opt = typer.Option
COLUMNS = ("id", "name", "dataset", "dataset_version", "status", "done", "total", "failed", "created_at")


def summary_table(summary: dict[str, Any], title: str) -> Table:
    table = Table("metric", "mean", "95% CI", "n", "failed", title=title)
    for metric, entry in summary.items():
        low, high = entry["ci"]
        mean = "-" if entry["mean"] is None else f"{entry['mean']:.4f}"
        ci = "-" if low is None else f"[{low:.4f}, {high:.4f}]"
        table.add_row(metric, mean, ci, str(entry["n"]), str(entry.get("failed", 0)))
    return table


def comparison_table(comparison: dict[str, Any]) -> Table:
    table = Table(
        "metric", "experiment", "baseline", "this", "diff", "95% CI", "p", "verdict", title="vs baseline"
    )
    for metric, by_experiment in comparison["metrics"].items():
        for experiment_id, result in by_experiment.items():
            if result["n"] == 0:
                continue
            table.add_row(
                metric,
                experiment_id,
                f"{result['mean_a']:.4f}",
                f"{result['mean_b']:.4f}",
                f"{result['diff']:+.4f}",
                f"[{result['ci'][0]:+.4f}, {result['ci'][1]:+.4f}]",
                f"{result['p_value']:.4f}",
                result["verdict"],
            )
    return table


@app.command("run")
def run(
    config: Path,
    baseline: Annotated[str | None, Opt(help="Experiment id to compare with")] = None,
    fail_if: Annotated[
        list[str] | None, Opt("--fail-if", help="e.g. 'rougeL < baseline - 0.02'; repeatable")
    ] = None,
    detach: Annotated[bool, Opt("--detach", help="Print the experiment id and return")] = False,
    as_json: bool = JsonOption,
) -> None:
    """Run the experiment CONFIG.yaml describes; exit 1 when a --fail-if condition holds (a CI gate)."""
    try:
        conditions = [gate.parse(text) for text in fail_if or []]
    except ValueError as exc:
        fail(str(exc), 2)
    if any(c.uses_baseline for c in conditions) and baseline is None:
        fail("a --fail-if condition mentions `baseline`: pass --baseline EXPERIMENT_ID", 2)
    body = read_mapping(config, "dataset, task and evaluators")
    with api() as client:
        base = client.experiments.get(baseline).refresh() if baseline else None
        started = client.request("POST", "/api/v1/experiments", json=body)
        if detach:
            if as_json:
                emit(started, True)
            else:
                console.print(started["id"])
            return
        experiment = client.experiments.get(started["id"])
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True) as progress:
            bar = progress.add_task(experiment.id, total=experiment.data["total"])
            experiment.wait(on_progress=lambda data: progress.update(bar, completed=data["done"]))
        comparison = client.experiments.compare(base.id, experiment.id) if base else None
    data = experiment.data
    if as_json:
        emit({"experiment": data, "comparison": comparison}, True)
    else:
        console.print(
            f"experiment {data['id']}: {data['status']}, {data['done']}/{data['total']} items, "
            f"{data['failed']} failed"
        )
        console.print(summary_table(data["summary"], data["name"]))
        if comparison:
            console.print(comparison_table(comparison))
    if data["status"] != "succeeded":
        fail(f"experiment {data['id']} {data['status']}: {data.get('error') or ''}".strip(), 1)
    failed = False
    for condition in conditions:
        try:
            bad, explanation = condition.check(data["summary"], base.data["summary"] if base else None)
        except ValueError as exc:
            fail(str(exc), 2)
        failed = failed or bad
        console.print(explanation, highlight=False)
    if failed:
        raise typer.Exit(1)


@app.command("list")
def list_experiments(
    dataset: Annotated[str | None, Opt(help="Only experiments on this dataset")] = None,
    as_json: bool = JsonOption,
) -> None:
    """List experiments, newest first."""
    with api() as client:
        emit(client.experiments.list_all(dataset), as_json, COLUMNS, title="experiments")


@app.command("show")
def show(
    experiment_id: str,
    items: Annotated[bool, Opt("--items", help="Print per-item results too")] = False,
    as_json: bool = JsonOption,
) -> None:
    """Show an experiment's status and summary (with --items, every item's output and scores)."""
    with api() as client:
        run = client.experiments.get(experiment_id)
        results = run.items if items else []
    if as_json:
        emit({**run.data, **({"items": results} if items else {})}, True)
        return
    console.print(f"{run.id} {run.data['name']}: {run.status}, {run.data['done']}/{run.data['total']}")
    console.print(summary_table(run.summary, "summary"))
    for result in results:
        outcome = result["error"] or json.dumps(result["scores"])
        console.print(f"{result['item_key']}: {str(result['output'])[:80]!r} → {outcome}", highlight=False)


@app.command("compare")
def compare(baseline: str, others: list[str], as_json: bool = JsonOption) -> None:
    """Compare experiments with a baseline on the same dataset version: paired test per metric."""
    with api() as client:
        comparison = client.experiments.compare(baseline, *others)
    if as_json:
        emit(comparison, True)
        return
    console.print(comparison_table(comparison))


@app.command("evaluators")
def evaluators(as_json: bool = JsonOption) -> None:
    """List the registered evaluators."""
    with api() as client:
        emit(
            client.request("GET", "/api/v1/evaluators")["items"],
            as_json,
            ("name", "metrics", "needs_expected", "description"),
        )
