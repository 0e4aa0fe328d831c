"""Storage fixtures: a :class:`Database` with the tables created, on SQLite and PostgreSQL.

Built on ``database_url`` from ``tests/conftest.py`` (a fresh SQLite file, or a fresh
PostgreSQL schema when ``TIPAUDIT_TEST_DATABASE_URL`` is set), so each test starts empty.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tipaudit.storage.db import Database, make_engine
from tipaudit.storage.models import Base


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """An empty database with every table of the models, disposed after the test."""
    db = Database(make_engine(database_url))
    Base.metadata.create_all(db.engine)
    try:
        yield db
    finally:
        db.dispose()
