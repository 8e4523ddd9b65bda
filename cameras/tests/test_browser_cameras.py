"""Camera owners in a real browser: sign up, sign the waiver, place a camera on the map, set rules;
a business tests its MJPEG stream."""

import pytest

from cameras.models import Camera
from cameras.services import live_access_check
from cameras.tests.factories import CameraFactory
from portal.tests.browser_helpers import PASSWORD, confirm_from_outbox, fill_signup, sign_in
from portal.tests.factories import OwnerFactory, sign_waiver

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_new_resident_joins_places_a_camera_and_sets_a_weekday_schedule(page, dev_mail, waivers, screenshot,
                                                                          console_errors):
    fill_signup(page, email="rosa@example.org", name="Rosa Vecina")
    page.get_by_role("button", name="Sign Up").click()
    page.get_by_role("heading", name="Verify Your Email Address").wait_for()
    confirm_from_outbox(page, "rosa@example.org")
    page.get_by_role("link", name="Read and sign").click()

    page.get_by_label("Type your full name to sign").fill("Rosa Vecina")
    page.get_by_label("I have read this agreement and I agree to it.").check()
    page.get_by_role("button", name="Sign the agreement").click()

    page.get_by_role("heading", name="Register a camera").wait_for()
    page.locator("#location-map").click(position={"x": 220, "y": 140})
    assert page.get_by_label("Latitude").input_value() != ""
    page.locator(".camera-pin").wait_for()
    page.get_by_label("Camera name").fill("Front porch")
    page.get_by_label("Address").fill("12 Oak Ave")
    page.get_by_label("Street").check()
    page.get_by_label("Integrated: live access under my rules").check()
    screenshot("camera-register")
    screenshot("camera-register", phone=True)
    page.get_by_role("button", name="Register and set my rules").click()

    page.get_by_role("heading", name="Rules for “Front porch”").wait_for()
    page.get_by_label("On a weekly schedule").check()
    assert page.get_by_label("Monday").is_visible()
    assert not page.get_by_label("For how long after the event (minutes)").is_visible()
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"):
        page.get_by_label(day).check()
    page.get_by_label("Starts at").fill("18:00")
    page.get_by_label("Ends at").fill("07:00")
    screenshot("camera-rules")
    screenshot("camera-rules", phone=True)
    page.get_by_role("button", name="Save my rules").click()

    page.get_by_role("heading", name="Live stream of “Front porch”").wait_for()
    page.get_by_role("link", name="My dashboard").first.click()
    page.get_by_text("Live access: weekdays 18:00–07:00").wait_for()
    camera = Camera.objects.get(owner__email="rosa@example.org")
    assert camera.rules.schedule == [{"days": [0, 1, 2, 3, 4], "start": "18:00", "end": "07:00"}]
    screenshot("dashboard-with-camera")
    screenshot("dashboard-with-camera", phone=True)
    assert console_errors == []


def test_a_business_tests_its_mjpeg_stream_and_sees_the_frame(page, dev_mail, waivers, stream_server, settings,
                                                              console_errors):
    settings.STREAM_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    owner = OwnerFactory(email="shop@example.org", full_name="Bo Owner", account_type="business",
                         business_name="Bo's Bakery", password=PASSWORD)
    sign_waiver(owner)
    camera = CameraFactory(owner=owner, name="Till", access_level="integrated")
    sign_in(page, "shop@example.org")

    page.goto(f"/cameras/{camera.pk}/stream/")
    page.get_by_label("Kind of stream").select_option("mjpeg")
    page.get_by_label("Stream address (URL)").fill(stream_server.url("/mjpeg"))
    page.get_by_role("button", name="Save stream source").click()
    page.get_by_text("Stored source: MJPEG over HTTP.").wait_for()
    assert stream_server.url("/mjpeg") not in page.content()
    page.get_by_role("button", name="Test connection").click()

    page.get_by_test_id("stream-test-result").wait_for()
    frame = page.get_by_role("img", name="A picture just received from the camera")
    assert frame.evaluate("image => image.complete && image.naturalWidth > 0")
    assert "alert-success" in page.get_by_test_id("stream-test-result").get_attribute("class")
    assert stream_server.url("/mjpeg") not in page.content()
    assert console_errors == []


def test_the_access_log_shows_staff_by_name_and_badge(page, dev_mail, waivers, operator, screenshot):
    owner = OwnerFactory(email="shop@example.org", full_name="Bo Owner", account_type="business",
                         business_name="Bo's Bakery", password=PASSWORD)
    sign_waiver(owner)
    camera = CameraFactory(owner=owner, name="Till", access_level="integrated", rules={"live_mode": "always"})
    operator.full_name, operator.badge_number = "Dana Reyes", "4411"
    operator.save()
    live_access_check(camera=camera, viewer=operator)
    sign_in(page, "shop@example.org")

    page.goto("/access-log/")

    page.get_by_role("cell", name="Dana Reyes (#4411)").wait_for()
    assert operator.email not in page.content()
    screenshot("access-log")
    screenshot("access-log", phone=True)
