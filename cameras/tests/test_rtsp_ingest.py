"""The embedded RTSP path against a real RTSP server (GStreamer's, sending a live test pattern).

The ingest is tested on its own (in this process, on an event loop of its own) and through the
live endpoints of a real daphne process, where the access rules apply.
"""

import asyncio
import io
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import av
import pytest
from django.utils import timezone

from cameras import rtsp_ingest, streams
from cameras.models import Camera, LiveSession
from cameras.relay import RelayError, Upstream
from cameras.rtsp_ingest import IngestChannel
from cameras.services import sharing_pause_all, stream_source_set
from cameras.streams import StreamTestError
from cameras.tests.factories import CameraFactory
from cameras.tests.stream_server import TLS_HOSTNAME, TestCertificates
from cameras.tests.test_live_relay import cookie_for, get, start
from cameras.tests.test_streams import fake_dns  # noqa: F401 (a fixture)
from portal.tests.factories import sign_waiver

USERNAME, PASSWORD = "viewer", "rtsp-s3cret"
VIEWERS = 8


@pytest.fixture
def local_allowed(settings):
    """The GStreamer camera listens on 127.0.0.1, which the SSRF rules refuse unless allowed."""
    settings.STREAM_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.RTSP_INGEST = "embedded"
    return settings


def run(coroutine_function, upstream, *args):
    """Run coroutine_function(channel, *args) on a fresh event loop; the channel is closed afterwards."""

    async def main():
        channel = IngestChannel(asyncio.get_running_loop(), upstream)
        try:
            return await coroutine_function(channel, *args)
        finally:
            channel.close()
            await wait_for(lambda: not channel.running(), 15)

    return asyncio.run(main())


async def wait_for(condition, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.1)
    return condition()


def segment_names(playlist):
    return [line.rsplit("/", 1)[-1] for line in playlist.splitlines() if line and not line.startswith("#")]


def probe(data):
    """(codec, width, height, duration in seconds) of one MPEG-TS segment."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _frame in container.decode(stream))
        return stream.codec_context.name, stream.width, stream.height, frames


async def watch(channel, seconds):
    """Ask for the playlist as a player would, for `seconds`; the last playlist."""
    playlist = await channel.playlist("/p/")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        playlist = await channel.playlist("/p/")
    return playlist


# --- The ingest on its own -------------------------------------------------------------------


def test_h264_is_copied_into_a_rolling_hls_playlist_without_re_encoding(gst_camera, local_allowed):
    camera = gst_camera()

    async def scenario(channel):
        playlist = await watch(channel, 7)
        return playlist, [channel.segment(name) for name in segment_names(playlist)], channel

    playlist, segments, channel = run(scenario, Upstream(1, "rtsp", camera.url()))

    assert playlist.startswith("#EXTM3U\n") and "#EXT-X-TARGETDURATION:2" in playlist
    assert len(segments) >= 3 and all(segments)
    durations = [float(line[8:].rstrip(",")) for line in playlist.splitlines() if line.startswith("#EXTINF:")]
    assert all(1.9 <= duration <= 2.1 for duration in durations)  # cut at the camera's key frames, 2 s apart
    for data in segments:
        codec, width, height, frames = probe(data)
        assert (codec, width, height) == ("h264", 320, 240)
        assert 25 <= frames <= 35  # 15 frames a second
    assert channel.codec == "h264" and channel.transcoding is False
    if camera.encoder == "openh264enc":
        # PyAV's only H.264 encoder is libx264, which signs its output; copied packets carry no signature.
        assert not any(b"x264 - core" in data for data in segments)
    assert channel.upstream_connections == 1 and camera.clients == 1


def test_mjpeg_over_rtsp_is_re_encoded_to_h264(gst_camera, local_allowed):
    camera = gst_camera(codec="jpeg")

    async def scenario(channel):
        playlist = await watch(channel, 3)
        return [channel.segment(name) for name in segment_names(playlist)], channel

    segments, channel = run(scenario, Upstream(1, "rtsp", camera.url()))

    assert channel.codec == "mjpeg" and channel.transcoding is True
    assert segments and all(probe(data)[:3] == ("h264", 320, 240) for data in segments)
    assert b"x264 - core" in segments[0]


def test_a_snapshot_is_the_latest_key_frame_as_a_jpeg(gst_camera, local_allowed):
    camera = gst_camera()

    async def scenario(channel):
        return await channel.snapshot(15)

    jpeg = run(scenario, Upstream(1, "rtsp", camera.url()))

    assert jpeg.startswith(b"\xff\xd8\xff")
    assert streams.inspect_jpeg(jpeg) == (320, 240)


def test_the_ingest_reconnects_when_the_camera_drops_and_marks_the_break(gst_camera, local_allowed):
    camera = gst_camera()

    async def scenario(channel):
        before = segment_names(await watch(channel, 3))
        camera.stop()
        await watch_through_outage(channel, 3)
        camera.start()  # the same port again
        assert await wait_for(lambda: (channel.touch(), "#EXT-X-DISCONTINUITY\n" in
                                       (channel.playlist_text("/p/") or ""))[1], 30)
        after = await watch(channel, 4)
        return before, after, channel

    before, after, channel = run(scenario, Upstream(1, "rtsp", camera.url()))

    assert "#EXT-X-DISCONTINUITY\n" in after
    newest_before = int(before[-1].removesuffix(".ts"))
    assert int(segment_names(after)[-1].removesuffix(".ts")) > newest_before + 1
    assert channel.upstream_connections >= 2 and camera.clients == 2  # once before the drop, once after
    assert channel.last_error == ""


async def watch_through_outage(channel, seconds):
    """Keep asking (the viewer is still there) while the camera is away."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        channel.touch()
        channel.playlist_text("/p/")
        await asyncio.sleep(0.5)


def test_a_jump_in_the_cameras_clock_marks_a_break_instead_of_one_endless_segment(gst_camera, local_allowed):
    camera = gst_camera()
    channel = IngestChannel(None, Upstream(1, "rtsp", camera.url()))
    with av.open(rtsp_ingest.pinned_url(channel.upstream), options={"rtsp_transport": "tcp"}) as container:
        stream = container.streams.video[0]
        segmenter = rtsp_ingest._Segmenter(channel, stream, stream.time_base, "h264", None)
        for count, packet in enumerate(container.demux(stream)):
            if count >= 150:  # 10 s at 15 frames a second
                break
            if count >= 75 and packet.pts is not None:
                packet.pts -= 3_600 * 90_000  # as if the camera rebooted and counted from an hour earlier
                packet.dts = packet.pts
            segmenter.add(packet)
        segmenter.close()

    playlist = channel.playlist_text("/p/")
    assert playlist.count("#EXTINF:") >= 3 and playlist.count("#EXT-X-DISCONTINUITY\n") == 1
    assert playlist.index("#EXTINF:") < playlist.index("#EXT-X-DISCONTINUITY\n")  # the break comes after the first
    durations = [float(line[8:].rstrip(",")) for line in playlist.splitlines() if line.startswith("#EXTINF:")]
    assert all(0 < duration <= rtsp_ingest.SEGMENT_MAX_SECONDS for duration in durations)


def test_the_upstream_stops_when_no_one_asks_any_more(gst_camera, local_allowed, monkeypatch):
    monkeypatch.setattr(rtsp_ingest, "IDLE_STOP_SECONDS", 2.0)
    camera = gst_camera()

    async def scenario(channel):
        await channel.playlist("/p/")
        assert channel.running()
        return await wait_for(lambda: not channel.running(), 10)

    assert run(scenario, Upstream(1, "rtsp", camera.url())) is True


def test_a_camera_that_needs_credentials_plays_with_them(gst_camera, local_allowed):
    camera = gst_camera(username=USERNAME, password=PASSWORD)

    async def scenario(channel):
        return await channel.playlist("/p/")

    assert run(scenario, Upstream(1, "rtsp", camera.url(), USERNAME, PASSWORD)).startswith("#EXTM3U")
    # Credentials written into the address work too.
    assert run(scenario, Upstream(1, "rtsp", camera.url(f"{USERNAME}:{PASSWORD}"))).startswith("#EXTM3U")


@pytest.mark.parametrize("username, password", [(USERNAME, "wrong-password"), ("", "")])
def test_a_refused_password_is_reported_and_never_logged(gst_camera, local_allowed, caplog, monkeypatch,
                                                         username, password):
    monkeypatch.setattr(rtsp_ingest, "FIRST_SEGMENT_WAIT_SECONDS", 4)
    camera = gst_camera(username=USERNAME, password=PASSWORD)
    caplog.set_level(logging.DEBUG)

    async def scenario(channel):
        with pytest.raises(RelayError) as refused:
            await channel.playlist("/p/")
        return str(refused.value)

    reason = run(scenario, Upstream(1, "rtsp", camera.url(), username, password))

    assert reason == "the camera refused the user name or password (or asks for one)"
    assert "wrong-password" not in caplog.text and PASSWORD not in caplog.text
    assert "127.0.0.1" not in caplog.text and f"camera 1: {reason}" in caplog.text


@pytest.fixture
def tls_camera(gst_camera, local_allowed, fake_dns, tmp_path, monkeypatch):  # noqa: F811
    """A GStreamer camera speaking RTSPS with a certificate for camera.example (resolved to 127.0.0.1)."""
    fake_dns.answers[TLS_HOSTNAME] = ["127.0.0.1"]
    certificates = TestCertificates(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates.ca_file))
    return gst_camera(certificates=certificates)


def test_rtsps_is_read_over_tls_and_copied_into_hls(tls_camera):
    async def scenario(channel):
        playlist = await channel.playlist("/p/")
        return playlist, channel.codec, channel.transcoding, channel.segment(segment_names(playlist)[0])

    playlist, codec, transcoding, segment = run(scenario, Upstream(1, "rtsp", tls_camera.url(host=TLS_HOSTNAME)))

    assert playlist.startswith("#EXTM3U") and (codec, transcoding) == ("h264", False)
    assert probe(segment)[0] == "h264"


@pytest.mark.parametrize("trust, host", [("ca", "other.example"), ("none", TLS_HOSTNAME)])
def test_rtsps_refuses_a_certificate_it_cannot_verify(tls_camera, fake_dns, monkeypatch, trust, host):  # noqa: F811
    # A certificate made out to another name, or from an authority nobody trusts: no video, a plain reason.
    monkeypatch.setattr(rtsp_ingest, "FIRST_SEGMENT_WAIT_SECONDS", 4)
    fake_dns.answers["other.example"] = ["127.0.0.1"]
    if trust == "none":
        monkeypatch.delenv("SSL_CERT_FILE")

    async def scenario(channel):
        with pytest.raises(RelayError) as refused:
            await channel.playlist("/p/")
        return str(refused.value)

    reason = run(scenario, Upstream(1, "rtsp", tls_camera.url(host=host)))

    assert reason == rtsp_ingest.TLS_FAILED


def test_a_private_address_is_refused_without_connecting(gst_camera, settings, monkeypatch):
    settings.STREAM_ALLOWED_NETWORKS = []
    monkeypatch.setattr(rtsp_ingest, "FIRST_SEGMENT_WAIT_SECONDS", 2)
    camera = gst_camera()

    async def scenario(channel):
        with pytest.raises(RelayError, match="private or reserved network"):
            await channel.playlist("/p/")
        return channel.upstream_connections

    assert run(scenario, Upstream(1, "rtsp", camera.url())) == 0
    assert camera.clients == 0


def test_only_rtsp_and_rtsps_addresses_are_opened(local_allowed):
    with pytest.raises(RelayError, match="must start with one of: rtsp:// rtsps://"):
        rtsp_ingest.pinned_url(Upstream(1, "rtsp", "file:///etc/passwd"))
    pinned = rtsp_ingest.pinned_url(Upstream(1, "rtsp", "rtsp://127.0.0.1/cam?x=1", "us er", "p@ss:w/rd"))
    assert pinned == "rtsp://us%20er:p%40ss%3Aw%2Frd@127.0.0.1:554/cam?x=1"
    assert rtsp_ingest.pinned_url(Upstream(1, "rtsp", "rtsps://127.0.0.1/cam")) == "rtsps://127.0.0.1:322/cam"


def test_the_upstreams_repr_hides_the_credentials():
    upstream = Upstream(1, "rtsp", "rtsp://10.0.0.1/cam", USERNAME, PASSWORD)
    assert PASSWORD not in repr(upstream) and "10.0.0.1" not in repr(upstream)


# --- "Test connection" on the stream form, against the real server -------------------------------


def test_test_connection_reaches_the_real_rtsp_camera(gst_camera, local_allowed):
    camera = gst_camera()
    result = streams.test_stream("rtsp", camera.url())
    assert result.ok and result.message == "The camera answered the RTSP request."


def test_test_connection_speaks_of_the_camera_on_the_embedded_path(rtsp_server_with_auth, stream_server,
                                                                  local_allowed):
    with pytest.raises(StreamTestError, match="^The camera refused the user name or password.$"):
        streams.test_stream("rtsp", rtsp_server_with_auth.url(), "viewer", "wrong")
    with pytest.raises(StreamTestError, match="^The camera asks for a user name and password.$"):
        streams.test_stream("rtsp", rtsp_server_with_auth.url())
    with pytest.raises(StreamTestError, match="^The address did not answer as an RTSP camera.$"):
        streams.test_stream("rtsp", f"rtsp://127.0.0.1:{stream_server.port}/live")


def test_test_connection_reaches_a_real_camera_that_asks_for_a_password(gst_camera, local_allowed):
    # GStreamer (like many cameras) answers OPTIONS without credentials and asks for them only to play.
    camera = gst_camera(username=USERNAME, password=PASSWORD)
    assert streams.test_stream("rtsp", camera.url(), USERNAME, PASSWORD).ok


def test_test_connection_checks_an_rtsps_cameras_certificate(tls_camera, fake_dns, monkeypatch):  # noqa: F811
    assert streams.test_stream("rtsp", tls_camera.url(host=TLS_HOSTNAME)).ok

    fake_dns.answers["other.example"] = ["127.0.0.1"]
    with pytest.raises(StreamTestError, match="^The camera's security certificate could not be verified"):
        streams.test_stream("rtsp", tls_camera.url(host="other.example"))
    monkeypatch.delenv("SSL_CERT_FILE")
    with pytest.raises(StreamTestError, match="^The camera's security certificate could not be verified"):
        streams.test_stream("rtsp", tls_camera.url(host=TLS_HOSTNAME))


def test_test_connection_reports_rtsps_to_a_camera_without_tls(gst_camera, local_allowed):
    camera = gst_camera()
    with pytest.raises(StreamTestError, match="^A secure connection to the camera could not be set up.$"):
        streams.test_stream("rtsp", camera.url().replace("rtsp://", "rtsps://"))


def test_test_connection_still_refuses_a_private_address(gst_camera, settings):
    settings.STREAM_ALLOWED_NETWORKS = []
    camera = gst_camera()
    with pytest.raises(StreamTestError, match="private or reserved network"):
        streams.test_stream("rtsp", camera.url())
    assert camera.clients == 0


# --- Through the live endpoints of a real daphne process ------------------------------------------


def live_camera(owner, url, username="", password=""):
    camera = CameraFactory(owner=owner, access_level=Camera.AccessLevel.INTEGRATED, latitude=40.7, longitude=-74.0,
                           rules={"live_mode": "always"})
    stream_source_set(camera=camera, actor=owner, kind="rtsp", url=url, username=username, password=password)
    return camera


def watch_over_http(server, token, cookie):
    """A player: the playlist, then its newest segment. (playlist status, text, segment status, headers, body)."""
    status, _headers, playlist = get(server, f"/live/{token}/hls/index.m3u8", cookie)
    if status != 200:
        return status, playlist.decode(), None, {}, b""
    newest = [line for line in playlist.decode().splitlines() if line and not line.startswith("#")][-1]
    segment_status, headers, body = get(server, newest, cookie)
    return status, playlist.decode(), segment_status, headers, body


@pytest.mark.django_db(transaction=True)
def test_many_viewers_share_one_upstream_through_the_live_endpoints(embedded_relay_server, gst_camera, local_allowed,
                                                                    business, waivers, operator):
    sign_waiver(business)
    rtsp = gst_camera(username=USERNAME, password=PASSWORD)
    camera = live_camera(business, rtsp.url(), USERNAME, PASSWORD)
    cookie = cookie_for(operator)
    tokens = [start(camera, operator) for _ in range(VIEWERS)]

    with ThreadPoolExecutor(VIEWERS) as pool:
        results = list(pool.map(lambda token: watch_over_http(embedded_relay_server, token, cookie), tokens))

    assert rtsp.clients == 1
    for token, (status, playlist, segment_status, headers, body) in zip(tokens, results, strict=True):
        assert status == 200 and playlist.startswith("#EXTM3U")
        assert f"/live/{token}/hls/s/" in playlist
        assert "127.0.0.1" not in playlist and PASSWORD not in playlist
        assert segment_status == 200 and headers["Content-Type"] == "video/mp2t"
        assert "no-store" in headers["Cache-Control"]
        assert probe(body)[:3] == ("h264", 320, 240)

    status, headers, jpeg = get(embedded_relay_server, f"/live/{tokens[0]}/snapshot.jpg", cookie)
    assert status == 200 and headers["Content-Type"] == "image/jpeg" and jpeg.startswith(b"\xff\xd8\xff")


@pytest.mark.django_db(transaction=True)
def test_the_live_endpoints_apply_the_owners_rules_to_the_embedded_path(embedded_relay_server, gst_camera,
                                                                        local_allowed, business, waivers, operator,
                                                                        officer):
    sign_waiver(business)
    rtsp = gst_camera()
    camera = live_camera(business, rtsp.url())
    token = start(camera, operator)
    cookie = cookie_for(operator)
    assert watch_over_http(embedded_relay_server, token, cookie)[2] == 200

    # Another staff member holding the token gets nothing; nor does the owner, nor a signed-out browser.
    assert get(embedded_relay_server, f"/live/{token}/hls/index.m3u8", cookie_for(officer))[0] == 404
    assert get(embedded_relay_server, f"/live/{token}/hls/index.m3u8", cookie_for(business))[0] == 403
    assert get(embedded_relay_server, f"/live/{token}/snapshot.jpg", cookie_for(officer))[0] == 404
    assert get(embedded_relay_server, f"/live/{token}/hls/index.m3u8", "")[0] == 403
    assert get(embedded_relay_server, f"/live/{token}/hls/s/0.ts", cookie_for(officer))[0] == 404
    assert get(embedded_relay_server, f"/live/{token}/hls/s/999999.ts", cookie)[0] == 404

    # The owner pauses: the next request after the re-check ends the session with the policy's reason.
    sharing_pause_all(owner=business, until=timezone.now() + timedelta(hours=1))
    time.sleep(1.5)
    assert get(embedded_relay_server, f"/live/{token}/hls/index.m3u8", cookie)[0] == 404
    assert LiveSession.objects.get(camera=camera).end_code == "paused"


@pytest.mark.django_db
def test_starting_a_session_offers_the_key_frame_as_poster(client, login, local_allowed, business, waivers,
                                                           operator):
    sign_waiver(business)
    camera = live_camera(business, "rtsp://127.0.0.1:8554/cam")
    login(client, operator)

    response = client.post("/live/sessions/", {"camera": camera.pk}, content_type="application/json")

    body = response.json()
    assert response.status_code == 201 and body["kind"] == "rtsp"
    assert body["src"] == f"/live/{body['token']}/hls/index.m3u8"
    assert body["poster"] == f"/live/{body['token']}/snapshot.jpg"


@pytest.mark.django_db
def test_the_gateway_path_is_unchanged_when_chosen(client, login, settings, business, waivers, operator):
    settings.RTSP_INGEST = "gateway"
    settings.MEDIA_GATEWAY_HLS_URL = "https://gateway.example/{path}/index.m3u8"
    sign_waiver(business)
    camera = live_camera(business, "rtsp://10.0.0.9/stream")
    login(client, operator)

    body = client.post("/live/sessions/", {"camera": camera.pk}, content_type="application/json").json()

    assert body["kind"] == "rtsp" and "poster" not in body
    assert client.get(f"/live/{body['token']}/snapshot.jpg").status_code == 404  # the gateway gives no pictures


@pytest.mark.parametrize("gateway_url, chosen, mode", [
    ("", "auto", "embedded"), ("https://gw.example/{path}/index.m3u8", "auto", "gateway"),
    ("https://gw.example/{path}/index.m3u8", "embedded", "embedded"), ("", "gateway", "gateway"),
])
def test_auto_picks_the_gateway_only_when_one_is_set(settings, gateway_url, chosen, mode):
    from cameras.relay import rtsp_ingest_mode

    settings.MEDIA_GATEWAY_HLS_URL, settings.RTSP_INGEST = gateway_url, chosen
    assert rtsp_ingest_mode() == mode


@pytest.mark.django_db
def test_the_owner_tests_a_saved_rtsp_source_against_the_real_camera(client, login, gst_camera, local_allowed,
                                                                     business, waivers, other_owner):
    sign_waiver(business)
    rtsp = gst_camera(username=USERNAME, password=PASSWORD)
    camera = live_camera(business, rtsp.url(), USERNAME, PASSWORD)
    test_url = f"/cameras/{camera.pk}/stream/test/"

    login(client, other_owner)
    assert client.post(test_url).status_code == 404  # another owner's camera does not exist for them

    login(client, business)
    response = client.post(test_url)

    assert response.status_code == 200
    assert "The camera answered the RTSP request." in response.content.decode()
    assert PASSWORD not in response.content.decode() and "127.0.0.1" not in response.content.decode()
    camera.stream.refresh_from_db()
    assert camera.stream.last_test_ok is True
