"""What a canary release does to the registry: the promoted version takes the `champion` alias (the one it
replaced is remembered for a rollback), a failed one is marked rejected with the reason."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from keel.core.errors import KeelError
from keel.db.changes import record
from keel.finetune.models import ModelAlias, ModelVersion, RegisteredModel
from keel.finetune.service import VERSIONS, _put_alias, find_version, parse_ref

CHAMPION = "champion"


def _version(session: Session, project_id: str, ref: str) -> tuple[RegisteredModel, ModelVersion] | None:
    """The version a gateway model id names (`NAME@v3`, `NAME@alias`), or None when it names none."""
    try:
        name, selector = parse_ref(ref)
    except KeelError:
        return None
    model = session.scalar(
        select(RegisteredModel).where(RegisteredModel.project_id == project_id, RegisteredModel.name == name)
    )
    if model is None:
        return None
    try:
        return model, find_version(session, model, selector)
    except KeelError:
        return None


def crown(session: Session, project_id: str, ref: str, author: str) -> int | None:
    """Point `champion` at the version `ref` names. Returns the version it pointed at before (or None)."""
    found = _version(session, project_id, ref)
    if found is None:
        return None
    model, version = found
    before = session.get(ModelAlias, (model.id, CHAMPION))
    previous = before.version if before is not None else None
    _put_alias(session, model.id, CHAMPION, version.version, author)
    record(session, VERSIONS, project_id, model.name)
    return previous


def restore_champion(session: Session, project_id: str, ref: str, version: int | None, author: str) -> None:
    """Give `champion` back to `version` of the model `ref` names (after rolling back a promotion)."""
    found = _version(session, project_id, ref)
    if found is None or version is None:
        return
    model, _ = found
    _put_alias(session, model.id, CHAMPION, version, author)
    record(session, VERSIONS, project_id, model.name)


def reject(session: Session, project_id: str, ref: str, reason: str) -> bool:
    """Mark the version `ref` names rejected, with why. False when `ref` names no registry version."""
    found = _version(session, project_id, ref)
    if found is None:
        return False
    model, version = found
    version.status, version.status_reason = "rejected", reason[:4000]
    record(session, VERSIONS, project_id, model.name)
    return True
