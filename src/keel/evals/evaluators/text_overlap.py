"""BLEU and chrF (sacrebleu) and ROUGE-1/2/L (rouge-score), computed by those libraries and on their scales.

BLEU and chrF are 0–100 as sacrebleu reports them; ROUGE is the F-measure in 0–1 as rouge-score reports it,
with Porter stemming by default (`params.use_stemmer`). `expected` may be a list of references.
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
        lambda s: {"bleu": sacrebleu.sentence_bleu(text(s.output), _references(s.expected)).score},
    )


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


BLEU = Evaluator("bleu", "Sentence BLEU (sacrebleu, 0–100).", ("bleu",), True, bleu)
CHRF = Evaluator("chrf", "Sentence chrF (sacrebleu, 0–100).", ("chrf",), True, chrf)
ROUGE = Evaluator(
    "rouge",
    "ROUGE-1, ROUGE-2 and ROUGE-L F-measure (rouge-score, 0–1).",
    ROUGE_TYPES,
    True,
    rouge,
    {"use_stemmer": "Porter stemming (default true)"},
)
