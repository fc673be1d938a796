"""What a personal rights statement says in Simplified Chinese, shared by the PDF
(infra/statement_pdf.py) and the HTML page (api/templates/statement.html): labels, and the
formatting of amounts, rates and times."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from domain.money import fen_to_yuan_text
from domain.pension import BASIC_PENSION
from domain.statement import (
    ARREARS,
    CONTRIBUTING,
    DECEASED,
    PAID,
    RETIRED,
    SUSPENDED,
    BenefitAdjustment,
    BenefitReceived,
    OtherBenefitReceived,
    PensionMonths,
    TransferLine,
)
from domain.transfer import IN, OUT
from infra.benefit_payment_file import benefit_kinds
from projections.fund_movements import LEDGER_TIMEZONE

TITLE = "社会保险个人权益记录单"
STATUS_ZH = {CONTRIBUTING: "参保缴费", SUSPENDED: "暂停缴费", RETIRED: "已退休",
             DECEASED: "已故"}
SEX_ZH = {"M": "男", "F": "女"}
INSURANCE_SHORT_ZH = {"110": "养老", "210": "失业", "310": "医疗", "410": "工伤", "510": "生育"}
MONTH_STATUS_ZH = {PAID: "已缴", ARREARS: "欠缴"}
BACKPAID_ZH = "补缴"
BENEFIT_ZH = {BASIC_PENSION: "基本养老金"}
TRANSFER_DIRECTION_ZH = {IN: "转入", OUT: "转出"}
TRANSFERRED_IN_MONTHS_ZH = "转入缴费月数"
TRANSFERRED_OUT_MONTHS_ZH = "转出缴费月数"
# The personal account's figures in the order printed: (field, label).
ACCOUNT_FIGURES = (
    ("opening", "上年末账户累计储存额"),
    ("contributions", "本年缴费记账额"),
    ("backpay", "本年补缴记账额"),
    ("reversals", "本年红冲冲减额"),
    ("transfer_in", "本年转入额"),
    ("transfer_out", "本年转出额"),
    ("interest", "本年记账利息"),
    ("pension_paid", "本年个人账户养老金支付"),
    ("other", "其他"),
    ("closing", "本年末账户累计储存额"),
)
# Figures printed only when not zero: most persons draw no pension, and "other" is unused.
ACCOUNT_FIGURES_IF_NOT_ZERO = ("pension_paid", "other")
NOTES = (
    "本记录单依据社会保险经办机构截至上述记账位置的账簿记录生成，各项数据均可追溯至对应的记账事件。",
    "扫描二维码或登录查验网址并输入校验码，可核验本记录单的真实性及内容摘要。",
    "如对记录有异议，请携带本记录单及相关证明材料向参保地社会保险经办机构申请核查。",
)


def pension_months_text(months: PensionMonths) -> str:
    """The basic pension's months on one line: actual, deemed and total — or, before a pension
    award has recognised deemed months, that they are not determined yet (never 0)."""
    if months.deemed_months is None:
        return (f"基本养老保险累计缴费月数：实际缴费 {months.actual_months} 个月；"
                "视同缴费月数未核定（退休核定时认定），合计暂不计算")
    return (f"基本养老保险累计缴费月数：实际缴费 {months.actual_months} 个月 + 视同缴费 "
            f"{months.deemed_months} 个月 = 合计 {months.total_months} 个月")


def moved_by_transfers(months: PensionMonths) -> bool:
    """Whether transfers between regions moved months in or out (format 3 only)."""
    return bool(months.transferred_in_months or months.transferred_out_months)


def pension_months_lines(months: PensionMonths) -> tuple[str, ...]:
    """The basic pension's months as printed: one line as `pension_months_text` when no
    transfer moved months; otherwise the months here with those moved in and out, then the
    deemed months and the total, on two lines (one is too wide for the A4 page)."""
    if not moved_by_transfers(months):
        return (pension_months_text(months),)
    counted = (f"基本养老保险累计缴费月数：实际缴费 {months.actual_months} 个月 + "
               f"{TRANSFERRED_IN_MONTHS_ZH} {months.transferred_in_months} 个月 − "
               f"{TRANSFERRED_OUT_MONTHS_ZH} {months.transferred_out_months} 个月 = "
               f"本统筹区累计 {months.counted_months} 个月")
    if months.deemed_months is None:
        return counted, "视同缴费月数未核定（退休核定时认定），合计暂不计算"
    return counted, (f"视同缴费 {months.deemed_months} 个月，合计 {months.total_months} 个月")


def transfer_text(transfer: TransferLine, *, with_region_name: bool = True,
                  with_number: bool = False) -> str:
    """转移接续 of one transfer on one line: day, direction, the other region, months, money.
    The region's name (up to 60 characters) and the transfer number are left out where the
    line must fit the A4 page."""
    direction = TRANSFER_DIRECTION_ZH[transfer.direction]
    region = transfer.other_region_code
    if with_region_name and transfer.other_region_name:
        region += f" {transfer.other_region_name}"
    return (f"转移接续：{transfer.day} {direction}（{'自' if transfer.direction == IN else '至'}"
            f"{region}）{transfer.contribution_months} 个月，个人账户 "
            f"{yuan(transfer.account_fen)} 元，统筹基金 {yuan(transfer.pooled_fen)} 元"
            + (f"（编号 {transfer.transfer_no}）" if with_number else ""))


def adjustment_text(adjustment: BenefitAdjustment) -> str:
    """养老金调整 of the year on one line: the monthly increase and its arrears (补发)."""
    text = (f"{adjustment.year}年养老金调整：自 {adjustment.effective_period} 起每月增加 "
            f"{yuan(adjustment.monthly_increase_fen)} 元")
    if adjustment.arrears_months:
        text += (f"；补发 {adjustment.arrears_months} 个月 "
                 f"{yuan(adjustment.arrears_fen)} 元")
    return text


def benefit_received_lines(received: BenefitReceived, account_balance_fen: int | None
                           ) -> tuple[str, ...]:
    """享受待遇情况 of one benefit in lines short enough for the A4 page: the year's months and
    total (and since the first payment), the parts, and who bore the account part with the
    personal account's remaining balance."""
    name = benefit_name(received.kind)
    since = (f"累计发放 {received.cumulative_months} 个月 "
             f"{yuan(received.cumulative_fen)} 元")
    if not received.months_paid:
        return (f"{name}本年无发放；{since}",)
    span = (received.first_period if received.first_period == received.last_period
            else f"{received.first_period} 至 {received.last_period}")
    drawn = (f"个人账户养老金由个人账户支付 {yuan(received.account_from_personal_fen)} 元、"
             f"统筹基金支付 {yuan(received.account_from_pool_fen)} 元")
    if account_balance_fen is not None:
        drawn += f"；个人账户余额 {yuan(account_balance_fen)} 元"
    return (f"{name}本年发放 {received.months_paid} 个月（{span}），合计 "
            f"{yuan(received.total_fen)} 元；{since}",
            f"其中基础养老金 {yuan(received.basic_fen)} 元，过渡性养老金 "
            f"{yuan(received.transitional_fen)} 元，个人账户养老金 "
            f"{yuan(received.account_fen)} 元",
            drawn)


def other_benefit_text(received: OtherBenefitReceived) -> str:
    """One benefit kind of another insurance on one line: the year's payments, the months they
    are for, and their total."""
    kinds = benefit_kinds().kinds
    name = kinds[received.kind].name_zh if received.kind in kinds else received.kind
    span = (received.first_period if received.first_period == received.last_period
            else f"{received.first_period} 至 {received.last_period}")
    count = (f"{received.months} 个月" if received.payments == received.months
             else f"{received.payments} 笔、{received.months} 个月")
    return (f"{INSURANCE_SHORT_ZH.get(received.insurance, received.insurance)}保险·{name}："
            f"本年发放 {count}（{span}），合计 {yuan(received.total_fen)} 元")


def yuan(fen: int) -> str:
    return fen_to_yuan_text(fen)


def rate_percent(rate: str | None) -> str:
    """"0.0397" → "3.97%"."""
    if rate is None:
        return "—"
    return f"{(Decimal(rate) * 100).normalize():f}%"


def cst_time(recorded_at: str) -> str:
    """A recorded time as printed: China Standard Time to the second."""
    return datetime.fromisoformat(recorded_at).astimezone(LEDGER_TIMEZONE).strftime(
        "%Y-%m-%d %H:%M:%S")


def benefit_name(kind: str) -> str:
    return BENEFIT_ZH.get(kind, kind)
