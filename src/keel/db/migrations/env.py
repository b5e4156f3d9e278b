"""Alembic environment: uses the engine (or open connection) Keel hands over, never an ini file."""

from alembic import context

from keel.db.migrate import load_models

target_metadata = load_models().metadata
config = context.config


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    with config.attributes["engine"].connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run()
