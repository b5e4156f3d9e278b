"""`keel.Client().prompts`: push and fetch prompt versions, with a client-side cache that outlives outages.

`get` keeps each answer for `cache_ttl` seconds; when the server is unreachable or answers 5xx, it returns
the last good copy it holds (however old) instead of failing the application. Rendering happens locally in
the same sandbox the server uses, so a fetched prompt renders identically offline.
"""

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from keel.client.errors import KeelAPIError

if TYPE_CHECKING:
    from keel.client.http import Client


@dataclass(frozen=True)
class Prompt:
    name: str
    version: int
    messages: list[dict[str, Any]] | None
    template: str | None
    variables: list[str]
    model: str | None
    params: dict[str, Any]
    labels: list[str] = field(default_factory=list)
    stale: bool = False  # served from the cache because the server could not be reached

    def render(self, **values: Any) -> list[dict[str, Any]] | str:
        """Messages for a chat prompt, text for a text prompt; missing variables raise, naming all."""
        from keel.prompts import templates  # Jinja2 loads on the first render

        messages, text = templates.render(self.messages, self.template, self.variables, values)
        return messages if messages is not None else text or ""

    def chat_kwargs(self, **values: Any) -> dict[str, Any]:
        """Keyword arguments for `openai_client.chat.completions.create(**prompt.chat_kwargs(...))`."""
        rendered = self.render(**values)
        messages = rendered if isinstance(rendered, list) else [{"role": "user", "content": rendered}]
        return {**self.params, "model": self.model, "messages": messages}


def load_prompt_file(path: str | Path) -> dict[str, Any]:
    """A push file (YAML or JSON) as a dict; an unreadable or malformed file raises ValueError saying why."""
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not UTF-8 text") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"{path} is not valid YAML or JSON: {exc}") from None
    if not isinstance(document, dict):
        raise ValueError(f"{path} must hold one prompt (a mapping with name and messages or template)")
    return document


def _prompt(data: dict[str, Any], stale: bool = False) -> Prompt:
    return Prompt(
        data["name"],
        data["version"],
        data.get("messages"),
        data.get("template"),
        data.get("variables", []),
        data.get("model"),
        data.get("params", {}),
        data.get("labels", []),
        stale,
    )


class PromptsAPI:
    def __init__(self, client: "Client", cache_ttl: float = 60.0) -> None:
        self._client = client
        self.cache_ttl = cache_ttl
        self._cache: dict[str, tuple[float, Prompt]] = {}
        self._lock = threading.Lock()

    def get(
        self,
        name: str,
        *,
        label: str | None = None,
        version: int | None = None,
        cache_ttl: float | None = None,
    ) -> Prompt:
        if label is not None and version is not None:
            raise ValueError("pass label or version, not both")
        ref = f"{name}@{version}" if version is not None else f"{name}@{label}" if label else name
        ttl = self.cache_ttl if cache_ttl is None else cache_ttl
        with self._lock:
            cached = self._cache.get(ref)
        if cached is not None and time.monotonic() - cached[0] < ttl:
            return cached[1]
        try:
            prompt = _prompt(self._client.request("GET", f"/api/v1/prompts/{ref}"))
        except KeelAPIError as exc:
            if cached is not None and (exc.status == 0 or exc.status >= 500):
                return _prompt({**cached[1].__dict__, "stale": False}, stale=True)
            raise
        with self._lock:
            self._cache[ref] = (time.monotonic(), prompt)
        return prompt

    def push(
        self,
        prompt: dict[str, Any] | str | Path,
        *,
        labels: list[str] | None = None,
        message: str | None = None,
        only_if_changed: bool = False,
    ) -> dict[str, Any]:
        body = dict(prompt) if isinstance(prompt, dict) else load_prompt_file(prompt)
        if labels:
            body["labels"] = sorted({*body.get("labels", []), *labels})
        if message is not None:
            body["message"] = message
        if only_if_changed:
            body["only_if_changed"] = True
        return dict(self._client.request("POST", "/api/v1/prompts", json=body))

    def list_all(self) -> list[dict[str, Any]]:
        return self._client.paginate("/api/v1/prompts")

    def versions(self, name: str) -> list[dict[str, Any]]:
        return list(self._client.request("GET", f"/api/v1/prompts/{name}/versions")["items"])

    def set_label(self, name: str, label: str, version: int) -> dict[str, Any]:
        return dict(
            self._client.request("PUT", f"/api/v1/prompts/{name}/labels/{label}", json={"version": version})
        )

    def diff(self, name: str, old: int, new: int) -> dict[str, Any]:
        return dict(
            self._client.request("GET", f"/api/v1/prompts/{name}/diff", params={"from": old, "to": new})
        )

    def render(self, ref: str, **variables: Any) -> dict[str, Any]:
        """Render on the server (the same result as `get(...).render(...)`)."""
        return dict(
            self._client.request("POST", f"/api/v1/prompts/{ref}/render", json={"variables": variables})
        )
