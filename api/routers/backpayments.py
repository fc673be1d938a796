"""Back-payments (补缴): assess a person's unpaid past months (with late fee and the interest of
credited years), record the tax bureau's collection of the assessed total (posting the months
and recomputing interest, in one transaction), cancel an assessment, read one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.access import PersonReadDep, PolicyDep, masked, sees_clear
from api.deps import BackPayAssessor, BackPayCollector, ContainerDep, IdempotencyKey, Reader
from api.errors import problem_responses
from api.schemas import (
    BackPaymentAssessment,
    BackPaymentCancellation,
    BackPaymentCollection,
    BackPaymentView,
    CommandResponse,
    command_response,
)
from infra.access_log import PersonRef
from infra.backpay_service import (
    assess_backpay,
    backpay_result,
    cancel_backpay,
    collect_backpay,
    get_backpay,
)

router = APIRouter(prefix="/backpayments", tags=["back-payments"],
                   responses=problem_responses(401, 403, 422))

BackPayId = Annotated[str, Path(max_length=64, description="The assessment's id.")]


@router.post("", status_code=201, response_model=CommandResponse[BackPaymentView],
             responses=problem_responses(404, 409))
def assess(body: BackPaymentAssessment, principal: BackPayAssessor, container: ContainerDep,
           idempotency_key: IdempotencyKey = None) -> CommandResponse[BackPaymentView]:
    """补缴核定: each month at its own rates and bounds, the late fee per insurance from its
    due date to `pay_by` (capped at the amount, employer only), and the interest the back-paid
    account credits earn in the years credited already. 409 `month_already_posted`."""
    done = assess_backpay(container, body.id_number, body.employer_code, body.from_period,
                          body.to_period, body.pay_by.isoformat(), body.reason,
                          principal.username, body.base_fen, body.insurances, idempotency_key)
    return command_response(BackPaymentView, done)


@router.get("/{backpay_id}", response_model=BackPaymentView,
            responses=problem_responses(400, 404))
def read(backpay_id: BackPayId, principal: Reader, access: PersonReadDep,
         container: ContainerDep) -> BackPaymentView:
    """One assessment as recorded, with its collection if made. Needs `X-Access-Reason` (the
    read is recorded); the ID number is masked for roles that do not see it in clear."""
    found = backpay_result(get_backpay(container, backpay_id))
    view = BackPaymentView.model_validate(found if access.clear
                                          else masked(found, ("id_number",)))
    access.record(PersonRef(found["person_id"], found["id_number"]), target=backpay_id)
    return view


@router.post("/{backpay_id}/collection", status_code=201,
             response_model=CommandResponse[BackPaymentView],
             responses=problem_responses(404, 409))
def collect(backpay_id: BackPayId, body: BackPaymentCollection, principal: BackPayCollector,
            container: ContainerDep, policy: PolicyDep, idempotency_key: IdempotencyKey = None,
            ) -> CommandResponse[BackPaymentView]:
    """The tax bureau collected the assessment's total: the months are posted in their periods
    (journal from `clearing:tax`), the late fee and interest go to the pooled funds, and the
    credited years' interest is recomputed by `InterestYear.Recomputed` events. 409
    `backpay_amount_differs`, `backpay_assessment_expired`, `backpay_assessment_stale`,
    `backpay_collected`; the same collection (same tax serial) again is a no-op."""
    done = collect_backpay(container, backpay_id, body.collected_on.isoformat(),
                           body.tax_serial, body.amount_fen, principal.username,
                           body.from_suspense, idempotency_key)
    response = command_response(BackPaymentView, done)
    if not sees_clear(policy, principal):  # the collector never typed the ID number
        response.result = BackPaymentView.model_validate(
            masked(response.result.model_dump(), ("id_number",)))
    return response


@router.post("/{backpay_id}/cancellation", status_code=201,
             response_model=CommandResponse[BackPaymentView],
             responses=problem_responses(404, 409))
def cancel(backpay_id: BackPayId, body: BackPaymentCancellation, principal: BackPayAssessor,
           container: ContainerDep, idempotency_key: IdempotencyKey = None,
           ) -> CommandResponse[BackPaymentView]:
    """Cancel an assessment not collected (e.g. expired or stale), with the reason."""
    done = cancel_backpay(container, backpay_id, body.reason, principal.username,
                          idempotency_key)
    return command_response(BackPaymentView, done)
