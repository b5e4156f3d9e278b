"""`keel datasets`: create, import, export, list, show, split, fill from traces, select from production."""

import re
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from keel.cli.output import JsonOption, api, console, emit, fail

app = typer.Typer(no_args_is_help=True)
Opt = typer.Option
COLUMNS = ("name", "latest_version", "item_count", "updated_at")


@app.command("create")
def create(
    name: str,
    description: Annotated[str, Opt(help="What the dataset is for")] = "",
    as_json: bool = JsonOption,
) -> None:
    """Create an empty dataset (or use `import`, which creates one as needed)."""
    with api() as client:
        emit(client.datasets.create(name, description=description), as_json, COLUMNS)


@app.command("import")
def import_file(
    name: str,
    file: Path,
    skip_invalid: Annotated[bool, Opt("--skip-invalid", help="Import good rows, list the bad")] = False,
    as_json: bool = JsonOption,
) -> None:
    """Import a JSONL or CSV file (by extension) as a new version of NAME."""
    if not file.is_file():
        fail(f"{file} is not a file", 2)
    with api() as client:
        result = client.datasets.from_file(name, file, skip_invalid=skip_invalid)
    if as_json:
        emit(result, True)
        return
    console.print(f"{name}: version {result['version']}, {result['added']} item(s) added", highlight=False)
    for row in result["skipped"]:
        console.print(f"  skipped line {row['line']}: {row['reason']}", highlight=False)


@app.command("export")
def export(
    name: str,
    version: Annotated[int | None, Opt(help="Version (default: latest)")] = None,
    split: Annotated[str | None, Opt(help="Only this split")] = None,
    output: Annotated[Path | None, Opt("--output", "-o", help="File (.csv for CSV); default stdout")] = None,
) -> None:
    """Export a version as JSONL (or CSV when the output file ends in .csv)."""
    fmt = "csv" if output is not None and output.suffix.lower() == ".csv" else "jsonl"
    params = {k: v for k, v in {"version": version, "split": split, "format": fmt}.items() if v is not None}
    with api() as client:
        response = client.raw("GET", f"/api/v1/datasets/{name}/export", params=params)
    if output is None:
        sys.stdout.buffer.write(response)
    else:
        output.write_bytes(response)


@app.command("list")
def list_datasets(as_json: bool = JsonOption) -> None:
    """List this project's datasets."""
    with api() as client:
        emit(client.datasets.list_all(), as_json, COLUMNS, title="datasets")


@app.command("show")
def show(name: str, as_json: bool = JsonOption) -> None:
    """Show a dataset's versions."""
    with api() as client:
        emit(
            client.datasets.versions(name),
            as_json,
            ("version", "item_count", "message", "author", "created_at"),
        )


@app.command("split")
def split(
    name: str,
    test: Annotated[float, Opt(help="Fraction for the test split")] = 0.2,
    seed: Annotated[int, Opt(help="Seed of the deterministic assignment")] = 0,
    as_json: bool = JsonOption,
) -> None:
    """Assign items to train/test (a new version)."""
    with api() as client:
        emit(client.datasets.split(name, test, seed), as_json, COLUMNS)


@app.command("from-traces")
def from_traces(name: str, trace_ids: list[str], as_json: bool = JsonOption) -> None:
    """Add items made from traces (input, and output as expected) to NAME, creating it if needed."""
    with api() as client:
        emit(client.datasets.from_traces(name, trace_ids), as_json, COLUMNS)


SCORE = re.compile(r"^([A-Za-z0-9._:-]+)\s*(>=|<=)\s*(-?[0-9.]+)$")


def _thresholds(given: list[str]) -> list[dict[str, Any]]:
    found = []
    for text in given:
        match = SCORE.match(text)
        if match is None:
            fail(f"--score {text!r}: write NAME>=VALUE or NAME<=VALUE, e.g. thumbs>=1")
        name, op, value = match.groups()
        found.append({"name": name, "min" if op == ">=" else "max": float(value)})
    return found


@app.command("select")
def select(
    name: str,
    route: Annotated[str | None, Opt(help="Only calls of this route")] = None,
    model: Annotated[str | None, Opt(help="Only calls of this model")] = None,
    prompt_version: Annotated[str | None, Opt(help="Only calls of this prompt version (name@3)")] = None,
    since: Annotated[str | None, Opt(help="ISO time with zone, e.g. 2026-12-01T00:00:00Z")] = None,
    score: Annotated[list[str] | None, Opt(help="NAME>=VALUE or NAME<=VALUE; repeatable")] = None,
    fraction: Annotated[float, Opt(help="Deterministic sample share")] = 1.0,
    max_items: Annotated[int, Opt(help="At most this many, newest first")] = 1000,
    dedup: Annotated[bool, Opt(help="One item per distinct input, also against the dataset")] = True,
    dry_run: Annotated[bool, Opt(help="Count only; write nothing")] = False,
    as_json: bool = JsonOption,
) -> None:
    """Production → dataset: add the traces that match (filters, score thresholds, sample, dedup) to NAME
    as a new version, creating it if needed."""
    filters = {"route": route, "model": model, "prompt_version": prompt_version, "since": since}
    selector = {
        "filters": {k: v for k, v in filters.items() if v is not None},
        "scores": _thresholds(score or []),
        "fraction": fraction,
        "max_items": max_items,
        "dedup": dedup,
        "dry_run": dry_run,
    }
    with api() as client:
        found = client.datasets.select(name, selector)
    columns = ("considered", "scored_out", "sampled_out", "duplicates", "no_input", "added", "version")
    emit(found, as_json, columns, title=f"selected into {name}" + (" (dry run)" if dry_run else ""))
