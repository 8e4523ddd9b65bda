"""The portal as a city runs it: two web processes and two task workers on PostgreSQL + Redis + S3, in one run.

    .venv/bin/python bench/cluster.py
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench_cluster .venv/bin/python bench/cluster.py

Needs PostgreSQL (a database the bench creates and drops, as geo.py does; the default URL above) and Redis
(BENCH_REDIS_URL, default redis://127.0.0.1:6379/9, which the run flushes). It starts itself: a SeaweedFS S3
server, an SMTP server (aiosmtpd), a test MJPEG camera, two daphne processes (web A and web B) and two
`manage.py qcluster` processes with one worker each, as two hosts would run them, all sharing the database,
Redis and the bucket. Then, one after another:

  1. alerts: CAD events POSTed alternately to A and B reach RTCC WebSocket clients connected to both;
  2. e-mails: an area request to 5,000 owners, sent by the two workers, exactly once;
  3. upload: 1 GiB through tus, its PATCHes alternating between A and B, kept with the right SHA-256;
  4. live: viewers of one camera on both web processes cost one upstream connection per process.

See bench/README.md and docs/deploy.md.
"""

import asyncio
import hashlib
import json
import math
import multiprocessing
import os
import random
import secrets
import struct
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from alerts import percentile, prepare  # noqa: E402
from benchdb import run_on_throwaway_database, throwaway_environment  # noqa: E402
from benchproc import free_port, report_log_errors, start_daphne, stop_process  # noqa: E402
from fanout import OWNERS, SEED, Cluster, SmtpServer, check_delivery, create_area_request, load  # noqa: E402
from relay import Camera, Viewer, integrated_camera, signed_in_cookie, start_tokens  # noqa: E402
from upload import CHUNK_MARGIN, create_approved_request, granted_session  # noqa: E402

from requests_app.tests.s3server import S3Server  # noqa: E402

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/portal_bench_cluster"
CLIENTS_PER_PROCESS = 100
ALERTS = 40
WARM_UP_ALERTS = 4
ALERT_GAP_S = 0.15
UPLOAD_BYTES = 1024**3
VIEWERS_PER_PROCESS = 10
WATCH_SECONDS = 5
EMAIL_TIMEOUT_S = 600
MB = 1_000_000


# --- Set-up (before Django is imported) -------------------------------------------------------------

def configure_environment(temp_dir, parts):
    """Every process of the run (this one, daphne, the clusters) shares one database, Redis and bucket."""
    os.environ.setdefault("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    extra = {
        "REDIS_URL": REDIS_URL, "EMAIL_URL": f"smtp://127.0.0.1:{parts['smtp'].port}",
        **parts["s3"].storage_url_environment(location="cluster"),
        "STREAM_ALLOWED_NETWORKS": "127.0.0.1/32", "CAD_RATE_LIMIT": "100000/min",
        "TASK_WORKERS": "1",  # two clusters of one worker each, as two hosts would run them
        # The workers run as in production (no query log); web processes get DEBUG=1 (static files
        # without collectstatic, plain HTTP) when they start.
        "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": "http://127.0.0.1",
    }
    return throwaway_environment(temp_dir, extra=extra, unset=("TASKS_SYNC", "TASKS_ON_REDIS", "FOOTAGE_ROOT"))


def flush_redis():
    import redis

    redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).flushdb()


# --- 1. Alerts on both web processes ----------------------------------------------------------------

async def alerts(ports, cookie, raw_key):
    """CLIENTS_PER_PROCESS RTCC clients on each web process; ALERTS CAD events POSTed to A and B in turn."""
    import requests
    import websockets

    arrivals = {}  # address -> [(port, time)]
    ready, connected = asyncio.Event(), 0

    async def client(port):
        nonlocal connected
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws/feed/", open_timeout=60, max_size=2**20,
                                      additional_headers={"Cookie": cookie,
                                                          "Origin": f"http://127.0.0.1:{port}"}) as socket:
            connected += 1
            if connected == len(ports) * CLIENTS_PER_PROCESS:
                ready.set()
            async for message in socket:
                arrived = time.perf_counter()
                event = json.loads(message)
                if event.get("kind") == "incident_opened":
                    arrivals.setdefault(event["address"], []).append((port, arrived))

    tasks = [asyncio.create_task(client(port)) for port in ports for _ in range(CLIENTS_PER_PROCESS)]
    await asyncio.wait_for(ready.wait(), 120)
    await asyncio.sleep(0.5)
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {raw_key}"
    loop = asyncio.get_running_loop()
    sent = {}
    for number in range(WARM_UP_ALERTS + ALERTS):
        address = f"cluster-alert-{number}"
        target = ports[number % len(ports)]
        body = {"external_id": address, "event_type": "Burglar alarm", "priority": 1, "latitude": 40.7128,
                "longitude": -74.006, "address": address}
        started = time.perf_counter()
        response = await loop.run_in_executor(None, lambda body=body, target=target: http.post(
            f"http://127.0.0.1:{target}/api/v1/cad/events/", json=body, timeout=30))
        if response.status_code != 201:
            raise RuntimeError(f"CAD POST answered {response.status_code}: {response.text[:200]}")
        if number >= WARM_UP_ALERTS:
            sent[address] = (target, started)
        await asyncio.sleep(ALERT_GAP_S)
    await asyncio.sleep(1.0)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    latencies = {(posted, received): [] for posted in ports for received in ports}
    missing = 0
    for address, (posted, started) in sent.items():
        got = arrivals.get(address, [])
        missing += len(ports) * CLIENTS_PER_PROCESS - len(got)
        for received, arrived in got:
            latencies[(posted, received)].append((arrived - started) * 1000)
    return latencies, missing


def report_alerts(ports, latencies, missing):
    names = {port: name for port, name in zip(ports, "AB", strict=True)}
    print(f"\n1. alerts: {ALERTS} CAD events POSTed alternately to web A and web B, "
          f"{CLIENTS_PER_PROCESS} RTCC WebSocket clients on each")
    for (posted, received), values in latencies.items():
        print(f"  POSTed to {names[posted]}, received on {names[received]}: {len(values):5d} deliveries, "
              f"p50 {percentile(values, 0.5):6.1f} ms, p99 {percentile(values, 0.99):6.1f} ms, "
              f"max {max(values):6.1f} ms")
    everything = [value for values in latencies.values() for value in values]
    print(f"  all: p50 {percentile(everything, 0.5):.1f} ms, p99 {percentile(everything, 0.99):.1f} ms; "
          f"missing deliveries {missing}")
    return missing == 0 and all(latencies.values())


# --- 2. E-mails from two workers --------------------------------------------------------------------

def emails(operator, incident, owners, smtp, clusters):
    from django_q.models import Task

    from requests_app.models import FootageRequest
    from requests_app.services import EMAIL_BATCH_SIZE

    smtp.take()  # nothing from the set-up
    cpu_before = [cluster.cpu_seconds() for cluster in clusters]
    started = time.perf_counter()
    _elapsed, area_request, _queries = create_area_request(operator, incident)
    created_s = time.perf_counter() - started
    waiting = FootageRequest.objects.filter(area_request=area_request).exclude(
        email_state__in=[FootageRequest.EmailState.SENT, FootageRequest.EmailState.GAVE_UP])
    deadline = time.monotonic() + EMAIL_TIMEOUT_S
    while waiting.exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{waiting.count()} e-mails were still not sent after {EMAIL_TIMEOUT_S} s")
        time.sleep(0.1)
    sent_s = time.perf_counter() - started - created_s  # from the commit that queued the tasks
    group, expected = f"area-request-{area_request.pk}-emails", math.ceil(OWNERS / EMAIL_BATCH_SIZE)
    while Task.objects.filter(group=group).count() < expected and time.monotonic() < deadline:
        time.sleep(0.1)  # the last tasks find nothing left to send, and end
    cpu = [cluster.cpu_seconds() - before for cluster, before in zip(clusters, cpu_before, strict=True)]
    facts = check_delivery(smtp.take(), area_request, owners)
    tasks = list(Task.objects.filter(group=group).order_by("started"))
    working = [task for task in tasks if task.result]
    print(f"\n2. e-mails: an area request to {OWNERS:,} owners (created through area_request_create() in "
          f"{created_s:.1f} s), sent by the two workers")
    print(f"  every e-mail marked sent {sent_s:.1f} s after the request was committed: {OWNERS / sent_s:,.0f} "
          f"e-mails/s")
    print(f"  {len(tasks)} tasks (one per {EMAIL_BATCH_SIZE} owners): "
          f"{', '.join(f'{task.name.rsplit(chr(45), 1)[1]} sent {task.result}' for task in working)}, the other "
          f"{len(tasks) - len(working)} found nothing left; CPU of each worker's cluster "
          f"{', '.join(f'{seconds:.1f} s' for seconds in cpu)}")
    print(f"  SMTP server received {facts['messages']:,} messages: distinct recipients {facts['distinct']:,}, "
          f"duplicates {facts['duplicates']}, missing {facts['missing']}, not marked sent {facts['not_sent']}; "
          f"links that open the request {facts['working_links']:,}")
    # A task ends only when nothing is left, so two tasks that sent something ran at the same time.
    both = len(working) >= 2 and all(task.success for task in tasks) and min(cpu) > 1
    print(f"  exactly once: {'yes' if facts['exactly_once'] else 'NO'}; both workers sent: {'yes' if both else 'NO'}")
    return facts["exactly_once"] and both


# --- 3. One upload through both web processes -------------------------------------------------------

def write_video(path, size):
    """A real MP4 (3 s of H.264, index first) padded to `size` with a `free` box of random bytes: a video the
    workers check and accept, and 1 GiB that nothing can compress."""
    from requests_app.tests.videos import make_mp4

    make_mp4(path, seconds=3, faststart=True)
    padding = size - path.stat().st_size
    digest = hashlib.sha256(path.read_bytes())
    with open(path, "ab") as file:
        header = struct.pack(">I4s", padding, b"free")
        file.write(header)
        digest.update(header)
        remaining = padding - len(header)
        while remaining:
            block = os.urandom(min(8 * 1024**2, remaining))
            file.write(block)
            digest.update(block)
            remaining -= len(block)
    return digest.hexdigest()


def upload(ports, footage_request, session_key, source, source_hash, s3):
    import requests
    from django.conf import settings

    from requests_app.models import FootageSubmission, Upload

    sessions = [requests.Session() for _ in ports]  # one keep-alive connection to each web process
    for session in sessions:
        session.cookies.set("sessionid", session_key)
    answer = sessions[0].get(f"http://127.0.0.1:{ports[0]}/requests/{footage_request.pk}/", timeout=60)
    csrf = answer.cookies.get("csrftoken")
    if answer.status_code != 200 or not csrf:
        raise RuntimeError(f"the answer page gave {answer.status_code} and no CSRF cookie")
    headers = {"Tus-Resumable": "1.0.0", "X-CSRFToken": csrf, "Referer": answer.url}
    for session in sessions:
        session.cookies.set("csrftoken", csrf)
    piece_bytes = settings.UPLOAD_MAX_CHUNK_BYTES - CHUNK_MARGIN
    started = time.perf_counter()
    created = sessions[0].post(f"http://127.0.0.1:{ports[0]}/requests/{footage_request.pk}/uploads/", timeout=60,
                               headers={**headers, "Upload-Length": str(UPLOAD_BYTES),
                                        "Upload-Metadata": "filename Y2x1c3Rlci5tcDQ="})  # cluster.mp4
    if created.status_code != 201:
        raise RuntimeError(f"creating the upload answered {created.status_code}: {created.text}")
    path, offset, per_process = created.headers["Location"], 0, [0] * len(ports)
    with open(source, "rb") as file:
        while offset < UPLOAD_BYTES:
            turn = (offset // piece_bytes) % len(ports)
            piece = file.read(piece_bytes)
            response = sessions[turn].patch(f"http://127.0.0.1:{ports[turn]}{path}", data=piece, timeout=120,
                                            headers={**headers, "Upload-Offset": str(offset),
                                                     "Content-Type": "application/offset+octet-stream"})
            if response.status_code != 204:
                raise RuntimeError(f"PATCH at {offset} to web {'AB'[turn]} answered {response.status_code}: "
                                   f"{response.text}")
            offset = int(response.headers["Upload-Offset"])
            per_process[turn] += 1
    upload_s = time.perf_counter() - started
    received = Upload.objects.get(pk=path.rstrip("/").rsplit("/", 1)[1])
    deadline = time.monotonic() + 600
    submission = FootageSubmission.objects.get(upload=received)
    while submission.status == FootageSubmission.Status.PROCESSING and time.monotonic() < deadline:
        time.sleep(0.2)
        submission.refresh_from_db()
    processed_s = time.perf_counter() - started - upload_s
    client = s3.client()
    digest = hashlib.sha256()
    for block in client.get_object(Bucket=s3.bucket, Key=f"cluster/evidence/{submission.stored_name}")[
            "Body"].iter_chunks(1024**2):
        digest.update(block)
    print(f"\n3. upload: {UPLOAD_BYTES:,} bytes (a real MP4 padded to 1 GiB) through tus, "
          f"{sum(per_process)} PATCHes of at most {piece_bytes:,} bytes alternating: web A took {per_process[0]}, "
          f"web B {per_process[1]}")
    print(f"  uploaded in {upload_s:.1f} s ({UPLOAD_BYTES / MB / upload_s:.0f} MB/s) into S3 as "
          f"{len(received.parts)} parts; a worker checked and accepted it {processed_s:.1f} s later: "
          f"{submission.get_status_display().lower()}")
    same = received.sha256 == source_hash == submission.sha256 == digest.hexdigest()
    print(f"  SHA-256 of the source {source_hash[:16]}…; computed while receiving (A and B in turn), checked by "
          f"the worker, and read back from the bucket: {'all identical' if same else 'DIFFERENT'}")
    return same and submission.status == FootageSubmission.Status.ACCEPTED and all(per_process)


# --- 4. Live viewers on both web processes ----------------------------------------------------------

def live(ports, camera_server, camera, viewer, cookie):
    tokens = start_tokens(camera, viewer, VIEWERS_PER_PROCESS * len(ports))
    opened_before, _sent, _open = camera_server.stats()
    viewers = [Viewer(ports[index % len(ports)], f"/live/{token}/mjpeg", cookie) for index, token in enumerate(tokens)]
    for one in viewers:
        one.start()
    time.sleep(2)
    frames_before = [one.frames for one in viewers]
    time.sleep(WATCH_SECONDS)
    opened, _sent, open_now = camera_server.stats()
    frames = [one.frames - before for one, before in zip(viewers, frames_before, strict=True)]
    for one in viewers:
        one.stop()
    left = time.monotonic()
    while (still_open := camera_server.stats()[2]) and time.monotonic() - left < 15:
        time.sleep(0.1)  # each process closes its upstream 3 s after its last viewer
    closed_s = time.monotonic() - left
    print(f"\n4. live: {VIEWERS_PER_PROCESS} viewers of one MJPEG camera on web A and {VIEWERS_PER_PROCESS} on web B")
    print(f"  upstream connections to the camera: opened {opened - opened_before}, open while watching {open_now} "
          f"(one per web process); all closed {closed_s:.1f} s after the last viewer left: "
          f"{'yes' if not still_open else f'NO, {still_open} open after 15 s'}")
    print(f"  frames per viewer over {WATCH_SECONDS} s: min {min(frames)}, max {max(frames)} "
          f"(HTTP {sorted({one.status for one in viewers})})")
    return opened - opened_before == len(ports) and open_now == len(ports) and still_open == 0 and min(frames) > 0


# --- The run ------------------------------------------------------------------------------------------

def run(temp_dir, parts):
    from django.db import connection, connections
    from django.utils import timezone
    from django_q.conf import Conf
    from django_q.models import Schedule
    from django_q.status import Stat

    from portal.models import User, Waiver

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        print(f"database: PostgreSQL {cursor.fetchone()[0]} ({connection.settings_dict['NAME']}); Redis {REDIS_URL}; "
              f"S3 SeaweedFS {parts['s3'].endpoint}; SMTP aiosmtpd :{parts['smtp'].port}; {os.cpu_count()} CPUs")
    flush_redis()
    # The scheduled jobs (retries every minute and so on) are left out of this run.
    Schedule.objects.update(next_run=timezone.now() + timezone.timedelta(days=1))
    operator, incident, owners, _cameras = load(random.Random(SEED))  # noqa: S311  (placing cameras, not secrets)
    cookie, raw_key = prepare()
    watcher = User.objects.get(email="bench-operator@example.org")
    business_waiver = Waiver.objects.current().get(audience="business")
    camera = integrated_camera(parts["camera"].port, business_waiver, latitude=40.7308)  # 2 km north: asked nothing
    footage_request = create_approved_request(operator=operator, incident=incident)
    session_key = granted_session(footage_request)
    source = Path(temp_dir) / "cluster.mp4"
    source_hash = write_video(source, UPLOAD_BYTES)
    connections.close_all()

    ports, processes, logs = [free_port(), free_port()], [], []
    clusters = []
    try:
        for port in ports:
            log = open(Path(temp_dir) / f"daphne-{port}.log", "wb")  # noqa: SIM115  (closed below)
            logs.append(log)
            processes.append(start_daphne(port, log, env={"DEBUG": "1"}))
        clusters = [Cluster(1, os.path.join(temp_dir, f"qcluster-{number}.log")) for number in (1, 2)]
        deadline = time.monotonic() + 120
        while len([stat for stat in Stat.get_all() if stat.status != Conf.STOPPED]) < 2:
            if time.monotonic() > deadline or any(cluster.process.poll() is not None for cluster in clusters):
                raise RuntimeError("the two task clusters did not start")
            time.sleep(0.2)
        print(f"web A on :{ports[0]}, web B on :{ports[1]} (daphne); two qcluster processes with one worker each")
        results = {
            "alerts": report_alerts(ports, *asyncio.run(alerts(ports, cookie, raw_key))),
            "emails": emails(operator, incident, owners, parts["smtp"], clusters),
            "upload": upload(ports, footage_request, session_key, source, source_hash, parts["s3"]),
            "live": live(ports, parts["camera"], camera, watcher, signed_in_cookie(watcher)),
        }
    except BaseException:
        for log in logs:
            log.flush()
            tail = Path(log.name).read_text(errors="replace").splitlines()[-15:]
            print(f"{log.name} ends:\n  " + "\n  ".join(tail))
        raise
    finally:
        for process in processes:
            stop_process(process)
        for cluster in clusters:
            cluster.stop()
        for log in logs:
            log.close()
    tracebacks = report_log_errors(logs)
    print(f"\nweb processes logged {tracebacks} traceback(s)")
    print("all shown: " + ", ".join(f"{name} {'yes' if ok else 'NO'}" for name, ok in results.items()))
    return all(results.values()) and tracebacks == 0


def main():
    context = multiprocessing.get_context("spawn")
    parts = {}
    try:
        parts["s3"] = S3Server(bucket="footage-cluster", volume_size_mb=1024).start()
        parts["smtp"] = SmtpServer(context)
        parts["camera"] = Camera()
        return run_on_throwaway_database("portal-bench-cluster-",
                                         lambda temp_dir: configure_environment(temp_dir, parts),
                                         lambda temp_dir: run(temp_dir, parts))
    finally:
        for name in ("camera", "smtp", "s3"):
            if name in parts:
                parts[name].stop()


if __name__ == "__main__":
    sys.exit(main())
