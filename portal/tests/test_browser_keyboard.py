"""An owner's whole journey with the keyboard alone, in Chromium: sign up, confirm the e-mail from the outbox,
sign the agreement, register a camera without touching the map (address search, then typed coordinates),
answer a footage request from its e-mail link and upload a video. Only page.keyboard moves and acts: Tab,
Shift+Tab, Enter, Space, arrows and typing (the operating system's file dialog is the one thing answered
for the user). The focused control must show a visible focus ring at each key step."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from cameras.models import Camera
from portal.models import User
from portal.tests.browser_helpers import PASSWORD
from requests_app import services
from requests_app.models import FootageRequest
from requests_app.tests.factories import IncidentFactory
from requests_app.tests.videos import make_mp4

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADDRESSES = (
    "LON,LAT,NUMBER,STREET,UNIT,CITY,DISTRICT,REGION,POSTCODE,ID,HASH\n"
    "-74.0074831,40.7136633,1815,Market St,,Riverton,,NY,10563,,a1\n"
    "-74.0031000,40.7101000,1815,Maple St,,Riverton,,NY,10562,,a2\n"
)
MOST_TABS = 120  # more than any page here has stops before the control a step looks for


def tab_to(page, test, *, backwards=False):
    """Press Tab (Shift+Tab when backwards) until the focused element passes `test`, a CSS selector or a
    JavaScript function of the element; then check that its focus shows."""
    check = test if test.lstrip().startswith("e =>") else f"e => e.matches({test!r})"
    for _ in range(MOST_TABS):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        if page.evaluate(f"() => {{ const e = document.activeElement; return !!e && ({check})(e); }}"):
            assert_focus_visible(page)
            return
    raise AssertionError(f"The keyboard never reached {test} ({'Shift+' if backwards else ''}Tab × {MOST_TABS})")


def assert_focus_visible(page):
    """The focused element matches :focus-visible and draws an outline at least 2 px wide."""
    ring = page.evaluate("""() => {
        const e = document.activeElement, style = getComputedStyle(e);
        return {tag: e.outerHTML.slice(0, 120), visible: e.matches(":focus-visible"), style: style.outlineStyle,
                width: parseFloat(style.outlineWidth), color: style.outlineColor};
    }""")
    assert ring["visible"] and ring["style"] not in ("none", "hidden") and ring["width"] >= 2, ring


def focused_value(page):
    return page.evaluate("() => document.activeElement.value")


@pytest.fixture
def addresses(tmp_path):
    path = tmp_path / "addresses.csv"
    path.write_text(ADDRESSES)
    call_command("import_addresses", str(path), stdout=io.StringIO())


@pytest.fixture
def no_channel_layer(settings):
    """The browser's event loop owns this thread, so real-time events (async_to_sync) from it would fail."""
    settings.CHANNEL_LAYERS = {}


def send_request_near(camera, operator):
    incident = IncidentFactory(latitude=camera.latitude, longitude=camera.longitude, address="1800 Market St")
    end = timezone.now() - timedelta(hours=1)
    services.area_request_create(incident=incident, sender=operator, latitude=incident.latitude,
                                 longitude=incident.longitude, radius_m=200, window_start=end - timedelta(hours=1),
                                 window_end=end, message="A grey van stopped at the corner.")


def test_an_owner_signs_up_registers_a_camera_and_shares_footage_with_the_keyboard_alone(
        page, live_server, dev_mail, no_channel_layer, waivers, addresses, operator, tmp_path, settings,
        screenshot, console_errors):
    keyboard = page.keyboard
    page.goto("/")
    keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.classList.contains('skip-link')")
    assert_focus_visible(page)

    # Sign up.
    tab_to(page, "a[href='/accounts/signup/']")
    keyboard.press("Enter")
    page.wait_for_url("**/accounts/signup/")
    tab_to(page, "#id_full_name")
    keyboard.type("Rosa Vecina")
    tab_to(page, "#id_email")
    keyboard.type("rosa@example.org")
    tab_to(page, "#id_password1")
    keyboard.type(PASSWORD)
    tab_to(page, "#id_password2")
    keyboard.type(PASSWORD)
    tab_to(page, "#id_email", backwards=True)  # back up to check what was typed
    assert focused_value(page) == "rosa@example.org"
    tab_to(page, "main form button[type=submit]")
    screenshot("keyboard-signup")
    keyboard.press("Enter")
    page.wait_for_url("**/accounts/confirm-email/")

    # Confirm the e-mail address from the development outbox, as the sign-up tests do.
    page.goto("/dev/outbox/")
    tab_to(page, "e => e.matches('a[href^=\"/dev/outbox/\"]') && e.textContent.includes('Confirm')")
    keyboard.press("Enter")
    page.wait_for_url("**/dev/outbox/*/")
    tab_to(page, "[data-testid=outbox-body] a[href*='/accounts/confirm-email/']")
    keyboard.press("Enter")
    page.wait_for_url("**/accounts/confirm-email/*/")
    tab_to(page, "main form button[type=submit]")
    keyboard.press("Enter")
    page.wait_for_url("**/dashboard/")
    owner = User.objects.get(email="rosa@example.org")
    assert owner.emailaddress_set.get().verified

    # Sign the program agreement.
    tab_to(page, "main a[href='/waiver/']")
    keyboard.press("Enter")
    page.wait_for_url("**/waiver/")
    tab_to(page, "#id_typed_name")
    keyboard.type("Rosa Vecina")
    tab_to(page, "#id_agreed")
    keyboard.press("Space")
    assert page.evaluate("() => document.activeElement.checked")
    tab_to(page, "main form button[type=submit]")
    keyboard.press("Enter")

    # Signing leads on to registering a camera: the address search (a combobox) places it, then typed
    # coordinates adjust it; the map is never needed.
    page.wait_for_url("**/cameras/new/")
    assert owner.waiver_signatures.exists()
    tab_to(page, "#id_address")
    keyboard.type("1815 ma", delay=30)
    page.locator("#address-suggestions [role=option]").nth(1).wait_for()
    keyboard.press("ArrowDown")
    keyboard.press("ArrowDown")
    assert page.evaluate("() => document.activeElement.getAttribute('aria-activedescendant')") == \
        "address-suggestions-1"
    keyboard.press("Enter")
    assert focused_value(page) == "1815 Market St, Riverton 10563"
    tab_to(page, "#id_latitude")
    assert focused_value(page) == "40.713663"
    tab_to(page, "#id_longitude")
    keyboard.press("Control+A")
    keyboard.type("-74.007400")
    page.locator(".camera-pin").wait_for()  # the map's pin follows the typed coordinates
    tab_to(page, "#id_name")
    keyboard.type("Shop door")
    tab_to(page, "input[name=coverage][value=entrance]")
    keyboard.press("Space")
    tab_to(page, "main form button[type=submit]")
    screenshot("keyboard-camera")
    keyboard.press("Enter")
    page.wait_for_url("**/cameras/*/rules/")
    camera = Camera.objects.get(owner=owner)
    assert (camera.name, camera.address, camera.latitude, camera.longitude) == (
        "Shop door", "1815 Market St, Riverton 10563", 40.713663, -74.0074)
    assert "entrance" in camera.coverage
    tab_to(page, "main form button[type=submit]")
    keyboard.press("Enter")
    page.wait_for_url("**/dashboard/")

    # A footage request arrives by e-mail; the owner opens its link and answers yes.
    settings.SITE_URL = live_server.url  # the e-mailed link leads to this server
    send_request_near(camera, operator)
    page.goto("/dev/outbox/")
    tab_to(page, "e => e.matches('a[href^=\"/dev/outbox/\"]') && e.textContent.includes('footage')")
    keyboard.press("Enter")
    page.wait_for_url("**/dev/outbox/*/")
    tab_to(page, "[data-testid=outbox-body] a[href*='/r/']")
    keyboard.press("Enter")
    page.wait_for_url("**/requests/*/")
    tab_to(page, "form[action$='/approve/'] button[type=submit]")
    with page.expect_navigation(wait_until="load"):  # the uploader's script has run by the load event
        keyboard.press("Enter")

    # Upload a video: the file field opens the system's file dialog from the keyboard.
    video = make_mp4(tmp_path / "shop-door.mp4", seconds=1)
    tab_to(page, "#footage-files")
    with page.expect_file_chooser() as chooser:
        keyboard.press("Space")
    chooser.value.set_files(str(video))
    page.locator("[data-submission-status=accepted]").wait_for(timeout=30_000)
    screenshot("keyboard-upload")
    request = FootageRequest.objects.get(owner=owner)
    assert request.status == FootageRequest.Status.APPROVED
    assert request.submissions.get().original_name == "shop-door.mp4"
    assert console_errors == []


def test_an_operator_moves_the_request_circle_by_typing_its_centre_and_reads_its_cameras_as_a_list(
        browser, asgi_live_server, no_channel_layer, operator, waivers):
    from cameras.tests.factories import CameraFactory
    from portal.tests.accessibility import browser_context

    incident = IncidentFactory()
    CameraFactory(name="Porch", latitude=incident.latitude, longitude=incident.longitude)
    CameraFactory(name="Gate", latitude=incident.latitude + 0.0045, longitude=incident.longitude)  # 500 m north
    # On daphne, whose WebSockets the incident page keeps open.
    context = browser_context(browser, asgi_live_server.url, language="en", user=operator)
    page = context.new_page()
    cameras = page.locator("#cameras-in-circle li")
    try:
        page.goto(f"/staff/incidents/{incident.pk}/")
        cameras.filter(has_text="Porch").wait_for(state="attached")
        assert cameras.count() == 1  # the list sits in a closed <details>: there, not shown

        tab_to(page, "#id_latitude")
        page.keyboard.press("Control+A")
        page.keyboard.type(f"{incident.latitude + 0.0045:.6f}")
        cameras.filter(has_text="Gate").wait_for(state="attached")
        assert cameras.count() == 1
        assert "Gate · Registered" in cameras.first.text_content()
    finally:
        context.close()
