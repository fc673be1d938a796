"""Contribution postings: one person-month, a batch of them, and reversal (红冲).

Batches ignore Idempotency-Key: the bulk path saves no receipt (a receipt saved apart from the
lines would not be atomic with them). A batch is replay-safe by its business keys instead: sent
again, every line that was posted reports `duplicate` and nothing is written twice."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import ContainerDep, IdempotencyKey, Poster, Reverser, source_of
from api.errors import ApiProblem, problem_responses
from api.schemas import (
    BATCH_LINES_MAX,
    BatchResponse,
    BatchSummary,
    CommandResponse,
    ContributionBatch,
    ContributionPosted,
    ContributionPosting,
    ContributionReversed,
    LineOutcome,
    Reversal,
    command_response,
)
from infra.bulk_posting import BulkPoster, PostingRequest

router = APIRouter(prefix="/contributions", tags=["contributions"],
                   responses=problem_responses(401, 403, 422))


@router.post("", status_code=201, response_model=CommandResponse[ContributionPosted],
             responses=problem_responses(404, 409))
def post_contribution(body: ContributionPosting, principal: Poster, container: ContainerDep,
                      idempotency_key: IdempotencyKey = None,
                      ) -> CommandResponse[ContributionPosted]:
    """Assess and post one person-month. The same month posted again with the same amounts is
    a no-op; with other amounts it is 409 (reverse it first)."""
    done = container.ledger.post_contribution(
        body.id_number, body.employer_code, body.period, body.base_fen, body.insurances,
        source=source_of(principal), idempotency_key=idempotency_key,
    )
    return command_response(ContributionPosted, done)


@router.post("/batch", response_model=BatchResponse, responses=problem_responses(409, 413))
def post_batch(body: ContributionBatch, principal: Poster,
               container: ContainerDep) -> BatchResponse:
    """Post many person-months. Each line is posted, a duplicate, or rejected with its code,
    field and message; a rejected line never stops the others. Idempotency-Key is ignored:
    a batch sent again reports its posted lines as `duplicate`."""
    if len(body.lines) > BATCH_LINES_MAX:
        raise ApiProblem(413, "batch_too_large",
                         f"{len(body.lines)} lines; send at most {BATCH_LINES_MAX} per request",
                         field="lines")
    source = source_of(principal, body.source)
    # No worker process here: a request holds at most 10,000 lines, and forking a threaded
    # server per request costs more than it saves.
    done = BulkPoster(container.store, container.policy, source).post(
        (PostingRequest(line.id_number, line.employer_code, line.period, line.base_fen,
                        tuple(line.insurances) if line.insurances else None)
         for line in body.lines),
        worker=False,
    )
    return BatchResponse(
        source=source,
        summary=BatchSummary(**done.summary()),
        # Nothing new written (all duplicates or rejected): the head is where a reader is sure
        # to see the earlier postings.
        position=done.position or container.store.max_position(),
        outcomes=[
            LineOutcome(index=o.index, status=o.status, code=o.code or None,
                        field=o.field or None, message=o.message or None,
                        total_fen=o.total_fen)
            for o in done.outcomes
        ],
    )


@router.post("/{id_number}/{period}/reversal",
             response_model=CommandResponse[ContributionReversed],
             responses=problem_responses(404, 409))
def reverse_contribution(
    id_number: Annotated[str, Path(max_length=32)], period: Annotated[str, Path(max_length=16)],
    body: Reversal, principal: Reverser, container: ContainerDep,
    idempotency_key: IdempotencyKey = None,
) -> CommandResponse[ContributionReversed]:
    """Reverse (红冲) a posted month with a new event; the month may then be posted again."""
    done = container.ledger.reverse_contribution(
        id_number, period, body.reason, source=source_of(principal),
        idempotency_key=idempotency_key,
    )
    return command_response(ContributionReversed, done)
