"""Hook specifications. Built-ins implement them exactly as third-party plugins do (entry points: `keel`).

Every hook is named `register_*` and receives a `register` callable; a test fails if one is undocumented in
docs/plugins.md.
"""

from collections.abc import Callable
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("keel")
hookimpl = pluggy.HookimplMarker("keel")

Register = Callable[..., None]


@hookspec
def register_job_kinds(register: Register) -> None:
    """Register background job handlers: `register(kind, handler)` where `handler(ctx) -> dict | None`."""


@hookspec
def register_routers(register: Register) -> None:
    """Register FastAPI routers: `register(router)`; they are mounted on the server app."""


@hookspec
def register_fast_routes(register: Register) -> None:
    """Register plain ASGI endpoints for hot paths: `register(method, path, handler)` where
    `async handler(request: keel.server.fast.FastRequest) -> keel.server.fast.Reply`."""


@hookspec
def register_commands(cli: Any) -> None:
    """Add Typer commands or sub-apps to the `keel` CLI: `cli.add_typer(...)` or `@cli.command()`."""


@hookspec
def register_readiness_checks(register: Register) -> None:
    """Register `/readyz` checks: `register(name, check)`; `check()` raises or returns a detail string."""


@hookspec
def register_services(register: Register) -> None:
    """Register background services: `register(name, factory)`; `factory(runtime)` returns an object with
    `start()` and `stop()`, started after the store is ready and stopped before it closes."""


@hookspec
def register_evaluators(register: Register) -> None:
    """Register evaluators: `register(name, evaluator)` with a `keel.evals.evaluators.base.Evaluator`."""


@hookspec
def register_guardrail_checks(register: Register) -> None:
    """Register guardrail checks: `register(name, check)` with a `keel.guardrails.checks.base.Check`
    (`prepare(params, where)` validates once, `run(text, prepared) -> Result` with findings' spans)."""


@hookspec
def register_apply_sections(register: Register) -> None:
    """Register `keel apply` YAML sections: `register(name, section)` with a `keel.cli.apply.Section`
    (`plan(client, value) -> list[Change]` and an `order`: lower sections are written first)."""


@hookspec
def register_vector_stores(register: Register) -> None:
    """Register knowledge-base vector stores: `register(name, store)` with a
    `keel.knowledge.stores.VectorStore` (unavailable, write, nearest)."""


@hookspec
def register_loaders(register: Register) -> None:
    """Register knowledge-base file loaders: `register(suffix, loader)` (e.g. `".md"`), where
    `loader(content: bytes, name: str) -> keel.knowledge.loaders.base.Loaded` raises `LoadError`."""


@hookspec
def register_providers(register: Register) -> None:
    """Register gateway provider kinds: `register(name, kind)` with a `ProviderKind` (gateway/providers)."""
