"""The /live/ endpoints and the media gateway's hook: who gets what, and what each answer says."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from cameras.live import live_session_end, live_session_start
from cameras.models import Camera, LiveSession
from cameras.services import stream_source_set
from cameras.tests.factories import CameraFactory
from portal.models import AuditEvent
from portal.tests.factories import sign_waiver

pytestmark = pytest.mark.django_db
ROLES = ["anonymous", "resident", "business", "officer", "operator", "supervisor", "oversight"]


def live_camera(owner, kind="mjpeg", url="http://cam.example.net/video", **rules):
    rules.setdefault("live_mode", "always")
    camera = CameraFactory(owner=owner, access_level=Camera.AccessLevel.INTEGRATED, latitude=40.7, longitude=-74.0,
                           rules=rules)
    stream_source_set(camera=camera, actor=owner, kind=kind, url=url)
    return camera


def start(camera, viewer):
    camera = Camera.objects.with_policy_facts().select_related("stream").get(pk=camera.pk)
    return live_session_start(camera=camera, viewer=viewer)


@pytest.fixture
def camera(business, waivers):
    sign_waiver(business)
    return live_camera(business)


def as_role(client, request, login, role):
    if role != "anonymous":
        login(client, request.getfixturevalue(role))


def post_json(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


# --- Starting ------------------------------------------------------------------------------------


def test_staff_start_a_session_and_get_the_player_facts(client, login, operator, camera):
    login(client, operator)

    response = post_json(client, "/live/sessions/", {"camera": camera.pk, "incident": None})

    assert response.status_code == 201
    body = response.json()
    assert set(body) >= {"token", "kind", "src", "status_url", "reason", "ends_at"}
    assert body["kind"] == "mjpeg" and body["src"] == f"/live/{body['token']}/mjpeg"
    assert body["status_url"] == f"/live/{body['token']}/status"
    assert body["reason"] == "Owner allows live access at any time"
    assert "no-store" in response["Cache-Control"]
    assert LiveSession.objects.get().viewer == operator


def test_a_refused_start_says_why_and_is_audited(client, login, operator, business, waivers):
    sign_waiver(business)
    camera = live_camera(business, live_mode="incident")
    login(client, operator)

    response = post_json(client, "/live/sessions/", {"camera": camera.pk})

    assert response.status_code == 403
    assert response.json()["code"] == "no_qualifying_incident"
    assert "alarm or 911 event" in response.json()["reason"]
    assert AuditEvent.objects.get(action="live.access", camera=camera).outcome == "denied"
    assert not LiveSession.objects.exists()


def test_an_officer_cannot_use_an_incident_not_assigned_to_them(client, login, officer, camera):
    from requests_app.tests.factories import IncidentFactory

    incident = IncidentFactory(incident_type="alarm")
    login(client, officer)

    response = post_json(client, "/live/sessions/", {"camera": camera.pk, "incident": incident.pk})

    assert response.status_code == 404


def test_start_needs_the_csrf_token(client, login, operator, camera):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    login(csrf_client, operator)

    assert post_json(csrf_client, "/live/sessions/", {"camera": camera.pk}).status_code == 403
    assert not LiveSession.objects.exists()


def test_status_and_end(client, login, operator, camera):
    token = start(camera, operator).token
    login(client, operator)

    status = client.get(f"/live/{token}/status").json()
    assert status["active"] is True and status["code"] == "active" and status["ends_at"]

    ended = client.post(f"/live/{token}/end").json()
    assert ended == {"active": False, "code": "stopped", "reason": "The viewer stopped watching.", "ends_at": None}
    assert client.get(f"/live/{token}/status").json()["active"] is False
    assert client.post(f"/live/{token}/end").status_code == 200  # ending twice is harmless
    assert AuditEvent.objects.filter(action="live.ended").count() == 1


def test_status_reports_the_policys_reason_once_the_owner_pauses(client, login, operator, business, camera):
    from cameras.services import sharing_pause_all

    token = start(camera, operator).token
    login(client, operator)
    sharing_pause_all(owner=business, until=timezone.now() + timedelta(hours=2))
    LiveSession.objects.update(checked_at=timezone.now() - timedelta(seconds=10))

    status = client.get(f"/live/{token}/status").json()

    assert status == {"active": False, "code": "paused", "reason": "The owner has paused sharing.", "ends_at": None}


# --- Every endpoint for every role ---------------------------------------------------------------

#                                   anon  res  bus  off  opr  sup  ovs
PERMISSION_TABLE = {
    ("post", "/live/sessions/"):    [403, 403, 403, 201, 201, 201, 403],
    ("get", "/live/{token}/status"): [403, 403, 403, 404, 200, 404, 404],
    ("get", "/live/{token}/mjpeg"):  [403, 403, 403, 404, 200, 404, 404],
    ("get", "/live/{snapshot}/snapshot.jpg"): [403, 403, 403, 404, 200, 404, 404],
    ("get", "/live/{hls}/hls/index.m3u8"): [403, 403, 403, 404, 200, 404, 404],
    ("post", "/live/{token}/end"):   [403, 403, 403, 404, 200, 404, 404],
    ("post", "/api/v1/media-auth/"): [401, 401, 401, 401, 401, 401, 401],
}


@pytest.mark.parametrize(("method", "url", "role", "expected"),
                         [(method, url, role, codes[i]) for (method, url), codes in PERMISSION_TABLE.items()
                          for i, role in enumerate(ROLES)])
def test_permission_table(client, request, login, settings, operator, business, camera, stream_server, method, url,
                          role, expected):
    settings.STREAM_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    snapshot_camera = live_camera(business, kind="snapshot", url=stream_server.url("/snapshot.jpg"))
    hls_camera = live_camera(business, kind="hls", url=stream_server.url("/playlist.m3u8"))
    tokens = {"token": start(camera, operator).token, "snapshot": start(snapshot_camera, operator).token,
              "hls": start(hls_camera, operator).token}
    as_role(client, request, login, role)

    if method == "post":
        # The media gateway's hook gets a read of the camera without a token, with whatever cookies.
        data = {"camera": camera.pk} if url == "/live/sessions/" else {"action": "read", "path": f"camera-{camera.pk}"}
        response = post_json(client, url.format(**tokens), data)
    else:
        response = client.get(url.format(**tokens))

    assert response.status_code == expected
    if response.status_code in (200, 201, 403, 404) and url.startswith("/live/"):
        assert "no-store" in response["Cache-Control"]
    if response.streaming:
        response.close()


# --- The media gateway's hook -----------------------------------------------------------------------

GATEWAY_CASES = [
    # (description, request body built from the session's token and camera, expected status)
    ("read with the token field", lambda t, c, o: {"action": "read", "path": f"camera-{c}", "token": t}, 204),
    ("read with token= in the query", lambda t, c, o: {"action": "read", "path": f"camera-{c}",
                                                      "query": f"a=1&token={t}"}, 204),
    ("read with the token as password", lambda t, c, o: {"action": "read", "path": f"camera-{c}",
                                                        "user": "portal", "password": t}, 204),
    ("read another camera's path", lambda t, c, o: {"action": "read", "path": f"camera-{o}", "token": t}, 401),
    ("read without a token", lambda t, c, o: {"action": "read", "path": f"camera-{c}"}, 401),
    ("read with a made-up token", lambda t, c, o: {"action": "read", "path": f"camera-{c}", "token": "x" * 43},
     401),
    ("read an unknown path", lambda t, c, o: {"action": "read", "path": "lobby", "token": t}, 401),
    ("publish with the secret", lambda t, c, o: {"action": "publish", "path": f"camera-{c}",
                                                "password": "gateway-publish-secret"}, 204),
    ("publish without the secret", lambda t, c, o: {"action": "publish", "path": f"camera-{c}"}, 401),
    ("publish with a session token", lambda t, c, o: {"action": "publish", "path": f"camera-{c}", "token": t},
     401),
    ("playback is not offered", lambda t, c, o: {"action": "playback", "path": f"camera-{c}", "token": t}, 401),
    ("the gateway's API is not offered", lambda t, c, o: {"action": "api", "token": t}, 401),
    ("an unknown action", lambda t, c, o: {"action": "teleport", "path": f"camera-{c}", "token": t}, 401),
]


@pytest.mark.parametrize(("description", "body", "expected"), GATEWAY_CASES, ids=[row[0] for row in GATEWAY_CASES])
def test_media_auth_table(client, settings, business, operator, camera, description, body, expected):
    settings.MEDIA_GATEWAY_PUBLISH_SECRET = "gateway-publish-secret"
    settings.MEDIA_GATEWAY_HLS_URL = "https://gateway.example/{path}/index.m3u8"
    rtsp = live_camera(business, kind="rtsp", url="rtsp://10.0.0.9/stream")
    token = start(rtsp, operator).token

    response = post_json(client, "/api/v1/media-auth/", {"ip": "10.1.2.3", "protocol": "hls", "id": None,
                                                         **body(token, rtsp.pk, camera.pk)})

    assert response.status_code == expected
    event = AuditEvent.objects.filter(action="live.gateway").latest("pk")
    assert event.outcome == ("allowed" if expected == 204 else "denied")
    assert token not in json.dumps(event.details) and "gateway-publish-secret" not in json.dumps(event.details)


def test_media_auth_refuses_an_ended_or_expired_session(client, settings, business, operator, camera):
    settings.MEDIA_GATEWAY_HLS_URL = "https://gateway.example/{path}/index.m3u8"
    rtsp = live_camera(business, kind="rtsp", url="rtsp://10.0.0.9/stream")
    ended, expired = start(rtsp, operator), start(rtsp, operator)
    live_session_end(session=ended.session, code="stopped")
    LiveSession.objects.filter(pk=expired.session.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    for token in (ended.token, expired.token):
        body = {"action": "read", "path": f"camera-{rtsp.pk}", "token": token}
        assert post_json(client, "/api/v1/media-auth/", body).status_code == 401


def test_media_auth_rechecks_the_policy(client, settings, business, operator, camera):
    from cameras.services import sharing_pause_all

    settings.MEDIA_GATEWAY_HLS_URL = "https://gateway.example/{path}/index.m3u8"
    rtsp = live_camera(business, kind="rtsp", url="rtsp://10.0.0.9/stream")
    token = start(rtsp, operator).token
    sharing_pause_all(owner=business, until=timezone.now() + timedelta(hours=1))

    response = post_json(client, "/api/v1/media-auth/", {"action": "read", "path": f"camera-{rtsp.pk}",
                                                         "token": token})

    assert response.status_code == 401
    assert LiveSession.objects.get(camera=rtsp).end_code == "paused"


def test_an_rtsp_camera_cannot_start_on_the_gateway_path_without_a_gateway(client, login, settings, business,
                                                                           operator, camera):
    settings.RTSP_INGEST = "gateway"
    settings.MEDIA_GATEWAY_HLS_URL = ""
    rtsp = live_camera(business, kind="rtsp", url="rtsp://10.0.0.9/stream")
    login(client, operator)

    response = post_json(client, "/live/sessions/", {"camera": rtsp.pk})

    assert response.status_code == 403 and response.json()["code"] == "no_gateway"


def test_refusals_are_logged_without_the_token(client, login, officer, operator, camera, caplog):
    token = start(camera, operator).token
    login(client, officer)

    assert client.get(f"/live/{token}/status").status_code == 404

    assert "/live/(token)/status" in caplog.text and token not in caplog.text
