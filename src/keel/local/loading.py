"""One lock for loading the local models' libraries, weights and adapters, and what a failure means.

transformers exposes its classes through a lazy module: two threads importing from it for the first time at
once can see it half initialised (`ImportError: cannot import name 'AutoModelForCausalLM'`). Every load in
this package (the chat model, the embedder, the GGUF conversion, a LoRA adapter) runs under `LOAD_LOCK`, so
each library is first imported once, by one thread.

Anything the local runtime cannot do is a `LocalUnavailable`: the gateway answers it as a 503 naming the cause
and the fix, never as an unexpected error.
"""

import functools
import threading
from importlib import metadata

LOAD_LOCK = threading.RLock()

REINSTALL = "run `make up` (or `make doctor`) to install the locked versions"


class LocalUnavailable(RuntimeError):
    """The local runtime cannot serve this request; the message names the cause and what to do."""


def explain(exc: BaseException, doing: str) -> LocalUnavailable:
    """Turn a failure of the local runtime while `doing` something into a message a person can act on."""
    if isinstance(exc, LocalUnavailable):
        return exc
    text = f"{type(exc).__name__}: {exc}".strip()
    lowered = text.lower()
    if isinstance(exc, MemoryError) or "out of memory" in lowered or "can't allocate memory" in lowered:
        fix = "lower max_tokens, serve fewer adapters or give the server more memory"
        return LocalUnavailable(f"out of memory while {doing} ({text}); {fix}")
    if isinstance(exc, ImportError) or "not compatible" in lowered or "version of" in lowered:
        return LocalUnavailable(f"an incompatible library while {doing} ({text}); {REINSTALL}")
    if isinstance(exc, FileNotFoundError | IsADirectoryError | NotADirectoryError):
        return LocalUnavailable(f"a model file is missing while {doing} ({text}); {REINSTALL}")
    return LocalUnavailable(f"the local runtime failed while {doing} ({text})")


def versions() -> dict[str, str | None]:
    """Installed versions of the libraries the local runtime runs on (None when one is missing)."""
    found: dict[str, str | None] = {}
    for name in ("torch", "transformers", "peft", "sentence-transformers", "tokenizers"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


@functools.cache
def adapter_support() -> str | None:
    """None when this transformers can load PEFT adapters with the installed PEFT, else why not (checked
    once per process: it imports transformers)."""
    have = versions()
    if not have["peft"] or not have["transformers"]:
        return f"peft and transformers must both be installed; {REINSTALL}"
    from packaging.version import Version

    with LOAD_LOCK:
        try:
            from transformers.integrations import peft as hf_peft
        except Exception as exc:
            failure = f"{type(exc).__name__}: {exc}"
            return f"transformers' PEFT integration does not import ({failure}); {REINSTALL}"
    needed = getattr(hf_peft, "MIN_PEFT_VERSION", None)
    if needed and Version(have["peft"]) < Version(needed):
        return (
            f"transformers {have['transformers']} serves LoRA adapters only with peft >= {needed} "
            f"(installed: peft {have['peft']}); {REINSTALL}"
        )
    return None
