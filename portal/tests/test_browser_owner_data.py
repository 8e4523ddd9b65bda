"""An owner in a real browser: chooses a daily e-mail for live views on the account page, then downloads
their data as JSON with the button and finds that choice and their camera in it; desktop and a 375-pixel phone."""

import json
import re

import pytest

from cameras.tests.factories import CameraFactory
from portal.models import AuditEvent
from portal.tests.browser_helpers import PASSWORD, sign_in
from portal.tests.factories import OwnerFactory, sign_waiver

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop(waivers):
    owner = OwnerFactory(email="shop@example.org", full_name="Bo Owner", account_type="business",
                         business_name="Bo's Bakery", phone="555-010-9999", password=PASSWORD)
    sign_waiver(owner)
    CameraFactory(owner=owner, name="Shop door", address="12 Main Street")
    return owner


def fits_the_width(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_an_owner_chooses_a_daily_email_and_downloads_their_data(page, shop, screenshot, console_errors):
    sign_in(page, shop.email)
    page.wait_for_url("**/dashboard/")
    page.goto("/account/")

    choice = page.get_by_label("One e-mail a day, listing the previous day's live views")
    assert page.get_by_label("An e-mail on every live view").is_checked()
    choice.focus()
    page.keyboard.press("Space")  # the keyboard alone picks it
    assert choice.is_checked()
    page.get_by_role("button", name="Save my notice choice").click()

    assert page.get_by_text("Your live-view notice choice was saved").is_visible()
    assert page.get_by_label("One e-mail a day, listing the previous day's live views").is_checked()
    shop.refresh_from_db()
    assert shop.live_view_notice == "digest"
    assert AuditEvent.objects.filter(action="notices.changed", actor=shop).count() == 1
    screenshot("account-notices")
    screenshot("account-notices", phone=True)

    page.get_by_role("link", name="Download my data").click()
    page.wait_for_url("**/account/my-data/")
    assert page.get_by_role("heading", name="Download my data").is_visible()
    screenshot("my-data")
    page.set_viewport_size({"width": 375, "height": 812})
    assert fits_the_width(page)
    screenshot("my-data", phone=True)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download as JSON").click()
    download = download_info.value

    assert re.fullmatch(r"my-camera-portal-data-\d{4}-\d{2}-\d{2}\.json", download.suggested_filename)
    with open(download.path(), encoding="utf-8") as file:
        data = json.load(file)
    assert data["owner"] == "shop@example.org"
    assert data["sections"]["account"][0]["live_view_notice"] == "digest"
    assert [camera["name"] for camera in data["sections"]["cameras"]] == ["Shop door"]
    assert AuditEvent.objects.get(action="account.data_exported").details == {"format": "json"}
    assert console_errors == []
