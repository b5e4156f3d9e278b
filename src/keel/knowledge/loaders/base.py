"""What a loader is: bytes of one file in, Markdown-ish text out (headings as `#` lines), or a LoadError
saying why this document cannot be read. Loaders never see the file system or the network."""

from collections.abc import Callable
from dataclasses import dataclass


class LoadError(ValueError):
    """This document cannot be ingested; the message says why (it is shown on the job and the document)."""


@dataclass(frozen=True)
class Loaded:
    title: str
    text: str


Loader = Callable[[bytes, str], Loaded]  # (content, file name) -> Loaded


def require_text(text: str, name: str) -> str:
    if not text.strip():
        raise LoadError(f"{name} has no text to index")
    return text
