"""The summary's SVG charts leave room for their labels, in Chinese and in English."""

import re

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
