"""`keel alerts`: the project's alert rules with their state, and what fired and resolved."""

from typing import Annotated

import typer

from keel.cli.output import JsonOption, api, emit

app = typer.Typer(no_args_is_help=True)
RULE_COLUMNS = (
    "name",
    "state",
    "metric",
    "comparison",
    "threshold",
    "window_s",
    "last_value",
    "evaluated_at",
)
EVENT_COLUMNS = ("at", "rule", "state", "message")


@app.command("rules")
def rules(as_json: bool = JsonOption) -> None:
    """List alert rules with their state and last reading."""
    with api() as client:
        emit(client.list_alert_rules(), as_json, RULE_COLUMNS, title="alert rules")


@app.command("history")
def history(
    rule: Annotated[str | None, typer.Option(help="Only this rule")] = None,
    state: Annotated[str | None, typer.Option(help="firing or resolved")] = None,
    as_json: bool = JsonOption,
) -> None:
    """What fired and resolved, newest first (with --json: each notification's delivery)."""
    with api() as client:
        emit(client.alert_history(rule, state), as_json, EVENT_COLUMNS, title="alerts")
