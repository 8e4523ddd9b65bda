"""Alert latency: from a CAD event POSTed to the portal to its receipt by 200 RTCC WebSocket clients.

    .venv/bin/python bench/alerts.py
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench .venv/bin/python bench/alerts.py

Three set-ups, each measured first with 1 client (the baseline) and then with 200:
  1. one daphne process with the in-memory channel layer (the embedded default);
  2. the same with Python's default garbage collection (SERVER_GC_TUNING=0), to show what
     portal.asgi's tuning buys;
  3. two daphne processes sharing Redis (BENCH_REDIS_URL, default redis://127.0.0.1:6379/9, which
     the run flushes): half the clients on each process, every POST to the first.
Latency runs from just before the POST is sent to the moment a client has parsed the alert, for
every client and every event. It never touches the developer's own database: see bench/README.md.
"""

import asyncio
import json
import os
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdb import run_on_throwaway_database, throwaway_environment  # noqa: E402
from benchproc import free_port, start_daphne, stop_process  # noqa: E402
from benchstats import percentile  # noqa: E402

CLIENTS = 200
EVENTS = 40
WARM_UP_EVENTS = 3
GAP_S = 0.15  # between POSTs, so that one alert's fan-out does not queue behind the previous one
TARGET_P99_MS = 100
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")


def configure_environment(temp_dir):
    """A throw-away database; the CAD rate limit lifted, so that the bench measures latency, not 429s."""
    return throwaway_environment(temp_dir, extra={"DEBUG": "1", "CAD_RATE_LIMIT": "100000/min"}, unset=("EMAIL_URL",))

def prepare():
    """An RTCC operator's signed-in session (TOTP passed) and a CAD integration key."""
    from importlib import import_module

    from django.conf import settings

    from incidents.models import IntegrationKey
    from incidents.services import integration_key_create
    from portal.mfa import mark_session_verified
    from portal.roles import OPERATOR
    from portal.tests.factories import StaffFactory, totp_secret_for

    operator = StaffFactory(email="bench-operator@example.org", roles=[OPERATOR])
    totp_secret_for(operator)
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session["_auth_user_id"] = str(operator.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = operator.get_session_auth_hash()
    mark_session_verified(session, operator)
    session.save()
    _key, raw_key = integration_key_create(name="Bench CAD", kind=IntegrationKey.Kind.CAD)
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}", raw_key


async def measure(ports, clients, events, cookie, raw_key, label):
    """Connect `clients` sockets spread over the ports, POST `events` CAD events to the first port."""
    import requests
    import websockets

    received = {}  # external id -> [arrival times]
    ready = asyncio.Event()
    connected = 0

    async def client(port):
        nonlocal connected
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws/feed/", open_timeout=30, max_size=2**20,
                                      additional_headers={"Cookie": cookie,
                                                          "Origin": f"http://127.0.0.1:{port}"}) as socket:
            connected += 1
            if connected == clients:
                ready.set()
            async for message in socket:
                arrived = time.perf_counter()
                event = json.loads(message)
                if event.get("kind") == "incident_opened":
                    received.setdefault(event["address"], []).append(arrived)

    tasks = [asyncio.create_task(client(ports[i % len(ports)])) for i in range(clients)]
    await asyncio.wait_for(ready.wait(), 120)
    await asyncio.sleep(0.5)
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {raw_key}"
    sent, answered = {}, []
    loop = asyncio.get_running_loop()
    for number in range(WARM_UP_EVENTS + events):
        external_id = f"{label}-{clients}-{number}"
        body = {"external_id": external_id, "event_type": "Burglar alarm", "priority": 1,
                "latitude": 40.7128, "longitude": -74.006, "address": external_id}
        started = time.perf_counter()
        response = await loop.run_in_executor(None, lambda body=body: http.post(
            f"http://127.0.0.1:{ports[0]}/api/v1/cad/events/", json=body, timeout=30))
        if response.status_code != 201:
            raise RuntimeError(f"CAD POST answered {response.status_code}: {response.text[:200]}")
        if number >= WARM_UP_EVENTS:
            sent[external_id] = started
            answered.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(GAP_S)
    await asyncio.sleep(1.0)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    latencies, firsts, lasts, missing = [], [], [], 0
    for external_id, started in sent.items():
        arrivals = received.get(external_id, [])
        missing += clients - len(arrivals)
        latencies += [(arrived - started) * 1000 for arrived in arrivals]
        if arrivals:
            firsts.append((min(arrivals) - started) * 1000)
            lasts.append((max(arrivals) - started) * 1000)
    if os.environ.get("BENCH_VERBOSE"):
        print("      last client per alert (ms):", " ".join(f"{value:.0f}" for value in lasts))
        print("      POST answered per alert (ms):", " ".join(f"{value:.0f}" for value in answered))
    return {"latencies": latencies, "answered": answered, "first": firsts, "last": lasts, "missing": missing}


def scenario(title, ports, env_for, cookie, raw_key, temp_dir):
    processes = []
    logs = []
    try:
        for index, port in enumerate(ports):
            log = open(Path(temp_dir) / f"daphne-{port}.log", "wb")  # noqa: SIM115  (closed below)
            logs.append(log)
            processes.append(start_daphne(port, log, env=env_for(index)))
        print(f"\n{title}")
        results = {}
        for clients in (1, CLIENTS):
            # External ids unique to this set-up and client count, so that every POST opens an incident.
            label = f"{len(ports)}p-{ports[0]}"
            measured = asyncio.run(measure(ports, clients, EVENTS, cookie, raw_key, label))
            latencies = results[clients] = measured["latencies"]
            print(f"  {clients:3d} client(s) x {EVENTS} alerts: p50 {percentile(latencies, 0.5):6.1f} ms   "
                  f"p99 {percentile(latencies, 0.99):6.1f} ms   max {max(latencies):6.1f} ms   "
                  f"missing {measured['missing']}")
            print(f"      p50 per alert: POST answered {percentile(measured['answered'], 0.5):6.1f} ms, "
                  f"first client {percentile(measured['first'], 0.5):6.1f} ms, "
                  f"last client {percentile(measured['last'], 0.5):6.1f} ms")
        ratio = percentile(results[CLIENTS], 0.99) / percentile(results[1], 0.99)
        print(f"  p99 with {CLIENTS} clients / p99 with 1 client: {ratio:.1f}x")
        return percentile(results[CLIENTS], 0.99)
    finally:
        for process in processes:
            stop_process(process)
        for log in logs:
            log.close()


def redis_reachable():
    try:
        import redis

        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        client.flushdb()
        return True
    except Exception as error:  # noqa: BLE001  (any failure means: skip the Redis run, and say why)
        print(f"\nRedis at {REDIS_URL} not reachable ({error}); the two-process run is skipped.")
        return False


def run(temp_dir):
    from django.db import connection, connections

    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']}); clients and server on one machine "
          f"({os.cpu_count()} CPUs)")
    cookie, raw_key = prepare()
    connections.close_all()
    one = scenario("one daphne process, in-memory channel layer", [free_port()], lambda index: {},
                   cookie, raw_key, temp_dir)
    print(f"target: p99 under {TARGET_P99_MS} ms with one process: {'met' if one < TARGET_P99_MS else 'NOT met'}")
    scenario("the same with Python's default garbage collection (SERVER_GC_TUNING=0), for comparison",
             [free_port()], lambda index: {"SERVER_GC_TUNING": "0"}, cookie, raw_key, temp_dir)
    if redis_reachable():
        scenario("two daphne processes, Redis channel layer (clients split between them, POSTs to the first)",
                 [free_port(), free_port()], lambda index: {"REDIS_URL": REDIS_URL}, cookie, raw_key, temp_dir)
    return True


def main():
    return run_on_throwaway_database("portal-bench-alerts-", configure_environment, run)


if __name__ == "__main__":
    sys.exit(main())
