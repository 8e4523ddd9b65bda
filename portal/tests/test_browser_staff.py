"""A police staff member's first sign-in in a real browser: forced second-factor set-up (here TOTP), then the staff
pages."""

import pyotp
import pytest

from cameras.tests.factories import CameraFactory
from portal import roles
from portal.tests.factories import PASSWORD, StaffFactory, totp_code, totp_secret_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_new_operator_must_set_up_totp_before_the_staff_pages_open(page, screenshot, console_errors):
    StaffFactory(email="dana@police.example.org", full_name="Dana Reyes", badge_number="4411",
                 roles=[roles.OPERATOR])

    page.goto("/admin/")
    page.get_by_label("Email").fill("dana@police.example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()

    page.get_by_role("heading", name="Two-Factor Authentication").wait_for()
    assert page.get_by_text("Police staff must protect their account").is_visible()
    page.get_by_role("link", name="Activate").click()  # the app; passkeys: test_browser_passkeys.py
    page.get_by_role("heading", name="Activate Authenticator App").wait_for()
    screenshot("staff-totp-setup")
    secret = page.locator("#authenticator_secret").input_value()
    page.get_by_label("Authenticator code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Activate").click()
    page.get_by_role("heading", name="Recovery Codes").wait_for()

    page.goto("/admin/")
    page.get_by_role("heading", name="Site administration").wait_for()
    page.goto("/staff/")
    page.get_by_role("heading", name="Dana Reyes (#4411)").wait_for()
    assert page.get_by_text("Send area footage requests to camera owners").is_visible()
    screenshot("staff-home")
    screenshot("staff-home", phone=True)
    assert console_errors == []


def test_a_supervisor_signs_in_with_a_code_and_manages_staff_and_cameras_in_the_admin(page, console_errors,
                                                                                     screenshot):
    supervisor = StaffFactory(email="blake@police.example.org", full_name="Jordan Blake", roles=[roles.SUPERVISOR])
    StaffFactory(email="pat@police.example.org", full_name="Pat Lee", roles=[roles.OFFICER])
    secret = totp_secret_for(supervisor)

    page.goto("/admin/portal/user/")
    page.get_by_label("Email").fill(supervisor.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.get_by_label("Code").fill(totp_code(secret))
    page.get_by_role("button", name="Sign In").click()

    page.get_by_role("heading", name="Select user to change").wait_for()
    page.get_by_role("link", name="pat@police.example.org").click()
    page.get_by_role("heading", name="Change user").wait_for()
    assert page.get_by_label("Badge number").is_visible()

    CameraFactory(name="Porch", latitude=40.7128, longitude=-74.0060)
    CameraFactory(name="Shop", latitude=40.7140, longitude=-74.0050, access_level="integrated",
                  rules={"location_precision": "approximate"})
    page.goto("/admin/cameras/camera/")
    page.get_by_role("link", name="Map of all cameras").click()
    page.locator("#all-cameras-map path.leaflet-interactive").nth(1).wait_for()
    assert page.locator("#all-cameras-map path.leaflet-interactive").count() == 2
    screenshot("admin-camera-map")
    assert console_errors == []
