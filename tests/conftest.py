"""Shared fixtures. Storage-dependent tests take the `settings` (or `store`) fixture, which runs
each of them twice: on a fresh SQLite directory and on a fresh PostgreSQL database.

PostgreSQL comes from SHEBAO_TEST_PG_DSN (scripts/test provides one, starting a throwaway
cluster when needed). Without it the PostgreSQL half is skipped, except with CI=true, where a
missing PostgreSQL fails the run."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.settings import Settings

TEST_REGION_CODE = "440781"


def _pg_admin_dsn() -> str | None:
    return os.environ.get("SHEBAO_TEST_PG_DSN") or None


@pytest.fixture(scope="session")
def pg_admin_dsn() -> str:
    dsn = _pg_admin_dsn()
    if dsn is None:
        message = "PostgreSQL not available: set SHEBAO_TEST_PG_DSN or run scripts/test"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true: PostgreSQL is required)")
        pytest.skip(message)
    return dsn


@pytest.fixture
def fresh_pg_dsn(pg_admin_dsn: str) -> Iterator[str]:
    """A new, empty database for one test, dropped afterwards."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = f"shebao_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    info = conninfo_to_dict(pg_admin_dsn)
    info["dbname"] = name
    yield make_conninfo(**info)
    with psycopg.connect(pg_admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    if request.param == "postgres":
        dsn = request.getfixturevalue("fresh_pg_dsn")
        return Settings(region_code=TEST_REGION_CODE, data_dir=tmp_path / "data", pg_dsn=dsn)
    return Settings(region_code=TEST_REGION_CODE, data_dir=tmp_path / "data")
