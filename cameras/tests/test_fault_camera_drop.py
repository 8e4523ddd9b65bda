"""Fault: a camera drops in the middle of a live stream, then comes back.

The test camera (cameras/tests/stream_server.py) is reached through a TCP proxy: cutting it closes the
relay's upstream connection, and while the camera is "down" the proxy hangs up on every new attempt,
noting when it came, which shows the relay's back-off. The viewer, in Chromium, sees "reconnecting"
while the camera is away and moving pictures again once it is back, on the same stream.
"""

import asyncio
import time

import pytest

from cameras import relay
from cameras.models import Camera
from cameras.services import stream_source_set
from cameras.tests.factories import CameraFactory
from cameras.tests.test_browser_live import open_wall, relay_page, tile_html  # noqa: F401  (relay_page: fixture)
from conftest import collect_errors, screenshot_taker
from portal.tests.factories import sign_waiver
from portal.tests.faults import TcpProxy

RECONNECTING = "Camera connection lost; reconnecting…"


@pytest.fixture
def camera_link(stream_server):
    """The test camera behind a proxy that can cut it off."""
    proxy = TcpProxy("127.0.0.1", stream_server.port)
    yield proxy
    proxy.cut()


def gaps(times):
    return [round(later - earlier, 1) for earlier, later in zip(times, times[1:], strict=False)]


@pytest.mark.django_db
def test_the_relay_retries_a_dropped_camera_more_slowly_each_time_up_to_the_cap_then_streams_again(
        camera_link, settings, monkeypatch):
    settings.STREAM_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    monkeypatch.setattr(relay, "BACKOFF_MAX_SECONDS", 2)  # the cap (15 s in production), reached sooner
    upstream = relay.Upstream(7, "mjpeg", f"http://127.0.0.1:{camera_link.port}/mjpeg")

    async def watch():
        frames = relay.FrameChannel(asyncio.get_running_loop(), upstream)
        subscription = frames.subscribe()
        assert await subscription.next_frame(5) is not None
        assert relay.camera_state(7) == "live"
        camera_link.cut(keep_listening=True)  # the camera drops; each attempt to reach it is hung up on
        await asyncio.sleep(6.5)
        state_while_down = relay.camera_state(7)
        camera_link.restore()
        restored = time.monotonic()
        while await subscription.next_frame(0.1) is not None:
            pass  # frames from before the drop
        first_again = await subscription.next_frame(5)
        back_after = time.monotonic() - restored
        state_after = relay.camera_state(7)
        frames.unsubscribe(subscription)
        return state_while_down, first_again, back_after, state_after, list(frames.reconnect_waits)

    state_while_down, first_again, back_after, state_after, waits = asyncio.run(watch())

    assert state_while_down == "reconnecting"
    assert waits[:4] == [1.0, 2.0, 2.0, 2.0]  # doubling, then held at the cap
    assert [round(gap) for gap in gaps(camera_link.hung_up_at)[:2]] == [2, 2]
    assert first_again is not None and back_after <= 2 + 1  # at the latest one capped wait after it returned
    assert state_after == "live"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_viewer_sees_reconnecting_while_the_camera_is_away_and_pictures_again_when_it_returns(
        relay_page, relay_server, stream_server, camera_link, business, waivers, operator):  # noqa: F811
    sign_waiver(business)
    camera = CameraFactory(owner=business, access_level=Camera.AccessLevel.INTEGRATED, rules={"live_mode": "always"})
    stream_source_set(camera=camera, actor=business, kind="mjpeg", url=f"http://127.0.0.1:{camera_link.port}/mjpeg")
    errors = collect_errors(relay_page)
    open_wall(relay_page, relay_server.url, operator, tile_html(camera, "mjpeg"))
    tile = relay_page.locator(f"[data-live-tile][data-camera='{camera.pk}']")
    picture = tile.locator("[data-live-tile-media] img")
    status = tile.locator("[data-live-tile-status]")
    relay_page.wait_for_function("img => img.naturalWidth === 640", arg=picture.element_handle())
    allowance = status.inner_text()

    def snapshot():  # a small copy of what the viewer sees now
        return relay_page.evaluate("img => { const canvas = document.createElement('canvas');"
                                   " canvas.width = 80; canvas.height = 60;"
                                   " canvas.getContext('2d').drawImage(img, 0, 0, 80, 60);"
                                   " return canvas.toDataURL(); }", picture.element_handle())

    camera_link.cut(keep_listening=True)
    dropped = time.monotonic()
    relay_page.wait_for_selector(f"[data-live-tile][data-camera='{camera.pk}'][data-live-state='reconnecting']")
    noticed_s = time.monotonic() - dropped
    assert status.inner_text() == RECONNECTING
    frozen = snapshot()
    screenshot_taker(relay_page)("live-tile-reconnecting")
    while len(camera_link.hung_up_at) < 3:  # three attempts, further and further apart
        assert time.monotonic() - dropped < 20
        time.sleep(0.1)

    camera_link.restore()
    restored = time.monotonic()
    relay_page.wait_for_selector(f"[data-live-tile][data-camera='{camera.pk}'][data-live-state='playing']",
                                 timeout=30_000)
    back_s = time.monotonic() - restored
    assert status.inner_text() == allowance
    first = snapshot()
    relay_page.wait_for_timeout(500)
    assert first != frozen and snapshot() != first  # moving pictures again, on the same stream
    assert picture.count() == 1
    screenshot_taker(relay_page)("live-tile-reconnected")
    attempts = gaps([dropped, *camera_link.hung_up_at])
    print(f"camera dropped: the viewer saw '{RECONNECTING}' after {noticed_s:.1f} s; attempts after "
          f"{attempts} s; pictures again {back_s:.1f} s after the camera returned")
    assert attempts[1] > attempts[0] and attempts[2] > attempts[1]  # backing off
    assert errors == []
