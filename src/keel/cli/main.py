"""Root `keel` command: serve, settings, db; feature commands join through the `register_commands` hook."""

import json
import signal
import sys
from types import FrameType
from typing import Annotated

import typer

from keel import __version__
from keel.cli import db as db_commands
from keel.cli.doctor import doctor
from keel.cli.output import console, fail
from keel.core.errors import ConfigError
from keel.plugins.manager import Plugins

app = typer.Typer(
    name="keel", help="Keel: self-hosted LLMOps.", no_args_is_help=True, pretty_exceptions_enable=False
)
app.add_typer(db_commands.app, name="db", help="Inspect and migrate the store.")
app.command()(doctor)


@app.command()
def version() -> None:
    """Print Keel's version."""
    console.print(__version__)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address [env KEEL_HOST, default 127.0.0.1]")] = None,
    port: Annotated[int | None, typer.Option(help="Port [env KEEL_PORT, default 4141]")] = None,
    data_dir: Annotated[
        str | None, typer.Option(help="Data directory [env KEEL_DATA_DIR, default .keel]")
    ] = None,
) -> None:
    """Start the server: API, OpenAI-compatible gateway, web UI and the job worker."""
    import uvicorn

    from keel.server.app import create_app
    from keel.server.runtime import open_runtime
    from keel.settings import load_settings

    overrides = {k: v for k, v in {"host": host, "port": port, "data_dir": data_dir}.items() if v is not None}
    try:
        settings = load_settings(**overrides)
        open_runtime(settings).engine.dispose()
    except ConfigError as exc:
        fail(str(exc), 2)
    _warn_if_not_locked()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _exit_quietly)  # uvicorn re-raises the signal after its graceful shutdown
    console.print(
        f"Keel {__version__} on http://{settings.host}:{settings.port}  (data: {settings.data_dir})",
        highlight=False,
    )
    uvicorn.run(
        create_app(settings, configure_logs=True),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds) or None,
        server_header=False,
    )


def _warn_if_not_locked() -> None:
    """One line when this checkout's environment is not what uv.lock says (`keel doctor` names them all)."""
    from keel.cli.doctor import lock_check
    from keel.cli.output import err_console

    check = lock_check()
    if check.status == "fail":
        err_console.print(f"[yellow]warning:[/] installed packages {check.detail}", highlight=False)


def _exit_quietly(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0 if signum == signal.SIGTERM else 130)


@app.command("settings")
def show_settings(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Print the effective settings (secrets masked) and the environment variable for each."""
    from keel.client.settings import ClientSettings
    from keel.settings import Settings, load_settings, masked

    try:
        server, client = masked(load_settings()), masked(ClientSettings())
    except ConfigError as exc:
        fail(str(exc), 2)
    except ValueError as exc:
        fail(f"invalid client setting: {exc}", 2)
    if as_json:
        sys.stdout.write(json.dumps({"server": server, "client": client}, default=str, indent=2) + "\n")
        return
    from rich.table import Table

    for title, values, fields in (
        ("server", server, Settings.model_fields),
        ("client", client, ClientSettings.model_fields),
    ):
        table = Table("setting", "env", "value", "description", title=title)
        for name, value in values.items():
            table.add_row(
                name,
                f"KEEL_{name.upper()}",
                str(value) if value is not None else "-",
                fields[name].description or "",
            )
        console.print(table)


Plugins().manager.hook.register_commands(cli=app)
