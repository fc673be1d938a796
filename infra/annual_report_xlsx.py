"""The annual report as an XLSX workbook: one sheet per section, Chinese headers, persons as whole
numbers and amounts in 元 as exact decimals formatted #,##0.00 (the JSON keeps integer fen).
A figure the ledger does not record is the text 无数据, never 0."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from domain.annual_report import DEFINITIONS_ZH
from infra.annual_report_labels import (
    NO_DATA,
    UNIT_NAMES_ZH,
    cst_time,
    wan_yuan,
    yuan_decimal,
)

YUAN_FORMAT = "#,##0.00"


class _Sheet:
    def __init__(self, book: Workbook, title: str) -> None:
        self.sheet: WriteOnlyWorksheet = book.create_sheet(title)

    def row(self, *cells: Any) -> None:
        self.sheet.append(list(cells))

    def money_cell(self, fen: int | None) -> Any:
        """An amount (fen) as 元 with two decimals; None (not recorded): the text 无数据."""
        if fen is None:
            return NO_DATA
        cell = WriteOnlyCell(self.sheet, value=yuan_decimal(fen))
        cell.number_format = YUAN_FORMAT
        return cell

    def money_row(self, cells: Sequence[Any], money: Sequence[int | None]) -> None:
        """`cells` as they are, then each amount (fen) as 元 with two decimals (None: an
        empty cell)."""
        out: list[Any] = list(cells)
        for fen in money:
            if fen is None:
                out.append(None)
                continue
            cell = WriteOnlyCell(self.sheet, value=yuan_decimal(fen))
            cell.number_format = YUAN_FORMAT
            out.append(cell)
        self.sheet.append(out)


def _count(value: int | None) -> int | str:
    return NO_DATA if value is None else value


def _cross_region_sheet(book: Workbook, cross: dict[str, Any]) -> None:
    """跨统筹区转移接续 (pension): in and out with their parts, the net, those in transit at the
    year's end, and each other region."""
    sheet = _Sheet(book, "跨统筹区转移")
    sheet.row("项目", "人次", "人数", "转移月数", "个人账户(元)", "统筹基金(元)", "合计(元)")
    for name, moved in (("转入", cross["transfers_in"]), ("转出", cross["transfers_out"])):
        sheet.money_row([name, moved["count"], moved["persons"], moved["months"]],
                        [moved["account_fen"], moved["pooled_fen"], moved["total_fen"]])
    sheet.money_row(["净转入", None, None, None, None, None], [cross["net_fen"]])
    sheet.row()
    sheet.row("本年受理转入(笔)", cross["accepted_in"])
    sheet.row("年末在途(笔)", cross["in_transit_at_year_end"])
    sheet.row("  其中逾期(笔)", cross["overdue_at_year_end"])
    sheet.row()
    sheet.row("对方统筹区代码", "对方经办机构", "转入笔数", "转入金额(元)", "转出笔数",
              "转出金额(元)")
    for region in cross["by_region"]:
        sheet.row(region["region_code"], region["name_zh"], region["in_count"],
                  sheet.money_cell(region["in_fen"]), region["out_count"],
                  sheet.money_cell(region["out_fen"]))


def write_xlsx(report: dict[str, Any], target: Path | str | BinaryIO) -> None:
    """Into a file (path) or a binary stream."""
    book = Workbook(write_only=True)
    year = report["year"]

    about = _Sheet(book, "说明")
    about.row(f"{year}年度社会保险经办报告")
    about.row("统筹区", report["region_code"])
    about.row("年度", year)
    about.row("日志位置", report["position"])
    about.row("记账时间(中国标准时间)", cst_time(report["as_of"]))
    about.row("内容摘要(SHA-256)", report["content_sha256"])
    about.row()
    about.row("口径")
    for line in DEFINITIONS_ZH:
        about.row(line)

    sheet = _Sheet(book, "参保情况")
    sheet.row("险种代码", "险种", "单位类型", "参保人数", "在职", "缴费", "中断缴费", "离退休",
              "本年新参保缴费")
    for p in report["participation"]:
        for t in [{**p, "name_zh": "合计"}, *p["by_employer_type"]]:
            sheet.row(p["insurance"], p["name_zh"], t["name_zh"], t["participants"],
                      t["in_work"], t["contributing"], t["interrupted"], _count(t["retired"]),
                      t["new_contributors"])

    funds = _Sheet(book, "基金收支")
    funds.row("险种代码", "险种", "单位类型", "基金支出", "本年入账(元)", "其中缴费(元)",
              "其中红冲(元)", "本年所属期缴费(元)", "年末累计结余(元)")
    for f in report["funds"]["insurances"]:
        spent = funds.money_cell(f["expenditure_fen"])
        funds.money_row([f["insurance"], f["name_zh"], "合计", spent], [
            f["income_received_fen"], f["contribution_received_fen"],
            f["reversal_received_fen"], f["income_for_periods_fen"], f["year_end_balance_fen"]])
        for t in f["by_employer_type"]:
            funds.money_row([f["insurance"], f["name_zh"], t["name_zh"], NO_DATA],
                            [t["income_received_fen"], None, None, t["income_for_periods_fen"]])
    funds.row()
    funds.row("本年入账与资金流水核对", "一致" if report["funds"]["ties_fund_movements"]
              else "不一致")

    payments = _Sheet(book, "养老金发放")
    pension = next((f for f in report["funds"]["insurances"]
                    if f["expenditure_parts"] is not None), None)
    if pension is not None:
        parts = pension["expenditure_parts"]
        payments.row("项目", "金额(元)", "人数")
        payments.money_row(["本年支付（按记账日）"], [pension["expenditure_fen"]])
        payments.money_row(["  其中基础养老金"], [parts["basic_fen"]])
        payments.money_row(["  其中过渡性养老金"], [parts["transitional_fen"]])
        payments.money_row(["  其中个人账户养老金（个人账户支付）"],
                           [parts["account_from_personal_fen"]])
        payments.money_row(["  其中个人账户养老金（统筹基金支付）"],
                           [parts["account_from_pool_fen"]])
        payments.money_row(["  其中养老金调整增加额"], [parts["adjustment_fen"]])
        payments.money_row(["本年所属期待遇"], [pension["expenditure_for_periods_fen"]])
        payments.row("享受待遇人数", None, pension["benefit_recipients"])
        payments.row()
        code = pension["insurance"]
        payments.row("月份", "按记账日支付(元)", "按所属期支付(元)")
        for m in report["funds"]["monthly"]:
            payments.money_row([m["month"]], [m["expenditure_fen"][code],
                                              m["expenditure_for_periods_fen"][code]])

    monthly = _Sheet(book, "月度收入")
    codes = [f["insurance"] for f in report["funds"]["insurances"]]
    monthly.row("月份", *(f"{c} 入账(元)" for c in codes), *(f"{c} 所属期(元)" for c in codes))
    for m in report["funds"]["monthly"]:
        monthly.money_row([m["month"]], [*(m["received_fen"][c] for c in codes),
                                         *(m["for_periods_fen"][c] for c in codes)])

    targets = _Sheet(book, "任务完成")
    targets.row("指标", "险种代码", "险种", "单位类型", "单位", "任务数", "实际数",
                "完成率(%)", "来源")
    for t in report["targets"]["items"]:
        money = t["unit"] == "amount_fen"
        targets.row(t["name_zh"], t["insurance"], t["insurance_name_zh"],
                    t["employer_type_name_zh"] or "合计", UNIT_NAMES_ZH[t["unit"]],
                    wan_yuan(t["target"]) if money else t["target"],
                    wan_yuan(t["actual"]) if money else t["actual"],
                    Decimal(t["completion_percent"]), t["source"])
    if not report["targets"]["items"]:
        targets.row(f"{report['targets']['file']} 未给出{year}年度任务")

    retirement = report["retirement"]
    other = _Sheet(book, "待遇转移补缴")
    other.row("项目", "数量", "金额(元)")
    other.row("新增离退休人员", retirement["new_retirees"])
    for t in retirement["new_retirees_by_employer_type"]:
        other.row(f"  其中{t['name_zh']}", t["persons"])
    other.money_row(["核定基本养老金(月养老金合计)", retirement["pension_awards"]],
                    [retirement["pension_awards_monthly_fen"]])
    other.row("本年登记死亡", retirement["deaths"])
    adjustment = report["pension_adjustment"]
    other.money_row(["养老金调整(月增加额合计)", adjustment["persons_adjusted"]],
                    [adjustment["monthly_increase_fen"]])
    other.money_row(["  人均月增加额", ""], [adjustment["average_increase_fen"]])
    other.money_row(["  调整补发(月数)", adjustment["arrears_months"]],
                    [adjustment["arrears_fen"]])
    certification = report["certification"]
    other.row("待遇资格认证(人次)", certification["certifications"])
    other.row("  其中数据比对", certification["by_method"]["data_match"])
    other.row("  其中自助认证", certification["by_method"]["self_service"])
    other.row("  认证人数", certification["persons_certified"])
    other.row("年末逾期未认证", certification["overdue_at_year_end"])
    other.row("  其中暂停发放", certification["suspended_at_year_end"])
    other.row("认证后恢复发放(人次)", certification["resumed"])
    links = report["transfers"]["scheme_links"]
    other.money_row(["城乡养老保险制度衔接", links["persons"]], [links["amount_fen"]])
    other.money_row(["城乡居民养老保险个人账户年末余额", ""],
                    [report["transfers"]["residents_accounts_year_end_fen"]])
    cross = report["transfers"]["cross_region"]
    other.money_row(["跨统筹区转入(人次)", cross["transfers_in"]["count"]],
                    [cross["transfers_in"]["total_fen"]])
    other.money_row(["跨统筹区转出(人次)", cross["transfers_out"]["count"]],
                    [cross["transfers_out"]["total_fen"]])
    b = report["backpayments"]
    other.money_row(["补缴核定(笔)", b["assessed"]["count"]], [b["assessed"]["total_fen"]])
    collected = b["collected"]
    other.money_row(["补缴征收到账(笔)", collected["count"]], [collected["total_fen"]])
    other.money_row(["  其中本金", ""], [collected["principal_fen"]])
    other.money_row(["  其中滞纳金", ""], [collected["late_fee_fen"]])
    other.money_row(["  其中利息", ""], [collected["interest_fen"]])
    other.row("补缴撤销(笔)", b["cancelled"])
    other.row("年末尚未征收(笔)", b["open_at_year_end"])

    _cross_region_sheet(book, cross)

    cases = report["cases"]
    case_sheet = _Sheet(book, "经办业务")
    case_sheet.row("事项代码", "事项", "受理", "办结", "即时办结", "即办率(%)", "驳回", "撤回",
                   "在办", "超期", "平均评价")
    for i in [*cases["items"], {**cases, "code": "", "name_zh": "合计"}]:
        case_sheet.row(i["code"], i["name_zh"], i["opened"], i["completed"],
                       i["instant_completed"], i["instant_completion_percent"] or "",
                       i["rejected"], i["withdrawn"], i["open"], i["overdue"],
                       i["average_rating"] or "")

    missing = _Sheet(book, "未记录项目")
    missing.row("项目", "说明")
    for n in report["not_recorded"]:
        missing.row(n["name_zh"], f"{NO_DATA}：{n['reason_zh']}")
    book.save(target if not isinstance(target, Path) else str(target))
