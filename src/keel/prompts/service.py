"""The prompt registry: push versions, resolve `name`, `name@version` and `name@label`, move labels, diff.

A push takes the next version number with `UPDATE prompts SET latest_version = latest_version + 1 ...
RETURNING` as the first statement of its transaction: that statement takes the write lock (SQLite) or the row
lock (PostgreSQL), so concurrent pushes queue and get distinct numbers, and a failed push rolls back whole.
"""

import difflib
import hashlib
import re
from typing import Any

import orjson
import yaml
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keel.core.auth import Principal, Role
from keel.core.clock import utcnow
from keel.core.errors import Forbidden, InvalidInput, NotFound
from keel.core.ids import new_id
from keel.core.pagination import Page, check_limit, decode_cursor, page_of
from keel.db.changes import record
from keel.db.named import by_name
from keel.prompts import templates
from keel.prompts.models import Prompt, PromptLabel, PromptVersion
from keel.prompts.schemas import LABEL_NAME, PromptCreate, PromptUpdate

DEFAULT_PROTECTED = ["production"]
LATEST = "latest"
_LABEL = re.compile(LABEL_NAME)

PROMPT = "prompts.prompt"  # change topic: a prompt's versions or labels (key: its name)


def parse_ref(ref: str) -> tuple[str, int | None, str | None]:
    """`name` → latest, `name@3` → version 3, `name@production` → that label."""
    name, _, after = ref.partition("@")
    if not name:
        raise InvalidInput(f"prompt reference {ref!r} needs a name: NAME, NAME@VERSION or NAME@LABEL")
    if not after or after == LATEST:
        return name, None, None
    if after.isdigit():
        return name, int(after), None
    return name, None, after


def _check_label(label: str) -> None:
    if label == LATEST:
        raise InvalidInput("`latest` is implicit (the newest version) and cannot be set", param="label")
    if not _LABEL.match(label) or len(label) > 100:
        raise InvalidInput(f"label {label!r} must be letters, digits, '.', '_' or '-'", param="label")


def _content_hash(data: PromptCreate, messages: list[dict[str, Any]] | None) -> str:
    content = {"messages": messages, "template": data.template, "model": data.model, "params": data.params}
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _may_move(principal: Principal, prompt: Prompt, label: str) -> None:
    if label in prompt.protected_labels and not (principal.instance_admin or principal.role == Role.admin):
        raise Forbidden(f"label {label!r} of prompt {prompt.name!r} is protected: only admins may move it")


def _find_prompt(session: Session, principal: Principal, name: str) -> str | None:
    """The prompt's id, read in a transaction of its own (so the push's next statement starts a write)."""
    found = session.scalar(
        select(Prompt.id).where(Prompt.project_id == principal.project_id, Prompt.name == name)
    )
    session.rollback()
    return found


def _new_version(
    prompt: Prompt, number: int, data: PromptCreate, messages: list[dict[str, Any]] | None, author: str
) -> PromptVersion:
    return PromptVersion(
        id=new_id("pv"),
        prompt_id=prompt.id,
        version=number,
        messages=messages,
        template=data.template,
        variables=templates.variables(messages, data.template),
        model=data.model,
        params=data.params,
        message=data.message,
        author=author,
        content_hash=_content_hash(data, messages),
    )


def push(session: Session, principal: Principal, data: PromptCreate) -> tuple[Prompt, PromptVersion, bool]:
    """Store a new version (or, with `only_if_changed`, return the latest when nothing changed).

    A new prompt is created with its first version in one transaction; if a concurrent push created it
    first, this push goes on as a push to an existing prompt.
    """
    principal.require(Role.member)
    messages = [m.model_dump(exclude_none=False) for m in data.messages] if data.messages else None
    templates.variables(messages, data.template)  # refuse templates that do not parse before any write
    for label in data.labels:
        _check_label(label)
    prompt_id = _find_prompt(session, principal, data.name)
    if prompt_id is None:
        prompt = Prompt(
            id=new_id("prm"),
            project_id=principal.project_id,
            name=data.name,
            description=data.description or "",
            latest_version=1,
            protected_labels=list(DEFAULT_PROTECTED),
        )
        session.add(prompt)
        version = _new_version(prompt, 1, data, messages, principal.key_id)
        session.add(version)
        try:
            _set_labels(session, principal, prompt, data.labels, 1)
            session.commit()
            return prompt, version, True
        except IntegrityError:  # a concurrent push created the prompt first
            session.rollback()
        except Exception:
            session.rollback()
            raise
        prompt_id = _find_prompt(session, principal, data.name)
        assert prompt_id is not None
    try:
        return _push_existing(session, principal, prompt_id, data, messages)
    except Exception:
        session.rollback()
        raise


def _push_existing(
    session: Session,
    principal: Principal,
    prompt_id: str,
    data: PromptCreate,
    messages: list[dict[str, Any]] | None,
) -> tuple[Prompt, PromptVersion, bool]:
    number = session.scalar(
        update(Prompt)
        .where(Prompt.id == prompt_id)
        .values(latest_version=Prompt.latest_version + 1, updated_at=utcnow())
        .returning(Prompt.latest_version)
    )
    if number is None:
        raise NotFound(f"prompt {data.name!r} was deleted while this version was pushed")
    prompt = session.get_one(Prompt, prompt_id)
    for label in data.labels:
        _may_move(principal, prompt, label)
    version = _new_version(prompt, number, data, messages, principal.key_id)
    if data.only_if_changed and number > 1:
        previous = _version(session, prompt, number - 1)
        if previous.content_hash == version.content_hash:
            session.rollback()
            prompt = session.get_one(Prompt, prompt_id)
            previous = _version(session, prompt, number - 1)
            _set_labels(session, principal, prompt, data.labels, previous.version)
            session.commit()
            return prompt, previous, False
    session.add(version)
    if data.description is not None:
        prompt.description = data.description
    _set_labels(session, principal, prompt, data.labels, number)
    session.commit()
    return prompt, version, True


def _set_labels(
    session: Session, principal: Principal, prompt: Prompt, labels: list[str], version: int
) -> None:
    record(session, PROMPT, prompt.project_id, prompt.name)  # a push moves `latest` even without labels
    for label in labels:
        _may_move(principal, prompt, label)
        row = session.get(PromptLabel, (prompt.id, label))
        if row is None:
            session.add(
                PromptLabel(prompt_id=prompt.id, label=label, version=version, updated_by=principal.key_id)
            )
        else:
            row.version, row.updated_by, row.updated_at = version, principal.key_id, utcnow()


def get_prompt(session: Session, principal: Principal, name: str) -> Prompt:
    return by_name(session, Prompt, principal.project_id, name, "prompt")


def _version(session: Session, prompt: Prompt, number: int) -> PromptVersion:
    found = session.scalar(
        select(PromptVersion).where(PromptVersion.prompt_id == prompt.id, PromptVersion.version == number)
    )
    if found is None:
        raise NotFound(f"prompt {prompt.name!r} has no version {number} (latest is {prompt.latest_version})")
    return found


def resolve(session: Session, principal: Principal, ref: str) -> tuple[Prompt, PromptVersion]:
    name, number, label = parse_ref(ref)
    prompt = get_prompt(session, principal, name)
    if label is not None:
        row = session.get(PromptLabel, (prompt.id, label))
        if row is None:
            known = ", ".join(labels_of(session, [prompt.id]).get(prompt.id, {})) or "none"
            raise NotFound(f"prompt {name!r} has no label {label!r} (labels: {known}, and latest)")
        number = row.version
    if number is None:
        if prompt.latest_version == 0:
            raise NotFound(f"prompt {name!r} has no versions")
        number = prompt.latest_version
    return prompt, _version(session, prompt, number)


def labels_of(session: Session, prompt_ids: list[str]) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = {}
    if prompt_ids:
        query = select(PromptLabel).where(PromptLabel.prompt_id.in_(prompt_ids)).order_by(PromptLabel.label)
        for row in session.scalars(query):
            found.setdefault(row.prompt_id, {})[row.label] = row.version
    return found


def list_prompts(session: Session, principal: Principal, cursor: str | None, limit: int) -> Page[Prompt]:
    query = select(Prompt).where(Prompt.project_id == principal.project_id).order_by(Prompt.id)
    if after := decode_cursor(cursor):
        query = query.where(Prompt.id > after)
    return page_of(list(session.scalars(query.limit(check_limit(limit) + 1))), limit, lambda p: p.id)


def list_versions(session: Session, principal: Principal, name: str) -> tuple[Prompt, list[PromptVersion]]:
    prompt = get_prompt(session, principal, name)
    query = select(PromptVersion).where(PromptVersion.prompt_id == prompt.id).order_by(PromptVersion.version)
    return prompt, list(session.scalars(query))


def move_label(session: Session, principal: Principal, name: str, label: str, version: int) -> Prompt:
    principal.require(Role.member)
    _check_label(label)
    prompt = get_prompt(session, principal, name)
    _version(session, prompt, version)
    _set_labels(session, principal, prompt, [label], version)
    session.commit()
    return prompt


def delete_label(session: Session, principal: Principal, name: str, label: str) -> None:
    principal.require(Role.member)
    prompt = get_prompt(session, principal, name)
    row = session.get(PromptLabel, (prompt.id, label))
    if row is None:
        raise NotFound(f"prompt {name!r} has no label {label!r}")
    _may_move(principal, prompt, label)
    session.delete(row)
    record(session, PROMPT, prompt.project_id, prompt.name)
    session.commit()


def update_prompt(session: Session, principal: Principal, name: str, data: PromptUpdate) -> Prompt:
    prompt = get_prompt(session, principal, name)
    principal.require(Role.member if data.protected_labels is None else Role.admin)
    if data.protected_labels is not None:
        for label in data.protected_labels:
            _check_label(label)
        prompt.protected_labels = sorted(set(data.protected_labels))
    if data.description is not None:
        prompt.description = data.description
    prompt.updated_at = utcnow()
    session.commit()
    return prompt


def delete_prompt(session: Session, principal: Principal, name: str) -> None:
    principal.require(Role.admin)
    session.delete(get_prompt(session, principal, name))
    record(session, PROMPT, principal.project_id, name)
    session.commit()


def as_document(prompt: Prompt, version: PromptVersion) -> dict[str, Any]:
    """A version in the push-file shape (what `keel prompts pull` writes)."""
    document: dict[str, Any] = {"name": prompt.name}
    if version.messages is not None:
        document["messages"] = version.messages
    else:
        document["template"] = version.template
    if version.model:
        document["model"] = version.model
    if version.params:
        document["params"] = version.params
    return document


def diff(session: Session, principal: Principal, name: str, old: int, new: int) -> tuple[list[str], str]:
    prompt = get_prompt(session, principal, name)
    a, b = _version(session, prompt, old), _version(session, prompt, new)
    changed = [
        field
        for field in ("messages", "template", "model", "params")
        if getattr(a, field) != getattr(b, field)
    ]

    def lines(version: PromptVersion) -> list[str]:
        text = yaml.safe_dump(as_document(prompt, version), sort_keys=False, allow_unicode=True, width=100)
        return text.splitlines(keepends=True)

    unified = difflib.unified_diff(lines(a), lines(b), f"{name}@{old}", f"{name}@{new}")
    return changed, "".join(unified)
