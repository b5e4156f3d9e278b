"""Datasets: create, add/edit/delete items, split, import, and read any version.

Each change takes the next version number with `UPDATE datasets SET latest_version = latest_version + 1
... RETURNING` as the first statement of its transaction (the same lock discipline as prompts), writes its
rows, records a `DatasetVersion`, and commits once: a failed change leaves no trace.
"""

import hashlib
from collections.abc import Callable
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from keel.core.auth import Principal, Role
from keel.core.clock import utcnow
from keel.core.errors import Conflict, InvalidInput, NotFound
from keel.core.ids import new_id
from keel.core.jsontext import parse_json_or_text
from keel.core.pagination import Page, check_limit, decode_cursor, page_of
from keel.datasets.models import Dataset, DatasetItem, DatasetVersion
from keel.datasets.schemas import FromTraces, ItemEdit, ItemIn
from keel.db.named import add_unique, by_name
from keel.tracing import queries as trace_queries


def create(session: Session, principal: Principal, name: str, description: str) -> Dataset:
    principal.require(Role.member)
    dataset = Dataset(id=new_id("ds"), project_id=principal.project_id, name=name, description=description)
    return add_unique(session, dataset, f"a dataset named {name!r} already exists in this project")


def get(session: Session, principal: Principal, name: str) -> Dataset:
    return by_name(session, Dataset, principal.project_id, name, "dataset")


def get_or_create(session: Session, principal: Principal, name: str) -> Dataset:
    try:
        return get(session, principal, name)
    except NotFound:
        try:
            return create(session, principal, name, "")
        except Conflict:
            return get(session, principal, name)


def list_datasets(session: Session, principal: Principal, cursor: str | None, limit: int) -> Page[Dataset]:
    query = select(Dataset).where(Dataset.project_id == principal.project_id).order_by(Dataset.id)
    if after := decode_cursor(cursor):
        query = query.where(Dataset.id > after)
    return page_of(list(session.scalars(query.limit(check_limit(limit) + 1))), limit, lambda d: d.id)


def in_version(version: int) -> Any:
    return and_(
        DatasetItem.added_in <= version,
        or_(DatasetItem.removed_in.is_(None), DatasetItem.removed_in > version),
    )


def check_version(dataset: Dataset, version: int | None) -> int:
    if version is None:
        return dataset.latest_version
    if not 1 <= version <= dataset.latest_version:
        raise NotFound(
            f"dataset {dataset.name!r} has no version {version} (latest is {dataset.latest_version})"
        )
    return version


def count(session: Session, dataset_id: str, version: int) -> int:
    query = select(func.count()).where(DatasetItem.dataset_id == dataset_id, in_version(version))
    return int(session.scalar(query) or 0)


def items(session: Session, dataset: Dataset, version: int, split: str | None = None) -> list[DatasetItem]:
    query = select(DatasetItem).where(DatasetItem.dataset_id == dataset.id, in_version(version))
    if split is not None:
        query = query.where(DatasetItem.split == split)
    return list(session.scalars(query.order_by(DatasetItem.item_key)))


def page_items(
    session: Session,
    dataset: Dataset,
    version: int,
    split: str | None,
    cursor: str | None,
    limit: int,
) -> Page[DatasetItem]:
    query = select(DatasetItem).where(DatasetItem.dataset_id == dataset.id, in_version(version))
    if split is not None:
        query = query.where(DatasetItem.split == split)
    if after := decode_cursor(cursor):
        query = query.where(DatasetItem.item_key > after)
    rows = list(session.scalars(query.order_by(DatasetItem.item_key).limit(check_limit(limit) + 1)))
    return page_of(rows, limit, lambda i: i.item_key)


def _change(
    session: Session,
    principal: Principal,
    name: str,
    message: str,
    write: Callable[[Dataset, int], None],
) -> Dataset:
    """Run one versioned change: take the number, let `write` add/close rows, record the version."""
    principal.require(Role.member)
    dataset_id = get(session, principal, name).id
    session.rollback()  # the version UPDATE below must be the transaction's first statement
    try:
        number = session.scalar(
            update(Dataset)
            .where(Dataset.id == dataset_id)
            .values(latest_version=Dataset.latest_version + 1, updated_at=utcnow())
            .returning(Dataset.latest_version)
        )
        if number is None:
            raise NotFound(f"dataset {name!r} was deleted during the change")
        dataset = session.get_one(Dataset, dataset_id)
        write(dataset, number)
        session.flush()
        total = count(session, dataset_id, number)
        session.add(
            DatasetVersion(
                dataset_id=dataset_id,
                version=number,
                message=message,
                item_count=total,
                author=principal.key_id,
            )
        )
        session.commit()
    except Exception:
        session.rollback()
        raise
    return dataset


def _row(dataset_id: str, item: ItemIn, version: int, key: str | None = None) -> DatasetItem:
    return DatasetItem(
        id=new_id("dsi"),
        dataset_id=dataset_id,
        item_key=key or new_id("itm"),
        input=item.input,
        expected=item.expected,
        item_metadata=item.metadata,
        split=item.split,
        source_trace_id=item.source_trace_id,
        added_in=version,
        removed_in=None,
    )


def add_items(session: Session, principal: Principal, name: str, new: list[ItemIn], message: str) -> Dataset:
    def write(dataset: Dataset, version: int) -> None:
        session.add_all([_row(dataset.id, item, version) for item in new])

    return _change(session, principal, name, message or f"added {len(new)} item(s)", write)


def _current(session: Session, dataset: Dataset, key: str) -> DatasetItem:
    found = session.scalar(
        select(DatasetItem).where(
            DatasetItem.dataset_id == dataset.id,
            DatasetItem.item_key == key,
            DatasetItem.removed_in.is_(None),
        )
    )
    if found is None:
        raise NotFound(f"dataset {dataset.name!r} has no item {key!r}")
    return found


def edit_item(session: Session, principal: Principal, name: str, key: str, edit: ItemEdit) -> Dataset:
    def write(dataset: Dataset, version: int) -> None:
        old = _current(session, dataset, key)
        old.removed_in = version
        changes = edit.model_dump(exclude_unset=True)
        merged = ItemIn(
            input=changes.get("input", old.input),
            expected=changes.get("expected", old.expected),
            metadata=changes.get("metadata", old.item_metadata),
            split=changes.get("split", old.split),
            source_trace_id=old.source_trace_id,
        )
        session.add(_row(dataset.id, merged, version, key))

    return _change(session, principal, name, f"edited {key}", write)


def delete_item(session: Session, principal: Principal, name: str, key: str) -> Dataset:
    def write(dataset: Dataset, version: int) -> None:
        _current(session, dataset, key).removed_in = version

    return _change(session, principal, name, f"deleted {key}", write)


def split(
    session: Session, principal: Principal, name: str, test_fraction: float, seed: int, message: str
) -> Dataset:
    """Assign every item to `train` or `test` by a hash of its key and the seed: stable and reproducible."""

    def write(dataset: Dataset, version: int) -> None:
        for old in items(session, dataset, version - 1):
            digest = hashlib.sha256(f"{seed}:{old.item_key}".encode()).digest()
            chosen = "test" if int.from_bytes(digest[:8], "big") / 2**64 < test_fraction else "train"
            if old.split == chosen:
                continue
            old.removed_in = version
            session.add(
                _row(
                    dataset.id,
                    ItemIn(
                        input=old.input,
                        expected=old.expected,
                        metadata=old.item_metadata,
                        split=chosen,
                        source_trace_id=old.source_trace_id,
                    ),
                    version,
                    old.item_key,
                )
            )

    return _change(
        session, principal, name, message or f"split: test {test_fraction:.0%}, seed {seed}", write
    )


def versions(session: Session, principal: Principal, name: str) -> list[DatasetVersion]:
    dataset = get(session, principal, name)
    query = select(DatasetVersion).where(DatasetVersion.dataset_id == dataset.id)
    return list(session.scalars(query.order_by(DatasetVersion.version)))


def delete_unversioned(session: Session, dataset_id: str) -> None:
    """Undo a create whose first items were refused, so a failed create leaves nothing."""
    session.rollback()
    dataset = session.get(Dataset, dataset_id)
    if dataset is not None and dataset.latest_version == 0:
        session.delete(dataset)
        session.commit()


def delete(session: Session, principal: Principal, name: str) -> None:
    principal.require(Role.admin)
    session.delete(get(session, principal, name))
    session.commit()


def item_dict(item: DatasetItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "item_key": item.item_key,
        "input": item.input,
        "expected": item.expected,
        "metadata": item.item_metadata,
        "split": item.split,
        "source_trace_id": item.source_trace_id,
    }


def require_items(new: list[ItemIn]) -> None:
    if not new:
        raise InvalidInput("no items given")


def _answer(output: Any) -> Any:
    """`[{"role": "assistant", "content": "..."}]` → the text; anything else as it is."""
    if isinstance(output, list) and output and isinstance(output[-1], dict) and "content" in output[-1]:
        return output[-1]["content"]
    return output


def items_from_traces(session: Session, principal: Principal, request: FromTraces) -> list[ItemIn]:
    found = []
    for trace_id in request.trace_ids:
        trace, spans = trace_queries.get_trace(session, principal, trace_id)
        source = next((s for s in spans if s.input), None)
        if source is None:
            raise InvalidInput(f"trace {trace_id} has no recorded input to learn from", param="trace_ids")
        found.append(
            ItemIn(
                input=parse_json_or_text(source.input),
                expected=_answer(parse_json_or_text(source.output)) if request.output_as_expected else None,
                metadata={"model": source.model, "trace_name": trace.name},
                split=request.split,
                source_trace_id=trace.trace_id,
            )
        )
    return found
