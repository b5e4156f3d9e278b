"""Groundedness: how much of an answer the retrieved context supports (a hallucination signal, offline).

The context is what the call was grounded in: the system messages of the input (where the gateway puts the
numbered passages of a RAG call), or `expected` / `metadata.context` when given. Each sentence of the
answer counts as supported when the context holds most of its content words, or, with a server context,
when its embedding is close to one of the context's passages (cosine ≥ `threshold`). The score is the
supported share of sentences; `unsupported` lists the sentences that were not, for the trace's reviewer.
"""

import math
import re
from collections.abc import Sequence
from typing import Any

from keel.evals.evaluators.base import EvalContext, Evaluator, Failed, Judged, Result, Sample, each, text
from keel.evals.evaluators.model_based import DEFAULT_EMBEDDING_MODEL

SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
WORD = re.compile(r"[\w'-]+", re.UNICODE)
CITATION = re.compile(r"\[\d+\]")
STOP = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "or",
        "but",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "with",
        "from",
        "by",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "it",
        "this",
        "that",
        "these",
        "those",
        "as",
        "if",
        "then",
        "than",
        "so",
        "not",
        "no",
        "yes",
        "you",
        "your",
        "we",
        "our",
        "they",
        "their",
        "he",
        "she",
        "his",
        "her",
        "its",
        "i",
        "me",
        "my",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "can",
        "could",
        "would",
        "should",
        "will",
        "shall",
        "may",
        "might",
        "must",
        "what",
        "which",
        "who",
        "whom",
        "when",
        "where",
        "why",
        "how",
    ]
)


def context_of(sample: Sample) -> str:
    if isinstance(sample.metadata.get("context"), str):
        return str(sample.metadata["context"])
    if isinstance(sample.input, list):
        systems = [
            m.get("content") for m in sample.input if isinstance(m, dict) and m.get("role") == "system"
        ]
        found = "\n\n".join(c for c in systems if isinstance(c, str))
        if found:
            return found
    return text(sample.expected) if sample.expected not in (None, "") else ""


def _words(value: str) -> set[str]:
    return {w for w in (x.lower() for x in WORD.findall(value)) if w not in STOP and len(w) > 2}


def _sentences(answer: str) -> list[str]:
    return [s.strip() for s in SENTENCE.split(CITATION.sub("", answer)) if len(_words(s)) >= 2]


def groundedness(samples: Sequence[Sample], params: dict[str, Any], ctx: EvalContext | None) -> list[Result]:
    threshold = float(params.get("threshold", 0.6))
    lexical = float(params.get("lexical", 0.6))
    prepared = []
    for sample in samples:
        context, answer = context_of(sample), text(sample.output)
        passages = [p.strip() for p in re.split(r"\n\s*\n|\n(?=\[\d+\])", context) if p.strip()]
        prepared.append((context, passages, _sentences(answer)))
    similar: dict[int, list[float]] = {}
    if ctx is not None:
        batch = [s for _, p, sentences in prepared if p and sentences for s in [*sentences, *p]]
        if batch:
            vectors = iter(ctx.embed(batch, str(params.get("model", DEFAULT_EMBEDDING_MODEL))))
            for index, (_, passages, sentences) in enumerate(prepared):
                if passages and sentences:
                    sent = [next(vectors) for _ in sentences]
                    pas = [next(vectors) for _ in passages]
                    similar[index] = [max(_cos(s, p) for p in pas) for s in sent]
    order = {id(s): i for i, s in enumerate(samples)}

    def one(sample: Sample) -> Result:
        index = order[id(sample)]
        context, _, sentences = prepared[index]
        if not context:
            return Failed("no context to check against: the input has no system/context message")
        if not sentences:
            return Failed("the answer has no sentence to check")
        have = _words(context)
        unsupported = []
        for n, sentence in enumerate(sentences):
            words = _words(sentence)
            overlap = len(words & have) / len(words)
            close = similar.get(index, [0.0] * len(sentences))[n] >= threshold
            if overlap < lexical and not close:
                unsupported.append(sentence)
        score = 1 - len(unsupported) / len(sentences)
        reason = (
            "every sentence is supported by the context"
            if not unsupported
            else ("not supported by the context: " + " | ".join(u[:200] for u in unsupported[:5]))
        )
        return Judged({"groundedness": score}, reason)

    return each(samples, False, one)


def _cos(a: Sequence[float], b: Sequence[float]) -> float:
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return sum(x * y for x, y in zip(a, b, strict=True)) / norm if norm else 0.0


GROUNDEDNESS = Evaluator(
    "groundedness",
    "Share of the answer's sentences that the retrieved context supports (words or embeddings).",
    ("groundedness",),
    False,
    groundedness,
    {
        "threshold": "cosine to a passage that counts as support (default 0.6)",
        "lexical": "share of a sentence's content words found in the context that counts (default 0.6)",
        "model": f"embedding model (default {DEFAULT_EMBEDDING_MODEL})",
    },
)
