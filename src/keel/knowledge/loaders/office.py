"""PDF (pypdf) and Word .docx (python-docx). Encrypted or corrupt files fail alone with the reason."""

import io
from pathlib import PurePosixPath

from keel.knowledge.loaders.base import Loaded, LoadError, require_text


def load_pdf(content: bytes, name: str) -> Loaded:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(content))
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError(f"{name} is an encrypted PDF; decrypt it first")
        pages = [page.extract_text() or "" for page in reader.pages]
    except LoadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise LoadError(f"{name} is not a readable PDF: {exc}") from None
    title = (reader.metadata.title if reader.metadata and reader.metadata.title else None) or PurePosixPath(
        name
    ).stem
    text = "\n\n".join(f"<!-- page {n} -->\n{t.strip()}" for n, t in enumerate(pages, 1) if t.strip())
    return Loaded(title, require_text(text, name))


def load_docx(content: bytes, name: str) -> Loaded:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(content))
    except (PackageNotFoundError, ValueError, KeyError, OSError) as exc:
        raise LoadError(f"{name} is not a readable .docx file: {exc}") from None
    except Exception as exc:  # zipfile.BadZipFile and lxml errors for corrupt files
        raise LoadError(f"{name} is not a readable .docx file: {type(exc).__name__}") from None
    lines = []
    for paragraph in document.paragraphs:
        style = paragraph.style.name if paragraph.style is not None else ""
        if style.startswith("Heading") and style[-1:].isdigit():
            lines.append("#" * int(style[-1]) + " " + paragraph.text)
        elif paragraph.text.strip():
            lines.append(paragraph.text)
    title = document.core_properties.title or PurePosixPath(name).stem
    return Loaded(title, require_text("\n\n".join(lines), name))
