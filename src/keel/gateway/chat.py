"""`POST /v1/chat/completions`: validate, resolve the route, call upstream with fallbacks, trace the call.

Responses are passed through byte for byte (streams line by line); the gateway parses them only to account
tokens, output and time to first token for the trace. Retryable failures (429, 5xx, timeouts, connection
errors) move on to the next attempt; any other upstream 4xx goes back to the caller as it is.
"""

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from keel.core.errors import InvalidInput, KeelError
from keel.core.money import to_usd
from keel.gateway import pricing, tokens
from keel.gateway.circuits import Circuits
from keel.gateway.config import RoutePlan, Target
from keel.gateway.pricing import PriceRule
from keel.gateway.providers.base import StreamTranslator
from keel.gateway.upstream import (
    RETRYABLE_ERRORS,
    RETRYABLE_STATUS,
    STREAM_ERRORS,
    UpstreamPool,
    UpstreamReply,
    describe,
)
from keel.tracing.internal import InternalSpan, internal_row

log = logging.getLogger("keel.gateway")
ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


class UpstreamFailed(KeelError):
    status = 502
    code = "upstream_error"
    title = "Upstream failed"


class UpstreamUnavailable(UpstreamFailed):
    """Every attempt failed and the last target said it cannot serve now (503): say so, with its reason."""

    status = 503
    code = "upstream_unavailable"
    title = "Upstream unavailable"


@dataclass
class Call:
    """What one gateway call did, for its trace."""

    project_id: str
    route: str
    body: dict[str, Any]
    operation: str = "chat"
    started_ns: int = field(default_factory=time.time_ns)
    target: Target | None = None
    attempts: list[str] = field(default_factory=list)
    response_model: str | None = None
    pieces: list[str] = field(default_factory=list)  # the output as it arrived (a stream's deltas)
    usage: dict[str, Any] | None = None
    ttft_ms: float | None = None
    finish: list[str] = field(default_factory=list)
    error: str | None = None
    cost_micros: int | None = None
    cache_hit: bool = False
    usage_estimated: bool = False
    prompt: tuple[str, int] | None = None  # (name, version) when the request named a registry prompt
    attributes: dict[str, Any] = field(default_factory=dict)  # extra span attributes (e.g. experiment ids)
    trace_id: str = field(default_factory=lambda: os.urandom(16).hex())
    span_id: str = field(default_factory=lambda: os.urandom(8).hex())
    child_spans: list[InternalSpan] = field(default_factory=list)  # e.g. the retrieval step of a RAG call
    circuit_open: list[str] = field(default_factory=list)  # targets skipped because their circuit was open
    arm: tuple[str, Target] | None = None  # (canary id, the arm's target) on a route with a live canary

    def arm_failed(self) -> bool:
        """Whether the arm's own target failed this call: an error on it, a failed attempt (even one a
        fallback rescued), or a circuit open on it."""
        assert self.arm is not None
        target = self.arm[1]
        label = f"{target.upstream.provider}/{target.model}"
        if self.error is not None and self.target == target:
            return True
        return label in self.circuit_open or any(a.startswith(label + ":") for a in self.attempts)

    @property
    def output(self) -> str | None:
        """The output text, joined once when asked (a stream's deltas are not concatenated one by one)."""
        if len(self.pieces) > 1:
            self.pieces[:] = ["".join(self.pieces)]
        return self.pieces[0] if self.pieces else None

    def count_tokens_if_missing(self) -> None:
        """An upstream that answered without usage is counted locally (marked as an estimate)."""
        if self.usage is not None or self.error is not None or self.cache_hit or self.target is None:
            return
        if self.operation == "chat":
            self.usage = tokens.estimate_chat(self.body, self.output)
        else:
            self.usage = tokens.estimate_embeddings(self.body)
        self.usage_estimated = True

    def price(self, rules: dict[str, PriceRule]) -> None:
        """Set the call's cost from its usage, when the project prices the model (a cache hit costs 0)."""
        if self.cache_hit:
            self.cost_micros = 0
            return
        if self.usage is None:
            return
        rule = pricing.find(
            rules, self.response_model, self.target.model if self.target else None, self.route
        )
        if rule is not None:
            self.cost_micros = pricing.cost_micros(rule, self.usage)


def load_request(raw: bytes) -> dict[str, Any]:
    """The request body as a JSON object; nothing else is checked yet (a prompt may still fill it in)."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidInput("request body must be a JSON object")
    return body


def _check_model(body: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise InvalidInput("`model` is required and must be a string", param="model")
    return body


def check_chat(body: dict[str, Any]) -> dict[str, Any]:
    _check_model(body)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidInput("`messages` must be a non-empty array", param="messages")
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            raise InvalidInput(f"{where} must be an object", param=where)
        if message.get("role") not in ROLES:
            raise InvalidInput(
                f"{where}.role must be one of {', '.join(sorted(ROLES))}; got {message.get('role')!r}",
                param=f"{where}.role",
            )
        has_tool_calls = message.get("role") == "assistant" and message.get("tool_calls")
        if "content" not in message and not has_tool_calls:
            raise InvalidInput(f"{where}.content is required", param=f"{where}.content")
        if not isinstance(message.get("content"), str | list | None):
            raise InvalidInput(
                f"{where}.content must be a string or an array of parts", param=f"{where}.content"
            )
    if "stream" in body and not isinstance(body["stream"], bool):
        raise InvalidInput("`stream` must be a boolean", param="stream")
    _check_response_format(body.get("response_format"))
    n = body.get("n", 1)
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 128:
        raise InvalidInput("`n` must be an integer from 1 to 128", param="n")
    return body


def _check_response_format(value: Any) -> None:
    if value is None:
        return
    kinds = ("text", "json_object", "json_schema")
    if not isinstance(value, dict) or value.get("type") not in kinds:
        raise InvalidInput(f"response_format.type must be one of {', '.join(kinds)}", param="response_format")
    if value["type"] != "json_schema":
        return
    spec = value.get("json_schema")
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or not spec["name"]:
        raise InvalidInput("response_format.json_schema needs a `name`", param="response_format.json_schema")
    schema = spec.get("schema")
    if not isinstance(schema, dict) or not isinstance(schema.get("type", "object"), str | list):
        raise InvalidInput(
            "response_format.json_schema.schema must be a JSON Schema object",
            param="response_format.json_schema.schema",
        )


async def _send(
    pool: UpstreamPool, plan: RoutePlan, call: Call, stream: bool, circuits: Circuits
) -> UpstreamReply:
    order = plan.attempts(call.body.get("user"))
    if plan.canary is not None and order[0].arm is not None:
        call.arm = (plan.canary, order[0])
    keys = {id(t): (call.project_id, plan.name, t.upstream.provider, t.model) for t in order}
    allowed = [t for t in order if circuits.allow(keys[id(t)], plan.circuit)]
    call.circuit_open = [_label(t) for t in order if t not in allowed]
    retries = plan.retries
    if not allowed:  # every circuit is open: try them all once rather than refuse on the breaker's word
        allowed, retries = order, 0
    last_status = 0
    for position, target in enumerate(allowed):
        key, label = keys[id(target)], _label(target)
        for attempt in range(retries + 1):
            call.target = target
            try:
                response = await pool.post(
                    target.upstream,
                    target.upstream.adapter.path(call.operation),
                    target.upstream.adapter.encode(call.body, target.model, call.operation),
                    stream,
                )
            except RETRYABLE_ERRORS as exc:
                failure = f"{label}: {describe(exc)}"
                last_status = 0
            except BaseException:
                circuits.release(key)
                for later in allowed[position + 1 :]:
                    circuits.release(keys[id(later)])
                raise
            else:
                if response.status_code not in RETRYABLE_STATUS:
                    circuits.succeeded(key)
                    for later in allowed[position + 1 :]:
                        circuits.release(keys[id(later)])
                    return response
                reason = _error_message(await response.aread())
                await response.aclose()
                last_status = response.status_code
                failure = f"{label}: HTTP {last_status}" + (f" ({reason})" if reason else "")
            call.attempts.append(failure)
            circuits.failed(key, plan.circuit, failure)
            if not circuits.allow(key, plan.circuit):
                break  # this failure opened the circuit: no retry against a target now known to be down
            if attempt < retries:
                await asyncio.sleep(min(0.1 * 2**attempt, 1.0))
    call.error = f"all {len(call.attempts)} attempts failed: " + "; ".join(call.attempts)
    raise (UpstreamUnavailable if last_status == 503 else UpstreamFailed)(call.error)


def _label(target: Target) -> str:
    return f"{target.upstream.provider}/{target.model}"


def _error_message(body: bytes) -> str | None:
    """The message of an upstream's error body (OpenAI's or Anthropic's shape), if it has one."""
    try:
        error = orjson.loads(body).get("error")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    message = error.get("message") if isinstance(error, dict) else None
    return message[:500] if isinstance(message, str) else None


def _account(call: Call, payload: dict[str, Any]) -> None:
    if not isinstance(payload, dict):
        raise TypeError("not an object")
    call.response_model = payload.get("model") or call.response_model
    if payload.get("usage"):
        call.usage = payload["usage"]
    for choice in payload.get("choices") or []:
        message = choice.get("message") or choice.get("delta") or {}
        if message.get("content"):
            call.pieces.append(message["content"])
        if choice.get("finish_reason"):
            call.finish.append(choice["finish_reason"])


async def complete(pool: UpstreamPool, plan: RoutePlan, call: Call, circuits: Circuits) -> tuple[int, bytes]:
    response = await _send(pool, plan, call, False, circuits)
    adapter = call.target.upstream.adapter if call.target else None
    content = response.content
    if response.status_code >= 400:
        call.error = f"upstream HTTP {response.status_code}"
        return response.status_code, _as_openai_error(content, response)
    kind = "a chat completion" if call.operation == "chat" else "an embeddings response"
    try:
        if adapter is not None and not adapter.passthrough:
            content = adapter.decode(content, call.operation)
        payload = orjson.loads(content)
        if call.operation == "chat":
            _account(call, payload)
        else:
            call.response_model, call.usage = payload.get("model"), payload.get("usage")
    except (orjson.JSONDecodeError, AttributeError, TypeError, KeyError):
        call.error = f"upstream returned a body that is not {kind}"
        provider = call.target.upstream.provider if call.target else "upstream"
        raise UpstreamFailed(f"{provider} returned a body that is not {kind}") from None
    return 200, content


async def open_stream(
    pool: UpstreamPool, plan: RoutePlan, call: Call, circuits: Circuits
) -> tuple[int, AsyncIterator[bytes]]:
    response = await _send(pool, plan, call, True, circuits)
    if response.status_code >= 400:
        body = await response.aread()
        call.error = f"upstream HTTP {response.status_code}"
        return response.status_code, _once(_as_openai_error(body, response))
    wants_usage = bool((call.body.get("stream_options") or {}).get("include_usage"))
    translator = call.target.upstream.adapter.stream() if call.target else StreamTranslator()
    return 200, _relay(response, call, wants_usage, translator)


async def _relay(
    response: UpstreamReply, call: Call, wants_usage: bool, translator: StreamTranslator
) -> AsyncIterator[bytes]:
    started = time.perf_counter()
    try:
        async for batch in response.aiter_line_batches():
            out = []
            for upstream_line in batch:
                for line in translator.feed(upstream_line):
                    if line.startswith("data:") and (data := line[5:].strip()) and data != "[DONE]":
                        payload = orjson.loads(data)
                        if call.ttft_ms is None and payload.get("choices"):
                            call.ttft_ms = (time.perf_counter() - started) * 1000
                        _account(call, payload)
                        if not payload.get("choices") and payload.get("usage") and not wants_usage:
                            continue  # usage chunk the gateway asked for on its own behalf
                    out.append(line.rstrip("\n") + "\n" + ("\n" if line.endswith("\n") else ""))
            if out:
                yield "".join(out).encode()
    except (*STREAM_ERRORS, orjson.JSONDecodeError, ValueError) as exc:
        call.error = f"upstream stream broke off: {describe(exc)}"
        error = {
            "error": {"message": call.error, "type": "api_error", "param": None, "code": "upstream_error"}
        }
        yield b"data: " + orjson.dumps(error) + b"\n\n"
    finally:
        await response.aclose()


async def _once(body: bytes) -> AsyncIterator[bytes]:
    yield body


def _as_openai_error(body: bytes, response: UpstreamReply) -> bytes:
    """Upstream error bodies in OpenAI's shape (Anthropic's `{"type": "error", ...}` included)."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return _error_body(response)
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if isinstance(error, dict) and "message" in error:
        if "param" in error and "code" in error:
            return body
        return orjson.dumps(
            {
                "error": {
                    "message": error["message"],
                    "type": error.get("type", "api_error"),
                    "param": error.get("param"),
                    "code": error.get("code"),
                }
            }
        )
    return _error_body(response)


def _error_body(response: UpstreamReply) -> bytes:
    message = f"upstream answered HTTP {response.status_code} with a non-JSON body"
    return orjson.dumps(
        {"error": {"message": message, "type": "api_error", "param": None, "code": "upstream_error"}}
    )


def trace_row(call: Call, max_bytes: int) -> dict[str, Any]:
    target = call.target
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": call.operation,
        "gen_ai.request.model": target.model if target else call.body.get("model"),
        "gen_ai.input.messages": orjson.dumps(call.body.get("messages", call.body.get("input"))).decode(),
        "keel.route": call.route,
        "keel.attempts": len(call.attempts) + (0 if call.error else 1),
    }
    if target is not None:
        attributes["gen_ai.provider.name"] = target.upstream.kind
        attributes["keel.variant"] = target.variant
        attributes["keel.provider"] = target.upstream.provider
    if call.response_model:
        attributes["gen_ai.response.model"] = call.response_model
    if call.output is not None:
        attributes["gen_ai.output.messages"] = orjson.dumps(
            [{"role": "assistant", "content": call.output}]
        ).decode()
    if call.finish:
        attributes["gen_ai.response.finish_reasons"] = call.finish
    if call.usage:
        attributes["gen_ai.usage.input_tokens"] = call.usage.get("prompt_tokens")
        attributes["gen_ai.usage.output_tokens"] = call.usage.get("completion_tokens")
        cached = (call.usage.get("prompt_tokens_details") or {}).get("cached_tokens")
        if cached is not None:
            attributes["gen_ai.usage.cache_read.input_tokens"] = cached
    if call.prompt is not None:
        attributes["keel.prompt.name"] = call.prompt[0]
        attributes["keel.prompt.version"] = f"{call.prompt[0]}@{call.prompt[1]}"
    if call.usage_estimated:
        attributes["keel.usage.estimated"] = True
    if call.ttft_ms is not None:
        attributes["keel.ttft_ms"] = call.ttft_ms
    if call.cost_micros is not None:
        attributes["keel.cost.usd"] = str(to_usd(call.cost_micros))
    if call.cache_hit:
        attributes["keel.cache_hit"] = True
    if isinstance(call.body.get("user"), str):
        attributes["user.id"] = call.body["user"]
    if call.attempts:
        attributes["keel.failed_attempts"] = list(call.attempts)
    if call.circuit_open:
        attributes["keel.circuit_open"] = list(call.circuit_open)
    if call.arm is not None:
        attributes["keel.canary.id"] = call.arm[0]
        attributes["keel.canary.arm"] = call.arm[1].arm
        attributes["keel.canary.failed"] = call.arm_failed()
    attributes.update(call.attributes)
    name = f"{call.operation} {call.route}"
    span = InternalSpan(
        call.project_id,
        name,
        call.started_ns,
        time.time_ns(),
        {k: v for k, v in attributes.items() if v is not None},
        trace_id=call.trace_id,
        span_id=call.span_id,
        kind="server",
        error=call.error,
    )
    return internal_row(span, max_bytes)


def parse_embeddings_request(raw: bytes) -> dict[str, Any]:
    body = _check_model(load_request(raw))
    given = body.get("input")
    items = given if isinstance(given, list) else [given]
    valid = (
        bool(items)
        and all(isinstance(i, str) and i for i in items)
        or (bool(items) and all(isinstance(i, int) for i in items))
        or (
            bool(items)
            and all(isinstance(i, list) and i and all(isinstance(t, int) for t in i) for i in items)
        )
    )
    if not valid:
        raise InvalidInput(
            "`input` must be a non-empty string, an array of non-empty strings, or token arrays",
            param="input",
        )
    return body


def account_cached(call: Call, content: bytes) -> None:
    """A cache hit: keep the output and model for the trace, but no tokens were spent."""
    payload = orjson.loads(content)
    _account(call, payload)
    call.usage = None
