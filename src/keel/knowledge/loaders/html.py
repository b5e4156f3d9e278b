"""HTML pages and files: the main content, extracted by trafilatura as Markdown (boilerplate dropped)."""

from pathlib import PurePosixPath

import trafilatura

from keel.knowledge.loaders.base import Loaded, LoadError, require_text


def load_html(content: bytes, name: str) -> Loaded:
    try:
        html = content.decode("utf-8")
    except UnicodeDecodeError:
        html = content.decode("latin-1")
    text = trafilatura.extract(html, output_format="markdown", include_tables=True, favor_recall=True)
    if not text:
        raise LoadError(f"{name} has no readable main text")
    metadata = trafilatura.extract_metadata(html)
    title = (metadata.title if metadata and metadata.title else None) or PurePosixPath(name).stem
    return Loaded(title, require_text(text, name))
