"""Bundled local models that run offline: SmolLM2-135M-Instruct for chat, all-MiniLM-L6-v2 for embeddings."""
