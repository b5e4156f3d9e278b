"""Datasets API under `/api/v1/datasets`: create, items, versions, split, import/export, items from traces."""

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Response

from keel.datasets import files, service
from keel.datasets import selection_service as selection
from keel.datasets.models import Dataset
from keel.datasets.schemas import (
    AddItems,
    DatasetCreate,
    DatasetList,
    DatasetOut,
    FromTraces,
    ImportResult,
    ItemEdit,
    ItemList,
    ItemOut,
    SelectIn,
    SelectionOut,
    SplitIn,
    VersionList,
    VersionOut,
)
from keel.server.deps import PrincipalDep, SessionDep

router = APIRouter(prefix="/api/v1/datasets", tags=["datasets"])
PageLimit = Annotated[int, Query(ge=1, le=200)]
Format = Literal["jsonl", "csv"]


def out(session: SessionDep, dataset: Dataset) -> DatasetOut:
    return DatasetOut(
        id=dataset.id,
        name=dataset.name,
        description=dataset.description,
        latest_version=dataset.latest_version,
        item_count=service.count(session, dataset.id, dataset.latest_version),
        created_at=dataset.created_at,
        updated_at=dataset.updated_at,
    )


@router.post("", status_code=201)
def create(body: DatasetCreate, session: SessionDep, principal: PrincipalDep) -> DatasetOut:
    dataset = service.create(session, principal, body.name, body.description)
    if body.items:
        try:
            dataset = service.add_items(session, principal, body.name, body.items, "created")
        except Exception:
            service.delete_unversioned(session, dataset.id)
            raise
    return out(session, dataset)


@router.get("")
def list_all(
    session: SessionDep, principal: PrincipalDep, cursor: str | None = None, limit: PageLimit = 50
) -> DatasetList:
    page = service.list_datasets(session, principal, cursor, limit)
    return DatasetList(items=[out(session, d) for d in page.items], next_cursor=page.next_cursor)


@router.get("/{name}")
def get(name: str, session: SessionDep, principal: PrincipalDep) -> DatasetOut:
    return out(session, service.get(session, principal, name))


@router.delete("/{name}", status_code=204)
def delete(name: str, session: SessionDep, principal: PrincipalDep) -> Response:
    service.delete(session, principal, name)
    return Response(status_code=204)


@router.get("/{name}/versions")
def versions(name: str, session: SessionDep, principal: PrincipalDep) -> VersionList:
    return VersionList(
        items=[
            VersionOut(
                version=v.version,
                message=v.message,
                item_count=v.item_count,
                author=v.author,
                created_at=v.created_at,
            )
            for v in service.versions(session, principal, name)
        ]
    )


@router.get("/{name}/items")
def list_items(
    name: str,
    session: SessionDep,
    principal: PrincipalDep,
    version: int | None = None,
    split: str | None = None,
    cursor: str | None = None,
    limit: PageLimit = 100,
) -> ItemList:
    dataset = service.get(session, principal, name)
    number = service.check_version(dataset, version)
    page = service.page_items(session, dataset, number, split, cursor, limit)
    return ItemList(
        items=[ItemOut(**service.item_dict(i)) for i in page.items],
        next_cursor=page.next_cursor,
        version=number,
    )


@router.post("/{name}/items")
def add_items(name: str, body: AddItems, session: SessionDep, principal: PrincipalDep) -> DatasetOut:
    return out(session, service.add_items(session, principal, name, body.items, body.message))


@router.patch("/{name}/items/{item_key}")
def edit_item(
    name: str, item_key: str, body: ItemEdit, session: SessionDep, principal: PrincipalDep
) -> DatasetOut:
    return out(session, service.edit_item(session, principal, name, item_key, body))


@router.delete("/{name}/items/{item_key}")
def delete_item(name: str, item_key: str, session: SessionDep, principal: PrincipalDep) -> DatasetOut:
    return out(session, service.delete_item(session, principal, name, item_key))


@router.post("/{name}/split")
def split(name: str, body: SplitIn, session: SessionDep, principal: PrincipalDep) -> DatasetOut:
    return out(session, service.split(session, principal, name, body.test_fraction, body.seed, body.message))


@router.post("/{name}/from-traces")
def from_traces(name: str, body: FromTraces, session: SessionDep, principal: PrincipalDep) -> DatasetOut:
    new = service.items_from_traces(session, principal, body)
    dataset = service.get_or_create(session, principal, name)
    message = body.message or f"added {len(new)} item(s) from traces"
    return out(session, service.add_items(session, principal, dataset.name, new, message))


@router.post("/{name}/select")
def select_traces(name: str, body: SelectIn, session: SessionDep, principal: PrincipalDep) -> SelectionOut:
    """Production → dataset: the traces matching the filters and score thresholds, sampled and deduplicated
    by input (also against the dataset), written as a new version (created when missing). `dry_run` only
    counts."""
    return selection.select_into(session, principal, name, body)


@router.post("/{name}/import")
def import_file(
    name: str,
    raw: Annotated[bytes, Body(media_type="application/octet-stream")],
    session: SessionDep,
    principal: PrincipalDep,
    format: Format = "jsonl",
    skip_invalid: bool = False,
    message: str = "",
) -> ImportResult:
    """Body: the file's bytes (JSONL or CSV). Creates the dataset when it does not exist."""
    parsed = files.parse_jsonl(raw) if format == "jsonl" else files.parse_csv(raw)
    good, bad = files.accept(parsed, skip_invalid)
    dataset = service.get_or_create(session, principal, name)
    dataset = service.add_items(
        session, principal, dataset.name, good, message or f"imported {len(good)} item(s)"
    )
    return ImportResult(dataset=name, version=dataset.latest_version, added=len(good), skipped=bad)


@router.get("/{name}/export")
def export(
    name: str,
    session: SessionDep,
    principal: PrincipalDep,
    version: int | None = None,
    split: str | None = None,
    format: Format = "jsonl",
) -> Response:
    dataset = service.get(session, principal, name)
    rows = [
        service.item_dict(i)
        for i in service.items(session, dataset, service.check_version(dataset, version), split)
    ]
    if format == "csv":
        return Response(files.to_csv(rows), media_type="text/csv")
    keep = ("input", "expected", "metadata", "split", "source_trace_id")
    return Response(
        files.to_jsonl([{k: r[k] for k in keep if r[k] is not None} for r in rows]),
        media_type="application/x-ndjson",
    )
