"""Recently authenticated keys, so hot paths (the gateway, trace ingest) skip the key lookup per request.

An entry lives at most `KEEL_AUTH_CACHE_SECONDS` and never past the key's own expiry. Revoking a key or
deleting a project through this process drops its entries at once; another replica notices a revocation
within the TTL. A TTL of 0 turns the cache off.
"""

import threading
import time
from datetime import datetime

from keel.core.auth import Principal

MAX_ENTRIES = 10_000


class PrincipalCache:
    def __init__(self, ttl_seconds: float) -> None:
        self.ttl = ttl_seconds
        self._entries: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def get(self, digest: str) -> Principal | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        principal, deadline = entry
        if time.time() >= deadline:
            with self._lock:
                self._entries.pop(digest, None)
            return None
        return principal

    def put(self, digest: str, principal: Principal, key_expires_at: datetime | None) -> None:
        if self.ttl <= 0:
            return
        deadline = time.time() + self.ttl
        if key_expires_at is not None:
            deadline = min(deadline, key_expires_at.timestamp())
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[digest] = (principal, deadline)

    def forget_key(self, key_id: str) -> None:
        with self._lock:
            for digest in [d for d, (p, _) in self._entries.items() if p.key_id == key_id]:
                del self._entries[digest]

    def forget_project(self, project_id: str) -> None:
        with self._lock:
            for digest in [d for d, (p, _) in self._entries.items() if p.project_id == project_id]:
                del self._entries[digest]
