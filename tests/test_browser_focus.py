"""Keyboard users see where they are: tabbing through a page, every link, button and field shows
a focus ring (static/css/bangfu.css) that stands out from what is around it, the red header
included, and the first stop is the skip link, shown on screen."""

import pytest

pytestmark = pytest.mark.browser

# The focused element's outline and the colour it is drawn on: the nearest opaque background
# outside the element (the ring lies around it), as WCAG's non-text contrast (1.4.11) measures.
FOCUS = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  let behind = el.parentElement, background = "rgb(255, 255, 255)";
  for (; behind; behind = behind.parentElement) {
    const colour = getComputedStyle(behind).backgroundColor;
    if (colour !== "transparent" && !colour.endsWith(", 0)")) { background = colour; break; }
  }
  const box = el.getBoundingClientRect();
  return {
    what: el.outerHTML.slice(0, 80), style: style.outlineStyle, width: style.outlineWidth,
    colour: style.outlineColor, background, on_screen: box.left >= 0 && box.top >= 0,
  };
}"""


def luminance(rgb: str) -> float:
    channels = [int(c) / 255 for c in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("path", ["/", "/households/new/"])
def test_the_keyboard_focus_is_always_visible(browser_login, path):
    """Tabbing from the top of the page (the new-file form starts on its first field) to the
    end, or 40 stops."""
    page = browser_login("clerk_450102")
    page.goto(page.base_url + path)
    problems, stops = [], []
    for _ in range(40):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS)
        if focus["what"].startswith("<body"):
            break  # past the last stop
        stops.append(focus)
        ring = focus["style"] != "none" and float(focus["width"].removesuffix("px")) >= 2
        if not ring:
            problems.append(f"no focus ring: {focus}")
        elif contrast(focus["colour"], focus["background"]) < 3:
            seen = f"{focus['colour']} on {focus['background']}"
            problems.append(f"focus ring hard to see ({seen}): {focus['what']}")
    assert len(stops) > 10
    if path == "/":
        assert 'class="skip-link"' in stops[0]["what"] and stops[0]["on_screen"]
    assert not problems, "\n".join(problems)
