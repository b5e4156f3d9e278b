"""`keel traces`: list with filters, show one as a tree, tail new traces live."""

import time
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.tree import Tree

from keel.cli.output import JsonOption, api, console, emit

app = typer.Typer(no_args_is_help=True)
COLUMNS = ("trace_id", "name", "start_time", "duration_ms", "status", "model", "total_tokens", "cost_usd")
Opt = typer.Option


@app.command("list")
def list_traces(
    since: Annotated[str | None, Opt(help="ISO time, e.g. 2026-11-23T00:00:00Z")] = None,
    until: Annotated[str | None, Opt(help="ISO time")] = None,
    name: Annotated[str | None, Opt()] = None,
    model: Annotated[str | None, Opt()] = None,
    status: Annotated[str | None, Opt(help="ok, error or unset")] = None,
    user: Annotated[str | None, Opt()] = None,
    session: Annotated[str | None, Opt()] = None,
    tag: Annotated[str | None, Opt()] = None,
    min_latency_ms: Annotated[float | None, Opt()] = None,
    min_cost_usd: Annotated[str | None, Opt()] = None,
    q: Annotated[str | None, Opt(help="Text in any span's input or output")] = None,
    sort: Annotated[str, Opt(help="start, duration, cost, tokens")] = "start",
    limit: Annotated[int, Opt()] = 50,
    as_json: bool = JsonOption,
) -> None:
    """List traces, newest first."""
    params = {k: v for k, v in locals().items() if v is not None and k != "as_json"}
    with api() as client:
        page = client.request("GET", "/api/v1/traces", params=params)
    emit(page["items"], as_json, COLUMNS, title="traces")


@app.command("show")
def show(trace_id: str, as_json: bool = JsonOption) -> None:
    """Show one trace as a span tree with timings, tokens and cost."""
    with api() as client:
        trace = client.request("GET", f"/api/v1/traces/{trace_id}")
    if as_json:
        emit(trace, True)
        return
    tree = Tree(_label(trace, trace["name"]))
    for span in trace["spans"]:
        _add(tree, span)
    console.print(tree)


@app.command("tail")
def tail(
    interval: Annotated[float, Opt(help="Seconds between polls")] = 1.0,
    count: Annotated[int | None, Opt(help="Stop after this many traces")] = None,
) -> None:
    """Print traces as they arrive (Ctrl-C to stop)."""
    seen: set[str] = set()
    since = datetime.now(UTC).isoformat()
    printed = 0
    with api() as client:
        while count is None or printed < count:
            page = client.request(
                "GET",
                "/api/v1/traces",
                params={"since": since, "sort": "start", "order": "asc", "limit": 200},
            )
            for trace in page["items"]:
                if trace["trace_id"] in seen:
                    continue
                seen.add(trace["trace_id"])
                console.print(_label(trace, trace["name"]), highlight=False)
                printed += 1
                if count is not None and printed >= count:
                    return
            time.sleep(interval)


def _label(item: dict[str, Any], name: str) -> str:
    colour = "red" if item["status"] == "error" else "green"
    parts = [f"[bold]{name}[/]", f"[{colour}]{item['status']}[/]", f"{item['duration_ms']:.1f} ms"]
    if item.get("model"):
        parts.append(str(item["model"]))
    if item.get("total_tokens"):
        parts.append(f"{item['total_tokens']} tok")
    if item.get("cost_usd") not in (None, "0", "0.0", 0):
        parts.append(f"${item['cost_usd']}")
    if item.get("trace_id") and "spans" not in item and "span_id" not in item:
        parts.insert(0, item["trace_id"][:12])
    return "  ".join(parts)


def _add(parent: Tree, span: dict[str, Any]) -> None:
    node = parent.add(_label(span, span["name"]))
    if span.get("status_message"):
        node.add(f"[red]{span['status_message']}[/]")
    for child in span["children"]:
        _add(node, child)
