"""`keel projects` and `keel keys`: manage projects and API keys through the API (KEEL_URL, KEEL_API_KEY)."""

from typing import Annotated

import typer

from keel.cli.output import JsonOption, api, console, emit
from keel.projects.keys import generate_secret

projects_app = typer.Typer(no_args_is_help=True)
keys_app = typer.Typer(no_args_is_help=True)
PROJECT_COLUMNS = ("id", "name", "created_at")
KEY_COLUMNS = ("id", "name", "role", "prefix", "project_id", "expires_at", "revoked_at", "last_used_at")


@projects_app.command("create")
def create_project(name: str, as_json: bool = JsonOption) -> None:
    """Create a project (instance admin key)."""
    with api() as client:
        emit(client.create_project(name), as_json, PROJECT_COLUMNS)


@projects_app.command("list")
def list_projects(as_json: bool = JsonOption) -> None:
    """List the projects this key can see."""
    with api() as client:
        emit(client.list_projects(), as_json, PROJECT_COLUMNS, title="projects")


@projects_app.command("show")
def show_project(project_id: str, as_json: bool = JsonOption) -> None:
    """Show one project."""
    with api() as client:
        emit(client.request("GET", f"/api/v1/projects/{project_id}"), as_json, PROJECT_COLUMNS)


@projects_app.command("rename")
def rename_project(project_id: str, name: str, as_json: bool = JsonOption) -> None:
    """Rename a project."""
    with api() as client:
        emit(
            client.request("PATCH", f"/api/v1/projects/{project_id}", json={"name": name}),
            as_json,
            PROJECT_COLUMNS,
        )


@projects_app.command("delete")
def delete_project(
    project_id: str, yes: Annotated[bool, typer.Option("--yes", help="Skip the prompt.")] = False
) -> None:
    """Delete a project and everything in it."""
    if not yes:
        typer.confirm(f"Delete project {project_id} and all its data?", abort=True)
    with api() as client:
        client.request("DELETE", f"/api/v1/projects/{project_id}")
    console.print(f"deleted {project_id}", highlight=False)


@keys_app.command("create")
def create_key(
    name: str,
    role: Annotated[str, typer.Option(help="viewer, member or admin")] = "member",
    project: Annotated[str | None, typer.Option(help="Project id; defaults to the caller's")] = None,
    expires_at: Annotated[
        str | None, typer.Option(help="ISO-8601 UTC expiry, e.g. 2027-01-01T00:00:00Z")
    ] = None,
    as_json: bool = JsonOption,
) -> None:
    """Create an API key; the secret is printed once."""
    with api() as client:
        created = client.create_key(name, role, project, expires_at)
    if as_json:
        emit(created, True)
        return
    emit(created, False, ("id", "name", "role", "project_id", "expires_at"))
    console.print(f"\nsecret (shown once): [bold]{created['key']}[/]", highlight=False)


@keys_app.command("list")
def list_keys(
    project: Annotated[str | None, typer.Option(help="Project id")] = None, as_json: bool = JsonOption
) -> None:
    """List a project's keys (prefixes only; secrets are never stored)."""
    with api() as client:
        emit(client.list_keys(project), as_json, KEY_COLUMNS, title="keys")


@keys_app.command("revoke")
def revoke_key(key_id: str, as_json: bool = JsonOption) -> None:
    """Revoke a key; requests with it fail from now on."""
    with api() as client:
        emit(client.revoke_key(key_id), as_json, KEY_COLUMNS)


@keys_app.command("generate")
def generate() -> None:
    """Print a new random key secret offline, e.g. for KEEL_ADMIN_KEY."""
    console.print(generate_secret(), highlight=False)


@keys_app.command("secret-key")
def secret_key() -> None:
    """Print a new KEEL_SECRET_KEY (the key that encrypts provider credentials at rest)."""
    from keel.core.secrets import new_key

    console.print(new_key(), highlight=False)
