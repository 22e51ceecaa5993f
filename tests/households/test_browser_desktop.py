"""The staff pages on a desktop screen (1366 px) in English, whose labels are the longest."""

import pytest

pytestmark = pytest.mark.browser

# For each row of fields of a form grid (the fields whose boxes start at the same height), the
# tops of their inputs, selects and text areas when these differ; ticked boxes are left out.
RAGGED_ROWS = """() => [...document.querySelectorAll('.grid-2, .grid-3')].flatMap((grid) => {
  const rows = new Map();
  for (const field of grid.querySelectorAll(':scope > .field:not([hidden])')) {
    const control = field.querySelector(
      'input:not([type=checkbox]):not([type=radio]):not([type=hidden]), select, textarea');
    if (!control) continue;
    const row = Math.round(field.getBoundingClientRect().top);
    if (!rows.has(row)) rows.set(row, {});
    rows.get(row)[control.name] = Math.round(control.getBoundingClientRect().top);
  }
  return [...rows.values()].filter((tops) => new Set(Object.values(tops)).size > 1);
})"""


def test_the_inputs_of_a_form_row_are_level(browser_login):
    """A label wrapped to two lines (First responsible person (county union), Annual unavoidable
    spending (yuan)) pushed its input below its neighbours' on the new-file form: the inputs of
    a row are level, also once errors and help texts show under some of them."""
    page = browser_login("clerk_450102")
    page.select_option("#language-select", "en")
    page.click(".lang-switch button")
    page.wait_for_load_state()
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(page.base_url + "/households/new/")
    page.check("#id_is_migrant_worker")  # shows the union membership and its date
    rows = page.locator(".grid-3 > .field:not([hidden])").count()
    assert rows >= 15, rows
    assert page.evaluate(RAGGED_ROWS) == []

    page.fill("#id_other_monthly_income", "")
    page.evaluate("document.getElementById('household-form').noValidate = true")
    page.click("button.primary")
    page.wait_for_load_state()
    assert page.locator(".field.has-error").count() >= 2
    assert page.evaluate(RAGGED_ROWS) == []


def test_the_survey_lays_the_verified_incomes_out_in_two_columns(browser_login, make_household):
    """The survey's verified incomes sat in a fieldset styled for ticked boxes, whose flex rows
    overrode their two-column grid: a ragged column of boxes as wide as their labels."""
    household = make_household()  # the worker and a spouse
    page = browser_login("clerk_450102")
    page.select_option("#language-select", "en")
    page.click(".lang-switch button")
    page.wait_for_load_state()
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(page.base_url + f"/households/{household.pk}/survey/")
    incomes = page.locator("input[name^=income_]")
    assert incomes.count() == 2
    worker, spouse = (incomes.nth(i).bounding_box() for i in range(2))
    assert worker["y"] == spouse["y"] and spouse["x"] > worker["x"] + worker["width"]
    assert worker["width"] == spouse["width"]
    assert page.evaluate(RAGGED_ROWS) == []
