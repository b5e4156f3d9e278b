"""Built-in evaluators, one module per family; plugins add more with `register_evaluators`."""

from keel.evals.evaluators.base import Evaluator
from keel.evals.evaluators.grounded import GROUNDEDNESS
from keel.evals.evaluators.matching import CONTAINS, EXACT, REGEX
from keel.evals.evaluators.model_based import EMBEDDING, JUDGE
from keel.evals.evaluators.retrieval import RETRIEVAL
from keel.evals.evaluators.structured import JSON_SCHEMA, JSON_VALID, NUMERIC
from keel.evals.evaluators.text_overlap import BLEU, CHRF, ROUGE

BUILTIN: tuple[Evaluator, ...] = (
    EXACT,
    CONTAINS,
    REGEX,
    JSON_VALID,
    JSON_SCHEMA,
    NUMERIC,
    BLEU,
    CHRF,
    ROUGE,
    EMBEDDING,
    JUDGE,
    RETRIEVAL,
    GROUNDEDNESS,
)
