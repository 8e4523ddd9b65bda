"""Benchmark of the live relay: MJPEG and HLS viewers of one camera through daphne, against 1 viewer.

    .venv/bin/python bench/relay.py
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench .venv/bin/python bench/relay.py

A test camera (cameras/tests/stream_server.py) serves 640×480 JPEG frames at 10 fps and a live HLS playlist
(a new 1 s segment every second) from a process of its own; two daphne processes serve the portal; the
viewers are asyncio clients in two processes of their own (so that the viewers' own work does not decide
what they receive). Scenarios, each against a baseline measured in the same run:

  A. MJPEG, one daphne: 1 viewer, then 50;
  B. MJPEG, two daphne processes: 200 viewers, 100 on each;
  C. HLS, two daphne processes: 1 viewer, then 50 (25 on each), polling the playlist and fetching each new
     segment.

Each MJPEG viewer names every frame it receives (the camera's 50 distinct frames, by CRC-32), so a frame the
relay skipped shows up as a gap in the sequence, whatever the timing of the measuring window. It prints the
upstream connections per daphne process (its sockets to the camera, from /proc), the frames delivered
against the frames the camera sent, daphne's CPU seconds and resident memory, and for HLS the segments each
viewer fetched against the segments the camera produced, and the camera's playlist and segment requests.
The database is a throw-away one, as for the other benches (see bench/README.md).
"""

import asyncio
import http.client
import multiprocessing
import os
import re
import statistics
import sys
import threading
import time
import zlib
from pathlib import Path
from urllib.parse import urljoin

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdb import run_on_throwaway_database, throwaway_environment  # noqa: E402
from benchproc import busy_cpus, cpu_seconds, free_port, machine_cpu, proc_status_kb, start_daphne, stop_process  # noqa: E402

VIEWERS = 50
VIEWERS_TWO_PROCESSES = 200
HLS_VIEWERS = 50
VIEWER_PROCESSES = 2
WATCH_SECONDS = 10.0
HLS_WATCH_SECONDS = 12.0
HLS_GRACE_SECONDS = 3.0  # viewers keep polling after the window, to fetch the window's last segments
HLS_POLL_SECONDS = 1.0  # as hls.js reloads a live playlist: about once a target duration
FRAME_INTERVAL_S = 0.1  # 10 fps
HLS_SEGMENT_S = 1.0
FRAME_CYCLE = 50  # the camera's distinct frames (cameras/tests/stream_server.py)
SETTLE_SECONDS = 2.0  # viewers connect and the first frames flow before measuring
CLOSE_SECONDS = 5.0  # the relay closes its upstream 3 s after the last viewer
CLOSE_TIMEOUT_SECONDS = 20.0
CONNECT_TIMEOUT_SECONDS = 20.0
MARKER = b"Content-Type: image/jpeg"
MB = 1_000_000
LIVE_SEGMENT = re.compile(r"^/live-hls/seg(\d+)\.ts$")


def configure_environment(temp_dir):
    """A throw-away database; the camera listens on 127.0.0.1, which the relay otherwise refuses to reach."""
    return throwaway_environment(temp_dir, extra={"FOOTAGE_ROOT": str(Path(temp_dir) / "footage"), "DEBUG": "1",
                                                  "STREAM_ALLOWED_NETWORKS": "127.0.0.1/32"},
                                 unset=("TASKS_SYNC", "TASKS_ON_REDIS", "EMAIL_URL"))

# --- The camera, in a process of its own ----------------------------------------------------------

def camera_process(pipe):
    """Serve MJPEG at 10 fps and live HLS; answer "stats"/"hls", stop on "stop"."""
    sys.path.insert(0, str(BASE_DIR))
    from cameras.tests.stream_server import StreamServer

    server = StreamServer(frame_interval=FRAME_INTERVAL_S, hls_segment_seconds=HLS_SEGMENT_S).start()
    frames = [server.mjpeg_frame(number) for number in range(FRAME_CYCLE)]  # rendered before anyone watches
    pipe.send((server.port, len(frames[0]), [zlib.crc32(frame) for frame in frames]))
    while (command := pipe.recv()) != "stop":
        if command == "stats":
            pipe.send((server.connections("/mjpeg"), server.frames_sent, server.open_streams("/mjpeg")))
        elif command == "progress":
            pipe.send(dict(server.stream_frames))
        elif command == "hls":
            paths = [path.split("?", 1)[0] for path in server.paths_requested()]
            segments = {}
            for path in paths:
                if found := LIVE_SEGMENT.match(path):
                    segments[int(found.group(1))] = segments.get(int(found.group(1)), 0) + 1
            pipe.send((server.hls_segments_produced(), paths.count("/live-hls/index.m3u8"), segments))
    server.stop()


class Camera:
    def __init__(self):
        context = multiprocessing.get_context("spawn")
        self.pipe, child = context.Pipe()
        self.process = context.Process(target=camera_process, args=(child,), daemon=True)
        self.process.start()
        self.port, self.frame_bytes, self.frame_crcs = self.pipe.recv()

    def stats(self):
        """(connections to /mjpeg so far, frames sent so far, MJPEG streams open now)."""
        self.pipe.send("stats")
        return self.pipe.recv()

    def progress(self):
        """{client port: frames sent on that MJPEG stream}."""
        self.pipe.send("progress")
        return self.pipe.recv()

    def hls_stats(self):
        """(segments produced so far, playlist requests so far, {segment number: requests})."""
        self.pipe.send("hls")
        return self.pipe.recv()

    def stop(self):
        self.pipe.send("stop")
        self.process.join(10)


# --- Viewers in a thread (cluster.py; the warm-up) ---------------------------------------------------

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


# --- Viewers in processes of their own (asyncio) ------------------------------------------------------

async def _request(port, path, cookie):
    """An HTTP/1.0 GET (no chunked encoding: the body runs to the end of the connection): (reader, writer, status)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1024 * 1024)
    writer.write(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    return reader, writer, int(head.split(b" ", 2)[1])


class MjpegViewer:
    """Reads the multipart stream part by part; names each frame by its CRC-32 and counts the gaps."""

    def __init__(self, port, path, cookie, crcs):
        self.port, self.path, self.cookie = port, path, cookie
        self.numbers = {crc: number for number, crc in enumerate(crcs)}
        self.status = None
        self.received = self.skipped = self.unknown = self.repeated = 0
        self.last = None  # the number of the newest frame received

    async def run(self):
        writer = None
        try:
            reader, writer, self.status = await _request(self.port, self.path, self.cookie)
            previous = None
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.rpartition(b"Content-Length: ")[2].split(b"\r\n", 1)[0])
                frame = await reader.readexactly(length + 2)
                number = self.numbers.get(zlib.crc32(memoryview(frame)[:-2]))
                self.received += 1
                if number is None:
                    self.unknown += 1
                    continue
                if previous is not None:
                    gap = (number - previous) % FRAME_CYCLE
                    if gap == 0:
                        self.repeated += 1
                    else:
                        self.skipped += gap - 1
                previous = self.last = number
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            if writer is not None:
                writer.close()  # at once, also when cancelled: daphne must see the viewer leave

    def snapshot(self):
        return (self.received, self.skipped, self.unknown, self.repeated, self.last, self.port)


class HlsViewer:
    """Polls the playlist as a player does and fetches every new segment once; checks each segment's number."""

    def __init__(self, port, path, cookie):
        self.port, self.path, self.cookie = port, path, cookie
        self.status = None
        self.fetched = set()
        self.wrong = self.errors = 0
        self.playlists = 0

    async def _get(self, path):
        reader, writer, status = await _request(self.port, path, self.cookie)
        try:
            return status, await reader.read()
        finally:
            writer.close()

    async def run(self):
        newest = None
        while True:
            started = time.monotonic()
            try:
                status, body = await self._get(self.path)
                self.status = self.status or status
                self.playlists += 1
                if status == 200:
                    newest = await self._fetch_new(body.decode(), newest)
                else:
                    self.errors += 1
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
                self.errors += 1
            await asyncio.sleep(max(0.05, HLS_POLL_SECONDS - (time.monotonic() - started)))

    async def _fetch_new(self, text, newest):
        sequence, uris = 0, []
        for line in text.splitlines():
            if line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
                sequence = int(line.partition(":")[2])
            elif line and not line.startswith("#"):
                uris.append(line)
        listed = [(sequence + index, uri) for index, uri in enumerate(uris)]
        if newest is None and listed:
            listed = listed[-1:]  # a player starts at the live edge
        for number, uri in listed:
            if newest is not None and number <= newest:
                continue
            status, body = await self._get(urljoin(self.path, uri))
            if status != 200:
                self.errors += 1
                continue
            if body[1:5] != number.to_bytes(4, "big"):
                self.wrong += 1
            self.fetched.add(number)
            newest = number
        return newest


def viewer_process(pipe):
    """Runs viewers on an event loop; commands come through pipe: ("mjpeg"|"hls", specs, cookie, crcs),
    "snapshot", "cpu", "stop"."""
    async def serve():
        loop = asyncio.get_running_loop()
        viewers, tasks = [], []
        while True:
            command = await loop.run_in_executor(None, pipe.recv)
            if command[0] in ("mjpeg", "hls"):
                kind, specs, cookie, crcs = command
                viewers = [MjpegViewer(port, path, cookie, crcs) if kind == "mjpeg" else HlsViewer(port, path, cookie)
                           for port, path in specs]
                tasks = [loop.create_task(viewer.run()) for viewer in viewers]
                pipe.send("started")
            elif command[0] == "snapshot":
                pipe.send([viewer.snapshot() for viewer in viewers])
            elif command[0] == "hls-results":
                pipe.send([(sorted(viewer.fetched), viewer.wrong, viewer.errors, viewer.playlists)
                           for viewer in viewers])
            elif command[0] == "statuses":
                pipe.send([viewer.status for viewer in viewers])
            elif command[0] == "disconnect":
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                viewers, tasks = [], []
                pipe.send("disconnected")
            elif command[0] == "stop":
                return

    asyncio.run(serve())


class ViewerPool:
    """VIEWER_PROCESSES processes of asyncio viewers."""

    def __init__(self, count=VIEWER_PROCESSES):
        context = multiprocessing.get_context("spawn")
        self.pipes, self.processes = [], []
        for _ in range(count):
            pipe, child = context.Pipe()
            process = context.Process(target=viewer_process, args=(child,), daemon=True)
            process.start()
            self.pipes.append(pipe)
            self.processes.append(process)

    def _ask(self, message, pipes=None):
        pipes = self.pipes if pipes is None else pipes
        for pipe in pipes:
            pipe.send(message)
        return [pipe.recv() for pipe in pipes]

    def start(self, kind, specs, cookie, crcs=()):
        """Spread the (port, path) specs over the processes (all in one when there is one spec)."""
        self.used = self.pipes[:max(1, min(len(self.pipes), len(specs)))]
        for index, pipe in enumerate(self.used):
            pipe.send((kind, specs[index::len(self.used)], cookie, list(crcs)))
        for pipe in self.used:
            pipe.recv()

    def gather(self, command):
        return [item for answer in self._ask((command,), self.used) for item in answer]

    def cpu(self):
        return sum(cpu_seconds(process.pid) for process in self.processes)

    def disconnect(self):
        self._ask(("disconnect",), self.used)

    def stop(self):
        for pipe in self.pipes:
            pipe.send(("stop",))
        for process in self.processes:
            process.join(10)


# --- Measuring daphne -----------------------------------------------------------------------------------

def upstream_sockets(pid, camera_port):
    """How many established TCP connections process pid has to the camera's port (its sockets, /proc/net/tcp)."""
    return len(upstream_ports(pid, camera_port))


def upstream_ports(pid, camera_port):
    """The local ports of process pid's established TCP connections to the camera's port."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    ports = []
    with open("/proc/net/tcp") as table:
        next(table)
        for line in table:
            fields = line.split()
            if fields[3] == "01" and int(fields[2].rsplit(":", 1)[1], 16) == camera_port and fields[9] in inodes:
                ports.append(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def frames_behind(daphnes, camera, snapshots):
    """Per viewer, how many frames its daphne's upstream had received from the camera beyond the newest frame
    the viewer had (frames on their way, not lost); None when that cannot be told."""
    progress = camera.progress()
    newest = {}
    for one in daphnes:
        ports = upstream_ports(one.pid, camera.port)
        if len(ports) == 1 and ports[0] in progress:
            newest[one.port] = (progress[ports[0]] - 1) % FRAME_CYCLE
    return [None if last is None or port not in newest else (newest[port] - last) % FRAME_CYCLE
            for *_counts, last, port in snapshots]


def rss_kib(pid):
    return proc_status_kb(pid, "VmRSS")["VmRSS"]


# --- Data -------------------------------------------------------------------------------------------

def create_camera_and_viewer(camera_port):
    """Business owners (verified, current waiver signed) with an integrated MJPEG camera and an integrated
    HLS camera (both served by the test camera); an operator. Returns (mjpeg camera, HLS camera, operator)."""
    from django.contrib.auth.models import Group

    from portal import roles
    from portal.models import User
    from portal.services import waiver_create, waiver_publish

    supervisor = User.objects.create_user(email="supervisor@police.example.org", full_name="Bench Supervisor",
                                          account_type=User.AccountType.STAFF, is_staff=True)
    draft = waiver_create(audience="business", title="Agreement", body="Voluntary.", actor=supervisor)
    waiver = waiver_publish(waiver=draft, actor=supervisor)
    camera = integrated_camera(camera_port, waiver)
    hls_camera = integrated_camera(camera_port, waiver, kind="hls", path="/live-hls/index.m3u8",
                                   email="hls-shop@example.org", latitude=40.7130, longitude=-74.0062)
    operator = User.objects.create_user(email="operator@police.example.org", full_name="Bench Operator",
                                        account_type=User.AccountType.STAFF, is_staff=True, badge_number="4242")
    operator.groups.add(Group.objects.get(name=roles.OPERATOR))
    return camera, hls_camera, User.objects.get(pk=operator.pk)


def integrated_camera(camera_port, waiver, *, latitude=40.7128, longitude=-74.0060, kind="mjpeg", path="/mjpeg",
                      email="shop@example.org"):
    """An integrated camera (rule "always"; MJPEG unless told) of a business owner who signed `waiver`."""
    from allauth.account.models import EmailAddress

    from cameras.services import camera_register, sharing_rules_update, stream_source_set
    from portal.models import User
    from portal.services import waiver_sign

    owner = User.objects.create_user(email=email, full_name="Bench Owner",
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
    stream_source_set(camera=camera, actor=owner, kind=kind, url=f"http://127.0.0.1:{camera_port}{path}")
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


# --- Measured phases -------------------------------------------------------------------------------

class Daphne:
    def __init__(self, process, port):
        self.process, self.port = process, port

    @property
    def pid(self):
        return self.process.pid


def spread(daphnes, tokens, suffix):
    """(port, path) per token, the tokens dealt to the daphne processes in turn."""
    return [(daphnes[index % len(daphnes)].port, f"/live/{token}/{suffix}") for index, token in enumerate(tokens)]


def measure_start(daphnes, pool):
    return {"cpu": [cpu_seconds(one.pid) for one in daphnes], "viewer_cpu": pool.cpu(), "machine": machine_cpu(),
            "at": time.monotonic()}


def measure_end(daphnes, pool, before):
    return {"cpu": [cpu_seconds(one.pid) - cpu for one, cpu in zip(daphnes, before["cpu"], strict=True)],
            "rss_kib": [rss_kib(one.pid) for one in daphnes], "viewer_cpu": pool.cpu() - before["viewer_cpu"],
            "busy_cpus": busy_cpus(before["machine"], machine_cpu()), "seconds": time.monotonic() - before["at"]}


def watch_mjpeg(daphnes, pool, camera, tokens, cookie):
    """Connect one viewer per token (dealt to the daphne processes), measure WATCH_SECONDS, disconnect."""
    connections_before, _sent, _open = camera.stats()
    started = time.monotonic()
    pool.start("mjpeg", spread(daphnes, tokens, "mjpeg"), cookie, camera.frame_crcs)
    # Measure once every viewer is in: when all have had a frame, SETTLE_SECONDS after the start at the earliest.
    while (not all(snapshot[0] for snapshot in pool.gather("snapshot"))
           and time.monotonic() - started < CONNECT_TIMEOUT_SECONDS):
        time.sleep(0.1)
    all_in = time.monotonic() - started
    time.sleep(max(0.0, SETTLE_SECONDS - all_in))
    _c, sent_before, _open = camera.stats()
    snapshot_before = pool.gather("snapshot")
    before = measure_start(daphnes, pool)
    time.sleep(WATCH_SECONDS)
    figures = measure_end(daphnes, pool, before)
    snapshot_after = pool.gather("snapshot")
    behind = [count for count in frames_behind(daphnes, camera, snapshot_after) if count is not None]
    _c, sent_after, open_streams = camera.stats()
    figures["sockets"] = [upstream_sockets(one.pid, camera.port) for one in daphnes]
    figures["statuses"] = sorted(set(pool.gather("statuses")), key=str)
    pool.disconnect()
    figures["closed_s"] = wait_closed(camera)
    connections_after, _sent, _open = camera.stats()
    deltas = [tuple(after - before for after, before in zip(one[:4], zero[:4], strict=True))
              for one, zero in zip(snapshot_after, snapshot_before, strict=True)]
    figures.update({"viewers": len(tokens), "all_in": all_in, "upstream": connections_after - connections_before,
                    "open_upstreams": open_streams,
                    # The camera counts the frames of all its streams: each process's upstream gets every frame.
                    "sent": round((sent_after - sent_before) / max(1, open_streams)),
                    "received": [delta[0] for delta in deltas], "skipped": [delta[1] for delta in deltas],
                    "unknown": sum(delta[2] for delta in deltas), "repeated": sum(delta[3] for delta in deltas),
                    "behind": behind})
    return figures


def wait_closed(camera):
    """Seconds until the camera has no MJPEG stream open (each process closes its own 3 s after its last viewer),
    or None after CLOSE_TIMEOUT_SECONDS."""
    left = time.monotonic()
    while camera.stats()[2]:
        if time.monotonic() - left > CLOSE_TIMEOUT_SECONDS:
            return None
        time.sleep(0.1)
    return time.monotonic() - left


def watch_hls(daphnes, pool, camera, tokens, cookie):
    """Connect one HLS viewer per token, measure HLS_WATCH_SECONDS of segments, disconnect."""
    pool.start("hls", spread(daphnes, tokens, "hls/index.m3u8"), cookie)
    time.sleep(SETTLE_SECONDS + HLS_POLL_SECONDS)
    produced_before, playlists_before, _segments = camera.hls_stats()
    before = measure_start(daphnes, pool)
    time.sleep(HLS_WATCH_SECONDS)
    figures = measure_end(daphnes, pool, before)
    produced_after, playlists_after, _segments = camera.hls_stats()
    time.sleep(HLS_GRACE_SECONDS)
    results = pool.gather("hls-results")
    figures["statuses"] = sorted(set(pool.gather("statuses")), key=str)
    _p, _l, segments = camera.hls_stats()
    pool.disconnect()
    window = range(produced_before, produced_after)
    processes = min(len(daphnes), len(tokens))
    figures.update({"viewers": len(tokens), "processes": processes, "produced": len(window),
                    "fetched": [len(set(fetched) & set(window)) for fetched, *_rest in results],
                    "wrong": sum(result[1] for result in results), "errors": sum(result[2] for result in results),
                    "playlist_fetches": playlists_after - playlists_before,
                    "segment_fetches": sum(segments.get(number, 0) for number in window)})
    return figures


def _ratio_text(values):
    return f"min {min(values):.3f}, median {statistics.median(values):.3f}"


def delivered(figures):
    """Per viewer: frames received / frames the camera sent in the window, and received / (received + skipped)."""
    sent = figures["sent"] or 1
    by_sent = [count / sent for count in figures["received"]]
    by_sequence = [count / (count + skipped) if count + skipped else 0.0
                   for count, skipped in zip(figures["received"], figures["skipped"], strict=True)]
    return by_sent, by_sequence


def report_resources(figures, idle_rss):
    seconds = figures["seconds"]
    parts = []
    for index, (cpu, rss) in enumerate(zip(figures["cpu"], figures["rss_kib"], strict=True)):
        if cpu > 0.05 or len(figures["cpu"]) == 1:
            parts.append(f"daphne {index + 1}: CPU {cpu:.2f} s ({cpu / seconds:.2f} s/s), "
                         f"VmRSS {rss * 1024 / MB:.1f} MB "
                         f"({(rss - idle_rss[index]) * 1024 / MB:+.1f} MB over idle)")
    print("  " + "; ".join(parts))
    print(f"  viewer processes CPU {figures['viewer_cpu']:.2f} s; the machine's CPUs busy on average "
          f"{figures['busy_cpus']:.2f} of {os.cpu_count()} (everyone's work) over {seconds:.1f} s")


def report_mjpeg(label, figures, idle_rss):
    by_sent, by_sequence = delivered(figures)
    print(f"{label}: HTTP {figures['statuses']}; upstream connections opened {figures['upstream']}; open while "
          f"watching {figures['open_upstreams']} (per daphne process, its sockets to the camera: "
          f"{figures['sockets']})")
    print(f"  every viewer had its first frame {figures['all_in']:.1f} s after the first connected; upstreams "
          + (f"all closed {figures['closed_s']:.1f} s after the last viewer left" if figures["closed_s"] is not None
             else f"NOT all closed {CLOSE_TIMEOUT_SECONDS:.0f} s after the last viewer left"))
    print(f"  frames: camera sent {figures['sent']} per upstream in {WATCH_SECONDS:.0f} s; per viewer received min "
          f"{min(figures['received'])}, median {statistics.median(figures['received']):.0f}, max "
          f"{max(figures['received'])}; skipped by the relay (gaps in the sequence): total {sum(figures['skipped'])}, "
          f"per viewer max {max(figures['skipped'])}; unrecognised {figures['unknown']}, "
          f"repeated {figures['repeated']}")
    behind = figures["behind"]
    lag = (f"median {statistics.median(behind):.0f}, max {max(behind)} ({max(behind) * FRAME_INTERVAL_S:.1f} s)"
           if behind else "not measured")
    print(f"  delivered/sent {_ratio_text(by_sent)}; delivered/(delivered + skipped) {_ratio_text(by_sequence)}; "
          f"frames on their way to a viewer at the window's end (sent, not yet received): {lag}")
    report_resources(figures, idle_rss)


def report_hls(label, figures, idle_rss):
    fetched = figures["fetched"]
    produced = figures["produced"] or 1
    ratios = [count / produced for count in fetched]
    seconds = figures["seconds"]
    print(f"{label}: HTTP {figures['statuses']}; errors {figures['errors']}, segments with the wrong number "
          f"{figures['wrong']}")
    print(f"  segments: camera produced {figures['produced']} in {HLS_WATCH_SECONDS:.0f} s; per viewer fetched min "
          f"{min(fetched)}, median {statistics.median(fetched):.0f}; fetched/produced {_ratio_text(ratios)}")
    print(f"  upstream (the camera's count): {figures['segment_fetches']} segment fetches for "
          f"{figures['produced']} segments on {figures['processes']} daphne process(es) = "
          f"{figures['segment_fetches'] / produced / figures['processes']:.2f} per segment per process; "
          f"{figures['playlist_fetches']} playlist fetches = "
          f"{figures['playlist_fetches'] / seconds / figures['processes']:.2f}/s per process")
    report_resources(figures, idle_rss)


def median_ratio(values):
    return statistics.median(values)


def run(temp_dir):
    from django.db import connection, connections

    with connection.cursor() as cursor:
        cursor.execute("SELECT sqlite_version()" if connection.vendor == "sqlite" else "SHOW server_version")
        version = cursor.fetchone()[0]
    print(f"database: {connection.vendor} {version} ({connection.settings_dict['NAME']})")

    camera_server = Camera()
    pool = ViewerPool()
    daphnes = []
    logs = [Path(temp_dir) / f"daphne-{index + 1}.log" for index in range(2)]
    try:
        print(f"camera: test camera in its own process, MJPEG 640×480 JPEG frames of {camera_server.frame_bytes:,} "
              f"bytes at {1 / FRAME_INTERVAL_S:.0f} fps, live HLS with a {HLS_SEGMENT_S:.0f} s segment every "
              f"{HLS_SEGMENT_S:.0f} s; viewers: asyncio, in {VIEWER_PROCESSES} processes of their own")
        camera, hls_camera, operator = create_camera_and_viewer(camera_server.port)
        cookie = signed_in_cookie(operator)
        one_token, many_tokens = start_tokens(camera, operator, 1), start_tokens(camera, operator, VIEWERS)
        two_process_tokens = start_tokens(camera, operator, VIEWERS_TWO_PROCESSES)
        warm_up_tokens = start_tokens(camera, operator, 2)
        connections.close_all()  # daphne has the database to itself while it serves
        for log_path in logs:
            port = free_port()
            with open(log_path, "wb") as log:
                daphnes.append(Daphne(start_daphne(port, log), port))
        for one, token in zip(daphnes, warm_up_tokens, strict=True):
            warm_up(one.port, token, cookie)
        wait_closed(camera_server)
        idle_rss = [rss_kib(one.pid) for one in daphnes]
        print("daphne processes warmed up (one viewer came and went on each), before the runs: VmRSS "
              + ", ".join(f"{rss * 1024 / MB:.1f} MB" for rss in idle_rss))

        one = watch_mjpeg(daphnes[:1], pool, camera_server, one_token, cookie)
        many = watch_mjpeg(daphnes[:1], pool, camera_server, many_tokens, cookie)
        both = watch_mjpeg(daphnes, pool, camera_server, two_process_tokens, cookie)
        _connections, _sent, still_open = camera_server.stats()
        # HLS sessions end after 30 s without a request: start them just before they are used.
        hls_one, hls_many = start_tokens(hls_camera, operator, 1), start_tokens(hls_camera, operator, HLS_VIEWERS)
        connections.close_all()
        hls_baseline = watch_hls(daphnes, pool, camera_server, hls_one, cookie)
        hls = watch_hls(daphnes, pool, camera_server, hls_many, cookie)

        print()
        report_mjpeg("A. MJPEG, 1 viewer (baseline), one daphne", one, idle_rss)
        report_mjpeg(f"A. MJPEG, {VIEWERS} viewers, one daphne", many, idle_rss)
        report_mjpeg(f"B. MJPEG, {VIEWERS_TWO_PROCESSES} viewers, two daphne processes "
                     f"({VIEWERS_TWO_PROCESSES // 2} each)", both, idle_rss)
        report_hls("C. HLS, 1 viewer (baseline)", hls_baseline, idle_rss)
        report_hls(f"C. HLS, {HLS_VIEWERS} viewers, two daphne processes ({HLS_VIEWERS // 2} each)", hls, idle_rss)

        print()
        baseline = median_ratio(delivered(one)[1])
        for label, figures, scale in ((f"A, {VIEWERS} viewers", many, VIEWERS),
                                      (f"B, {VIEWERS_TWO_PROCESSES} viewers on two processes", both,
                                       VIEWERS_TWO_PROCESSES)):
            print(f"ratios, {label} / 1 viewer: daphne CPU {sum(figures['cpu']) / max(0.01, sum(one['cpu'])):.1f}x for "
                  f"{scale}x the viewers; upstream connections {figures['upstream']} vs {one['upstream']}; "
                  f"delivered/(delivered + skipped) min {min(delivered(figures)[1]):.3f}, median "
                  f"{median_ratio(delivered(figures)[1]):.3f} vs {baseline:.3f}")
        hls_base_ratio = median_ratio([count / (hls_baseline["produced"] or 1) for count in hls_baseline["fetched"]])
        hls_ratios = [count / (hls["produced"] or 1) for count in hls["fetched"]]
        print(f"ratios, C, {HLS_VIEWERS} HLS viewers / 1: daphne CPU "
              f"{sum(hls['cpu']) / max(0.01, sum(hls_baseline['cpu'])):.1f}x for {HLS_VIEWERS}x the viewers; upstream "
              f"segment fetches per segment {hls['segment_fetches'] / (hls['produced'] or 1):.2f} vs "
              f"{hls_baseline['segment_fetches'] / (hls_baseline['produced'] or 1):.2f}; fetched/produced min "
              f"{min(hls_ratios):.3f}, median {median_ratio(hls_ratios):.3f} vs {hls_base_ratio:.3f}")
        print(f"MJPEG upstream connections still open after the runs: {still_open}")
        problems = sum(path.read_text(errors="replace").count("Traceback") for path in logs)
        if problems:
            print(f"daphne logged {problems} traceback(s)")
        one_upstream = (one["upstream"] == 1 and many["upstream"] == 1 and both["upstream"] == 2
                        and both["sockets"] == [1, 1] and still_open == 0
                        and all(figures["closed_s"] is not None for figures in (one, many, both))
                        and many["statuses"] == [200] and both["statuses"] == [200])
        hls_shared = hls["segment_fetches"] <= hls["produced"] * hls["processes"] and hls["statuses"] == [200]
        print(f"one upstream connection per camera per process: {'yes' if one_upstream else 'NO'}; one upstream "
              f"fetch per HLS segment per process: {'yes' if hls_shared else 'NO'}")
        goal = all(min(delivered(figures)[1]) >= 0.99 for figures in (many, both))
        print(f"goal, every MJPEG viewer delivered/(delivered + skipped) >= 0.99: {'met' if goal else 'NOT met'}")
        return one_upstream and hls_shared
    except BaseException:
        for path in logs:
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-30:]
                print(f"{path.name}'s last log lines:\n  " + "\n  ".join(tail))
        raise
    finally:
        for one in daphnes:
            stop_process(one.process)
        pool.stop()
        camera_server.stop()


def main():
    return run_on_throwaway_database("portal-bench-relay-", configure_environment, run)


if __name__ == "__main__":
    sys.exit(main())
