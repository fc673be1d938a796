"""Benefit payments of the insurances other than the pension (失业、医疗、工伤、生育待遇支付).

Other systems pay these benefits (the unemployment benefit office, work-injury assessment,
maternity allowance, the medical insurance's settlements); the fund's bookkeeping receives
their payment details as a file (支付明细) and records each paid line here, so that the funds'
expenditure and recipients are in the ledger. The pension (110) is not paid this way: it has
its own payment runs (domain/pension_payment.py).

This module is the `BenefitPayment` aggregate: one paid line, keyed by (region, insurance,
voucher), so that a voucher is recorded once whichever file brings it. Journal
(domain/journal.py): Dr `fund:<insurance>` (the pooled fund's expenditure), Cr `bank:payout`
(银行发放户, the expenditure account the money left through). The file's columns, the check of
a line and the catalogue of benefit kinds are domain/benefit_payment_line.py; reading files is
infra/benefit_payment_file.py, the import infra/benefit_payment_import.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.ids import fast_uuid5, region_namespace
from domain.journal import BANK_PAYOUT, JournalLine, assert_balanced, pooled_fund

# The insurances whose benefits are imported from payment details (the codes the policy tables
# know). Not 110: the pension is paid by this system's payment runs.
UNEMPLOYMENT = "210"
MEDICAL = "310"
WORK_INJURY = "410"
MATERNITY = "510"
BENEFIT_INSURANCES = (UNEMPLOYMENT, MEDICAL, WORK_INJURY, MATERNITY)


@dataclass(frozen=True, slots=True)
class BenefitLine:
    """A valid line of a payment-detail file (checked by domain/benefit_payment_line.py),
    normalised: dates ISO, period YYYY-MM, kind its code, money in fen."""

    line_no: int  # physical line (CSV) or row (XLSX); the header is line 1
    paid_on: str
    insurance: str
    kind: str
    id_number: str
    period: str
    amount_fen: int
    voucher: str

    @property
    def unique_key(self) -> tuple[str, str]:
        """A voucher is unique per insurance (each paying system numbers its own)."""
        return (self.insurance, self.voucher)


# -- the aggregate ------------------------------------------------------------------------------

def payment_journal(insurance: str, amount_fen: int) -> list[JournalLine]:
    """Dr the insurance's pooled fund, Cr the bank payout account, the whole amount."""
    assert insurance in BENEFIT_INSURANCES, insurance
    assert type(amount_fen) is int and amount_fen > 0, amount_fen
    journal: list[JournalLine] = [[pooled_fund(insurance), amount_fen, 0],
                                  [BANK_PAYOUT, 0, amount_fen]]
    assert_balanced(journal)
    return journal


class BenefitPayment(Aggregate):
    """One benefit paid by another system, as its payment details record it; keyed by
    (region, insurance, voucher): the same voucher from a second file finds it."""

    @staticmethod
    def create_id(region_code: str, insurance: str, voucher: str) -> UUID:
        return fast_uuid5(region_namespace(region_code),
                          f"benefit-payment/{insurance}/{voucher}")

    @classmethod
    def record(cls, region_code: str, person_id: str, line: BenefitLine, file_sha256: str,
               imported_by: str) -> BenefitPayment:
        return cls(region_code=region_code, person_id=person_id, insurance=line.insurance,
                   kind=line.kind, period=line.period, paid_on=line.paid_on,
                   amount_fen=line.amount_fen, voucher=line.voucher, file_sha256=file_sha256,
                   line_no=line.line_no, imported_by=imported_by,
                   journal=payment_journal(line.insurance, line.amount_fen))

    # `file_sha256` and `line_no`: the payment-detail file and its line that brought it;
    # `region_code`: the key's region (the library derives the id from the event's fields).
    @event("Paid")
    def __init__(self, region_code: str, person_id: str, insurance: str, kind: str,
                 period: str, paid_on: str, amount_fen: int, voucher: str, file_sha256: str,
                 line_no: int, imported_by: str, journal: list[list[Any]]) -> None:
        self.person_id = person_id
        self.insurance = insurance
        self.kind = kind
        self.period = period
        self.paid_on = paid_on
        self.amount_fen = amount_fen
        self.voucher = voucher
        self.file_sha256 = file_sha256
        self.line_no = line_no
