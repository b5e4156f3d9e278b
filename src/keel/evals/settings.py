"""Evaluation settings."""

from pydantic import BaseModel, Field


class EvalSettings(BaseModel):
    online_eval_seconds: float = Field(
        default=10.0, gt=0, description="How often online evaluation rules look for new production traces."
    )
