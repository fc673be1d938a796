"""Request and response bodies of the HTTP API (pydantic v2).

The split of checks: these models check JSON *types and sizes* (an amount is a whole number, not
12.5 or "100"; a string is at most so long; no unknown fields), and answer 422 `request_invalid`.
The domain checks *values* (ID check digits, periods, signs, insurance codes, bounds) and answers
with its own stable codes. So schema constraints the domain owns appear in the OpenAPI document
as hints (`json_schema_extra`) and are not enforced twice with a different code."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from domain.registration import EMPLOYER_TYPES

AMOUNT_FEN_MAX = 10**12  # 100 million yuan: more in one field is a typo, and stays in int64
BATCH_LINES_MAX = 10_000
INSURANCES_PER_LINE_MAX = 16
PAGE_LIMIT_MAX = 1000
PAGE_LIMIT_DEFAULT = 100


def _iso_date_text(value: Any) -> Any:
    # pydantic would also take a number of seconds since 1970 for a date: refuse anything but
    # the written form.
    if not isinstance(value, str) or len(value) != 10:
        raise PydanticCustomError("date_malformed", "must be a date written YYYY-MM-DD")
    return value


def _text(length_max: int) -> StringConstraints:
    return StringConstraints(strict=True, max_length=length_max)


IsoDate = Annotated[date, BeforeValidator(_iso_date_text)]
Fen = Annotated[int, Field(strict=True, le=AMOUNT_FEN_MAX, description="Whole fen (分).")]
IdNumber = Annotated[str, _text(32), Field(
    description="18-character resident ID number (GB 11643).", examples=["440781199001011237"])]
CreditCode = Annotated[str, _text(32), Field(
    description="18-character unified social credit code (GB 32100).")]
Period = Annotated[str, _text(16), Field(
    description="The month the contribution belongs to (费款所属期), YYYY-MM.",
    json_schema_extra={"pattern": r"^\d{4}-\d{2}$"}, examples=["2024-03"])]
InsuranceCode = Annotated[str, _text(8), Field(
    description="Insurance code (AAE140), e.g. 110 pension.", examples=["110"])]
Name = Annotated[str, _text(200)]
Label = Annotated[str, _text(100)]
Reason = Annotated[str, _text(500)]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not ignored


# -- requests --------------------------------------------------------------------------------

class EmployerRegistration(Request):
    credit_code: CreditCode
    name: Name
    employer_type: Annotated[str, _text(32), Field(
        json_schema_extra={"enum": list(EMPLOYER_TYPES)})]
    risk_class: Annotated[int, Field(strict=True, description="Industry risk class 1-8 "
                                     "(sets the work-injury rate).",
                                     json_schema_extra={"minimum": 1, "maximum": 8})]
    industry: Label = ""
    registered_on: IsoDate | None = Field(default=None, description="Default: today.")


class PersonRegistration(Request):
    id_number: IdNumber
    name: Name
    registered_on: IsoDate | None = Field(default=None, description="Default: today.")


class EmploymentStart(Request):
    employer_code: CreditCode
    start_date: IsoDate


class EmploymentEnd(Request):
    employer_code: CreditCode
    end_date: IsoDate


class BaseDeclaration(Request):
    year: Annotated[int, Field(strict=True, examples=[2024])]
    declared_wage_fen: Annotated[Fen, Field(
        description="Declared monthly wage in fen; the base is it clamped to the year's bounds.",
        json_schema_extra={"minimum": 0})]


class ContributionPosting(Request):
    id_number: IdNumber
    employer_code: CreditCode
    period: Period
    base_fen: Annotated[Fen | None, Field(
        description="Monthly base in fen; default: the base declared for the year.",
        json_schema_extra={"minimum": 0})] = None
    insurances: list[InsuranceCode] | None = Field(
        default=None, min_length=1, max_length=INSURANCES_PER_LINE_MAX,
        description="Insurance codes to assess; default: all employee insurances.")


class ContributionBatch(Request):
    source: Label | None = Field(default=None,
                                 description="What the lines come from, e.g. a file name.")
    lines: list[ContributionPosting] = Field(
        min_length=1, json_schema_extra={"maxItems": BATCH_LINES_MAX},
        description=f"At most {BATCH_LINES_MAX} lines; more is 413 `batch_too_large`.")


class Reversal(Request):
    reason: Reason = Field(description="Why the month is reversed (红冲).")


# -- command responses -----------------------------------------------------------------------

ResultT = TypeVar("ResultT", bound=BaseModel)


class CommandResponse(BaseModel, Generic[ResultT]):
    result: ResultT
    position: int = Field(description="Log position of the command's events; pass it as "
                                      "`min_position` to read your writes.")
    replayed: bool = Field(description="True when an Idempotency-Key replay returned the "
                                       "original result and nothing was written.")


def command_response(result_model: type[ResultT], done: Any) -> CommandResponse[ResultT]:
    """A service's CommandResult (result, position, replayed) as a typed response body."""
    return CommandResponse[result_model].model_validate(  # type: ignore[valid-type]
        {"result": done.result, "position": done.position, "replayed": done.replayed})


class EmployerRegistered(BaseModel):
    employer_id: str
    credit_code: str


class PersonRegistered(BaseModel):
    person_id: str


class EmploymentStarted(BaseModel):
    person_id: str
    employer_code: str
    start_date: date


class EmploymentEnded(BaseModel):
    person_id: str
    employer_code: str
    end_date: date


class BaseDeclared(BaseModel):
    person_id: str
    year: int
    declared_wage_fen: int
    base_fen: int


MONTH_LINE_FIELDS = ("insurance", "base_fen", "employer_fen", "individual_fen", "account_fen")


class MonthLine(BaseModel):
    insurance: str
    base_fen: int
    employer_fen: int
    individual_fen: int
    account_fen: int = Field(description="Part of individual_fen credited to the personal "
                                         "account.")

    @model_validator(mode="before")
    @classmethod
    def _from_stored_row(cls, value: Any) -> Any:
        """Events store a line positionally: [insurance, base, employer, individual, account]."""
        if isinstance(value, list | tuple):
            return dict(zip(MONTH_LINE_FIELDS, value, strict=True))
        return value


class ContributionPosted(BaseModel):
    month_id: str
    person_id: str
    period: str
    status: str
    total_fen: int
    lines: list[MonthLine]


class ContributionReversed(BaseModel):
    month_id: str
    person_id: str
    period: str
    status: str
    reversals: int


class InterestRun(BaseModel):
    year: int
    rate: str = Field(description="The year's notional rate (记账利率), a decimal string.")
    credited: int = Field(description="Persons credited by this run.")
    skipped: int = Field(description="Persons whose year was credited before.")
    moved_away: int = Field(0, description=(
        "Accounts that left in the year (transfer out 转出, link to the residents' scheme "
        "城乡衔接): the year's interest is credited where they went, none here."))
    interest_fen: int
    position: int


class LineOutcome(BaseModel):
    index: int = Field(description="0-based index of the line in the request.")
    status: str = Field(json_schema_extra={"enum": ["posted", "duplicate", "rejected"]})
    code: str | None = None
    field: str | None = None
    message: str | None = None
    total_fen: int


class BatchSummary(BaseModel):
    posted: int
    duplicate: int
    rejected: int


class BatchResponse(BaseModel):
    source: str
    summary: BatchSummary
    position: int
    outcomes: list[LineOutcome]


# -- reads -----------------------------------------------------------------------------------

class EmploymentSpell(BaseModel):
    employer_code: str
    start_date: date
    end_date: date | None


class YearBase(BaseModel):
    year: int
    declared_wage_fen: int
    base_fen: int


class PersonView(BaseModel):
    person_id: str
    id_number: str
    name: str
    sex: str = Field(json_schema_extra={"enum": ["M", "F"]})
    birth_date: date | None = Field(description="None for a role that sees personal data "
                                                "masked (it would give the ID number back).")
    registered_on: date
    employments: list[EmploymentSpell]
    bases: list[YearBase] = Field(description="Declared bases, by year.")


class EmployerView(BaseModel):
    employer_id: str
    credit_code: str
    name: str
    employer_type: str
    risk_class: int
    industry: str
    registered_on: date
    work_injury_float: str


class Page(BaseModel):
    limit: int
    offset: int
    next_offset: int | None = Field(description="Offset of the next page; null on the last.")
    position: int = Field(description="Log position the read models had reached.")


class AccountEntry(BaseModel):
    effective_date: date
    period: str
    kind: str = Field(json_schema_extra={"enum": ["contribution", "reversal", "interest"]})
    amount_fen: int
    position: int
    recorded_at: str


class AccountView(Page):
    person_id: str
    insurance: str
    as_of: date | None
    known_at: str | None = Field(default=None, description="Recorded-time bound (UTC) applied.")
    balance_fen: int
    by_kind_fen: dict[str, int]
    entries: list[AccountEntry]


class HistoryItem(BaseModel):
    period: str
    kind: str = Field(json_schema_extra={"enum": ["posted", "reversed"]})
    employer_code: str
    employer_fen: int
    individual_fen: int
    account_fen: int
    lines: list[MonthLine]
    position: int
    recorded_at: str


class HistoryPageView(Page):
    person_id: str
    items: list[HistoryItem]


class FundAccount(BaseModel):
    account: str
    normal_side: str = Field(json_schema_extra={"enum": ["debit", "credit"]})
    debit_fen: int
    credit_fen: int
    balance_fen: int
    entries: int


class TrialBalance(BaseModel):
    debit_fen: int
    credit_fen: int
    balanced: bool


class FundsView(BaseModel):
    accounts: list[FundAccount]
    trial_balance: TrialBalance
    position: int


class HealthView(BaseModel):
    status: str = Field(json_schema_extra={"enum": ["ok", "degraded"]})
    region: str
    backend: str
    log_head: int
    projections: dict[str, int]
    runner_error: str | None


# -- imports (tax collection files) ----------------------------------------------------------

OutcomeCounts = dict[str, int]


class ImportSummaryView(BaseModel):
    """What became of a file's lines: counts and fen per outcome (posted, duplicate, suspense,
    rejected) and per insurance, and the suspense reasons."""

    file_name: str
    sha256: str
    batch_id: str
    already_imported: bool = Field(description="The same file (sha256) was imported before: "
                                                "nothing was written, this is its summary.")
    lines: int
    counts: OutcomeCounts
    amounts_fen: OutcomeCounts
    by_insurance: dict[str, OutcomeCounts] = Field(description="insurance → outcome → fen")
    suspense_reasons: dict[str, int]
    rejects_file: str | None = Field(description="Where the rejected lines were written.")
    position: int = Field(description="Log position reached; pass it as `min_position`.")


class ImportBatchView(BaseModel):
    batch_id: str
    kind: str
    file_name: str
    sha256: str
    size_bytes: int
    started_by: str
    started_position: int
    started_at: str
    completed: bool
    completed_position: int | None
    completed_at: str | None
    rejects_sha256: str | None


class ImportBatchItem(ImportBatchView):
    summary: ImportSummaryView | None


class ImportBatchPage(Page):
    items: list[ImportBatchItem]


class LedgerTotals(BaseModel):
    counts: OutcomeCounts
    amounts_fen: OutcomeCounts
    by_insurance: dict[str, OutcomeCounts]
    suspense_reasons: dict[str, int]


class EmployerTotals(BaseModel):
    employer_code: str
    counts: OutcomeCounts
    amounts_fen: OutcomeCounts


class ImportLineItem(BaseModel):
    serial_no: str
    line_no: int | None = Field(description="Line in the file; known for suspense lines.")
    outcome: str = Field(json_schema_extra={"enum": ["posted", "suspense"]})
    reason_code: str | None
    reason: str | None
    employer_code: str | None
    insurance: str | None
    period: str | None
    person_id: str | None
    id_number: str | None = Field(description="Masked, e.g. 440781********1234.")
    amount_fen: int
    month_id: str | None = Field(description="The posted ContributionMonth.")
    suspense_id: str | None = Field(description="The SuspenseItem holding the line.")
    position: int = Field(description="Log position of the event the line is in.")
    recorded_at: str


class ImportReportView(Page):
    batch: ImportBatchView
    summary: ImportSummaryView | None
    ledger: LedgerTotals = Field(description="Posted and suspense lines counted again from "
                                             "the ledger's events.")
    differences: list[str] = Field(description="Where summary and ledger disagree; empty "
                                               "when they agree.")
    by_employer: list[EmployerTotals]
    items_total: int
    items: list[ImportLineItem]


# -- suspense (暂收/挂账) ----------------------------------------------------------------------

SerialNo = Annotated[str, _text(64), Field(description="Tax serial number (税务流水号) of the "
                                                       "held line.")]


class SuspenseAssignment(Request):
    id_number: IdNumber = Field(description="The person the money belongs to.")
    period: Period = Field(description="The month it belongs to (may differ from the line's).")
    employer_code: CreditCode | None = Field(
        default=None, description="Default: the credit code on the collected line.")
    reason: Reason = Field(description="Why the money belongs there (recorded).")


class SuspenseRefund(Request):
    reason: Reason = Field(description="Why the money is refunded (recorded).")
    reference: Annotated[str, _text(100), Field(
        description="The tax bureau's refund voucher number (退费凭证号).")]


class SuspenseDecided(BaseModel):
    serial_no: str
    suspense_id: str
    status: str = Field(json_schema_extra={"enum": ["assigned", "refunded"]})
    amount_fen: int
    decided_by: str | None
    reason: str | None
    person_id: str | None = Field(description="Assigned: the person.")
    id_number: str | None
    period: str | None = Field(description="Assigned: the month posted.")
    employer_code: str | None
    month_id: str | None = Field(description="Assigned: the ContributionMonth posted into.")
    reference: str | None = Field(description="Refunded: the refund voucher.")


class SuspenseItemView(BaseModel):
    suspense_id: str
    serial_no: str
    batch_id: str = Field(description="The import that held it.")
    line_no: int | None
    reason_code: str = Field(description="Why it was held, e.g. person_not_registered.")
    reason: str
    amount_fen: int
    insurance: str | None
    period: str | None = Field(description="The period on the collected line.")
    id_number: str | None = Field(description="On the collected line; masked in lists.")
    credit_code: str | None
    base_fen: int | None
    employer_fen: int | None
    individual_fen: int | None
    collected_on: str | None
    tax_batch: str | None
    status: str = Field(json_schema_extra={"enum": ["held", "assigned", "refunded"]})
    decided_by: str | None
    decision_reason: str | None
    assigned_person_id: str | None
    assigned_id_number: str | None = Field(description="Masked in lists.")
    assigned_period: str | None
    assigned_employer_code: str | None
    month_id: str | None
    refund_reference: str | None
    held_position: int = Field(description="Log position of the hold.")
    held_at: str
    decided_position: int | None = Field(description="Log position of the decision.")
    decided_at: str | None


class SuspensePage(Page):
    items: list[SuspenseItemView]


class SuspenseDetail(SuspenseItemView):
    position: int = Field(description="Log position the read models had reached.")


# -- back-payments (补缴) ----------------------------------------------------------------------

class BackPaymentAssessment(Request):
    id_number: IdNumber
    employer_code: CreditCode = Field(description="The employer the months are owed by.")
    from_period: Period = Field(description="First back-paid month.")
    to_period: Period = Field(description="Last back-paid month (at most 180 months in all).")
    pay_by: IsoDate = Field(description="Payment deadline of the notice (缴费期限): late fees "
                                        "run to this day; a later collection is refused.")
    base_fen: Fen | None = Field(default=None, description="Base of every back-paid month; "
                                 "default: the base declared for each year.")
    insurances: list[InsuranceCode] | None = Field(
        default=None, max_length=10, description="Default: the five employee insurances.")
    reason: Reason = Field(description="The ground and evidence (e.g. payroll records).")


class BackPaymentCollection(Request):
    collected_on: IsoDate = Field(description="Day the tax bureau collected it (入库日期).")
    tax_serial: Annotated[str, _text(64), Field(description="The tax bureau's serial number.")]
    amount_fen: Fen = Field(description="All that was collected, including lines held in "
                                        "suspense: must equal the assessment's total.")
    from_suspense: list[Annotated[str, _text(64)]] = Field(
        default_factory=list, max_length=1000,
        description="Serial numbers of suspense items an import held for this back-payment "
                    "(reason backpay_open): part of the collection, assigned to it.")


class BackPaymentCancellation(Request):
    reason: Reason


class BackPaymentMonth(BaseModel):
    period: str
    lines: list[list[Any]] = Field(description="[insurance, base_fen, employer_fen, "
                                               "individual_fen, account_fen] per insurance.")
    due_date: str = Field(description="The day the month fell due.")
    days_late: int = Field(description="Days from the due date to pay_by.")
    late_fees: list[list[Any]] = Field(description="[insurance, fee_fen] per insurance.")
    total_fen: int
    late_fee_fen: int
    pension_account_fen: int


class BackPaymentInterestYear(BaseModel):
    year: int
    rate: str
    interest_fen: int = Field(description="The year's interest recomputed with the credits.")
    interest_before_fen: int | None = Field(description="As credited before; null: never.")
    delta_fen: int


class BackPaymentView(BaseModel):
    backpay_id: str
    status: str = Field(json_schema_extra={"enum": ["assessed", "collected", "cancelled"]})
    person_id: str
    id_number: str
    employer_code: str
    pay_by: str
    periods: list[str]
    months: list[BackPaymentMonth]
    interest_years: list[BackPaymentInterestYear]
    principal_fen: int = Field(description="Contributions of the months (本金).")
    late_fee_fen: int = Field(description="Late fee (滞纳金), borne by the employer.")
    interest_fen: int = Field(description="Interest on the account part (利息), paid by the "
                                          "payer, credited by recomputing the years.")
    total_fen: int
    collected_on: str | None
    tax_serial: str | None


# -- death registration (死亡登记) ---------------------------------------------------------------

class DeathRecord(Request):
    date_of_death: IsoDate
    evidence: Reason = Field(description="What the death is known from: 死亡医学证明, 户籍注销, "
                                         "火化信息 …")


class DeathRecorded(BaseModel):
    person_id: str
    date_of_death: date
    evidence: str
