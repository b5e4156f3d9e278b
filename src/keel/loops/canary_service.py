"""One canary step judged and acted on, and the overrides people use.

A failure is acted on as soon as the candidate has `min_calls` (fail fast); a pass needs the step to have
lasted its `interval` too. Every decision is stored with its numbers and the traces it read, in the same
transaction as the move it causes. A step that cannot be decided waits and says so, at most once an interval.
"""

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from keel.core.auth import Principal, Role
from keel.core.errors import Conflict
from keel.core.ids import new_id
from keel.finetune import release_service as releases
from keel.gateway import canary_service as canary
from keel.gateway import service as gateway
from keel.gateway.canary_schemas import CanaryIn
from keel.gateway.config import REGISTERED
from keel.gateway.models import Route
from keel.loops import samples_service
from keel.loops.judge import Judgement, judge
from keel.loops.models import CanaryDecision

JUDGE = "judge"


@dataclass
class Step:
    """What one look at a step found (stored as a decision only when it decides or says why it waits)."""

    judgement: Judgement
    samples: dict[str, samples_service.Samples]
    elapsed_s: float


def look(session: Session, route: Route) -> Step:
    state = route.canary
    assert state is not None
    spec = canary.spec_of(route)
    scores = [m.name for m in spec.metrics if m.is_score]
    arms = samples_service.read(
        session, route.project_id, route.name, state["id"], state["step_started_ns"], scores
    )
    judgement = judge(spec, arms["baseline"].values, arms["canary"].values)
    return Step(judgement, arms, (time.time_ns() - state["step_started_ns"]) / 1e9)


def analyse(session: Session, route: Route) -> CanaryDecision | None:
    """Judge the route's running canary once; act on what it finds. The caller commits."""
    state = route.canary
    assert state is not None
    assert state["state"] == "running"
    spec = canary.spec_of(route)
    found = look(session, route)
    verdict, interval = found.judgement.verdict, spec.interval_s
    due = found.elapsed_s >= interval
    if verdict == "fail":
        return _fail(session, route, spec, found)
    if not due:
        return None
    if verdict == "pass":
        next_weight = spec.steps[state["step"] + 1]
        if next_weight < 100:
            canary.advance(session, route, f"step {state['step'] + 1} passed at {state['weight']}%")
            return _decide(
                session, route, found, state, "advance", f"passed; candidate now at {next_weight}%"
            )
        if spec.on_pass == "pause":
            canary.pause(session, route, "passed every step; waiting for a person to promote")
            return _decide(session, route, found, state, "pause", "passed every step; paused for promotion")
        _promote(session, route, "passed every step", JUDGE)
        return _decide(session, route, found, state, "promote", "passed every step; promoted")
    if verdict == "marginal":
        marginal = int(state.get("marginal", 0)) + 1
        if marginal >= spec.max_marginal:
            found.judgement.reason = f"{marginal} marginal steps in a row: {found.judgement.reason}"
            return _fail(session, route, spec, found)
        canary.hold(session, route, f"marginal ({marginal} of {spec.max_marginal}); holding", marginal)
        return _decide(session, route, found, state, "hold", f"marginal; holding at {state['weight']}%")
    last = state.get("waited_ns", 0)  # wait: say so once an interval, not on every look
    if time.time_ns() - last < interval * 1e9:
        return None
    route.canary = {**route.canary, "waited_ns": time.time_ns()}  # type: ignore[dict-item]
    return _decide(session, route, found, state, "wait", f"undecided at {state['weight']}%")


def _fail(session: Session, route: Route, spec: CanaryIn, found: Step) -> CanaryDecision:
    state = dict(route.canary or {})
    reason = found.judgement.reason
    if spec.on_fail == "pause":
        canary.pause(session, route, f"failed: {reason}")
        return _decide(session, route, found, state, "pause", "failed; paused for a person")
    _rollback(session, route, f"failed at {state['weight']}%: {reason}", JUDGE)
    return _decide(session, route, found, state, "rollback", "failed; rolled back")


def _promote(session: Session, route: Route, reason: str, author: str) -> None:
    target = (route.canary or {})["spec"]["target"]
    canary.promote(session, route, reason)
    if target["provider"] == REGISTERED:
        before = releases.crown(session, route.project_id, target["model"], author)
        route.canary = {**route.canary, "previous_champion": before}  # type: ignore[dict-item]


def _rollback(session: Session, route: Route, reason: str, author: str) -> None:
    state = route.canary
    if state is None:
        raise Conflict(f"route {route.name!r} has no canary release")
    target = state["spec"]["target"]
    was_promoted = state["state"] == "promoted"
    canary.rollback(session, route, reason)
    if target["provider"] != REGISTERED:
        return
    if was_promoted:
        releases.restore_champion(
            session, route.project_id, target["model"], state.get("previous_champion"), author
        )
    releases.reject(session, route.project_id, target["model"], reason)


def _decide(
    session: Session,
    route: Route,
    found: Step | None,
    state: dict[str, Any],
    action: str,
    summary: str,
    author: str = JUDGE,
) -> CanaryDecision:
    judgement = found.judgement if found else None
    decision = CanaryDecision(
        id=new_id("cnd"),
        project_id=route.project_id,
        route=route.name,
        canary_id=state["id"],
        step=state["step"],
        weight=state["weight"],
        verdict=judgement.verdict if judgement else "override",
        action=action,
        score=judgement.score if judgement else None,
        reason=f"{summary}: {judgement.reason}" if judgement else summary,
        metrics=judgement.as_json() if judgement else [],
        traces={arm: s.trace_ids for arm, s in found.samples.items()} if found else {},
        author=author,
    )
    session.add(decision)
    session.flush()
    return decision


def overrule(
    session: Session, principal: Principal, name: str, action: str, reason: str | None
) -> CanaryDecision:
    """A person's `pause`, `resume`, `rollback` or `promote` on the route's canary."""
    principal.require(Role.admin)
    route = gateway.get_route(session, principal, name)
    state = dict(route.canary or {})
    why = reason or f"{action} by {principal.key_id}"
    if action == "pause":
        canary.pause(session, route, why)
    elif action == "resume":
        canary.resume(session, route, why)
    elif action == "promote":
        _require_live(route)
        _promote(session, route, why, principal.key_id)
    else:
        _rollback(session, route, why, principal.key_id)
    return _decide(session, route, None, state, action, why, principal.key_id)


def _require_live(route: Route) -> None:
    state = route.canary
    if state is None or state["state"] not in canary.LIVE:
        raise Conflict(f"route {route.name!r} has no running or paused canary to promote")


def decisions(
    session: Session, project_id: str, route: str, canary_id: str | None, limit: int = 200
) -> list[CanaryDecision]:
    query = select(CanaryDecision).where(
        CanaryDecision.project_id == project_id, CanaryDecision.route == route
    )
    if canary_id is not None:
        query = query.where(CanaryDecision.canary_id == canary_id)
    return list(
        session.scalars(query.order_by(CanaryDecision.at.desc(), CanaryDecision.id.desc()).limit(limit))
    )
