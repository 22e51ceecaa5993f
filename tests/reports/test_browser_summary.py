"""The summary page's form in a real browser, on a desktop screen and on a phone."""

import pytest

pytestmark = pytest.mark.browser

# How much narrower the organisation's select is than the same select left to its own width
# (its longest option's): 0 when every option shows whole.
ORG_CUT_OFF_BY = """() => {
  const select = document.querySelector('select[name=org]');
  const free = select.cloneNode(true);
  free.style.cssText = 'position: absolute; top: 0; left: 0; width: auto; max-width: none';
  document.body.append(free);
  const cut = free.getBoundingClientRect().width - select.getBoundingClientRect().width;
  free.remove();
  return Math.max(0, Math.round(cut));
}"""


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_organisations_show_whole_and_fit_a_phone(browser_login, language):
    """The region's select was capped at 16rem, which cut its own name at 1366 px
    (广西壮族自治区总工会 (45000…): its options now show whole, and it still fits a phone."""
    page = browser_login("viewer_450000")
    page.select_option("#language-select", language)
    page.click(".lang-switch button")
    page.wait_for_load_state()
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(page.base_url + "/reports/")
    assert page.locator("select[name=org] option").count() >= 8
    assert page.evaluate(ORG_CUT_OFF_BY) == 0

    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    card = page.locator("form.toolbar").bounding_box()
    select = page.locator("select[name=org]").bounding_box()
    assert select["x"] + select["width"] <= card["x"] + card["width"]
