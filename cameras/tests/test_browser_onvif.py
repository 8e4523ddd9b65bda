"""A business finds its camera's RTSP address with ONVIF in a real browser (against the fake ONVIF
camera of cameras.tests.onvif_device), picks the second stream by keyboard and saves it."""

import pytest

from cameras import crypto
from cameras.models import StreamSource
from cameras.tests.factories import CameraFactory
from cameras.tests.onvif_device import PASSWORD as ONVIF_PASSWORD
from cameras.tests.onvif_device import USERNAME as ONVIF_USERNAME
from cameras.tests.onvif_device import onvif_device_fixture  # noqa: F401
from portal.tests.browser_helpers import PASSWORD, sign_in
from portal.tests.factories import OwnerFactory, sign_waiver

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_business_finds_its_stream_with_onvif_and_saves_the_one_it_picks(page, waivers, onvif_device, settings,
                                                                           screenshot, console_errors):
    settings.STREAM_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    owner = OwnerFactory(email="shop@example.org", full_name="Bo Owner", account_type="business",
                         business_name="Bo's Bakery", password=PASSWORD)
    sign_waiver(owner)
    camera = CameraFactory(owner=owner, name="Till", access_level="integrated")
    sign_in(page, "shop@example.org")

    page.goto(f"/cameras/{camera.pk}/stream/")
    page.get_by_role("heading", name="Find the stream with ONVIF").wait_for()
    assert page.get_by_label("ONVIF port").input_value() == "80"
    page.get_by_label("Camera's address (host name or IP)").fill("127.0.0.1")
    page.get_by_label("ONVIF port").fill(str(onvif_device.port))
    page.get_by_label("ONVIF user name").fill(ONVIF_USERNAME)
    page.get_by_label("ONVIF password").fill("not-the-password")
    page.get_by_role("button", name="Find the stream").click()
    page.get_by_test_id("onvif-error").wait_for()
    assert page.get_by_test_id("onvif-error").inner_text() == "The camera refused the user name or password."

    page.get_by_label("ONVIF password").fill(ONVIF_PASSWORD)
    page.get_by_label("ONVIF password").press("Enter")
    page.get_by_test_id("onvif-profiles").wait_for()
    main = page.get_by_role("radio", name="MainStream 1920×1080 · H264")
    assert main.is_checked()
    assert page.get_by_role("radio", name="SubStream 640×360 · H264").is_visible()
    assert ONVIF_PASSWORD not in page.content() and "Streaming/Channels" not in page.content()
    screenshot("onvif-profiles")
    screenshot("onvif-profiles", phone=True)

    # By keyboard: arrow to the second stream, then Enter submits its form.
    main.focus()
    page.keyboard.press("ArrowDown")
    assert page.get_by_role("radio", name="SubStream 640×360 · H264").is_checked()
    page.keyboard.press("Enter")
    page.get_by_text("The stream found with ONVIF was saved as an RTSP source.").wait_for()
    page.get_by_text("Stored source: RTSP (IP cameras and video recorders).").wait_for()
    screenshot("onvif-saved")
    screenshot("onvif-saved", phone=True)

    source = StreamSource.objects.get(camera=camera)
    assert source.kind == "rtsp"
    assert crypto.decrypt(source.encrypted_url) == "rtsp://127.0.0.1:554/Streaming/Channels/102?transportmode=unicast"
    assert (crypto.decrypt(source.encrypted_username), crypto.decrypt(source.encrypted_password)) == (
        ONVIF_USERNAME, ONVIF_PASSWORD)
    assert console_errors == []
