"""Fault: Redis stops under a running server, then comes back.

daphne runs with Redis as production uses it (Django's cache and the Channels layer), on a
redis-server of the test's own that is killed and started again on the same port. While Redis is
away pages still answer and CAD events are still recorded; the RTCC page says its live feed is down,
and once Redis is back it reconnects and shows what was opened meanwhile. Works on SQLite and
PostgreSQL alike (the database is not the part that fails).
"""

import re
import time

import pytest
import requests
from django.conf import settings
from django.test import Client

from conftest import AsgiServer, collect_errors, screenshot_taker, sign_in
from incidents.models import Incident
from portal.tests.faults import (
    redis_binary,
    redis_server_fixture,  # noqa: F401  (fixture)
)

pytestmark = [
    pytest.mark.skipif(redis_binary() is None, reason="needs redis-server (apt-get install redis-server)"),
    pytest.mark.django_db(transaction=True),
]
LAT, LNG = 40.7128, -74.0060


@pytest.fixture
def redis_backed_server(django_db_blocker, redis_server):
    """daphne whose cache and channel layer are on redis_server, with the production settings for both."""
    server = AsgiServer(
        django_db_blocker,
        CACHES={"default": {"BACKEND": "portal.cache.FallbackRedisCache", "LOCATION": redis_server.url,
                            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2}}},
        CHANNEL_LAYERS={"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {
            "hosts": [{"address": redis_server.url, "socket_timeout": 30, "max_connections": 1000}]}}})
    yield server
    server.stop()


def cookie_of(user):
    return {settings.SESSION_COOKIE_NAME: sign_in(Client(), user).cookies[settings.SESSION_COOKIE_NAME].value}


def post_alarm(server, cad_key, external_id, address):
    return requests.post(f"{server.url}/api/v1/cad/events/", timeout=15,
                         headers={"Authorization": f"Bearer {cad_key[1]}"},
                         json={"external_id": external_id, "event_type": "Burglar alarm", "priority": 1,
                               "latitude": LAT, "longitude": LNG, "address": address})


def failed_sign_in(server):
    """A wrong password on the sign-in form (allauth counts failures in the cache): the answer's status."""
    session = requests.Session()
    form = session.get(f"{server.url}/accounts/login/", timeout=15)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    answer = session.post(f"{server.url}/accounts/login/", timeout=15, headers={"Referer": f"{server.url}/"},
                          data={"csrfmiddlewaretoken": token, "login": "resident@example.org",
                                "password": "not the password"})
    return answer.status_code, answer.text


def test_while_redis_is_down_pages_answer_sign_in_works_and_cad_events_are_recorded(
        redis_backed_server, redis_server, resident, operator, cad_key):
    server = redis_backed_server
    owner_cookie, staff_cookie = cookie_of(resident), cookie_of(operator)
    pages = [("/", None), ("/accounts/login/", None), ("/transparency/", None), ("/dashboard/", owner_cookie),
             ("/staff/incidents/rtcc/", staff_cookie), ("/staff/incidents/rtcc/map/", staff_cookie)]
    assert post_alarm(server, cad_key, "CAD-REDIS-UP", "1 Before Street").status_code == 201

    redis_server.stop()

    statuses = {path: requests.get(f"{server.url}{path}", cookies=cookie, timeout=15).status_code
                for path, cookie in pages}
    sign_in_status, sign_in_page = failed_sign_in(server)
    alarm = post_alarm(server, cad_key, "CAD-REDIS-DOWN", "2 During Street")
    health = requests.get(f"{server.url}/healthz", timeout=15)

    assert statuses == {path: 200 for path, _cookie in pages}
    assert sign_in_status == 200 and "not correct" in sign_in_page  # the form's own error, not a server error
    assert alarm.status_code == 201, alarm.text
    assert Incident.objects.filter(address="2 During Street").exists()
    assert health.status_code == 503 and health.json()["checks"]["channel_layer"]["ok"] is False
    assert health.json()["checks"]["database"]["ok"] is True

    redis_server.start()

    deadline = time.monotonic() + 15
    while requests.get(f"{server.url}/healthz", timeout=15).status_code != 200:
        assert time.monotonic() < deadline, "the channel layer did not come back with Redis"
        time.sleep(0.5)
    assert post_alarm(server, cad_key, "CAD-REDIS-BACK", "3 After Street").status_code == 201


@pytest.mark.browser
def test_the_rtcc_page_says_its_feed_is_down_while_redis_is_and_catches_up_when_it_returns(
        browser, redis_backed_server, redis_server, operator, cad_key):
    server = redis_backed_server
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": name, "value": value, "url": server.url}
                         for name, value in cookie_of(operator).items()])
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors = collect_errors(page)
    shot = screenshot_taker(page)
    try:
        page.goto("/staff/incidents/rtcc/")
        page.wait_for_selector("[data-rtcc][data-live-connected='true'][data-map-loaded='true']")
        badge = page.locator("#rtcc-connection")
        assert badge.inner_text() == "Live"

        redis_server.stop()
        stopped = time.monotonic()
        page.wait_for_selector("[data-rtcc][data-live-connected='false']")
        noticed_s = time.monotonic() - stopped
        assert badge.inner_text() == "Live feed down; reconnecting…"
        during = post_alarm(server, cad_key, "CAD-RTCC-DOWN", "5 Outage Avenue")
        assert during.status_code == 201
        shot("rtcc-redis-down")

        redis_server.start()
        started = time.monotonic()
        page.wait_for_selector("[data-rtcc][data-live-connected='true'][data-caught-up='1']")
        back_s = time.monotonic() - started
        assert badge.inner_text() == "Live"
        # The incident opened while the feed was down is on the map, read again on reconnecting.
        reference = during.json()["reference"]
        page.wait_for_selector(f".leaflet-marker-icon[title^='{reference}']")
        assert "5 Outage Avenue" in page.locator(f"#rtcc-alerts [data-incident='{during.json()['id']}']").inner_text()

        after = post_alarm(server, cad_key, "CAD-RTCC-BACK", "6 Restored Road")
        page.locator(f"#rtcc-alerts [data-incident='{after.json()['id']}']").wait_for()
        shot("rtcc-redis-back")
        print(f"RTCC: feed down shown {noticed_s:.1f} s after Redis stopped; live again {back_s:.1f} s after it "
              f"came back")
    finally:
        context.close()
    # While Redis was away the socket's handshake failed (the browser logs it); nothing else went wrong.
    assert [error for error in errors if "WebSocket" not in error] == []
