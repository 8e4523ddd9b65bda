"""An RTSP camera on the embedded path plays in Chromium on the incident video wall (hls.js, the portal's player)."""

import secrets

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from cameras.models import Camera
from cameras.services import stream_source_set
from cameras.tests.factories import CameraFactory
from conftest import _wait_for_server_queries, collect_errors, screenshot_taker, sign_in
from incidents.models import Incident
from portal.tests.factories import sign_waiver
from requests_app.tests.factories import IncidentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LAT, LNG = 40.7128, -74.0060
USERNAME, PASSWORD = "viewer", "rtsp-s3cret"


@pytest.fixture
def wall_page(browser, embedded_relay_server):
    context = browser.new_context(base_url=embedded_relay_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()
    _wait_for_server_queries()


def signed_in(page, server_url, user):
    session = sign_in(Client(), user).cookies[django_settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([
        {"name": django_settings.SESSION_COOKIE_NAME, "value": session, "url": server_url},
        {"name": "csrftoken", "value": secrets.token_hex(16), "url": server_url},
    ])
    return page


def video_time(page, tile):
    return page.evaluate("video => video.currentTime", tile.locator("video").element_handle())


def test_an_rtsp_camera_plays_on_the_video_wall_and_its_time_advances(wall_page, embedded_relay_server, gst_camera,
                                                                       settings, business, waivers, operator):
    settings.STREAM_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.RTSP_INGEST = "embedded"
    sign_waiver(business)
    rtsp = gst_camera(username=USERNAME, password=PASSWORD)
    camera = CameraFactory(owner=business, name="Loading dock", access_level=Camera.AccessLevel.INTEGRATED,
                           latitude=LAT, longitude=LNG, rules={"live_mode": "always"})
    stream_source_set(camera=camera, actor=business, kind="rtsp", url=rtsp.url(), username=USERNAME,
                      password=PASSWORD)
    now = timezone.now()
    incident = IncidentFactory(latitude=LAT, longitude=LNG, source=Incident.Source.ALARM, external_id="R-1",
                               incident_type=Incident.Type.ALARM, window_start=now - timezone.timedelta(minutes=5),
                               window_end=now + timezone.timedelta(minutes=55))
    page = signed_in(wall_page, embedded_relay_server.url, operator)
    errors = collect_errors(page)

    page.goto(f"/staff/incidents/{incident.pk}/live/")

    tile = page.locator(f"[data-live-tile][data-camera='{camera.pk}']")
    video = tile.locator("video")
    video.wait_for()
    assert video.get_attribute("poster").endswith("/snapshot.jpg")
    page.wait_for_function("video => video.currentTime > 1", arg=video.element_handle(), timeout=30_000)
    first = video_time(page, tile)
    page.wait_for_timeout(2500)
    assert video_time(page, tile) > first + 1.5  # live: the picture keeps moving
    assert page.evaluate("video => [video.videoWidth, video.videoHeight]", video.element_handle()) == [320, 240]
    assert tile.get_attribute("data-live-state") == "playing"
    assert rtsp.clients == 1
    screenshot_taker(page)("rtsp-embedded-wall")
    screenshot_taker(page)("rtsp-embedded-wall", phone=True)
    page.set_viewport_size({"width": 375, "height": 812})
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    assert errors == []
