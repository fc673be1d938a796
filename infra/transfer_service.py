"""Pension transfers between pooling regions (跨统筹区转移接续, domain/transfer.py): the three
commands, each normally the effect of a counter case (domain/catalogue_data/business_items.toml:
transfer_in accepts, transfer_in_posting posts the funds, transfer_out remits).

- `accept_transfer_in`: the insured applied here; we send the acceptance letter (联系函). The
  old region then owes the information table and the funds within 15 working days
  (`funds_due_on`, the overdue queue `GET /v1/transfers?overdue=true`).
- `post_transfer_in`: the table and the funds arrived; the months, the account part and the
  pooled part are posted. Refused when a month listed is on record here too (重复缴费 must be
  cleared first), or the pooled part is not 12% of the listed bases.
- `cancel_transfer_in`: an accepted transfer whose funds will not come ends (refusal letter,
  withdrawal); the person may apply again.
- `transfer_out`: the new region's letter arrived; the months on record here, the account
  balance and the pooled part are computed from the read models (caught up first) and
  remitted in one event. The person must have stopped contributing here, with no
  back-payment assessed and not collected."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import orjson

from domain.errors import Conflict, NotFound, ValidationFailed
from domain.transfer import (
    ACCEPTED,
    CANCELLED,
    DEADLINE_WORKING_DAYS,
    IN,
    OUT,
    POSTED,
    REMITTED,
    PensionTransferIn,
    PensionTransferOut,
    check_other_region,
    check_region_name,
    check_transfer_no,
    expand_segments,
    month_segments,
    out_journal,
    pooled_part_fen,
    transfer_in_number,
)
from infra.bootstrap import Container
from infra.catalogue_loader import default_calendar
from infra.ledger_service import CommandResult, Decision, parse_day
from projections.transfers import COLUMNS, TABLE

REFERENCE_LENGTH_MAX = 64
STATUSES = (ACCEPTED, POSTED, REMITTED, CANCELLED)


def _day(text: str | None, field: str) -> str:
    """The day given, or today at the bureau (China Standard Time)."""
    from infra.case_service import business_today

    return parse_day(text, field) if text is not None else business_today().isoformat()


def transfer_moves(c: Container, person_id: str) -> list[tuple[str, str, dict[str, int]]]:
    """(direction, day, months) of the person's completed transfers, in ledger order."""
    moves = []
    for direction, day, months in c.views.query(
            f"SELECT direction, completed_on, months FROM {TABLE} WHERE person_id = ?"
            " AND months IS NOT NULL ORDER BY completed_position", (person_id,)):
        moves.append((str(direction), str(day), expand_segments(orjson.loads(months))))
    return moves


def accept_transfer_in(c: Container, id_number: str, from_region_code: str,
                       from_region_name: str, applied_on: str, accepted_on: str | None = None,
                       idempotency_key: str | None = None) -> CommandResult:
    from infra.pension_service import pension_months

    region = check_other_region(from_region_code, c.settings.region_code, "from_region_code")
    name = check_region_name(from_region_name, "from_region_name")
    applied = parse_day(applied_on, "applied_on")
    accepted = _day(accepted_on, "accepted_on")
    if accepted < applied:
        raise ValidationFailed("accepted_before_application", f"accepted_on {accepted} is "
                               f"before applied_on {applied}", field="accepted_on")
    due = default_calendar().add_working_days(date.fromisoformat(accepted),
                                              DEADLINE_WORKING_DAYS).isoformat()
    payload = {"id_number": id_number, "from_region_code": region, "from_region_name": name,
               "applied_on": applied, "accepted_on": accepted}

    def decide() -> Decision:
        person = c.ledger.person(id_number)
        person_id = str(person.id)
        transfer_no = transfer_in_number(c.settings.region_code, person_id, applied)
        if c.ledger._get(PensionTransferIn.create_id(c.settings.region_code,
                                                     transfer_no)) is not None:
            raise Conflict("transfer_already_accepted", f"this application is accepted "
                           f"already as transfer {transfer_no}", field="applied_on")
        c.runner.catch_up()
        if not pension_months(c, person_id):
            raise Conflict("no_contributions_here", "the relationship moves to where the "
                           "person contributes now: post a pension month here first "
                           "(参保缴费后申请转入)", field="id_number")
        person.open_transfer_in(transfer_no, region)
        transfer = PensionTransferIn(
            region_code=c.settings.region_code, transfer_no=transfer_no, person_id=person_id,
            from_region_code=region, from_region_name=name, applied_on=applied,
            accepted_on=accepted, funds_due_on=due)
        return Decision([person, transfer], {
            "person_id": person_id, "transfer_id": str(transfer.id),
            "transfer_no": transfer_no, "accepted_on": accepted, "funds_due_on": due})

    return c.ledger.execute("accept_transfer_in", payload, decide, idempotency_key)


def post_transfer_in(c: Container, id_number: str, transfer_no: str, funds_received_on: str,
                     months: Sequence[Sequence[Any]], account_fen: int, pooled_fen: int,
                     remittance_reference: str, posted_on: str | None = None,
                     idempotency_key: str | None = None) -> CommandResult:
    from infra.pension_service import pension_months

    number = check_transfer_no(transfer_no)
    received = parse_day(funds_received_on, "funds_received_on")
    posted = _day(posted_on, "posted_on")
    listed = expand_segments(months)
    if not isinstance(remittance_reference, str) or not remittance_reference.strip() or len(
            remittance_reference.strip()) > REFERENCE_LENGTH_MAX:
        raise ValidationFailed("remittance_reference_missing", "remittance_reference: the "
                               "bank or finance voucher of the funds received (at most "
                               f"{REFERENCE_LENGTH_MAX} characters)",
                               field="remittance_reference")
    reference = remittance_reference.strip()
    payload = {"id_number": id_number, "transfer_no": number, "funds_received_on": received,
               "months": month_segments(listed), "account_fen": account_fen,
               "pooled_fen": pooled_fen, "remittance_reference": reference,
               "posted_on": posted}

    def decide() -> Decision:
        person = c.ledger.person(id_number)
        person_id = str(person.id)
        transfer: PensionTransferIn | None = c.ledger._get(
            PensionTransferIn.create_id(c.settings.region_code, number))
        if transfer is None or transfer.person_id != person_id:
            raise NotFound("transfer_not_found", f"no transfer in numbered {number} for this "
                           "person: accept the application first (转入受理)",
                           field="transfer_no")
        transfer.check_postable()  # before the months: a repeat says so, not "overlap"
        if received > posted:
            raise ValidationFailed("funds_after_posting", f"funds_received_on {received} is "
                                   f"after posted_on {posted}", field="funds_received_on")
        c.runner.catch_up()
        here = pension_months(c, person_id)
        overlap = sorted(set(here) & set(listed))
        if overlap:
            raise Conflict("transfer_months_overlap", f"{len(overlap)} month(s) listed are on "
                           f"record here too ({overlap[0]}…{overlap[-1]}): duplicate "
                           "contributions (重复缴费) must be cleared with the old region "
                           "before the transfer is posted", field="months")
        transfer.post(received, posted, listed, account_fen, pooled_fen, reference)
        person.close_transfer_in(number, "posted")
        return Decision([person, transfer], {
            "person_id": person_id, "transfer_id": str(transfer.id), "transfer_no": number,
            "contribution_months": len(listed), "account_fen": account_fen,
            "pooled_fen": pooled_fen, "total_fen": account_fen + pooled_fen})

    return c.ledger.execute("post_transfer_in", payload, decide, idempotency_key)


def cancel_transfer_in(c: Container, id_number: str, transfer_no: str, reason: str,
                       cancelled_on: str | None = None, idempotency_key: str | None = None
                       ) -> CommandResult:
    """转入终止: an accepted transfer in whose funds will not come (the old region refused, or
    the applicant withdrew) ends, and the person may apply again."""
    number = check_transfer_no(transfer_no)
    day = _day(cancelled_on, "cancelled_on")
    if not isinstance(reason, str):
        raise ValidationFailed("reason_missing", "reason must be text", field="reason")
    payload = {"id_number": id_number, "transfer_no": number, "reason": reason.strip(),
               "cancelled_on": day}

    def decide() -> Decision:
        person = c.ledger.person(id_number)
        transfer: PensionTransferIn | None = c.ledger._get(
            PensionTransferIn.create_id(c.settings.region_code, number))
        if transfer is None or transfer.person_id != str(person.id):
            raise NotFound("transfer_not_found", f"no transfer in numbered {number} for this "
                           "person", field="transfer_no")
        transfer.cancel(day, reason)
        person.close_transfer_in(number, "cancelled")
        return Decision([person, transfer], {"person_id": str(person.id),
                                             "transfer_id": str(transfer.id),
                                             "transfer_no": number, "cancelled_on": day})

    return c.ledger.execute("cancel_transfer_in", payload, decide, idempotency_key)


def transfer_out(c: Container, id_number: str, transfer_no: str, to_region_code: str,
                 to_region_name: str, letter_received_on: str, remitted_on: str | None = None,
                 idempotency_key: str | None = None) -> CommandResult:
    from infra.pension_service import pension_months

    number = check_transfer_no(transfer_no)
    region = check_other_region(to_region_code, c.settings.region_code, "to_region_code")
    name = check_region_name(to_region_name, "to_region_name")
    letter = parse_day(letter_received_on, "letter_received_on")
    remitted = _day(remitted_on, "remitted_on")
    if remitted < letter:
        raise ValidationFailed("remitted_before_letter", f"remitted_on {remitted} is before "
                               f"the letter arrived ({letter})", field="remitted_on")
    payload = {"id_number": id_number, "transfer_no": number, "to_region_code": region,
               "to_region_name": name, "letter_received_on": letter, "remitted_on": remitted}

    def decide() -> Decision:
        person = c.ledger.person(id_number)
        person_id = str(person.id)
        transfer_id = PensionTransferOut.create_id(c.settings.region_code, number)
        if c.ledger._get(transfer_id) is not None:
            raise Conflict("transfer_already_remitted", f"transfer {number} is remitted "
                           "already", field="transfer_no")
        person.transfer_out(number, region, remitted)
        c.runner.catch_up()
        open_backpay = c.views.query(
            "SELECT first_period, last_period FROM backpayments WHERE person_id = ?"
            " AND status = 'assessed'", (person_id,))
        if open_backpay:
            first, last = open_backpay[0]
            raise Conflict("backpay_open", f"a back-payment of {first}…{last} is assessed and "
                           "not collected: collect or cancel it first (uncleared data do not "
                           "move, DOMAIN.md §12)", field="id_number")
        months = pension_months(c, person_id)
        if not months:
            raise Conflict("nothing_to_transfer", "no pension month is on record here for "
                           "this person: there is nothing to transfer", field="id_number")
        account_fen = int(c.queries.account_balance(person_id)["balance_fen"])
        pooled_fen = pooled_part_fen(months)
        transfer = PensionTransferOut(
            region_code=c.settings.region_code, transfer_no=number, person_id=person_id,
            to_region_code=region, to_region_name=name, letter_received_on=letter,
            remitted_on=remitted, months=month_segments(months),
            contribution_months=len(months), account_fen=account_fen, pooled_fen=pooled_fen,
            total_fen=account_fen + pooled_fen,
            journal=out_journal(person_id, region, account_fen, pooled_fen))
        return Decision([person, transfer], {
            "person_id": person_id, "transfer_id": str(transfer_id), "transfer_no": number,
            "contribution_months": len(months), "account_fen": account_fen,
            "pooled_fen": pooled_fen, "total_fen": account_fen + pooled_fen})

    return c.ledger.execute("transfer_out", payload, decide, idempotency_key)


def transfers(c: Container, person_id: str | None = None, direction: str | None = None,
              status: str | None = None, overdue_on: str | None = None,
              limit: int = 200) -> list[dict[str, Any]]:
    """Transfers as the read model has them, newest first. `overdue_on`: transfers in still
    waiting for the old region's funds after their due day."""
    where, params = ["1 = 1"], []
    if person_id is not None:
        where.append("person_id = ?")
        params.append(person_id)
    if direction is not None:
        if direction not in (IN, OUT):
            raise ValidationFailed("direction_unknown", f"direction must be {IN} or {OUT}",
                                   field="direction")
        where.append("direction = ?")
        params.append(direction)
    if status is not None:
        if status not in STATUSES:
            raise ValidationFailed("transfer_status_unknown", f"status must be one of "
                                   f"{', '.join(STATUSES)}", field="status")
        where.append("status = ?")
        params.append(status)
    if overdue_on is not None:
        where.append("status = 'accepted' AND due_on < ?")
        params.append(overdue_on)
    rows = c.views.query(
        f"SELECT {', '.join(COLUMNS)} FROM {TABLE} WHERE {' AND '.join(where)}"
        " ORDER BY opened_position DESC LIMIT ?", (*params, limit))
    found = []
    for row in rows:
        item = dict(zip(COLUMNS, row, strict=True))
        item["months"] = orjson.loads(item["months"]) if item["months"] else None
        found.append(item)
    return found
