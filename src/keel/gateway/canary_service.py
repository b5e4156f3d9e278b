"""A route's canary as the gateway routes it: the candidate, its share now, and where it is in its steps.

The state lives on the route row (`gateway_routes.canary`) because it is routing: the config view splits
traffic from it. The judge (`keel.loops`) reads the arms' outcomes and moves the state through the
transitions here; people overrule it through the same transitions. Nothing here commits: the caller's
transaction does, so a decision and the move it causes land together.
"""

import hashlib
import time
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from keel.core.clock import utcnow
from keel.core.errors import Conflict, InvalidInput
from keel.core.ids import new_id
from keel.core.secrets import SecretBox
from keel.db.changes import record
from keel.gateway.canary_schemas import CanaryIn
from keel.gateway.models import Route

LIVE = ("running", "paused")  # states that send the candidate traffic
FINISHED = ("promoted", "rolled_back")


def spec_hash(spec: CanaryIn) -> str:
    """What identifies a release: the spec without channel secrets (stored encrypted, so a spec read back
    from the route hashes the same as the one first written)."""
    dumped = spec.model_dump(mode="json")
    dumped["notify"] = [{k: v for k, v in c.items() if k != "secret"} for c in dumped["notify"]]
    return hashlib.sha256(orjson.dumps(dumped, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _stored_spec(spec: CanaryIn, box: SecretBox | None) -> dict[str, Any]:
    stored = spec.model_dump(mode="json")
    for channel in stored["notify"]:
        if channel.get("secret"):
            if box is None:
                raise InvalidInput("a canary notify channel with a secret needs the server's secret box")
            channel["secret"] = box.encrypt(channel["secret"])
    return stored


def apply_spec(
    route: Route, spec: CanaryIn | None, targets: list[dict[str, Any]], box: SecretBox | None
) -> bool:
    """Set the route's canary from a saved route body; True when the route keeps its current targets.

    The same spec again keeps the release where it is (and, once promoted, the promoted targets, so
    re-applying a file changes nothing); a new spec starts a new release at its first step."""
    current = route.canary
    if spec is None:
        route.canary = None
        return False
    digest = spec_hash(spec)
    if current is not None and current.get("spec_hash") == digest:
        if current["state"] == "promoted":
            return True
        route.canary = {**current, "baseline": targets}
        return False
    if any(t["provider"] == spec.target.provider and t["model"] == spec.target.model for t in targets):
        raise InvalidInput(
            "the canary target is already one of the route's targets; the targets are the baseline it is "
            "compared with",
            param="canary.target",
        )
    now = time.time_ns()
    route.canary = {
        "id": new_id("cny"),
        "spec": _stored_spec(spec, box),
        "spec_hash": digest,
        "state": "running",
        "step": 0,
        "weight": spec.steps[0],
        "started_ns": now,
        "step_started_ns": now,
        "marginal": 0,
        "baseline": targets,
        "previous": None,
        "reason": f"started at {spec.steps[0]}%",
        "updated_at": utcnow().isoformat(),
    }
    return False


def spec_of(route: Route) -> CanaryIn:
    assert route.canary is not None
    return CanaryIn.model_validate(route.canary["spec"])


def masked(route: Route) -> dict[str, Any] | None:
    """The stored spec as the API shows it: a channel's secret only as `"***"`."""
    if route.canary is None:
        return None
    spec = dict(route.canary["spec"])
    spec["notify"] = [{**c, "secret": "***"} if c.get("secret") else c for c in spec["notify"]]
    return spec


def live(session: Session) -> list[Route]:
    """Every route, in every project, whose canary is running (what the judge works through)."""
    rows = session.scalars(
        select(Route).where(Route.canary.is_not(None)).order_by(Route.project_id, Route.name)
    )
    return [r for r in rows if r.canary and r.canary["state"] == "running"]


def _move(session: Session, route: Route, reason: str, **changes: Any) -> None:
    assert route.canary is not None
    route.canary = {**route.canary, **changes, "reason": reason, "updated_at": utcnow().isoformat()}
    route.updated_at = utcnow()
    record(session, "gateway.config", route.project_id)
    record(session, "gateway.route", route.project_id, route.name)


def _require(route: Route, *states: str) -> dict[str, Any]:
    canary = route.canary
    if canary is None:
        raise Conflict(f"route {route.name!r} has no canary release")
    if canary["state"] not in states:
        raise Conflict(
            f"the canary on {route.name!r} is {canary['state']}; this needs it {' or '.join(states)}"
        )
    return canary


def advance(session: Session, route: Route, reason: str) -> int:
    """The step passed: the candidate gets the next step's share. Returns the new share."""
    canary = _require(route, *LIVE)
    step = canary["step"] + 1
    weight = spec_of(route).steps[step]
    _move(session, route, reason, step=step, weight=weight, step_started_ns=time.time_ns(), marginal=0)
    return int(weight)


def hold(session: Session, route: Route, reason: str, marginal: int) -> None:
    _move(session, route, reason, marginal=marginal)


def pause(session: Session, route: Route, reason: str) -> None:
    _require(route, "running")
    _move(session, route, reason, state="paused")


def resume(session: Session, route: Route, reason: str) -> None:
    _require(route, "paused")
    _move(session, route, reason, state="running", step_started_ns=time.time_ns(), marginal=0)


def promote(session: Session, route: Route, reason: str) -> None:
    """The candidate becomes the route's only target; the old targets are kept for an instant rollback."""
    canary = _require(route, *LIVE)
    target = canary["spec"]["target"]
    previous = route.targets["items"]
    route.targets = {"items": [{**target, "weight": 1.0, "variant": target.get("variant")}]}
    steps = canary["spec"]["steps"]
    _move(session, route, reason, state="promoted", weight=100, step=len(steps) - 1, previous=previous)


def rollback(session: Session, route: Route, reason: str) -> None:
    """Traffic back to the baseline at once: a live canary gets weight 0; a promoted one gets the targets it
    replaced back."""
    canary = _require(route, "running", "paused", "promoted")
    if canary["state"] == "promoted" and canary.get("previous"):
        route.targets = {"items": canary["previous"]}
    _move(session, route, reason, state="rolled_back", weight=0)


def split(targets: list[dict[str, Any]], canary: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The targets the gateway routes to: the baseline's weights scaled to (100 - share)% plus the candidate
    at its share, each marked with its arm. Without a live canary, the targets as they are."""
    if canary is None or canary["state"] not in LIVE or not canary["weight"]:
        return targets
    share = float(canary["weight"])
    total = sum(float(t["weight"]) for t in targets) or 1.0
    baseline = [
        {**t, "weight": float(t["weight"]) / total * (100 - share), "arm": "baseline"} for t in targets
    ]
    candidate = {**canary["spec"]["target"], "weight": share, "arm": "canary"}
    return [*baseline, candidate]
