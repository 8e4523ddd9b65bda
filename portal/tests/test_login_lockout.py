import time
from unittest import mock

import pytest
from django.urls import reverse

from portal.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def attempt(client, email, password):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def fail_five_times(client, email):
    for _ in range(5):
        response = attempt(client, email, "not the password")
        assert response.status_code == 200


def test_five_failed_logins_lock_the_account(client, resident):
    fail_five_times(client, resident.email)

    response = attempt(client, resident.email, PASSWORD)

    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lock_holds_from_another_browser(client, resident, django_user_model):
    from django.test import Client

    fail_five_times(client, resident.email)

    response = attempt(Client(REMOTE_ADDR="203.0.113.9"), resident.email, PASSWORD)

    assert "Too many failed login attempts" in response.content.decode()


def test_the_lock_ends_after_ten_minutes(client, resident):
    fail_five_times(client, resident.email)
    eleven_minutes_later = time.time() + 11 * 60

    with mock.patch("time.time", return_value=eleven_minutes_later):
        response = attempt(client, resident.email, PASSWORD)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(resident.pk)


def test_four_failures_do_not_lock(client, resident):
    for _ in range(4):
        attempt(client, resident.email, "not the password")

    response = attempt(client, resident.email, PASSWORD)

    assert response.status_code == 302


def test_one_account_locked_leaves_others_open(client, resident, business):
    fail_five_times(client, resident.email)

    response = attempt(client, business.email, PASSWORD)

    assert response.status_code == 302
