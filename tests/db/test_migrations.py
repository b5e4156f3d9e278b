"""Each Alembic revision upgrades and downgrades on SQLite and PostgreSQL; head matches the models.

The revisions are walked in order on one empty database per dialect: each step upgrades from the previous
revision, downgrades back and upgrades again, checking the tables every time (one pass, not one upgrade from
base per revision).
"""

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
TABLES_AT["0017"] = TABLES_AT["0016"]  # gateway_routes.circuit
TABLES_AT["0018"] = TABLES_AT["0017"] | {"guardrail_policies"}
TABLES_AT["0019"] = TABLES_AT["0018"] | {"alert_rules", "alert_events", "alert_deliveries"}
TABLES_AT["0020"] = TABLES_AT["0019"] | {"canary_decisions"}  # + routes.canary, model_versions.status
TABLES_AT["0021"] = TABLES_AT["0020"] | {"loops", "loop_runs"}


def tables(engine) -> set[str]:  # type: ignore[no-untyped-def]
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_each_revision_upgrades_and_downgrades(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    previous = "base"
    for revision in migrate.revisions():
        migrate.upgrade(engine, revision)
        assert migrate.current(engine) == revision, revision
        assert tables(engine) == TABLES_AT[revision], revision
        migrate.downgrade(engine, previous)
        assert migrate.current(engine) == (None if previous == "base" else previous), revision
        assert tables(engine) == (set() if previous == "base" else TABLES_AT[previous]), revision
        migrate.upgrade(engine, revision)
        assert tables(engine) == TABLES_AT[revision], revision
        previous = revision
    engine.dispose()


def test_every_revision_is_covered() -> None:
    assert set(TABLES_AT) == set(migrate.revisions())


def test_head_matches_the_models(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    migrate.upgrade(engine)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), migrate.load_models().metadata)
    assert diff == []
    assert migrate.current(engine) == migrate.head()
    migrate.upgrade(engine)
    engine.dispose()
