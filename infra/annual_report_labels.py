"""How the annual report's figures read in Chinese, shared by its HTML and XLSX: amounts in 元
and 万元, short insurance names for charts, the names of statuses and indicators."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from domain.annual_report import ratio_2dp
from domain.money import FEN_PER_YUAN
from projections.fund_movements import LEDGER_TIMEZONE

FEN_PER_WAN_YUAN = 10_000 * FEN_PER_YUAN
NO_DATA = "无数据"
SHORT_NAMES_ZH = {"110": "养老", "210": "失业", "310": "医疗", "410": "工伤", "510": "生育"}
UNIT_NAMES_ZH = {"persons": "人", "amount_fen": "万元"}
# An other region is known by its agency's name (杭州市西湖区社会保险事业管理中心): a chart's
# label is the place, the text before the agency's kind, and at most this many characters.
AGENCY_KINDS_ZH = ("社会保险", "社保", "人力资源", "养老保险", "医疗保障")
REGION_LABEL_LENGTH_MAX = 8


def yuan(amount_fen: int | None) -> str:
    """1234567 → "12,345.67"; None → 无数据."""
    if amount_fen is None:
        return NO_DATA
    sign = "-" if amount_fen < 0 else ""
    whole, part = divmod(abs(amount_fen), FEN_PER_YUAN)
    return f"{sign}{whole:,}.{part:02d}"


def yuan_decimal(amount_fen: int) -> Decimal:
    """Exact: 1234567 → Decimal("12345.67")."""
    return Decimal(amount_fen) / FEN_PER_YUAN


def wan_yuan(amount_fen: int) -> Decimal:
    """万元 with two decimals, rounded once: 94_798_000_000 fen → 94798.00 (万元)."""
    return ratio_2dp(amount_fen, FEN_PER_WAN_YUAN)


def wan_yuan_text(amount_fen: int | None) -> str:
    return NO_DATA if amount_fen is None else f"{wan_yuan(amount_fen):,}"


def persons(count: int | None) -> str:
    return NO_DATA if count is None else f"{count:,}"


def target_value_text(unit: str, value: int) -> str:
    return f"{wan_yuan(value):,}万元" if unit == "amount_fen" else f"{value:,}人"


def short_name(insurance: str, name_zh: str) -> str:
    return SHORT_NAMES_ZH.get(insurance, name_zh)


def region_label(region_code: str, name_zh: str) -> str:
    """A short chart label of another pooling region: 杭州市西湖区社会保险事业管理中心 →
    杭州市西湖区; a name with no agency kind in it is cut to REGION_LABEL_LENGTH_MAX
    characters (…); no name → the division code."""
    place = name_zh
    for kind in AGENCY_KINDS_ZH:
        cut = place.find(kind)
        if cut > 0:
            place = place[:cut]
    if not place:
        return region_code
    if len(place) > REGION_LABEL_LENGTH_MAX:
        return place[:REGION_LABEL_LENGTH_MAX - 1] + "…"
    return place


def cst_time(recorded_at: str) -> str:
    """An ISO 8601 recorded time as China Standard Time: "2026-11-23 20:14:27"."""
    if not recorded_at:
        return ""
    moment = datetime.fromisoformat(recorded_at).astimezone(LEDGER_TIMEZONE)
    return moment.strftime("%Y-%m-%d %H:%M:%S")
