"""Health-aware routing: a circuit breaker per route target, so a known-dead upstream costs nothing.

After `failures` consecutive failed attempts (connection errors, timeouts, 429 and 5xx) a target's circuit
opens and calls skip it, straight to the next target or fallback, for `cooldown_s`. Then it is half-open:
one call probes it while the others keep skipping it; a success closes the circuit, a failure opens it
for another cooldown. The breaker only reorders: when every target of a call is open, the call tries them
anyway (one attempt each, no retries), so a breaker never makes a route unavailable on its own.

State is per process (each replica learns on its own) and keyed by (project, route, provider, model).
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    closed = "closed"
    open = "open"
    half_open = "half_open"


@dataclass(frozen=True)
class Policy:
    failures: int = 3
    cooldown_s: float = 30.0


@dataclass
class Circuit:
    failures: int = 0
    opened_at: float | None = None
    probing: bool = False
    last_error: str | None = None
    opened_times: int = 0


@dataclass(frozen=True)
class Health:
    state: State
    consecutive_failures: int
    retry_in_s: float | None
    last_error: str | None
    opened_times: int


Key = tuple[str, str, str, str]  # (project id, route, provider, model)


class Circuits:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._circuits: dict[Key, Circuit] = {}
        self._lock = threading.Lock()

    def _state(self, circuit: Circuit, policy: Policy, now: float) -> State:
        if circuit.opened_at is None:
            return State.closed
        return State.open if now - circuit.opened_at < policy.cooldown_s else State.half_open

    def allow(self, key: Key, policy: Policy) -> bool:
        """Whether a call may try this target now (claiming the half-open probe when it is due)."""
        circuit = self._circuits.get(key)
        if circuit is None or circuit.opened_at is None:
            return True
        with self._lock:
            if self._state(circuit, policy, self._clock()) is State.open or circuit.probing:
                return False
            circuit.probing = True
            return True

    def succeeded(self, key: Key) -> None:
        circuit = self._circuits.get(key)
        if circuit is not None and (circuit.failures or circuit.opened_at is not None):
            with self._lock:
                circuit.failures, circuit.opened_at, circuit.probing = 0, None, False

    def failed(self, key: Key, policy: Policy, reason: str) -> None:
        with self._lock:
            circuit = self._circuits.setdefault(key, Circuit())
            circuit.failures += 1
            circuit.last_error = reason
            if circuit.probing or (circuit.opened_at is None and circuit.failures >= policy.failures):
                circuit.opened_at, circuit.probing = self._clock(), False
                circuit.opened_times += 1

    def release(self, key: Key) -> None:
        """A probe that ended without a verdict (the caller went away) gives the probe back."""
        circuit = self._circuits.get(key)
        if circuit is not None and circuit.probing:
            with self._lock:
                circuit.probing = False

    def health(self, key: Key, policy: Policy) -> Health:
        circuit = self._circuits.get(key) or Circuit()
        now = self._clock()
        state = self._state(circuit, policy, now)
        retry = None
        if state is State.open and circuit.opened_at is not None:
            retry = round(policy.cooldown_s - (now - circuit.opened_at), 3)
        return Health(state, circuit.failures, retry, circuit.last_error, circuit.opened_times)

    def opened(self) -> list[Key]:
        """The targets whose circuit is open or half-open now (the metrics' open-circuit gauge)."""
        return [key for key, circuit in list(self._circuits.items()) if circuit.opened_at is not None]

    def forget(self, project_id: str, route: str) -> None:
        """A route that was replaced or deleted starts with closed circuits."""
        with self._lock:
            for key in [k for k in self._circuits if k[0] == project_id and k[1] == route]:
                del self._circuits[key]
