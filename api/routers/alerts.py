"""Alerts of the risk monitor (风险预警, 经办风险实时监控): auditors list them, read one with the
events it links to, acknowledge (认领) and close (办结) them. The acting user is recorded on
each decision; whoever an alert is about may not decide it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from api.access import PolicyDep, masked_deep, sees_clear
from api.deps import (
    RETRY_AFTER_LAGGING_SECONDS,
    RETRY_AFTER_STOPPED_SECONDS,
    WAIT_SECONDS_DEFAULT,
    WAIT_SECONDS_MAX,
    ContainerDep,
    IdempotencyKey,
    MinPosition,
    WaitSeconds,
    allowed,
    current_aggregate,
)
from api.errors import ApiProblem, problem_responses
from api.schemas import (
    PAGE_LIMIT_DEFAULT,
    PAGE_LIMIT_MAX,
    CommandResponse,
    IdNumber,
    Page,
    Request,
    command_response,
)
from domain import ids
from domain.identity import parse_id_number
from domain.risk import RULE_PARAMETERS
from infra.alert_service import (
    acknowledge_alert,
    alert_view,
    alerts_reached,
    close_alert,
    get_alert,
    list_alerts,
)
from infra.bootstrap import Container
from infra.staff_service import Principal

OFFSET_MAX = 10_000_000

router = APIRouter(prefix="/alerts", tags=["alerts"], responses=problem_responses(401, 403, 422))

Auditor = Annotated[Principal, Depends(allowed("audit_alerts"))]
AlertId = Annotated[str, Path(max_length=64, description="The alert's id.")]
Status = Literal["raised", "acknowledged", "closed"]
Severity = Literal["high", "medium", "low"]
RuleCode = Annotated[str, Field(json_schema_extra={"enum": list(RULE_PARAMETERS)})]


class AlertAcknowledgement(Request):
    note: Annotated[str, Field(max_length=500, description="What is being looked into.")] = ""


class AlertClosure(Request):
    resolution: Annotated[str, Field(max_length=500, description="What was found and done.")]


class AlertView(BaseModel):
    alert_id: str
    rule_code: RuleCode
    rule_name_zh: str
    severity: Severity
    severity_zh: str
    status: Status
    person_id: str | None
    actors: list[str] = Field(description="Staff whose actions the alert is about.")
    summary_zh: str
    details: dict[str, Any]
    events: list[list[Any]] = Field(
        description="[log position, aggregate id, version, event type] of each linked event.")
    acknowledged_by: str | None
    acknowledgement_note: str | None
    closed_by: str | None
    resolution: str | None


class AlertListItem(AlertView):
    raised_position: int
    raised_at: str
    acknowledged_position: int | None
    acknowledged_at: str | None
    closed_position: int | None
    closed_at: str | None


class AlertPage(Page):
    items: list[AlertListItem]


class LinkedEvent(BaseModel):
    position: int
    originator_id: str
    version: int
    type: str
    found: bool = Field(description="False when the event is not in the store any more "
                                    "(run `shebao verify`).")
    recorded_at: str | None
    state: dict[str, Any] | None = Field(description="The event as stored, with `meta` (the "
                                                     "acting user, case, command) if recorded.")


class AlertDetail(AlertView):
    linked_events: list[LinkedEvent]


def alerts_position(container: ContainerDep, min_position: MinPosition = None,
                    wait_seconds: WaitSeconds = WAIT_SECONDS_DEFAULT) -> int:
    """Read your writes, alerts included: wait (bounded) until the monitor has evaluated
    `min_position` and its alerts are listed."""
    if min_position is None:
        return container.runner.position()
    try:
        reached = alerts_reached(container, min_position, min(wait_seconds, WAIT_SECONDS_MAX))
    except RuntimeError as e:  # the follower thread died: no wait will help
        raise ApiProblem(503, "projection_stopped", f"read models are not updating: {e}",
                         headers={"Retry-After": str(RETRY_AFTER_STOPPED_SECONDS)}) from e
    if not reached:
        raise ApiProblem(503, "projection_lagging", f"alerts for position {min_position} are not"
                         " listed yet; retry shortly", field="min_position",
                         headers={"Retry-After": str(RETRY_AFTER_LAGGING_SECONDS)})
    return container.runner.position()


AlertsPosition = Annotated[int, Depends(alerts_position)]


def _person_id(container: Container, id_number: str | None) -> str | None:
    if id_number is None:
        return None
    return str(ids.person_id(container.settings.region_code, parse_id_number(id_number).number))


@router.get("", response_model=AlertPage, responses=problem_responses(503))
def list_(
    principal: Auditor, container: ContainerDep, position: AlertsPosition,
    status: Annotated[Status | None, Query(description="Only alerts of this status.")] = None,
    rule: Annotated[str | None, Query(max_length=64, description="Only this rule's alerts.",
                                      json_schema_extra={"enum": list(RULE_PARAMETERS)})
                    ] = None,
    id_number: Annotated[IdNumber | None, Query(description="Only alerts about this person."
                                                )] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_LIMIT_MAX)] = PAGE_LIMIT_DEFAULT,
    offset: Annotated[int, Query(ge=0, le=OFFSET_MAX)] = 0,
) -> AlertPage:
    """Alerts in the order they were raised."""
    rows = list_alerts(container, status, rule, _person_id(container, id_number), limit, offset)
    return AlertPage(items=[AlertListItem.model_validate(r) for r in rows], limit=limit,
                     offset=offset, next_offset=offset + limit if len(rows) == limit else None,
                     position=position)


@router.get("/{alert_id}", response_model=AlertDetail, responses=problem_responses(404),
            dependencies=[Depends(current_aggregate)])
def read(alert_id: AlertId, principal: Auditor, container: ContainerDep,
         policy: PolicyDep) -> AlertDetail:
    """One alert as recorded, its person, and each event it links to as stored (ID numbers
    and names masked for roles that see personal data masked)."""
    view = alert_view(container, get_alert(container, alert_id))
    if not sees_clear(policy, principal):
        view = {**view, "linked_events": [{**e, "state": masked_deep(e["state"])}
                                          for e in view["linked_events"]]}
    return AlertDetail.model_validate(view)


@router.post("/{alert_id}/acknowledgement", status_code=201,
             response_model=CommandResponse[AlertView], responses=problem_responses(404, 409))
def acknowledge(alert_id: AlertId, body: AlertAcknowledgement, principal: Auditor,
                container: ContainerDep, idempotency_key: IdempotencyKey = None,
                ) -> CommandResponse[AlertView]:
    """认领: the acting auditor looks into it. 409 `alert_closed`,
    `alert_already_acknowledged` (by someone else); 403 `alert_about_actor`."""
    done = acknowledge_alert(container, alert_id, principal.username, body.note,
                             idempotency_key)
    return command_response(AlertView, done)


@router.post("/{alert_id}/closure", status_code=201, response_model=CommandResponse[AlertView],
             responses=problem_responses(404, 409))
def close(alert_id: AlertId, body: AlertClosure, principal: Auditor, container: ContainerDep,
          idempotency_key: IdempotencyKey = None) -> CommandResponse[AlertView]:
    """办结 with the resolution (from raised or acknowledged). 409 `alert_already_closed`;
    422 `resolution_missing`; 403 `alert_about_actor`."""
    done = close_alert(container, alert_id, principal.username, body.resolution,
                       idempotency_key)
    return command_response(AlertView, done)
