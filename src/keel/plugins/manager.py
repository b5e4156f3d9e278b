"""The plugin manager: loads built-ins and `keel` entry points, then fills registries from the hooks.

A `Plugins` object is built per app (not a module global), so tests and embedded users can add plugins to one
app without touching another. Each registry is filled on first use: the CLI asks only for commands, so it
never imports the server-side modules that providers, evaluators, services and job kinds live in.
"""

import importlib
from collections.abc import Callable, Iterable
from functools import cached_property
from typing import Any

import pluggy

from keel.core.errors import Conflict
from keel.plugins import hookspecs
from keel.plugins.registry import Registry

BUILTIN_PLUGINS = (
    "keel.projects.plugin",
    "keel.jobs.plugin",
    "keel.server.health",
    "keel.tracing.plugin",
    "keel.gateway.plugin",
    "keel.prompts.plugin",
    "keel.datasets.plugin",
    "keel.evals.plugin",
    "keel.feedback.plugin",
    "keel.knowledge.plugin",
    "keel.finetune.plugin",
    "keel.guardrails.plugin",
    "keel.monitoring.plugin",
    "keel.loops.plugin",
    "keel.ui.plugin",
)

JobHandler = Callable[[Any], dict[str, Any] | None]
ReadinessCheck = Callable[[], str | None]
ServiceFactory = Callable[[Any], Any]


class Plugins:
    def __init__(self, extra: Iterable[object] = (), *, entry_points: bool = True) -> None:
        self.manager = pluggy.PluginManager("keel")
        self.manager.add_hookspecs(hookspecs)
        for module in BUILTIN_PLUGINS:
            self.manager.register(importlib.import_module(module), name=module)
        if entry_points:
            self.manager.load_setuptools_entrypoints("keel")
        for plugin in extra:
            self.manager.register(plugin)

    @cached_property
    def job_kinds(self) -> Registry[JobHandler]:
        return self._filled("job kind", self.manager.hook.register_job_kinds)

    @cached_property
    def readiness_checks(self) -> Registry[ReadinessCheck]:
        return self._filled("readiness check", self.manager.hook.register_readiness_checks)

    @cached_property
    def provider_kinds(self) -> Registry[Any]:
        return self._filled("provider kind", self.manager.hook.register_providers)

    @cached_property
    def evaluators(self) -> Registry[Any]:
        return self._filled("evaluator", self.manager.hook.register_evaluators)

    @cached_property
    def guardrail_checks(self) -> Registry[Any]:
        return self._filled("guardrail check", self.manager.hook.register_guardrail_checks)

    @cached_property
    def apply_sections(self) -> Registry[Any]:
        return self._filled("apply section", self.manager.hook.register_apply_sections)

    @cached_property
    def vector_stores(self) -> Registry[Any]:
        return self._filled("vector store", self.manager.hook.register_vector_stores)

    @cached_property
    def loaders(self) -> Registry[Any]:
        return self._filled("loader", self.manager.hook.register_loaders)

    @cached_property
    def services(self) -> Registry[ServiceFactory]:
        return self._filled("service", self.manager.hook.register_services)

    @staticmethod
    def _filled(what: str, hook: Callable[..., Any]) -> Registry[Any]:
        """A registry of `what`, filled by every plugin's implementation of `hook`."""
        found: Registry[Any] = Registry(what)
        hook(register=found.register)
        return found

    def routers(self) -> list[Any]:
        """FastAPI routers from every plugin (typed loosely so this module stays free of FastAPI)."""
        routers: list[Any] = []
        self.manager.hook.register_routers(register=routers.append)
        return routers

    def fast_routes(self) -> dict[tuple[str, str], Any]:
        """Hot-path endpoints by (method, path), served before FastAPI's router (see keel.server.fast)."""
        routes: dict[tuple[str, str], Any] = {}

        def register(method: str, path: str, handler: Any) -> None:
            if (method, path) in routes:
                raise Conflict(f"fast route {method} {path} is already registered")
            routes[(method, path)] = handler

        self.manager.hook.register_fast_routes(register=register)
        return routes

    def names(self) -> list[str]:
        return sorted(name for name, _ in self.manager.list_name_plugin())
