"""Evaluators score what the field's libraries score, and say why when they cannot."""

import math

import pytest
import sacrebleu
from rouge_score import rouge_scorer

from keel.evals import gate, stats
from keel.evals.evaluators import BUILTIN
from keel.evals.evaluators.base import Failed, Sample
from keel.evals.evaluators.model_based import parse_verdict
from keel.evals.evaluators.text_overlap import corpus_bleu

BY_NAME = {e.name: e for e in BUILTIN}
PAIRS = [
    ("The cat sat on the mat.", "A cat was sitting on the mat."),
    ("Paris is the capital of France.", "The capital of France is Paris."),
    ("Running quickly, the dogs jumped.", "The dog runs and jumps quickly."),
]


def score(name: str, samples: list[Sample], **params: object) -> list[object]:
    return BY_NAME[name].score(samples, dict(params), None)


def test_rouge_bleu_chrf_equal_the_libraries() -> None:
    samples = [Sample("x", out, ref) for out, ref in PAIRS]
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    for (out, ref), result in zip(PAIRS, score("rouge", samples), strict=True):
        expected = scorer.score(ref, out)
        assert result == {k: expected[k].fmeasure for k in ("rouge1", "rouge2", "rougeL")}
    for (out, ref), result in zip(PAIRS, score("bleu", samples), strict=True):
        assert result == {"sentence_bleu": sacrebleu.sentence_bleu(out, [ref]).score}
    for (out, ref), result in zip(PAIRS, score("chrf", samples), strict=True):
        assert result == {"chrf": sacrebleu.sentence_chrf(out, [ref]).score}
    multi = score("rouge", [Sample("x", PAIRS[0][0], [PAIRS[0][1], PAIRS[0][0]])])[0]
    assert multi == {"rouge1": 1.0, "rouge2": 1.0, "rougeL": 1.0}


def test_an_experiments_bleu_is_corpus_bleu_not_the_mean_of_sentences() -> None:
    outputs, references = [o for o, _ in PAIRS], [r for _, r in PAIRS]
    corpus = corpus_bleu(outputs, references)
    assert corpus["mean"] == sacrebleu.corpus_bleu(outputs, [references]).score
    sentences = [sacrebleu.sentence_bleu(o, [r]).score for o, r in PAIRS]
    assert corpus["mean"] != pytest.approx(sum(sentences) / len(sentences))
    assert corpus["n"] == 3
    low, high = corpus["ci"]
    assert 0 <= low <= high <= 100
    two_refs = corpus_bleu(outputs[:2], [[references[0], outputs[0]], references[1]])
    padded = [[references[0], references[1]], [outputs[0], references[1]]]
    assert two_refs["mean"] == sacrebleu.corpus_bleu(outputs[:2], padded).score
    assert corpus_bleu([], []) == {"mean": None, "ci": [None, None], "n": 0}


def test_string_and_structure_checks() -> None:
    assert score("exact_match", [Sample("q", " Paris ", "Paris"), Sample("q", "paris", "Paris")]) == [
        {"exact_match": 1.0},
        {"exact_match": 0.0},
    ]
    assert score("exact_match", [Sample("q", "paris", "Paris")], ignore_case=True) == [{"exact_match": 1.0}]
    assert score("contains", [Sample("q", "It is Paris.", "paris")], ignore_case=True) == [{"contains": 1.0}]
    assert score("regex", [Sample("q", "order #123", None)], pattern=r"#\d+") == [{"regex": 1.0}]
    assert score("json_valid", [Sample("q", '{"a": 1}'), Sample("q", "{oops")]) == [
        {"json_valid": 1.0},
        {"json_valid": 0.0},
    ]
    schema = {"type": "object", "required": ["answer"], "properties": {"answer": {"type": "integer"}}}
    assert score(
        "json_schema", [Sample("q", '{"answer": 4}'), Sample("q", '{"answer": "4"}')], schema=schema
    ) == [
        {"json_schema": 1.0},
        {"json_schema": 0.0},
    ]
    gsm = score(
        "numeric",
        [
            Sample("q", "So she has 1,200 apples. The answer is 1200", "#### 1200"),
            Sample("q", "I am not sure", "7"),
        ],
    )
    assert gsm == [{"numeric": 1.0}, {"numeric": 0.0}]


def test_what_cannot_be_scored_is_a_reason_not_a_zero() -> None:
    missing = score("rouge", [Sample("q", "text", None)])[0]
    assert isinstance(missing, Failed)
    assert "no `expected`" in missing.reason
    no_number = score("numeric", [Sample("q", "42", "unknown")])[0]
    assert isinstance(no_number, Failed)
    assert "no number" in no_number.reason
    with pytest.raises(ValueError, match="not a valid regular expression"):
        score("regex", [Sample("q", "x")], pattern="(")
    with pytest.raises(ValueError, match="not a valid JSON Schema"):
        score("json_schema", [Sample("q", "{}")], schema={"type": "nonsense"})
    with pytest.raises(ValueError, match="needs a server context"):
        score("llm_judge", [Sample("q", "x")], prompt="judge")


def test_judge_answers_are_parsed_or_refused() -> None:
    assert parse_verdict('{"score": 4, "reasoning": "close"}') == (4.0, "close")
    assert parse_verdict('```json\n{"score": 0.5, "reasoning": "half"}\n```') == (0.5, "half")
    assert parse_verdict("Reasoning: fine.\nScore: 3") == (3.0, "Reasoning: fine.\nScore: 3")
    with pytest.raises(ValueError, match="has no score"):
        parse_verdict("I like it")


def test_bootstrap_and_paired_test() -> None:
    summary = stats.summarize([1.0, 0.0, 1.0, 1.0])
    assert summary["mean"] == 0.75
    assert 0.0 <= summary["ci"][0] <= 0.75 <= summary["ci"][1] <= 1.0
    better = stats.paired([0.0] * 30 + [1.0] * 10, [1.0] * 30 + [1.0] * 10)
    assert better["verdict"] == "better"
    assert better["p_value"] < 0.001
    same = stats.paired([0.2, 0.4, 0.6, 0.8], [0.8, 0.6, 0.4, 0.2])
    assert same["verdict"] == "no difference"


def test_gate_conditions_parse_and_check() -> None:
    condition = gate.parse("rougeL < baseline - 0.02")
    summary = {"rougeL": {"mean": 0.40}}
    failed, text = condition.check(summary, {"rougeL": {"mean": 0.43}})
    assert failed
    assert "FAIL" in text
    assert not condition.check(summary, {"rougeL": {"mean": 0.41}})[0]
    assert gate.parse("exact_match >= 0.9").check({"exact_match": {"mean": 0.95}}, None)[0]
    with pytest.raises(ValueError, match="cannot read condition"):
        gate.parse("rougeL < __import__('os')")
    with pytest.raises(ValueError, match="has no scores for `bleu`"):
        gate.parse("bleu < 3").check(summary, None)


def test_retrieval_metrics() -> None:
    hits = [{"source": "a.md"}, {"source": "b.md"}, {"source": "c.md"}]
    result = score("retrieval", [Sample("q", hits, ["b.md", "z.md"])], k=3)[0]
    assert result == {
        "recall_at_k": 0.5,
        "mrr": 0.5,
        "ndcg_at_k": pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3))),
    }
    assert score("retrieval", [Sample("q", hits, "a.md")], k=1)[0] == {
        "recall_at_k": 1.0,
        "mrr": 1.0,
        "ndcg_at_k": 1.0,
    }
    assert score("retrieval", [Sample("q", ["x", "y"], "y")])[0]["mrr"] == 0.5
    assert isinstance(score("retrieval", [Sample("q", "not a list", "a")])[0], Failed)
