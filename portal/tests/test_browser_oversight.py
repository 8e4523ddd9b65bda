"""The oversight desk in a real browser: an oversight member signs in, filters the log, opens the flags and
downloads the export, which the stand-alone verifier accepts; desktop and a 375-pixel phone, and the keyboard."""

import subprocess
import sys

import pytest

from cameras.tests.factories import CameraFactory
from portal import roles
from portal.audit import audit_record
from portal.tests.browser_helpers import staff_sign_in
from portal.tests.factories import PASSWORD, OwnerFactory, StaffFactory
from portal.tests.test_oversight import VERIFIER

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk_history(db, settings):
    settings.OVERSIGHT_REFUSALS_THRESHOLD = 2
    officer = StaffFactory(full_name="Ana Ruiz", badge_number="1001", roles=[roles.OFFICER])
    owner = OwnerFactory(account_type="business", business_name="Bo's Bakery")
    camera = CameraFactory(owner=owner, name="Front door")
    audit_record(action="live.started", actor=officer, camera=camera, incident_reference="2026-000042",
                 details={"code": "schedule", "incident": "2026-000042", "kind": "mjpeg"})
    for _ in range(3):
        audit_record(action="live.access", actor=officer, camera=camera, outcome="denied",
                     details={"code": "live_never"})
    audit_record(action="footage.downloaded", actor=officer, camera=camera, incident_reference="2026-000042",
                 details={"sha256": "ab"})
    return officer


def fits_the_width(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_oversight_filters_the_log_opens_the_flags_and_exports(page, live_server, oversight, desk_history,
                                                               screenshot, console_errors, tmp_path):
    staff_sign_in(page, oversight, PASSWORD)
    page.get_by_role("link", name="Oversight desk").first.click()

    assert page.get_by_role("heading", name="Audit log").is_visible()
    rows = page.locator("table.oversight-table tbody tr")
    assert rows.count() == 5
    screenshot("oversight-log")
    screenshot("oversight-log", phone=True)

    # Filters by keyboard: the outcome select, then Enter submits the form.
    page.get_by_label("Outcome").select_option("refused")
    page.get_by_label("Incident reference").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/oversight/?*outcome=refused*")
    assert rows.count() == 3
    assert "asked to watch “Front door” live, with no incident: refused, as the owner does not allow live " \
           "viewing." in rows.first.inner_text()

    page.get_by_label("Outcome").select_option("")
    page.get_by_label("Incident reference").fill("2026-000042")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**incident=2026-000042*")
    assert rows.count() == 2
    assert "Officer Ana Ruiz (#1001) watched “Front door” live for incident 2026-000042: allowed by the owner's " \
           "schedule rule." in page.locator("table.oversight-table").inner_text()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export this slice (CSV)").click()
    exported = tmp_path / "slice.csv"
    download_info.value.save_as(exported)
    result = subprocess.run([sys.executable, str(VERIFIER), str(exported)],  # noqa: S603  (our own script)
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "filtered slice of 2 rows" in result.stdout

    page.get_by_role("link", name="Flags worth a look").click()
    assert page.get_by_role("heading", name="Many refusals by one person").is_visible()
    assert "More than 2 refused decisions by one person within 24 hours." in page.content()
    screenshot("oversight-flags")
    page.set_viewport_size({"width": 375, "height": 812})
    assert fits_the_width(page)
    screenshot("oversight-flags", phone=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_role("link", name="Open “Many refusals by one person”").click()
    assert page.locator("table.oversight-table tbody tr").count() == 1
    assert "3 refusals in 24 h" in page.locator("table.oversight-table").inner_text()
    screenshot("oversight-flag")
    page.set_viewport_size({"width": 375, "height": 812})
    assert fits_the_width(page)
    screenshot("oversight-flag", phone=True)

    assert console_errors == []


def test_the_log_reads_as_cards_on_a_phone(page, live_server, oversight, desk_history, screenshot):
    page.set_viewport_size({"width": 375, "height": 812})
    staff_sign_in(page, oversight, PASSWORD)
    page.goto("/oversight/")

    first = page.locator("table.oversight-table tbody tr").first
    assert page.locator("table.oversight-table thead").is_hidden()
    assert first.locator("td.sentence").evaluate("cell => getComputedStyle(cell).display") == "block"
    assert fits_the_width(page)
