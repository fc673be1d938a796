"""Reads the policy data files shipped in domain/policy_data/ (or a directory given by
SHEBAO_POLICY_DIR) and builds the validated PolicyTables. A bad file stops start-up with the
file and entry at fault."""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from domain.policy import PolicyTables

POLICY_FILES = ("insurances", "rates", "work_injury", "base_bounds", "interest", "late_fee",
                "matching", "pension")


def read_data_file(folder: str, name: str, directory: Path | None = None) -> dict[str, Any]:
    """A shipped TOML data file `domain/<folder>/<name>.toml`, or `<directory>/<name>.toml`
    when a replacement directory is configured; a syntax error names the file."""
    if directory is not None:
        text = (directory / f"{name}.toml").read_text(encoding="utf-8")
    else:
        text = resources.files("domain").joinpath(f"{folder}/{name}.toml").read_text(
            encoding="utf-8")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{folder} file {name}.toml: {e}") from e


def load_policy(directory: Path | None = None) -> PolicyTables:
    return PolicyTables.from_documents(
        {name: read_data_file("policy_data", name, directory) for name in POLICY_FILES})


@lru_cache(maxsize=1)
def default_policy() -> PolicyTables:
    configured = os.environ.get("SHEBAO_POLICY_DIR")
    return load_policy(Path(configured) if configured else None)
