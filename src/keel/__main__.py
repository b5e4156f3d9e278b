"""`python -m keel` runs the CLI."""

from keel.cli.main import app

app()
