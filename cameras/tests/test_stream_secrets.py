"""Stream addresses and credentials are encrypted at rest and never sent to any browser."""

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.urls import reverse

from cameras import crypto
from cameras.models import Camera, StreamSource
from cameras.services import stream_source_set
from cameras.tests.factories import CameraFactory
from portal.tests.factories import sign_waiver

pytestmark = pytest.mark.django_db

SECRET_URL = "http://cam-7f3a.example.net:8081/live/secret-path.mjpg"
SECRET_USER = "viewer-x91"
SECRET_PASSWORD = "Hunter2-correct-horse"
SECRETS = [SECRET_URL, "cam-7f3a.example.net", "secret-path", SECRET_USER, SECRET_PASSWORD]


@pytest.fixture
def camera(business, waivers):
    sign_waiver(business)
    camera = CameraFactory(owner=business, access_level=Camera.AccessLevel.INTEGRATED, latitude=40.7,
                           longitude=-74.0, rules={"live_mode": "always"})
    stream_source_set(camera=camera, actor=business, kind="mjpeg", url=SECRET_URL, username=SECRET_USER,
                      password=SECRET_PASSWORD)
    return camera


def assert_no_secret(response):
    body = response.content.decode()
    leaked = [secret for secret in SECRETS if secret in body]
    assert leaked == [], f"{response.request['PATH_INFO']} revealed {leaked}"


def test_the_owner_never_gets_the_address_back(client, business, camera, login):
    login(client, business)
    urls = [reverse("portal:dashboard"), reverse("cameras:stream", args=[camera.pk]),
            reverse("cameras:edit", args=[camera.pk]), reverse("cameras:rules", args=[camera.pk]),
            "/api/v1/me/cameras/", f"/api/v1/me/cameras/{camera.pk}/", reverse("portal:access_log")]

    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_no_secret(response)
    assert_no_secret(client.post(reverse("cameras:stream_test", args=[camera.pk])))  # fails: no such host


@pytest.mark.parametrize("role", ["officer", "operator", "supervisor", "oversight"])
def test_staff_never_get_the_address(client, request, camera, login, role):
    from requests_app.tests.factories import IncidentFactory

    user = request.getfixturevalue(role)
    user.is_superuser = role == "supervisor"  # the most privileged admin user too
    user.save()
    incident = IncidentFactory(latitude=40.7, longitude=-74.0)
    incident.assigned_officers.add(user)
    login(client, user)
    urls = ["/api/v1/cameras/?lat=40.7&lng=-74.0&radius_m=100", reverse("admin:cameras_camera_changelist"),
            reverse("admin:cameras_camera_change", args=[camera.pk]), reverse("admin:cameras_camera_map"),
            reverse("admin:portal_auditevent_changelist"), reverse("portal:staff_home"),
            reverse("incidents:rtcc"), reverse("incidents:rtcc_map"), reverse("incidents:officer"),
            reverse("incidents:live", args=[incident.pk]), reverse("incidents:detail", args=[incident.pk]),
            reverse("admin:cameras_livesession_changelist")]

    for url in urls:
        assert_no_secret(client.get(url))
    started = client.post(reverse("live:sessions"), {"camera": camera.pk, "incident": incident.pk},
                          content_type="application/json")
    assert_no_secret(started)
    if started.status_code == 201:
        assert_no_secret(client.get(started.json()["status_url"]))


def test_the_audit_log_records_the_change_but_not_the_secret(camera):
    from portal.models import AuditEvent

    event = AuditEvent.objects.get(action="stream.changed", camera=camera)

    assert event.details == {"kind": "mjpeg"}


def test_secrets_are_encrypted_at_rest(camera):
    row = StreamSource.objects.filter(camera=camera).values("encrypted_url", "encrypted_username",
                                                            "encrypted_password").get()

    assert not any(secret in value for value in row.values() for secret in SECRETS)
    assert crypto.decrypt(row["encrypted_url"]) == SECRET_URL
    assert crypto.decrypt(row["encrypted_password"]) == SECRET_PASSWORD


def test_keys_rotate_without_losing_a_secret(camera, settings):
    old_key = Fernet.generate_key().decode()
    settings.STREAM_ENCRYPTION_KEYS = [old_key]
    stream_source_set(camera=camera, actor=camera.owner, kind="mjpeg", url=SECRET_URL, password=SECRET_PASSWORD)
    new_key = Fernet.generate_key().decode()
    settings.STREAM_ENCRYPTION_KEYS = [new_key, old_key]

    call_command("rotate_stream_keys", stdout=io.StringIO())

    settings.STREAM_ENCRYPTION_KEYS = [new_key]
    source = StreamSource.objects.get(camera=camera)
    assert crypto.decrypt(source.encrypted_url) == SECRET_URL
    assert crypto.decrypt(source.encrypted_password) == SECRET_PASSWORD
