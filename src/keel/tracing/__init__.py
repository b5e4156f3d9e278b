"""Tracing: every LLM call and app step as OpenTelemetry spans, stored per project and rolled up per trace."""
