"""Load test: 500 owners, 20 police staff, a CAD system and the load balancer on the portal as production runs it.

    .venv/bin/python bench/load.py                                  # the full run: 500 owners, 20 staff, 5 minutes
    .venv/bin/python bench/load.py --duration 60 --owners 100       # a shorter try

Needs PostgreSQL (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/portal_load_bench: a database the
bench creates and drops, as geo.py does) and Redis (BENCH_REDIS_URL, default redis://127.0.0.1:6379/13, flushed).
It starts the portal itself with the production settings of README.md and docs/deploy.md: DEBUG=0, collected static
files, one daphne process per CPU with --proxy-headers behind a (simulated) TLS proxy, channels-redis and the cache
on Redis, pooled PostgreSQL connections with prepared statements, and a `manage.py qcluster` with the default two
workers. It seeds owners with cameras (the demo city's helpers, portal/demo.py), footage requests for some of them
(sent through area_request_create() and e-mailed into the outbox, where the bench reads each link), staff with a
TOTP authenticator, a CAD integration key. Then locust (bench/loadusers.py, a process of its own) signs everyone in
through the real forms (staff with a TOTP code computed from their secret), measures the mix for --duration
seconds, and finally each page alone as fast as it is answered, against /healthz. See bench/README.md.
"""

import argparse
import json
import math
import os
import random
import re
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdb import run_on_throwaway_database, throwaway_environment  # noqa: E402
from benchproc import (  # noqa: E402
    busy_cpus,
    cpu_seconds,
    free_port,
    machine_cpu,
    process_tree,
    report_log_errors,
    start_daphne,
    stop_process,
)
from fanout import Cluster  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/portal_load_bench"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
PASSWORD = "load-bench-lantern-41"  # noqa: S105  (the seeded accounts' password, throw-away database)
SEED = 2026_12_04
LINK_TOKEN = re.compile(r"/r/([A-Za-z0-9_-]{20,})/")
TARGET_P95_MS = 300
MEMORY_SAMPLE_S = 0.5
# Collected once and kept, as a container image keeps them (collecting and compressing takes minutes on 2 CPUs).
STATIC_ROOT = BASE_DIR / "var" / "bench-static"
MB = 1_000_000


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=300, help="seconds of measured mixed load (default 300)")
    parser.add_argument("--owners", type=int, default=500)
    parser.add_argument("--staff", type=int, default=20)
    parser.add_argument("--owner-sign-ins", type=int, default=50,
                        help="owners who sign in through the form; the others come back with a session (default 50)")
    parser.add_argument("--with-requests", type=float, default=0.3,
                        help="share of owners asked for footage (default 0.3)")
    parser.add_argument("--owner-think", type=float, nargs=2, default=(10, 30), metavar=("MIN", "MAX"),
                        help="seconds an owner waits between pages (default 10 30)")
    parser.add_argument("--staff-think", type=float, nargs=2, default=(3, 10), metavar=("MIN", "MAX"))
    parser.add_argument("--cad-interval", type=float, default=5, help="seconds between CAD events (default 5)")
    parser.add_argument("--spawn-rate", type=float, default=4, help="people starting (signing in) per second")
    parser.add_argument("--web-processes", type=int, default=os.cpu_count(), help="daphne processes (one per CPU)")
    parser.add_argument("--capacity-seconds", type=float, default=10,
                        help="seconds each page is measured alone after the mix (0: skip)")
    parser.add_argument("--capacity-clients", type=int, default=4)
    parser.add_argument("--census", action=argparse.BooleanOptionalAction, default=True,
                        help="first, each page once through the test client: queries and time (default on)")
    return parser.parse_args()


def configure_environment(temp_dir):
    """Production settings for every process of the run (this one, daphne, the cluster)."""
    os.environ.setdefault("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    extra = {
        "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "127.0.0.1",
        "TRUST_X_FORWARDED_PROTO": "1",  # the bench stands for the TLS proxy and sets X-Forwarded-Proto
        "SITE_URL": "https://127.0.0.1", "REDIS_URL": REDIS_URL,
        "STATIC_ROOT": str(STATIC_ROOT), "FOOTAGE_ROOT": str(Path(temp_dir) / "footage"),
    }
    # EMAIL_URL unset: e-mails are kept in the outbox table, where the bench reads the request links.
    return throwaway_environment(temp_dir, extra=extra,
                                 unset=("TASKS_SYNC", "TASKS_ON_REDIS", "TASK_WORKERS", "EMAIL_URL", "DATABASE_POOL",
                                        "DATABASE_POOL_MAX_SIZE", "DATABASE_PREPARED_STATEMENTS", "CAD_RATE_LIMIT",
                                        "FOOTAGE_STORAGE_URL"))


# --- Data -----------------------------------------------------------------------------------------------

def seed(args, rng):
    """Staff with TOTP, owners with cameras (the demo city's helpers), incidents, footage requests and their links."""
    from django.conf import settings
    from django.contrib.auth.hashers import make_password

    from cameras.models import Address
    from portal import demo, roles
    from portal.models import User
    from portal.services import staff_create

    centre = tuple(float(value) for value in settings.LEAFLET_CONFIG["DEFAULT_CENTER"])
    staff = []
    for number in range(args.staff):
        role = roles.SUPERVISOR if number % 5 == 0 else roles.OPERATOR
        user, _ = staff_create(email=f"load-staff-{number:02d}@police.example.org", full_name=f"Load Staff {number}",
                               roles=[role], badge_number=str(5000 + number), password=PASSWORD)
        staff.append({"email": user.email, "totp_secret": demo._ensure_totp(user), "user": user})
    demo._ensure_waivers(staff[0]["user"])
    demo._ensure_addresses()
    addresses = list(Address.objects.only("number", "street", "latitude", "longitude"))
    password_hash = make_password(PASSWORD)
    owners = []
    for number in range(args.owners):
        business = number % 4 == 0
        owner = demo._ensure_owner({
            "email": f"load-owner-{number:03d}@example.org", "full_name": f"Load Owner {number}",
            "phone": f"555-{rng.randint(1000, 9999)}",
            "account_type": User.AccountType.BUSINESS if business else User.AccountType.RESIDENT,
            "business_name": f"Load Shop {number}" if business else ""}, password_hash)
        demo._sign_current(owner)
        demo._register_demo_cameras(rng, owner, rng.choice([1, 2, 3, 4]) if business else rng.choice([1, 1, 2, 3]),
                                    centre, addresses)
        owners.append(owner)
    incidents, links = asked_owners(args, rng, centre, [each["user"] for each in staff if each["user"].has_perm(
        "requests_app.send_arearequest")])
    cameras = {}
    for owner_id, pk in owner_cameras(owners):
        cameras.setdefault(owner_id, []).append(pk)
    plan_owners = [{"email": owner.email, "cameras": cameras[owner.pk],
                    "session": signed_in_session(owner) if number >= args.owner_sign_ins else None, "requests": [
        {"pk": pk, "token": token, "answer": "upload" if rng.random() < 0.6 else "decline",
         "after_s": rng.uniform(0, args.duration * 0.85)} for pk, token in links.get(owner.pk, [])]}
        for number, owner in enumerate(owners)]
    rng.shuffle(plan_owners)  # the owners who sign in through the form are spread over the ramp, not in a burst
    queries = [f"{address.number} {address.street}" for address in rng.sample(addresses, min(200, len(addresses)))]
    return {"owners": plan_owners, "staff": [{k: v for k, v in each.items() if k != "user"} for each in staff],
            "incidents": incidents, "addresses": queries, "centre": centre}


def signed_in_session(owner):
    """The key of a session signed in as the owner, as the sign-in form leaves it: an owner coming back within
    SESSION_COOKIE_AGE (two weeks) is still signed in. Spares the run PBKDF2's 0.6 s of CPU per sign-in."""
    from importlib import import_module

    from django.conf import settings

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session["_auth_user_id"] = str(owner.pk)
    session["_auth_user_backend"] = "allauth.account.auth_backends.AuthenticationBackend"
    session["_auth_user_hash"] = owner.get_session_auth_hash()
    session.save()
    return session.session_key


def owner_cameras(owners):
    from cameras.models import Camera

    return Camera.objects.filter(owner__in=owners).values_list("owner_id", "pk")


def asked_owners(args, rng, centre, senders):
    """Incidents around the centre, and area requests from them until --with-requests of the owners are asked.

    The e-mails are sent through the portal's own sender (area_request_emails_send) into the outbox; each link's
    token is read back from there. Returns the incident ids and {owner id: [(footage request id, token)]}."""
    from datetime import timedelta

    from django.utils import timezone

    from incidents.models import Incident
    from incidents.services import incident_create
    from portal.models import OutboxEmail
    from requests_app.models import FootageRequest
    from requests_app.services import area_request_create, area_request_emails_send
    from requests_app.tokens import token_hash

    end = timezone.now() - timedelta(hours=1)
    incidents, wanted = [], int(args.owners * args.with_requests)
    for number in range(40):
        sender = senders[number % len(senders)]
        lat, lng = jitter(centre, 1200, rng) if number else centre
        incident = incident_create(created_by=sender, incident_type=Incident.Type.BURGLARY,
                                   priority=Incident.Priority.URGENT, case_number=f"LOAD-{number:04d}", latitude=lat,
                                   longitude=lng, address=f"Load incident {number}",
                                   window_start=end - timedelta(hours=3), window_end=end)
        incidents.append(incident.pk)
        if FootageRequest.objects.values("owner").distinct().count() < wanted:
            area_request = area_request_create(incident=incident, sender=sender, latitude=lat, longitude=lng,
                                               radius_m=250, window_start=incident.window_start,
                                               window_end=incident.window_end)
            area_request_emails_send(area_request_id=area_request.pk)
        elif number >= 10:
            break
    links = {}
    for email in OutboxEmail.objects.all():
        match = LINK_TOKEN.search(email.body_text)
        footage_request = match and FootageRequest.objects.filter(token_hash=token_hash(match.group(1))).first()
        if footage_request:
            links.setdefault(footage_request.owner_id, []).append((footage_request.pk, match.group(1)))
    return incidents, links


def jitter(centre, within_m, rng=random):
    """A point uniformly within `within_m` metres of centre (lat, lng), rounded as a GPS would give it."""
    distance, bearing = within_m * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
    lat = centre[0] + distance * math.cos(bearing) / 111_195
    lng = centre[1] + distance * math.sin(bearing) / (111_195 * math.cos(math.radians(centre[0])))
    return round(lat, 6), round(lng, 6)


def page_census(plan, when):
    """Each page once through Django's test client in this process (after three warm-ups): its SQL queries and
    milliseconds on the data as it is `when`, alone. Points at the pages worth a look."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from portal.mfa import mark_session_verified
    from portal.models import User

    owner_plan = max(plan["owners"], key=lambda each: (len(each["cameras"]), len(each["requests"])))
    owner = User.objects.get(email=owner_plan["email"])
    staff = User.objects.get(email=plan["staff"][1]["email"])
    owner_client, staff_client = Client(HTTP_HOST="127.0.0.1"), Client(HTTP_HOST="127.0.0.1")
    owner_client.force_login(owner)
    staff_client.force_login(staff)
    session = staff_client.session
    mark_session_verified(session, staff)
    session.save()
    incident = max(plan["incidents"], key=lambda pk: incident_requests(pk))
    lat, lng = plan["centre"]
    pages = [
        ("dashboard", owner_client, "/dashboard/"),
        ("access log", owner_client, "/access-log/"),
        ("camera rules", owner_client, f"/cameras/{owner_plan['cameras'][0]}/rules/"),
        ("account", owner_client, "/account/"),
        ("incident list", staff_client, "/staff/incidents/"),
        (f"incident page ({incident_requests(incident)} owners asked)", staff_client, f"/staff/incidents/{incident}/"),
        ("incident map: cameras in a circle", staff_client,
         f"/staff/incidents/{incident}/preview/?lat={lat}&lng={lng}&radius_m=300"),
        ("camera search (API)", staff_client, f"/api/v1/cameras/?lat={lat}&lng={lng}&radius_m=400"),
        ("address search (geocode)", staff_client, f"/cameras/geocode/?q={plan['addresses'][0]}"),
        ("RTCC page", staff_client, "/staff/incidents/rtcc/"),
        ("RTCC map data", staff_client, "/staff/incidents/rtcc/map/"),
    ]
    print(f"pages {when}, one at a time through the test client in the bench process (owner with "
          f"{len(owner_plan['cameras'])} cameras): SQL queries, median of 5 in ms")
    for name, client, path in pages:
        for _ in range(3):
            client.get(path, secure=True)
        times = []
        for _ in range(5):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(path, secure=True)
                times.append((time.perf_counter() - started) * 1000)
        print(f"  {name:44} HTTP {response.status_code}  {len(queries):3d} queries  {sorted(times)[2]:6.1f} ms")


def incident_requests(pk):
    from requests_app.models import FootageRequest

    return FootageRequest.objects.filter(area_request__incident_id=pk).count()


def collect_static():
    """`collectstatic` into STATIC_ROOT, unless its manifest is newer than every file it is made from."""
    from django.core.management import call_command

    manifest = STATIC_ROOT / "staticfiles.json"
    sources = [path for path in (BASE_DIR / "static").rglob("*") if path.is_file()] + [BASE_DIR / "package-lock.json"]
    if manifest.exists() and manifest.stat().st_mtime > max(path.stat().st_mtime for path in sources):
        print(f"static files: collected before, in {STATIC_ROOT} (newer than static/ and package-lock.json)")
        return
    started = time.perf_counter()
    call_command("collectstatic", interactive=False, verbosity=0)
    print(f"static files: collectstatic (manifest, compressed) into {STATIC_ROOT} in "
          f"{time.perf_counter() - started:.0f} s")


def cad_key():
    from incidents.models import IntegrationKey
    from incidents.services import integration_key_create

    return integration_key_create(name="Load test CAD", kind=IntegrationKey.Kind.CAD)[1]


# --- Servers and their memory -----------------------------------------------------------------------------

class MemorySampler(threading.Thread):
    """Every MEMORY_SAMPLE_S, the summed VmRSS of the server processes and all their children; keeps the peak."""

    def __init__(self, roots):
        super().__init__(daemon=True)
        self.roots, self.halt = roots, threading.Event()
        self.peak_kib, self.peak_parts, self.samples = 0, {}, 0

    def run(self):
        while not self.halt.is_set():
            parts = {}
            for name, pid in self.roots.items():
                parts[name] = sum(rss_kib(child) for child in process_tree(pid))
            self.samples += 1
            if sum(parts.values()) > self.peak_kib:
                self.peak_kib, self.peak_parts = sum(parts.values()), parts
            self.halt.wait(MEMORY_SAMPLE_S)

    def stop(self):
        self.halt.set()
        self.join(5)


def tree_cpu_seconds(processes):
    return {name: sum(cpu_seconds(child) for child in process_tree(pid)) for name, pid in processes.items()}


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def wait_healthy(ports, deadline_s=120):
    """Until /healthz answers 200 on every web process (the database, Redis and the cluster answer)."""
    import requests

    deadline = time.monotonic() + deadline_s
    for port in ports:
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"/healthz on :{port} did not answer 200 within {deadline_s} s")
            time.sleep(0.5)


# --- Report -----------------------------------------------------------------------------------------------

def report(results, memory, cpu, args):
    measured, capacity = results["measured"], results["capacity"]
    healthz = measured.get("/healthz", {"rps": 0, "p50": 0})
    total_requests = sum(entry["requests"] for entry in measured.values())
    total_failures = sum(entry["failures"] for entry in measured.values())
    print(f"\nmeasured mix: {results['measured_s']:.0f} s, {results['people']} people "
          f"(started and signed in over {results['ramp_s']:.0f} s before); "
          f"{total_requests:,} requests, {total_requests / results['measured_s']:.1f} requests/s, "
          f"{total_failures} errors")
    header = (f"{'page':42} {'requests':>8} {'req/s':>7} {'÷healthz':>8} {'p50 ms':>7} {'p95 ms':>7} "
              f"{'p99 ms':>7} {'max ms':>7} {'errors':>6}")
    print(header)
    print("-" * len(header))
    for name, entry in sorted(measured.items(), key=lambda item: -item[1]["requests"]):
        ratio = entry["rps"] / healthz["rps"] if healthz["rps"] else 0
        print(f"{name:42} {entry['requests']:8d} {entry['rps']:7.2f} {ratio:8.2f} {entry['p50']:7.1f} "
              f"{entry['p95']:7.1f} {entry['p99']:7.1f} {entry['max']:7.0f} {entry['failures']:6d}")
    for failure, count in sorted(results["failures"].items(), key=lambda item: -item[1])[:15]:
        print(f"  error x{count}: {failure}")
    if results["unanswered_requests"]:
        print(f"  footage requests not answered by the end: {results['unanswered_requests']}")
    slowest = max(measured.items(), key=lambda item: item[1]["p95"])
    print(f"slowest page by p95: {slowest[0]} ({slowest[1]['p95']:.1f} ms)")
    ok = total_failures == 0 and slowest[1]["p95"] < TARGET_P95_MS
    print(f"goal, 0 errors and every page's p95 under {TARGET_P95_MS} ms: {'met' if ok else 'NOT met'}")
    ramp = results["ramp"]
    print("while people signed in (not in the table above): " + "; ".join(
        f"{name} {entry['requests']} req p50 {entry['p50']:.0f} p95 {entry['p95']:.0f} ms, {entry['failures']} errors"
        for name, entry in sorted(ramp.items()) if "sign" in name or "factor" in name))
    if capacity:
        base = capacity["/healthz"]["rps"]
        print(f"\neach page alone, {args.capacity_clients} clients back to back for {args.capacity_seconds:.0f} s "
              "each (after the mix):")
        for name, entry in capacity.items():
            print(f"  {name:20} {entry['rps']:7.1f} req/s  = {entry['rps'] / base:5.3f} x /healthz   "
                  f"p50 {entry['p50']:6.1f} ms   errors {entry['failures']} {' '.join(entry['failed_with'])}")
    print(f"\nserver memory, peak of the summed VmRSS (sampled every {MEMORY_SAMPLE_S} s, {memory.samples} samples): "
          f"{memory.peak_kib * 1024 / MB:.0f} MB (" + ", ".join(
              f"{name} {kib * 1024 / MB:.0f} MB" for name, kib in memory.peak_parts.items()) + ")")
    print("CPU seconds during the measured mix: " + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in cpu.items()
                                                             if name != "busy")
          + f"; the machine's CPUs busy on average {cpu['busy']:.2f} of {os.cpu_count()}")
    return ok


# --- The run ----------------------------------------------------------------------------------------------

def run(temp_dir, args):
    import redis
    from django.conf import settings
    from django.db import connection, connections

    from requests_app.tests.videos import make_mp4

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        print(f"database: PostgreSQL {cursor.fetchone()[0]} ({connection.settings_dict['NAME']}); Redis {REDIS_URL}; "
              f"{os.cpu_count()} CPUs")
    redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).flushdb()
    started = time.perf_counter()
    rng = random.Random(SEED)  # noqa: S311  (placing data, not secrets)
    plan = seed(args, rng)
    asked = sum(1 for owner in plan["owners"] if owner["requests"])
    print(f"seeded in {time.perf_counter() - started:.0f} s: {len(plan['owners'])} owners with "
          f"{sum(len(owner['cameras']) for owner in plan['owners'])} cameras, {len(plan['staff'])} staff with TOTP, "
          f"{len(plan['incidents'])} incidents, {sum(len(o['requests']) for o in plan['owners'])} footage requests "
          f"(links from the outbox) to {asked} owners")
    collect_static()
    if args.census:
        page_census(plan, "before the load")
    video = Path(temp_dir) / "porch.mp4"
    make_mp4(video, seconds=2)
    plan.update({
        "password": PASSWORD, "cad_key": cad_key(), "session_cookie": settings.SESSION_COOKIE_NAME, "seed": SEED,
        "video": {"path": str(video), "name": "porch.mp4"},
        "owner_think_s": args.owner_think, "staff_think_s": args.staff_think, "cad_interval_s": args.cad_interval,
        "spawn_rate": args.spawn_rate, "ramp_timeout_s": 900, "duration_s": args.duration,
        "capacity_s": args.capacity_seconds, "capacity_clients": args.capacity_clients})
    connections.close_all()

    ports = [free_port() for _ in range(args.web_processes)]
    plan["ports"] = ports
    plan_path, results_path = Path(temp_dir) / "plan.json", Path(temp_dir) / "results.json"
    plan_path.write_text(json.dumps(plan))
    logs, web, cluster, sampler, users = [], [], None, None, None
    try:
        cluster = Cluster(2, os.path.join(temp_dir, "qcluster.log"))  # TASK_WORKERS' default
        for port in ports:
            log = open(Path(temp_dir) / f"daphne-{port}.log", "wb")  # noqa: SIM115  (closed below)
            logs.append(log)
            web.append(start_daphne(port, log, args=["--proxy-headers"]))
        wait_healthy(ports)
        roots = {f"daphne :{port}": process.pid for port, process in zip(ports, web, strict=True)}
        roots["qcluster"] = cluster.process.pid
        sampler = MemorySampler(roots)
        sampler.start()
        print(f"web: {len(ports)} daphne processes (--proxy-headers) on :{', :'.join(map(str, ports))}; "
              f"qcluster with 2 workers; DEBUG=0; load average before the run "
              f"{' '.join(f'{value:.2f}' for value in os.getloadavg())}")
        users = subprocess.Popen([sys.executable, str(Path(__file__).with_name("loadusers.py")),  # noqa: S603
                                  str(plan_path), str(results_path)], cwd=BASE_DIR, stdout=subprocess.PIPE,
                                 text=True)
        processes = {**roots, "locust": users.pid}
        cpu, cpu_start, machine_start = {}, {}, None
        for line in users.stdout:  # loadusers says when the measured mix starts and ends
            print(line.rstrip(), flush=True)
            if line.startswith("loadusers: measuring"):
                cpu_start, machine_start = tree_cpu_seconds(processes), machine_cpu()
            elif line.startswith("loadusers: measured"):
                cpu = {name: seconds - cpu_start[name] for name, seconds in tree_cpu_seconds(processes).items()}
                cpu["busy"] = busy_cpus(machine_start, machine_cpu())
        if users.wait() != 0:
            raise RuntimeError(f"the locust process ended with status {users.returncode}")
        if args.census:
            page_census(plan, "after the load (its answers, uploads and CAD incidents added)")
        sampler.stop()
        print(f"load average after the run {' '.join(f'{value:.2f}' for value in os.getloadavg())}")
        ok = report(json.loads(results_path.read_text()), sampler, cpu, args)
    finally:
        if sampler:
            sampler.stop()
        stop_process(users)
        for process in web:
            stop_process(process)
        if cluster:
            cluster.stop()
        for log in logs:
            log.close()
    tracebacks = report_log_errors(logs, limit=10)
    print(f"web processes logged {tracebacks} traceback(s)")
    return ok and tracebacks == 0


def main():
    args = parse_args()
    return run_on_throwaway_database("portal-bench-load-", configure_environment,
                                     lambda temp_dir: run(temp_dir, args))


if __name__ == "__main__":
    sys.exit(main())
