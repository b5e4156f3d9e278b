"""`keel canary status|pause|resume|rollback|promote ROUTE`: where a release is; overruling the judge."""

from typing import Annotated, Any

import typer

from keel.cli.output import JsonOption, api, console, emit

app = typer.Typer(no_args_is_help=True)
DECISION_COLUMNS = ("at", "step", "weight", "verdict", "action", "score", "reason")
Reason = Annotated[str | None, typer.Option(help="Why, for the decision history")]


def _show(canary: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit(canary, True)
        return
    target = canary["target"]
    console.print(
        f"[bold]{canary['route']}[/]: {canary['state']} — candidate {target['provider']}/{target['model']} "
        f"at {canary['weight']}% (steps {canary['steps']})\n{canary['reason']}",
        highlight=False,
    )
    live = canary.get("live")
    if live:
        calls = live["calls"]
        console.print(
            f"this step: {live['verdict']} after {live['elapsed_s']:.0f}s with {calls['canary']} candidate "
            f"and {calls['baseline']} baseline calls — {live['reason']}",
            highlight=False,
        )
    emit(canary["decisions"], False, DECISION_COLUMNS, title="decisions")


@app.command("status")
def status(route: str, as_json: bool = JsonOption) -> None:
    """Where the route's canary is, what the judge sees in this step, and every decision so far."""
    with api() as client:
        _show(client.canary(route), as_json)


def _overrule(action: str, route: str, reason: str | None, as_json: bool) -> None:
    with api() as client:
        _show(client.overrule_canary(route, action, reason), as_json)


@app.command("pause")
def pause(route: str, reason: Reason = None, as_json: bool = JsonOption) -> None:
    """Hold the candidate at its current share; the judge stops moving it."""
    _overrule("pause", route, reason, as_json)


@app.command("resume")
def resume(route: str, reason: Reason = None, as_json: bool = JsonOption) -> None:
    """Let the judge go on (the current step starts again with fresh data)."""
    _overrule("resume", route, reason, as_json)


@app.command("rollback")
def rollback(route: str, reason: Reason = None, as_json: bool = JsonOption) -> None:
    """Send all traffic back to the baseline now (after a promotion: restore the old targets and champion)."""
    _overrule("rollback", route, reason, as_json)


@app.command("promote")
def promote(route: str, reason: Reason = None, as_json: bool = JsonOption) -> None:
    """Make the candidate the route's target now, whatever the judge says."""
    _overrule("promote", route, reason, as_json)
