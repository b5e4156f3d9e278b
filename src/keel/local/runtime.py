"""The local models as a server service: loaded in the background at start, reported by `/readyz`."""

import importlib.util
import logging
import threading
import time
from typing import Any

from keel.local.chat_model import LocalChatModel, gguf_dir
from keel.local.embedder import LocalEmbedder, model_dir

log = logging.getLogger("keel.local")


def installed() -> bool:
    """Whether the `local` extra and both model packages are installed."""
    needed = ("torch", "transformers", "sentence_transformers", "safetensors")
    return all(importlib.util.find_spec(name) for name in needed) and bool(gguf_dir()) and bool(model_dir())


class LocalModels:
    def __init__(self, runtime: Any) -> None:
        settings = runtime.settings
        self.enabled = settings.local_models and installed()
        self.preload = settings.local_preload
        self.chat = LocalChatModel(settings.cache_dir, settings.local_threads)
        self.embedder = LocalEmbedder(settings.local_threads)
        self.error: str | None = None
        self._thread: threading.Thread | None = None

    @property
    def alive(self) -> bool:
        """For /readyz: not ready while a preload is still running or after a failed load."""
        if not self.enabled:
            return True
        return self.error is None and (not self.preload or (self.chat.loaded and self.embedder.loaded))

    def start(self) -> None:
        if self.enabled and self.preload:
            self._thread = threading.Thread(target=self._load, name="keel-local-load", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        pass

    def _load(self) -> None:
        started = time.perf_counter()
        try:
            self.embedder.load()
            self.chat.load()
        except Exception as exc:  # reported by /readyz and by requests; the server keeps serving the rest
            self.error = f"{type(exc).__name__}: {exc}"
            log.exception("local models failed to load")
            return
        log.info("local models ready in %.1f s", time.perf_counter() - started)
