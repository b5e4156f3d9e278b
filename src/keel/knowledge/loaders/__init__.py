"""File loaders by extension (a registry: add one module per format)."""

from pathlib import PurePosixPath

from keel.knowledge.loaders.base import Loaded, Loader, LoadError
from keel.knowledge.loaders.html import load_html
from keel.knowledge.loaders.office import load_docx, load_pdf
from keel.knowledge.loaders.text import load_text

LOADERS: dict[str, Loader] = {
    ".txt": load_text,
    ".md": load_text,
    ".markdown": load_text,
    ".rst": load_text,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
    ".docx": load_docx,
}


def load(content: bytes, name: str) -> Loaded:
    suffix = PurePosixPath(name).suffix.lower()
    loader = LOADERS.get(suffix)
    if loader is None:
        raise LoadError(
            f"{name}: no loader for {suffix or 'files without an extension'}; known: {', '.join(LOADERS)}"
        )
    if not content:
        raise LoadError(f"{name} is empty")
    return loader(content, name)


__all__ = ["LOADERS", "LoadError", "Loaded", "load"]
