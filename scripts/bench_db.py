"""PostgreSQL databases for the benchmarks (not tests): one made for a run and dropped after it,
or one kept by name across runs, so that a change is measured before and after on the same
data. `admin_dsn` may create databases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo


def dsn_of(admin_dsn: str, name: str) -> str:
    info = conninfo_to_dict(admin_dsn)
    info["dbname"] = name
    return make_conninfo(**info)


@contextmanager
def scratch_database(admin_dsn: str, prefix: str = "shebao_bench") -> Iterator[str]:
    """A new, empty database for the block (its DSN), dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield dsn_of(admin_dsn, name)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def kept_database(admin_dsn: str, name: str) -> tuple[str, bool]:
    """The DSN of database `name`, made when missing (kept afterwards); and whether it was
    made."""
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                              (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    return dsn_of(admin_dsn, name), not exists
