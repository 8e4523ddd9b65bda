"""Benchmark of an area request to 5,000 owners: creating it, then e-mailing them with one and two workers.

    .venv/bin/python bench/fanout.py
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench .venv/bin/python bench/fanout.py

It never touches the developer's own database: by default it runs on a new SQLite file in a
temporary directory; with BENCH_DATABASE_URL it creates that PostgreSQL database (which must not
exist yet) and drops it at the end. E-mails go to an SMTP server (aiosmtpd) that the script runs
on 127.0.0.1 in a process of its own, sent by a real `manage.py qcluster` with one worker and then
with two, running the tasks the fan-out queues for that many workers. See bench/README.md.
"""

import math
import multiprocessing
import os
import random
import re
import secrets
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdb import create_postgres_database, drop_postgres_database, throwaway_environment  # noqa: E402
from benchproc import busy_cpus, cpu_seconds, machine_cpu, process_tree  # noqa: E402

CENTRE = (40.7128, -74.0060)
OWNERS = 5_000
RADIUS_M = 800  # the area request's radius, within the city's default limit of 805 m
PLACED_WITHIN_M = 780  # cameras are placed strictly inside the circle
BUSINESS_EVERY = 10  # every tenth owner is a business (and signs the business waiver)
BATCH = 1_000
SEED = 20240502
WORKER_TIMEOUT_S = 900
TARGET_RATIO = 1.7  # two workers against one
LINK_TOKEN = re.compile(rb"/r/([A-Za-z0-9_-]{20,})/")


# --- Database set-up (before Django is imported) ---------------------------------------------

def configure_environment(temp_dir, smtp_port):
    """Point Django at a throw-away database and the bench's SMTP server; returns the PostgreSQL URL or None.

    The clusters the bench starts inherit this environment, so they see the same settings. Tasks are
    queued in the ORM broker. DEBUG is off, as in production (no query logging in the workers).
    """
    return throwaway_environment(
        temp_dir, extra={"EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}", "DEBUG": "0",
                         "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "127.0.0.1"},
        unset=("TASKS_SYNC", "TASKS_ON_REDIS", "FOOTAGE_ROOT", "TASK_WORKERS"))

def setup_django():
    import logging

    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False  # no per-query logging in connection.queries, as in production
    # django-q2 logs as "django-q" (not "django_q", which settings.LOGGING quiets): one line per queued task.
    logging.getLogger("django-q").setLevel(logging.WARNING)


# --- The SMTP server (a process of its own, so it does not share a GIL with the senders) ---------

class Mailbox:
    """Keeps, for each message, its recipients and the link token in its body."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802  (aiosmtpd's hook name)
        match = LINK_TOKEN.search(envelope.content)
        self.messages.append((list(envelope.rcpt_tos), match.group(1).decode() if match else None))
        return "250 Message accepted"

    def take(self):
        messages, self.messages = self.messages, []
        return messages


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def smtp_server(conn):
    """Serve SMTP on 127.0.0.1 until told to stop; answer "take" with the messages received since the last one."""
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    # server_hostname: otherwise aiosmtpd looks up this machine's FQDN on every connection.
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port(), server_hostname="bench-smtp.localhost")
    controller.start()
    conn.send(controller.port)
    try:
        while True:
            command = conn.recv()
            if command == "take":
                conn.send(mailbox.take())
            else:
                break
    except EOFError:
        pass  # the bench process went away
    finally:
        controller.stop()


class SmtpServer:
    def __init__(self, context):
        self.conn, child_conn = context.Pipe()
        self.process = context.Process(target=smtp_server, args=(child_conn,), daemon=True)
        self.process.start()
        if not self.conn.poll(30):
            raise RuntimeError("the SMTP server did not start")
        self.port = self.conn.recv()

    def take(self):
        self.conn.send("take")
        return self.conn.recv()

    def stop(self):
        if self.process.is_alive():
            try:
                self.conn.send("stop")
            except (BrokenPipeError, OSError):
                pass
            self.process.join(10)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)


# --- Data ------------------------------------------------------------------------------------

def destination(lat, lng, bearing_rad, distance_m):
    from cameras.geo import destination_point

    return destination_point(lat, lng, bearing_rad, distance_m)


def load(rng):
    """Owners (verified, waiver signed) with one camera each in the circle, an operator and an incident."""
    from datetime import timedelta

    from allauth.account.models import EmailAddress
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.db import transaction
    from django.utils import timezone

    from cameras.models import Camera, SharingRules
    from incidents.models import Incident
    from portal import roles
    from portal.models import User, WaiverSignature
    from portal.services import waiver_create, waiver_publish

    with transaction.atomic():
        waivers = {}
        for audience in (User.AccountType.RESIDENT, User.AccountType.BUSINESS):
            draft = waiver_create(audience=audience, title=f"Agreement for {audience}s",
                                  body="Joining is voluntary.\n\nEvery access is logged.", actor=None)
            waivers[audience] = waiver_publish(waiver=draft, actor=None)

        owners = []
        for i in range(OWNERS):
            business = i % BUSINESS_EVERY == 0
            owners.append(User(
                email=f"bench-owner-{i:05d}@example.org", full_name=f"Bench Owner {i}", password=make_password(None),
                account_type=User.AccountType.BUSINESS if business else User.AccountType.RESIDENT,
                business_name=f"Bench Shop {i}" if business else ""))
        User.objects.bulk_create(owners, batch_size=BATCH)
        owners = list(User.objects.filter(email__startswith="bench-owner-").order_by("pk"))
        EmailAddress.objects.bulk_create(
            (EmailAddress(user=owner, email=owner.email, verified=True, primary=True) for owner in owners),
            batch_size=BATCH)
        WaiverSignature.objects.bulk_create(
            (WaiverSignature(user=owner, waiver=waivers[owner.account_type],
                             text_sha256=waivers[owner.account_type].text_sha256, typed_name=owner.full_name,
                             ip_address="203.0.113.7", user_agent="bench") for owner in owners),
            batch_size=BATCH)

        cameras = []
        for i, owner in enumerate(owners):
            camera = Camera(owner=owner, name=f"Camera {i}", address=f"{i} Bench Street", coverage=["street"],
                            site_kind=Camera.SiteKind.BUSINESS if owner.business_name else Camera.SiteKind.HOME)
            distance = PLACED_WITHIN_M * math.sqrt(rng.random())  # uniform over the disc
            camera.set_location(*destination(*CENTRE, rng.uniform(0, 2 * math.pi), distance))
            cameras.append(camera)
        Camera.objects.bulk_create(cameras, batch_size=BATCH)
        cameras = list(Camera.objects.order_by("pk"))
        SharingRules.objects.bulk_create((SharingRules(camera=camera) for camera in cameras), batch_size=BATCH)

        operator = User.objects.create_user(email="operator@police.example.org", full_name="Bench Operator",
                                            account_type=User.AccountType.STAFF, is_staff=True, badge_number="4242")
        operator.groups.add(Group.objects.get(name=roles.OPERATOR))
        EmailAddress.objects.create(user=operator, email=operator.email, verified=True, primary=True)
        now = timezone.now()
        incident = Incident.objects.create(
            reference="BENCH-000001", incident_type=Incident.Type.BURGLARY, case_number="CASE-BENCH-1",
            latitude=CENTRE[0], longitude=CENTRE[1], address="City Hall", window_start=now - timedelta(hours=3),
            window_end=now - timedelta(hours=1), created_by=operator)
    return operator, incident, owners, cameras


# --- Measurements ----------------------------------------------------------------------------

def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def create_area_request(operator, incident):
    """Time area_request_create(); the e-mail task is queued on commit in django-q's ORM broker."""
    from django.db import connection

    from requests_app.services import area_request_create

    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        elapsed, area_request = timed(lambda: area_request_create(
            incident=incident, sender=operator, latitude=CENTRE[0], longitude=CENTRE[1], radius_m=RADIUS_M,
            window_start=incident.window_start, window_end=incident.window_end, message="Bench request",
            case_number=incident.case_number, ip_address="198.51.100.1"))
    return elapsed, area_request, counter.count


def bulk_baseline(area_request, owners, cameras):
    """The same footage-request and camera-link rows written with bulk_create (no audit), then rolled back."""
    from datetime import timedelta

    from django.conf import settings
    from django.db import transaction
    from django.utils import timezone

    from requests_app.models import AreaRequest, FootageRequest

    expires_at = timezone.now() + timedelta(days=settings.FOOTAGE_REQUEST_EXPIRY_DAYS)
    camera_of = {camera.owner_id: camera for camera in cameras}
    through = FootageRequest.cameras.through
    start = time.perf_counter()
    with transaction.atomic():
        copy = AreaRequest.objects.create(
            incident=area_request.incident, latitude=area_request.latitude, longitude=area_request.longitude,
            radius_m=area_request.radius_m, window_start=area_request.window_start,
            window_end=area_request.window_end, case_number=area_request.case_number, sender=area_request.sender,
            status=AreaRequest.Status.SENT)
        requests = FootageRequest.objects.bulk_create(
            (FootageRequest(area_request=copy, owner=owner, expires_at=expires_at,
                            camera_names=[camera_of[owner.pk].name]) for owner in owners), batch_size=BATCH)
        through.objects.bulk_create(
            (through(footagerequest_id=request.pk, camera_id=camera_of[request.owner_id].pk) for request in requests),
            batch_size=BATCH)
        elapsed = time.perf_counter() - start
        transaction.set_rollback(True)
    return elapsed


class Cluster:
    """`manage.py qcluster` with TASK_WORKERS=workers, as production runs it, in a session of its own."""

    def __init__(self, workers, log_path):
        self.workers = workers
        self.log = open(log_path, "w")  # noqa: SIM115  (closed in stop())
        self.process = subprocess.Popen(  # noqa: S603  (our own command)
            [sys.executable, "manage.py", "qcluster"], cwd=BASE_DIR, env={**os.environ, "TASK_WORKERS": str(workers)},
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_until_ready(self):
        """Until the cluster has run a first task (its workers are up and polling the ORM broker)."""
        from django_q.models import Task
        from django_q.tasks import async_task

        task_id = async_task("math.floor", 1.5, group="bench-warm-up")
        deadline = time.monotonic() + 120
        while not Task.objects.filter(id=task_id).exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the cluster did not start (see {self.log.name})")
            time.sleep(0.05)

    def cpu_seconds(self):
        return sum(cpu_seconds(pid) for pid in process_tree(self.process.pid))

    def stop(self):
        """SIGTERM (django-q2 stops its workers and exits), then SIGKILL to the session if it lingers."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        try:
            os.killpg(self.process.pid, 0)  # anything left of its session (a worker whose parent died)?
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.log.close()


def database_backends_cpu():
    """{pid: CPU seconds} of the PostgreSQL backends serving the bench database, but this process's."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity"
                       " WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return {pid: cpu_seconds(pid) for (pid,) in cursor.fetchall()}


def run_cluster(workers, area_request, server, temp_dir):
    """Start a cluster of `workers`, queue the e-mail tasks as the fan-out does, wait until every task ended.

    Returns the seconds from queuing to the last task's end, the tasks, the CPU seconds of each part,
    the busy CPUs meanwhile, and when the first and last e-mails were marked sent.
    """
    from django.db.models import Max, Min
    from django.utils import timezone
    from django_q.models import Task

    from requests_app import services
    from requests_app.models import FootageRequest

    group = f"area-request-{area_request.pk}-emails"
    Task.objects.filter(group=group).delete()  # the previous run's
    cluster = Cluster(workers, os.path.join(temp_dir, f"qcluster-{workers}.log"))
    try:
        cluster.wait_until_ready()
        expected = math.ceil(OWNERS / services.EMAIL_BATCH_SIZE)  # one task per batch
        cluster_before, smtp_before = cluster.cpu_seconds(), cpu_seconds(server.process.pid)
        database_before, machine_before = database_backends_cpu(), machine_cpu()
        queued_at = timezone.now()
        services._queue_emails(area_request.pk, owners=OWNERS)
        deadline = time.monotonic() + WORKER_TIMEOUT_S
        while Task.objects.filter(group=group).count() < expected:
            if cluster.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the cluster stopped or the tasks did not end (see {cluster.log.name})")
            time.sleep(0.05)
        machine_after, database_after = machine_cpu(), database_backends_cpu()
        cpu = {"cluster": cluster.cpu_seconds() - cluster_before,
               "smtp": cpu_seconds(server.process.pid) - smtp_before,
               "database": sum(seconds - database_before.get(pid, 0.0) for pid, seconds in database_after.items())}
    finally:
        cluster.stop()
    tasks = list(Task.objects.filter(group=group).order_by("started"))
    for task in tasks:
        if not task.success:
            print(f"  task {task.name} failed:\n{task.result}")
    sent_at = FootageRequest.objects.filter(area_request=area_request).aggregate(
        first=Min("email_sent_at"), last=Max("email_sent_at"))
    return {"seconds": (max(task.stopped for task in tasks) - queued_at).total_seconds(), "tasks": tasks,
            "cpu": cpu, "busy_cpus": busy_cpus(machine_before, machine_after),
            "first_sent_s": (sent_at["first"] - queued_at).total_seconds(),
            "last_sent_s": (sent_at["last"] - queued_at).total_seconds()}


def check_delivery(messages, area_request, owners):
    """What the SMTP server received, against the owners; and which e-mailed links still open the request."""
    from requests_app.models import FootageRequest
    from requests_app.tokens import token_hash

    recipients = [address for rcpt_tos, _token in messages for address in rcpt_tos]
    expected = {owner.email for owner in owners}
    live_hashes = set(FootageRequest.objects.filter(area_request=area_request).exclude(token_hash=None)
                      .values_list("token_hash", flat=True))
    working = [rcpt_tos for rcpt_tos, token in messages if token and token_hash(token) in live_hashes]
    states = FootageRequest.objects.filter(area_request=area_request)
    attempts = sum(states.values_list("email_attempts", flat=True))
    not_sent = states.exclude(email_state=FootageRequest.EmailState.SENT).count()
    distinct = set(recipients)
    facts = {
        "messages": len(messages), "recipients": len(recipients), "distinct": len(distinct),
        "duplicates": len(recipients) - len(distinct), "missing": len(expected - distinct),
        "unexpected": len(distinct - expected), "working_links": len(working), "attempts": attempts,
        "not_sent": not_sent,
    }
    facts["exactly_once"] = (len(recipients) == len(expected) and distinct == expected and not_sent == 0)
    return facts


def reset_emails(area_request):
    """Back to "queued", as the fan-out left them, so the next run e-mails the same 5,000 owners again."""
    from requests_app.models import FootageRequest

    FootageRequest.objects.filter(area_request=area_request).update(
        email_state=FootageRequest.EmailState.QUEUED, email_attempts=0, email_claim=None, token_hash=None,
        email_sent_at=None, email_last_error="", email_next_attempt_at=None)


def smtplib_baseline(server, area_request, owners):
    """One SMTP connection, one pre-rendered portal e-mail, re-addressed to each owner: the server's limit."""
    from email.utils import make_msgid

    from django.conf import settings

    from requests_app import services
    from requests_app.models import FootageRequest
    from requests_app.tokens import new_token

    sample = (FootageRequest.objects.select_related("owner", "area_request__incident", "area_request__sender")
              .filter(area_request=area_request).first())
    sample.email_message_id = make_msgid(domain="camera-portal")
    message = services._footage_request_email(sample, new_token()[0])
    raw = message.message().as_bytes(linesep="\r\n")
    sender = message.from_email or settings.DEFAULT_FROM_EMAIL
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", server.port) as smtp:
        for owner in owners:
            smtp.sendmail(sender, [owner.email], raw.replace(sample.owner.email.encode(), owner.email.encode()))
    elapsed = time.perf_counter() - start
    received = server.take()
    recipients = [address for rcpt_tos, _token in received for address in rcpt_tos]
    return elapsed, len(raw), len(received), len(set(recipients))


def describe(label, run, facts, baseline_rate):
    seconds, tasks, cpu = run["seconds"], run["tasks"], run["cpu"]
    rate = (facts["distinct"] - facts["unexpected"]) / seconds if seconds else 0.0
    messages_rate = facts["messages"] / seconds if seconds else 0.0
    print(f"{label}: {facts['distinct']:,} owners e-mailed in {seconds:.1f} s: {rate:,.0f} e-mails/s "
          f"({rate / baseline_rate:.3f} of the baseline); {facts['messages']:,} messages received "
          f"({messages_rate:,.0f}/s)")
    print(f"  {len(tasks)} task(s) queued by the fan-out, e-mails sent by each: "
          f"{', '.join(str(task.result) for task in tasks)}; first and last marked sent "
          f"{run['first_sent_s']:.2f} s and {run['last_sent_s']:.2f} s after queuing")
    database = (f", database backends {cpu['database'] / OWNERS * 1000:.2f} ms" if cpu["database"]
                else " (SQLite works inside the cluster's processes)")
    ours = (cpu["cluster"] + cpu["smtp"] + cpu["database"]) / seconds
    print(f"  CPU per e-mail: cluster {cpu['cluster'] / OWNERS * 1000:.2f} ms, SMTP server "
          f"{cpu['smtp'] / OWNERS * 1000:.2f} ms{database}")
    print(f"  busy CPUs meanwhile: {run['busy_cpus']:.2f} of {os.cpu_count()}: these parts {ours:.2f}, "
          f"other processes {max(run['busy_cpus'] - ours, 0):.2f}")
    print(f"  distinct recipients {facts['distinct']:,}, duplicates {facts['duplicates']:,}, "
          f"missing {facts['missing']:,}, not marked sent {facts['not_sent']:,}, "
          f"send attempts recorded {facts['attempts']:,}")
    print(f"  messages whose link opens the request: {facts['working_links']:,} of {facts['messages']:,}")
    print(f"  exactly once: {'yes' if facts['exactly_once'] else 'no'}")
    return rate


def run(server, temp_dir):
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from portal.models import AuditEvent
    from requests_app.models import FootageRequest
    from requests_app.services import area_request_preview

    with connection.cursor() as cursor:
        cursor.execute("SELECT sqlite_version()" if connection.vendor == "sqlite" else "SHOW server_version")
        version = cursor.fetchone()[0]
    print(f"database: {connection.vendor} {version} ({connection.settings_dict['NAME']})")
    print(f"SMTP server: aiosmtpd on 127.0.0.1:{server.port}, in its own process")

    load_s, (operator, incident, owners, cameras) = timed(lambda: load(random.Random(SEED)))  # noqa: S311
    businesses = sum(1 for owner in owners if owner.business_name)
    print(f"loaded: {len(owners):,} owners ({len(owners) - businesses:,} residents, {businesses:,} businesses; "
          f"verified, waiver signed), {len(cameras):,} cameras within {PLACED_WITHIN_M} m in {load_s:.1f} s")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    preview_s, preview = timed(lambda: area_request_preview(latitude=CENTRE[0], longitude=CENTRE[1],
                                                            radius_m=RADIUS_M))
    audit_before = AuditEvent.objects.count()
    create_s, area_request, queries = create_area_request(operator, incident)
    requests = FootageRequest.objects.filter(area_request=area_request)
    count = requests.count()
    if area_request.status != "sent" or count != OWNERS or preview["counts"]["owners_asked"] != OWNERS:
        print(f"area request {area_request.status!r} with {count:,} footage requests "
              f"({preview['counts']['owners_asked']:,} owners in the preview), expected 'sent' and {OWNERS:,}: "
              f"check the AREA_REQUEST_* settings in your environment.")
        return False
    audits = AuditEvent.objects.count() - audit_before
    print(f"area_request_create(): 1 area request, {count:,} footage requests, {audits:,} audit events "
          f"in {create_s:.2f} s ({create_s / count * 1000:.2f} ms per owner, {queries:,} queries)")
    print(f"  finding the owners alone (area_request_preview, timed before): {preview_s:.2f} s")
    bulk_s = bulk_baseline(area_request, owners, cameras)
    print(f"  bulk_create of the same rows, no audit (baseline, rolled back): {bulk_s:.2f} s; "
          f"area_request_create() takes {create_s / bulk_s:.0f}x as long")

    from django.conf import settings
    from django_q.models import OrmQ, Schedule

    queued = [task.func() for task in OrmQ.objects.all()]
    early = server.take()
    still_queued = requests.filter(email_state=FootageRequest.EmailState.QUEUED).count()
    print(f"  on commit: {len(queued)} django-q task(s) queued in the ORM broker ({', '.join(queued)}; "
          f"TASK_WORKERS={settings.Q_CLUSTER['workers']}), not run; {still_queued:,} e-mails queued, "
          f"{len(early)} sent during the call")
    OrmQ.objects.all().delete()  # each run below queues its own, for its number of workers
    # The scheduled jobs (retry_failed_emails every minute, ...) are not part of the measurement.
    Schedule.objects.update(next_run=timezone.now() + timedelta(days=1))

    baseline_s, size, baseline_messages, baseline_distinct = smtplib_baseline(server, area_request, owners)
    baseline_rate = baseline_messages / baseline_s
    print(f"smtplib, one connection, one pre-rendered e-mail of {size:,} bytes (baseline): "
          f"{baseline_messages:,} messages to {baseline_distinct:,} recipients in {baseline_s:.1f} s: "
          f"{baseline_rate:,.0f} e-mails/s")

    rates, ok = {}, True
    for workers, label in ((1, "one worker"), (2, "two workers")):
        reset_emails(area_request)
        run = run_cluster(workers, area_request, server, temp_dir)
        facts = check_delivery(server.take(), area_request, owners)
        rates[workers] = describe(f"{label} (manage.py qcluster, TASK_WORKERS={workers})", run, facts,
                                  baseline_rate)
        ok = ok and facts["exactly_once"] and all(task.success for task in run["tasks"])
    ratio = rates[2] / rates[1]
    print(f"two workers / one worker: {ratio:.2f}x "
          f"(target {TARGET_RATIO}x: {'met' if ratio >= TARGET_RATIO else 'not met'})")
    print(f"exactly once: {'yes' if ok else 'no'}")
    return ok


def main(scenario=None, prefix="portal-bench-fanout-"):
    """Start the SMTP server and the database, run scenario(server, temp_dir) (this bench's run by default)."""
    scenario = scenario or run
    started = time.perf_counter()
    temp_dir = tempfile.mkdtemp(prefix=prefix)
    context = multiprocessing.get_context("spawn")  # the SMTP server starts clean: no inherited connections
    bench_url = None
    created = False
    server = None
    ok = False
    try:
        server = SmtpServer(context)
        bench_url = configure_environment(temp_dir, server.port)
        if bench_url:
            create_postgres_database(bench_url)
            created = True

        setup_django()
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        ok = scenario(server, temp_dir)
    finally:
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        if server is not None:
            server.stop()
        if created:
            drop_postgres_database(bench_url)
        shutil.rmtree(temp_dir, ignore_errors=True)
    print(f"total run time: {time.perf_counter() - started:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
