"""`keel apply` sections are a registry: the built-ins come through `register_apply_sections`, a plugin's
section is planned and written in its order, and an unknown section names every registered one."""

from typing import Any

import pytest

from keel.cli.apply import ApplyError, Change, Section, apply, diff, ordered, plan
from keel.plugins.hookspecs import Register, hookimpl
from keel.plugins.manager import Plugins

WRITTEN: list[str] = []


def plan_notes(client: Any, items: Any) -> list[Change]:
    have = {"kept": {"text": "same"}}
    return [
        diff("notes", name, {"text": text}, have.get(name), lambda name=name: WRITTEN.append(f"notes/{name}"))
        for name, text in items.items()
    ]


class Notes:
    @hookimpl
    def register_apply_sections(self, register: Register) -> None:
        register("notes", Section("notes", plan_notes, order=5))


def test_built_in_sections_are_registered_in_write_order() -> None:
    sections = ordered(Plugins(entry_points=False).apply_sections.items())
    assert [s.name for s in sections] == [
        "providers",
        "guardrails",
        "routes",
        "prices",
        "limits",
        "alerts",
        "prompts",
        "loops",
    ]


def test_a_plugin_section_is_planned_and_written_first_by_its_order() -> None:
    sections = ordered(Plugins([Notes()], entry_points=False).apply_sections.items())
    assert [s.name for s in sections][:2] == ["notes", "providers"]
    changes = plan(None, {"notes": {"kept": "same", "new": "hello"}}, sections)  # type: ignore[arg-type]
    assert [(c.name, c.action) for c in changes] == [("kept", "="), ("new", "+")]
    WRITTEN.clear()
    assert apply(changes, sections) == 1
    assert WRITTEN == ["notes/new"]
    with pytest.raises(
        ApplyError, match="unknown section.*monitors; known: notes, providers, guardrails, routes"
    ):
        plan(None, {"monitors": []}, sections)  # type: ignore[arg-type]
