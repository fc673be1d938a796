"""Integration fixtures: a Container on the `settings` of tests/conftest.py, so that every test
here runs once on SQLite and once on a fresh PostgreSQL database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.bootstrap import Container
from infra.settings import Settings


@pytest.fixture
def container(settings: Settings) -> Iterator[Container]:
    opened = Container.open(settings)
    try:
        yield opened
    finally:
        opened.close()
