"""Closed loops: save them, start runs, and move each run through its stages.

A run is a small state machine stored in `loop_runs`; the runner (on the leader) calls `advance` on every
tick, so a restart picks up where the stored stage says. Each stage does its work through the feature that
owns it (selection, fine-tuning with its evaluation gate, the route's canary) and links what it made.
"""

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from croniter import croniter
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from keel.core.auth import Principal, Role
from keel.core.clock import utcnow
from keel.core.errors import Conflict, InvalidInput, NotFound
from keel.core.ids import new_id
from keel.datasets import selection_service as selection
from keel.datasets import service as datasets
from keel.datasets.schemas import SelectIn
from keel.finetune import release_service as releases
from keel.finetune import runs_service as finetunes
from keel.gateway import service as gateway
from keel.gateway.canary_schemas import CanaryIn
from keel.loops.loop_schemas import LoopIn, LoopRunOut
from keel.loops.models import Loop, LoopRun

ACTIVE = "running"
Sessions = Callable[[], Session]


def acting(loop: Loop) -> Principal:
    """Who a loop's runs act as: the project, with the admin role its creator needed."""
    return Principal(f"loop:{loop.name}", loop.project_id, Role.admin)


def next_time(spec: LoopIn, after: datetime) -> datetime | None:
    if not spec.trigger.schedule:
        return None
    found: datetime = croniter(spec.trigger.schedule, after).get_next(datetime)
    return found.replace(tzinfo=UTC) if found.tzinfo is None else found


def save(session: Session, principal: Principal, data: LoopIn) -> Loop:
    """Create or replace the loop named `data.name`; the route a canary names must exist already."""
    principal.require(Role.admin)
    if data.canary is not None:
        try:
            gateway.get_route(session, principal, data.canary.route)
        except NotFound:
            raise InvalidInput(
                f"loop {data.name!r}: canary.route {data.canary.route!r} does not exist; create the route "
                "(its targets are the baseline) first",
                param="canary.route",
            ) from None
    loop = session.scalar(select(Loop).where(Loop.project_id == principal.project_id, Loop.name == data.name))
    if loop is None:
        loop = Loop(id=new_id("lp"), project_id=principal.project_id, name=data.name, author=principal.key_id)
        session.add(loop)
    loop.spec = data.model_dump(mode="json")
    loop.enabled = data.enabled
    loop.next_run_at = next_time(data, utcnow())
    loop.updated_at = utcnow()
    session.commit()
    return loop


def spec_of(loop: Loop) -> LoopIn:
    return LoopIn.model_validate(loop.spec)


def get(session: Session, principal: Principal, name: str) -> Loop:
    loop = session.scalar(select(Loop).where(Loop.project_id == principal.project_id, Loop.name == name))
    if loop is None:
        raise NotFound(f"loop {name!r} not found")
    return loop


def list_loops(session: Session, principal: Principal) -> list[Loop]:
    return list(
        session.scalars(select(Loop).where(Loop.project_id == principal.project_id).order_by(Loop.name))
    )


def delete(session: Session, principal: Principal, name: str) -> None:
    principal.require(Role.admin)
    session.delete(get(session, principal, name))
    session.commit()


def runs(session: Session, loop: Loop, limit: int = 50) -> list[LoopRun]:
    query = select(LoopRun).where(LoopRun.loop_id == loop.id).order_by(LoopRun.number.desc()).limit(limit)
    return list(session.scalars(query))


def get_run(session: Session, loop: Loop, run_id: str) -> LoopRun:
    run = session.get(LoopRun, run_id)
    if run is None or run.loop_id != loop.id:
        raise NotFound(f"loop {loop.name!r} has no run {run_id!r}")
    return run


def running_ids(session: Session) -> list[str]:
    return list(session.scalars(select(LoopRun.id).where(LoopRun.status == ACTIVE)))


def enabled_ids(session: Session) -> list[str]:
    return list(session.scalars(select(Loop.id).where(Loop.enabled.is_(True))))


def active(session: Session, loop_id: str) -> LoopRun | None:
    return session.scalar(select(LoopRun).where(LoopRun.loop_id == loop_id, LoopRun.status == ACTIVE))


def start(session: Session, loop: Loop, trigger: str) -> LoopRun:
    """A new run at its first stage; one run per loop at a time."""
    if active(session, loop.id) is not None:
        raise Conflict(f"loop {loop.name!r} already has a run in progress")
    number = (session.scalar(select(func.max(LoopRun.number)).where(LoopRun.loop_id == loop.id)) or 0) + 1
    run = LoopRun(
        id=new_id("lpr"),
        loop_id=loop.id,
        project_id=loop.project_id,
        number=number,
        trigger=trigger,
        stage="select",
        status=ACTIVE,
        dataset=spec_of(loop).dataset,
        experiments={},
        log=[],
    )
    _note(run, "select", f"started ({trigger})")
    session.add(run)
    session.commit()
    return run


def _note(run: LoopRun, stage: str, message: str) -> None:
    run.log = [*run.log, {"at": utcnow().isoformat(), "stage": stage, "message": message}]


def finish(run: LoopRun, status: str, reason: str) -> None:
    run.stage, run.status, run.reason, run.finished_at = "done", status, reason, utcnow()
    _note(run, "done", f"{status}: {reason}")


def advance(sessions: Sessions, run_id: str, model_roots: str) -> None:
    """Do what the run's stage needs now (or see that it is still waiting). Each stage commits its step."""
    with sessions() as session:
        run = session.get_one(LoopRun, run_id)
        loop = session.get_one(Loop, run.loop_id)
        stage, spec, principal = run.stage, spec_of(loop), acting(loop)
    step = {"select": _select, "finetune": _finetune, "gate": _gate, "canary": _canary}[stage]
    step(sessions, run_id, spec, principal, model_roots)


def _select(sessions: Sessions, run_id: str, spec: LoopIn, principal: Principal, model_roots: str) -> None:
    with sessions() as session:
        number = session.get_one(LoopRun, run_id).number
        request = SelectIn(**spec.selector.model_dump(), message=f"loop {spec.name} run {number}")
        report = selection.select_into(session, principal, spec.dataset, request)
    with sessions() as session:
        run = session.get_one(LoopRun, run_id)
        if not report.added:
            finish(run, "skipped", f"no new traces matched ({report.considered} considered)")
            session.commit()
            return
        _note(run, "select", f"added {report.added} traces as {spec.dataset}@{report.version}")
        session.commit()
    version = report.version or 0
    if spec.test_fraction:
        with sessions() as session:
            version = datasets.split(
                session, principal, spec.dataset, spec.test_fraction, 0, ""
            ).latest_version
    with sessions() as session:
        config = spec.finetune_config(version)
        tuned = finetunes.create_run(session, principal, config, model_roots)
        tuned_id = tuned.id
    with sessions() as session:
        run = session.get_one(LoopRun, run_id)
        run.dataset_version, run.finetune_run_id, run.stage = version, tuned_id, "finetune"
        _note(run, "finetune", f"fine-tune {tuned_id} on {spec.dataset}@{version}")
        session.commit()


def _finetune(sessions: Sessions, run_id: str, spec: LoopIn, principal: Principal, model_roots: str) -> None:
    with sessions() as session:
        run = session.get_one(LoopRun, run_id)
        tuned = finetunes.get_any(session, run.finetune_run_id or "")
        job = finetunes.job_of(session, tuned)
        if job is None or job.status in ("queued", "running"):
            return
        if job.status != "succeeded":
            finish(run, "failed", f"fine-tune {tuned.id} {job.status}: {job.error or ''}".strip())
            session.commit()
            return
        version = finetunes.version_of(session, tuned)
        if version is None:
            finish(run, "failed", f"fine-tune {tuned.id} registered no version")
            session.commit()
            return
        run.model_version = f"{tuned.register_as}@v{version.version}"
        gate = version.evaluations[-1] if version.evaluations else {}
        run.experiments = {k: gate[k] for k in ("baseline_experiment", "candidate_experiment") if k in gate}
        run.stage = "gate"
        _note(run, "gate", f"registered {run.model_version}; evaluated against {gate.get('against', '?')}")
        session.commit()


def verdict(spec: LoopIn, record: dict[str, Any]) -> tuple[bool, str]:
    """Whether the evaluation gate passes, and why."""
    if not record:
        return False, "the fine-tune recorded no evaluation (is there a held-out split?)"
    if record.get("error"):
        return False, f"the evaluation failed: {record['error']}"
    metrics = {
        k: v
        for k, v in (record.get("metrics") or {}).items()
        if not spec.gate.metrics or k in spec.gate.metrics
    }
    judged = {k: v for k, v in metrics.items() if v.get("verdict") != "no data"}
    if not judged:
        return False, "the gate had no data to compare"
    worse = sorted(k for k, v in judged.items() if v.get("verdict") == "worse")
    better = sorted(k for k, v in judged.items() if v.get("verdict") == "better")
    shown = ", ".join(f"{k} {_diff(v)} ({v.get('verdict')})" for k, v in sorted(judged.items()))
    if worse:
        return False, f"worse than {record.get('against')} on {', '.join(worse)}: {shown}"
    if spec.gate.require == "better" and not better:
        return False, f"not better than {record.get('against')} on any metric: {shown}"
    return True, f"vs {record.get('against')}: {shown}"


def _diff(result: dict[str, Any]) -> str:
    value = result.get("diff")
    return f"{value:+.3f}" if isinstance(value, int | float) and math.isfinite(value) else "?"


def _gate(sessions: Sessions, run_id: str, spec: LoopIn, principal: Principal, model_roots: str) -> None:
    with sessions() as session:
        run = session.get_one(LoopRun, run_id)
        tuned = finetunes.get_any(session, run.finetune_run_id or "")
        version = finetunes.version_of(session, tuned)
        record = version.evaluations[-1] if version and version.evaluations else {}
        passed, why = verdict(spec, record)
        model_version = run.model_version or ""
        if not passed:
            releases.reject(session, run.project_id, model_version, f"evaluation gate: {why}")
            finish(run, "rejected", f"gate failed: {why}")
            session.commit()
            return
        _note(run, "gate", f"passed: {why}")
        if spec.canary is None:
            finish(run, "succeeded", f"{model_version} passed the gate (no canary configured)")
            session.commit()
            return
        session.commit()
    assert spec.canary is not None
    plan = spec.canary.model_dump(exclude={"route"})
    release = CanaryIn.model_validate({**plan, "target": {"provider": "models", "model": model_version}})
    with sessions() as session:
        route = gateway.get_route(session, principal, spec.canary.route)
        state = route.canary or {}
        baseline = state.get("baseline") if state.get("state") in ("running", "paused") else None
        data = gateway.route_body(route, targets=baseline or route.targets["items"], canary=release)
        saved = gateway.save_route(session, principal, data)
        canary_id = (saved.canary or {}).get("id")
    with sessions() as session:
        run = session.get_one(LoopRun, run_id)
        run.route, run.canary_id, run.stage = spec.canary.route, canary_id, "canary"
        _note(run, "canary", f"canary {canary_id} on {spec.canary.route} at {release.steps[0]}%")
        session.commit()


def _canary(sessions: Sessions, run_id: str, spec: LoopIn, principal: Principal, model_roots: str) -> None:
    with sessions() as session:
        run = session.get_one(LoopRun, run_id)
        try:
            route = gateway.get_route(session, principal, run.route or "")
        except NotFound:
            finish(run, "cancelled", f"route {run.route!r} was deleted")
            session.commit()
            return
        state = route.canary or {}
        if state.get("id") != run.canary_id:
            finish(run, "cancelled", "the route's canary was replaced or removed")
        elif state["state"] == "promoted":
            finish(run, "succeeded", f"{run.model_version} promoted on {route.name}: {state['reason']}")
        elif state["state"] == "rolled_back":
            finish(run, "rolled_back", f"{run.model_version} rolled back on {route.name}: {state['reason']}")
        else:
            return
        session.commit()


def cancel(session: Session, loop: Loop, run_id: str) -> LoopRun:
    run = get_run(session, loop, run_id)
    if run.status != ACTIVE:
        raise Conflict(f"run {run_id} is {run.status}, not running")
    if run.stage == "finetune" and run.finetune_run_id:
        tuned = finetunes.get_any(session, run.finetune_run_id)
        finetunes.cancel(session, acting(loop), tuned.id)
    finish(run, "cancelled", "cancelled by a person")
    session.commit()
    return run


def run_out(run: LoopRun, loop_name: str) -> LoopRunOut:
    return LoopRunOut(
        id=run.id,
        loop=loop_name,
        number=run.number,
        trigger=run.trigger,
        stage=run.stage,
        status=run.status,
        reason=run.reason,
        dataset=run.dataset,
        dataset_version=run.dataset_version,
        finetune_run_id=run.finetune_run_id,
        model_version=run.model_version,
        experiments=run.experiments,
        route=run.route,
        canary_id=run.canary_id,
        log=run.log,
        started_at=run.started_at,
        finished_at=run.finished_at,
    )
