"""Chunking: by document structure (Markdown headings, then paragraphs packed up to a token budget) or by a
sliding token window with overlap. Every chunk keeps its position and the headings above it.

Tokens are counted with the same `cl100k_base` vocabulary the gateway uses for local counts.
"""

import re
from dataclasses import dataclass, field
from typing import Any

from keel.gateway import tokens

_HEADING = re.compile(r"^(#{1,6})\s+(.*\S)\s*$")
_PAGE = re.compile(r"^<!-- page (\d+) -->$")


@dataclass
class Piece:
    text: str
    headings: list[str] = field(default_factory=list)
    page: int | None = None

    def metadata(self) -> dict[str, Any]:
        found: dict[str, Any] = {"headings": self.headings}
        if self.page is not None:
            found["page"] = self.page
        return found


def _sections(text: str) -> list[Piece]:
    """Paragraphs, each with the heading path above it (and the PDF page it is on)."""
    trail: list[str] = []
    page: int | None = None
    pieces: list[Piece] = []
    for block in re.split(r"\n\s*\n", text):
        lines = []
        for line in block.strip().splitlines():
            if page_match := _PAGE.match(line.strip()):
                page = int(page_match.group(1))
                continue
            if heading := _HEADING.match(line):
                level = len(heading.group(1))
                trail = [*trail[: level - 1], heading.group(2)]
                continue
            lines.append(line)
        if "\n".join(lines).strip():
            pieces.append(Piece("\n".join(lines).strip(), list(trail), page))
    return pieces


def _windows(text: str, size: int, overlap: int) -> list[str]:
    encoding = tokens._encoding()
    ids = encoding.encode(text, disallowed_special=())
    step = max(1, size - overlap)
    return [
        encoding.decode(ids[start : start + size]) for start in range(0, max(len(ids) - overlap, 1), step)
    ]


def chunk(text: str, mode: str = "structure", max_tokens: int = 256, overlap: int = 32) -> list[Piece]:
    if mode == "tokens":
        return [Piece(window) for window in _windows(text, max_tokens, overlap) if window.strip()]
    chunks: list[Piece] = []
    current: Piece | None = None
    size = 0
    for piece in _sections(text):
        count = tokens.count_text(piece.text)
        if count > max_tokens:  # one long paragraph: split it by tokens, keeping its headings
            if current is not None:
                chunks.append(current)
                current, size = None, 0
            chunks += [
                Piece(w, piece.headings, piece.page) for w in _windows(piece.text, max_tokens, overlap)
            ]
            continue
        same_section = current is not None and current.headings == piece.headings
        if current is not None and same_section and size + count <= max_tokens:
            current.text += "\n\n" + piece.text
            size += count
            continue
        if current is not None:
            chunks.append(current)
        current, size = Piece(piece.text, piece.headings, piece.page), count
    if current is not None:
        chunks.append(current)
    return chunks
