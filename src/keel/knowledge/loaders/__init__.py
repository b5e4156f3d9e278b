"""File loaders by extension, one module per format; the knowledge plugin registers these built-ins through
`register_loaders`, and `load` picks from whatever the app's plugins registered."""

from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath
from typing import Any

from keel.knowledge.loaders.base import Loaded, Loader, LoadError
from keel.knowledge.loaders.html import load_html
from keel.knowledge.loaders.office import load_docx, load_pdf
from keel.knowledge.loaders.text import load_text

BUILT_IN: dict[str, Loader] = {
    ".txt": load_text,
    ".md": load_text,
    ".markdown": load_text,
    ".rst": load_text,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
    ".docx": load_docx,
}


def load(content: bytes, name: str, loaders: Any) -> Loaded:
    """`content` read by the loader registered for `name`'s extension (`loaders`: a Registry or a mapping)."""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in loaders:
        raise LoadError(
            f"{name}: no loader for {suffix or 'files without an extension'}; known: {known(loaders)}"
        )
    if not content:
        raise LoadError(f"{name} is empty")
    loader: Loader = loaders.get(suffix) if not isinstance(loaders, Mapping) else loaders[suffix]
    return loader(content, name)


def known(loaders: Iterable[str]) -> str:
    return ", ".join(loaders)


__all__ = ["BUILT_IN", "LoadError", "Loaded", "load", "known"]
