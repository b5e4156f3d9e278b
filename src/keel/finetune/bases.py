"""Which base models a fine-tune may start from, found offline: the bundled model or an allowed folder.

Keel never downloads weights. `local/smollm2-135m-instruct` is the bundled model (converted once from its
GGUF into the machine cache); any other base is a folder holding a Hugging Face causal LM under one of
`KEEL_FINETUNE_MODEL_ROOTS`, so an API caller cannot point training at arbitrary paths of the server.
"""

from pathlib import Path

from keel.core.errors import InvalidInput
from keel.local.chat_model import MODEL_NAME, converted_dir

BUNDLED = f"local/{MODEL_NAME}"


def roots(setting: str) -> list[Path]:
    return [Path(p.strip()).expanduser().resolve() for p in setting.split(",") if p.strip()]


def check_base(base_model: str, model_roots: str) -> None:
    """Refuse (422) a base that cannot be found offline, before any job is queued."""
    if base_model == BUNDLED:
        return
    allowed = roots(model_roots)
    path = Path(base_model).expanduser()
    if not path.is_absolute() or not allowed:
        raise InvalidInput(
            f"base model {base_model!r} cannot be found offline: Keel never downloads weights; use {BUNDLED} "
            "or the absolute path of a model folder under KEEL_FINETUNE_MODEL_ROOTS"
            + ("" if allowed else " (none configured)"),
            param="base_model",
        )
    resolved = path.resolve()
    if not any(resolved.is_relative_to(root) for root in allowed):
        raise InvalidInput(
            f"base model folder {base_model!r} is outside KEEL_FINETUNE_MODEL_ROOTS "
            f"({', '.join(map(str, allowed))})",
            param="base_model",
        )
    if not (resolved / "config.json").is_file():
        raise InvalidInput(
            f"base model folder {base_model!r} has no config.json: not a Hugging Face model",
            param="base_model",
        )


def base_dir(base_model: str, cache_dir: Path) -> Path:
    """The folder to load the base from (for the bundled model, converting it on first use)."""
    if base_model == BUNDLED:
        return converted_dir(cache_dir)
    return Path(base_model).expanduser().resolve()
