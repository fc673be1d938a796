"""Small bar and line charts as inline SVG, drawn on the server for the annual report's HTML:
no script, no font or style sheet fetched from anywhere, the same figures give the same bytes.

Hand-written rather than a charting library: the report needs two kinds of chart; pygal (the
lightest candidate on the registry) references its tooltip script on a CDN by default and puts
random ids in its output, and matplotlib is tens of megabytes with a native build. Each bar and
point carries a <title> with its exact value, which the browser shows on hover.

Values are display values (persons, 万元 as Decimal, percentages); the geometry is computed in
floats because it is pixels, never money."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

Value = int | Decimal
PALETTE = ("#2f6fb0", "#e08a2e", "#4a9a5b", "#b8483f", "#7c5ba6", "#8c6d46", "#3a9aa6")
WIDTH, HEIGHT = 720, 320
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 84, 16, 36, 56
TICKS = 5
LABEL_CHARACTER_WIDTH = 11  # pixels of a CJK character at font-size 11
SLANTED_EXTRA_MAX = 60
CATEGORIES_MAX = 60
SERIES_MAX = len(PALETTE)
FONT = "font-family=\"sans-serif\""


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[Value | None, ...]  # one per category; None: no figure (drawn as nothing)


def plain_number(value: float) -> str:
    """A tick label: thousands separated, decimals only where the step needs them."""
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.2f}"


def _nice_step(span: float) -> float:
    raw = span / (TICKS - 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if factor * magnitude >= raw:
            return factor * magnitude
    return 10 * magnitude


def _scale(series: Sequence[Series], reference: float | None = None
           ) -> tuple[float, float, float]:
    """Axis bottom, top and tick step: from 0 (or below it for negative values) to a round
    number at or above the largest value (and the reference line)."""
    values = [float(v) for s in series for v in s.values if v is not None]
    if reference is not None:
        values.append(reference)
    low, high = min([0.0, *values]), max([0.0, *values])
    if high == low:
        high = low + 1
    step = _nice_step(high - low)
    return math.floor(low / step) * step, math.ceil(high / step) * step, step


def _check(categories: Sequence[str], series: Sequence[Series]) -> None:
    if not 0 < len(categories) <= CATEGORIES_MAX:
        raise ValueError(f"a chart takes 1-{CATEGORIES_MAX} categories, got {len(categories)}")
    if not 0 < len(series) <= SERIES_MAX:
        raise ValueError(f"a chart takes 1-{SERIES_MAX} series, got {len(series)}")
    for s in series:
        if len(s.values) != len(categories):
            raise ValueError(f"series {s.name!r} has {len(s.values)} values for "
                             f"{len(categories)} categories")


class _Canvas:
    def __init__(self, title: str, unit: str, categories: Sequence[str],
                 series: Sequence[Series], value_format: Callable[[float], str],
                 reference: float | None = None) -> None:
        self.title, self.unit, self.format = title, unit, value_format
        self.bottom, self.top, self.step = _scale(series, reference)
        self.plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
        # slanted category labels need more room below the plot
        longest = max(len(c) for c in categories) * LABEL_CHARACTER_WIDTH
        self.margin_bottom = MARGIN_BOTTOM if longest <= self.plot_width / len(categories) \
            else MARGIN_BOTTOM + min(int(longest / 2), SLANTED_EXTRA_MAX)
        self.plot_height = HEIGHT - MARGIN_TOP - self.margin_bottom
        self.parts: list[str] = [
            f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} '
            f'{HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
            f'aria-label="{escape(title)}">',
            f"<title>{escape(title)}</title>",
            f'<text x="{MARGIN_LEFT}" y="20" {FONT} font-size="14" font-weight="bold">'
            f"{escape(title)}</text>",
            f'<text x="{WIDTH - MARGIN_RIGHT}" y="20" {FONT} font-size="11" '
            f'text-anchor="end" fill="#555">单位：{escape(unit)}</text>',
        ]

    def y(self, value: float) -> float:
        return MARGIN_TOP + self.plot_height * (self.top - value) / (self.top - self.bottom)

    def axes(self) -> None:
        ticks = round((self.top - self.bottom) / self.step)
        for i in range(ticks + 1):
            value = self.bottom + i * self.step
            y = self.y(value)
            colour = "#999" if value == 0 else "#e3e3e3"
            self.parts.append(
                f'<line x1="{MARGIN_LEFT}" y1="{y:.1f}" x2="{WIDTH - MARGIN_RIGHT}" '
                f'y2="{y:.1f}" stroke="{colour}" stroke-width="1"/>'
                f'<text x="{MARGIN_LEFT - 6}" y="{y + 4:.1f}" {FONT} font-size="11" '
                f'text-anchor="end" fill="#555">{escape(self.format(value))}</text>')

    def category_labels(self, categories: Sequence[str], centre: Callable[[int], float]
                        ) -> None:
        """Under each category; slanted when the labels are wider than their slots."""
        slot = self.plot_width / len(categories)
        slanted = max(len(c) for c in categories) * LABEL_CHARACTER_WIDTH > slot
        y = HEIGHT - self.margin_bottom + 16
        for i, label in enumerate(categories):
            x = centre(i)
            placement = (f'text-anchor="end" transform="rotate(-30 {x:.1f} {y})"' if slanted
                         else 'text-anchor="middle"')
            self.parts.append(f'<text x="{x:.1f}" y="{y}" {FONT} font-size="11" {placement}>'
                              f"{escape(label)}</text>")

    def reference_line(self, value: float, label: str) -> None:
        y = self.y(value)
        self.parts.append(
            f'<line x1="{MARGIN_LEFT}" y1="{y:.1f}" x2="{WIDTH - MARGIN_RIGHT}" y2="{y:.1f}" '
            'stroke="#b8483f" stroke-width="1" stroke-dasharray="4 3"/>'
            f'<text x="{MARGIN_LEFT + 4}" y="{y - 4:.1f}" {FONT} font-size="11" '
            f'fill="#b8483f">{escape(label)}</text>')

    def legend(self, series: Sequence[Series]) -> None:
        x = float(MARGIN_LEFT)
        y = HEIGHT - 14
        for i, s in enumerate(series):
            self.parts.append(
                f'<rect x="{x:.1f}" y="{y - 9}" width="10" height="10" fill="{PALETTE[i]}"/>'
                f'<text x="{x + 14:.1f}" y="{y}" {FONT} font-size="11">{escape(s.name)}</text>')
            x += 28 + 12 * len(s.name)

    def tooltip(self, s: Series, category: str, value: Value) -> str:
        return (f"<title>{escape(s.name)} · {escape(category)}：{escape(str(value))} "
                f"{escape(self.unit)}</title>")

    def svg(self) -> str:
        return "".join([*self.parts, "</svg>"])


def bar_chart(title: str, categories: Sequence[str], series: Sequence[Series], unit: str,
              value_format: Callable[[float], str] = plain_number,
              reference: tuple[float, str] | None = None) -> str:
    """Grouped bars: per category one bar per series that has a value there; `reference`, a
    dashed line at a value with its label (e.g. 100% of a target)."""
    _check(categories, series)
    canvas = _Canvas(title, unit, categories, series, value_format,
                     reference[0] if reference else None)
    canvas.axes()
    slot = canvas.plot_width / len(categories)
    bar_width = slot * 0.8 / len(series)
    zero = canvas.y(0)
    for c, category in enumerate(categories):
        for i, s in enumerate(series):
            value = s.values[c]
            if value is None:
                continue
            x = MARGIN_LEFT + slot * c + slot * 0.1 + bar_width * i
            y = canvas.y(float(value))
            top, height = min(y, zero), abs(zero - y)
            canvas.parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{top:.1f}" width="{bar_width:.1f}" '
                f'height="{height:.1f}" fill="{PALETTE[i]}">'
                f"{canvas.tooltip(s, category, value)}</rect>")
    canvas.category_labels(categories, lambda c: MARGIN_LEFT + slot * (c + 0.5))
    if reference is not None:
        canvas.reference_line(*reference)
    canvas.legend(series)
    return canvas.svg()


def line_chart(title: str, categories: Sequence[str], series: Sequence[Series], unit: str,
               value_format: Callable[[float], str] = plain_number) -> str:
    """A line per series through its values; a missing value breaks the line."""
    _check(categories, series)
    canvas = _Canvas(title, unit, categories, series, value_format)
    canvas.axes()
    step = canvas.plot_width / max(len(categories) - 1, 1)

    def x_of(c: int) -> float:
        return MARGIN_LEFT + (step * c if len(categories) > 1 else canvas.plot_width / 2)

    for i, s in enumerate(series):
        runs: list[list[str]] = [[]]
        for c, value in enumerate(s.values):
            if value is None:
                runs.append([])
                continue
            runs[-1].append(f"{x_of(c):.1f},{canvas.y(float(value)):.1f}")
        for run in runs:
            if len(run) > 1:
                canvas.parts.append(f'<polyline class="line" points="{" ".join(run)}" '
                                    f'fill="none" stroke="{PALETTE[i]}" stroke-width="2"/>')
        for c, value in enumerate(s.values):
            if value is not None:
                canvas.parts.append(
                    f'<circle class="point" cx="{x_of(c):.1f}" cy="{canvas.y(float(value)):.1f}"'
                    f' r="3" fill="{PALETTE[i]}">{canvas.tooltip(s, categories[c], value)}'
                    "</circle>")
    canvas.category_labels(categories, x_of)
    canvas.legend(series)
    return canvas.svg()
