"""The personal rights statement as an A4 PDF in Simplified Chinese, ready to print and mail:
one page, and a continuation page (续页) when a year holds more than one page has room for (a
part that would reach into the footer is drawn on the next page instead; every page carries the
footer with the verification code and, when there are two, the page number). Chinese text in
the CID font STSong-Light (Adobe-GB1, UniGB-UCS2-H; the reader's PDF viewer supplies the
glyphs, no font file is embedded), figures in Helvetica, the content hash in Courier, and a QR
code of the verification URL (infra/qr.py).

Speed (the yearly mailing renders 300,000): a page is written as PDF operators — three text
objects, one per font at size 1, each string placed and scaled by its text matrix; the lines
and the QR code as paths — and the file by infra/pdf_page.py. reportlab measures and encodes
the text (its CID font metrics) and encodes the QR symbol; drawing through its canvas, which
builds a text object per string and formats the whole document each time, cost twice as
much. The encoded form and width of the fixed labels are computed once per process."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TypeVar

from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics

from domain.assessment import EMPLOYEE_INSURANCES
from domain.policy import PENSION
from domain.statement import ARREARS, PAID, MonthLine, Statement
from infra.pdf_page import (
    CJK_FONT,
    FONT_RESOURCES,
    MONO_FONT,
    NUMBER_FONT,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    register_fonts,
    write_pages,
)
from infra.qr import qr_modules
from infra.statement_labels import (
    ACCOUNT_FIGURES,
    ACCOUNT_FIGURES_IF_NOT_ZERO,
    BACKPAID_ZH,
    INSURANCE_SHORT_ZH,
    MONTH_STATUS_ZH,
    NOTES,
    SEX_ZH,
    STATUS_ZH,
    TITLE,
    adjustment_text,
    benefit_name,
    benefit_received_lines,
    cst_time,
    other_benefit_text,
    pension_months_lines,
    rate_percent,
    transfer_text,
    yuan,
)

T = TypeVar("T")
MARGIN = 18 * mm
LEFT, RIGHT = MARGIN, PAGE_WIDTH - MARGIN
TOP, BOTTOM = PAGE_HEIGHT - MARGIN, MARGIN
QR_MODULE_POINTS = 2.2  # a 37-module symbol is 29 mm wide: phones read it at arm's length
EMPLOYMENTS_SHOWN_MAX = 3
BENEFITS_SHOWN_MAX = 3
TRANSFERS_SHOWN_MAX = 3  # a transfer in a year is rare; more in one year rarer still
OTHER_BENEFITS_SHOWN_MAX = 6  # benefit kinds of 210-510 in a year; the rest on one line
STATEMENT_PAGES_MAX = 2  # every part has a bounded height: two pages always hold them
FOOTER_GAP = 10  # points between the body's last baseline and the footer's rule
LINE_HEIGHT = 13  # of the lines of text under a section
THIN, THICK = 0.4, 0.8  # line widths
# The monthly table: (insurance, employer part or not) per column after month and base.
MONTH_COLUMNS = (("110", True), ("110", False), ("210", True), ("210", False),
                 ("310", True), ("310", False), ("410", True), ("510", True))


@lru_cache(maxsize=1)
def _number_widths() -> tuple[float, float, float]:
    """Widths per 1 pt of font size of a digit (Helvetica's digits share one width), the
    point and the minus."""
    digits = {pdfmetrics.stringWidth(ch, NUMBER_FONT, 1) for ch in "0123456789"}
    assert len(digits) == 1, digits
    return (digits.pop(), pdfmetrics.stringWidth(".", NUMBER_FONT, 1),
            pdfmetrics.stringWidth("-", NUMBER_FONT, 1))


@lru_cache(maxsize=4096)
def _number_width(text: str) -> float:
    """Width per 1 pt; the same figures come back on every page (e.g. "800.00")."""
    digit, point, minus = _number_widths()
    points, minuses = text.count("."), text.count("-")
    return digit * (len(text) - points - minuses) + point * points + minus * minuses


@lru_cache(maxsize=4096)
def _cjk(text: str) -> tuple[str, float]:
    """The text as a PDF string in the CID font's encoding, and its width per 1 pt."""
    font = register_fonts()
    return font.formatForPdf(text), font.stringWidth(text, 1)


class _Page:
    """The page's drawing, gathered per font and line width, then written as one stream."""

    def __init__(self) -> None:
        self.cjk: list[str] = []
        self.numbers: list[str] = []
        self.mono: list[str] = []
        self.lines: dict[float, list[str]] = {}
        self.paths: list[str] = []

    def text(self, x: float, y: float, text: str, size: float, align: str = "left") -> None:
        """Any text in the CJK font (its half-width Latin too)."""
        encoded, width = _cjk(text)
        x = _aligned(x, width * size, align)
        self.cjk.append(f"{size:g} 0 0 {size:g} {x:.2f} {y:.2f} Tm ({encoded}) Tj")

    def number(self, x: float, y: float, text: str, size: float, align: str = "right") -> None:
        """A figure in Helvetica: digits, point and minus only."""
        x = _aligned(x, _number_width(text) * size, align)
        self.numbers.append(f"{size:g} 0 0 {size:g} {x:.2f} {y:.2f} Tm ({text}) Tj")

    def monospace(self, x: float, y: float, text: str, size: float) -> None:
        assert text.isascii() and text.isalnum(), text
        self.mono.append(f"{size:g} 0 0 {size:g} {x:.2f} {y:.2f} Tm ({text}) Tj")

    def mark(self) -> tuple[tuple[int, int, int, int], dict[float, int]]:
        """Where the drawing is now: `rollback` takes the page back to it."""
        return ((len(self.cjk), len(self.numbers), len(self.mono), len(self.paths)),
                {width: len(segments) for width, segments in self.lines.items()})

    def rollback(self, mark: tuple[tuple[int, int, int, int], dict[float, int]]) -> None:
        (cjk, numbers, mono, paths), lines = mark
        del self.cjk[cjk:], self.numbers[numbers:], self.mono[mono:], self.paths[paths:]
        for width in list(self.lines):
            if width in lines:
                del self.lines[width][lines[width]:]
            else:
                del self.lines[width]

    def line(self, x1: float, y1: float, x2: float, y2: float, width: float = THIN) -> None:
        self.lines.setdefault(width, []).append(f"{x1:.2f} {y1:.2f} m {x2:.2f} {y2:.2f} l")

    def content(self) -> str:
        parts: list[str] = []
        for font, ops in ((CJK_FONT, self.cjk), (NUMBER_FONT, self.numbers),
                          (MONO_FONT, self.mono)):
            if ops:
                parts.append(f"BT {FONT_RESOURCES[font]} 1 Tf")
                parts.extend(ops)
                parts.append("ET")
        for width, segments in self.lines.items():
            parts.append(f"{width:g} w")
            parts.extend(segments)
            parts.append("S")
        parts.extend(self.paths)
        return "\n".join(parts)


def _aligned(x: float, width: float, align: str) -> float:
    if align == "right":
        return x - width
    if align == "centre":
        return x - width / 2
    return x


Part = Callable[[_Page, Statement, float], float]


class _Flow:
    """The pages of one statement: each part is drawn where the last ended, or at the top of
    a continuation page when it would reach below `floor` (the lowest baseline allowed above
    the footer)."""

    def __init__(self, statement: Statement, code: str, floor: float) -> None:
        self.statement = statement
        self.code = code
        self.floor = floor
        self.pages = [_Page()]

    def place(self, part: Part, y: float) -> float:
        page = self.pages[-1]
        mark = page.mark()
        end = part(page, self.statement, y)
        if end >= self.floor or len(self.pages) == STATEMENT_PAGES_MAX:
            return end
        page.rollback(mark)
        page = _Page()
        self.pages.append(page)
        return part(page, self.statement, _continuation_header(page, self.statement, self.code))


def render_pdf(statement: Statement, content_hash: str, verification_code: str,
               verify_url: str) -> bytes:
    modules = qr_modules(verify_url)
    flow = _Flow(statement, verification_code, _footer_top(modules) + FOOTER_GAP)
    y = _header(flow.pages[0], statement)
    for part in (_registration, _summary, _months, _accounts, _benefits, _transfers):
        y = flow.place(part, y)
    for number, page in enumerate(flow.pages, 1):
        _footer(page, modules, content_hash, verification_code, verify_url)
        if len(flow.pages) > 1:
            page.text(RIGHT, TOP - 6, f"第 {number} 页 共 {len(flow.pages)} 页", 8, "right")
    return write_pages([page.content() for page in flow.pages], {
        "Title": f"{TITLE}（{statement.year}年度）",
        "Author": f"社会保险经办机构 {statement.region_code}",
        "Subject": f"content sha256 {content_hash}; verification code {verification_code}",
    })


# -- parts of the page ----------------------------------------------------------------------

def _header(page: _Page, s: Statement) -> float:
    page.text(PAGE_WIDTH / 2, TOP - 14, TITLE, 18, "centre")
    page.text(PAGE_WIDTH / 2, TOP - 32, f"（{s.year}年度）", 11, "centre")
    page.text(LEFT, TOP - 50, f"参保地统筹区：{s.region_code}", 8)
    page.text(RIGHT, TOP - 50, f"数据截至：{cst_time(s.as_of)}（记账位置 {s.position}）", 8,
              "right")
    return TOP - 58


def _continuation_header(page: _Page, s: Statement, code: str) -> float:
    """The top of a continuation page: whose statement it is, should the pages come apart."""
    r = s.registration
    page.text(PAGE_WIDTH / 2, TOP - 14, f"{TITLE}（{s.year}年度）续页", 12, "centre")
    page.text(LEFT, TOP - 32, f"姓名：{r.name}  社会保障号码：{r.id_number}", 8)
    page.text(RIGHT, TOP - 32, f"校验码：{code}", 8, "right")
    return TOP - 40


def _section(page: _Page, y: float, title: str) -> float:
    page.text(LEFT, y - 12, title, 10)
    page.line(LEFT, y - 16, RIGHT, y - 16, THICK)
    return y - 16


def _registration(page: _Page, s: Statement, y: float) -> float:
    r = s.registration
    y = _section(page, y - 4, "一、参保登记信息")
    columns = (LEFT, LEFT + (RIGHT - LEFT) * 0.3, LEFT + (RIGHT - LEFT) * 0.76)
    rows = (
        (f"姓名：{r.name}", f"社会保障号码：{r.id_number}", f"性别：{SEX_ZH.get(r.sex, r.sex)}"),
        (f"出生日期：{r.birth_date or '—'}", f"参保登记日期：{r.registered_on}",
         f"参保状态：{STATUS_ZH.get(r.status, r.status)}"),
        (f"首次缴费年月：{r.first_paid_period or '—'}",
         f"退休日期：{r.retired_on or '—'}", f"死亡日期：{r.died_on}" if r.died_on else ""),
    )
    for row in rows:
        y -= 14
        for x, text in zip(columns, row, strict=True):
            if text:
                page.text(x, y, text, 9)
    employments = s.employments
    if not employments:
        y -= 14
        page.text(LEFT, y, "参保单位：本年度无参保单位记录", 9)
    for spell in employments[:EMPLOYMENTS_SHOWN_MAX]:
        y -= 14
        page.text(LEFT, y, f"参保单位：{spell.employer_name or spell.employer_code}"
                           f"（{spell.employer_code}）  {spell.start_date} 至 "
                           f"{spell.end_date or '今'}", 9)
    if len(employments) > EMPLOYMENTS_SHOWN_MAX:
        y -= 14
        page.text(LEFT, y, f"另有 {len(employments) - EMPLOYMENTS_SHOWN_MAX} 段参保单位记录，"
                           "详见电子记录单", 9)
    return y - 6


def _edges(columns: Sequence[tuple[str, float]]) -> list[float]:
    """The right edge of each column, the widths scaled to the text width."""
    edges, x = [], LEFT
    scale = (RIGHT - LEFT) / sum(width for _t, width in columns)
    for _title, width in columns:
        x += width * scale
        edges.append(x)
    return edges


def _table_header(page: _Page, y: float, columns: Sequence[tuple[str, float]],
                  edges: Sequence[float]) -> float:
    """Column titles under the section's line: the first left-aligned, the others right."""
    page.text(LEFT + 2, y - 12, columns[0][0], 8)
    for (title, _width), edge in zip(columns[1:], edges[1:], strict=True):
        page.text(edge - 2, y - 12, title, 8, "right")
    page.line(LEFT, y - 16, RIGHT, y - 16)
    return y - 16


SUMMARY_COLUMNS = (("险种", 110), ("本年缴费月数", 52), ("单位缴费", 60), ("个人缴费", 60),
                   ("实缴合计", 64), ("欠缴月数", 44), ("欠缴金额", 60), ("累计缴费月数", 56))
SUMMARY_EDGES = _edges(SUMMARY_COLUMNS)


def _summary(page: _Page, s: Statement, y: float) -> float:
    y = _section(page, y - 4, "二、本年度缴费情况（金额单位：元）")
    edges = SUMMARY_EDGES
    y = _table_header(page, y, SUMMARY_COLUMNS, edges)
    records = s.insurances
    if not records:
        page.text(LEFT + 2, y - 12, "本年度无缴费记录", 8.5)
        return y - 18
    for record in records:
        y -= 13
        page.text(LEFT + 2, y, record.name_zh, 8.5)
        values = (str(record.paid_months), yuan(record.employer_fen), yuan(record.individual_fen),
                  yuan(record.paid_fen), str(record.arrears_months), yuan(record.arrears_fen),
                  str(record.cumulative_months))
        for value, edge in zip(values, edges[1:], strict=True):
            page.number(edge - 2, y, value, 8.5)
    y -= 13
    page.text(LEFT + 2, y, "合计", 8.5)
    for fen, edge in ((sum(r.employer_fen for r in records), edges[2]),
                      (sum(r.individual_fen for r in records), edges[3]),
                      (sum(r.paid_fen for r in records), edges[4]),
                      (sum(r.arrears_fen for r in records), edges[6])):
        page.number(edge - 2, y, yuan(fen), 8.5)
    page.line(LEFT, y - 4, RIGHT, y - 4)
    if s.pension_months is None:  # format 1
        return y - 6
    for line in pension_months_lines(s.pension_months):
        y -= 13
        page.text(LEFT + 2, y, line, 8.5)
    return y - 3


MONTH_TABLE_COLUMNS = (("月份", 40), ("缴费基数", 58), *(
    (f"{INSURANCE_SHORT_ZH[ins]}{'单位' if employer else '个人'}", 50)
    for ins, employer in MONTH_COLUMNS), ("状态", 44))
MONTH_EDGES = _edges(MONTH_TABLE_COLUMNS)


def _months(page: _Page, s: Statement, y: float) -> float:
    y = _section(page, y - 4, "三、逐月缴费明细（金额单位：元）")
    edges = MONTH_EDGES
    y = _table_header(page, y, MONTH_TABLE_COLUMNS, edges)
    by_month: dict[str, dict[str, MonthLine]] = {}
    for record in s.insurances:
        if record.insurance in EMPLOYEE_INSURANCES:
            for line in record.months:
                by_month.setdefault(line.period, {})[record.insurance] = line
    for month in range(1, 13):
        period = f"{s.year}-{month:02d}"
        y -= 12
        lines = by_month.get(period)
        page.number(LEFT + 2, y, period, 8, "left")
        if not lines:
            page.number(edges[1] - 2, y, "-", 8)
            continue
        base = (lines.get("110") or next(iter(lines.values()))).base_fen
        page.number(edges[1] - 2, y, yuan(base), 8)
        for (insurance, employer_part), edge in zip(MONTH_COLUMNS, edges[2:], strict=False):
            line = lines.get(insurance)
            if line is not None:
                page.number(edge - 2, y, yuan(line.employer_fen if employer_part
                                              else line.individual_fen), 8)
        page.text(edges[-1] - 2, y, _month_status(list(lines.values())), 8, "right")
    page.line(LEFT, y - 4, RIGHT, y - 4)
    return y - 6


def _month_status(lines: Sequence[MonthLine]) -> str:
    statuses = {line.status for line in lines}
    if statuses == {PAID}:
        return BACKPAID_ZH if any(line.backpay for line in lines) else MONTH_STATUS_ZH[PAID]
    if statuses == {ARREARS}:
        return MONTH_STATUS_ZH[ARREARS]
    return "部分欠缴"


def _accounts(page: _Page, s: Statement, y: float) -> float:
    half = (RIGHT - LEFT) / 2
    for account in s.accounts:
        y = _section(page, y - 4, f"四、{account.name_zh}个人账户（金额单位：元）")
        figures = [(label, getattr(account, name).fen) for name, label in ACCOUNT_FIGURES
                   if name not in ACCOUNT_FIGURES_IF_NOT_ZERO or getattr(account, name).fen]
        rows = (len(figures) + 1) // 2
        for i, (label, fen) in enumerate(figures):
            column, row = divmod(i, rows)
            row_y = y - 13 * (row + 1)
            x = LEFT + column * half
            if label == "本年记账利息" and account.interest_rate is not None:
                label = f"本年记账利息（记账利率 {rate_percent(account.interest_rate)}）"
            page.text(x + 2, row_y, label, 9)
            page.number(x + half - 10, row_y, yuan(fen), 9)
        y -= 13 * rows + 4
    return y


def _benefits(page: _Page, s: Statement, y: float) -> float:
    y = _section(page, y - 4, "五、待遇领取情况")
    if not s.benefits:
        y -= 13
        page.text(LEFT + 2, y, "无养老保险待遇核定记录。" if s.other_benefits else
                  "无待遇核定记录。", 9)
        return _other_benefits(page, s, y)
    for benefit in s.benefits[:BENEFITS_SHOWN_MAX]:
        y -= 13
        page.text(LEFT + 2, y, f"{benefit_name(benefit.kind)}：退休日期 "
                               f"{benefit.retirement_date}，核定月发放额 "
                               f"{yuan(benefit.monthly_fen)} 元，首次发放年月 "
                               f"{benefit.first_period or '—'}", 9)
    pension = s.account(PENSION)
    for received in (s.benefits_received or ())[:BENEFITS_SHOWN_MAX]:
        lines = benefit_received_lines(received, pension.closing.fen if pension else None)
        if received.adjustment is not None:
            lines += (adjustment_text(received.adjustment),)
        for line in lines:
            y -= 13
            page.text(LEFT + 2, y, line, 9)
    return _other_benefits(page, s, y)


def _other_benefits(page: _Page, s: Statement, y: float) -> float:
    """The other insurances' benefits of the year (format 4), the end of section 五 (drawn by
    `_benefits`, so that the section never splits across pages): a line per benefit kind, at
    most OTHER_BENEFITS_SHOWN_MAX (the rest named in one line)."""
    others = s.other_benefits or ()
    shown = _capped(others, OTHER_BENEFITS_SHOWN_MAX)
    for received in shown:
        y -= LINE_HEIGHT
        page.text(LEFT + 2, y, other_benefit_text(received), 9)
    if len(shown) < len(others):
        y -= LINE_HEIGHT
        page.text(LEFT + 2, y, f"另有 {len(others) - len(shown)} 项失业、医疗、工伤、生育保险待遇，"
                               "详见电子记录单", 9)
    return y


def _transfers(page: _Page, s: Statement, y: float) -> float:
    """六、转移接续: the year's transfers, at most TRANSFERS_SHOWN_MAX lines; the rest named in
    one line that sends the reader to the electronic statement, which has every one (and
    section 二 the months they moved)."""
    transfers = s.transfers or ()
    if not transfers:
        return y
    y = _section(page, y - 4, "六、转移接续（金额单位：元）")
    shown = _capped(transfers, TRANSFERS_SHOWN_MAX)
    for transfer in shown:
        y -= LINE_HEIGHT
        page.text(LEFT + 2, y, _fitted(transfer_text(transfer), transfer_text(
            transfer, with_region_name=False), 9), 9)
    if len(shown) < len(transfers):
        y -= LINE_HEIGHT
        page.text(LEFT + 2, y, f"另有 {len(transfers) - len(shown)} 条转移接续记录，"
                               "详见电子记录单", 9)
    return y


def _capped(items: Sequence[T], lines_max: int) -> Sequence[T]:
    """All of `items` when they fit in `lines_max` lines, else as many as leave a line for
    "另有 N …"."""
    return items if len(items) <= lines_max else items[:lines_max - 1]


def _fitted(text: str, shorter: str, size: float) -> str:
    """`text` if it fits the width of the page at `size`, else `shorter`."""
    return text if _cjk(text)[1] * size <= RIGHT - LEFT - 2 else shorter


def _footer_top(modules: Sequence[Sequence[bool]]) -> float:
    """Where the footer's rule is: over the QR symbol in the bottom margin's corner."""
    return BOTTOM + len(modules) * QR_MODULE_POINTS + 8


def _footer(page: _Page, modules: Sequence[Sequence[bool]], content_hash: str, code: str,
            verify_url: str) -> None:
    size = len(modules) * QR_MODULE_POINTS
    qr_left, qr_top = RIGHT - size, BOTTOM + size
    page.paths.append(_qr_image(modules, qr_left, qr_top))
    page.line(LEFT, _footer_top(modules), RIGHT, _footer_top(modules), THICK)
    page.text(LEFT, qr_top - 8, f"校验码：{code}", 11)
    page.text(LEFT, qr_top - 22, "内容摘要（SHA-256）：", 8)
    page.monospace(LEFT, qr_top - 32, content_hash, 7)
    page.text(LEFT, qr_top - 45, f"查验网址：{verify_url}", 8)
    for i, note in enumerate(NOTES):
        page.text(LEFT, qr_top - 60 - i * 10, f"{i + 1}. {note}", 7)


def _qr_image(modules: Sequence[Sequence[bool]], left: float, top: float) -> str:
    """The symbol as an inline 1-bit image, one pixel per module, scaled to the module size
    without interpolation (sharp edges on paper); hex-encoded, so the stream stays text."""
    size = len(modules)
    rows = []
    for row in modules:
        bits = "".join("1" if dark else "0" for dark in row) + "0" * (-size % 8)
        rows.append(f"{int(bits, 2):0{len(bits) // 4}x}")
    scale = size * QR_MODULE_POINTS
    return (f"q {scale:.2f} 0 0 {scale:.2f} {left:.2f} {top - scale:.2f} cm"
            f" BI /W {size} /H {size} /BPC 1 /CS /G /D [1 0] /I false /F /AHx ID\n"
            + "".join(rows) + ">\nEI Q")
