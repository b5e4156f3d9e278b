"""Writes support-tickets.jsonl: short customer messages labelled billing, shipping, account or technical.

A small, deterministic instruction set for trying fine-tuning on a laptop: the bundled 135M model does not
answer with the bare label out of the box, and a LoRA of a few dozen steps learns to. 20% is split `test`.
"""

import json
import random
import sys
from pathlib import Path

SYSTEM = "Classify the support ticket. Answer with one word: billing, shipping, account or technical."
TOPICS = {
    "billing": [
        "I was charged twice for my {thing} this month.",
        "Can I get a refund for the {thing} I cancelled?",
        "Why is my invoice higher than the price of the {thing}?",
        "My card was declined when paying for the {thing}.",
        "Please send me a receipt for the {thing}.",
    ],
    "shipping": [
        "My {thing} has not arrived yet, where is it?",
        "The tracking number for my {thing} does not work.",
        "Can you deliver the {thing} to a different address?",
        "The {thing} arrived damaged in the box.",
        "How long does delivery of the {thing} take?",
    ],
    "account": [
        "I cannot log in to my account to see the {thing}.",
        "How do I change the email on my account? I bought a {thing}.",
        "Please delete my account and the {thing} history.",
        "I forgot my password and need to check my {thing}.",
        "Someone else is using my account to buy a {thing}.",
    ],
    "technical": [
        "The {thing} app crashes when I open it.",
        "My {thing} will not connect to wifi.",
        "The {thing} shows an error code E42 on start.",
        "The firmware update for my {thing} failed.",
        "The screen of the {thing} stays black after charging.",
    ],
}
THINGS = ["headphones", "laptop", "coffee maker", "phone", "smart watch", "camera", "printer", "subscription"]


def rows(seed: int = 7) -> list[dict[str, object]]:
    random.seed(seed)
    found = []
    for label, templates in TOPICS.items():
        for template in templates:
            for thing in random.sample(THINGS, 6):
                ticket = template.format(thing=thing)
                found.append(
                    {
                        "input": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": ticket}],
                        "expected": label,
                        "metadata": {"label": label},
                    }
                )
    random.shuffle(found)
    for number, row in enumerate(found):
        row["split"] = "test" if number % 5 == 0 else "train"
    return found


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "support-tickets.jsonl")
    target.write_text("".join(json.dumps(r) + "\n" for r in rows()))
    print(f"wrote {target}")
