"""Plain text and Markdown: strict UTF-8; NUL bytes or invalid UTF-8 mean binary, whatever the name."""

from pathlib import PurePosixPath

from keel.knowledge.loaders.base import Loaded, LoadError, require_text


def load_text(content: bytes, name: str) -> Loaded:
    if b"\x00" in content[:8192]:
        raise LoadError(f"{name} looks binary (NUL bytes), not text")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(f"{name} is not UTF-8 text (byte {exc.start})") from None
    return Loaded(PurePosixPath(name).stem, require_text(text, name))
