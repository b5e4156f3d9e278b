"""Fine-tuning (LoRA/QLoRA jobs with tracked metrics) and the model registry that serves their results."""
