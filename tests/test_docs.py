"""Documentation coverage: a setting or hook that is not in docs/ fails the suite (after datasette)."""

from pathlib import Path

import pytest

from keel.client.settings import ClientSettings
from keel.plugins import hookspecs
from keel.plugins.manager import BUILTIN_PLUGINS
from keel.settings import Settings

DOCS = Path(__file__).resolve().parents[1] / "docs"


def docs_text() -> str:
    return "\n".join(path.read_text() for path in DOCS.glob("*.md"))


@pytest.mark.parametrize("name", [*Settings.model_fields, *ClientSettings.model_fields])
def test_setting_is_documented(name: str) -> None:
    assert f"KEEL_{name.upper()}" in (DOCS / "settings.md").read_text()


@pytest.mark.parametrize("hook", [n for n in dir(hookspecs) if n.startswith("register_")])
def test_hook_is_documented(hook: str) -> None:
    assert f"`{hook}`" in (DOCS / "plugins.md").read_text()


def test_every_setting_has_a_description() -> None:
    for cls in (Settings, ClientSettings):
        for name, field in cls.model_fields.items():
            assert field.description, name


@pytest.mark.parametrize("module", BUILTIN_PLUGINS)
def test_builtin_plugin_is_listed(module: str) -> None:
    assert f"| `{module}` |" in (DOCS / "plugins.md").read_text()


def test_plugins_doc_counts_the_builtins() -> None:
    words = {10: "ten", 11: "eleven", 12: "twelve", 13: "thirteen", 14: "fourteen", 15: "fifteen"}
    text = " ".join((DOCS / "plugins.md").read_text().split())
    assert f"The {words[len(BUILTIN_PLUGINS)]} built-in plugins" in text
