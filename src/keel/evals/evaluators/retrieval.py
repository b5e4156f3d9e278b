"""Retrieval quality: recall@k, MRR and nDCG@k of a ranked list of hits against the relevant ids.

The output is what a `retrieval` task returns (hits with `source`, `document_id`, `chunk_id`) or a plain list
of ids; `expected` is the relevant id or ids. `params.key` picks what to match (`source` by default, or
`document_id`/`chunk_id`), `params.k` the cut-off (default: every hit returned). Relevance is binary.
"""

import math
from collections.abc import Sequence
from typing import Any

from keel.evals.evaluators.base import EvalContext, Evaluator, Result, Sample, each


def _ranked(output: Any, key: str) -> list[str]:
    if not isinstance(output, list):
        raise ValueError("the output is not a ranked list of hits")
    return [str(hit.get(key)) if isinstance(hit, dict) else str(hit) for hit in output]


def retrieval(samples: Sequence[Sample], params: dict[str, Any], ctx: EvalContext | None) -> list[Result]:
    key = str(params.get("key", "source"))
    cutoff = params.get("k")

    def one(sample: Sample) -> Result:
        relevant = {
            str(r) for r in (sample.expected if isinstance(sample.expected, list) else [sample.expected])
        }
        ranked = _ranked(sample.output, key)
        k = int(cutoff) if cutoff is not None else len(ranked)
        top = ranked[:k]
        found = [i for i, item in enumerate(top) if item in relevant]
        dcg = sum(1 / math.log2(i + 2) for i in found)
        ideal = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), k)))
        return {
            "recall_at_k": len({top[i] for i in found}) / len(relevant),
            "mrr": 1 / (found[0] + 1) if found else 0.0,
            "ndcg_at_k": dcg / ideal if ideal else 0.0,
        }

    return each(samples, True, one)


RETRIEVAL = Evaluator(
    "retrieval",
    "recall@k, MRR and nDCG@k of retrieved hits against the relevant ids in `expected`.",
    ("recall_at_k", "mrr", "ndcg_at_k"),
    True,
    retrieval,
    {"key": "source (default), document_id or chunk_id", "k": "cut-off (default: all hits)"},
)
