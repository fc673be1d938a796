"""The annual report's cross-region transfers (跨统筹区转移接续) as its HTML page and XLSX
workbook show them, from a report built on hand-made rows (tests/unit/test_annual_report_builder
.py TRANSFERS): the Chinese section with the amounts in 元, the table per other region, the bar
chart (the regions with the most money first, the rest as one pair of bars), and the sheet."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from decimal import Decimal

from openpyxl import load_workbook

from domain.annual_report import TransferRow, build_annual_report
from infra.annual_report_html import TRANSFER_REGIONS_CHARTED_MAX, render_html, transfer_chart
from infra.annual_report_labels import region_label
from infra.annual_report_xlsx import write_xlsx
from tests.unit.test_annual_report_builder import TRANSFERS, inputs


def section(html: str) -> str:
    """The report's section 三 (转移接续), up to section 四."""
    found = re.search(r"<h2>三、转移接续</h2>(.*?)<h2>四、", html, re.S)
    assert found, "no section 三、转移接续"
    return found.group(1)


def test_the_html_shows_transfers_in_out_net_in_transit_and_each_region() -> None:
    report = build_annual_report(inputs(transfers=TRANSFERS))
    text = section(render_html(report))
    # in: 285,130.50 (Hangzhou) + 11,000.00 (Beijing); out 24,000.00; net 272,130.50
    assert ("本年转入2人次（2人，199个月），转入金额296,130.50元（个人账户144,330.50元，"
            "统筹基金151,800.00元）") in text
    assert ("转出1人次（1人，12个月），转出金额24,000.00元（个人账户9,600.00元，"
            "统筹基金14,400.00元）") in text
    assert "净转入272,130.50元" in text
    assert "年末在途（已受理、尚未到账记账）2笔，其中超过转出地办理期限（逾期）1笔" in text
    assert "本年受理转入申请（发出联系函）4笔" in text
    assert ('<tr><td>转出</td><td class="n">1</td><td class="n">1</td><td class="n">12</td>'
            '<td class="n">9,600.00</td><td class="n">14,400.00</td><td class="n">24,000.00</td>'
            "</tr>") in text
    assert ('<tr><td>110101</td><td>北京市东城区社会保险基金管理中心</td><td class="n">1</td>'
            '<td class="n">11,000.00</td><td class="n">1</td><td class="n">24,000.00</td></tr>'
            ) in text
    [chart] = re.findall(r"<svg.*?</svg>", text, re.S)
    assert "跨统筹区转移接续金额" in chart and chart.count('class="bar"') == 4
    # Hangzhou moved the most: first, with its 28.51 万元 in
    assert chart.index("杭州市西湖区") < chart.index("北京市东城区")
    assert "转入 · 杭州市西湖区：28.51 万元" in chart


def test_a_year_without_transfers_says_so_and_draws_no_chart() -> None:
    report = build_annual_report(inputs())
    text = section(render_html(report))
    assert "本年转入0人次（0人，0个月），转入金额0.00元" in text and "净转入0.00元" in text
    assert "本年无跨统筹区转入记账或转出划转。" in text and "<svg" not in text
    assert transfer_chart(report) is None
    assert "无数据" not in text.split("跨统筹区转移接续")[1]  # recorded: 0, not 无数据


def test_the_chart_shows_the_regions_with_most_money_and_the_rest_as_one_pair() -> None:
    regions = TRANSFER_REGIONS_CHARTED_MAX + 3
    rows = tuple(TransferRow("out", "remitted", f"p{i}", f"{110101 + i:06d}",
                             f"第{i}区社会保险事业管理中心", "2024-03-01", None, "2024-03-20", 1,
                             (i + 1) * 1_000_000, 0) for i in range(regions))
    chart = transfer_chart(build_annual_report(inputs(transfers=rows)))
    assert chart is not None
    assert chart.count('class="bar"') == 2 * (TRANSFER_REGIONS_CHARTED_MAX + 1)
    labels = re.findall(r"<text [^>]*>(第\d+区|其他地区[^<]*)</text>", chart)
    assert len(labels) == TRANSFER_REGIONS_CHARTED_MAX + 1
    assert labels[0] == f"第{regions - 1}区"  # the most money first
    assert labels[-1] == "其他地区（3个）"
    # the three smallest: 1 + 2 + 3 (×10,000.00) = 6.00 万元
    assert "转出 · 其他地区（3个）：6.00 万元" in chart


def test_a_region_is_labelled_by_its_place() -> None:
    assert region_label("330106", "杭州市西湖区社会保险事业管理中心") == "杭州市西湖区"
    assert region_label("110101", "北京市东城区人力资源和社会保障局") == "北京市东城区"
    assert region_label("440106", "广州市天河区社保中心") == "广州市天河区"
    assert region_label("650102", "乌鲁木齐市天山区养老保险经办中心") == "乌鲁木齐市天山区"
    assert region_label("650103", "新疆维吾尔自治区乌鲁木齐市沙依巴克区") == "新疆维吾尔自治…"
    assert region_label("330106", "社会保险事业管理中心") == "社会保险事业管…"


def test_the_workbook_has_a_transfers_sheet_with_the_same_figures() -> None:
    report = build_annual_report(inputs(transfers=TRANSFERS))
    buffer = io.BytesIO()
    write_xlsx(report, buffer)
    book = load_workbook(buffer)
    rows = [r for r in book["跨统筹区转移"].iter_rows(values_only=True)]
    by_name = {r[0]: r for r in rows if r and r[0]}
    assert by_name["转入"][1:4] == (2, 2, 199)
    assert [Decimal(str(v)) for v in by_name["转入"][4:7]] == [
        Decimal("144330.5"), Decimal("151800"), Decimal("296130.5")]
    assert [Decimal(str(v)) for v in by_name["转出"][4:7]] == [
        Decimal("9600"), Decimal("14400"), Decimal("24000")]
    assert Decimal(str(by_name["净转入"][6])) == Decimal("272130.5")
    assert (by_name["本年受理转入(笔)"][1], by_name["年末在途(笔)"][1],
            by_name["  其中逾期(笔)"][1]) == (4, 2, 1)
    beijing = by_name["110101"]
    assert beijing[1:3] == ("北京市东城区社会保险基金管理中心", 1)
    assert (Decimal(str(beijing[3])), beijing[4], Decimal(str(beijing[5]))) == (
        Decimal("11000"), 1, Decimal("24000"))
    other = {r[0]: r for r in book["待遇转移补缴"].iter_rows(values_only=True) if r and r[0]}
    assert other["跨统筹区转出(人次)"][1] == 1
    assert Decimal(str(other["跨统筹区转入(人次)"][2])) == Decimal("296130.5")
    assert book["跨统筹区转移"]["E2"].number_format == "#,##0.00"


def test_a_report_without_transfers_has_zeros_in_the_sheet() -> None:
    buffer = io.BytesIO()
    write_xlsx(build_annual_report(replace(inputs(), transfers=())), buffer)
    by_name = {r[0]: r for r in load_workbook(buffer)["跨统筹区转移"].iter_rows(
        values_only=True) if r and r[0]}
    assert by_name["转入"][1:4] == (0, 0, 0) and by_name["净转入"][6] == 0
