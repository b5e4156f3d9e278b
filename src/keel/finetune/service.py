"""The model registry: registered models, immutable numbered versions with lineage, and movable aliases.

A version is registered in one transaction after its artifact is complete in the store: the number comes
from `UPDATE registered_models SET latest_version = latest_version + 1 ... RETURNING` (which also takes the
row lock), the version row and its aliases are written, and if anything fails the transaction rolls back and
the copied artifact is deleted. So the registry never shows a version whose files are missing or half there.
References: `name@alias`, `name@v3` (or `name@3`), `name@latest`, and a bare `name` (latest).
"""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keel.core.auth import Principal, Role
from keel.core.clock import utcnow
from keel.core.errors import InvalidInput, NotFound
from keel.core.ids import new_id
from keel.core.pagination import Page, check_limit, decode_cursor, page_of
from keel.db.changes import record
from keel.db.named import add_unique, by_name
from keel.finetune.artifacts import ArtifactStore
from keel.finetune.models import ModelAlias, ModelVersion, RegisteredModel
from keel.finetune.schemas import ALIAS_NAME, MODEL_NAME, ModelCreate

VERSION_REF = re.compile(r"^v?(\d+)$")


@dataclass(frozen=True)
class Served:
    """A registered version the gateway can route to, under each name it answers to."""

    names: tuple[str, ...]
    version_id: str
    base_model: str
    artifact_key: str


VERSIONS = "models.versions"  # change topic: a model's versions or aliases (key: the model name)


def create_model(session: Session, principal: Principal, data: ModelCreate) -> RegisteredModel:
    principal.require(Role.member)
    row = RegisteredModel(
        id=new_id("rm"), project_id=principal.project_id, name=data.name, description=data.description
    )
    return add_unique(session, row, f"a model named {data.name!r} already exists in this project")


def get_model(session: Session, principal: Principal, name: str) -> RegisteredModel:
    return by_name(session, RegisteredModel, principal.project_id, name, "model")


def list_models(
    session: Session, principal: Principal, cursor: str | None, limit: int
) -> Page[RegisteredModel]:
    query = select(RegisteredModel).where(RegisteredModel.project_id == principal.project_id)
    if after := decode_cursor(cursor):
        query = query.where(RegisteredModel.name > after)
    rows = list(session.scalars(query.order_by(RegisteredModel.name).limit(check_limit(limit) + 1)))
    return page_of(rows, limit, lambda m: m.name)


def aliases(session: Session, model_id: str) -> dict[str, int]:
    rows = session.scalars(
        select(ModelAlias).where(ModelAlias.model_id == model_id).order_by(ModelAlias.alias)
    )
    return {a.alias: a.version for a in rows}


def parse_ref(ref: str) -> tuple[str, str]:
    name, _, selector = ref.partition("@")
    if not re.match(MODEL_NAME, name):
        raise InvalidInput(f"{ref!r} is not a model reference (name, name@alias or name@v3)", param="model")
    return name, selector or "latest"


def find_version(session: Session, model: RegisteredModel, selector: str) -> ModelVersion:
    if selector == "latest":
        number = model.latest_version
    elif match := VERSION_REF.match(selector):
        number = int(match.group(1))
    else:
        alias = session.get(ModelAlias, (model.id, selector))
        if alias is None:
            raise NotFound(f"model {model.name!r} has no alias {selector!r}")
        number = alias.version
    version = session.scalar(
        select(ModelVersion).where(ModelVersion.model_id == model.id, ModelVersion.version == number)
    )
    if version is None:
        raise NotFound(f"model {model.name!r} has no version {selector}")
    return version


def resolve(session: Session, principal: Principal, ref: str) -> tuple[RegisteredModel, ModelVersion]:
    name, selector = parse_ref(ref)
    model = get_model(session, principal, name)
    return model, find_version(session, model, selector)


def versions(session: Session, principal: Principal, name: str) -> list[ModelVersion]:
    model = get_model(session, principal, name)
    query = select(ModelVersion).where(ModelVersion.model_id == model.id).order_by(ModelVersion.version)
    return list(session.scalars(query))


def _model_id(session: Session, project_id: str, name: str) -> str:
    existing = session.scalar(
        select(RegisteredModel.id).where(
            RegisteredModel.project_id == project_id, RegisteredModel.name == name
        )
    )
    if existing:
        return existing
    model = RegisteredModel(id=new_id("rm"), project_id=project_id, name=name)
    session.add(model)
    session.flush()  # a concurrent first registration of the same name fails here; the caller retries
    return model.id


def register_version(
    session: Session,
    store: ArtifactStore,
    source: Path,
    *,
    project_id: str,
    author: str,
    name: str,
    base_model: str,
    kind: str = "adapter",
    run_id: str | None = None,
    lineage: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
    move_aliases: tuple[str, ...] = ("challenger",),
) -> ModelVersion:
    """Copy the artifact into the store, then write the version and move its aliases in one transaction."""
    version_id = new_id("mv")
    key = f"models/{version_id}"
    store.put_dir(source, key)
    for attempt in range(2):
        try:
            model_id = _model_id(session, project_id, name)
            number = session.scalar(
                update(RegisteredModel)
                .where(RegisteredModel.id == model_id)
                .values(latest_version=RegisteredModel.latest_version + 1, updated_at=utcnow())
                .returning(RegisteredModel.latest_version)
            )
            version = ModelVersion(
                id=version_id,
                model_id=model_id,
                version=number,
                kind=kind,
                base_model=base_model,
                artifact_key=key,
                run_id=run_id,
                lineage=lineage or {},
                metrics=metrics or {},
                evaluations=[],
                author=author,
            )
            session.add(version)
            for alias in move_aliases:
                _put_alias(session, model_id, alias, int(number or 0), author)
            record(session, VERSIONS, project_id, name)
            session.commit()
            return version
        except IntegrityError:
            session.rollback()
            if attempt == 0:
                continue  # the model was created by a concurrent registration: use that one
            store.delete(key)
            raise
        except BaseException:
            session.rollback()
            store.delete(key)
            raise
    raise AssertionError("unreachable: the second attempt returns or raises")


def _put_alias(session: Session, model_id: str, alias: str, version: int, author: str) -> None:
    session.execute(delete(ModelAlias).where(ModelAlias.model_id == model_id, ModelAlias.alias == alias))
    session.add(ModelAlias(model_id=model_id, alias=alias, version=version, updated_by=author))
    session.flush()


def check_alias(alias: str) -> None:
    if not re.match(ALIAS_NAME, alias) or VERSION_REF.match(alias) or alias == "latest":
        raise InvalidInput(
            f"alias {alias!r} must start with a letter, use letters, digits, '.', '_' or '-', "
            "and not look like a version (v3) or be 'latest'",
            param="alias",
        )


def set_alias(session: Session, principal: Principal, name: str, alias: str, version: int) -> RegisteredModel:
    principal.require(Role.member)
    check_alias(alias)
    model = get_model(session, principal, name)
    find_version(session, model, str(version))
    _put_alias(session, model.id, alias, version, principal.key_id)
    model.updated_at = utcnow()
    record(session, VERSIONS, principal.project_id, name)
    session.commit()
    return model


def delete_alias(session: Session, principal: Principal, name: str, alias: str) -> None:
    principal.require(Role.member)
    model = get_model(session, principal, name)
    if session.get(ModelAlias, (model.id, alias)) is None:
        raise NotFound(f"model {name!r} has no alias {alias!r}")
    session.execute(delete(ModelAlias).where(ModelAlias.model_id == model.id, ModelAlias.alias == alias))
    record(session, VERSIONS, principal.project_id, name)
    session.commit()


def edit_notes(session: Session, principal: Principal, ref: str, notes: str) -> ModelVersion:
    principal.require(Role.member)
    _, version = resolve(session, principal, ref)
    version.notes = notes
    session.commit()
    return version


def add_evaluation(session: Session, version_id: str, record: dict[str, Any]) -> None:
    version = session.get_one(ModelVersion, version_id)
    version.evaluations = [*version.evaluations, record]
    session.commit()


def version_aliases(session: Session, version: ModelVersion) -> list[str]:
    return sorted(a for a, n in aliases(session, version.model_id).items() if n == version.version)


def served(session: Session, project_id: str) -> list[Served]:
    """Every version of the project's models with the names the gateway resolves to it."""
    rows = session.execute(
        select(RegisteredModel.name, RegisteredModel.id, RegisteredModel.latest_version, ModelVersion)
        .join(ModelVersion, ModelVersion.model_id == RegisteredModel.id)
        .where(RegisteredModel.project_id == project_id)
    ).all()
    alias_rows = session.execute(
        select(ModelAlias)
        .join(RegisteredModel, RegisteredModel.id == ModelAlias.model_id)
        .where(RegisteredModel.project_id == project_id)
    ).scalars()
    by_version: dict[tuple[str, int], list[str]] = {}
    for alias in alias_rows:
        by_version.setdefault((alias.model_id, alias.version), []).append(alias.alias)
    found = []
    for name, model_id, latest, version in rows:
        names = [f"{name}@v{version.version}"]
        names += [f"{name}@{a}" for a in sorted(by_version.get((model_id, version.version), []))]
        if version.version == latest:
            names.append(f"{name}@latest")
        found.append(Served(tuple(names), version.id, version.base_model, version.artifact_key))
    return found
