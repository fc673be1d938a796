"""Alerts of the risk monitor for the auditors (稽核): list them (read model `alerts`), read one
with the events it links to (from the event store, as stored), acknowledge (认领) and close
(办结) one — commands through `LedgerService.execute` (Idempotency-Key, optimistic retries), their
events carrying the acting user."""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

import orjson

from domain.alert import STATUSES, Alert
from domain.errors import NotFound, ValidationFailed
from domain.risk import SEVERITIES, EventRef
from infra.bootstrap import Container
from infra.ledger_service import CommandResult, Decision
from projections.alerts import COLUMNS, JSON_COLUMNS, TABLE

WAIT_TIMEOUT_SECONDS_MAX = 10.0


def alert_id_of(text: str) -> UUID:
    try:
        return UUID(text)
    except (TypeError, ValueError):
        raise ValidationFailed("alert_id_malformed", f"{text!r} is not an alert id",
                               field="alert_id") from None


def get_alert(c: Container, alert_id: str) -> Alert:
    found = c.ledger._get(alert_id_of(alert_id))
    if not isinstance(found, Alert):
        raise NotFound("alert_not_found", f"no alert {alert_id} in region "
                       f"{c.settings.region_code}", field="alert_id")
    return found


def alert_result(alert: Alert) -> dict[str, Any]:
    return {"alert_id": str(alert.id), "rule_code": alert.rule_code,
            "rule_name_zh": alert.rule_name_zh, "severity": alert.severity,
            "severity_zh": SEVERITIES[alert.severity], "status": alert.status,
            "person_id": alert.person_id, "actors": list(alert.actors),
            "summary_zh": alert.summary_zh, "details": dict(alert.details),
            "events": [EventRef.from_list(e).as_list() for e in alert.events],
            "acknowledged_by": alert.acknowledged_by,
            "acknowledgement_note": alert.acknowledgement_note,
            "closed_by": alert.closed_by, "resolution": alert.resolution}


def acknowledge_alert(c: Container, alert_id: str, by: str, note: str = "",
                      idempotency_key: str | None = None) -> CommandResult:
    """认领: `by` is looking into it (refused when closed, or acknowledged by someone else)."""
    payload = {"alert_id": alert_id, "by": by, "note": note}

    def decide() -> Decision:
        alert = get_alert(c, alert_id)
        changed = alert.acknowledge(by, note)
        return Decision([alert] if changed else [], alert_result(alert))

    with c.ledger.acting(by):
        return c.ledger.execute("acknowledge_alert", payload, decide, idempotency_key)


def close_alert(c: Container, alert_id: str, by: str, resolution: str,
                idempotency_key: str | None = None) -> CommandResult:
    """办结 with the resolution (refused when closed already with another)."""
    payload = {"alert_id": alert_id, "by": by, "resolution": resolution}

    def decide() -> Decision:
        alert = get_alert(c, alert_id)
        changed = alert.close(by, resolution)
        return Decision([alert] if changed else [], alert_result(alert))

    with c.ledger.acting(by):
        return c.ledger.execute("close_alert", payload, decide, idempotency_key)


def alert_view(c: Container, alert: Alert) -> dict[str, Any]:
    """The alert with each linked event as stored: type, position, recorded time and state
    (with the acting user's meta where recorded). The person is named by id only: their record
    is read through the person routes, which record the read (查询留痕)."""
    return {**alert_result(alert),
            "linked_events": [linked_event(c, EventRef.from_list(e)) for e in alert.events]}


def linked_event(c: Container, ref: EventRef) -> dict[str, Any]:
    stored = c.store.recorder.select_events(UUID(ref.originator_id), gt=ref.version - 1,
                                            lte=ref.version)
    found = {"position": ref.position, "originator_id": ref.originator_id,
             "version": ref.version, "type": ref.type_name, "found": bool(stored)}
    if not stored:  # deleted behind the ledger's back: `shebao verify` says more
        return {**found, "recorded_at": None, "state": None}
    state = c.store.decode_state(stored[0].state)
    timestamp = state.pop("timestamp", None)
    state.pop("originator_topic", None)
    recorded_at = timestamp.get("_data_") if isinstance(timestamp, dict) else None
    return {**found, "recorded_at": recorded_at, "state": state}


def list_alerts(c: Container, status: str | None = None, rule_code: str | None = None,
                person_id: str | None = None, limit: int = 100, offset: int = 0
                ) -> list[dict[str, Any]]:
    """Alerts from the read model, oldest first, optionally of one status, rule or person."""
    if status is not None and status not in STATUSES:
        raise ValidationFailed("status_unknown", f"status must be one of {', '.join(STATUSES)}",
                               field="status")
    if rule_code is not None and rule_code not in c.risk_monitor.rules.rules:
        raise ValidationFailed("rule_unknown", "rule must be one of "
                               + ", ".join(c.risk_monitor.rules.rules), field="rule")
    where, params = [], []
    for column, value in (("status", status), ("rule_code", rule_code),
                          ("person_id", person_id)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    sql = (f"SELECT {', '.join(COLUMNS)} FROM {TABLE}"
           + (f" WHERE {' AND '.join(where)}" if where else "")
           + " ORDER BY raised_position LIMIT ? OFFSET ?")
    rows = []
    for row in c.views.query(sql, [*params, limit, offset]):
        item = dict(zip(COLUMNS, row, strict=True))
        for column in JSON_COLUMNS:
            item[column] = orjson.loads(item[column])
        item["severity_zh"] = SEVERITIES[item["severity"]]
        rows.append(item)
    return rows


def alert_count(c: Container) -> int:
    return int(c.views.query(f"SELECT count(*) FROM {TABLE}")[0][0])


def alerts_reached(c: Container, position: int, timeout_seconds: float) -> bool:
    """Wait (bounded) until the monitor has evaluated `position` and the alerts it raised for
    it are in the read model; catches up in this thread when nothing else does."""
    deadline = time.monotonic() + min(timeout_seconds, WAIT_TIMEOUT_SECONDS_MAX)
    if not c.runner.wait_for(position, timeout_seconds):
        return False
    while c.risk_monitor.position() < position:
        if time.monotonic() >= deadline:
            return False
        c.risk_monitor.catch_up()  # safe beside the runner's own call: the position is locked
    # Every alert raised for events up to `position` is in the log by now.
    return c.runner.wait_for(c.store.max_position(), max(0.0, deadline - time.monotonic()))


def settle(c: Container) -> int:
    """Catch the read models and the monitor up, the alerts it raised projected too (the
    command line and tests, without a follower thread)."""
    return c.runner.catch_up()
