"""What a personal rights statement says in Simplified Chinese, shared by the PDF
(infra/statement_pdf.py) and the HTML page (api/templates/statement.html): labels, and the
formatting of amounts, rates and times."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from domain.money import fen_to_yuan_text
from domain.pension import BASIC_PENSION
from domain.statement import ARREARS, CONTRIBUTING, PAID, RETIRED, SUSPENDED
from projections.fund_movements import LEDGER_TIMEZONE

TITLE = "社会保险个人权益记录单"
STATUS_ZH = {CONTRIBUTING: "参保缴费", SUSPENDED: "暂停缴费", RETIRED: "已退休"}
SEX_ZH = {"M": "男", "F": "女"}
MONTH_STATUS_ZH = {PAID: "已缴", ARREARS: "欠缴"}
BACKPAID_ZH = "补缴"
BENEFIT_ZH = {BASIC_PENSION: "基本养老金"}
# The personal account's figures in the order printed: (field, label).
ACCOUNT_FIGURES = (
    ("opening", "上年末账户累计储存额"),
    ("contributions", "本年缴费记账额"),
    ("backpay", "本年补缴记账额"),
    ("reversals", "本年红冲冲减额"),
    ("transfer_in", "本年转入额"),
    ("transfer_out", "本年转出额"),
    ("interest", "本年记账利息"),
    ("other", "其他"),
    ("closing", "本年末账户累计储存额"),
)
NOTES = (
    "本记录单依据社会保险经办机构截至上述记账位置的账簿记录生成，各项数据均可追溯至对应的记账事件。",
    "扫描二维码或登录查验网址并输入校验码，可核验本记录单的真实性及内容摘要。",
    "如对记录有异议，请携带本记录单及相关证明材料向参保地社会保险经办机构申请核查。",
)


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
