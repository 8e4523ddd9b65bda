"""The public transparency page in a real browser: charts drawn from their tables, the coarse map, English and
Spanish, desktop and a 375-pixel phone."""

import pytest

from cameras.models import Camera
from portal import transparency
from portal.tests.test_transparency import BASE, cameras_in_cell, clock, history  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHARTS = 8


@pytest.fixture
def no_channel_layer(settings):
    """The browser's event loop owns this thread, so the history's real-time events (async_to_sync) would fail."""
    settings.CHANNEL_LAYERS = {}


@pytest.fixture
def program(no_channel_layer, request):
    """The known history, and three map cells dense enough to show (5, 8 and 12 cameras) beside sparse ones."""
    history = request.getfixturevalue("history")  # noqa: F811  (the fixture imported above)
    row, column = transparency.grid_cell(*BASE)
    row += 4  # 2 km north of the history's owners, who live along one street running east
    for rows, columns, count in [(0, 0, 5), (0, 1, 8), (1, 1, 12)]:
        cameras_in_cell(row + rows, column + columns, count)
    cameras_in_cell(row + 4, column, 3)
    return history


def open_report(page, url, language="en"):
    page.context.add_cookies([{"name": "django_language", "value": language, "url": url}])
    page.goto("/transparency/")
    page.locator(".transparency-chart .chart-box canvas").nth(CHARTS - 1).wait_for()


def fits_the_width(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_report_in_english_on_a_desktop_and_a_phone(page, live_server, program, screenshot, console_errors):
    open_report(page, live_server.url)

    assert page.get_by_role("heading", name="Transparency report").is_visible()
    assert "Figures as of" in page.get_by_test_id("as-of").inner_text()
    assert page.locator(".chart-box:visible canvas").count() == CHARTS
    assert page.locator("canvas[aria-hidden=true]").count() == CHARTS
    # The table is what a screen reader reads: hidden from sight, not from the accessibility tree.
    table = page.get_by_role("table", name="Area requests sent, by incident type")
    assert table.count() == 1
    assert "Feb 2026" in table.inner_text()
    assert page.locator("#requests-by-type .table-responsive").evaluate("e => e.classList.contains('visually-hidden')")
    # Three cells drawn, each with its count; the sparse one is not.
    assert page.locator("#transparency-map path.leaflet-interactive").count() == 3
    assert sorted(page.locator(".cell-count").all_inner_texts()) == ["12 cameras", "5 cameras", "8 cameras"]
    sparse = Camera.objects.count() - (5 + 8 + 12)  # the sparse cell's 3 and the history's owners' cameras
    assert f"{sparse} cameras are in squares with fewer cameras" in page.get_by_test_id("map-summary").inner_text()
    screenshot("transparency")

    page.set_viewport_size({"width": 375, "height": 812})
    assert fits_the_width(page)
    screenshot("transparency", phone=True)
    assert console_errors == []


def test_a_keyboard_user_opens_a_charts_table(page, live_server, program):
    open_report(page, live_server.url)
    toggle = page.locator("#owners-answers .table-toggle")

    toggle.focus()
    page.keyboard.press("Enter")

    assert toggle.get_attribute("aria-expanded") == "true"
    assert toggle.inner_text() == "Hide the table"
    wrapper = page.locator("#owners-answers .table-responsive")
    assert wrapper.is_visible() and "1 h 15 min" in wrapper.inner_text()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "false"


def test_the_report_in_spanish_on_a_desktop_and_a_phone(page, live_server, program, screenshot, console_errors):
    open_report(page, live_server.url, "es")

    assert page.locator("html").get_attribute("lang") == "es"
    assert page.get_by_role("heading", name="Informe de transparencia").is_visible()
    assert "Cifras a fecha de" in page.get_by_test_id("as-of").inner_text()
    assert page.get_by_role("table", name="Propietarios consultados y cómo respondieron").count() == 1
    assert page.locator("#owners-answers .table-toggle").inner_text() == "Mostrar la tabla"
    assert "12 cámaras" in page.locator(".cell-count").all_inner_texts()
    screenshot("transparency-es")

    page.set_viewport_size({"width": 375, "height": 812})
    assert fits_the_width(page)
    screenshot("transparency-es", phone=True)
    assert console_errors == []


def test_without_scripts_the_tables_are_the_figures(browser, live_server, program):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.goto("/transparency/")

    assert page.locator(".chart-box:visible").count() == 0
    assert page.locator("table.figures-table:visible").count() == CHARTS
    context.close()
