"""The training process: `python -m keel.finetune.train SPEC.json`, one per fine-tune attempt.

Training runs in its own process so that cancelling is a signal, an out-of-memory kill or a crash takes only
this process down, and the server keeps serving. It speaks JSON lines on stdout (`start`, `step`, `eval`,
`checkpoint`, `done`, `error`) and writes library logs to stderr; the job handler turns both into metrics,
progress and logs. transformers' `Trainer` with a PEFT LoRA model does the training; checkpoints go to
`<run dir>/checkpoints` and a new attempt resumes from the last one.
"""

import json
import math
import os
import platform
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import Any


def emit(event: str, **fields: Any) -> None:
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


class TooLong(ValueError):
    pass


def encode(tokenizer: Any, example: dict[str, Any], max_length: int, truncate: bool) -> dict[str, list[int]]:
    """Prompt tokens are masked out of the loss: the model learns the answer, not the question."""
    prompt = tokenizer.apply_chat_template(example["messages"], add_generation_prompt=True, tokenize=False)
    full = tokenizer.apply_chat_template(
        [*example["messages"], {"role": "assistant", "content": example["answer"]}], tokenize=False
    )
    if not full.startswith(prompt):
        full = prompt + example["answer"] + (tokenizer.eos_token or "")
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    ids = tokenizer(full, add_special_tokens=False)["input_ids"]
    if len(ids) > max_length:
        if not truncate or len(prompt_ids) >= max_length:
            raise TooLong(f"item {example['key']}: {len(ids)} tokens")
        ids = ids[:max_length]
    labels = [-100] * len(prompt_ids) + ids[len(prompt_ids) :]
    return {"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels}


def load_examples(path: str | None) -> list[dict[str, Any]]:
    if not path:
        return []
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def encode_all(
    tokenizer: Any, examples: list[dict[str, Any]], params: dict[str, Any]
) -> list[dict[str, Any]]:
    encoded, too_long = [], []
    for example in examples:
        try:
            encoded.append(encode(tokenizer, example, params["max_length"], params["truncate"]))
        except TooLong as exc:
            too_long.append(str(exc))
    if too_long:
        raise TooLong(
            f"{len(too_long)} examples are longer than max_length {params['max_length']} "
            f"({'; '.join(too_long[:5])}); raise max_length or set truncate: true"
        )
    return encoded


def system_info(torch: Any, device: str) -> dict[str, Any]:
    import peft
    import transformers

    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "peft": peft.__version__,
        "device": device,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
    }
    if device == "cuda":
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build_model(spec: dict[str, Any], torch: Any, device: str) -> Any:
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training
    from transformers import AutoModelForCausalLM

    params = spec["params"]
    options: dict[str, Any] = {"dtype": torch.float32 if device == "cpu" else torch.bfloat16}
    if spec["method"] == "qlora":
        from transformers import BitsAndBytesConfig

        options["quantization_config"] = BitsAndBytesConfig(  # type: ignore[no-untyped-call]
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16
        )
    model = AutoModelForCausalLM.from_pretrained(spec["base_model_dir"], **options)
    if spec["method"] == "qlora":
        model = prepare_model_for_kbit_training(model)  # type: ignore[no-untyped-call]
    config = LoraConfig(
        r=params["r"],
        lora_alpha=params["alpha"],
        lora_dropout=params["dropout"],
        target_modules=params["target_modules"],
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)


def make_callback(spec: dict[str, Any]) -> Any:
    from transformers import TrainerCallback

    class Reporter(TrainerCallback):
        def __init__(self) -> None:
            self.last = (time.perf_counter(), 0)
            self.nan_step: int | None = None

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
            logs = dict(logs or {})
            now, tokens = time.perf_counter(), int(getattr(state, "num_input_tokens_seen", 0) or 0)
            if "eval_loss" in logs:
                emit("eval", step=state.global_step, eval_loss=logs["eval_loss"])
                return
            if "loss" not in logs:
                return
            seconds = now - self.last[0]
            rate = (tokens - self.last[1]) / seconds if seconds > 0 and tokens else None
            self.last = (now, tokens)
            loss = float(logs["loss"])
            emit(
                "step",
                step=state.global_step,
                max_steps=state.max_steps,
                epoch=logs.get("epoch"),
                loss=loss,
                lr=logs.get("learning_rate"),
                grad_norm=logs.get("grad_norm"),
                tokens_per_s=rate,
                seconds_per_step=seconds / max(1, args.logging_steps),
                rss_mb=peak_rss_mb(),
            )
            grad_norm = logs.get("grad_norm")
            if not math.isfinite(loss) or (grad_norm is not None and not math.isfinite(grad_norm)):
                self.nan_step = state.global_step
                control.should_training_stop = True
                control.should_save = False

        def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            emit("checkpoint", step=state.global_step)

    return Reporter()


def train(spec: dict[str, Any]) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoTokenizer, DataCollatorForSeq2Seq, Trainer, TrainingArguments

    params = spec["params"]
    torch.set_num_threads(spec["threads"])
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if spec["method"] == "qlora" and device != "cuda":
        raise RuntimeError(
            "QLoRA needs a CUDA GPU and bitsandbytes; this machine has no GPU (use method: lora)"
        )
    tokenizer = AutoTokenizer.from_pretrained(spec["base_model_dir"])
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    train_set = encode_all(tokenizer, load_examples(spec["train_file"]), params)
    eval_set = encode_all(tokenizer, load_examples(spec.get("eval_file")), params)
    model = build_model(spec, torch, device)
    trainable, total = model.get_nb_trainable_parameters()
    run_dir = Path(spec["output_dir"])
    checkpoints = run_dir / "checkpoints"
    for partial in checkpoints.glob("checkpoint-*"):  # a stop during a save leaves one without its state
        if not (partial / "trainer_state.json").exists():
            shutil.rmtree(partial)
    resume = any(checkpoints.glob("checkpoint-*"))
    emit(
        "start",
        system=system_info(torch, device),
        trainable_params=trainable,
        total_params=total,
        train_examples=len(train_set),
        eval_examples=len(eval_set),
        resumed=resume,
    )
    args = TrainingArguments(
        output_dir=str(checkpoints),
        per_device_train_batch_size=params["batch_size"],
        per_device_eval_batch_size=params["batch_size"],
        gradient_accumulation_steps=params["gradient_accumulation_steps"],
        learning_rate=params["lr"],
        num_train_epochs=params["epochs"],
        max_steps=params["max_steps"] or -1,
        warmup_steps=params["warmup_steps"],
        weight_decay=params["weight_decay"],
        lr_scheduler_type=params["lr_scheduler"],
        logging_steps=1,
        logging_nan_inf_filter=False,
        eval_strategy="steps" if eval_set else "no",
        eval_steps=params["eval_steps"],
        save_strategy="steps",
        save_steps=params["save_steps"],
        save_total_limit=2,
        seed=spec["seed"],
        data_seed=spec["seed"],
        report_to=[],
        disable_tqdm=True,
        use_cpu=device == "cpu",
        dataloader_num_workers=0,
        remove_unused_columns=False,
        include_num_input_tokens_seen=True,
    )
    reporter = make_callback(spec)
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=train_set,
        eval_dataset=eval_set or None,
        data_collator=DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100),
        callbacks=[reporter],
    )
    if eval_set and not resume:
        trainer.evaluate()  # the base model's eval loss, reported as step 0 by the callback
    started = time.perf_counter()
    output = trainer.train(resume_from_checkpoint=True if resume else None)
    if reporter.nan_step is not None:
        raise FloatingPointError(
            f"the loss or its gradient became NaN or infinite at step {reporter.nan_step}; lower lr "
            f"(was {params['lr']}) or check the data"
        )
    metrics: dict[str, Any] = {
        "train_loss": output.training_loss,
        "steps": output.global_step,
        "train_seconds": round(time.perf_counter() - started, 2),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
    if eval_set:
        metrics["eval_loss"] = trainer.evaluate()["eval_loss"]
    adapter_dir = run_dir / "adapter"
    model.save_pretrained(str(adapter_dir))
    tokenizer.save_pretrained(str(adapter_dir))
    emit("done", adapter_dir=str(adapter_dir), metrics=metrics)


def reason(exc: BaseException) -> str:
    import errno

    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return f"the disk is full: {exc}"
    if isinstance(exc, MemoryError) or "out of memory" in str(exc).lower() or "can't allocate" in str(exc):
        return f"out of memory: {exc}; lower batch_size or max_length"
    return f"{type(exc).__name__}: {exc}" if not isinstance(exc, TooLong | FloatingPointError) else str(exc)


def main() -> int:
    spec = json.loads(Path(sys.argv[1]).read_text())
    if limit := int(spec.get("memory_limit_mb") or 0) * 1024 * 1024:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))  # past it: MemoryError, reported as such
    try:
        train(spec)
    except BaseException as exc:  # every failure leaves the process as one `error` line with its reason
        if isinstance(exc, KeyboardInterrupt):
            raise
        emit("error", reason=reason(exc))
        import traceback

        traceback.print_exc()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
