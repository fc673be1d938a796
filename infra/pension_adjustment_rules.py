"""Reads the pension adjustment rule table (domain/policy_data/pension_adjustment.toml, or the
same file in SHEBAO_POLICY_DIR) as the other policy tables are read (infra/policy_loader.py);
a bad entry stops with the file and entry at fault."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from domain.pension_adjustment import AdjustmentRule, rules_from_document
from infra.policy_loader import read_data_file

RULES_FILE = "pension_adjustment"

AdjustmentRules = dict[tuple[str, int], AdjustmentRule]


def load_adjustment_rules(directory: Path | None = None) -> AdjustmentRules:
    return rules_from_document(read_data_file("policy_data", RULES_FILE, directory))


@lru_cache(maxsize=1)
def default_adjustment_rules() -> AdjustmentRules:
    configured = os.environ.get("SHEBAO_POLICY_DIR")
    return load_adjustment_rules(Path(configured) if configured else None)
