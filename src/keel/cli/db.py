"""`keel db`: migrations by hand (the server also upgrades at start)."""

from typing import TYPE_CHECKING, Annotated

import typer

from keel.cli.output import console, fail
from keel.core.errors import ConfigError

if TYPE_CHECKING:  # SQLAlchemy and Alembic load only when a `keel db` command runs
    from keel.db.engine import Engine

app = typer.Typer(no_args_is_help=True)


def _engine() -> "Engine":
    from keel.db.engine import check_connection, make_engine
    from keel.settings import load_settings

    try:
        settings = load_settings()
        settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        engine = make_engine(settings.resolved_database_url)
        check_connection(engine)
    except ConfigError as exc:
        fail(str(exc), 2)
    return engine


@app.command()
def upgrade(revision: Annotated[str, typer.Argument(help="Target revision")] = "head") -> None:
    """Apply migrations up to REVISION."""
    engine = _engine()
    from keel.db import migrate
    from keel.db.engine import redact_url

    migrate.upgrade(engine, revision)
    console.print(f"{redact_url(str(engine.url))} at revision {migrate.current(engine)}", highlight=False)


@app.command()
def downgrade(revision: Annotated[str, typer.Argument(help="Target revision, e.g. 0001 or base")]) -> None:
    """Revert migrations down to REVISION."""
    engine = _engine()
    from keel.db import migrate
    from keel.db.engine import redact_url

    migrate.downgrade(engine, revision)
    console.print(
        f"{redact_url(str(engine.url))} at revision {migrate.current(engine) or 'base'}", highlight=False
    )


@app.command()
def current() -> None:
    """Print the store's revision and the newest one this version of Keel knows."""
    engine = _engine()
    from keel.db import migrate

    now, head = migrate.current(engine), migrate.head()
    state = "up to date" if now == head else "behind: run `keel db upgrade`"
    console.print(f"current: {now or 'base'}  head: {head}  ({state})", highlight=False)
