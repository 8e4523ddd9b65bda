"""ONVIF discovery against a fake ONVIF camera (cameras.tests.onvif_device), and the stream page's
"Find the stream with ONVIF" section: who may use it, what is stored, what is audited."""

import base64
import hashlib
import socket
import time

import pytest

from cameras import crypto
from cameras.models import Camera, StreamSource
from cameras.onvif import onvif_discover_stream, password_digest
from cameras.streams import StreamTestError
from cameras.tests.factories import CameraFactory
from cameras.tests.onvif_device import PASSWORD, USERNAME, onvif_device_fixture  # noqa: F401
from portal.models import AuditEvent


@pytest.fixture
def local_allowed(settings):
    settings.STREAM_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.STREAM_TEST_TIMEOUT_SECONDS = 2


@pytest.fixture
def connection_attempts(monkeypatch):
    """Every outgoing TCP connection attempt, by address."""
    attempts = []
    real_connect = socket.socket.connect

    def counting_connect(sock, address):
        attempts.append(address)
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", counting_connect)
    return attempts


def discover(device, password=PASSWORD, deadline=2):
    return onvif_discover_stream(host="127.0.0.1", port=device.port, username=USERNAME, password=password,
                                 deadline=deadline)


def test_the_password_digest_is_the_ws_security_formula():
    nonce = bytes.fromhex("3c47ef5b1ee07c12d1f3c0b4f2e0c8e1")
    digest = password_digest(nonce, "2026-12-03T07:00:00.000Z", "pass")
    expected = hashlib.sha1(nonce + b"2026-12-03T07:00:00.000Z" + b"pass").digest()  # noqa: S324
    assert digest == base64.b64encode(expected).decode()


def test_a_camera_with_two_profiles_gives_both_with_their_rtsp_addresses(onvif_device, local_allowed):
    profiles = discover(onvif_device)

    assert [(p.name, p.token, p.resolution, p.codec) for p in profiles] == [
        ("MainStream", "profile_1", "1920×1080", "H264"),
        ("SubStream", "profile_2", "640×360", "H264"),
    ]
    assert profiles[0].uri == "rtsp://127.0.0.1:554/Streaming/Channels/101?transportmode=unicast"
    assert profiles[1].uri == "rtsp://127.0.0.1:554/Streaming/Channels/102?transportmode=unicast"
    # The Media service's inner address (192.168.1.64) was used only for its path, on the typed host.
    assert onvif_device.calls == [
        ("/onvif/device_service", "GetCapabilities", True),
        ("/onvif/media_service", "GetProfiles", True),
        ("/onvif/media_service", "GetStreamUri", True),
        ("/onvif/media_service", "GetStreamUri", True),
    ]


def test_a_camera_without_get_capabilities_is_asked_at_its_device_address(onvif_device, local_allowed):
    onvif_device.capabilities = False
    profiles = discover(onvif_device)
    assert [p.token for p in profiles] == ["profile_1", "profile_2"]
    assert [call[:2] for call in onvif_device.calls] == [
        ("/onvif/device_service", "GetCapabilities"), ("/onvif/device_service", "GetProfiles"),
        ("/onvif/device_service", "GetStreamUri"), ("/onvif/device_service", "GetStreamUri")]


def test_credentials_in_the_stream_address_are_removed(onvif_device, local_allowed):
    onvif_device.stream_host = "admin:secret@127.0.0.1"
    profiles = discover(onvif_device)
    assert profiles[0].uri == "rtsp://127.0.0.1:554/Streaming/Channels/101?transportmode=unicast"


def test_a_wrong_password_is_refused_without_repeating_it(onvif_device, local_allowed):
    with pytest.raises(StreamTestError) as error:
        discover(onvif_device, password="wrong-guess")
    assert error.value.message == "The camera refused the user name or password."
    assert onvif_device.calls == [("/onvif/device_service", "GetCapabilities", False)]


def test_a_plain_web_server_is_not_an_onvif_camera(onvif_device, local_allowed):
    onvif_device.mode = "html"
    with pytest.raises(StreamTestError, match="did not answer as an ONVIF camera"):
        discover(onvif_device)


def test_a_camera_that_never_answers_is_given_up_within_the_time_limit(onvif_device, local_allowed):
    onvif_device.mode = "silent"
    started = time.monotonic()
    with pytest.raises(StreamTestError, match="^The camera did not answer within 1 second.$"):
        discover(onvif_device, deadline=1)
    assert time.monotonic() - started < 2


def test_a_device_outside_the_allowed_networks_is_refused_before_any_connection(
    onvif_device, settings, connection_attempts
):
    settings.STREAM_ALLOWED_NETWORKS = []
    with pytest.raises(StreamTestError, match="private or reserved network"):
        discover(onvif_device)
    assert connection_attempts == []
    assert onvif_device.calls == []


@pytest.mark.parametrize("stream_host", ["10.0.0.5", "169.254.169.254", "[::1]"])
def test_a_stream_address_outside_the_allowed_networks_is_refused(onvif_device, local_allowed, stream_host):
    onvif_device.stream_host = stream_host
    with pytest.raises(StreamTestError, match="gave a stream address on a private or reserved network"):
        discover(onvif_device)


def test_only_the_profile_whose_stream_address_is_not_allowed_is_left_out(onvif_device, local_allowed):
    onvif_device.stream_hosts = {"profile_1": "192.168.1.64"}
    profiles = discover(onvif_device)
    assert [(p.token, p.uri) for p in profiles] == [
        ("profile_2", "rtsp://127.0.0.1:554/Streaming/Channels/102?transportmode=unicast")]


@pytest.mark.parametrize("host", ["http://127.0.0.1", "127.0.0.1/onvif", "user@127.0.0.1", ""])
def test_a_host_with_a_scheme_path_or_user_is_refused(host, local_allowed):
    with pytest.raises(StreamTestError, match="host name or IP address"):
        onvif_discover_stream(host=host, port=80, username=USERNAME, password=PASSWORD, deadline=1)


def test_a_closed_port_says_the_connection_was_refused(local_allowed):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(StreamTestError, match="refused the connection"):
        onvif_discover_stream(host="127.0.0.1", port=port, username=USERNAME, password=PASSWORD, deadline=1)


# --- The stream page ---------------------------------------------------------------------------


@pytest.fixture
def integrated(business):
    return CameraFactory(owner=business, name="Till", access_level=Camera.AccessLevel.INTEGRATED)


def onvif_url(camera):
    return f"/cameras/{camera.pk}/stream/onvif/"


def discover_form(device, password=PASSWORD):
    return {"action": "discover", "host": "127.0.0.1", "port": device.port, "onvif_username": USERNAME,
            "onvif_password": password}


def test_the_owner_discovers_picks_a_profile_and_it_is_stored_encrypted(client, login, integrated, business,
                                                                        onvif_device, local_allowed):
    login(client, business)
    response = client.post(onvif_url(integrated), discover_form(onvif_device))
    assert response.status_code == 200
    content = response.content.decode()
    assert "MainStream" in content and "1920×1080" in content and "SubStream" in content
    assert PASSWORD not in content
    assert "Streaming/Channels" not in content  # the address stays on the server

    response = client.post(onvif_url(integrated), {"action": "use", "profile": "profile_2"})
    assert response.status_code == 302
    source = StreamSource.objects.get(camera=integrated)
    assert source.kind == "rtsp"
    assert crypto.decrypt(source.encrypted_url) == "rtsp://127.0.0.1:554/Streaming/Channels/102?transportmode=unicast"
    assert crypto.decrypt(source.encrypted_username) == USERNAME
    assert crypto.decrypt(source.encrypted_password) == PASSWORD
    assert PASSWORD not in source.encrypted_password

    discovered = AuditEvent.objects.get(action="stream.onvif_discovered")
    assert discovered.outcome == AuditEvent.Outcome.DONE
    assert discovered.details == {"ok": True, "profiles": 2}
    assert AuditEvent.objects.filter(action="stream.changed", details={"kind": "rtsp"}).exists()
    for event in AuditEvent.objects.all():
        assert PASSWORD not in str(event.details) and "127.0.0.1" not in str(event.details)

    # The discovery is used once: picking again needs a new discovery.
    response = client.post(onvif_url(integrated), {"action": "use", "profile": "profile_1"})
    assert response.status_code == 200
    assert "Find the stream again" in response.content.decode()
    stored = crypto.decrypt(StreamSource.objects.get(camera=integrated).encrypted_url)
    assert stored.endswith("/102?transportmode=unicast")


def test_a_refused_password_is_shown_and_audited_and_nothing_is_stored(client, login, integrated, business,
                                                                       onvif_device, local_allowed):
    login(client, business)
    response = client.post(onvif_url(integrated), discover_form(onvif_device, password="nope"))
    assert response.status_code == 200
    assert "The camera refused the user name or password." in response.content.decode()
    assert not StreamSource.objects.filter(camera=integrated).exists()
    event = AuditEvent.objects.get(action="stream.onvif_discovered")
    assert event.outcome == AuditEvent.Outcome.DONE and event.details == {"ok": False, "profiles": 0}


def test_missing_fields_are_explained(client, login, integrated, business, local_allowed):
    login(client, business)
    response = client.post(onvif_url(integrated), {"action": "discover", "host": "", "port": "70000"})
    content = response.content.decode()
    assert response.status_code == 200
    assert "This field is required." in content
    assert "Ensure this value is less than or equal to 65535." in content
    assert not AuditEvent.objects.filter(action="stream.onvif_discovered").exists()


def test_an_unknown_profile_is_refused(client, login, integrated, business, onvif_device, local_allowed):
    login(client, business)
    client.post(onvif_url(integrated), discover_form(onvif_device))
    response = client.post(onvif_url(integrated), {"action": "use", "profile": "profile_9"})
    assert response.status_code == 200
    assert not StreamSource.objects.filter(camera=integrated).exists()


def test_another_owner_cannot_discover_for_someone_elses_camera(client, login, integrated, other_owner, onvif_device,
                                                                local_allowed):
    login(client, other_owner)
    assert client.post(onvif_url(integrated), discover_form(onvif_device)).status_code == 404
    assert onvif_device.calls == []


@pytest.mark.parametrize("role", ["officer", "operator", "supervisor", "oversight"])
def test_police_staff_are_sent_away(client, login, integrated, onvif_device, local_allowed, role, request):
    login(client, request.getfixturevalue(role))
    response = client.post(onvif_url(integrated), discover_form(onvif_device))
    assert response.status_code == 302 and response.url == "/staff/"
    assert onvif_device.calls == []


def test_signed_out_visitors_are_sent_to_sign_in(client, integrated, onvif_device, local_allowed):
    response = client.post(onvif_url(integrated), discover_form(onvif_device))
    assert response.status_code == 302 and "/accounts/login/" in response.url
    assert onvif_device.calls == []


def test_a_registered_camera_has_no_onvif_discovery(client, login, business, onvif_device, local_allowed):
    camera = CameraFactory(owner=business, access_level=Camera.AccessLevel.REGISTERED)
    login(client, business)
    response = client.post(onvif_url(camera), discover_form(onvif_device))
    assert response.status_code == 302 and response.url == f"/cameras/{camera.pk}/edit/"
    assert onvif_device.calls == []


def test_get_is_not_allowed(client, login, integrated, business):
    login(client, business)
    assert client.get(onvif_url(integrated)).status_code == 405
