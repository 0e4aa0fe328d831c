"""Alembic migrations: up, down, up again, and in step with the models."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from tipaudit.storage.db import make_engine
from tipaudit.storage.migrate import current_revision, downgrade, head_revision, upgrade
from tipaudit.storage.models import Base

FOUNDATION_TABLES = {
    "users",
    "user_roles",
    "web_sessions",
    "api_tokens",
    "approvals",
    "audit_events",
    "audit_head",
}


def test_upgrade_downgrade_upgrade(database_url: str) -> None:
    """The schema goes up to head, back to nothing, and up again."""
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        assert head_revision() == current_revision(engine)
        assert FOUNDATION_TABLES <= set(inspect(engine).get_table_names())
        downgrade(engine, "base")
        assert current_revision(engine) is None
        assert not FOUNDATION_TABLES & set(inspect(engine).get_table_names())
        upgrade(engine)
        assert head_revision() == current_revision(engine)
    finally:
        engine.dispose()


def test_head_matches_models(database_url: str) -> None:
    """After migrating, the database has exactly what the models declare: no missing migration."""
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert [] == diff
    finally:
        engine.dispose()


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    """The embedded database uses write-ahead logging, so readers never block the writer."""
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    try:
        with engine.connect() as conn:
            assert "wal" == conn.exec_driver_sql("PRAGMA journal_mode").scalar()
            assert 1 == conn.exec_driver_sql("PRAGMA foreign_keys").scalar()
    finally:
        engine.dispose()
