"""Reads the risk rules shipped in domain/risk_data/risk_rules.toml (or the `risk_rules.toml` of
a directory given by SHEBAO_RISK_DIR). A bad file stops start-up naming the file, rule and key."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from domain.risk import RiskRules
from domain.staff import ROLES
from infra.policy_loader import read_data_file

RISK_DIR_VARIABLE = "SHEBAO_RISK_DIR"


def load_risk_rules(directory: Path | None = None) -> RiskRules:
    return RiskRules.from_document(read_data_file("risk_data", "risk_rules", directory),
                                   set(ROLES))


@lru_cache(maxsize=1)
def default_risk_rules() -> RiskRules:
    configured = os.environ.get(RISK_DIR_VARIABLE)
    return load_risk_rules(Path(configured) if configured else None)
