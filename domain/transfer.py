"""Transfer of the employee pension relationship between pooling regions (跨统筹区转移接续,
DOMAIN.md §5): the amount, the transfer information table, and the two aggregates — one per
direction — that carry the journal.

Amount (国办发〔2009〕66号 art.4, DOMAIN.md §5.1):
    transfer = personal account balance (个人账户储存额) + pooled-fund part (统筹基金)
    pooled part = 12% × Σ monthly pension base of every month from 1998-01 on, rounded once.
The account moves whole: every credit on record here, with the interest of the years credited
so far; the year of the transfer earns no interest here (the receiving region credits the
whole year, 劳办发〔1997〕116号 as quoted in DOMAIN.md §5.1). Deemed months (视同缴费年限)
carry no money and do not move.

Procedure (DOMAIN.md §5.2, 15 + 15 + 15 working days), as this region sees it:
- transfer in (转入): the insured applies here; within 15 working days we accept and send the
  acceptance letter (联系函, `PensionTransferIn.Accepted`, the transfer number is ours); the
  old region has 15 working days to send the information table and the funds; within 15
  working days of their arrival we post them (`PensionTransferIn.Posted`). At most one
  transfer of a person is in transit (Person.transfer_in_transit).
  An accepted transfer whose funds will not come (the old region refused, 拒绝函; or the
  applicant withdrew) is cancelled (`PensionTransferIn.Cancelled`), which frees the person for
  another application.
- transfer out (转出): the new region's letter arrives (its transfer number); within 15
  working days we issue the information table and remit the funds, one event
  (`PensionTransferOut.Remitted`); the months on record here move with it.

Journal (domain/journal.py): the other region's account `region:<code>` stands for money sent
to (credit) or received from (debit) that region through the fund's special account:
    out: Dr personal:<p>:110 (account part), Dr fund:110 (pooled part); Cr region:<code>
    in:  Dr region:<code>; Cr personal:<p>:110 (account part), Cr fund:110 (pooled part)
Within one province the money may not move at all (DOMAIN.md §5.1, provincial practice): a
region configured so would transfer months only; this ledger always moves the money (⚠)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import Conflict, ValidationFailed
from domain.ids import fast_uuid5, region_namespace
from domain.journal import JournalLine, assert_balanced, personal_account, pooled_fund
from domain.money import apply_rate
from domain.periods import parse_period
from domain.policy import PENSION

POOLED_SHARE = Decimal("0.12")  # 国办发〔2009〕66号 art.4
POOLED_FROM_PERIOD = "1998-01"  # months before it move no pooled part
DEADLINE_WORKING_DAYS = 15  # each of the three steps (DOMAIN.md §5.2)
OUT, IN = "out", "in"
# in: accepted (letter sent, waiting for the old region's table and funds) → posted, or
# cancelled (the old region refused, or the applicant withdrew); out: remitted
ACCEPTED, POSTED, REMITTED, CANCELLED = "accepted", "posted", "remitted", "cancelled"
REASON_LENGTH_MAX = 200

_REGION_CODE = re.compile(r"^\d{6}$")
_TRANSFER_NO = re.compile(r"^[0-9A-Za-z-]{6,40}$")
REGION_NAME_LENGTH_MAX = 60


def region_account(region_code: str) -> str:
    """The ledger account of another pooling region (domain/journal.py)."""
    return f"region:{region_code}"


def check_other_region(region_code: object, own_region_code: str, field: str) -> str:
    """A 6-digit administrative division code that is not this region's."""
    if not isinstance(region_code, str) or not _REGION_CODE.match(region_code.strip()):
        raise ValidationFailed("region_code_malformed", f"{field}: {region_code!r} is not a "
                               "6-digit administrative division code (e.g. 330106)",
                               field=field)
    code = region_code.strip()
    if code == own_region_code:
        raise ValidationFailed("transfer_within_region", f"{field}: {code} is this region: a "
                               "transfer moves the relationship between pooling regions",
                               field=field)
    return code


def check_region_name(name: object, field: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValidationFailed("region_name_missing", f"{field}: name the other region's agency "
                               "(e.g. 杭州市西湖区社会保险事业管理中心)", field=field)
    if len(name.strip()) > REGION_NAME_LENGTH_MAX:
        raise ValidationFailed("region_name_too_long", f"{field}: at most "
                               f"{REGION_NAME_LENGTH_MAX} characters", field=field)
    return name.strip()


def check_transfer_no(transfer_no: object, field: str = "transfer_no") -> str:
    """The number on the acceptance letter (联系函编号) both regions file the transfer under."""
    if not isinstance(transfer_no, str) or not _TRANSFER_NO.match(transfer_no.strip()):
        raise ValidationFailed("transfer_no_malformed", f"{field}: {transfer_no!r} is not a "
                               "transfer number (6–40 letters, digits or '-', as on the "
                               "acceptance letter 联系函)", field=field)
    return transfer_no.strip()


def pooled_part_fen(months: Mapping[str, int]) -> int:
    """12% × the sum of the monthly pension bases of the months from 1998-01 on, rounded once
    (DOMAIN.md §5.3: 12% × 1,215,000 yuan = 145,800.00)."""
    return apply_rate(sum(base for period, base in months.items()
                          if period >= POOLED_FROM_PERIOD), POOLED_SHARE)


# -- the information table's months: runs of consecutive months at one base -----------------

def month_segments(months: Mapping[str, int]) -> list[list[Any]]:
    """Period → base as `[from_period, to_period, base_fen]` runs of consecutive months at one
    base, in order: 175 months of DOMAIN.md §5.3 are 3 rows."""
    segments: list[list[Any]] = []
    previous = None
    for text in sorted(months):
        period, base = parse_period(text), months[text]
        if segments and previous is not None and previous.next() == period and \
                segments[-1][2] == base:
            segments[-1][1] = text
        else:
            segments.append([text, text, base])
        previous = period
    return segments


def expand_segments(segments: object, field: str = "months") -> dict[str, int]:
    """The months of an information table, checked: each row `[from_period, to_period,
    base_fen]` with from ≤ to, a positive base, and no month twice."""
    if not isinstance(segments, Sequence) or isinstance(segments, str | bytes) or not segments:
        raise ValidationFailed("transfer_months_missing", f"{field}: list the months moved as "
                               "[from_period, to_period, base_fen] rows", field=field)
    months: dict[str, int] = {}
    for i, row in enumerate(segments):
        where = f"{field}[{i}]"
        if not isinstance(row, Sequence) or isinstance(row, str | bytes) or len(row) != 3:
            raise ValidationFailed("transfer_months_malformed", f"{where}: {row!r} is not "
                                   "[from_period, to_period, base_fen]", field=where)
        first, last = parse_period(row[0], where), parse_period(row[1], where)
        base = row[2]
        if last < first:
            raise ValidationFailed("transfer_months_reversed", f"{where}: {row[0]} is after "
                                   f"{row[1]}", field=where)
        if type(base) is not int or base <= 0:
            raise ValidationFailed("transfer_base_invalid", f"{where}: the monthly base must be "
                                   f"a positive whole number of fen, got {base!r}", field=where)
        period = first
        while period <= last:
            text = str(period)
            if text in months:
                raise ValidationFailed("transfer_month_twice", f"{where}: {text} is listed "
                                       "twice", field=where)
            months[text] = base
            period = period.next()
    return months


def out_journal(person_id: str, region_code: str, account_fen: int, pooled_fen: int
                ) -> list[JournalLine]:
    journal: list[JournalLine] = [
        [personal_account(person_id, PENSION), account_fen, 0],
        [pooled_fund(PENSION), pooled_fen, 0],
        [region_account(region_code), 0, account_fen + pooled_fen],
    ]
    assert_balanced(journal)
    return journal


def in_journal(person_id: str, region_code: str, account_fen: int, pooled_fen: int
               ) -> list[JournalLine]:
    journal: list[JournalLine] = [
        [region_account(region_code), account_fen + pooled_fen, 0],
        [personal_account(person_id, PENSION), 0, account_fen],
        [pooled_fund(PENSION), 0, pooled_fen],
    ]
    assert_balanced(journal)
    return journal


def check_amounts(account_fen: object, pooled_fen: object, months: Mapping[str, int]) -> None:
    """What the old region's table says it sent: non-negative fen, and a pooled part equal to
    12% of the listed bases from 1998 on (a mismatch is returned to the sender, not posted)."""
    for name, value in (("account_fen", account_fen), ("pooled_fen", pooled_fen)):
        if type(value) is not int or value < 0:
            raise ValidationFailed("transfer_amount_invalid", f"{name} must be a whole number "
                                   f"of fen, zero or more, got {value!r}", field=name)
    expected = pooled_part_fen(months)
    if pooled_fen != expected:
        raise ValidationFailed(
            "transfer_pooled_part_mismatch", f"pooled_fen {pooled_fen} is not 12% of the "
            f"listed bases from {POOLED_FROM_PERIOD} on ({expected}): ask the old region to "
            "correct its information table (基本养老保险关系转移接续信息表)", field="pooled_fen")


def transfer_in_number(region_code: str, person_id: str, applied_on: str) -> str:
    """Our acceptance letter's number: region, day applied, and a person-derived suffix, so the
    same application always gets the same number (a repeated command finds its transfer)."""
    suffix = fast_uuid5(region_namespace(region_code), f"{person_id}/{applied_on}").hex[:6]
    return f"ZR{region_code}{applied_on.replace('-', '')}{suffix.upper()}"


class PensionTransferOut(Aggregate):
    """转出: the information table issued and the funds remitted to the new region, one event."""

    @staticmethod
    def create_id(region_code: str, transfer_no: str) -> UUID:
        return fast_uuid5(region_namespace(region_code), f"pension-transfer-out/{transfer_no}")

    @event("Remitted")
    def __init__(self, region_code: str, transfer_no: str, person_id: str,
                 to_region_code: str, to_region_name: str, letter_received_on: str,
                 remitted_on: str, months: list[list[Any]], contribution_months: int,
                 account_fen: int, pooled_fen: int, total_fen: int,
                 journal: list[list[Any]]) -> None:
        self.transfer_no = transfer_no
        self.person_id = person_id
        self.to_region_code = to_region_code
        self.remitted_on = remitted_on
        self.total_fen = total_fen


class PensionTransferIn(Aggregate):
    """转入: accepted (our letter sent), then posted when the old region's table and funds
    arrived."""

    @staticmethod
    def create_id(region_code: str, transfer_no: str) -> UUID:
        return fast_uuid5(region_namespace(region_code), f"pension-transfer-in/{transfer_no}")

    @event("Accepted")
    def __init__(self, region_code: str, transfer_no: str, person_id: str,
                 from_region_code: str, from_region_name: str, applied_on: str,
                 accepted_on: str, funds_due_on: str) -> None:
        self.transfer_no = transfer_no
        self.person_id = person_id
        self.from_region_code = from_region_code
        self.from_region_name = from_region_name
        self.accepted_on = accepted_on
        self.status = ACCEPTED

    def check_postable(self) -> None:
        """Only a transfer still waiting for its funds is posted."""
        if self.status == POSTED:
            raise Conflict("transfer_already_posted", f"transfer {self.transfer_no} is "
                           "posted already", field="transfer_no")
        if self.status == CANCELLED:
            raise Conflict("transfer_cancelled", f"transfer {self.transfer_no} was cancelled: "
                           "the person applies again (转入受理) for a new transfer",
                           field="transfer_no")

    def post(self, funds_received_on: str, posted_on: str, months: Mapping[str, int],
             account_fen: int, pooled_fen: int, remittance_reference: str) -> None:
        self.check_postable()
        if funds_received_on < self.accepted_on:
            raise ValidationFailed("funds_before_acceptance", f"funds_received_on "
                                   f"{funds_received_on} is before the acceptance letter "
                                   f"({self.accepted_on})", field="funds_received_on")
        check_amounts(account_fen, pooled_fen, months)
        self._posted(person_id=self.person_id, from_region_code=self.from_region_code,
                     funds_received_on=funds_received_on, posted_on=posted_on,
                     months=month_segments(months), contribution_months=len(months),
                     account_fen=account_fen, pooled_fen=pooled_fen,
                     total_fen=account_fen + pooled_fen,
                     remittance_reference=remittance_reference,
                     journal=in_journal(self.person_id, self.from_region_code, account_fen,
                                        pooled_fen))

    def cancel(self, cancelled_on: str, reason: str) -> None:
        if self.status != ACCEPTED:
            raise Conflict("transfer_not_cancellable", f"transfer {self.transfer_no} is "
                           f"{self.status}: only a transfer waiting for its funds is cancelled",
                           field="transfer_no")
        if cancelled_on < self.accepted_on:
            raise ValidationFailed("cancelled_before_acceptance", f"cancelled_on {cancelled_on}"
                                   f" is before the acceptance ({self.accepted_on})",
                                   field="cancelled_on")
        reason = reason.strip()
        if not reason or len(reason) > REASON_LENGTH_MAX:
            raise ValidationFailed("reason_missing", "say why the transfer ends (the old "
                                   "region's refusal letter, the applicant's withdrawal …), at "
                                   f"most {REASON_LENGTH_MAX} characters", field="reason")
        self._cancelled(person_id=self.person_id, cancelled_on=cancelled_on, reason=reason)

    @event("Cancelled")
    def _cancelled(self, person_id: str, cancelled_on: str, reason: str) -> None:
        self.status = CANCELLED

    @event("Posted")
    def _posted(self, person_id: str, from_region_code: str, funds_received_on: str,
                posted_on: str, months: list[list[Any]], contribution_months: int,
                account_fen: int, pooled_fen: int, total_fen: int, remittance_reference: str,
                journal: list[list[Any]]) -> None:
        self.status = POSTED


def months_after_transfers(local: Mapping[str, int], moves: Iterable[tuple[str, str,
                                                                           Mapping[str, int]]]
                           ) -> dict[str, int]:
    """The months that count here (for a pension award, DOMAIN.md §4): the months posted here,
    less those moved out, plus those moved in, applying each transfer in the order given
    (`(direction, day, months)`, ordered by the ledger)."""
    months = dict(local)
    for direction, _day, moved in moves:
        for period, base in moved.items():
            if direction == OUT:
                months.pop(period, None)
            else:
                months[period] = base
    return months
