"""Reads the business-item catalogue and the working-day calendar shipped in
domain/catalogue_data/ (or a directory given by SHEBAO_CATALOGUE_DIR). A bad file stops
start-up naming the entry at fault."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from domain.catalogue import Catalogue
from domain.staff import ROLES
from domain.working_days import WorkingCalendar
from infra.policy_loader import read_data_file


def _document(name: str, directory: Path | None) -> dict[str, Any]:
    return read_data_file("catalogue_data", name, directory)


def load_catalogue(directory: Path | None = None) -> Catalogue:
    return Catalogue.from_document(_document("business_items", directory), set(ROLES))


def load_calendar(directory: Path | None = None) -> WorkingCalendar:
    return WorkingCalendar.from_document(_document("calendar", directory))


def _configured() -> Path | None:
    configured = os.environ.get("SHEBAO_CATALOGUE_DIR")
    return Path(configured) if configured else None


@lru_cache(maxsize=1)
def default_catalogue() -> Catalogue:
    return load_catalogue(_configured())


@lru_cache(maxsize=1)
def default_calendar() -> WorkingCalendar:
    return load_calendar(_configured())
