"""The annual report as one self-contained HTML page in Simplified Chinese: jinja2 template
infra/templates/annual_report.html.j2, charts drawn on the server as inline SVG
(infra/svg_chart.py), styles inline. The page fetches nothing: it can be mailed, archived or
printed as it is."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from domain.annual_report import DEFINITIONS_ZH
from domain.policy import PENSION
from infra import annual_report_labels as labels
from infra.svg_chart import Series, bar_chart, line_chart

TEMPLATE = "annual_report.html.j2"
MONTH_LABELS_ZH = tuple(f"{m}月" for m in range(1, 13))
# The transfers chart shows the regions with the most money moved; the rest are one bar pair
# (a year may see transfers with hundreds of regions; the table lists every one).
TRANSFER_REGIONS_CHARTED_MAX = 10
OTHER_REGIONS_ZH = "其他地区"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(loader=PackageLoader("infra", "templates"),
                      autoescape=select_autoescape(("html", "j2")), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(yuan=labels.yuan, wan=labels.wan_yuan_text, persons=labels.persons,
                       cst=labels.cst_time)
    return env


def charts(report: dict[str, Any]) -> dict[str, Markup]:
    """The report's charts as SVG markup (escaped inside, trusted by the template)."""
    participation = report["participation"]
    names = [labels.short_name(p["insurance"], p["name_zh"]) for p in participation]
    found = {
        "participants": bar_chart(
            f"{report['year']}年末各险种参保人数", names,
            [Series("缴费", tuple(p["contributing"] for p in participation)),
             Series("中断缴费", tuple(p["interrupted"] for p in participation)),
             Series("离退休", tuple(p["retired"] for p in participation))], "人"),
    }
    funds = report["funds"]["insurances"]
    found["income"] = bar_chart(
        f"{report['year']}年各险种基金收入", names,
        [Series("本年入账", tuple(labels.wan_yuan(f["income_received_fen"]) for f in funds)),
         Series("本年所属期", tuple(labels.wan_yuan(f["income_for_periods_fen"])
                                    for f in funds))], "万元")
    monthly = report["funds"]["monthly"]
    for key, basis, title in (("monthly_for_periods", "for_periods_fen", "按费款所属期"),
                              ("monthly_received", "received_fen", "按记账日")):
        found[key] = line_chart(
            f"{report['year']}年月度基金收入（{title}）", MONTH_LABELS_ZH,
            [Series(name, tuple(labels.wan_yuan(m[basis][p["insurance"]]) for m in monthly))
             for name, p in zip(names, participation, strict=True)], "万元")
    for f in funds:
        if f["expenditure_fen"] is not None:  # an insurance whose payments are recorded
            code = f["insurance"]
            name = labels.short_name(code, f["name_zh"])
            # the pension is paid by runs here (ledger day); the others by other systems, as
            # their payment files date them (domain/benefit_payment.py)
            paid_basis = "按记账日" if code == PENSION else "按支付日期"
            key = "monthly_expenditure" + ("" if code == PENSION else f"_{code}")
            found[key] = line_chart(
                f"{report['year']}年月度{name}基金支出（待遇发放）", MONTH_LABELS_ZH,
                [Series(paid_basis, tuple(labels.wan_yuan(m["expenditure_fen"][code])
                                          for m in monthly)),
                 Series("按所属期", tuple(labels.wan_yuan(m["expenditure_for_periods_fen"][code])
                                          for m in monthly))], "万元")
    transfers = transfer_chart(report)
    if transfers is not None:
        found["transfers"] = transfers
    targets = report["targets"]["items"]
    if targets:
        found["targets"] = bar_chart(
            f"{report['year']}年任务完成率", [_target_label(t) for t in targets],
            [Series("完成率", tuple(Decimal(t["completion_percent"]) for t in targets))],
            "%", reference=(100, "100%"))
    # svg_chart escapes every text it draws: the markup is safe to insert as it is.
    return {name: Markup(svg) for name, svg in found.items()}


def transfer_chart(report: dict[str, Any]) -> str | None:
    """Cross-region transfers in and out (万元) per other region, the regions with the most
    money moved first; None when nothing moved in the year."""
    regions = sorted(report["transfers"]["cross_region"]["by_region"],
                     key=lambda r: (-(r["in_fen"] + r["out_fen"]), r["region_code"]))
    if not regions:
        return None
    shown = regions[:TRANSFER_REGIONS_CHARTED_MAX]
    names = [labels.region_label(r["region_code"], r["name_zh"]) for r in shown]
    in_fen = [r["in_fen"] for r in shown]
    out_fen = [r["out_fen"] for r in shown]
    rest = regions[TRANSFER_REGIONS_CHARTED_MAX:]
    if rest:
        names.append(f"{OTHER_REGIONS_ZH}（{len(rest)}个）")
        in_fen.append(sum(r["in_fen"] for r in rest))
        out_fen.append(sum(r["out_fen"] for r in rest))
    return bar_chart(
        f"{report['year']}年跨统筹区转移接续金额（按地区）", names,
        [Series("转入", tuple(labels.wan_yuan(f) for f in in_fen)),
         Series("转出", tuple(labels.wan_yuan(f) for f in out_fen))], "万元")


def _target_label(target: dict[str, Any]) -> str:
    label = labels.short_name(target["insurance"], target["insurance_name_zh"])
    if target["employer_type"]:
        label += "·" + ("企业" if target["employer_type"] == "enterprise" else "机关")
    return label + "·" + {"participants": "参保", "contributors": "缴费", "income": "收入",
                          "income_for_periods": "所属期"}[target["indicator"]]


def render_html(report: dict[str, Any]) -> str:
    return _environment().get_template(TEMPLATE).render(
        r=report, charts=charts(report), definitions=DEFINITIONS_ZH,
        target_value=labels.target_value_text, short_name=labels.short_name)
