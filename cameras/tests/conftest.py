
import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

# Local camera servers (MJPEG, snapshots, HLS, RTSP) for stream tests, requested by fixture name.
from cameras.tests.stream_server import (  # noqa: F401
    rtsp_server_fixture,
    rtsp_server_with_auth_fixture,
    stream_server_fixture,
    tls_stream_server_fixture,
)

# --- A real RTSP camera (GStreamer's RTSP server, run by the system Python) -----------------

SYSTEM_PYTHON = "/usr/bin/python3"
GST_CAMERA_SCRIPT = Path(__file__).with_name("gst_rtsp_camera.py")
GST_CHECK = ("import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0');"
             "from gi.repository import Gst, GstRtspServer; Gst.init(None);"
             "assert Gst.ElementFactory.find('x264enc') or Gst.ElementFactory.find('openh264enc')")


def _gst_missing():
    """Why the GStreamer camera cannot run here, or "" when it can (CI installs everything it needs)."""
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        return f"{SYSTEM_PYTHON} is missing"
    check = subprocess.run([SYSTEM_PYTHON, "-c", GST_CHECK], capture_output=True, timeout=30)  # noqa: S603
    if check.returncode:
        return ("GStreamer's RTSP server is missing for the system Python (apt-get install python3-gi "
                "gir1.2-gst-rtsp-server-1.0 gstreamer1.0-rtsp gstreamer1.0-plugins-bad)")
    return ""


class GstCamera:
    """A live test-pattern camera at rtsp://127.0.0.1:<port>/cam; counts the clients that connected.

    With certificates (stream_server.TestCertificates) it speaks RTSP over TLS: rtsps://.
    """

    def __init__(self, codec="h264", username="", password="", certificates=None):
        self.codec, self.username, self.password = codec, username, password
        self.certificates = certificates
        self.port = 0
        self.encoder = ""
        self.clients = 0
        self.process = None

    def start(self):
        command = [SYSTEM_PYTHON, str(GST_CAMERA_SCRIPT), "--port", str(self.port), "--codec", self.codec]
        if self.username:
            command += ["--username", self.username, "--password", self.password]
        if self.certificates is not None:
            command += ["--tls-cert", str(self.certificates.cert_file), "--tls-key", str(self.certificates.key_file)]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,  # noqa: S603
                                        stderr=subprocess.DEVNULL, text=True)
        line = self.process.stdout.readline()
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError(f"the GStreamer camera did not start ({line.strip()!r})")
        _word, port, self.encoder = line.split()
        self.port = int(port)
        threading.Thread(target=self._count_clients, args=(self.process,), daemon=True).start()
        return self

    def _count_clients(self, process):
        for line in process.stdout:
            if line.startswith("CLIENT"):
                self.clients += 1

    def url(self, userinfo="", host="127.0.0.1"):
        scheme = "rtsp" if self.certificates is None else "rtsps"
        return f"{scheme}://{userinfo + '@' if userinfo else ''}{host}:{self.port}/cam"

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


@pytest.fixture(scope="session")
def gst_available():
    reason = _gst_missing() if shutil.which(SYSTEM_PYTHON) else f"{SYSTEM_PYTHON} is missing"
    if reason:
        pytest.skip(reason)


@pytest.fixture
def gst_camera(gst_available):
    """Start GStreamer RTSP cameras: gst_camera(codec="h264", username="", password="", certificates=None)."""
    cameras = []

    def start(**options):
        camera = GstCamera(**options).start()
        cameras.append(camera)
        return camera

    yield start
    for camera in cameras:
        camera.stop()


@pytest.fixture(scope="session")
def embedded_relay_server(django_db_setup, django_db_blocker):
    """daphne in a child process serving RTSP cameras on the embedded path, allowed to reach 127.0.0.1."""
    from conftest import RELAY_RECHECK_SECONDS, AsgiServer

    server = AsgiServer(django_db_blocker, STREAM_ALLOWED_NETWORKS=["127.0.0.1/32"],
                        LIVE_RECHECK_SECONDS=RELAY_RECHECK_SECONDS, RTSP_INGEST="embedded",
                        MEDIA_GATEWAY_HLS_URL="")
    yield server
    server.stop()
