"""`keel kb`: create, list, ingest (files, folders, URLs) and search knowledge bases."""

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from keel.cli.output import JsonOption, api, console, emit, fail

app = typer.Typer(no_args_is_help=True)
Opt = typer.Option
COLUMNS = ("name", "embedding_model", "documents", "chunks", "updated_at")


@app.command("create")
def create(
    name: str,
    embedding_model: Annotated[str, Opt(help="Gateway embeddings model")] = "local/all-minilm-l6-v2",
    chunking: Annotated[str, Opt(help="structure (headings, paragraphs) or tokens")] = "structure",
    max_tokens: Annotated[int, Opt(help="Largest chunk in tokens")] = 256,
    overlap: Annotated[int, Opt(help="Token overlap (tokens mode, long paragraphs)")] = 32,
    as_json: bool = JsonOption,
) -> None:
    """Create a knowledge base."""
    body = {
        "embedding_model": embedding_model,
        "chunking": {"mode": chunking, "max_tokens": max_tokens, "overlap": overlap},
    }
    with api() as client:
        emit(client.knowledge.create(name, **body), as_json, COLUMNS)


@app.command("list")
def list_bases(as_json: bool = JsonOption) -> None:
    """List knowledge bases."""
    with api() as client:
        emit(client.knowledge.list_all(), as_json, COLUMNS, title="knowledge bases")


@app.command("ingest")
def ingest(name: str, sources: list[str], as_json: bool = JsonOption) -> None:
    """Ingest files, folders (every file inside), zip exports (Notion) and http(s) URLs into NAME."""
    urls = [s for s in sources if s.startswith(("http://", "https://"))]
    paths = [Path(s) for s in sources if s not in urls]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        fail(f"no such file or folder: {', '.join(missing)}", 2)
    with api() as client:
        started = client.knowledge.ingest(name, paths, urls, wait=False)
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[note]}"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, transient=True) as progress:
            bar = progress.add_task(f"ingest {name}", total=1.0, note="")
            while (job := client.get_job(started["job_id"]))["status"] in ("queued", "running"):
                progress.update(bar, completed=job["progress"] or 0, note=job.get("message") or "")
                time.sleep(0.3)
    if as_json:
        emit(job, True)
        return
    result = job.get("result") or {}
    console.print(
        f"{name}: {job['status']}; added {result.get('added', 0)}, updated {result.get('updated', 0)}, "
        f"unchanged {result.get('unchanged', 0)}, {result.get('chunks', 0)} chunks",
        highlight=False,
    )
    for failure in result.get("failed", []):
        console.print(f"  failed {failure['source']}: {failure['reason']}", highlight=False)
    if job["status"] != "succeeded":
        fail(job.get("error") or f"ingestion {job['status']}", 1)


@app.command("search")
def search(
    name: str,
    query: str,
    top_k: Annotated[int, Opt("--top-k", "-k")] = 5,
    mode: Annotated[str, Opt(help="vector, keyword or hybrid")] = "hybrid",
    as_json: bool = JsonOption,
) -> None:
    """Search NAME and print the best chunks with their source."""
    with api() as client:
        hits = client.knowledge.search(name, query, top_k, mode)
    if as_json:
        emit(hits, True)
        return
    for rank, hit in enumerate(hits, 1):
        headings = " › ".join(hit["metadata"].get("headings") or [])
        console.print(f"[bold]{rank}. {hit['source']}[/] {headings} ({hit['score']:.3f})", highlight=False)
        console.print(f"   {hit['text'][:300]}", highlight=False)
