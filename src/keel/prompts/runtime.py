"""The prompt service inside the server: resolves `name@ref` for the gateway without a query per request.

Versions are immutable, so a resolved version is kept (bounded LRU). What a label or `latest` points at is
kept for `TTL` seconds; moves and pushes through this process forget it at once, other replicas see them
within the TTL. The gateway calls `apply(principal, body)` to turn `{"prompt", "variables"}` into messages.
"""

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from keel.core.auth import Principal
from keel.core.errors import InvalidInput
from keel.prompts import service, templates

TTL = 2.0
MAX_VERSIONS = 2048


@dataclass(frozen=True)
class Resolved:
    name: str
    version: int
    messages: list[dict[str, Any]] | None
    template: str | None
    variables: list[str]
    model: str | None
    params: dict[str, Any]

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


class Prompts:
    def __init__(self, runtime: Any) -> None:
        self._sessions = runtime.sessions
        self._pointers: dict[tuple[str, str], tuple[float, int]] = {}
        self._versions: OrderedDict[tuple[str, str, int], Resolved] = OrderedDict()
        self.ttl = TTL
        runtime.changes.subscribe(
            service.PROMPT, lambda change: self.forget(change.project_id, change.key or "")
        )

    def start(self) -> None:
        pass

    def stop(self) -> None:
        self._pointers.clear()
        self._versions.clear()

    def forget(self, project_id: str, name: str) -> None:
        """A label moved or a version was pushed: what `name` and `name@label` point at is stale."""
        for key in [k for k in self._pointers if k[0] == project_id and service.parse_ref(k[1])[0] == name]:
            self._pointers.pop(key, None)

    def _load(self, principal: Principal, ref: str) -> Resolved:
        with self._sessions() as session:
            prompt, version = service.resolve(session, principal, ref)
            return Resolved(
                prompt.name,
                version.version,
                version.messages,
                version.template,
                list(version.variables),
                version.model,
                dict(version.params),
            )

    async def resolve(self, principal: Principal, ref: str) -> Resolved:
        name, number, _ = service.parse_ref(ref)
        project = principal.project_id
        if number is None:
            pointer = self._pointers.get((project, ref))
            if pointer is not None and time.monotonic() - pointer[0] < self.ttl:
                number = pointer[1]
        if number is not None and (cached := self._versions.get((project, name, number))) is not None:
            self._versions.move_to_end((project, name, number))
            return cached
        resolved = await asyncio.to_thread(self._load, principal, ref)
        if service.parse_ref(ref)[1] is None:
            self._pointers[(project, ref)] = (time.monotonic(), resolved.version)
        self._versions[(project, resolved.name, resolved.version)] = resolved
        while len(self._versions) > MAX_VERSIONS:
            self._versions.popitem(last=False)
        return resolved

    async def apply(self, principal: Principal, body: dict[str, Any]) -> Resolved | None:
        """Render the request's `prompt` into its messages and defaults; None when it names no prompt."""
        ref = body.pop("prompt", None)
        values = body.pop("variables", None)
        if ref is None:
            if values is not None:
                raise InvalidInput("`variables` needs a `prompt` to fill", param="variables")
            return None
        if not isinstance(ref, str) or not ref:
            raise InvalidInput("`prompt` must be a string: NAME, NAME@VERSION or NAME@LABEL", param="prompt")
        if values is None:
            values = {}
        if not isinstance(values, dict):
            raise InvalidInput("`variables` must be an object of name → value", param="variables")
        prompt = await self.resolve(principal, ref)
        messages, text = templates.render(prompt.messages, prompt.template, prompt.variables, values)
        rendered = messages if messages is not None else [{"role": "user", "content": text}]
        given = body.get("messages")
        if given is not None and not isinstance(given, list):
            raise InvalidInput("`messages` must be an array", param="messages")
        body["messages"] = rendered + (given or [])
        if not body.get("model"):
            if not prompt.model:
                raise InvalidInput(
                    f"`model` is required: prompt {prompt.ref} does not name one", param="model"
                )
            body["model"] = prompt.model
        for key, value in prompt.params.items():
            body.setdefault(key, value)
        return prompt
