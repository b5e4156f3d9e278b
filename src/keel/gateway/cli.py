"""`keel providers`: add, list, show, update and remove model providers."""

from typing import Annotated

import typer

from keel.cli.output import JsonOption, api, console, emit

app = typer.Typer(no_args_is_help=True)
COLUMNS = ("id", "name", "kind", "base_url", "has_api_key", "updated_at")
Opt = typer.Option


@app.command("add")
def add(
    name: str,
    kind: Annotated[str, Opt(help="openai (any OpenAI-compatible server) or anthropic")],
    base_url: Annotated[str | None, Opt(help="Endpoint, e.g. http://127.0.0.1:8000/v1 for vLLM")] = None,
    api_key_env: Annotated[str | None, Opt(help="Read the key from this environment variable")] = None,
    timeout_s: Annotated[float, Opt(help="Per-attempt timeout")] = 60.0,
    as_json: bool = JsonOption,
) -> None:
    """Add a provider. The key is read from an environment variable so it never lands in shell history."""
    import os

    body = {"name": name, "kind": kind, "base_url": base_url, "options": {"timeout_s": timeout_s}}
    if api_key_env:
        if not os.environ.get(api_key_env):
            console.print(f"[red]error:[/] environment variable {api_key_env} is empty")
            raise typer.Exit(2)
        body["api_key"] = os.environ[api_key_env]
    with api() as client:
        emit(
            client.request(
                "POST", "/api/v1/providers", json={k: v for k, v in body.items() if v is not None}
            ),
            as_json,
            COLUMNS,
        )


@app.command("list")
def list_providers(as_json: bool = JsonOption) -> None:
    """List this project's providers (keys are never shown)."""
    with api() as client:
        emit(client.paginate("/api/v1/providers"), as_json, COLUMNS, title="providers")


@app.command("show")
def show(ref: str, as_json: bool = JsonOption) -> None:
    """Show a provider by id or name."""
    with api() as client:
        emit(client.request("GET", f"/api/v1/providers/{ref}"), as_json, COLUMNS)


@app.command("remove")
def remove(ref: str) -> None:
    """Remove a provider."""
    with api() as client:
        client.request("DELETE", f"/api/v1/providers/{ref}")
    console.print(f"removed {ref}", highlight=False)


def apply_command(
    file: Annotated[
        str, Opt("-f", "--file", help="YAML file with providers, routes, prices, limits, prompts, ...")
    ],
    dry_run: Annotated[bool, Opt("--dry-run", help="Show what would change; write nothing")] = False,
) -> None:
    """Make the server's configuration match a YAML file (idempotent)."""
    from pathlib import Path

    import yaml

    from keel.cli.apply import ApplyError, apply, ordered, plan
    from keel.plugins.manager import Plugins

    sections = ordered(Plugins().apply_sections.items())

    try:
        config = yaml.safe_load(Path(file).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        console.print(f"[red]error:[/] cannot read {file}: {exc}", highlight=False)
        raise typer.Exit(2) from None
    if not isinstance(config, dict):
        console.print(f"[red]error:[/] {file} must hold a mapping of sections", highlight=False)
        raise typer.Exit(2)
    with api() as client:
        try:
            changes = plan(client, config, sections)
        except ApplyError as exc:
            console.print(f"[red]error:[/] {exc}", highlight=False)
            raise typer.Exit(2) from None
        colours = {"+": "green", "~": "yellow", "=": "dim"}
        for change in changes:
            detail = f" ({', '.join(change.fields)})" if change.action == "~" else ""
            console.print(
                f"[{colours[change.action]}]{change.action} {change.section}/{change.name}{detail}[/]",
                highlight=False,
            )
        if dry_run:
            console.print("dry run: nothing written", highlight=False)
            return
        written = apply(changes, sections)
    console.print(f"applied {written} change(s)", highlight=False)
