"""The drift report's embedder: the bundled MiniLM, called in-process (not through the gateway, so a report
writes no traces of its own), or None where the local models are not available."""

from typing import Any

import numpy as np

from keel.monitoring.drift_service import Embed


def embedder(runtime: Any) -> Embed | None:
    local = runtime.services.get("local")
    if local is None or not local.enabled:
        return None

    def embed(texts: list[str]) -> np.ndarray:
        vectors, _ = local.embedder.embed(texts)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)

    return embed
