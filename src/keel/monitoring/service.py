"""Alert rules: create or replace by name, list, delete; evaluate one against the store; the history.

A rule's value is computed from the trace rollup (and feedback) in the store, so every replica would agree;
only the leader evaluates (keel.monitoring.alerts). States move ok → pending → firing → ok: a condition that
holds for `for_s` fires (at once when `for_s` is 0); a firing rule resolves only once its value is past
`resolve_threshold` (hysteresis), and fewer than `min_count` calls give no verdict (a firing alert stays
firing). Firing and resolving each write one event and one delivery per channel in the same transaction.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from keel.core.auth import Principal, Role
from keel.core.clock import utcnow
from keel.core.errors import InvalidInput, NotFound
from keel.core.ids import new_id
from keel.core.secrets import SecretBox
from keel.core.urls import problem
from keel.feedback.models import Feedback
from keel.gateway import service as gateway
from keel.gateway.models import Limit
from keel.monitoring import drift_service
from keel.monitoring.drift_service import trace_filters
from keel.monitoring.models import AlertDelivery, AlertEvent, AlertRule
from keel.monitoring.schemas import ChannelOut, DeliveryOut, EventOut, RuleIn, RuleOut
from keel.tracing.models import Trace

COMPARE = {">": float.__gt__, ">=": float.__ge__, "<": float.__lt__, "<=": float.__le__}


def save_rule(
    session: Session,
    principal: Principal,
    data: RuleIn,
    box: SecretBox,
    *,
    interval_s: float,
    allow_private: bool,
) -> AlertRule:
    principal.require(Role.member)
    if data.window_s < interval_s:
        raise InvalidInput(
            f"window_s {data.window_s} is shorter than the evaluation interval ({interval_s:g} s, "
            "KEEL_ALERT_INTERVAL_SECONDS): calls between evaluations would never be seen",
            param="window_s",
        )
    channels = []
    for i, channel in enumerate(data.channels):
        if channel.url and (why := problem(channel.url, allow_private)) is not None:
            hint = " (set KEEL_WEBHOOK_ALLOW_PRIVATE=true to allow)" if "private" in why else ""
            raise InvalidInput(f"channels[{i}].url: {why}{hint}", param=f"channels.{i}.url")
        stored = channel.model_dump(exclude_none=True)
        if channel.secret:
            stored["secret"] = box.encrypt(channel.secret)
        channels.append(stored)
    rule = session.scalar(
        select(AlertRule).where(AlertRule.project_id == principal.project_id, AlertRule.name == data.name)
    )
    fields = data.model_dump(exclude={"channels"}) | {"channels": channels, "updated_at": utcnow()}
    if rule is None:
        rule = AlertRule(id=new_id("alr"), project_id=principal.project_id, state="ok", **fields)
        session.add(rule)
    else:
        changed = any(getattr(rule, k) != fields[k] for k in ("metric", "filters", "comparison", "threshold"))
        for key, value in fields.items():
            setattr(rule, key, value)
        if changed and rule.state == "pending":
            rule.state, rule.state_since = "ok", None
    session.flush()
    return rule


def list_rules(session: Session, principal: Principal) -> list[AlertRule]:
    return list(
        session.scalars(
            select(AlertRule).where(AlertRule.project_id == principal.project_id).order_by(AlertRule.name)
        )
    )


def get_rule(session: Session, principal: Principal, name: str) -> AlertRule:
    rule = session.scalar(
        select(AlertRule).where(AlertRule.project_id == principal.project_id, AlertRule.name == name)
    )
    if rule is None:
        raise NotFound(f"alert rule {name!r} not found")
    return rule


def delete_rule(session: Session, principal: Principal, name: str) -> None:
    principal.require(Role.member)
    session.execute(delete(AlertRule).where(AlertRule.id == get_rule(session, principal, name).id))


def rule_out(rule: AlertRule) -> RuleOut:
    channels = [
        ChannelOut(type=c["type"], url=c.get("url"), secret_set=bool(c.get("secret")), to=c.get("to"))
        for c in rule.channels
    ]
    return RuleOut(
        **{k: getattr(rule, k) for k in RuleOut.model_fields if k != "channels"}, channels=channels
    )


@dataclass(frozen=True)
class Reading:
    value: float | None  # None: fewer than min_count observations
    count: int


def read(session: Session, rule: AlertRule, now: datetime) -> Reading:
    """The rule's metric over its window ending `now`."""
    since = now - timedelta(seconds=rule.window_s)
    filters = rule.filters
    if rule.metric == "budget_used":
        return _budget_used(session, rule.project_id, filters, now)
    if rule.metric == "drifted_features":
        drifted, count = drift_service.drifted_now(session, rule.project_id, filters, now, rule.window_s)
        return _reading(float(drifted) if drifted is not None else None, count, rule.min_count)
    if rule.metric == "feedback_mean":
        query = select(Feedback.value).where(
            Feedback.project_id == rule.project_id,
            Feedback.name == filters["score"],
            Feedback.created_at >= since,
            Feedback.value.is_not(None),
        )
        if any(k in filters for k in ("route", "model", "prompt_version")):
            query = query.join(
                Trace, (Trace.project_id == Feedback.project_id) & (Trace.trace_id == Feedback.trace_id)
            ).where(*trace_filters(filters))
        values = [float(v) for v in session.scalars(query) if v is not None]
        return _reading(float(np.mean(values)) if values else None, len(values), rule.min_count)
    base = (
        Trace.project_id == rule.project_id,
        Trace.start_ns >= int(since.timestamp() * 1e9),
        *trace_filters(filters),
    )
    if rule.metric.startswith("latency_"):
        durations = np.fromiter(session.scalars(select(Trace.duration_ms).where(*base)), dtype=float)
        q = {"latency_p50_ms": 50, "latency_p95_ms": 95, "latency_p99_ms": 99}[rule.metric]
        value = float(np.percentile(durations, q)) if len(durations) else None
        return _reading(value, len(durations), rule.min_count)
    count, errors, cost, tokens = session.execute(
        select(
            func.count(),
            func.count().filter(Trace.status == "error"),
            func.coalesce(func.sum(Trace.cost_micros), 0),
            func.coalesce(func.sum(Trace.total_tokens), 0),
        ).where(*base)
    ).one()
    cost, tokens = int(cost), int(tokens)
    value = {
        "request_count": float(count),
        "error_rate": errors / count if count else None,
        "spend_usd": cost / 1e6,
        "cost_per_call_usd": cost / 1e6 / count if count else None,
        "tokens": float(tokens),
    }[rule.metric]
    minimum = 0 if rule.metric in ("request_count", "spend_usd", "tokens") else rule.min_count  # 0 is a value
    return _reading(value, count, minimum)


def _budget_used(session: Session, project_id: str, filters: dict[str, str], now: datetime) -> Reading:
    """Spend as the store has it (the gateway writes it with each trace batch) over the scope's budget."""
    scope, monthly = filters.get("scope", "project"), filters.get("period") == "month"
    limit = session.get(Limit, (project_id, scope))
    budget = (limit.usd_micros_per_month if monthly else limit.usd_micros_per_day) if limit else None
    if not budget:
        return Reading(None, 0)
    period = f"m:{now:%Y-%m}" if monthly else f"d:{now:%Y-%m-%d}"
    return Reading(gateway.spent(session, project_id, scope, period) / budget, 1)


def _reading(value: float | None, count: int, minimum: int) -> Reading:
    if value is None or count < minimum:
        return Reading(None, count)
    return Reading(value, count)


def evaluate(session: Session, rule: AlertRule, now: datetime, base_url: str) -> AlertEvent | None:
    """Read the rule, move its state, and write the event and deliveries of a fire or resolve."""
    reading = read(session, rule, now)
    rule.evaluated_at, rule.last_value, rule.last_count = now, reading.value, reading.count
    breached = reading.value is not None and COMPARE[rule.comparison](reading.value, rule.threshold)
    if rule.state in ("ok", "pending") and breached:
        since = rule.state_since if rule.state == "pending" and rule.state_since else now
        if (now - since).total_seconds() >= rule.for_s:
            return _transition(session, rule, "firing", reading, now, base_url)
        rule.state, rule.state_since = "pending", since
    elif rule.state == "pending":
        rule.state, rule.state_since = "ok", None
    elif rule.state == "firing" and reading.value is not None:
        limit = rule.threshold if rule.resolve_threshold is None else rule.resolve_threshold
        healthy = not COMPARE[rule.comparison](reading.value, limit) and (
            reading.value != limit or rule.comparison in (">", "<")
        )
        if healthy:
            return _transition(session, rule, "resolved", reading, now, base_url)
    return None


def _transition(
    session: Session, rule: AlertRule, state: str, reading: Reading, now: datetime, base_url: str
) -> AlertEvent:
    rule.state, rule.state_since = ("firing", now) if state == "firing" else ("ok", None)
    where = " ".join(f"{k}={v}" for k, v in sorted(rule.filters.items()))
    verb = "is" if state == "firing" else "is back:"
    message = (
        f"[{state.upper()}] {rule.name}: {rule.metric} {verb} {reading.value:.4g} "
        f"({rule.comparison} {rule.threshold:g} fires) over {rule.window_s}s, {reading.count} calls"
        + (f", {where}" if where else "")
    )
    query = {k: v for k, v in rule.filters.items() if k in ("route", "model", "prompt_version")}
    if rule.metric == "error_rate":
        query["status"] = "error"
    event = AlertEvent(
        id=new_id("alev"),
        project_id=rule.project_id,
        rule_id=rule.id,
        rule_name=rule.name,
        state=state,
        value=reading.value,
        count=reading.count,
        message=message,
        traces_url=f"{base_url.rstrip('/')}/traces" + (f"?{urlencode(query)}" if query else ""),
        at=now,
    )
    session.add(event)
    session.flush()
    for i, channel in enumerate(rule.channels):
        session.add(
            AlertDelivery(
                id=new_id("aldl"), event_id=event.id, channel=i, kind=channel["type"], next_attempt_at=now
            )
        )
    return event


def history(
    session: Session, principal: Principal, rule: str | None, state: str | None, limit: int
) -> list[EventOut]:
    query = select(AlertEvent).where(AlertEvent.project_id == principal.project_id)
    if rule:
        query = query.where(AlertEvent.rule_name == rule)
    if state:
        query = query.where(AlertEvent.state == state)
    events = list(session.scalars(query.order_by(AlertEvent.at.desc(), AlertEvent.id.desc()).limit(limit)))
    deliveries: dict[str, list[DeliveryOut]] = {}
    if events:
        for d in session.scalars(
            select(AlertDelivery)
            .where(AlertDelivery.event_id.in_([e.id for e in events]))
            .order_by(AlertDelivery.channel)
        ):
            deliveries.setdefault(d.event_id, []).append(DeliveryOut.model_validate(d))
    return [
        EventOut(
            id=e.id,
            rule=e.rule_name,
            state=e.state,
            value=e.value,
            count=e.count,
            message=e.message,
            traces_url=e.traces_url,
            at=e.at,
            deliveries=deliveries.get(e.id, []),
        )
        for e in events
    ]


def firing(session: Session, principal: Principal) -> list[AlertRule]:
    return list(
        session.scalars(
            select(AlertRule).where(AlertRule.project_id == principal.project_id, AlertRule.state == "firing")
        )
    )


def enabled_rule_ids(session: Session) -> list[str]:
    return list(session.scalars(select(AlertRule.id).where(AlertRule.enabled.is_(True))))


def due_deliveries(session: Session, now: datetime) -> list[str]:
    return list(
        session.scalars(
            select(AlertDelivery.id).where(
                AlertDelivery.status == "pending", AlertDelivery.next_attempt_at <= now
            )
        )
    )
