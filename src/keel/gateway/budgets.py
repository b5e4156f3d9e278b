"""Budgets without a database round trip per call: in-memory reservations against leases taken in batches.

A budget (a scope's USD per day or per month) lives in `gateway_spend` as spent + reserved micro-dollars.
A process takes a *lease*: one conditional UPDATE reserves a slice of what is left
(`KEEL_BUDGET_LEASE_FRACTION` of the limit, or what one call needs if more), the same statement any replica
runs, so several replicas share one budget and together never pass it. Calls are then admitted against the
lease in memory: the estimate is held while the call runs and replaced by its real cost when it ends. Real
costs are written (reserved → spent) by the trace writer in the same transaction as the calls' traces, off
the response path.

Exactness: the store's spent + reserved never passes the limit, except by what calls cost beyond their
estimates (as with a reservation per call). A crash loses at most the unwritten spend of its leases, which
stays counted as reserved until the period ends: the budget errs on the side of refusing, never of spending.
Near the end of a budget the last slices are exactly what a call needs.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from keel.core.money import to_usd
from keel.db.engine import SessionFactory
from keel.gateway import service

Hold = tuple[str, str, int]  # (scope, period, limit in micro-dollars)
Key = tuple[str, str, str]  # (project id, scope, period)


@dataclass
class Lease:
    granted: int = 0  # reserved in the store for this process
    held: int = 0  # estimates of the calls in flight
    spent: int = 0  # real cost of finished calls, not yet written
    writing: int = 0  # spend in a transaction that has not committed yet

    @property
    def free(self) -> int:
        return self.granted - self.held - self.spent - self.writing


class BudgetLeases:
    def __init__(self, sessions: SessionFactory, fraction: float) -> None:
        self._sessions = sessions
        self._fraction = fraction
        self._leases: dict[Key, Lease] = {}
        self._lock = threading.Lock()
        self._taking = threading.Lock()
        self.leases_taken = 0

    def hold(self, project_id: str, holds: list[Hold], amount: int) -> bool:
        """Hold `amount` against every lease, all or nothing, in memory; False when a lease is short."""
        need = max(amount, 1)  # an exhausted budget refuses even a call estimated at nothing
        with self._lock:
            leases = [self._leases.get((project_id, scope, period)) for scope, period, _ in holds]
            if any(lease is None or lease.free < need for lease in leases):
                return False
            for lease in leases:
                assert lease is not None
                lease.held += amount
            return True

    def take(self, project_id: str, holds: list[Hold], amount: int) -> str | None:
        """Top up the short leases from the store, then hold (blocking: run it in a thread). Returns None
        when held, or which budget the call would exceed."""
        with self._taking:  # one top-up at a time: the calls queued behind it find a full lease
            if self.hold(project_id, holds, amount):
                return None
            grants: dict[Key, int] = {}
            refusal = None
            with self._sessions() as session:
                for scope, period, limit in holds:
                    key = (project_id, scope, period)
                    with self._lock:
                        short = max(amount, 1) - self._leases.setdefault(key, Lease()).free
                    if short <= 0:
                        continue
                    hold = [(scope, period, limit)]
                    for granted in dict.fromkeys((max(short, int(limit * self._fraction)), short)):
                        refusal = service.reserve(session, project_id, hold, granted)
                        if refusal is None:
                            grants[key] = granted
                            break
                    if refusal is not None:
                        refusal = self._refusal(session, key, limit)
                        break
            with self._lock:
                for key, granted in grants.items():
                    self._leases[key].granted += granted
            self.leases_taken += len(grants)
            if refusal is not None:
                return refusal
            return None if self.hold(project_id, holds, amount) else "the budget changed while reserving"

    def _refusal(self, session: Any, key: Key, limit: int) -> str:
        project_id, scope, period = key
        used = service.spent(session, project_id, scope, period) + self.unwritten(project_id, scope, period)
        return f"{scope} budget for {period[2:]} is ${to_usd(limit)} and ${to_usd(used)} is spent"

    def settle(self, project_id: str, holds: list[tuple[str, str]], reserved: int, actual: int) -> None:
        with self._lock:
            for scope, period in holds:
                lease = self._leases[(project_id, scope, period)]
                lease.held -= reserved
                lease.spent += actual

    def unwritten(self, project_id: str, scope: str, period: str) -> int:
        """Spend this process has counted but not yet written to the store."""
        lease = self._leases.get((project_id, scope, period))
        return lease.spent + lease.writing if lease else 0

    def write(self, session: Any) -> Callable[[bool], None] | None:
        """Write the finished calls' spend into `session` (the trace writer's transaction); the returned
        callback, told whether the transaction committed, moves it out of memory or back for the next try."""
        with self._lock:
            pending = {
                key: (lease.spent, min(lease.spent, lease.granted))
                for key, lease in self._leases.items()
                if lease.spent
            }
            for key, (spent, _) in pending.items():
                self._leases[key].spent -= spent
                self._leases[key].writing += spent
        if not pending:
            return None
        for (project_id, scope, period), (spent, from_lease) in pending.items():
            service.settle(session, project_id, [(scope, period)], from_lease, spent)

        def done(committed: bool) -> None:
            with self._lock:
                for key, (spent, from_lease) in pending.items():
                    lease = self._leases[key]
                    lease.writing -= spent
                    if committed:
                        lease.granted -= from_lease
                    else:
                        lease.spent += spent

        return done

    def close(self) -> None:
        """Write what is unwritten, then hand the unused part of every lease back to the budget."""
        with self._sessions() as session:
            done = self.write(session)
            session.commit()
        if done is not None:
            done(True)
        with self._lock:
            unused = {key: lease.granted - lease.held for key, lease in self._leases.items()}
        with self._sessions() as session:
            for (project_id, scope, period), micros in unused.items():
                if micros > 0:
                    service.settle(session, project_id, [(scope, period)], micros, 0)
            session.commit()
        with self._lock:
            for key, micros in unused.items():
                if micros > 0:
                    self._leases[key].granted -= micros
