"""Relay pieces on their own: playlist rewriting, opaque segment names, and logs without secrets."""

import asyncio
import logging

import pytest

from cameras import relay
from cameras.tests.stream_server import PASSWORD, USERNAME

PLAYLIST = """#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-MAP:URI="init.mp4"
#EXT-X-KEY:METHOD=AES-128,URI="https://keys.example.net/key?id=7"
#EXTINF:2.0,
seg-1.m4s?auth=secret-query
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="en",URI="audio/en.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=1000
low/index
"""


def channel(kind="hls", url="http://cam.example.net:8080/secret-path/live.m3u8", gateway=False):
    upstream = relay.Upstream(7, kind, url, "admin", "pw", gateway=gateway)
    return relay.HlsChannel(asyncio.new_event_loop(), upstream)


def test_every_uri_in_a_playlist_becomes_an_opaque_portal_url():
    hls = channel()

    text = hls._rewrite(PLAYLIST, hls.upstream.url, "/live/TOKEN/hls/")

    for secret in ("cam.example.net", "secret-path", "secret-query", "keys.example.net", "init.mp4", "seg-1",
                   "audio/en", "low/index"):
        assert secret not in text
    uris = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert uris[0].startswith("/live/TOKEN/hls/s/")
    assert uris[1].startswith("/live/TOKEN/hls/p/") and uris[1].endswith(".m3u8")  # the variant after STREAM-INF
    assert 'URI="/live/TOKEN/hls/p/' in text  # EXT-X-MEDIA names a playlist
    assert text.count('URI="/live/TOKEN/hls/s/') == 2  # the map and the key
    assert hls.url_for(uris[0][len("/live/TOKEN/hls/s/"):]) == (
        "http://cam.example.net:8080/secret-path/seg-1.m4s?auth=secret-query")


def test_an_opaque_name_works_in_another_process_but_not_for_another_camera():
    first, elsewhere = channel(), channel()
    other_camera = relay.HlsChannel(asyncio.new_event_loop(), relay.Upstream(8, "hls", "http://x.example/"))
    name = first.opaque_id("http://cam.example.net:8080/secret-path/seg-9.ts")

    assert elsewhere.url_for(name) == "http://cam.example.net:8080/secret-path/seg-9.ts"
    assert other_camera.url_for(name) is None
    assert first.url_for("forged") is None


def test_the_upstream_repr_hides_the_address_and_credentials():
    text = repr(relay.Upstream(7, "mjpeg", "http://admin:pw@cam.example.net/video", "admin", "pw"))

    assert "cam.example.net" not in text and "pw" not in text and "admin" not in text


@pytest.mark.django_db
def test_relay_errors_and_logs_never_name_the_camera(stream_server, settings, caplog):
    settings.STREAM_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    caplog.set_level(logging.INFO)
    url = stream_server.url("/private/secret-path/missing.jpg")
    upstream = relay.Upstream(7, "snapshot", url, USERNAME, PASSWORD)
    stream_server.stop()  # the camera goes away

    async def watch_a_dead_camera():
        frames = relay.FrameChannel(asyncio.get_running_loop(), upstream)
        frames.touch()
        assert await frames.latest(1.5) is None
        frames.close()

    asyncio.run(watch_a_dead_camera())
    with pytest.raises(relay.RelayError) as error:
        relay.fetch(url, upstream=upstream, limit=1000)

    logged = caplog.text + str(error.value)
    assert "Live relay: camera 7" in caplog.text
    for secret in ("127.0.0.1", str(stream_server.port), "secret-path", PASSWORD, f"{USERNAME}:"):
        assert secret not in logged


@pytest.mark.django_db
def test_a_dropped_camera_is_reconnected_with_back_off_and_the_upstream_stops_after_the_last_viewer(
        stream_server, settings):
    settings.STREAM_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    # A "stream" that sends one picture and hangs up: the relay must come back for more, more slowly each time.
    upstream = relay.Upstream(7, "mjpeg", stream_server.url("/snapshot.jpg"))

    async def watch():
        frames = relay.FrameChannel(asyncio.get_running_loop(), upstream)
        frames.subscribe()
        seen = 0
        deadline = asyncio.get_running_loop().time() + 3.6
        while asyncio.get_running_loop().time() < deadline:
            found = await frames.wait_frame(seen, 0.2)
            seen = found[0] if found else seen
        frames.unsubscribe()
        await asyncio.sleep(relay.LINGER_SECONDS + 1.5)
        return seen, frames.running()

    frames_seen, still_running = asyncio.run(watch())

    connections = stream_server.connections("/snapshot.jpg")
    assert 2 <= connections <= 3  # at 0 s, after 1 s, after 2 more s
    assert frames_seen == connections
    assert not still_running
    assert stream_server.connections("/snapshot.jpg") == connections


def test_a_viewer_queue_keeps_every_frame_until_it_is_full_then_loses_the_oldest_counted():
    async def feed_and_take():
        subscription = relay.Subscription(depth=3)
        for frame in (b"1", b"2", b"3", b"4", b"5"):
            subscription.put(frame)
        taken = [await subscription.next_frame(0.1) for _ in range(3)]
        return taken, subscription.dropped, await subscription.next_frame(0.05)

    taken, dropped, after = asyncio.run(feed_and_take())

    assert taken == [b"3", b"4", b"5"]
    assert dropped == 2
    assert after is None  # nothing came within the timeout


def _frame_numbers(stream_server, frames):
    numbers = {stream_server.mjpeg_frame(number): number for number in range(50)}
    return [numbers[frame] for frame in frames]


@pytest.mark.django_db
def test_a_viewer_that_keeps_up_gets_every_frame_even_after_a_pause_and_a_slow_one_holds_nobody_up(
        stream_server, settings):
    settings.STREAM_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    stream_server.frame_interval = 0.05  # 20 fps
    upstream = relay.Upstream(7, "mjpeg", stream_server.url("/mjpeg"))

    async def watch():
        loop = asyncio.get_running_loop()
        frames = relay.FrameChannel(loop, upstream)
        steady, paused, stuck = frames.subscribe(), frames.subscribe(), frames.subscribe(depth=3)
        got_steady, got_paused = [], []
        deadline = loop.time() + 2.0
        while loop.time() < deadline:
            frame = await steady.next_frame(0.5)
            if frame is not None:
                got_steady.append(frame)
            if loop.time() > deadline - 1.4:  # `paused` reads nothing for 0.6 s (about 12 frames), then catches up
                while paused.pending():
                    got_paused.append(await paused.next_frame(0))
        stuck_pending, stuck_dropped = stuck.pending(), stuck.dropped  # `stuck` never reads
        left = [await stuck.next_frame(0) for _ in range(stuck_pending)]
        for subscription in (steady, paused, stuck):
            frames.unsubscribe(subscription)
        await asyncio.sleep(relay.LINGER_SECONDS + 0.5)
        return got_steady, got_paused, stuck_pending, stuck_dropped, left, frames

    got_steady, got_paused, stuck_pending, stuck_dropped, left, frames = asyncio.run(watch())

    steady_numbers = _frame_numbers(stream_server, got_steady)
    assert len(steady_numbers) >= 20
    assert all((later - earlier) % 50 == 1 for earlier, later in zip(steady_numbers, steady_numbers[1:], strict=False))
    assert _frame_numbers(stream_server, got_paused) == steady_numbers  # the same frames, none skipped
    assert stuck_pending == 3  # memory stays bounded however far behind a viewer is
    assert stuck_dropped >= len(got_steady) - 3
    left_numbers = _frame_numbers(stream_server, left)  # the newest three
    assert [(number - left_numbers[0]) % 50 for number in left_numbers] == [0, 1, 2]
    assert (left_numbers[-1] - steady_numbers[-1]) % 50 in (0, 1)
    assert frames.frames_dropped == stuck_dropped
    assert not frames.running() and frames.subscriptions == set()
    assert stream_server.connections("/mjpeg") == 1  # one upstream for the three viewers
