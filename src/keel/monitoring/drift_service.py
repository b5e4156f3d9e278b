"""What a drift report compares: each window's numeric features and a sample of its texts, read from the
trace rollup, or the same taken from a dataset version (what a model was evaluated or trained on).

Texts are sampled by ordering on the trace id, which is random: a uniform, repeatable sample from an index,
without reading every row's text.
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from keel.core.auth import Principal, Role
from keel.core.errors import InvalidInput
from keel.core.jsontext import parse_json_or_text
from keel.datasets import service as datasets
from keel.feedback.models import Feedback
from keel.gateway import tokens
from keel.monitoring import drift, meaning
from keel.monitoring.schemas import DatasetReference, DriftReport, DriftRequest, Window
from keel.tracing.models import Trace

DRIFT_MAX_ROWS = 200_000
Embed = Callable[[list[str]], np.ndarray]
Texts = list[tuple[str, str]]  # (trace id or item key, text)


def trace_filters(filters: dict[str, str]) -> list[Any]:
    columns = {"route": Trace.route, "model": Trace.model, "prompt_version": Trace.prompt_version}
    return [columns[k] == v for k, v in filters.items() if k in columns]


def _window(principal: Principal, filters: dict[str, str], since: datetime, until: datetime) -> list[Any]:
    return [
        Trace.project_id == principal.project_id,
        Trace.start_ns >= int(since.timestamp() * 1e9),
        Trace.start_ns < int(until.timestamp() * 1e9),
        *trace_filters(filters),
    ]


def window_columns(
    session: Session, principal: Principal, filters: dict[str, str], since: datetime, until: datetime
) -> dict[str, np.ndarray]:
    """The drift report's numeric features of the traces that started in [since, until)."""
    rows = session.execute(
        select(
            Trace.prompt_tokens, Trace.completion_tokens, Trace.duration_ms, Trace.cost_micros, Trace.status
        )
        .where(*_window(principal, filters, since, until))
        .limit(DRIFT_MAX_ROWS)
    ).all()
    columns = list(zip(*rows, strict=True)) if rows else [(), (), (), (), ()]
    return {
        "input_tokens": np.asarray(columns[0], dtype=float),
        "output_tokens": np.asarray(columns[1], dtype=float),
        "latency_ms": np.asarray(columns[2], dtype=float),
        "cost_usd": np.asarray(columns[3], dtype=float) / 1e6,
        "error": np.asarray([s == "error" for s in columns[4]], dtype=float),
    }


def window_scores(
    session: Session,
    principal: Principal,
    filters: dict[str, str],
    since: datetime,
    until: datetime,
    names: list[str],
) -> dict[str, np.ndarray]:
    """Each named score's values on the window's traces (feedback and online-eval scores alike)."""
    found: dict[str, np.ndarray] = {}
    for name in names:
        values = session.scalars(
            select(Feedback.value)
            .join(Trace, (Trace.project_id == Feedback.project_id) & (Trace.trace_id == Feedback.trace_id))
            .where(
                *_window(principal, filters, since, until), Feedback.name == name, Feedback.value.is_not(None)
            )
            .limit(DRIFT_MAX_ROWS)
        )
        found[f"score:{name}"] = np.asarray(list(values), dtype=float)
    return found


def text_of(value: Any) -> str:
    """The text a person would read: the last user message of a chat, or the value as text."""
    value = parse_json_or_text(value) if isinstance(value, str) else value
    if isinstance(value, list) and value and isinstance(value[-1], dict):
        users = [m for m in value if isinstance(m, dict) and m.get("role") in ("user", None)] or value
        content = users[-1].get("content")
        if isinstance(content, list):
            return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
        return str(content or "")
    if isinstance(value, dict):
        return " ".join(str(v) for v in value.values())
    return "" if value is None else str(value)


def window_texts(
    session: Session, principal: Principal, filters: dict[str, str], since: datetime, until: datetime
) -> tuple[Texts, Texts]:
    rows = session.execute(
        select(Trace.trace_id, Trace.input, Trace.output)
        .where(*_window(principal, filters, since, until))
        .order_by(Trace.trace_id)
        .limit(meaning.SAMPLE)
    ).all()
    inputs = [(t, text_of(i)) for t, i, _ in rows if i]
    outputs = [(t, text_of(o)) for t, _, o in rows if o]
    return [x for x in inputs if x[1]], [x for x in outputs if x[1]]


def dataset_reference(
    session: Session, principal: Principal, reference: DatasetReference, scores: list[str]
) -> tuple[dict[str, np.ndarray], Texts, Texts]:
    name, _, number = reference.dataset.partition("@")
    found = datasets.get(session, principal, name)
    version = datasets.check_version(found, int(number) if number else None)
    items = datasets.items(session, found, version)
    if not items:
        raise InvalidInput(f"dataset {reference.dataset} has no items to compare with", param="reference")
    inputs = [(i.item_key, text_of(i.input)) for i in items]
    outputs = [(i.item_key, text_of(i.expected)) for i in items if i.expected not in (None, "")]
    columns = {
        "input_tokens": np.asarray([tokens.count_text(t) for _, t in inputs], dtype=float),
        "output_tokens": np.asarray([tokens.count_text(t) for _, t in outputs], dtype=float),
    }
    for name in scores:
        values = [i.item_metadata.get(f"score.{name}") for i in items]
        columns[f"score:{name}"] = np.asarray([v for v in values if isinstance(v, int | float)], dtype=float)
    return columns, inputs[: meaning.SAMPLE], outputs[: meaning.SAMPLE]


def report(session: Session, principal: Principal, body: DriftRequest, embed: Embed | None) -> DriftReport:
    now = body.current
    current = window_columns(session, principal, body.filters, now.start, now.end)
    current |= window_scores(session, principal, body.filters, now.start, now.end, body.scores)
    if isinstance(body.reference, Window):
        then = body.reference
        reference = window_columns(session, principal, body.filters, then.start, then.end)
        reference |= window_scores(session, principal, body.filters, then.start, then.end, body.scores)
    else:
        reference, ref_in, ref_out = dataset_reference(session, principal, body.reference, body.scores)
    features = [drift.compare(name, reference[name], current[name]) for name in reference]
    if body.meaning:
        cur_in, cur_out = window_texts(session, principal, body.filters, body.current.start, body.current.end)
        if isinstance(body.reference, Window):
            ref_in, ref_out = window_texts(
                session, principal, body.filters, body.reference.start, body.reference.end
            )
        for feature, ref, cur in (("input_meaning", ref_in, cur_in), ("output_meaning", ref_out, cur_out)):
            features.append(_meaning(feature, ref, cur, embed))
    return DriftReport(drifted=any(f.drifted for f in features), features=features)


def _meaning(feature: str, reference: Texts, current: Texts, embed: Embed | None) -> drift.FeatureDrift:
    if embed is None:
        note = "no embedding model here (the `local` extra is not installed or local models are off)"
        return drift.FeatureDrift(
            feature, "embedding", None, None, None, None, None, None, len(reference), len(current), note=note
        )
    if min(len(reference), len(current)) < drift.MIN_SAMPLES:
        return meaning.compare(feature, np.zeros((len(reference), 1)), np.zeros((len(current), 1)), [], [])
    vectors = embed([t for _, t in reference] + [t for _, t in current])
    return meaning.compare(feature, vectors[: len(reference)], vectors[len(reference) :], reference, current)


def drifted_now(
    session: Session, project_id: str, filters: dict[str, str], now: datetime, window_s: int
) -> tuple[int | None, int]:
    """For a drift alert rule: how many numeric features of the last `window_s` drifted from the window
    before it (only `filters.feature`, if set), and the smaller window's call count."""
    principal = Principal("alerts", project_id, Role.member)
    width = timedelta(seconds=window_s)
    current = window_columns(session, principal, filters, now - width, now)
    reference = window_columns(session, principal, filters, now - 2 * width, now - width)
    names = [filters["feature"]] if "feature" in filters else list(current)
    results = [drift.compare(name, reference[name], current[name]) for name in names]
    count = min(len(reference["error"]), len(current["error"]))
    if all(r.drifted is None for r in results):
        return None, count
    return sum(bool(r.drifted) for r in results), count
