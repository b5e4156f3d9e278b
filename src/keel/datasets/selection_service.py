"""Production → dataset: pick the traces worth learning from and write them as a new dataset version.

The selector filters traces like the traces list, keeps those whose feedback or online-eval scores pass
every threshold, samples deterministically (the same trace ids and seed give the same sample), and drops
inputs already selected or already in the dataset, so running it again adds only what is new.
"""

import hashlib
import re
from collections import defaultdict
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from keel.core.auth import Principal, Role
from keel.core.errors import InvalidInput, NotFound
from keel.core.jsontext import parse_json_or_text
from keel.datasets import service as datasets
from keel.datasets.schemas import DATASET_NAME, ItemIn, SelectIn, SelectionOut, Selector
from keel.feedback.models import Feedback
from keel.tracing import queries as traces
from keel.tracing.models import Trace
from keel.tracing.schemas import TraceQuery

MAX_SCAN = 100_000
SPACE = re.compile(r"\s+")


def input_key(value: Any) -> str:
    """The same input however it is spaced or ordered: a hash of its canonical JSON."""

    def normal(item: Any) -> Any:
        if isinstance(item, str):
            return SPACE.sub(" ", item).strip()
        if isinstance(item, list):
            return [normal(i) for i in item]
        if isinstance(item, dict):
            return {k: normal(v) for k, v in item.items()}
        return item

    return hashlib.sha256(orjson.dumps(normal(value), option=orjson.OPT_SORT_KEYS)).hexdigest()


def _in_sample(trace_id: str, fraction: float, seed: int) -> bool:
    if fraction >= 1:
        return True
    digest = hashlib.sha256(f"{seed}:{trace_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def _scores(
    session: Session, project_id: str, ids: list[str], names: list[str]
) -> dict[tuple[str, str], float]:
    found: dict[tuple[str, str], float] = {}
    for start in range(0, len(ids), 5000):
        rows = session.execute(
            select(Feedback.trace_id, Feedback.name, func.avg(Feedback.value))
            .where(
                Feedback.project_id == project_id,
                Feedback.trace_id.in_(ids[start : start + 5000]),
                Feedback.name.in_(names),
                Feedback.value.is_not(None),
            )
            .group_by(Feedback.trace_id, Feedback.name)
        )
        for trace_id, name, mean in rows:
            found[(str(trace_id), str(name))] = float(mean)
    return found


def _corrections(session: Session, project_id: str, ids: list[str], name: str) -> dict[str, str]:
    """The latest label (or comment) of the feedback named `name` on each trace."""
    found: dict[str, str] = {}
    for start in range(0, len(ids), 5000):
        rows = session.execute(
            select(Feedback.trace_id, Feedback.label, Feedback.comment)
            .where(
                Feedback.project_id == project_id,
                Feedback.trace_id.in_(ids[start : start + 5000]),
                Feedback.name == name,
            )
            .order_by(Feedback.created_at)
        )
        for trace_id, label, comment in rows:
            if text := label or comment:
                found[str(trace_id)] = text
    return found


def _answer(output: Any) -> Any:
    if isinstance(output, list) and output and isinstance(output[-1], dict) and "content" in output[-1]:
        return output[-1]["content"]
    return output


def choose(
    session: Session, principal: Principal, selector: Selector, existing: set[str]
) -> tuple[list[ItemIn], SelectionOut]:
    """The items the selector picks (not written), and the counts of what it dropped and why."""
    query = TraceQuery.model_validate(selector.filters.model_dump(exclude_none=True))
    found = traces.scan(session, principal, query, MAX_SCAN, not selector.include_errors)
    names = [t.name for t in selector.scores]
    ids = [t.trace_id for t in found]
    scores = _scores(session, principal.project_id, ids, names) if names else {}
    corrections = (
        _corrections(session, principal.project_id, ids, selector.expected_from.partition(":")[2])
        if selector.expected_from
        else None
    )
    counts: dict[str, int] = defaultdict(int)
    seen = set(existing)
    items: list[ItemIn] = []
    chosen: list[str] = []
    for trace in found:
        if len(items) >= selector.max_items:
            break
        if not _passes(trace, selector, scores):
            counts["scored_out"] += 1
            continue
        if not _in_sample(trace.trace_id, selector.fraction, selector.seed):
            counts["sampled_out"] += 1
            continue
        given = parse_json_or_text(trace.input) if trace.input else None
        if given in (None, "", [], {}) or (corrections is not None and trace.trace_id not in corrections):
            counts["no_input"] += 1
            continue
        key = input_key(given)
        if selector.dedup and key in seen:
            counts["duplicates"] += 1
            continue
        seen.add(key)
        if corrections is not None:
            expected: Any = corrections[trace.trace_id]
        elif selector.output_as_expected and trace.output:
            expected = _answer(parse_json_or_text(trace.output))
        else:
            expected = None
        metadata: dict[str, Any] = {"model": trace.model, "route": trace.route, "trace_name": trace.name}
        metadata |= {
            f"score.{n}": scores[(trace.trace_id, n)] for n in names if (trace.trace_id, n) in scores
        }
        items.append(
            ItemIn(
                input=given,
                expected=expected,
                metadata=metadata,
                split=selector.split,
                source_trace_id=trace.trace_id,
            )
        )
        chosen.append(trace.trace_id)
    report = SelectionOut(
        considered=len(found),
        scored_out=counts["scored_out"],
        sampled_out=counts["sampled_out"],
        duplicates=counts["duplicates"],
        no_input=counts["no_input"],
        selected=len(items),
        added=0,
        version=None,
        trace_ids=chosen[:100],
    )
    return items, report


def _passes(trace: Trace, selector: Selector, scores: dict[tuple[str, str], float]) -> bool:
    for threshold in selector.scores:
        value = scores.get((trace.trace_id, threshold.name))
        if value is None:
            return False
        if threshold.min is not None and value < threshold.min:
            return False
        if threshold.max is not None and value > threshold.max:
            return False
    return True


def existing_keys(session: Session, principal: Principal, name: str) -> set[str]:
    try:
        dataset = datasets.get(session, principal, name)
    except NotFound:
        return set()
    return {input_key(item.input) for item in datasets.items(session, dataset, dataset.latest_version)}


def select_into(session: Session, principal: Principal, name: str, request: SelectIn) -> SelectionOut:
    """Run the selector and, unless it is a dry run, write what it picked as a new version of `name`
    (created when missing). Nothing is written when nothing new matched."""
    principal.require(Role.member)
    if not re.match(DATASET_NAME, name) or len(name) > 200:
        raise InvalidInput(
            f"dataset name {name!r} must start with a letter or digit and use . _ - only", param="name"
        )
    existing = existing_keys(session, principal, name) if request.dedup else set()
    items, report = choose(session, principal, request, existing)
    if request.dry_run or not items:
        return report
    dataset = datasets.get_or_create(session, principal, name)
    message = request.message or f"selected {len(items)} trace(s) from production"
    written = datasets.add_items(session, principal, dataset.name, items, message)
    return report.model_copy(update={"added": len(items), "version": written.latest_version})
