"""File loaders are a registry filled through `register_loaders`: the built-ins come that way, and a plugin
adds a format for its app only."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from keel.core.errors import Conflict
from keel.knowledge.loaders import BUILT_IN, Loaded, LoadError, load
from keel.plugins.hookspecs import Register, hookimpl
from keel.plugins.manager import Plugins
from keel.server.app import create_app
from keel.settings import Settings


def load_log(content: bytes, name: str) -> Loaded:
    lines = [line for line in content.decode().splitlines() if " ERROR " in line]
    if not lines:
        raise LoadError(f"{name} has no ERROR lines")
    return Loaded(title=name, text="\n".join(lines))


class LogLoader:
    @hookimpl
    def register_loaders(self, register: Register) -> None:
        register(".log", load_log)


def test_the_built_ins_are_registered_through_the_hook() -> None:
    loaders = Plugins(entry_points=False).loaders
    assert set(loaders) == set(BUILT_IN)
    assert load(b"# Title\n\nbody", "notes.md", loaders).text.startswith("# Title")
    with pytest.raises(LoadError, match=r"no loader for \.log; known: \.docx, \.htm"):
        load(b"x", "app.log", loaders)


def test_a_plugin_adds_a_format_to_its_own_app(settings: Settings, tmp_path: Path) -> None:
    with TestClient(create_app(settings, plugins=[LogLoader()])) as client:
        knowledge = client.app.state.runtime.service("knowledge")  # type: ignore[attr-defined]
        assert ".log" in knowledge.loaders
        found = knowledge.read(b"10:00 INFO up\n10:01 ERROR disk full\n", "app.log")
        assert [(name, item.text) for name, item in found] == [("app.log", "10:01 ERROR disk full")]
        [(_, refused)] = knowledge.read(b"10:00 INFO up\n", "quiet.log")
        assert isinstance(refused, LoadError)
        assert "no ERROR lines" in str(refused)
    assert ".log" not in Plugins(entry_points=False).loaders  # other apps are untouched


class Twice:
    @hookimpl
    def register_loaders(self, register: Register) -> None:
        register(".md", load_log)


def test_a_format_cannot_be_registered_twice() -> None:
    with pytest.raises(Conflict, match="loader '.md' is already registered"):
        _ = Plugins([Twice()], entry_points=False).loaders
