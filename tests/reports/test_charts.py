"""The summary's SVG charts leave room for their labels, in Chinese and in English."""

import re

from django.utils import translation

from funds.models import FundSource
from orgs.reference import translated_name
from reports import charts


def label_starts(svg: str) -> list[float]:
    """Where each right-aligned label of a bar chart begins, by the charts' own estimate."""
    return [
        float(x) - charts.text_width(text, 12)
        for x, text in re.findall(
            r'<text x="([\d.]+)" y="[\d.]+" text-anchor="end"[^>]*>([^<]+)<', svg
        )
    ]


def test_long_english_labels_get_room_and_short_chinese_ones_leave_it_to_the_bars():
    english = charts.hbar([("Insurance benefits not paid", 3), ("Illness", 5)])
    chinese = charts.hbar([("因病", 3), ("未参加社会保险", 5)])
    assert min(label_starts(english)) >= 0 and min(label_starts(chinese)) >= 0
    bar_x = [float(x) for x in re.findall(r'<rect x="([\d.]+)"', english)]
    assert bar_x[0] > 27 * 12 * 0.6  # the bars start after the longest label
    assert float(re.findall(r'<rect x="([\d.]+)"', chinese)[0]) < bar_x[0]


def test_the_legend_keys_follow_one_another_without_overlap():
    svg = charts.grouped_bars(
        ["2024", "2025"],
        [("Newly filed households", [3, 4]), ("Relieved", [1, 2]), ("Exited", [0, 1])],
    )
    keys = re.findall(r'<rect x="([\d.]+)" y="[\d.]+" width="10" height="10"', svg)
    names = ["Newly filed households", "Relieved", "Exited"]
    ends = [
        float(x) + 14 + charts.text_width(name, 12) for x, name in zip(keys, names, strict=True)
    ]
    assert all(float(keys[i + 1]) > ends[i] for i in range(len(names) - 1))


def label_boxes(svg: str) -> list[tuple[float, float, float, float]]:
    """(left, top, right, bottom) of each line of the bar groups' centred labels, one line or
    several (tspans), by the charts' own width estimate."""
    boxes = []
    labels = r'<text x="([\d.]+)" y="([\d.]+)" font-size="12" text-anchor="middle">(.*?)</text>'
    for middle, y, content in re.findall(labels, svg):
        lines = re.findall(r'<tspan x="([\d.]+)" dy="(\d+)">([^<]*)</tspan>', content)
        baseline = float(y)
        for x, dy, text in lines or [(middle, "0", content)]:
            baseline += float(dy)
            half = charts.text_width(text, 12) / 2
            boxes.append((float(x) - half, baseline - 12, float(x) + half, baseline + 2))
    return boxes


def test_long_english_fund_sources_are_wrapped_without_overlap(db):
    with translation.override("en"):
        names = [translated_name(source.name) for source in FundSource.objects.order_by("sort")]
    assert "Provincial or regional government funds" in names
    svg = charts.grouped_bars(names, [("Received", [1] * len(names))], width=640)
    boxes = label_boxes(svg)
    assert len(boxes) >= len(names)
    for n, (left, top, right, bottom) in enumerate(boxes):
        for other in boxes[n + 1 :]:
            apart = right <= other[0] or other[2] <= left or bottom <= other[1] or other[3] <= top
            assert apart, (boxes[n], other)
    height = float(re.search(r'height="([\d.]+)"', svg).group(1))
    legend_top = height - 14
    assert max(bottom for *_, bottom in boxes) <= legend_top
