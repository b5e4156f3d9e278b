"""Each Alembic revision upgrades and downgrades on SQLite and PostgreSQL; head matches the models."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from keel.db import migrate
from keel.db.engine import make_engine

BASE = {"projects", "api_keys"}
JOBS = BASE | {"jobs", "job_logs"}
TRACES = JOBS | {"spans", "traces", "trace_retention"}
TABLES_AT = {
    "0001": BASE,
    "0002": JOBS,
    "0003": TRACES,
    "0004": TRACES | {"providers"},
    "0005": TRACES | {"providers", "gateway_routes"},
    "0006": TRACES | {"providers", "gateway_routes", "gateway_prices"},
    "0007": TRACES | {"providers", "gateway_routes", "gateway_prices", "gateway_limits", "gateway_spend"},
    "0008": TRACES | {"providers", "gateway_routes", "gateway_prices", "gateway_limits", "gateway_spend"},
    "0009": TRACES
    | {"providers", "gateway_routes", "gateway_prices", "gateway_limits", "gateway_spend"}
    | {"prompts", "prompt_versions", "prompt_labels"},
}
TABLES_AT["0010"] = TABLES_AT["0009"] | {"datasets", "dataset_versions", "dataset_items"}
TABLES_AT["0011"] = TABLES_AT["0010"] | {"experiments", "experiment_results"}
TABLES_AT["0012"] = TABLES_AT["0011"] | {"feedback"}
TABLES_AT["0013"] = TABLES_AT["0012"] | {"online_eval_rules"}
TABLES_AT["0014"] = TABLES_AT["0013"] | {"annotation_queues", "annotation_items"}
TABLES_AT["0015"] = TABLES_AT["0014"] | {"knowledge_bases", "knowledge_documents", "knowledge_chunks"}
TABLES_AT["0016"] = TABLES_AT["0015"] | {
    "finetune_runs",
    "finetune_metrics",
    "registered_models",
    "model_versions",
    "model_aliases",
}


def tables(engine) -> set[str]:  # type: ignore[no-untyped-def]
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


@pytest.mark.parametrize("revision", migrate.revisions())
def test_revision_upgrades_and_downgrades(database_url: str, revision: str) -> None:
    engine = make_engine(database_url)
    revisions = migrate.revisions()
    previous = revisions[revisions.index(revision) - 1] if revisions.index(revision) else "base"
    migrate.upgrade(engine, previous) if previous != "base" else None
    migrate.upgrade(engine, revision)
    assert migrate.current(engine) == revision
    assert tables(engine) == TABLES_AT[revision]
    migrate.downgrade(engine, previous)
    assert migrate.current(engine) == (None if previous == "base" else previous)
    assert tables(engine) == (set() if previous == "base" else TABLES_AT[previous])
    migrate.upgrade(engine, revision)
    assert tables(engine) == TABLES_AT[revision]
    engine.dispose()


def test_every_revision_is_covered() -> None:
    assert set(TABLES_AT) == set(migrate.revisions())


def test_head_matches_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), migrate.load_models().metadata)
    assert diff == []
    assert migrate.current(engine) == migrate.head()
    migrate.upgrade(engine)
    engine.dispose()
