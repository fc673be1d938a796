"""The annual report (年度报告) of the region: JSON, a self-contained HTML page in Chinese with
charts drawn on the server, and an XLSX workbook. Each is computed from the read models at the
position they have reached (waiting for `min_position` first, if given), or as known at an
earlier log position (`?position=P`: the events up to P replayed into temporary read models),
and states that position; targets come from SHEBAO_TARGETS_FILE, else the shipped DEMO
targets."""

from __future__ import annotations

import io
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from api.deps import AnnualReportReader, ContainerDep, ReadPosition
from api.errors import problem_responses
from api.routers.imports import XLSX_MEDIA_TYPE
from domain.annual_targets import YEAR_MAX, YEAR_MIN
from infra.annual_report_html import render_html
from infra.annual_report_queries import REPLAY_POSITION_API_MAX, annual_report
from infra.annual_report_xlsx import write_xlsx
from infra.bootstrap import Container

router = APIRouter(prefix="/reports", tags=["reports"],
                   responses=problem_responses(401, 403, 404, 422, 503))

Year = Annotated[int, Path(ge=YEAR_MIN, le=YEAR_MAX, description="The calendar year.")]
AtPosition = Annotated[int | None, Query(
    alias="position", ge=1, description=(
        "The report as known at this log position (e.g. the `position` an earlier report "
        "states): reproduced by replaying the events up to it into temporary read models, "
        f"up to position {REPLAY_POSITION_API_MAX:,} here (beyond: `shebao report annual YEAR "
        "--position P`). Default: the read models' position."))]


def _report(container: Container, year: int, at_position: int | None) -> dict[str, Any]:
    return annual_report(container, year, position=at_position,
                         replay_position_max=REPLAY_POSITION_API_MAX)


class Counts(BaseModel):
    participants: int = Field(description="in_work + retired (retired: pension only)")
    in_work: int = Field(description="在职: contributing + interrupted")
    contributing: int = Field(description="缴费: a month of the year posted, net of reversals")
    interrupted: int = Field(description="中断缴费: a month in an earlier year, none this year")
    retired: int | None = Field(description="离退休 (pension); null: not recorded")
    new_contributors: int = Field(description="contributing, with no month in earlier years")


class TypeCounts(Counts):
    employer_type: str = Field(description="enterprise | public_institution | unknown")
    name_zh: str


class InsuranceParticipation(Counts):
    insurance: str
    name_zh: str
    by_employer_type: list[TypeCounts]


class TypeIncome(BaseModel):
    employer_type: str
    name_zh: str
    income_received_fen: int
    income_for_periods_fen: int


class ExpenditureParts(BaseModel):
    basic_fen: int = Field(description="基础养老金")
    transitional_fen: int = Field(description="过渡性养老金")
    account_from_personal_fen: int = Field(description="个人账户养老金 the accounts bore")
    account_from_pool_fen: int = Field(description="个人账户养老金 the pooled fund bore once "
                                                   "the accounts were used up")
    adjustment_fen: int = Field(description="养老金调整: the yearly adjustments in effect, "
                                            "pooled fund")


class InsuranceFunds(BaseModel):
    insurance: str
    name_zh: str
    income_received_fen: int = Field(description="本年入账: posted in the year (ledger day)")
    contribution_received_fen: int
    reversal_received_fen: int
    income_for_periods_fen: int = Field(description="本年所属期: periods of the year")
    expenditure_fen: int | None = Field(description=(
        "基金支出, benefits paid in the year (ledger day): pension payments (养老金发放); null: "
        "not recorded (the other insurances' benefits)"))
    expenditure_for_periods_fen: int | None = Field(description=(
        "Benefits paid for the months of the year, whenever paid; null: not recorded"))
    expenditure_parts: ExpenditureParts | None = Field(description=(
        "expenditure_fen in parts; null: not recorded"))
    benefit_recipients: int | None = Field(description=(
        "享受待遇人数: persons paid for a month of the year; null: not recorded"))
    year_end_balance_fen: int = Field(description="pooled fund + personal accounts, by ledger "
                                                  "day")
    by_employer_type: list[TypeIncome]


class MonthIncome(BaseModel):
    month: str
    received_fen: dict[str, int] = Field(description="insurance → fen")
    for_periods_fen: dict[str, int] = Field(description="insurance → fen")
    expenditure_fen: dict[str, int | None] = Field(description=(
        "insurance → benefits paid in the month (ledger day); null: not recorded"))
    expenditure_for_periods_fen: dict[str, int | None] = Field(description=(
        "insurance → benefits paid for the month; null: not recorded"))


class IncomeDifference(BaseModel):
    insurance: str
    income_received_fen: int
    fund_movements_fen: int


class Funds(BaseModel):
    insurances: list[InsuranceFunds]
    monthly: list[MonthIncome]
    ties_fund_movements: bool = Field(description="The received income equals fund_movements.")
    differences: list[IncomeDifference]


class TargetItem(BaseModel):
    indicator: str
    name_zh: str
    insurance: str
    insurance_name_zh: str
    employer_type: str | None
    employer_type_name_zh: str
    unit: str = Field(description="persons | amount_fen")
    target: int
    actual: int
    completion_percent: str = Field(description="actual ÷ target × 100, two decimals")
    source: str


class Targets(BaseModel):
    file: str
    items: list[TargetItem]


class TypePersons(BaseModel):
    employer_type: str
    name_zh: str
    persons: int


class Retirement(BaseModel):
    new_retirees: int
    new_retirees_by_employer_type: list[TypePersons]
    pension_awards: int
    pension_awards_monthly_fen: int
    average_monthly_pension_fen: int | None
    deaths: int


class PensionAdjustment(BaseModel):
    """养老金调整 of the report's year (adjustment year = the year)."""

    persons_adjusted: int
    monthly_increase_fen: int = Field(description="月增加额合计")
    average_increase_fen: int | None = Field(description="人均月增加额; null: nobody adjusted")
    arrears_months: int = Field(description="补发 months (January on, paid at adjustment)")
    arrears_fen: int = Field(description="补发 amount, pooled fund")


class Certification(BaseModel):
    """待遇资格认证 of the year."""

    certifications: int = Field(description="认证人次 dated in the year")
    persons_certified: int
    by_method: dict[str, int] = Field(description="data_match (数据比对) | self_service "
                                                  "(自助认证) → certifications")
    overdue_at_year_end: int = Field(description="年末逾期未认证: alive pensioners past their "
                                                 "deadline")
    suspended_at_year_end: int = Field(description="暂停发放 for December")
    resumed: int = Field(description="恢复发放: suspensions a certification of the year ended")


class SchemeLinks(BaseModel):
    persons: int
    amount_fen: int


class TransfersMoved(BaseModel):
    """Pension transfers of one direction completed in the year: in, posted (到账记账) in the
    year; out, remitted (基金划转) in the year."""

    count: int = Field(description="人次: transfers")
    persons: int = Field(description="人数: distinct persons")
    months: int = Field(description="转移月数: contribution months moved")
    account_fen: int = Field(description="个人账户储存额: personal account balance moved")
    pooled_fen: int = Field(description="统筹基金: 12% of the monthly bases from 1998-01 on")
    total_fen: int = Field(description="合计: account_fen + pooled_fen")


class TransfersByRegion(BaseModel):
    region_code: str = Field(description="The other pooling region's 6-digit division code")
    name_zh: str = Field(description="Its agency's name (对方经办机构)")
    in_count: int = Field(description="转入笔数 posted in the year")
    in_fen: int = Field(description="转入金额")
    out_count: int = Field(description="转出笔数 remitted in the year")
    out_fen: int = Field(description="转出金额")


class CrossRegion(BaseModel):
    """跨统筹区转移接续 of the employee pension (DOMAIN.md §5)."""

    accepted_in: int = Field(description="受理转入: transfers in accepted (联系函 sent) in the "
                                         "year")
    transfers_in: TransfersMoved = Field(description="转入, posted in the year")
    transfers_out: TransfersMoved = Field(description="转出, remitted in the year")
    net_fen: int = Field(description="净转入: transfers_in.total_fen − transfers_out.total_fen")
    in_transit_at_year_end: int = Field(description=(
        "年末在途: transfers in accepted but not posted by 31 December (or the position's "
        "day, if earlier)"))
    overdue_at_year_end: int = Field(description=(
        "逾期: of those in transit, the old region's 15 working days passed"))
    by_region: list[TransfersByRegion] = Field(description=(
        "Per other region (by division code) the transfers of the year in each direction"))


class Transfers(BaseModel):
    scheme_links: SchemeLinks = Field(description="城乡衔接: employee → residents' pension")
    residents_accounts_year_end_fen: int
    cross_region: CrossRegion = Field(description="跨统筹区转移接续 (pension)")


class BackPayAssessed(BaseModel):
    count: int
    months: int
    total_fen: int


class BackPayCollected(BaseModel):
    count: int
    persons: int
    months: int
    principal_fen: int
    late_fee_fen: int
    interest_fen: int
    total_fen: int


class BackPayments(BaseModel):
    assessed: BackPayAssessed
    collected: BackPayCollected
    cancelled: int
    open_at_year_end: int


class CaseCounts(BaseModel):
    opened: int
    completed: int
    rejected: int
    withdrawn: int
    open: int
    instant_completed: int
    instant_completion_percent: str | None
    overdue: int
    ratings: int
    average_rating: str | None


class CaseItem(CaseCounts):
    code: str
    name_zh: str


class Cases(CaseCounts):
    items: list[CaseItem]


class NotRecorded(BaseModel):
    key: str
    name_zh: str
    reason_zh: str
    reason_en: str


class AnnualReportView(BaseModel):
    region_code: str
    year: int
    position: int = Field(description="The log position every figure is as known at.")
    as_of: str = Field(description="Recorded time of the event at `position`.")
    as_of_day: str
    participation: list[InsuranceParticipation]
    funds: Funds
    targets: Targets
    retirement: Retirement
    pension_adjustment: PensionAdjustment
    certification: Certification
    transfers: Transfers
    backpayments: BackPayments
    cases: Cases
    not_recorded: list[NotRecorded]
    content_sha256: str = Field(description="sha256 of the canonical JSON (keys sorted, no "
                                            "whitespace) of the rest of the report")


# The file routes come first: "/annual/{year}" would otherwise take "2024.html" as the year.

@router.get("/annual/{year}.html", response_class=HTMLResponse,
            responses={200: {"content": {"text/html": {}}}})
def annual_html(year: Year, principal: AnnualReportReader, container: ContainerDep,
                position: ReadPosition, at_position: AtPosition = None) -> HTMLResponse:
    """The report as one HTML page in Chinese, with bar and line charts as inline SVG; it
    loads nothing from elsewhere."""
    return HTMLResponse(render_html(_report(container, year, at_position)))


@router.get("/annual/{year}.xlsx", response_class=Response,
            responses={200: {"content": {XLSX_MEDIA_TYPE: {}}}})
def annual_xlsx(year: Year, principal: AnnualReportReader, container: ContainerDep,
                position: ReadPosition, at_position: AtPosition = None) -> Response:
    """The report as a workbook: a sheet per section, amounts in 元."""
    buffer = io.BytesIO()
    write_xlsx(_report(container, year, at_position), buffer)
    return Response(buffer.getvalue(), media_type=XLSX_MEDIA_TYPE, headers={
        "Content-Disposition": f'attachment; filename="annual-report-{year}.xlsx"'})


@router.get("/annual/{year}", response_model=AnnualReportView)
def annual_json(year: Year, principal: AnnualReportReader, container: ContainerDep,
                position: ReadPosition, at_position: AtPosition = None) -> AnnualReportView:
    """参保 per insurance and employer type, fund income and pension expenditure on both
    bases, targets and completion, retirements, pension adjustments, certifications, the link
    to the residents' scheme, transfers between pooling regions (跨统筹区转移接续),
    back-payments, counter business, and the figures not recorded in the ledger (never shown
    as 0). With `?position=P`
    the same as known at P: a later back-payment or import does not change it."""
    return AnnualReportView.model_validate(_report(container, year, at_position))
