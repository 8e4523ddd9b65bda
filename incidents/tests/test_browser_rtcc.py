"""The live flow in Chromium against daphne: a CAD alarm reaches the open RTCC page, the operator
opens the incident's video wall and watches an integrated camera, the owner pauses and the tile
stops; an assigned officer finds the incident and its camera on a phone."""

import secrets
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from cameras.geo import destination_point
from cameras.models import Camera
from cameras.services import sharing_pause_all, stream_source_set
from cameras.tests.factories import CameraFactory
from cameras.tests.stream_server import stream_server_fixture  # noqa: F401
from conftest import collect_errors, screenshot_taker, sign_in
from incidents.models import Incident
from portal.tests.factories import sign_waiver

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LAT, LNG = 40.7128, -74.0060
# A browser far from the city, with a 12-hour clock: it must still show the city's times, as the server does.
ELSEWHERE = {"timezone_id": "Asia/Tokyo", "locale": "en-US"}


def city_clock(moment):
    return moment.astimezone(ZoneInfo(django_settings.TIME_ZONE)).strftime("%H:%M")


@pytest.fixture
def relay_context(browser, relay_server):
    contexts = []

    def new(viewport=None, **options):
        context = browser.new_context(base_url=relay_server.url, viewport=viewport or {"width": 1280, "height": 900},
                                      **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    yield new
    for context in contexts:
        context.close()


def signed_in(page, server_url, user):
    session = sign_in(Client(), user).cookies[django_settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([
        {"name": django_settings.SESSION_COOKIE_NAME, "value": session, "url": server_url},
        {"name": "csrftoken", "value": secrets.token_hex(16), "url": server_url},
    ])
    return page


def post_alarm(server, alarm_key, officer, external_id, occurred_at=None):
    """An emergency alarm at the test location, posted as an alarm company would, assigned to officer."""
    event = {"external_id": external_id, "event_type": "Burglar alarm", "priority": 1, "latitude": LAT,
             "longitude": LNG, "address": "400 Market St", "units": [officer.badge_number]}
    if occurred_at is not None:
        event["occurred_at"] = occurred_at.isoformat()
    response = requests.post(f"{server.url}/api/v1/cad/events/", timeout=10,
                             headers={"Authorization": f"Bearer {alarm_key[1]}"}, json=event)
    assert response.status_code == 201, response.text
    return Incident.objects.get(pk=response.json()["id"])


@pytest.fixture
def alarm_camera(business, waivers, stream_server):
    """A business camera whose owner allows live viewing during an alarm within 300 m, for 60 minutes."""
    sign_waiver(business)
    camera = CameraFactory(owner=business, name="Corner Market door", access_level=Camera.AccessLevel.INTEGRATED,
                           latitude=LAT + 0.0005, longitude=LNG,
                           rules={"live_mode": "incident", "incident_radius_m": 300, "incident_minutes": 60})
    stream_source_set(camera=camera, actor=business, kind="mjpeg", url=stream_server.url("/mjpeg"))
    never = CameraFactory(owner=business, name="Back office", access_level=Camera.AccessLevel.INTEGRATED,
                          latitude=LAT + 0.0007, longitude=LNG, rules={"live_mode": "never"})
    stream_source_set(camera=never, actor=business, kind="mjpeg", url=stream_server.url("/mjpeg"))
    return camera


def test_a_cad_alarm_reaches_the_rtcc_and_its_camera_plays_until_the_owner_pauses(
        relay_context, relay_server, alarm_camera, business, operator, officer, alarm_key):
    page = signed_in(relay_context(**ELSEWHERE), relay_server.url, operator)
    errors = collect_errors(page)
    page.goto("/staff/incidents/rtcc/")
    page.wait_for_selector("[data-rtcc][data-live-connected='true'][data-map-loaded='true']")
    page.evaluate("() => { window.notReloaded = true; }")

    incident = post_alarm(relay_server, alarm_key, officer, "ALM-5521")

    alert = page.locator(f"#rtcc-alerts [data-incident='{incident.pk}']")
    alert.wait_for()
    assert page.evaluate("() => window.notReloaded") is True
    assert "400 Market St" in alert.inner_text() and "Emergency" in alert.inner_text()
    page.wait_for_selector(".rtcc-incident-emergency")
    screenshot_taker(page)("rtcc")

    alert.locator("a").click()
    page.wait_for_url(f"**/staff/incidents/{incident.pk}/live/")
    tile = page.locator(f"[data-live-tile][data-camera='{alarm_camera.pk}']")
    picture = tile.locator("[data-live-tile-media] img")
    page.wait_for_function("img => img && img.naturalWidth === 640", arg=picture.element_handle())
    status = tile.locator("[data-live-tile-status]").inner_text()
    ends = city_clock(incident.occurred_at + timedelta(minutes=60))
    assert status == f"Owner allows live access during alarms within 300 m (until {ends})", status
    assert "Back office" in page.locator("#live-refused").inner_text()
    assert "The owner does not allow live viewing." in page.locator("#live-refused").inner_text()
    screenshot_taker(page)("incident-video-wall")

    sharing_pause_all(owner=business, until=timezone.now() + timedelta(hours=1))

    page.wait_for_selector(f"[data-live-tile][data-camera='{alarm_camera.pk}'].live-tile-stopped", timeout=10_000)
    assert tile.locator("[data-live-tile-status]").inner_text() == "Stopped: The owner has paused sharing."
    assert picture.count() == 0
    assert errors == []


def test_an_assigned_officer_finds_the_incident_and_its_live_camera_on_a_phone(
        relay_context, relay_server, alarm_camera, officer, alarm_key):
    incident = post_alarm(relay_server, alarm_key, officer, "ALM-5522")
    page = signed_in(relay_context(viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True,
                                   **ELSEWHERE), relay_server.url, officer)
    errors = collect_errors(page)

    page.goto("/staff/incidents/mine/")
    card = page.locator("[data-my-incident]")
    assert "400 Market St" in card.inner_text()
    assert f"{incident.reference} · {city_clock(incident.occurred_at)}" in card.inner_text()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(screenshot_taker(page).folder / "officer-view-phone.png"), full_page=True)

    card.get_by_role("link", name="Live cameras").click()
    tile = page.locator(f"[data-live-tile][data-camera='{alarm_camera.pk}']")
    tile.get_by_role("button", name="Watch live").click()
    page.wait_for_function("img => img && img.naturalWidth === 640",
                           arg=tile.locator("[data-live-tile-media] img").element_handle())
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(screenshot_taker(page).folder / "officer-live-phone.png"), full_page=True)
    assert errors == []


def test_an_alert_pushed_live_reads_like_those_the_server_rendered_in_a_browser_elsewhere(
        relay_context, relay_server, operator, officer, alarm_key):
    occurred = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=10)
    rendered = post_alarm(relay_server, alarm_key, officer, "ALM-6001", occurred_at=occurred)
    page = signed_in(relay_context(**ELSEWHERE), relay_server.url, operator)
    errors = collect_errors(page)
    page.goto("/staff/incidents/rtcc/")
    page.wait_for_selector("[data-rtcc][data-live-connected='true'][data-map-loaded='true']")
    assert page.evaluate("() => Intl.DateTimeFormat().resolvedOptions().timeZone") == "Asia/Tokyo"

    pushed = post_alarm(relay_server, alarm_key, officer, "ALM-6002", occurred_at=occurred)

    pushed_alert = page.locator(f"#rtcc-alerts [data-incident='{pushed.pk}']")
    pushed_alert.wait_for()
    rendered_alert = page.locator(f"#rtcc-alerts [data-incident='{rendered.pk}']")
    pushed_time = pushed_alert.locator("time").inner_text()
    assert pushed_time == rendered_alert.locator("time").inner_text() == city_clock(occurred)
    assert pushed_alert.inner_text().replace(pushed.reference, "").replace("New incident", "").strip() == (
        rendered_alert.inner_text().replace(rendered.reference, "").strip())
    screenshot_taker(page)("rtcc-alerts-elsewhere")
    screenshot_taker(page)("rtcc-alerts-elsewhere", phone=True)
    assert errors == []


def test_the_video_wall_says_the_active_alarm_is_beyond_the_owners_radius(
        relay_context, relay_server, business, waivers, stream_server, operator, officer, alarm_key):
    sign_waiver(business)
    latitude, longitude = destination_point(LAT, LNG, 0.0, 239)
    camera = CameraFactory(owner=business, name="Bakery door", access_level=Camera.AccessLevel.INTEGRATED,
                           latitude=latitude, longitude=longitude,
                           rules={"live_mode": "incident", "incident_radius_m": 200, "incident_minutes": 60})
    stream_source_set(camera=camera, actor=business, kind="mjpeg", url=stream_server.url("/mjpeg"))
    incident = post_alarm(relay_server, alarm_key, officer, "ALM-6003")
    page = signed_in(relay_context(), relay_server.url, operator)
    errors = collect_errors(page)

    page.goto(f"/staff/incidents/{incident.pk}/live/")

    refused = page.locator(f"#live-refused [data-refused-camera='{camera.pk}']")
    assert ("The owner allows live viewing during an alarm or 911 event within 200 m; the active event is 239 m "
            "away.") in refused.inner_text()
    screenshot_taker(page)("incident-video-wall-too-far")
    screenshot_taker(page)("incident-video-wall-too-far", phone=True)
    page.set_viewport_size({"width": 375, "height": 812})
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    assert errors == []
