"""Budgets and rate limits around each gateway call: admit (rate windows, then hold the estimated cost),
call, then settle the hold with the real cost.

Budgets live in the store (`gateway_spend`) and hold across replicas; a call holds its estimate in memory
against a lease of the budget (see keel.gateway.budgets), so neither admitting nor settling costs a database
round trip. Rate limits are sliding one-minute windows in this process's memory, so with N replicas a key can
reach N times its per-minute limit.
"""

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import anyio
import orjson

from keel.core.auth import Principal
from keel.core.errors import KeelError
from keel.gateway import pricing
from keel.gateway.budgets import BudgetLeases
from keel.gateway.config import LimitRule, ProjectGateway, RoutePlan

DEFAULT_COMPLETION_ESTIMATE = 256


class RateLimited(KeelError):
    status = 429
    code = "rate_limit_exceeded"
    title = "Rate limit exceeded"


class BudgetExceeded(KeelError):
    status = 429
    code = "budget_exceeded"
    title = "Budget exceeded"


@dataclass
class Guard:
    project_id: str
    scopes: list[str] = field(default_factory=list)
    holds: list[tuple[str, str]] = field(default_factory=list)
    reserved: int = 0


class RateWindows:
    """One-minute sliding windows of requests and tokens per (project, scope), with running token totals so
    a check costs the expired entries, not the whole window."""

    def __init__(self) -> None:
        self._requests: dict[tuple[str, str], deque[float]] = {}
        self._tokens: dict[tuple[str, str], deque[tuple[float, int]]] = {}
        self._token_totals: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def admit(self, key: tuple[str, str], rpm: int | None, tpm: int | None) -> float | None:
        """Count one request, or return how many seconds until one is allowed."""
        now = time.monotonic()
        with self._lock:
            requests = self._requests.setdefault(key, deque())
            tokens = self._tokens.setdefault(key, deque())
            while requests and now - requests[0] >= 60:
                requests.popleft()
            while tokens and now - tokens[0][0] >= 60:
                self._token_totals[key] -= tokens.popleft()[1]
            if rpm is not None and len(requests) >= rpm:
                return 60 - (now - requests[0])
            if tpm is not None and self._token_totals.get(key, 0) >= tpm:
                return 60 - (now - tokens[0][0])
            requests.append(now)
        return None

    def add_tokens(self, key: tuple[str, str], count: int) -> None:
        if count > 0:
            with self._lock:
                self._tokens.setdefault(key, deque()).append((time.monotonic(), count))
                self._token_totals[key] = self._token_totals.get(key, 0) + count


def estimate(view: ProjectGateway, plan: RoutePlan, body: dict[str, Any]) -> int:
    rule = pricing.find(view.prices, plan.targets[0].model, plan.name)
    if rule is None:
        return 0
    prompt = len(orjson.dumps(body.get("messages") or body.get("input"))) // 4 + 1
    completion = body.get("max_completion_tokens") or body.get("max_tokens")
    if not isinstance(completion, int):
        completion = DEFAULT_COMPLETION_ESTIMATE if "messages" in body else 0
    return pricing.cost_micros(rule, {"prompt_tokens": prompt, "completion_tokens": completion})


def _rules(view: ProjectGateway, principal: Principal) -> list[LimitRule]:
    return [r for r in (view.limits.get("project"), view.limits.get(principal.key_id)) if r is not None]


def admit_rates(windows: RateWindows, view: ProjectGateway, principal: Principal) -> Guard:
    """Count the request in every rate window, or refuse it (first, before any work is spent on it)."""
    guard = Guard(principal.project_id)
    for rule in _rules(view, principal):
        retry = windows.admit(
            (principal.project_id, rule.scope), rule.requests_per_minute, rule.tokens_per_minute
        )
        if retry is not None:
            what = "this project" if rule.scope == "project" else f"key {rule.scope}"
            raise RateLimited(
                f"rate limit reached for {what} (requests {rule.requests_per_minute}/min, "
                f"tokens {rule.tokens_per_minute}/min); retry in {retry:.0f} s",
                retry_after=max(1, round(retry)),
            )
        guard.scopes.append(rule.scope)
    return guard


async def admit_budget(
    budgets: BudgetLeases,
    guard: Guard,
    view: ProjectGateway,
    principal: Principal,
    plan: RoutePlan,
    body: dict[str, Any],
) -> None:
    """Hold the call's estimated cost against every budget of its project and key, or refuse it."""
    rules = _rules(view, principal)
    now = datetime.now(UTC)
    periods = [(r.scope, f"d:{now:%Y-%m-%d}", r.usd_micros_per_day) for r in rules] + [
        (r.scope, f"m:{now:%Y-%m}", r.usd_micros_per_month) for r in rules
    ]
    holds = [(scope, period, limit) for scope, period, limit in periods if limit is not None]
    if holds:
        amount = estimate(view, plan, body)
        if not budgets.hold(principal.project_id, holds, amount):
            refusal = await anyio.to_thread.run_sync(budgets.take, principal.project_id, holds, amount)
            if refusal is not None:
                raise BudgetExceeded(f"budget exceeded: {refusal}")
        guard.holds, guard.reserved = [(s, p) for s, p, _ in holds], amount


def settle(
    budgets: BudgetLeases,
    windows: RateWindows,
    guard: Guard,
    usage: dict[str, Any] | None,
    cost_micros: int | None,
) -> None:
    tokens = int((usage or {}).get("total_tokens") or 0)
    for scope in guard.scopes:
        windows.add_tokens((guard.project_id, scope), tokens)
    if guard.holds:
        budgets.settle(guard.project_id, guard.holds, guard.reserved, cost_micros or 0)
