"""Fault: PostgreSQL restarts under a running server; the next requests succeed.

daphne runs as production runs it (a pool of connections per process, each checked before use) and
reaches PostgreSQL through a TCP proxy. Cutting the proxy closes every pooled connection at once and
refuses new ones, as a restarting server does; when it listens again, the first request must already
get a working connection. SQLite has no server that could restart, so this runs on PostgreSQL only.
"""

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.test import Client

from conftest import sign_in
from portal.tests.faults import TcpProxy, free_port

BASE_DIR = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="PostgreSQL only: SQLite is a file inside the process, with no server to restart"),
    pytest.mark.django_db(transaction=True),
]


def start_daphne(database_port, var_dir):
    """daphne on a free port, its database reached through database_port; returns (process, url)."""
    database = settings.DATABASES["default"]
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"postgres://{database['USER']}@127.0.0.1:{database_port}/{database['NAME']}",
           "DEBUG": "1", "TASKS_SYNC": "1", "VAR_DIR": var_dir, "DATABASE_POOL": "1", "LOG_LEVEL": "WARNING"}
    env.pop("REDIS_URL", None)
    log = open(os.path.join(var_dir, "daphne.log"), "w")  # noqa: SIM115  (closed with the process)
    process = subprocess.Popen(  # noqa: S603  (our own command)
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "portal.asgi:application"],
        cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
    process.log = log
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "daphne exited at start"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("daphne did not start")


@pytest.fixture
def proxied_server(tmp_path):
    database = settings.DATABASES["default"]
    proxy = TcpProxy(database["HOST"] or "127.0.0.1", int(database["PORT"] or 5432))
    var_dir = tempfile.mkdtemp(prefix="portal-test-pg-restart-", dir=tmp_path)
    process, url = start_daphne(proxy.port, var_dir)
    yield proxy, url
    process.terminate()
    process.wait(10)
    process.log.close()
    proxy.cut()


def test_after_postgresql_restarts_the_next_requests_succeed_on_fresh_pooled_connections(proxied_server, resident):
    proxy, url = proxied_server
    client = sign_in(Client(), resident)
    cookies = {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}
    session = requests.Session()
    for _ in range(3):  # the pool opens its connections and keeps them
        assert session.get(f"{url}/dashboard/", cookies=cookies, timeout=15).status_code == 200
    assert session.get(f"{url}/healthz", timeout=15).status_code == 200
    pooled = proxy.open_connections()
    assert pooled >= 1

    assert proxy.cut() == pooled  # PostgreSQL goes away: every pooled connection is closed under the server
    during = {}

    def request_while_down():
        started = time.monotonic()
        try:
            during["status"] = session.get(f"{url}/healthz", timeout=30).status_code
        except requests.RequestException as error:
            during["status"] = type(error).__name__
        during["seconds"] = time.monotonic() - started

    waiting = threading.Thread(target=request_while_down)
    waiting.start()
    time.sleep(2)  # refused for two seconds, as while the server restarts
    proxy.restore()
    waiting.join(30)

    started = time.monotonic()
    first = session.get(f"{url}/dashboard/", cookies=cookies, timeout=15)
    first_seconds = time.monotonic() - started
    after = [session.get(f"{url}/dashboard/", cookies=cookies, timeout=15).status_code for _ in range(5)]
    health = session.get(f"{url}/healthz", timeout=15)

    # The request that arrived during the outage waited for the pool (10 s at most) and then got a
    # connection or an error page, never a hang; every request after the restart succeeds, signed in.
    assert during["status"] in (200, 503, 500) and during["seconds"] < 15, during
    assert first.status_code == 200 and "/accounts/login/" not in first.url, first.url  # the session was read
    print(f"pooled connections cut: {pooled}; the request made while PostgreSQL was down: {during['status']} "
          f"after {during['seconds']:.1f} s; the first request after it came back: {first.status_code} in "
          f"{first_seconds * 1000:.0f} ms")
    assert first_seconds < 5
    assert after == [200] * 5
    assert health.status_code == 200 and health.json()["checks"]["database"]["ok"] is True
    assert proxy.open_connections() >= 1  # new connections, through the proxy that came back
