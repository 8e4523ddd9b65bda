"""Benchmark of the live relay: 50 viewers of one MJPEG camera through daphne, against 1 viewer.

    .venv/bin/python bench/relay.py
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench .venv/bin/python bench/relay.py

A test camera (cameras/tests/stream_server.py) serves 640×480 JPEG frames at 10 fps from a process of its
own; daphne serves the portal; the viewers are threads here reading /live/<token>/mjpeg. It prints the
upstream connections the camera saw, daphne's CPU seconds and resident memory (from /proc), and the frames
each viewer received against the frames the camera sent, for 1 viewer (the baseline) and for 50. The
database is a throw-away one, as for the other benches (see bench/README.md).
"""

import http.client
import multiprocessing
import os
import statistics
import sys
import threading
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdb import run_on_throwaway_database, throwaway_environment  # noqa: E402
from upload import free_port, proc_status_kb, start_daphne, stop_process  # noqa: E402

VIEWERS = 50
WATCH_SECONDS = 10.0
FRAME_INTERVAL_S = 0.1  # 10 fps
SETTLE_SECONDS = 2.0  # viewers connect and the first frames flow before measuring
MARKER = b"Content-Type: image/jpeg"
MB = 1_000_000


def configure_environment(temp_dir):
    """A throw-away database; the camera listens on 127.0.0.1, which the relay otherwise refuses to reach."""
    return throwaway_environment(temp_dir, extra={"FOOTAGE_ROOT": str(Path(temp_dir) / "footage"), "DEBUG": "1",
                                                  "STREAM_ALLOWED_NETWORKS": "127.0.0.1/32"},
                                 unset=("TASKS_SYNC", "TASKS_ON_REDIS", "EMAIL_URL"))

# --- The camera, in a process of its own ----------------------------------------------------------

def camera_process(pipe):
    """Serve MJPEG at 10 fps; answer "stats" with (connections to /mjpeg, frames sent), stop on "stop"."""
    sys.path.insert(0, str(BASE_DIR))
    from cameras.tests.stream_server import StreamServer

    server = StreamServer(frame_interval=FRAME_INTERVAL_S).start()
    pipe.send((server.port, len(server.mjpeg_frame(0))))
    while (command := pipe.recv()) != "stop":
        if command == "stats":
            pipe.send((server.connections("/mjpeg"), server.frames_sent, server.open_streams("/mjpeg")))
    server.stop()


class Camera:
    def __init__(self):
        context = multiprocessing.get_context("spawn")
        self.pipe, child = context.Pipe()
        self.process = context.Process(target=camera_process, args=(child,), daemon=True)
        self.process.start()
        self.port, self.frame_bytes = self.pipe.recv()

    def stats(self):
        self.pipe.send("stats")
        return self.pipe.recv()

    def stop(self):
        self.pipe.send("stop")
        self.process.join(10)


# --- Viewers ----------------------------------------------------------------------------------------

class Viewer(threading.Thread):
    """Reads /live/<token>/mjpeg and counts the frames, until stopped."""

    def __init__(self, port, path, cookie):
        super().__init__(daemon=True)
        self.port, self.path, self.cookie = port, path, cookie
        self.frames = 0
        self.status = None
        self.halt = threading.Event()
        self.connection = None

    def run(self):
        self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            self.connection.request("GET", self.path, headers={"Cookie": self.cookie})
            response = self.connection.getresponse()
            self.status = response.status
            tail = b""
            while not self.halt.is_set():
                chunk = response.read1(256 * 1024)
                if not chunk:
                    return
                data = tail + chunk
                position = 0
                while (found := data.find(MARKER, position)) >= 0:
                    self.frames += 1
                    position = found + len(MARKER)
                tail = data[max(position, len(data) - len(MARKER) + 1):]
        except (OSError, http.client.HTTPException):
            pass

    def stop(self):
        self.halt.set()
        try:
            self.connection.sock.shutdown(2)
        except (AttributeError, OSError):
            pass
        self.join(5)


def warm_up(port, token, cookie):
    """One short look through the relay, so that daphne's start-up imports are not counted per viewer."""
    viewer = Viewer(port, f"/live/{token}/mjpeg", cookie)
    viewer.start()
    deadline = time.monotonic() + 10
    while viewer.frames < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    viewer.stop()
    time.sleep(5)  # the upstream closes


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- Data -------------------------------------------------------------------------------------------

def create_camera_and_viewer(camera_port):
    """A business owner (verified, current waiver signed) with an integrated MJPEG camera; an operator."""
    from django.contrib.auth.models import Group

    from portal import roles
    from portal.models import User
    from portal.services import waiver_create, waiver_publish

    supervisor = User.objects.create_user(email="supervisor@police.example.org", full_name="Bench Supervisor",
                                          account_type=User.AccountType.STAFF, is_staff=True)
    draft = waiver_create(audience="business", title="Agreement", body="Voluntary.", actor=supervisor)
    waiver = waiver_publish(waiver=draft, actor=supervisor)
    camera = integrated_camera(camera_port, waiver)
    operator = User.objects.create_user(email="operator@police.example.org", full_name="Bench Operator",
                                        account_type=User.AccountType.STAFF, is_staff=True, badge_number="4242")
    operator.groups.add(Group.objects.get(name=roles.OPERATOR))
    return camera, User.objects.get(pk=operator.pk)


def integrated_camera(camera_port, waiver, *, latitude=40.7128, longitude=-74.0060):
    """An integrated MJPEG camera (rule "always") of a business owner who signed `waiver` (the current one)."""
    from allauth.account.models import EmailAddress

    from cameras.services import camera_register, sharing_rules_update, stream_source_set
    from portal.models import User
    from portal.services import waiver_sign

    owner = User.objects.create_user(email="shop@example.org", full_name="Bench Owner",
                                     account_type=User.AccountType.BUSINESS, business_name="Bench Bakery")
    EmailAddress.objects.create(user=owner, email=owner.email, verified=True, primary=True)
    waiver_sign(user=owner, waiver=waiver, typed_name=owner.full_name, agreed=True, ip_address="203.0.113.7",
                user_agent="bench")
    camera = camera_register(owner=owner, name="Front door", latitude=latitude, longitude=longitude,
                             address="1 Main St", site_kind="business", coverage=["entrance"],
                             access_level="integrated")
    rules = {name: getattr(camera.rules, name) for name in ("schedule", "incident_radius_m", "incident_minutes",
                                                             "accept_requests", "paused_until",
                                                             "notify_on_live_view", "location_precision")}
    sharing_rules_update(camera=camera, actor=owner, **{**rules, "live_mode": "always"})
    stream_source_set(camera=camera, actor=owner, kind="mjpeg", url=f"http://127.0.0.1:{camera_port}/mjpeg")
    return camera


def signed_in_cookie(user):
    """A session cookie for user that has passed MFA, as the staff sign-in leaves it."""
    from django.conf import settings
    from django.test import Client

    from portal.mfa import mark_session_verified
    from portal.tests.factories import totp_code_for

    client = Client()
    client.force_login(user)
    totp_code_for(user)
    session = client.session
    mark_session_verified(session, user)
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def start_tokens(camera, viewer, count):
    from cameras.live import live_session_start
    from cameras.models import Camera

    facts = Camera.objects.with_policy_facts().select_related("stream").get(pk=camera.pk)
    tokens = [live_session_start(camera=facts, viewer=viewer).token for _ in range(count)]
    if not all(tokens):
        raise RuntimeError("the policy refused a live session")
    return tokens


# --- One measured phase -----------------------------------------------------------------------------

def watch(daphne, port, camera, tokens, cookie):
    """Connect one viewer per token, measure WATCH_SECONDS, disconnect. Returns the figures."""
    connections_before, _sent, _open = camera.stats()
    viewers = [Viewer(port, f"/live/{token}/mjpeg", cookie) for token in tokens]
    for viewer in viewers:
        viewer.start()
    time.sleep(SETTLE_SECONDS)
    _c, sent_before, _open = camera.stats()
    frames_before = [viewer.frames for viewer in viewers]
    cpu_before, rss_before = cpu_seconds(daphne.pid), proc_status_kb(daphne.pid, "VmRSS")["VmRSS"]
    time.sleep(WATCH_SECONDS)
    cpu_after, rss_after = cpu_seconds(daphne.pid), proc_status_kb(daphne.pid, "VmRSS")["VmRSS"]
    _c, sent_after, open_streams = camera.stats()
    received = [viewer.frames - before for viewer, before in zip(viewers, frames_before, strict=True)]
    for viewer in viewers:
        viewer.stop()
    connections_after, _sent, _open = camera.stats()
    return {"viewers": len(tokens), "statuses": sorted({viewer.status for viewer in viewers}),
            "upstream": connections_after - connections_before, "open_upstreams": open_streams,
            "cpu": cpu_after - cpu_before, "rss_kib": rss_after, "rss_start_kib": rss_before,
            "sent": sent_after - sent_before, "received": received}


def report(label, figures, baseline_rss_kib):
    sent = figures["sent"]
    received = figures["received"]
    ratios = [count / sent for count in received] if sent else [0.0]
    per_viewer_rss = (figures["rss_kib"] - baseline_rss_kib) * 1024 / MB / figures["viewers"]
    print(f"{label}: HTTP {figures['statuses']}; upstream connections opened {figures['upstream']} "
          f"(open while watching: {figures['open_upstreams']})")
    print(f"  daphne CPU {figures['cpu']:.2f} s over {WATCH_SECONDS:.0f} s ({figures['cpu'] / WATCH_SECONDS:.3f} s/s, "
          f"{figures['cpu'] / WATCH_SECONDS / figures['viewers'] * 1000:.1f} ms/s per viewer); "
          f"VmRSS {figures['rss_kib'] * 1024 / MB:.1f} MB ({per_viewer_rss:+.2f} MB per viewer over daphne "
          f"before any viewer)")
    print(f"  frames: camera sent {sent}; per viewer received min {min(received)}, median "
          f"{statistics.median(received):.0f}, max {max(received)} (delivered/sent min {min(ratios):.2f}, "
          f"median {statistics.median(ratios):.2f})")


def run(temp_dir):
    from django.db import connection, connections

    with connection.cursor() as cursor:
        cursor.execute("SELECT sqlite_version()" if connection.vendor == "sqlite" else "SHOW server_version")
        version = cursor.fetchone()[0]
    print(f"database: {connection.vendor} {version} ({connection.settings_dict['NAME']})")

    camera_server = Camera()
    daphne = None
    log_path = Path(temp_dir) / "daphne.log"
    try:
        print(f"camera: test MJPEG server in its own process, 640×480 JPEG frames of {camera_server.frame_bytes:,} "
              f"bytes at {1 / FRAME_INTERVAL_S:.0f} fps")
        camera, operator = create_camera_and_viewer(camera_server.port)
        cookie = signed_in_cookie(operator)
        baseline_tokens, tokens = start_tokens(camera, operator, 1), start_tokens(camera, operator, VIEWERS)
        warm_up_token = start_tokens(camera, operator, 1)[0]
        connections.close_all()  # daphne has the database to itself while it serves
        port = free_port()
        with open(log_path, "wb") as log:
            daphne = start_daphne(port, log)
            warm_up(port, warm_up_token, cookie)
            idle_rss = proc_status_kb(daphne.pid, "VmRSS")["VmRSS"]
            print(f"daphne warmed up (one viewer came and went), before the runs: VmRSS {idle_rss * 1024 / MB:.1f} MB")
            one = watch(daphne, port, camera_server, baseline_tokens, cookie)
            time.sleep(5)  # the upstream closes a few seconds after the last viewer
            many = watch(daphne, port, camera_server, tokens, cookie)
            time.sleep(5)
            _connections, _sent, still_open = camera_server.stats()
        report("1 viewer (baseline)", one, idle_rss)
        report(f"{VIEWERS} viewers", many, idle_rss)
        median_one = statistics.median(one["received"]) / one["sent"] if one["sent"] else 0
        median_many = statistics.median(many["received"]) / many["sent"] if many["sent"] else 0
        extra_rss = (many["rss_kib"] - one["rss_kib"]) * 1024 / MB / (VIEWERS - 1)
        print(f"ratios, {VIEWERS} viewers / 1 viewer: daphne CPU {many['cpu'] / one['cpu']:.1f}x for "
              f"{VIEWERS}x the viewers; upstream connections {many['upstream']} vs {one['upstream']}; "
              f"median delivered/sent {median_many:.2f} vs {median_one:.2f}; VmRSS {extra_rss:+.2f} MB per "
              f"added viewer")
        print(f"upstream connections still open 5 s after the last viewer left: {still_open}")
        problems = log_path.read_text(errors="replace").count("Traceback")
        if problems:
            print(f"daphne logged {problems} traceback(s)")
        ok = one["upstream"] == 1 and many["upstream"] == 1 and still_open == 0 and many["statuses"] == [200]
        print(f"one upstream connection per camera: {'yes' if ok else 'NO'}")
        return ok
    except BaseException:
        if log_path.exists():
            tail = log_path.read_text(errors="replace").splitlines()[-30:]
            print("daphne's last log lines:\n  " + "\n  ".join(tail))
        raise
    finally:
        stop_process(daphne)
        camera_server.stop()


def main():
    return run_on_throwaway_database("portal-bench-relay-", configure_environment, run)


if __name__ == "__main__":
    sys.exit(main())
