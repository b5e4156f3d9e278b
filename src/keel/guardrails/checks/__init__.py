"""Guardrail checks, one module per family; the guardrails plugin registers these through
`register_guardrail_checks`, as a third-party plugin would register its own."""
