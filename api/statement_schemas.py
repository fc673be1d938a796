"""Response bodies of the personal rights statement routes (api/routers/statements.py). They
mirror domain/statement.py field for field: the JSON route writes the statement with orjson
straight from the dataclasses (the content hash is of exactly those bytes), and a test
validates that JSON against these models."""

from __future__ import annotations

from pydantic import BaseModel, Field


class TraceView(BaseModel):
    positions: list[int] = Field(description="Log positions of the events behind the figure.")
    first_day: str | None = Field(description="Ledger day (CST) the first of them was recorded.")
    last_day: str | None = Field(description="Ledger day (CST) the last of them was recorded.")


class RegistrationView(BaseModel):
    person_id: str
    id_number: str = Field(description="Masked for roles that do not see it in clear.")
    name: str
    sex: str = Field(description="M or F (from the ID number).")
    birth_date: str = Field(description="Empty when masked.")
    registered_on: str
    status: str = Field(description="contributing (参保缴费), suspended (暂停缴费), retired "
                                    "(已退休) or deceased (已故), at the end of the year or at "
                                    "the position.")
    retired_on: str | None
    first_paid_period: str | None = Field(description="First month paid for any insurance.")
    died_on: str | None = Field(default=None, description=(
        "死亡日期 as recorded (known at the position, whatever the year); absent in format 1."))
    trace: TraceView


class EmploymentView(BaseModel):
    employer_code: str
    employer_name: str
    start_date: str
    end_date: str | None
    trace: TraceView


class MonthLineView(BaseModel):
    period: str
    status: str = Field(description="paid (posted net of reversals) or arrears (assessed, due, "
                                    "not paid).")
    employer_code: str
    base_fen: int
    employer_fen: int = Field(description="Paid, or for arrears due, by the employer.")
    individual_fen: int = Field(description="Paid, or for arrears due, by the person.")
    paid_fen: int
    arrears_fen: int
    account_fen: int = Field(description="Credited to the personal account.")
    backpay: bool = Field(description="Paid through a back-payment (补缴).")
    trace: TraceView


class InsuranceRecordView(BaseModel):
    insurance: str = Field(description="AAE140 code.")
    name_zh: str
    months: list[MonthLineView]
    paid_months: int
    employer_fen: int
    individual_fen: int
    paid_fen: int
    arrears_months: int
    arrears_fen: int
    cumulative_months: int = Field(description="Months paid up to the end of the year "
                                               "(累计缴费月数).")
    first_period: str | None
    trace: TraceView


class PensionMonthsView(BaseModel):
    actual_months: int = Field(description="Pension months paid up to the end of the year.")
    deemed_months: int | None = Field(description=(
        "视同缴费月数 as recognised by the pension award; null: not recorded (no award yet)."))
    total_months: int | None = Field(description=(
        "合计: counted + deemed in format 3 (actual + deemed in format 2); null when deemed is "
        "null."))
    trace: TraceView = Field(description="The award behind the deemed months.")
    transferred_in_months: int | None = Field(default=None, description=(
        "转入缴费月数: months moved here by transfers in posted up to the end of the year; "
        "absent before format 3."))
    transferred_in_trace: TraceView | None = Field(default=None, description=(
        "The transfers in behind them; absent before format 3."))
    transferred_out_months: int | None = Field(default=None, description=(
        "转出缴费月数: months moved to other regions by transfers out remitted up to the end of "
        "the year; absent before format 3."))
    transferred_out_trace: TraceView | None = Field(default=None, description=(
        "The transfers out behind them; absent before format 3."))
    counted_months: int | None = Field(default=None, description=(
        "本统筹区累计缴费月数: the months that count here, actual + moved in − moved out (what a "
        "pension award counts); absent before format 3."))


class TransferLineView(BaseModel):
    direction: str = Field(description="in (转入, posted here) or out (转出, remitted).")
    transfer_no: str = Field(description="The acceptance letter's number (联系函编号).")
    other_region_code: str = Field(description="The pooling region it came from or went to.")
    other_region_name: str
    day: str = Field(description="Posted on (in) or remitted on (out).")
    contribution_months: int
    account_fen: int = Field(description="The personal account's part.")
    pooled_fen: int = Field(description="The pooled fund's part (12% of the bases from 1998).")
    trace: TraceView


class FigureView(BaseModel):
    fen: int
    trace: TraceView


class PersonalAccountView(BaseModel):
    insurance: str
    name_zh: str
    opening: FigureView = Field(description="Balance at the end of the previous year.")
    contributions: FigureView
    backpay: FigureView
    reversals: FigureView = Field(description="Negative: reversed (红冲) credits.")
    transfer_in: FigureView
    transfer_out: FigureView = Field(description="Negative.")
    interest: FigureView
    pension_paid: FigureView | None = Field(default=None, description=(
        "Negative: the account part of the pensions paid for the year's months (个人账户养老金)"
        " as far as the account bore it; absent in format 1."))
    other: FigureView
    closing: FigureView = Field(description="opening + the figures between = closing.")
    interest_rate: str | None = Field(description="记账利率 the interest was computed with.")
    prior_interest_fen: int | None
    current_interest_fen: int | None


class BenefitView(BaseModel):
    kind: str
    retirement_date: str
    monthly_fen: int
    first_period: str | None
    trace: TraceView


class BenefitAdjustmentView(BaseModel):
    year: int
    effective_period: str = Field(description="The month the increase is in effect from.")
    monthly_increase_fen: int
    arrears_months: int = Field(description="Months of the year paid before the adjustment.")
    arrears_fen: int = Field(description="补发: paid with the adjustment, not in total_fen.")
    trace: TraceView


class BenefitReceivedView(BaseModel):
    kind: str
    months_paid: int = Field(description="Months of the year paid (by the month paid for).")
    first_period: str | None
    last_period: str | None
    total_fen: int
    basic_fen: int
    transitional_fen: int
    account_fen: int = Field(description="个人账户养老金 = from the account + from the pool.")
    account_from_personal_fen: int
    account_from_pool_fen: int = Field(description="Paid by the pooled fund once the account "
                                                   "is used up.")
    cumulative_months: int = Field(description="Months paid up to the end of the year.")
    cumulative_fen: int
    trace: TraceView
    adjustment: BenefitAdjustmentView | None = Field(default=None, description=(
        "养老金调整 of the year (monthly increase, arrears); null: none; absent before format "
        "3."))


class OtherBenefitReceivedView(BaseModel):
    insurance: str = Field(description="210, 310, 410 or 510 (AAE140).")
    kind: str = Field(description="The benefit kind's code (benefit_kinds.toml), e.g. "
                                  "unemployment_benefit (失业保险金).")
    payments: int = Field(description="Payments for the year's months, as known at the "
                                      "statement's position.")
    months: int = Field(description="Distinct months they are for (by the month paid for).")
    first_period: str
    last_period: str
    total_fen: int
    trace: TraceView


class StatementContentView(BaseModel):
    format_version: int
    region_code: str
    year: int
    position: int = Field(description="The log position the statement is as known at.")
    as_of: str = Field(description="Recorded time of the event at that position.")
    registration: RegistrationView
    employments: list[EmploymentView]
    insurances: list[InsuranceRecordView]
    pension_months: PensionMonthsView | None = Field(default=None, description=(
        "累计缴费月数 of the basic pension: actual, deemed (视同缴费), total; absent in format "
        "1."))
    accounts: list[PersonalAccountView]
    benefits: list[BenefitView]
    benefits_received: list[BenefitReceivedView] | None = Field(default=None, description=(
        "享受待遇情况 per benefit: the year's months paid and their parts; absent in format 1."))
    transfers: list[TransferLineView] | None = Field(default=None, description=(
        "转移接续: transfers between pooling regions completed in the year; absent before "
        "format 3."))
    other_benefits: list[OtherBenefitReceivedView] | None = Field(default=None, description=(
        "失业、医疗、工伤、生育待遇 received for the year's months, per insurance and benefit "
        "kind, from the paying systems' payment details; absent before format 4."))


class StatementView(BaseModel):
    statement: StatementContentView
    content_hash: str = Field(description="sha256 (hex) of the statement's canonical JSON "
                                          "(keys sorted, no spaces), as issued.")
    verification_code: str = Field(description="校验码: anyone can check it at verify_url.")
    verify_url: str
    masked: bool = Field(description="ID number and name masked for this reader; the hash and "
                                     "code are those of the statement as issued.")


class InsuranceSummaryView(BaseModel):
    insurance: str
    name_zh: str
    paid_months: int
    paid_fen: int
    arrears_fen: int
    cumulative_months: int


class VerificationView(BaseModel):
    code: str = Field(description="The code as printed (normalised).")
    valid: bool
    reason: str | None = Field(description="Why not valid: position_not_reached, "
                                           "position_not_found, no_matching_statement.")
    year: int | None
    position: int | None
    as_of: str | None = None
    content_hash: str | None = None
    name_masked: str | None = None
    id_number_masked: str | None = None
    insurances: list[InsuranceSummaryView] = Field(
        default_factory=list, description="The figures to compare with the paper.")
    account_closing_fen: int | None = None
