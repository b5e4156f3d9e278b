"""The artifact store: adapters, tokenizers, checkpoints and exports, addressed by key.

`LocalArtifactStore` keeps them in a directory (default `<data_dir>/artifacts`). A `put_dir` copies into a
temporary sibling and renames it into place, so a key either holds a complete artifact or nothing; another
store (S3, say) implements the same four methods.
"""

import re
import shutil
import uuid
from pathlib import Path
from typing import Protocol

KEY = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_.-]+)*$")


class ArtifactStore(Protocol):
    def put_dir(self, source: Path, key: str) -> None: ...

    def local_path(self, key: str) -> Path: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...


class LocalArtifactStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not KEY.match(key) or ".." in key.split("/"):
            raise ValueError(f"invalid artifact key {key!r}")
        return self.root / key

    def put_dir(self, source: Path, key: str) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(f".{target.name}.{uuid.uuid4().hex}.partial")
        try:
            shutil.copytree(source, staging)
            if target.exists():
                shutil.rmtree(target)
            staging.replace(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def local_path(self, key: str) -> Path:
        return self._path(key)

    def exists(self, key: str) -> bool:
        return self._path(key).is_dir()

    def delete(self, key: str) -> None:
        shutil.rmtree(self._path(key), ignore_errors=True)
