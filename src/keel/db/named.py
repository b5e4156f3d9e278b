"""Project-scoped named rows (prompts, datasets, knowledge bases, queues, rules): look one up by name, or add
one whose `(project_id, name)` must be unique. One place for the 404 and the 409 every such feature needs."""

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keel.core.errors import Conflict, NotFound

T = TypeVar("T")


def by_name(session: Session, model: type[T], project_id: str, name: str, what: str) -> T:
    """The project's `model` row called `name`; NotFound("<what> 'name' not found") otherwise."""
    columns: Any = model
    found = session.scalar(select(model).where(columns.project_id == project_id, columns.name == name))
    if found is None:
        raise NotFound(f"{what} {name!r} not found")
    return found


def add_unique(session: Session, row: T, conflict: str) -> T:
    """Commit a new row; a unique-constraint clash rolls back and becomes Conflict(conflict)."""
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(conflict) from None
    return row
