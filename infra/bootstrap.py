"""Composition root: settings → store, read models, runner, services. Entry points (API, CLI,
benchmarks, tests) build one `Container` and use its parts."""

from __future__ import annotations

from dataclasses import dataclass

from domain.policy import PolicyTables
from infra.access_log import AccessLog, default_access_policy
from infra.integrity import ChainKeeper
from infra.ledger_service import LedgerService
from infra.policy_loader import default_policy
from infra.projection_runner import ProjectionRunner
from infra.queries import Queries
from infra.risk_loader import default_risk_rules
from infra.risk_monitor import RiskMonitor
from infra.settings import Settings
from infra.staff_service import StaffService
from infra.store import Store
from infra.trace import Tracer
from infra.views_db import ViewsDb


@dataclass
class Container:
    settings: Settings
    policy: PolicyTables
    store: Store
    views: ViewsDb
    runner: ProjectionRunner
    ledger: LedgerService
    queries: Queries
    staff: StaffService
    tracer: Tracer
    access_log: AccessLog
    risk_monitor: RiskMonitor

    @classmethod
    def open(cls, settings: Settings | None = None) -> Container:
        settings = settings or Settings.from_env()
        policy = default_policy()
        store = Store(settings)
        views = ViewsDb(settings)
        runner = ProjectionRunner(store, views)
        runner.chain = ChainKeeper(store, views)
        risk_monitor = RiskMonitor(store, views, default_risk_rules())
        runner.followers.append(risk_monitor)
        return cls(settings, policy, store, views, runner, LedgerService(store, policy),
                   Queries(views), StaffService(store), Tracer(store, views),
                   AccessLog(store, views, default_access_policy()),
                   risk_monitor=risk_monitor)

    def close(self) -> None:
        self.runner.stop()
        self.views.close()
        self.store.close()

    def __enter__(self) -> Container:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
