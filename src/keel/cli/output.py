"""Shared CLI plumbing: a client from the environment, tables or JSON output, errors without tracebacks."""

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
import yaml
from rich.console import Console
from rich.table import Table

from keel.core.errors import ConfigError

if TYPE_CHECKING:  # the HTTP client loads when a command talks to a server, not at CLI start
    from keel.client.http import Client

console = Console()
err_console = Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


@contextmanager
def api() -> Iterator["Client"]:
    """A client for KEEL_URL/KEEL_API_KEY; API errors become one red line and exit 1."""
    from keel.client.http import Client, KeelAPIError

    try:
        with Client() as client:
            yield client
    except KeelAPIError as exc:
        fail(f"{exc.message} ({exc.status} {exc.code})" if exc.status else exc.message)
    except ConfigError as exc:
        fail(str(exc), 2)


def emit(data: Any, as_json: bool, columns: Sequence[str] = (), title: str | None = None) -> None:
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
        return
    rows = data if isinstance(data, list) else [data]
    table = Table(*columns, title=title, show_lines=False)
    for row in rows:
        table.add_row(*(_cell(column, row.get(column)) for column in columns))
    console.print(table)


def _cell(column: str, value: Any) -> str:
    if value is None:
        return "-"
    if column == "progress" and isinstance(value, int | float):
        return f"{value:.0%}"
    if isinstance(value, float):
        return f"{value:.1f}" if column.endswith("_ms") else f"{value:g}"
    return str(value)


def read_mapping(path: Path, expected: str) -> dict[str, Any]:
    """A YAML config file that must hold a mapping; unreadable or wrong files exit 2 with the reason."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        fail(f"cannot read {path}: {exc}", 2)
    if not isinstance(document, dict):
        fail(f"{path} must hold a mapping with {expected}", 2)
    return document


JsonOption = typer.Option(False, "--json", help="Print JSON instead of a table.")
Formatter = Callable[[dict[str, Any]], str]
