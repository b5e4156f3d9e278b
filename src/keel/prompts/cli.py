"""`keel prompts`: push, pull, list, show, label, diff and render versioned prompts."""

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from keel.cli.output import JsonOption, api, console, emit, err_console, fail

app = typer.Typer(no_args_is_help=True)
Opt = typer.Option
LIST_COLUMNS = ("name", "latest_version", "labels", "updated_at")
VERSION_COLUMNS = ("version", "labels", "model", "variables", "author", "message", "created_at")


@app.command("push")
def push(
    file: Path,
    label: Annotated[list[str] | None, Opt("--label", "-l", help="Point this label at it")] = None,
    message: Annotated[str | None, Opt("--message", "-m", help="Commit message")] = None,
    if_changed: Annotated[bool, Opt("--if-changed", help="No new version when nothing changed")] = False,
    as_json: bool = JsonOption,
) -> None:
    """Push a prompt file (YAML or JSON) as a new version; prints the version number."""
    try:
        from keel.client.prompts import load_prompt_file

        document = load_prompt_file(file)
    except ValueError as exc:
        fail(str(exc), 2)
    with api() as client:
        saved = client.prompts.push(document, labels=label, message=message, only_if_changed=if_changed)
    if as_json:
        emit(saved, True)
        return
    sys.stdout.write(f"{saved['version']}\n")
    status = "pushed" if saved.get("created", True) else "unchanged, still"
    labels = ", ".join(saved["labels"])
    err_console.print(f"{saved['name']}: {status} version {saved['version']} ({labels})", highlight=False)


@app.command("pull")
def pull(
    ref: str,
    output: Annotated[Path | None, Opt("--output", "-o", help="Write to this file instead of stdout")] = None,
) -> None:
    """Write NAME[@VERSION|@LABEL] in the push-file format (YAML; .json files get JSON)."""
    with api() as client:
        found = client.request("GET", f"/api/v1/prompts/{ref}")
    document: dict[str, Any] = {"name": found["name"]}
    for key in ("messages", "template", "model", "params"):
        if found.get(key):
            document[key] = found[key]
    if output is not None and output.suffix == ".json":
        text = json.dumps(document, indent=2) + "\n"
    else:
        text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text)
        console.print(f"wrote {found['name']}@{found['version']} to {output}", highlight=False)


@app.command("list")
def list_prompts(as_json: bool = JsonOption) -> None:
    """List this project's prompts with their latest version and labels."""
    with api() as client:
        items = client.prompts.list_all()
    if not as_json:
        items = [{**p, "labels": ", ".join(f"{k}→{v}" for k, v in p["labels"].items())} for p in items]
    emit(items, as_json, LIST_COLUMNS, title="prompts")


@app.command("show")
def show(
    ref: str,
    versions: Annotated[bool, Opt("--versions", help="List every version instead")] = False,
    as_json: bool = JsonOption,
) -> None:
    """Show NAME (latest), NAME@VERSION or NAME@LABEL; --versions lists the history."""
    with api() as client:
        if versions:
            items = client.prompts.versions(ref.partition("@")[0])
            emit(items if as_json else [_flat(v) for v in items], as_json, VERSION_COLUMNS, title=ref)
            return
        found = client.request("GET", f"/api/v1/prompts/{ref}")
    if as_json:
        emit(found, True)
        return
    console.print(
        f"[bold]{found['name']}@{found['version']}[/]  labels: {', '.join(found['labels']) or '-'}  "
        f"model: {found['model'] or '-'}  variables: {', '.join(found['variables']) or '-'}",
        highlight=False,
    )
    body = {k: found[k] for k in ("messages", "template", "params") if found.get(k)}
    sys.stdout.write(yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100))


def _flat(version: dict[str, Any]) -> dict[str, Any]:
    return {**version, "labels": ", ".join(version["labels"]), "variables": ", ".join(version["variables"])}


@app.command("label")
def label(name: str, version: int, label_name: Annotated[str, typer.Argument(metavar="LABEL")]) -> None:
    """Point LABEL at VERSION of NAME (moves it if it exists)."""
    with api() as client:
        client.prompts.set_label(name, label_name, version)
    console.print(f"{name}@{label_name} → version {version}", highlight=False)


@app.command("diff")
def diff(name: str, old: int, new: int, as_json: bool = JsonOption) -> None:
    """Show what changed between two versions of NAME (unified diff)."""
    with api() as client:
        found = client.prompts.diff(name, old, new)
    if as_json:
        emit(found, True)
        return
    sys.stdout.write(found["diff"] or f"{name}@{old} and {name}@{new} are identical\n")


@app.command("render")
def render(
    ref: str,
    var: Annotated[list[str] | None, Opt("--var", "-v", help="NAME=VALUE, repeatable")] = None,
) -> None:
    """Render NAME[@VERSION|@LABEL] with variables, as the gateway would."""
    variables = {}
    for item in var or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            fail(f"--var takes NAME=VALUE, got {item!r}", 2)
        variables[key] = value
    with api() as client:
        emit(client.prompts.render(ref, **variables), True)
