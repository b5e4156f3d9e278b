"""Guardrail policies: create or replace by name, list, read, delete (refused while a route applies it).

Every rule's check and parameters are validated when the policy is saved, so a policy in the store always
runs; a write publishes `gateway.config`, so routes that apply the policy use the new rules at once.
"""

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keel.core.auth import Principal, Role
from keel.core.clock import utcnow
from keel.core.errors import Conflict, InvalidInput, NotFound
from keel.core.ids import new_id
from keel.db.changes import record
from keel.guardrails import engine
from keel.guardrails.models import GuardrailPolicy
from keel.guardrails.schemas import PolicyIn

GATEWAY_CONFIG = "gateway.config"  # the gateway's views hold the prepared policies
RESERVED = frozenset({"check", "checks"})  # paths of the guardrails API


def validate(data: PolicyIn, checks: Any) -> None:
    if data.name in RESERVED:
        raise InvalidInput(f"a policy may not be named {data.name!r}", param="name")
    for stage in ("input", "output"):
        rules = [rule.model_dump() for rule in getattr(data, stage)]
        engine.plan(rules, checks, where=stage, name_field="check")
    for index, rule in enumerate(data.input):
        if rule.action == "retry":
            raise InvalidInput(
                "retry applies to output rules (the model is asked again)", param=f"input[{index}].action"
            )


def save_policy(session: Session, principal: Principal, data: PolicyIn, checks: Any) -> GuardrailPolicy:
    principal.require(Role.admin)
    validate(data, checks)
    policy = session.scalar(
        select(GuardrailPolicy).where(
            GuardrailPolicy.project_id == principal.project_id, GuardrailPolicy.name == data.name
        )
    )
    if policy is None:
        policy = GuardrailPolicy(id=new_id("grd"), project_id=principal.project_id, name=data.name)
        session.add(policy)
    policy.description, policy.refusal = data.description, data.refusal
    policy.rules = {stage: [r.model_dump() for r in getattr(data, stage)] for stage in ("input", "output")}
    policy.updated_at = utcnow()
    record(session, GATEWAY_CONFIG, principal.project_id)
    session.commit()
    return policy


def list_policies(session: Session, principal: Principal) -> list[GuardrailPolicy]:
    query = select(GuardrailPolicy).where(GuardrailPolicy.project_id == principal.project_id)
    return list(session.scalars(query.order_by(GuardrailPolicy.name)))


def get_policy(session: Session, principal: Principal, name: str) -> GuardrailPolicy:
    policy = session.scalar(
        select(GuardrailPolicy).where(
            GuardrailPolicy.project_id == principal.project_id, GuardrailPolicy.name == name
        )
    )
    if policy is None:
        raise NotFound(f"guardrail policy {name!r} not found")
    return policy


def exists(session: Session, project_id: str, name: str) -> bool:
    query = select(GuardrailPolicy.id).where(
        GuardrailPolicy.project_id == project_id, GuardrailPolicy.name == name
    )
    return session.scalar(query) is not None


def project_policies(session: Session, project_id: str) -> list[GuardrailPolicy]:
    return list(session.scalars(select(GuardrailPolicy).where(GuardrailPolicy.project_id == project_id)))


def delete_policy(session: Session, principal: Principal, name: str) -> None:
    principal.require(Role.admin)
    session.delete(get_policy(session, principal, name))
    record(session, GATEWAY_CONFIG, principal.project_id)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"guardrail policy {name!r} is applied by a route; detach it first") from None
