"""The area request in a real browser: the operator draws the circle and sends; the owner answers."""

import re

import pytest

from cameras.services import camera_delete
from cameras.tests.factories import CameraFactory
from conftest import collect_errors, screenshot_taker
from portal.models import OutboxEmail
from portal.tests.browser_helpers import PASSWORD as OWNER_PASSWORD
from portal.tests.browser_helpers import sign_in, staff_sign_in
from portal.tests.factories import PASSWORD, OwnerFactory, sign_waiver
from requests_app.models import FootageRequest
from requests_app.tests.factories import IncidentFactory, finished_upload, submit
from requests_app.tests.videos import make_mp4

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_operator_sends_from_the_map_and_the_owner_answers_on_a_phone(browser, asgi_live_server, asgi_page,
                                                                         operator, waivers):
    page = asgi_page
    console_errors = collect_errors(page)
    screenshot = screenshot_taker(page)
    incident = IncidentFactory(address="742 Evergreen Terrace", case_number="B-1001")
    near = OwnerFactory(email="near@example.org", full_name="Nora Near")
    sign_waiver(near)
    CameraFactory(owner=near, name="Porch", latitude=incident.latitude + 0.0009, longitude=incident.longitude)
    far = OwnerFactory(email="far@example.org", full_name="Fay Far")
    sign_waiver(far)
    CameraFactory(owner=far, name="Gate", latitude=incident.latitude + 0.0036, longitude=incident.longitude)

    staff_sign_in(page, operator, PASSWORD)
    page.goto(f"/staff/incidents/{incident.pk}/")
    page.locator("#count-cameras").filter(has_text="1").wait_for()
    page.locator("#radius-slider").fill("500")
    page.locator("#count-cameras").filter(has_text="2").wait_for()
    page.locator("#radius-slider").fill("200")
    page.locator("#count-cameras").filter(has_text="1").wait_for()
    page.get_by_label("Message to owners").fill("A grey van stopped near the corner around 22:00.")
    screenshot("incident-page")
    page.get_by_role("button", name="Send requests").click()
    page.get_by_text("Sent to 1 owner.").wait_for()
    assert page.locator("[data-footage-request]").filter(has_text="Nora Near").is_visible()
    assert console_errors == []

    page.locator("[data-live-socket][data-live-connected=true]").wait_for(state="attached")
    email = OutboxEmail.objects.filter(to=near.email).latest("sent_at")
    link = re.search(r"http://[^/]+(/r/[\w-]+/)", email.body_text).group(1)
    owner_context = browser.new_context(base_url=asgi_live_server.url, viewport={"width": 375, "height": 812})
    owner_page = owner_context.new_page()
    owner_page.goto(link)
    owner_page.get_by_role("heading", name="Do you have footage of a burglary nearby?").wait_for()
    assert "742 Evergreen Terrace" not in owner_page.content()
    assert "Fay Far" not in owner_page.content()
    owner_page.screenshot(path=str(screenshot.folder / "owner-link-page-phone.png"), full_page=True)
    owner_page.get_by_text("No, decline").click()
    owner_page.get_by_label("I have no footage of that time").check()
    owner_page.get_by_role("button", name="Decline the request").click()
    owner_page.get_by_text("You declined this request.").wait_for()
    owner_context.close()
    assert FootageRequest.objects.get(owner=near).status == FootageRequest.Status.DECLINED
    # The operator's page, never reloaded, shows the answer.
    page.locator("[data-footage-request]").filter(has_text="Declined").wait_for()
    assert page.get_by_role("status").filter(has_text="Nora Near").is_visible()


def test_end_to_end_an_incident_a_request_an_upload_and_the_evidence(browser, asgi_live_server, asgi_page, operator,
                                                                     waivers, tmp_path):
    import hashlib

    page = asgi_page
    console_errors = collect_errors(page)
    owner = OwnerFactory(email="owner@example.org", full_name="Olga Owner")
    sign_waiver(owner)
    CameraFactory(owner=owner, name="Driveway", latitude=40.7130, longitude=-74.0060)
    video = tmp_path / "driveway.mp4"
    make_mp4(video, seconds=3, width=640, height=360)

    staff_sign_in(page, operator, PASSWORD)
    page.goto("/staff/incidents/new/")
    page.get_by_label("Type").select_option("hit_and_run")
    page.get_by_label("Case number").fill("HR-2026-17")
    page.get_by_label("Latitude").fill("40.7128")
    page.get_by_label("Longitude").fill("-74.0060")
    page.get_by_role("button", name="Open incident").click()
    page.locator("#count-asked").filter(has_text="1").wait_for()
    page.locator("#incident-map").click(position={"x": 300, "y": 150})  # move the centre
    page.locator("#radius-slider").fill("400")
    page.locator("#count-asked").filter(has_text="1").wait_for()
    page.get_by_role("button", name="Send requests").click()
    page.get_by_text("Sent to 1 owner.").wait_for()
    page.locator("[data-live-socket][data-live-connected=true]").wait_for(state="attached")

    email = OutboxEmail.objects.filter(to=owner.email).latest("sent_at")
    link = re.search(r"http://[^/]+(/r/[\w-]+/)", email.body_text).group(1)
    owner_context = browser.new_context(base_url=asgi_live_server.url, viewport={"width": 375, "height": 812})
    owner_page = owner_context.new_page()
    owner_errors = collect_errors(owner_page)
    owner_page.goto(link)
    owner_page.get_by_role("button", name="Yes, I will share footage").click()
    owner_page.get_by_label("Choose video files").set_input_files(str(video))
    owner_page.locator("[data-submission-status=accepted]").wait_for(timeout=30_000)
    # Once checked, the progress row ("Uploaded — being checked") gives way to the file's outcome in the list.
    owner_page.locator("[data-upload-done]").wait_for(state="detached")
    assert "being checked" not in owner_page.locator("#submissions").inner_text().lower()
    owner_page.screenshot(path=str(screenshot_taker(owner_page).folder / "owner-upload-phone.png"), full_page=True)
    owner_context.close()

    # The operator's page, never reloaded, shows the accepted footage.
    page.locator("[data-submission]").filter(has_text="Accepted").wait_for(timeout=30_000)
    screenshot_taker(page)("evidence-view")
    download = page.request.get(page.locator("a", has_text="Download").get_attribute("href"))
    assert hashlib.sha256(download.body()).hexdigest() == hashlib.sha256(video.read_bytes()).hexdigest()
    assert console_errors == [] and owner_errors == []


@pytest.fixture
def no_channel_layer(settings):
    """For tests with no page listening on a socket: the browser's event loop owns this thread, so
    events sent from it (async_to_sync) would fail."""
    settings.CHANNEL_LAYERS = {}


def test_the_owner_reads_which_camera_the_footage_police_looked_at_came_from(
        no_channel_layer, page, approved_request, operator, client, login, django_capture_on_commit_callbacks,
        screenshot, console_errors):
    owner = approved_request.owner
    owner.set_password(OWNER_PASSWORD)
    owner.save()
    camera = approved_request.cameras.get()
    camera.name = "Porch camera"
    camera.save()
    second = CameraFactory(owner=owner, name="Driveway camera")
    approved_request.cameras.add(second)
    evidence = submit(approved_request, finished_upload(approved_request, lambda path: make_mp4(path, seconds=1)),
                      django_capture_on_commit_callbacks)
    login(client, operator)
    client.get(f"/staff/evidence/{evidence.pk}/file/")
    client.get(f"/staff/evidence/{evidence.pk}/file/", {"download": "1"})
    client.get(f"/staff/evidence/{evidence.pk}/custody/")
    sign_in(page, owner.email)

    page.goto("/access-log/")

    downloaded = page.get_by_role("row").filter(has_text="Footage downloaded")
    assert "Driveway camera, Porch camera" in downloaded.inner_text()
    assert "a removed camera" not in page.locator("tbody").inner_text()
    screenshot("access-log-footage")
    screenshot("access-log-footage", phone=True)
    camera_delete(camera=second, actor=owner)
    page.set_viewport_size({"width": 375, "height": 812})
    page.reload()
    assert "Porch camera, a removed camera" in downloaded.inner_text()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    screenshot("access-log-footage-removed", phone=True)
    assert console_errors == []
