import pytest

from keel.core.errors import Conflict, NotFound
from keel.plugins.hookspecs import Register, hookimpl
from keel.plugins.manager import Plugins
from keel.plugins.registry import Registry


def test_registry_rejects_duplicates_and_names_known_items() -> None:
    registry: Registry[int] = Registry("evaluator")
    registry.register("bleu", 1)
    registry.register("rouge-l", 2)
    with pytest.raises(Conflict):
        registry.register("bleu", 3)
    with pytest.raises(NotFound, match="registered: bleu, rouge-l"):
        registry.get("chrf")
    with pytest.raises(ValueError, match="must be letters"):
        registry.register("bad name!", 4)
    assert list(registry) == ["bleu", "rouge-l"]
    assert "bleu" in registry
    assert len(registry) == 2


def test_builtins_register_through_the_same_hooks() -> None:
    plugins = Plugins(entry_points=False)
    assert "maintenance.prune_jobs" in plugins.job_kinds
    assert {"keel.projects.plugin", "keel.jobs.plugin", "keel.server.health"} <= set(plugins.names())
    assert len(plugins.routers()) >= 3


def test_extra_plugin_adds_a_readiness_check() -> None:
    class Plugin:
        @hookimpl
        def register_readiness_checks(self, register: Register) -> None:
            register("vector-index", lambda: "loaded")

    plugins = Plugins([Plugin()], entry_points=False)
    assert plugins.readiness_checks.get("vector-index")() == "loaded"
