"""Built-in plugin: the guardrail checks and the guardrails API."""

from keel.plugins.hookspecs import Register, hookimpl


@hookimpl
def register_guardrail_checks(register: Register) -> None:
    from keel.guardrails.checks import pii, secrets, text

    for check in (pii.PII(), secrets.Secrets(), *text.BUILT_IN):
        register(check.name, check)


@hookimpl
def register_routers(register: Register) -> None:
    from keel.guardrails.routes import router

    register(router)


@hookimpl
def register_apply_sections(register: Register) -> None:
    from keel.guardrails.apply import SECTION

    register(SECTION.name, SECTION)
