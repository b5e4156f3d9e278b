"""Online evaluation: a background thread that scores a sample of production traces by rule.

Every `KEEL_ONLINE_EVAL_SECONDS` it reads, per enabled rule, the traces matching the rule's filter whose
rollup changed since the rule's cursor; keeps each with probability `sample_rate` (by a hash of rule and
trace, so a trace's fate never changes); scores input and output with the rule's evaluators (a judge calls
the gateway like any other call); writes the scores onto the trace as feedback (`source` = `online:<rule>`);
and moves the cursor, all in one transaction per batch. A trace is scored once per rule even if spans keep
arriving (the cursor only moves forward, and already-scored traces are skipped).
"""

import hashlib
import logging
import threading
from typing import Any

from keel.core.auth import Principal, Role
from keel.core.jsontext import parse_json_or_text
from keel.evals import queries, scoring
from keel.evals.evaluators.base import Sample
from keel.feedback import service as feedback
from keel.tracing import queries as traces

log = logging.getLogger("keel.evals")
BATCH = 200


def sampled(rule_id: str, trace_id: str, rate: float) -> bool:
    digest = hashlib.sha256(f"{rule_id}:{trace_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


class OnlineEvaluator:
    def __init__(self, runtime: Any) -> None:
        self._runtime = runtime
        self._interval = runtime.settings.online_eval_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="keel-online-eval", daemon=True)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.run_once()
            except Exception:
                log.exception("online evaluation pass failed; retrying next interval")

    def run_once(self) -> int:
        """One pass over every enabled rule; returns how many traces were scored."""
        with self._runtime.sessions() as session:
            rules = [(r.id, r.project_id, r.author) for r in queries.enabled_rules(session)]
        return sum(self._run_rule(*rule) for rule in rules)

    def _run_rule(self, rule_id: str, project_id: str, author: str) -> int:
        evals = self._runtime.service("evals")
        principal = Principal(author, project_id, Role.member)
        with self._runtime.sessions() as session:
            rule = queries.rule_by_id(session, rule_id)
            if rule is None or not rule.enabled:
                return 0
            found = traces.traces_updated_after(
                session, principal, queries.check_filter(rule.filter), rule.cursor_ns, BATCH
            )
            if not found:
                return 0
            source = f"online:{rule.name}"
            done = feedback.traces_with_source(session, project_id, [t.trace_id for t in found], source)
            chosen = [
                t for t in found if t.trace_id not in done and sampled(rule.id, t.trace_id, rule.sample_rate)
            ]
            samples: list[Sample | None] = [
                Sample(
                    parse_json_or_text(t.input), parse_json_or_text(t.output), None, {"trace_id": t.trace_id}
                )
                for t in chosen
            ]
            context = evals.context(principal, f"online:{rule.name}") if chosen else None
            scored = scoring.score(rule.evaluators, evals.registry, samples, context) if chosen else []
            for trace, result in zip(chosen, scored, strict=True):
                feedback.record_scores(session, project_id, trace.trace_id, result, source, author)
            queries.advance(session, rule.id, found[-1].updated_ns, len(chosen))
            session.commit()
            return len(chosen)
