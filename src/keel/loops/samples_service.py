"""Each arm's outcomes since a canary step began, read from the gateway's own traces and their feedback.

A call belongs to the arm the router chose for it (`keel.canary.arm` on its span). Its error counts against
that arm even when a fallback rescued it; its latency, TTFT and cost count only when the arm itself answered.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from keel.feedback.models import Feedback
from keel.tracing.models import Span, Trace

MAX_CALLS = 50_000  # per step read; a step with more calls is judged on its most recent ones
KEPT_TRACE_IDS = 2000  # per arm, stored with each decision


@dataclass
class Samples:
    values: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    trace_ids: list[str] = field(default_factory=list)

    @property
    def calls(self) -> int:
        return len(self.values.get("error_rate", []))


def _blocked_on_output(entries: object) -> bool:
    return isinstance(entries, list) and any(
        isinstance(e, str) and e.startswith("output ") and e.endswith((" block", " retry")) for e in entries
    )


def read(
    session: Session, project_id: str, route: str, canary_id: str, since_ns: int, scores: list[str]
) -> dict[str, Samples]:
    """`{"baseline": Samples, "canary": Samples}` for the calls that started at or after `since_ns`."""
    rows = session.execute(
        select(Span.trace_id, Span.attributes, Span.duration_ms, Span.ttft_ms, Span.cost_micros)
        .join(Trace, (Trace.project_id == Span.project_id) & (Trace.trace_id == Span.trace_id))
        .where(
            Trace.project_id == project_id,
            Trace.start_ns >= since_ns,
            Trace.route == route,
            Span.parent_span_id.is_(None),
        )
        .order_by(Trace.start_ns.desc())
        .limit(MAX_CALLS)
    ).all()
    arms = {"baseline": Samples(), "canary": Samples()}
    arm_of: dict[str, str] = {}
    for trace_id, attributes, duration_ms, ttft_ms, cost_micros in rows:
        if attributes.get("keel.canary.id") != canary_id or attributes.get("keel.canary.arm") not in arms:
            continue
        arm = arms[attributes["keel.canary.arm"]]
        arm_of[trace_id] = attributes["keel.canary.arm"]
        failed = bool(attributes.get("keel.canary.failed"))
        arm.values["error_rate"].append(1.0 if failed else 0.0)
        arm.trace_ids.append(trace_id)
        if failed:
            continue
        arm.values["guardrail_block_rate"].append(
            1.0 if _blocked_on_output(attributes.get("keel.guardrails")) else 0.0
        )
        arm.values["latency_p50"].append(duration_ms)
        arm.values["latency_p95"].append(duration_ms)
        if ttft_ms is not None:
            arm.values["ttft_p50"].append(ttft_ms)
            arm.values["ttft_p95"].append(ttft_ms)
        if cost_micros is not None:
            arm.values["cost_per_call"].append(cost_micros / 1e6)
    if scores and arm_of:
        names: dict[str, list[str]] = defaultdict(list)
        for metric in scores:
            names[metric.partition(":")[2]].append(metric)
        ids = list(arm_of)
        for start in range(0, len(ids), 5000):
            found = session.execute(
                select(Feedback.trace_id, Feedback.name, Feedback.value).where(
                    Feedback.project_id == project_id,
                    Feedback.name.in_(list(names)),
                    Feedback.trace_id.in_(ids[start : start + 5000]),
                    Feedback.value.is_not(None),
                )
            )
            for trace_id, name, value in found:
                if trace_id is None or value is None:
                    continue
                for metric in names[name]:
                    arms[arm_of[trace_id]].values[metric].append(float(value))
    for samples in arms.values():
        del samples.trace_ids[KEPT_TRACE_IDS:]
    return arms
