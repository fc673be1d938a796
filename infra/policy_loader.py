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


def load_policy(directory: Path | None = None) -> PolicyTables:
    docs: dict[str, dict[str, Any]] = {}
    for name in POLICY_FILES:
        if directory is not None:
            text = (directory / f"{name}.toml").read_text(encoding="utf-8")
        else:
            text = resources.files("domain").joinpath(f"policy_data/{name}.toml").read_text(
                encoding="utf-8")
        try:
            docs[name] = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise ValueError(f"policy file {name}.toml: {e}") from e
    return PolicyTables.from_documents(docs)


@lru_cache(maxsize=1)
def default_policy() -> PolicyTables:
    configured = os.environ.get("SHEBAO_POLICY_DIR")
    return load_policy(Path(configured) if configured else None)
