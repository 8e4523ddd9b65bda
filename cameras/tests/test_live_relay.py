"""The relay through a real daphne process and real camera servers on 127.0.0.1: one upstream per camera."""

import http.client
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from cameras.live import live_session_start
from cameras.models import Camera, LiveSession
from cameras.services import sharing_pause_all, stream_source_set
from cameras.tests.factories import CameraFactory
from cameras.tests.stream_server import PASSWORD, USERNAME
from conftest import GATEWAY_TEMPLATE, RELAY_RECHECK_SECONDS, sign_in
from portal.models import AuditEvent
from portal.tests.factories import sign_waiver
from requests_app.tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db(transaction=True)
VIEWERS = 10
MARKER = b"Content-Type: image/jpeg"


def live_camera(owner, kind, url, username="", password="", **rules):
    rules.setdefault("live_mode", "always")
    camera = CameraFactory(owner=owner, access_level=Camera.AccessLevel.INTEGRATED, latitude=40.7, longitude=-74.0,
                           rules=rules)
    stream_source_set(camera=camera, actor=owner, kind=kind, url=url, username=username, password=password)
    return camera


def start(camera, viewer, incident=None):
    camera = Camera.objects.with_policy_facts().select_related("stream").get(pk=camera.pk)
    started = live_session_start(camera=camera, viewer=viewer, incident=incident)
    assert started.token, started.decision
    return started.token


def cookie_for(user):
    client = sign_in(Client(), user)
    return f"{django_settings.SESSION_COOKIE_NAME}={client.cookies[django_settings.SESSION_COOKIE_NAME].value}"


def get(server, path, cookie):
    """(status, headers, body) of a GET to the relay server."""
    parts = urlsplit(server.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("GET", path, headers={"Cookie": cookie})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


class MjpegViewer(threading.Thread):
    """Reads an MJPEG response, counting frames, until stopped or until the server closes it."""

    def __init__(self, server, path, cookie):
        super().__init__(daemon=True)
        self.server, self.path, self.cookie = server, path, cookie
        self.frames = 0
        self.status = None
        self.headers = {}
        self.body_start = b""
        self.closed_by_server_at = None
        self.stopping = threading.Event()
        self._connection = None

    def run(self):
        parts = urlsplit(self.server.url)
        self._connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        self._connection.request("GET", self.path, headers={"Cookie": self.cookie})
        response = self._connection.getresponse()
        self.status, self.headers = response.status, dict(response.getheaders())
        tail = b""
        try:
            while not self.stopping.is_set():
                chunk = response.read1(65536)
                if not chunk:
                    self.closed_by_server_at = time.monotonic()
                    return
                if len(self.body_start) < 4096:
                    self.body_start += chunk[:4096]
                data = tail + chunk
                position = 0
                while (found := data.find(MARKER, position)) >= 0:
                    self.frames += 1
                    position = found + len(MARKER)
                tail = data[max(position, len(data) - len(MARKER) + 1):]
        except (OSError, http.client.HTTPException):
            if not self.stopping.is_set():
                self.closed_by_server_at = time.monotonic()

    def stop(self):
        self.stopping.set()
        if self._connection is not None and self._connection.sock is not None:
            self._connection.sock.shutdown(2)
        self.join(timeout=5)


def wait_until(condition, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


@pytest.fixture
def business_signed(business, waivers):
    sign_waiver(business)
    return business


def test_ten_mjpeg_viewers_share_one_upstream_connection(relay_server, stream_server, business_signed, operator):
    camera = live_camera(business_signed, "mjpeg", stream_server.url("/mjpeg"))
    cookie = cookie_for(operator)
    viewers = [MjpegViewer(relay_server, f"/live/{start(camera, operator)}/mjpeg", cookie) for _ in range(VIEWERS)]
    for viewer in viewers:
        viewer.start()

    assert wait_until(lambda: all(viewer.frames >= 3 for viewer in viewers), timeout=20)
    assert stream_server.connections("/mjpeg") == 1
    assert all(viewer.status == 200 for viewer in viewers)
    assert viewers[0].headers["Content-Type"].startswith("multipart/x-mixed-replace")
    assert "no-store" in viewers[0].headers["Cache-Control"]
    for viewer in viewers:
        viewer.stop()

    # The upstream stops a few seconds after the last viewer leaves, and each session ends.
    assert wait_until(lambda: stream_server.open_streams("/mjpeg") == 0, timeout=8)
    assert wait_until(lambda: LiveSession.objects.filter(end_code="stopped").count() == VIEWERS, timeout=5)


def test_pausing_sharing_stops_the_mjpeg_relay_within_seconds(relay_server, stream_server, business_signed,
                                                              operator):
    camera = live_camera(business_signed, "mjpeg", stream_server.url("/mjpeg"))
    viewer = MjpegViewer(relay_server, f"/live/{start(camera, operator)}/mjpeg", cookie_for(operator))
    viewer.start()
    assert wait_until(lambda: viewer.frames >= 2, timeout=15)

    paused_at = time.monotonic()
    sharing_pause_all(owner=business_signed, until=timezone.now() + timedelta(hours=1))

    assert wait_until(lambda: viewer.closed_by_server_at is not None, timeout=RELAY_RECHECK_SECONDS + 3)
    assert viewer.closed_by_server_at - paused_at <= RELAY_RECHECK_SECONDS + 1
    ended = AuditEvent.objects.get(action="live.ended", camera=camera)
    assert ended.details["code"] == "paused" and ended.details["reason"] == "The owner has paused sharing."
    assert wait_until(lambda: stream_server.open_streams("/mjpeg") == 0, timeout=8)
    viewer.stop()


def test_the_end_of_the_alarm_period_stops_the_relay(relay_server, stream_server, business_signed, operator):
    camera = live_camera(business_signed, "mjpeg", stream_server.url("/mjpeg"), live_mode="incident",
                         incident_radius_m=200, incident_minutes=5)
    # An alarm that went off almost five minutes ago: its period ends in three seconds.
    began = timezone.now() - timedelta(minutes=5) + timedelta(seconds=3)
    alarm = IncidentFactory(incident_type="alarm", latitude=40.7, longitude=-74.0, window_start=began,
                            window_end=began + timedelta(hours=1))
    viewer = MjpegViewer(relay_server, f"/live/{start(camera, operator, alarm)}/mjpeg", cookie_for(operator))
    viewer.start()
    assert wait_until(lambda: viewer.frames >= 1, timeout=15)
    period_end = time.monotonic() + (began + timedelta(minutes=5) - timezone.now()).total_seconds()

    assert wait_until(lambda: viewer.closed_by_server_at is not None, timeout=15)
    assert viewer.closed_by_server_at - period_end <= RELAY_RECHECK_SECONDS + 1
    ended = AuditEvent.objects.get(action="live.ended", camera=camera)
    assert ended.details["code"] == "no_qualifying_incident" and ended.incident_reference == alarm.reference
    viewer.stop()


def test_ten_snapshot_viewers_share_one_poller(relay_server, stream_server, business_signed, operator):
    camera = live_camera(business_signed, "snapshot", stream_server.url("/snapshot.jpg"))
    cookie = cookie_for(operator)
    paths = [f"/live/{start(camera, operator)}/snapshot.jpg" for _ in range(VIEWERS)]
    began = time.monotonic()

    def watch(path):
        answers = []
        for _ in range(3):
            answers.append(get(relay_server, path, cookie))
            time.sleep(0.5)
        return answers

    with ThreadPoolExecutor(VIEWERS) as pool:
        answers = [answer for viewer in pool.map(watch, paths) for answer in viewer]
    elapsed = time.monotonic() - began

    assert all(status == 200 and body.startswith(b"\xff\xd8\xff") for status, _headers, body in answers)
    assert all(headers["Content-Type"] == "image/jpeg" for _status, headers, _body in answers)
    # One poll a second while anyone watches, however many viewers: far fewer than the 30 fetches.
    assert stream_server.connections("/snapshot.jpg") <= elapsed / 1 + 2
    polls = stream_server.connections("/snapshot.jpg")
    time.sleep(4.5)  # the poller stops a few seconds after the last fetch
    assert stream_server.connections("/snapshot.jpg") <= polls + 4
    stopped = stream_server.connections("/snapshot.jpg")
    time.sleep(1.5)
    assert stream_server.connections("/snapshot.jpg") == stopped


def fetch_hls(server, token, cookie):
    """Fetch the master playlist, its first variant and every segment; return what came back."""
    status, headers, master = get(server, f"/live/{token}/hls/index.m3u8", cookie)
    assert status == 200 and headers["Content-Type"] == "application/vnd.apple.mpegurl", master
    variant_path = next(line for line in master.decode().splitlines() if line and not line.startswith("#"))
    status, _headers, variant = get(server, variant_path, cookie)
    assert status == 200, variant
    segments = [line for line in variant.decode().splitlines() if line and not line.startswith("#")]
    bodies = [get(server, path, cookie) for path in segments]
    return master.decode(), variant.decode(), bodies


def test_ten_hls_viewers_fetch_each_playlist_and_segment_once(relay_server, stream_server, business_signed,
                                                              operator):
    camera = live_camera(business_signed, "hls", stream_server.url("/master.m3u8"))
    cookie = cookie_for(operator)
    tokens = [start(camera, operator) for _ in range(VIEWERS)]

    with ThreadPoolExecutor(VIEWERS) as pool:
        results = list(pool.map(lambda token: fetch_hls(relay_server, token, cookie), tokens))

    assert stream_server.connections("/master.m3u8") == 1
    assert stream_server.connections("/variants/low.m3u8") == 1
    assert [stream_server.connections(f"/variants/segment{n}.ts") for n in range(4)] == [1, 1, 1, 1]
    for token, (master, variant, bodies) in zip(tokens, results, strict=True):
        assert f"/live/{token}/hls/p/" in master and "variants" not in master
        assert variant.count(f"/live/{token}/hls/s/") == 4 and "segment" not in variant
        assert [status for status, _headers, _body in bodies] == [200] * 4
        assert all(headers["Content-Type"] == "video/mp2t" for _status, headers, _body in bodies)


def test_an_rtsp_camera_plays_through_the_gateways_hls_with_the_session_token(relay_server, business_signed,
                                                                             operator, settings):
    settings.MEDIA_GATEWAY_HLS_URL = relay_server.gateway.url(GATEWAY_TEMPLATE)
    camera = live_camera(business_signed, "rtsp", "rtsp://10.20.0.7:554/stream", username="admin",
                         password="rtsp-secret")
    token = start(camera, operator)
    cookie = cookie_for(operator)

    status, _headers, playlist = get(relay_server, f"/live/{token}/hls/index.m3u8", cookie)

    assert status == 200 and playlist.startswith(b"#EXTM3U")
    segment_path = next(line for line in playlist.decode().splitlines() if line and not line.startswith("#"))
    status, _headers, segment = get(relay_server, segment_path, cookie)
    assert status == 200 and segment.startswith(b"\x47")
    gateway_requests = [path for path, _headers in relay_server.gateway.requests
                        if path.startswith(f"/camera-{camera.pk}/")]
    assert gateway_requests and all(f"token={token}" in path for path in gateway_requests)
    assert b"10.20.0.7" not in playlist and b"rtsp-secret" not in playlist and b"camera-" not in playlist


def test_a_token_for_another_viewer_or_kind_is_refused(relay_server, stream_server, business_signed, operator,
                                                       officer):
    camera = live_camera(business_signed, "snapshot", stream_server.url("/snapshot.jpg"))
    token = start(camera, operator)

    assert get(relay_server, f"/live/{token}/snapshot.jpg", cookie_for(officer))[0] == 404
    assert get(relay_server, f"/live/{token}/snapshot.jpg", "")[0] == 403
    assert get(relay_server, f"/live/{token}/mjpeg", cookie_for(operator))[0] == 404
    assert get(relay_server, f"/live/{token}/snapshot.jpg", cookie_for(operator))[0] == 200


SECRET_USERNAME, SECRET_PASSWORD = USERNAME, PASSWORD


def test_no_answer_reveals_the_cameras_address_or_credentials(relay_server, stream_server, business_signed,
                                                              operator):
    cookie = cookie_for(operator)
    port = str(stream_server.port)
    mjpeg = live_camera(business_signed, "mjpeg", stream_server.url("/private/mjpeg"), SECRET_USERNAME,
                        SECRET_PASSWORD)
    hls = live_camera(business_signed, "hls", stream_server.url("/private/master.m3u8"), SECRET_USERNAME,
                      SECRET_PASSWORD)
    broken = live_camera(business_signed, "snapshot", stream_server.url("/private/missing.jpg"), SECRET_USERNAME,
                         SECRET_PASSWORD)
    secrets = [stream_server.url("/private"), "127.0.0.1", f":{port}", "/private", SECRET_PASSWORD,
               SECRET_USERNAME + ":", "master.m3u8", "variants"]
    answers = []

    viewer = MjpegViewer(relay_server, f"/live/{start(mjpeg, operator)}/mjpeg", cookie)
    viewer.start()
    assert wait_until(lambda: viewer.frames >= 2, timeout=15)
    answers.append((str(viewer.headers), viewer.body_start.split(b"\xff\xd8", 1)[0]))
    viewer.stop()
    hls_token = start(hls, operator)
    master, variant, segments = fetch_hls(relay_server, hls_token, cookie)
    answers += [("", master), ("", variant), *[(str(headers), b"") for _status, headers, _body in segments]]
    broken_token = start(broken, operator)
    for path in [f"/live/{broken_token}/snapshot.jpg", f"/live/{broken_token}/status",
                 f"/live/{hls_token}/hls/s/forged", f"/live/{hls_token}/status"]:
        status, headers, body = get(relay_server, path, cookie)
        answers.append((str(headers), body))
    assert get(relay_server, f"/live/{broken_token}/snapshot.jpg", cookie)[0] == 503

    for headers, body in answers:
        text = headers + (body.decode("utf-8", "replace") if isinstance(body, bytes) else body)
        leaked = [secret for secret in secrets if secret in text]
        assert leaked == [], leaked
