"""The gateway: one OpenAI-compatible endpoint in front of every provider, with routes and budgets."""
