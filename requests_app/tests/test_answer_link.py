import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from cameras.tests.factories import CameraFactory
from portal.models import AuditEvent
from portal.tests.factories import OwnerFactory, sign_waiver
from requests_app import services
from requests_app.models import FootageRequest
from requests_app.tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def requests_sent(operator, waivers, django_capture_on_commit_callbacks):
    """Two owners asked; returns {owner: link path}."""
    incident = IncidentFactory(address="742 Evergreen Terrace")
    owners = []
    for name in ("Anaxagora", "Bartholomew"):
        owner = OwnerFactory(full_name=name)
        sign_waiver(owner)
        CameraFactory(owner=owner, name=f"{name} porch", latitude=incident.latitude, longitude=incident.longitude)
        owners.append(owner)
    end = timezone.now() - timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        services.area_request_create(incident=incident, sender=operator, latitude=incident.latitude,
                                     longitude=incident.longitude, radius_m=200, window_start=end - timedelta(hours=2),
                                     window_end=end, message="Grey van, 10pm")
    links = {}
    for message in mail.outbox:
        owner = next(o for o in owners if o.email in message.to)
        links[owner] = re.search(r"http://[^/]+(/r/[\w-]+/)", message.body).group(1)
    return links


def test_the_link_opens_the_request_without_a_password_and_is_not_needed_again(client, requests_sent):
    owner, link = next(iter(requests_sent.items()))

    response = client.get(link)

    footage_request = FootageRequest.objects.get(owner=owner)
    assert response.status_code == 302 and response["Location"] == f"/requests/{footage_request.pk}/"
    assert response["Referrer-Policy"] == "no-referrer"
    page = client.get(response["Location"])
    body = page.content.decode()
    assert page["Referrer-Policy"] == "same-origin"  # the token is no longer in the address
    assert "Grey van, 10pm" in body and f"{owner.full_name} porch" in body
    assert "742 Evergreen Terrace" not in body
    other = next(o for o in requests_sent if o != owner)
    assert other.full_name not in body
    footage_request.refresh_from_db()
    assert footage_request.status == FootageRequest.Status.OPENED
    assert AuditEvent.objects.filter(action="request.opened", actor=owner).exists()


def test_a_link_opens_only_its_own_request(client, requests_sent):
    (owner, link), (other, _other_link) = list(requests_sent.items())
    client.get(link)

    theirs = FootageRequest.objects.get(owner=other)
    assert client.get(f"/requests/{theirs.pk}/").status_code == 404
    assert client.post(f"/requests/{theirs.pk}/decline/", {"no_footage": "on"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == FootageRequest.Status.PENDING


@pytest.mark.parametrize("token", ["not-a-token", "A" * 43])
def test_a_tampered_or_unknown_token_opens_nothing(client, requests_sent, token):
    response = client.get(f"/r/{token}/")

    assert response.status_code == 404
    assert "This link is not valid" in response.content.decode()


def test_a_tampered_token_one_character_off_opens_nothing(client, requests_sent):
    link = next(iter(requests_sent.values()))
    token = link.split("/")[2]
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")

    assert client.get(f"/r/{tampered}/").status_code == 404


def test_an_expired_link_says_so(client, requests_sent):
    owner, link = next(iter(requests_sent.items()))
    FootageRequest.objects.filter(owner=owner).update(expires_at=timezone.now() - timedelta(minutes=1))

    response = client.get(link)

    assert response.status_code == 410
    assert "This request has expired" in response.content.decode()


def test_the_owner_declines_with_no_footage_and_cannot_answer_twice(client, requests_sent):
    owner, link = next(iter(requests_sent.items()))
    client.get(link)
    footage_request = FootageRequest.objects.get(owner=owner)

    client.post(f"/requests/{footage_request.pk}/decline/", {"no_footage": "on"})
    response = client.post(f"/requests/{footage_request.pk}/approve/", follow=True)

    footage_request.refresh_from_db()
    assert footage_request.status == FootageRequest.Status.DECLINED
    assert footage_request.decline_reason == "I have no footage of that time."
    assert "You already answered this request." in response.content.decode()


def test_a_second_approval_is_refused(client, requests_sent):
    owner, link = next(iter(requests_sent.items()))
    client.get(link)
    footage_request = FootageRequest.objects.get(owner=owner)

    client.post(f"/requests/{footage_request.pk}/approve/")
    response = client.post(f"/requests/{footage_request.pk}/approve/", follow=True)

    assert "You already answered this request." in response.content.decode()
    assert AuditEvent.objects.filter(action="request.approved").count() == 1


def test_a_signed_in_owner_opens_their_request_without_the_link(client, requests_sent, login):
    owner = next(iter(requests_sent))
    footage_request = FootageRequest.objects.get(owner=owner)
    login(client, owner)

    assert client.get(f"/requests/{footage_request.pk}/").status_code == 200


@pytest.mark.parametrize("role", ["operator", "supervisor", "other_owner"])
def test_nobody_else_opens_an_owners_request(client, requests_sent, request, login, role):
    footage_request = FootageRequest.objects.first()
    login(client, request.getfixturevalue(role))

    response = client.get(f"/requests/{footage_request.pk}/")

    assert response.status_code == 404


def test_expiry_closes_unanswered_requests_and_their_links(client, requests_sent):
    owner, link = next(iter(requests_sent.items()))
    FootageRequest.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    assert services.footage_requests_expire() == 2
    assert services.footage_requests_expire() == 0
    assert client.get(link).status_code == 404


def test_the_dashboard_lists_open_requests_and_links_to_them(client, requests_sent, login):
    owner = next(iter(requests_sent))
    footage_request = FootageRequest.objects.get(owner=owner)
    login(client, owner)

    page = client.get("/dashboard/").content.decode()

    assert f'href="/requests/{footage_request.pk}/"' in page
    assert "Burglary" in page  # the incident type, on the dashboard list
