"""The staff real-time channel: who may connect, and events arriving after commit."""

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone

from cameras.tests.factories import CameraFactory
from portal.asgi import application
from portal.mfa import mark_session_verified
from portal.tests.factories import OwnerFactory, sign_waiver, totp_secret_for
from requests_app import services
from requests_app.models import FootageRequest
from requests_app.tests.factories import IncidentFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@sync_to_async
def session_cookie_for(user, *, mfa=True):
    from django.conf import settings

    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    if user.is_staff:
        totp_secret_for(user)
        if mfa:
            mark_session_verified(session, user)
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


async def connect(path, user=None, **kwargs):
    headers = [(b"origin", b"http://localhost")]
    if user is not None:
        headers.append((b"cookie", (await session_cookie_for(user, **kwargs)).encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _code = await communicator.connect()
    return communicator, connected


@pytest.fixture
def incident(db):
    return IncidentFactory()


@pytest.mark.parametrize(("role", "allowed"), [(None, False), ("resident", False), ("oversight", False),
                                               ("officer", False), ("operator", True), ("supervisor", True)])
async def test_who_may_follow_an_incident(request, incident, role, allowed, settings):
    settings.ALLOWED_HOSTS = ["localhost"]
    user = await sync_to_async(request.getfixturevalue)(role) if role else None

    communicator, connected = await connect(f"/ws/incidents/{incident.pk}/", user)

    assert connected is allowed
    await communicator.disconnect()


async def test_an_assigned_officer_follows_their_incident_but_not_the_feed(officer, incident, settings):
    settings.ALLOWED_HOSTS = ["localhost"]
    await sync_to_async(incident.assigned_officers.add)(officer)

    own, own_ok = await connect(f"/ws/incidents/{incident.pk}/", officer)
    feed, feed_ok = await connect("/ws/feed/", officer)

    assert (own_ok, feed_ok) == (True, False)
    await own.disconnect()
    await feed.disconnect()


async def test_staff_who_have_not_passed_mfa_are_refused(operator, incident, settings):
    settings.ALLOWED_HOSTS = ["localhost"]

    communicator, connected = await connect(f"/ws/incidents/{incident.pk}/", operator, mfa=False)

    assert connected is False
    await communicator.disconnect()


async def test_answers_arrive_on_the_incident_channel_and_the_feed(operator, waivers, incident, settings):
    settings.ALLOWED_HOSTS = ["localhost"]

    @sync_to_async
    def send_request():
        owner = OwnerFactory(full_name="Nora Near")
        sign_waiver(owner)
        CameraFactory(owner=owner, latitude=incident.latitude, longitude=incident.longitude)
        end = timezone.now() - timedelta(hours=1)
        services.area_request_create(incident=incident, sender=operator, latitude=incident.latitude,
                                     longitude=incident.longitude, radius_m=100,
                                     window_start=end - timedelta(hours=1), window_end=end)
        return FootageRequest.objects.get()

    page, _ok = await connect(f"/ws/incidents/{incident.pk}/", operator)
    feed, _ok = await connect("/ws/feed/", operator)
    footage_request = await send_request()
    assert (await page.receive_json_from(timeout=2))["kind"] == "requests_sent"
    assert (await feed.receive_json_from(timeout=2))["kind"] == "requests_sent"

    await sync_to_async(services.footage_request_decline)(footage_request=footage_request, no_footage=True)

    event = await page.receive_json_from(timeout=2)
    assert (event["kind"], event["status"], event["owner"]) == ("request_status", "declined", "Nora Near")
    await page.disconnect()
    await feed.disconnect()
