"""The baseline for bench_finetune: the LoRA loop a user would write with PEFT and torch alone.

`python benchmarks/plain_peft.py SPEC.json` trains with the same model, examples, tokenisation, LoRA settings,
batches, optimiser (AdamW), linear schedule and seed as Keel's training process, and prints one JSON line.
"""

import json
import resource
import sys
import time
from pathlib import Path

import torch
from peft import LoraConfig, get_peft_model
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    DataCollatorForSeq2Seq,
    get_linear_schedule_with_warmup,
)

from keel.finetune.train import encode_all, load_examples


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    params = spec["params"]
    torch.manual_seed(spec["seed"])
    torch.set_num_threads(spec["threads"])
    tokenizer = AutoTokenizer.from_pretrained(spec["base_model_dir"])
    rows = encode_all(tokenizer, load_examples(spec["train_file"]), params)
    model = AutoModelForCausalLM.from_pretrained(spec["base_model_dir"], dtype=torch.float32)
    config = LoraConfig(
        r=params["r"],
        lora_alpha=params["alpha"],
        lora_dropout=params["dropout"],
        target_modules=params["target_modules"],
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(model, config)
    model.train()
    collate = DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100)
    generator = torch.Generator().manual_seed(spec["seed"])
    loader = torch.utils.data.DataLoader(
        rows, batch_size=params["batch_size"], shuffle=True, collate_fn=collate, generator=generator
    )
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=params["lr"], weight_decay=0.0
    )
    schedule = get_linear_schedule_with_warmup(optimizer, 0, params["max_steps"])
    step, times, losses = 0, [], []
    while step < params["max_steps"]:
        for batch in loader:
            started = time.perf_counter()
            loss = model(**batch).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            times.append(time.perf_counter() - started)
            losses.append(float(loss))
            step += 1
            if step >= params["max_steps"]:
                break
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"step_seconds": times, "losses": losses, "peak_rss_mb": peak}))


if __name__ == "__main__":
    main()
