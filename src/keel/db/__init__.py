"""The store: one SQLAlchemy engine per process, typed ORM models per feature, Alembic migrations at start."""
