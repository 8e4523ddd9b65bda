import time

import pytest
from django.urls import reverse

from portal.middleware import LAST_SEEN_KEY

pytestmark = pytest.mark.django_db


def set_last_seen(client, seconds_ago):
    session = client.session
    session[LAST_SEEN_KEY] = time.time() - seconds_ago
    session.save()


def test_staff_idle_for_31_minutes_are_signed_out(client, operator, login):
    login(client, operator)
    set_last_seen(client, 31 * 60)

    response = client.get(reverse("portal:staff_home"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session


def test_staff_active_within_30_minutes_stay_signed_in(client, operator, login):
    login(client, operator)
    set_last_seen(client, 29 * 60)

    assert client.get(reverse("portal:staff_home")).status_code == 200


def test_each_request_restarts_the_idle_clock(client, operator, login):
    login(client, operator)
    set_last_seen(client, 29 * 60)

    client.get(reverse("portal:staff_home"))

    assert time.time() - client.session[LAST_SEEN_KEY] < 5


def test_idle_staff_api_calls_get_401(client, operator, login):
    login(client, operator)
    set_last_seen(client, 31 * 60)

    response = client.get(reverse("api-me"))

    assert response.status_code == 401


def test_owners_have_no_idle_limit(client, resident, login):
    login(client, resident)
    set_last_seen(client, 5 * 60 * 60)

    assert client.get(reverse("portal:dashboard")).status_code == 200
