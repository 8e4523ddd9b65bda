"""The live tile in Chromium, against the relay served by daphne: it plays, says why, and stops."""

import re
import secrets
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone

from cameras.models import Camera
from cameras.services import sharing_pause_all, stream_source_set
from cameras.tests.factories import CameraFactory
from conftest import collect_errors, screenshot_taker, sign_in
from portal.tests.factories import sign_waiver

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def relay_page(browser, relay_server):
    context = browser.new_context(base_url=relay_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def open_wall(page, server_url, user, tiles_html):
    """Sign the browser in as user, open a portal page and put the tiles and the player on it.

    The incident video wall page itself is built elsewhere; this puts the include on a staff page.
    """
    session = sign_in(Client(), user).cookies[django_settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([
        {"name": django_settings.SESSION_COOKIE_NAME, "value": session, "url": server_url},
        {"name": "csrftoken", "value": secrets.token_hex(16), "url": server_url},
    ])
    page.goto("/staff/")
    page.evaluate("html => { const wall = document.createElement('section'); wall.innerHTML = html;"
                  " document.querySelector('main').prepend(wall); }", tiles_html)
    page.evaluate("() => { const script = document.createElement('script');"
                  " script.src = '/static/js/live_player.js'; document.body.appendChild(script); }")


def tile_html(camera, kind):
    item = {"id": camera.pk, "name": camera.name, "distance_m": 12.0, "kind": kind, "reason": "", "code": ""}
    return render_to_string("cameras/includes/live_tile.html", {"camera": item, "incident": None,
                                                                "start_url": "/live/sessions/"})


def test_a_tile_plays_mjpeg_says_why_and_stops_when_the_owner_pauses(relay_page, relay_server, stream_server,
                                                                     business, waivers, operator):
    sign_waiver(business)
    camera = CameraFactory(owner=business, access_level=Camera.AccessLevel.INTEGRATED, rules={"live_mode": "always"})
    stream_source_set(camera=camera, actor=business, kind="mjpeg", url=stream_server.url("/mjpeg"))
    refused = CameraFactory(owner=business, access_level=Camera.AccessLevel.INTEGRATED,
                            rules={"live_mode": "never"})
    stream_source_set(camera=refused, actor=business, kind="mjpeg", url=stream_server.url("/mjpeg"))
    errors = collect_errors(relay_page)
    open_wall(relay_page, relay_server.url, operator, tile_html(camera, "mjpeg") + tile_html(refused, "mjpeg"))

    playing = relay_page.locator(f"[data-live-tile][data-camera='{camera.pk}']")
    picture = playing.locator("[data-live-tile-media] img")
    relay_page.wait_for_function("img => img.naturalWidth === 640", arg=picture.element_handle())
    status = playing.locator("[data-live-tile-status]").inner_text()
    assert re.fullmatch(r"Owner allows live access at any time \(until \d\d:\d\d\)", status), status
    refused_tile = relay_page.locator(f"[data-live-tile][data-camera='{refused.pk}']")
    assert refused_tile.locator("[data-live-tile-status]").inner_text() == "The owner does not allow live viewing."
    screenshot_taker(relay_page)("live-tile-playing")

    sharing_pause_all(owner=business, until=timezone.now() + timedelta(hours=1))

    relay_page.wait_for_selector(f"[data-live-tile][data-camera='{camera.pk}'].live-tile-stopped", timeout=10_000)
    assert playing.locator("[data-live-tile-status]").inner_text() == "Stopped: The owner has paused sharing."
    assert picture.count() == 0
    assert [error for error in errors if "403" not in error] == []  # the refused start answers 403
