"""Dataset items become chat examples, or the job is refused naming each item that cannot be trained on."""

import pytest

from keel.finetune.examples import BadExamples, to_example, to_examples

SYSTEM = {"role": "system", "content": "Be brief."}


def test_accepted_shapes() -> None:
    chat = to_example("a", [SYSTEM, {"role": "user", "content": "hi"}], "hello")
    assert chat.messages[-1] == {"role": "user", "content": "hi"}
    assert chat.answer == "hello"
    wrapped = to_example(
        "b", {"messages": [{"role": "user", "content": "hi"}]}, [{"role": "assistant", "content": "yo"}]
    )
    assert wrapped.answer == "yo"
    text = to_example("c", "What is 2+2?", {"role": "assistant", "content": "4"})
    assert text.messages == [{"role": "user", "content": "What is 2+2?"}]
    assert text.answer == "4"
    parts = to_example("d", [{"role": "developer", "content": [{"type": "text", "text": "x"}]}], "y")
    assert parts.messages == [{"role": "system", "content": "x"}]


def test_bad_items_are_listed_with_their_reason() -> None:
    rows = [
        ("ok", "question", "answer"),
        ("no-answer", "question", None),
        ("number", 42, "answer"),
        ("bad-role", [{"role": "robot", "content": "x"}], "y"),
        ("no-text", [{"role": "user"}], "y"),
    ]
    with pytest.raises(BadExamples) as caught:
        to_examples(rows)
    message = str(caught.value)
    assert message.startswith("4 of 5 items cannot be trained on")
    assert "item no-answer: expected must be the answer to learn" in message
    assert "item number: input must be a chat" in message
    assert "item bad-role: message 0 has no valid role" in message
    assert "item no-text: message 0 has no text content" in message


def test_many_bad_items_are_summarised() -> None:
    with pytest.raises(BadExamples, match=r"12 of 12 items .* \(and 7 more\)"):
        to_examples([(str(i), "q", "") for i in range(12)])


def test_training_failures_read_as_their_cause() -> None:
    import errno

    from keel.finetune.train import TooLong, reason

    assert reason(OSError(errno.ENOSPC, "No space left on device")).startswith("the disk is full:")
    assert reason(MemoryError("Cannot allocate memory")).startswith("out of memory:")
    allocator = RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 1953792")
    assert "lower batch_size or max_length" in reason(allocator)
    assert reason(TooLong("3 examples are longer")) == "3 examples are longer"
    assert reason(ValueError("bad")) == "ValueError: bad"
