"""The local models as a server service: loaded in the background at start, reported by `/readyz`.

The libraries are imported by the warm-up thread under `LOAD_LOCK` before any request can race it, and
`health()` tells `/readyz` and `keel doctor` which models are present and loaded, whether LoRA adapters can be
served with the installed libraries, and their versions.
"""

import importlib.util
import logging
import threading
import time
from pathlib import Path
from typing import Any

from keel.local.chat_model import MODEL_NAME, LocalChatModel, gguf_dir
from keel.local.embedder import MODEL_NAME as EMBEDDING_MODEL
from keel.local.embedder import LocalEmbedder, model_dir
from keel.local.loading import adapter_support, versions

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
        self._cache_dir, self._threads = settings.cache_dir, settings.local_threads
        self._bases: dict[str, LocalChatModel] = {}
        self._thread: threading.Thread | None = None

    @property
    def alive(self) -> bool:
        """For /readyz: not ready while a preload is still running or after a failed load."""
        if not self.enabled:
            return True
        return self.error is None and (not self.preload or (self.chat.loaded and self.embedder.loaded))

    def health(self) -> dict[str, Any]:
        """The runtime's state for `/readyz` and `keel doctor`."""
        state: dict[str, Any] = {"enabled": self.enabled, "error": self.error, "versions": versions()}
        state["models"] = {
            MODEL_NAME: {"present": bool(gguf_dir()), "loaded": self.chat.loaded},
            EMBEDDING_MODEL: {"present": bool(model_dir()), "loaded": self.embedder.loaded},
        }
        if self.enabled and self.chat.loaded:
            problem = adapter_support()
            state["adapters"] = {"available": problem is None, "problem": problem}
        else:
            state["adapters"] = {"available": None, "problem": "checked once the chat model has loaded"}
        return state

    def start(self) -> None:
        if self.enabled and self.preload:
            self._thread = threading.Thread(target=self._load, name="keel-local-load", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        pass

    def chat_for(self, base_model: str) -> LocalChatModel:
        """The chat model for a base: the bundled one, or a model folder (loaded once, then kept)."""
        if base_model == f"local/{MODEL_NAME}":
            return self.chat
        if base_model not in self._bases:
            folder = Path(base_model)
            if not (folder / "config.json").is_file():
                raise ValueError(f"{base_model} is not a model folder on this machine")
            self._bases[base_model] = LocalChatModel(self._cache_dir, self._threads, folder)
        return self._bases[base_model]

    def _load(self) -> None:
        started = time.perf_counter()
        try:
            self.embedder.load()
            self.chat.load()
            adapter_support()
        except Exception as exc:  # reported by /readyz and by requests; the server keeps serving the rest
            self.error = f"{type(exc).__name__}: {exc}"
            log.exception("local models failed to load")
            return
        log.info("local models ready in %.1f s", time.perf_counter() - started)
