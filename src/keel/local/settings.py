"""Local model settings: whether to serve them, where converted weights are cached, how many threads."""

from pathlib import Path

from pydantic import BaseModel, Field


class LocalSettings(BaseModel):
    local_models: bool = Field(
        default=True, description="Serve the bundled local models (needs the `local` extra installed)."
    )
    local_preload: bool = Field(
        default=True, description="Load the local models in the background when the server starts."
    )
    local_threads: int = Field(
        default=1, ge=1, le=64, description="Torch threads for local inference (1-2 on small machines)."
    )
    cache_dir: Path = Field(
        default=Path.home() / ".cache" / "keel",
        description="Machine-wide cache shared by every data dir; holds the local chat model converted from "
        "GGUF once (about 520 MB).",
    )
