"""Prompt templates: Jinja2 in a sandbox, strict about undefined variables, bounded in output.

`SandboxedEnvironment` refuses access to Python internals (`__class__`, `__globals__`, unsafe callables) and
has no loader, so templates cannot include or read files. Variables are found by parsing, before any render,
so a version lists what it needs and a render with missing values fails naming all of them at once. Template
authors are project members; variable *values* are never evaluated as templates.
"""

from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, meta
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from keel.core.errors import InvalidInput

MAX_TEMPLATE_CHARS = 100_000
MAX_OUTPUT_CHARS = 1_000_000

_env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


class RenderError(InvalidInput):
    code = "render_failed"
    title = "Template could not be rendered"


def _texts(messages: list[dict[str, Any]] | None, template: str | None) -> list[tuple[str, str]]:
    """(where, source) for every templated string: message contents (and text parts), or the text template."""
    if template is not None:
        return [("template", template)]
    found = []
    for index, message in enumerate(messages or []):
        content = message.get("content")
        if isinstance(content, str):
            found.append((f"messages[{index}].content", content))
        elif isinstance(content, list):
            for part_index, part in enumerate(content):
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    found.append((f"messages[{index}].content[{part_index}].text", part["text"]))
    return found


def variables(messages: list[dict[str, Any]] | None, template: str | None) -> list[str]:
    """The variables a prompt needs, in sorted order; a template that does not parse is refused here."""
    names: set[str] = set()
    for where, source in _texts(messages, template):
        if len(source) > MAX_TEMPLATE_CHARS:
            raise InvalidInput(f"{where} is longer than {MAX_TEMPLATE_CHARS} characters", param=where)
        try:
            names |= meta.find_undeclared_variables(_env.parse(source))
        except TemplateSyntaxError as exc:
            raise InvalidInput(
                f"{where} is not a valid template: {exc.message} (line {exc.lineno})", param=where
            ) from None
    return sorted(names)


def _render(where: str, source: str, values: dict[str, Any]) -> str:
    out: list[str] = []
    size = 0
    try:
        for piece in _env.from_string(source).generate(values):
            size += len(piece)
            if size > MAX_OUTPUT_CHARS:
                raise RenderError(f"{where} renders to more than {MAX_OUTPUT_CHARS} characters", param=where)
            out.append(piece)
    except SecurityError as exc:
        raise RenderError(f"{where} tried something the sandbox forbids: {exc}", param=where) from None
    except UndefinedError as exc:
        raise RenderError(f"{where}: {exc.message}", param=where) from None
    except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise RenderError(f"{where} failed to render: {exc}", param=where) from None
    return "".join(out)


def render(
    messages: list[dict[str, Any]] | None, template: str | None, needed: list[str], values: dict[str, Any]
) -> tuple[list[dict[str, Any]] | None, str | None]:
    """Rendered (messages, text). Missing variables are all named before anything renders."""
    missing = [name for name in needed if name not in values]
    if missing:
        raise RenderError(
            f"missing variables: {', '.join(missing)} (this prompt needs: {', '.join(needed)})",
            param="variables",
            missing=missing,
        )
    if template is not None:
        return None, _render("template", template, values)
    rendered = []
    for index, message in enumerate(messages or []):
        copy = dict(message)
        content = message.get("content")
        if isinstance(content, str):
            copy["content"] = _render(f"messages[{index}].content", content, values)
        elif isinstance(content, list):
            copy["content"] = [
                {**part, "text": _render(f"messages[{index}].content[{i}].text", part["text"], values)}
                if isinstance(part, dict) and isinstance(part.get("text"), str)
                else part
                for i, part in enumerate(content)
            ]
        rendered.append(copy)
    return rendered, None
