"""Exact-match response cache for routes that opt in (`cache_ttl_s`): identical non-streaming requests within
the TTL get the stored response without an upstream call.

The key is a hash of the project, the route and the request body in canonical form (sorted keys, `user`
left out so users share answers). Entries live in this process's memory, bounded by `MAX_BYTES` with
least-recently-used eviction; each replica keeps its own.
"""

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import orjson

MAX_BYTES = 64 * 1024 * 1024


def cache_key(project_id: str, route: str, body: dict[str, Any]) -> str:
    canonical = orjson.dumps({k: v for k, v in body.items() if k != "user"}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(project_id.encode() + b"\0" + route.encode() + b"\0" + canonical).hexdigest()


class ResponseCache:
    def __init__(self, max_bytes: int = MAX_BYTES, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._bytes = 0
        self._max = max_bytes
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> bytes | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] < self._clock():
                if entry is not None:
                    self._drop(key)
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[1]

    def put(self, key: str, content: bytes, ttl_s: int) -> None:
        if len(content) > self._max // 16:
            return
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = (self._clock() + ttl_s, content)
            self._bytes += len(content)
            while self._bytes > self._max:
                self._drop(next(iter(self._entries)))

    def _drop(self, key: str) -> None:
        _, content = self._entries.pop(key)
        self._bytes -= len(content)
