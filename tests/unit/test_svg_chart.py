"""The server-side SVG charts (infra/svg_chart.py): well-formed SVG with one bar per value
given and none for a missing one, bars below the axis for negative values, text escaped, lines
broken where a value is missing, the same input giving the same bytes."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from infra.svg_chart import Series, bar_chart, line_chart

SVG = "{http://www.w3.org/2000/svg}"


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def bars(svg: str) -> list[ET.Element]:
    return [e for e in parsed(svg).iter(f"{SVG}rect") if e.get("class") == "bar"]


def test_one_bar_per_value_and_none_for_a_missing_one() -> None:
    svg = bar_chart("参保人数", ["养老", "失业", "医疗"],
                    [Series("缴费", (5, 3, 4)), Series("离退休", (2, None, None))], "人")
    found = bars(svg)
    assert len(found) == 4
    titles = [e.find(f"{SVG}title").text for e in found]  # type: ignore[union-attr]
    assert titles == ["缴费 · 养老：5 人", "离退休 · 养老：2 人", "缴费 · 失业：3 人",
                      "缴费 · 医疗：4 人"]
    heights = [float(e.get("height", "0")) for e in found]
    assert heights[0] > heights[3] > heights[2] > heights[1] > 0  # 5 > 4 > 3 > 2
    assert svg == bar_chart("参保人数", ["养老", "失业", "医疗"],
                            [Series("缴费", (5, 3, 4)), Series("离退休", (2, None, None))], "人")


def test_a_negative_bar_hangs_below_the_zero_line() -> None:
    svg = bar_chart("收入", ["一", "二"], [Series("净额", (Decimal("10.5"), Decimal("-4")))],
                    "万元")
    up, down = bars(svg)
    assert float(up.get("y", "0")) + float(up.get("height", "0")) == pytest.approx(
        float(down.get("y", "0")))


def test_labels_are_escaped_and_nothing_is_fetched() -> None:
    svg = bar_chart("<b>&", ["a<b"], [Series('x"y', (1,))], "人")
    root = parsed(svg)  # well-formed despite the markup in the labels
    assert root.find(f"{SVG}title").text == "<b>&"  # type: ignore[union-attr]
    assert "<b>" not in svg and "href" not in svg and "<script" not in svg


def test_a_line_per_series_broken_where_a_value_is_missing() -> None:
    months = [f"{m}月" for m in range(1, 13)]
    values = tuple(None if m in (6, 7) else m * 10 for m in range(1, 13))
    svg = line_chart("月度收入", months, [Series("养老", values), Series("医疗", (1,) * 12)],
                     "万元")
    lines = [e for e in parsed(svg).iter(f"{SVG}polyline") if e.get("class") == "line"]
    assert [len(e.get("points", "").split()) for e in lines] == [5, 5, 12]
    points = [e for e in parsed(svg).iter(f"{SVG}circle") if e.get("class") == "point"]
    assert len(points) == 10 + 12


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="has 1 values for 2 categories"):
        bar_chart("t", ["a", "b"], [Series("s", (1,))], "人")
    with pytest.raises(ValueError, match="categories"):
        line_chart("t", [], [Series("s", ())], "人")
