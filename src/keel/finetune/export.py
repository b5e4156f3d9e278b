"""Exports of a registered version: the LoRA adapter as it is, or merged into its base model's weights.

A merged export is written once into the artifact store (`models/<version>/merged`) and reused; it is a plain
Hugging Face folder (safetensors, config, tokenizer) that vLLM, TGI or llama.cpp's converter can load.
"""

import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from keel.finetune.bases import base_dir


def merge(base: Path, adapter: Path, target: Path) -> None:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    merged = PeftModel.from_pretrained(model, adapter).merge_and_unload()
    merged.save_pretrained(target, safe_serialization=True)
    AutoTokenizer.from_pretrained(adapter).save_pretrained(target)


def folder_for(finetune: Any, base_model: str, artifact_key: str, kind: str) -> Path:
    adapter = finetune.store.local_path(artifact_key)
    if kind == "adapter":
        return Path(adapter)
    key = f"{artifact_key}-merged"
    if not finetune.store.exists(key):
        with tempfile.TemporaryDirectory(prefix="keel-merge-") as scratch:
            merge(base_dir(base_model, finetune.settings.cache_dir), adapter, Path(scratch))
            finetune.store.put_dir(Path(scratch), key)
    return Path(finetune.store.local_path(key))


def archive(finetune: Any, base_model: str, artifact_key: str, kind: str, into: Path) -> Path:
    source = folder_for(finetune, base_model, artifact_key, kind)
    path = into / f"{kind}.tar"  # uncompressed: safetensors hardly compress, and gzip costs a minute per GB
    with tarfile.open(path, "w") as tar:
        for file in sorted(source.iterdir()):
            tar.add(file, arcname=file.name)
    return path


def remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
