"""Small server-rendered SVG bar charts: readable on screen, in print and in the PDF (no JS)."""

import re
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ["#b3261e", "#0969da", "#1a7f37", "#9a6700", "#8250df", "#57606a"]
# SVG text does not take the page's font: without this the PDF picks the first CJK face it
# finds (Japanese), whose glyphs differ from the Chinese ones (解, 角, 骨).
FONT = "Noto Sans CJK SC, Noto Sans SC, sans-serif"
LINE_HEIGHT = 14  # of a wrapped 12-pixel label


def hbar(items: list[tuple[str, float | int | Decimal]], *, width=520, unit="") -> SafeString:
    """Horizontal bars, one per (label, value); values printed at the bar's end."""
    row, pad = 22, 60
    # Room for the longest label (English names run longer than Chinese), at most half the width.
    label_w = min(max((text_width(label, 12) for label, _v in items), default=0) + 12, width // 2)
    label_w = max(label_w, 60)
    height = max(len(items), 1) * row + 10
    top = max((float(v) for _, v in items), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" class="chart" font-family="{FONT}">'
    ]
    for index, (label, value) in enumerate(items):
        y = 5 + index * row
        length = (width - label_w - pad) * float(value) / top
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" font-size="12">'
            f"{escape(label)}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{length:.1f}" height="{row - 8}" '
            f'fill="{PALETTE[0]}"></rect>'
            f'<text x="{label_w + length + 4:.1f}" y="{y + 15}" font-size="12">'
            f"{escape(_fmt(value))}{escape(unit)}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def grouped_bars(
    groups: list[str],
    series: list[tuple[str, list[float | int | Decimal]]],
    *,
    width=520,
    height=220,
) -> SafeString:
    """Vertical bars: one group per label (e.g. a year), one bar per series (e.g. relieved).
    A label wider than its group (an English fund source) is wrapped onto several lines, and
    the chart grows by those lines."""
    left, bottom, top_pad = 40, 40, 16
    plot_h = height - bottom - top_pad
    top = max((float(v) for _, values in series for v in values), default=0) or 1
    group_w = (width - left - 10) / max(len(groups), 1)
    labels = [wrap(group, 12, group_w - 6) for group in groups]
    extra = (max((len(lines) for lines in labels), default=1) - 1) * LINE_HEIGHT
    height, bottom = height + extra, bottom + extra
    bar_w = group_w * 0.8 / max(len(series), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" class="chart" font-family="{FONT}">',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 5}" y2="{height - bottom}" '
        'stroke="#888"></line>',
    ]
    for g, label in enumerate(labels):
        x0 = left + g * group_w + group_w * 0.1
        for s, (_name, values) in enumerate(series):
            value = float(values[g])
            h = plot_h * value / top
            x = x0 + s * bar_w
            y = height - bottom - h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[s % len(PALETTE)]}"></rect>'
                f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" font-size="11" '
                f'text-anchor="middle">{escape(_fmt(values[g]))}</text>'
            )
        middle = x0 + group_w * 0.4
        lines = "".join(
            f'<tspan x="{middle:.1f}" dy="{LINE_HEIGHT if n else 0}">{escape(text)}</tspan>'
            for n, text in enumerate(label)
        )
        parts.append(
            f'<text x="{middle:.1f}" y="{height - bottom + 16}" font-size="12" '
            f'text-anchor="middle">{lines}</text>'
        )
    x = left
    for s, (name, _values) in enumerate(series):
        parts.append(
            f'<rect x="{x}" y="{height - 14}" width="10" height="10" '
            f'fill="{PALETTE[s % len(PALETTE)]}"></rect>'
            f'<text x="{x + 14}" y="{height - 5}" font-size="12">{escape(name)}</text>'
        )
        x += 14 + text_width(name, 12) + 16  # each key after the text of the one before
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def wrap(text: str, size: int, width: float) -> list[str]:
    """The text in lines at most `width` wide (as text_width estimates), broken between words,
    or between any two Chinese characters; a word wider than `width` keeps a line of its own."""
    lines = [""]
    for token in re.findall(r"\s*(?:[\u2e80-\U0010ffff]|[^\s\u2e80-\U0010ffff]+)", text.strip()):
        if lines[-1] and text_width(lines[-1] + token, size) > width:
            lines.append(token.lstrip())
        else:
            lines[-1] += token
    return lines


def text_width(text: str, size: int) -> int:
    """The printed width of a label, estimated: a Chinese character is about as wide as the
    font is high, a Latin letter or digit about 0.6 of it."""
    return round(sum(size if ord(char) >= 0x2E80 else size * 0.6 for char in text))


def _fmt(value) -> str:
    if isinstance(value, Decimal):  # whole yuan: the table beside the chart has the cents
        return f"{value:,.0f}"
    return f"{value:,}"
