"""How an example becomes tokens: the loss covers the answer only; long examples fail or are cut if asked."""

import pytest

from keel.finetune.train import TooLong, encode
from keel.local.runtime import installed

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not installed(), reason="the `local` extra is not installed"),
]


@pytest.fixture(scope="module")
def tokenizer():  # type: ignore[no-untyped-def]
    from transformers import AutoTokenizer

    from keel.local.chat_model import converted_dir
    from keel.local.settings import LocalSettings

    return AutoTokenizer.from_pretrained(converted_dir(LocalSettings().cache_dir))


EXAMPLE = {
    "key": "k1",
    "messages": [{"role": "user", "content": "Where is my parcel?"}],
    "answer": "shipping",
}


def test_only_the_answer_is_learned(tokenizer) -> None:  # type: ignore[no-untyped-def]
    row = encode(tokenizer, EXAMPLE, 512, truncate=False)
    learned = [t for t, label in zip(row["input_ids"], row["labels"], strict=True) if label != -100]
    assert tokenizer.decode(learned).strip() == "shipping<|im_end|>"
    assert len(row["attention_mask"]) == len(row["input_ids"]) == len(row["labels"])


def test_long_examples_fail_or_are_cut(tokenizer) -> None:  # type: ignore[no-untyped-def]
    full = len(encode(tokenizer, EXAMPLE, 512, truncate=False)["input_ids"])
    with pytest.raises(TooLong, match=f"item k1: {full} tokens"):
        encode(tokenizer, EXAMPLE, full - 1, truncate=False)
    cut = encode(tokenizer, EXAMPLE, full - 1, truncate=True)
    assert len(cut["input_ids"]) == full - 1
    assert cut["labels"][-1] != -100  # some of the answer is still learned
    with pytest.raises(TooLong):  # the prompt alone does not fit: nothing left to learn
        encode(tokenizer, EXAMPLE, 8, truncate=True)
