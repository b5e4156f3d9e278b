"""JSON Schema documents checked once and compiled into a validator (the evaluators and the guardrails)."""

from typing import Any


def compile_schema(schema: Any) -> Any:
    """A validator for `schema` in the draft it names; ValueError saying what is wrong when it is not one."""
    import jsonschema

    if not isinstance(schema, dict):
        raise ValueError("a JSON Schema object is needed")
    validator = jsonschema.validators.validator_for(schema)
    try:
        validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise ValueError(f"not a valid JSON Schema: {exc.message}") from None
    return validator(schema)
