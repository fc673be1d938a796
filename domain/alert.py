"""Alert (风险预警): what the risk monitor found (domain/risk.py), and what the auditors (稽核)
did about it, as events:

    Raised → Acknowledged (认领: someone is looking at it, with a note) → Closed (办结, with
    the resolution); an alert may also be closed straight from Raised (e.g. a false alarm).

Its id is uuid5 of the region, the rule and the finding's key (the triggering event), so the
same finding made twice addresses the same alert and the store refuses the second. The staff
whose actions an alert is about may not acknowledge or close it (审核分离)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import Conflict, PermissionDenied, ValidationFailed
from domain.ids import fast_uuid5, region_namespace

RAISED = "raised"
ACKNOWLEDGED = "acknowledged"
CLOSED = "closed"
STATUSES = (RAISED, ACKNOWLEDGED, CLOSED)
TEXT_LENGTH_MAX = 500


def _text(value: str, field: str, required: bool) -> str:
    if not isinstance(value, str):
        raise ValidationFailed(f"{field}_malformed", f"{field} must be text", field=field)
    text = value.strip()
    if required and not text:
        raise ValidationFailed(f"{field}_missing", f"{field} must not be empty: say what was "
                               "found and done", field=field)
    if len(text) > TEXT_LENGTH_MAX:
        raise ValidationFailed(f"{field}_too_long", f"{field} is over {TEXT_LENGTH_MAX} "
                               "characters", field=field)
    return text


class Alert(Aggregate):
    @staticmethod
    def create_id(region_code: str, rule_code: str, key: str) -> UUID:
        return fast_uuid5(region_namespace(region_code), f"alert/{rule_code}/{key}")

    # `events`: [log position, aggregate id, version, event type] of each event it rests on.
    @event("Raised")
    def __init__(
        self,
        region_code: str,
        rule_code: str,
        key: str,
        rule_name_zh: str,
        severity: str,
        summary_zh: str,
        person_id: str | None,
        actors: list[str],
        details: dict[str, Any],
        events: list[list[Any]],
    ) -> None:
        self.rule_code = rule_code
        self.rule_name_zh = rule_name_zh
        self.severity = severity
        self.summary_zh = summary_zh
        self.person_id = person_id
        self.actors = actors
        self.details = details
        self.events = events
        self.status = RAISED
        self.acknowledged_by: str | None = None
        self.acknowledgement_note: str | None = None
        self.closed_by: str | None = None
        self.resolution: str | None = None

    def _check_not_involved(self, username: str, doing: str) -> None:
        if username in self.actors:
            raise PermissionDenied(
                "alert_about_actor", f"this alert is about what {username} did: another "
                f"auditor {doing} it (审核分离)")

    def acknowledge(self, by: str, note: str) -> bool:
        """认领; False when `by` acknowledged it with this note already (a repeat)."""
        note = _text(note, "note", required=False)
        if self.status == CLOSED:
            raise Conflict("alert_closed", f"alert {self.id} is closed ({self.resolution}); "
                           "nothing more is done to it", field="alert_id")
        if self.status == ACKNOWLEDGED:
            if (self.acknowledged_by, self.acknowledgement_note) == (by, note):
                return False
            raise Conflict("alert_already_acknowledged", f"alert {self.id} was acknowledged by"
                           f" {self.acknowledged_by} already; close it when dealt with",
                           field="alert_id")
        self._check_not_involved(by, "acknowledges")
        self._acknowledged(by=by, note=note)
        return True

    @event("Acknowledged")
    def _acknowledged(self, by: str, note: str) -> None:
        self.status = ACKNOWLEDGED
        self.acknowledged_by = by
        self.acknowledgement_note = note

    def close(self, by: str, resolution: str) -> bool:
        """办结 with the resolution; False when `by` closed it so already (a repeat)."""
        resolution = _text(resolution, "resolution", required=True)
        if self.status == CLOSED:
            if (self.closed_by, self.resolution) == (by, resolution):
                return False
            raise Conflict("alert_already_closed", f"alert {self.id} was closed by "
                           f"{self.closed_by} already: {self.resolution}", field="alert_id")
        self._check_not_involved(by, "closes")
        self._closed(by=by, resolution=resolution)
        return True

    @event("Closed")
    def _closed(self, by: str, resolution: str) -> None:
        self.status = CLOSED
        self.closed_by = by
        self.resolution = resolution
