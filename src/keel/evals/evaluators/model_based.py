"""Embedding cosine similarity (the local embedding model by default) and LLM-as-judge.

The judge's rubric is a prompt from the registry (`params.prompt`, e.g. `judge@production`) rendered with the
variables `input`, `output` and `expected`; its calls go through the gateway, so they are traced and priced
like any other. The judge must answer JSON `{"score": <number>, "reasoning": "..."}` (a bare `Score: N` line
is accepted too); anything else is a per-item failure with the judge's words, never a 0.
"""

import json
import math
import re
from collections.abc import Sequence
from typing import Any

from keel.evals.evaluators.base import EvalContext, Evaluator, Failed, Judged, Result, Sample, each, text

DEFAULT_EMBEDDING_MODEL = "local/all-minilm-l6-v2"
_SCORE_LINE = re.compile(r"score\s*[:=]\s*(-?\d+(?:\.\d+)?)", re.IGNORECASE)


def _context(ctx: EvalContext | None, name: str) -> EvalContext:
    if ctx is None:
        raise ValueError(f"{name} needs a server context (run it in an experiment)")
    return ctx


def cosine(samples: Sequence[Sample], params: dict[str, Any], ctx: EvalContext | None) -> list[Result]:
    context = _context(ctx, "embedding_similarity")
    scorable = [s for s in samples if s.expected not in (None, "")]
    vectors = (
        context.embed(
            [text(s.output) for s in scorable] + [text(s.expected) for s in scorable],
            str(params.get("model", DEFAULT_EMBEDDING_MODEL)),
        )
        if scorable
        else []
    )
    half = len(scorable)
    by_sample = {id(s): (vectors[i], vectors[half + i]) for i, s in enumerate(scorable)}

    def one(sample: Sample) -> Result:
        a, b = by_sample[id(sample)]
        norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
        return {"embedding_similarity": sum(x * y for x, y in zip(a, b, strict=True)) / norm if norm else 0.0}

    return each(samples, True, one)


def parse_verdict(answer: str) -> tuple[float, str]:
    """The judge's score and reasoning; ValueError (with the answer) when there is no score to read."""
    stripped = answer.strip()
    if stripped.startswith("```"):
        stripped = stripped.strip("`").removeprefix("json").strip()
    try:
        verdict = json.loads(stripped)
        if isinstance(verdict, dict) and isinstance(verdict.get("score"), int | float):
            return float(verdict["score"]), str(verdict.get("reasoning", ""))
    except json.JSONDecodeError:
        pass
    match = _SCORE_LINE.search(answer)
    if match:
        return float(match.group(1)), answer.strip()
    raise ValueError(f"the judge's answer has no score: {answer[:200]!r}")


def judge(samples: Sequence[Sample], params: dict[str, Any], ctx: EvalContext | None) -> list[Result]:
    context = _context(ctx, "llm_judge")
    ref = params.get("prompt")
    if not isinstance(ref, str):
        raise ValueError(
            "llm_judge needs params.prompt: a rubric prompt from the registry, e.g. judge@production"
        )
    rubric = context.prompt(ref)
    scale = float(params.get("scale", 1.0))

    def one(sample: Sample) -> Result:
        values = {"input": sample.input, "output": text(sample.output), "expected": text(sample.expected)}
        body = {**rubric.chat_kwargs(**values)}
        if params.get("model"):
            body["model"] = params["model"]
        if not body.get("model"):
            raise ValueError(f"the rubric prompt {ref} names no model; set params.model")
        try:
            score, reasoning = parse_verdict(context.chat(body))
        except ValueError as exc:
            return Failed(str(exc))
        return Judged({"llm_judge": score / scale}, reasoning)

    return each(samples, False, one)


EMBEDDING = Evaluator(
    "embedding_similarity",
    "Cosine similarity of output and `expected` embeddings.",
    ("embedding_similarity",),
    True,
    cosine,
    {"model": f"embedding model (default {DEFAULT_EMBEDDING_MODEL})"},
)
JUDGE = Evaluator(
    "llm_judge",
    "A model grades the output with a rubric prompt from the registry.",
    ("llm_judge",),
    False,
    judge,
    {
        "prompt": "rubric prompt ref (variables: input, output, expected)",
        "model": "judge model",
        "scale": "divide the score by this",
    },
)
