"""Online evaluation rules: CRUD, and the scanner's reads and cursor updates."""

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from keel.core.auth import Principal, Role
from keel.core.errors import InvalidInput
from keel.core.ids import new_id
from keel.db.named import add_unique, by_name
from keel.evals.models import OnlineRule
from keel.evals.schemas import OnlineRuleIn
from keel.tracing.schemas import TraceQuery

FILTER_KEYS = ("name", "model", "route", "prompt_version", "status", "tag", "user", "session")


def check_filter(filter_: dict[str, object]) -> TraceQuery:
    unknown = set(filter_) - set(FILTER_KEYS)
    if unknown:
        raise InvalidInput(f"unknown filter(s) {', '.join(sorted(unknown))}; use {', '.join(FILTER_KEYS)}")
    try:
        return TraceQuery.model_validate(filter_)
    except ValueError as exc:
        raise InvalidInput(f"invalid filter: {exc}") from None


def create_rule(session: Session, principal: Principal, data: OnlineRuleIn, start_ns: int) -> OnlineRule:
    """A new rule evaluates traces that change from now on (`start_ns`), not the whole history."""
    principal.require(Role.member)
    check_filter(data.filter)
    rule = OnlineRule(
        id=new_id("oer"),
        project_id=principal.project_id,
        name=data.name,
        filter=data.filter,
        sample_rate=data.sample_rate,
        evaluators=[e.model_dump() for e in data.evaluators],
        enabled=data.enabled,
        cursor_ns=start_ns,
        author=principal.key_id,
    )
    return add_unique(session, rule, f"an online evaluation rule named {data.name!r} already exists")


def list_rules(session: Session, principal: Principal) -> list[OnlineRule]:
    query = select(OnlineRule).where(OnlineRule.project_id == principal.project_id)
    return list(session.scalars(query.order_by(OnlineRule.name)))


def get_rule(session: Session, principal: Principal, name: str) -> OnlineRule:
    return by_name(session, OnlineRule, principal.project_id, name, "online evaluation rule")


def set_enabled(session: Session, principal: Principal, name: str, enabled: bool) -> OnlineRule:
    principal.require(Role.member)
    rule = get_rule(session, principal, name)
    rule.enabled = enabled
    session.commit()
    return rule


def delete_rule(session: Session, principal: Principal, name: str) -> None:
    principal.require(Role.member)
    session.delete(get_rule(session, principal, name))
    session.commit()


def rule_by_id(session: Session, rule_id: str) -> OnlineRule | None:
    return session.get(OnlineRule, rule_id)


def enabled_rules(session: Session) -> list[OnlineRule]:
    return list(
        session.scalars(select(OnlineRule).where(OnlineRule.enabled.is_(True)).order_by(OnlineRule.id))
    )


def advance(session: Session, rule_id: str, cursor_ns: int, evaluated: int) -> None:
    session.execute(
        update(OnlineRule)
        .where(OnlineRule.id == rule_id)
        .values(cursor_ns=cursor_ns, evaluated=OnlineRule.evaluated + evaluated)
    )
