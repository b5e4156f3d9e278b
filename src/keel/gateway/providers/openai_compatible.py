"""Any OpenAI-compatible upstream: OpenAI itself, vLLM, llama.cpp's server, Ollama, LM Studio, Together, …"""

from keel.gateway.providers.base import ProviderKind

KIND = ProviderKind(
    name="openai",
    description="OpenAI or any OpenAI-compatible server (vLLM, llama.cpp server, Ollama, …)",
    default_base_url="https://api.openai.com/v1",
    needs_base_url=False,
)
