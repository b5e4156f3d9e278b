"""Fine-tuning settings: where artifacts live, which folders may hold base models, training threads."""

from pydantic import BaseModel, Field


class FineTuneSettings(BaseModel):
    artifact_dir: str = Field(
        default="",
        description="Artifact store for adapters, checkpoints and exports (default: <data_dir>/artifacts).",
    )
    finetune_model_roots: str = Field(
        default="",
        description="Comma-separated folders whose Hugging Face models may be fine-tuned by path "
        "(besides the bundled local model); empty: only the bundled model.",
    )
    finetune_threads: int = Field(
        default=2,
        ge=1,
        le=256,
        description="Torch threads of a CPU training process (1-2 on small machines).",
    )
    finetune_memory_limit_mb: int = Field(
        default=0,
        ge=0,
        description="Address-space limit of a training process in MiB (0: none); past it the job fails with "
        "'out of memory' instead of the machine swapping.",
    )
