"""BLEU and chrF (sacrebleu) and ROUGE-1/2/L (rouge-score), computed by those libraries and on their scales.

BLEU and chrF are 0–100 as sacrebleu reports them; ROUGE is the F-measure in 0–1 as rouge-score reports it,
with Porter stemming by default (`params.use_stemmer`). `expected` may be a list of references.

BLEU per item is `sentence_bleu`; an experiment's `bleu` is corpus BLEU over all its items (n-gram counts
summed before the brevity penalty and the geometric mean, as papers and sacrebleu report it), which is not
the mean of the sentence scores.
"""

from collections.abc import Sequence
from typing import Any

from keel.evals.evaluators.base import EvalContext, Evaluator, Result, Sample, each, text

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")


def _references(expected: Any) -> list[str]:
    return (
        [text(r) for r in expected]
        if isinstance(expected, list) and all(isinstance(r, str) for r in expected)
        else [text(expected)]
    )


def bleu(samples: Sequence[Sample], params: dict[str, Any], ctx: EvalContext | None) -> list[Result]:
    import sacrebleu  # imported on use: these libraries take seconds to import, the CLI should not pay it

    return each(
        samples,
        True,
        lambda s: {"sentence_bleu": sacrebleu.sentence_bleu(text(s.output), _references(s.expected)).score},
    )


def corpus_bleu(outputs: Sequence[Any], expected: Sequence[Any], resamples: int = 1000) -> dict[str, Any]:
    """sacrebleu's corpus BLEU with its 95% bootstrap interval, in the shape of a summary entry."""
    from sacrebleu.metrics.bleu import BLEU

    if not outputs:
        return {"mean": None, "ci": [None, None], "n": 0}
    references = [_references(e) for e in expected]
    width = max(len(r) for r in references)
    # sacrebleu wants reference streams of equal length; repeating a reference changes neither the clipped
    # n-gram counts (a max over references) nor the closest reference length.
    streams = [[r[i] if i < len(r) else r[0] for r in references] for i in range(width)]
    hypotheses = [text(o) for o in outputs]
    point = BLEU().corpus_score(hypotheses, streams).score
    if len(outputs) == 1:
        return {"mean": point, "ci": [point, point], "n": 1}
    spread = BLEU().corpus_score(hypotheses, streams, n_bootstrap=resamples)
    centre, half = float(spread._mean), float(spread._ci)
    return {"mean": point, "ci": [centre - half, centre + half], "n": len(outputs)}


def chrf(samples: Sequence[Sample], params: dict[str, Any], ctx: EvalContext | None) -> list[Result]:
    import sacrebleu

    return each(
        samples,
        True,
        lambda s: {"chrf": sacrebleu.sentence_chrf(text(s.output), _references(s.expected)).score},
    )


def rouge(samples: Sequence[Sample], params: dict[str, Any], ctx: EvalContext | None) -> list[Result]:
    from rouge_score import rouge_scorer  # pulls in nltk and scipy (~1.6 s)

    scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=bool(params.get("use_stemmer", True)))

    def one(sample: Sample) -> Result:
        references = _references(sample.expected)
        found = (
            scorer.score(references[0], text(sample.output))
            if len(references) == 1
            else scorer.score_multi(references, text(sample.output))
        )
        return {name: found[name].fmeasure for name in ROUGE_TYPES}

    return each(samples, True, one)


BLEU = Evaluator(
    "bleu",
    "BLEU (sacrebleu, 0–100): `sentence_bleu` per item, corpus BLEU as the experiment's `bleu`.",
    ("sentence_bleu",),
    True,
    bleu,
)
CHRF = Evaluator("chrf", "Sentence chrF (sacrebleu, 0–100).", ("chrf",), True, chrf)
ROUGE = Evaluator(
    "rouge",
    "ROUGE-1, ROUGE-2 and ROUGE-L F-measure (rouge-score, 0–1).",
    ROUGE_TYPES,
    True,
    rouge,
    {"use_stemmer": "Porter stemming (default true)"},
)
