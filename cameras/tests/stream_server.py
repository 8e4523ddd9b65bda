"""Local camera-like servers for tests: real JPEG pictures, MJPEG, HLS playlists, Basic auth, RTSP.

Everything listens on 127.0.0.1 on a free port and stops at fixture teardown. Use the fixtures by
importing them into a test module under their *_fixture names (the fixtures themselves are called
stream_server, tls_stream_server, rtsp_server and rtsp_server_with_auth):

    from cameras.tests.stream_server import stream_server_fixture  # noqa: F401

    def test_something(stream_server, settings):
        settings.STREAM_ALLOWED_NETWORKS = ["127.0.0.1/32"]
        url = stream_server.url("/mjpeg")

Paths of the HTTP server:
    /snapshot.jpg          a 320×240 JPEG picture
    /mjpeg                 multipart/x-mixed-replace, 640×480 frames (a moving box) until the client leaves
    /mjpeg-no-length       the same without part Content-Length, each frame carrying an EXIF thumbnail
    /private.jpg           the snapshot behind Basic auth (viewer / s3cret); also any /private/<path>
    /playlist.m3u8         HLS media playlist with 3 segments
    /master.m3u8           HLS master playlist whose variant is the relative variants/low.m3u8 (4 segments)
    /master-elsewhere.m3u8 master playlist whose variant is on a private network (10.0.0.5)
    /not-an-image.jpg      an HTML page
    /slow-mjpeg            MJPEG headers, then one byte a second forever
    /slow-headers          a status line, then header bytes one a second forever
    /endless-garbage       multipart headers, then 8 MiB of zeros without any picture
    /redirect              302 to /snapshot.jpg
    /segment<n>.ts         an MPEG-TS segment (also under /variants/, /camera-<id>/ and /private/)
    /camera-<id>/index.m3u8  a media gateway's HLS output for a camera (3 segments)
    /live-hls/index.m3u8   a live HLS camera: a sliding window of the last LIVE_HLS_WINDOW segments, a new one
                           every hls_segment_seconds (segment <n> is /live-hls/seg<n>.ts and carries n in bytes 1-4)
    anything else          404

The server counts what the live relay cares about: connections(path) is how many requests
reached path, open_streams(path) how many of its streaming responses are still sending, and
frames_sent the MJPEG frames written (stream_frames: per client port). frame_interval (seconds)
sets the MJPEG frame rate; hls_segments_produced() is how many live HLS segments exist so far.
"""

import base64
import datetime
import io
import re
import socketserver
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image, ImageDraw, ImageFont

HOST = "127.0.0.1"
USERNAME = "viewer"
PASSWORD = "s3cret"
SNAPSHOT_SIZE = (320, 240)
MJPEG_SIZE = (640, 480)
FRAME_INTERVAL_SECONDS = 0.2
FRAME_CYCLE = 50
BOUNDARY = "camera-frame-boundary"
MEDIA_SEGMENTS = 3
VARIANT_SEGMENTS = 4
TARGET_DURATION = 4
GARBAGE_BYTES = 8 * 1024 * 1024
TLS_HOSTNAME = "camera.example"
SEGMENT_PATH = re.compile(r"^(/variants|/camera-\d+)?/segment\d+\.ts$")
GATEWAY_PLAYLIST_PATH = re.compile(r"^/camera-\d+/index\.m3u8$")
LIVE_HLS_SEGMENT = re.compile(r"^/live-hls/seg(\d+)\.ts$")
LIVE_HLS_WINDOW = 4
HLS_SEGMENT_SECONDS = 1.0
# 100 MPEG-TS packets: the sync byte 0x47 and padding.
SEGMENT_BODY = (b"\x47" + b"\xff" * 187) * 100
# How often the servers look for a stop request; short, so that fixtures tear down quickly.
POLL_SECONDS = 0.05


# --- Pictures ------------------------------------------------------------------------------


def render_frame(number=0, size=SNAPSHOT_SIZE):
    """A JPEG test picture: "TEST CAMERA", the frame number, and a box that moves with the number."""
    width, height = size
    image = Image.new("RGB", size, (40, 60, 90))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, height - 30, width, height), fill=(20, 20, 20))
    box = 60
    left = (number * 25) % (width - box)
    top = (height - box) // 2
    draw.rectangle((left, top, left + box, top + box), fill=(230, 180, 40), outline=(255, 255, 255), width=3)
    draw.ellipse((width - 50, 10, width - 10, 50), fill=(200, 30, 30))
    font = ImageFont.load_default()
    draw.text((10, 10), "TEST CAMERA", fill=(255, 255, 255), font=font)
    draw.text((10, height - 22), f"frame {number}", fill=(255, 255, 255), font=font)
    output = io.BytesIO()
    image.save(output, format="JPEG", quality=80)
    return output.getvalue()


def with_exif_thumbnail(jpeg):
    """jpeg with an APP1 (EXIF) segment holding a complete small JPEG, as many cameras send.

    The thumbnail's own end-of-image marker comes first in the file, which trips readers that
    stop at the first FF D9.
    """
    thumbnail = render_frame(0, (32, 24))
    # A minimal little-endian TIFF header with an empty first directory, then the thumbnail.
    payload = b"Exif\x00\x00" + b"II*\x00\x08\x00\x00\x00" + b"\x00\x00" + b"\x00\x00\x00\x00" + thumbnail
    segment = b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload
    return jpeg[:2] + segment + jpeg[2:]


def basic_auth_header(username=USERNAME, password=PASSWORD):
    """The Authorization header value the test servers accept."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def media_playlist(segments):
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{TARGET_DURATION}", "#EXT-X-MEDIA-SEQUENCE:0"]
    for number in range(segments):
        lines += [f"#EXTINF:{TARGET_DURATION}.000,", f"segment{number}.ts"]
    return "\n".join(lines) + "\n"


def live_segment_body(number):
    """An MPEG-TS-like live segment whose bytes 1-4 are its sequence number."""
    return b"\x47" + number.to_bytes(4, "big") + SEGMENT_BODY[5:]


def master_playlist(variant_uri):
    return f"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\n{variant_uri}\n"


# --- HTTP server ---------------------------------------------------------------------------


class _CameraHandler(BaseHTTPRequestHandler):
    """Answers like a network camera. self.server.camera is the StreamServer."""

    server_version = "TestCamera/1.0"

    def log_message(self, format, *args):
        pass  # keep test output clean

    def do_GET(self):
        camera = self.server.camera
        camera.record_request(self.path, dict(self.headers.items()))
        path = self.path.split("?", 1)[0]
        if path == "/private.jpg" or path.startswith("/private/"):
            if self.headers.get("Authorization") != basic_auth_header():
                return self._send(401, "text/plain", b"Unauthorized", {"WWW-Authenticate": 'Basic realm="camera"'})
            path = "/snapshot.jpg" if path == "/private.jpg" else path[len("/private") :]
        route = self._routes().get(path)
        if route is None and SEGMENT_PATH.match(path):
            route = self._send_segment
        if route is None and (live_segment := LIVE_HLS_SEGMENT.match(path)):
            route = lambda: self._send_live_segment(int(live_segment.group(1)))  # noqa: E731
        if route is None and GATEWAY_PLAYLIST_PATH.match(path):
            route = lambda: self._send_playlist(media_playlist(MEDIA_SEGMENTS))  # noqa: E731
        if route is None:
            return self._send(404, "text/plain", b"Not found")
        route()

    def _routes(self):
        return {
            "/snapshot.jpg": lambda: self._send(200, "image/jpeg", render_frame(0, SNAPSHOT_SIZE)),
            "/mjpeg": lambda: self._stream_mjpeg(with_lengths=True),
            "/mjpeg-no-length": lambda: self._stream_mjpeg(with_lengths=False),
            "/playlist.m3u8": lambda: self._send_playlist(media_playlist(MEDIA_SEGMENTS)),
            "/live-hls/index.m3u8": lambda: self._send_playlist(self.server.camera.live_playlist()),
            "/variants/low.m3u8": lambda: self._send_playlist(media_playlist(VARIANT_SEGMENTS)),
            "/master.m3u8": lambda: self._send_playlist(master_playlist("variants/low.m3u8")),
            "/master-elsewhere.m3u8": lambda: self._send_playlist(master_playlist("http://10.0.0.5/live.m3u8")),
            "/not-an-image.jpg": lambda: self._send(200, "text/html", b"<html><body>Camera login</body></html>"),
            "/slow-mjpeg": self._trickle_body,
            "/slow-headers": self._trickle_headers,
            "/endless-garbage": self._send_garbage,
            "/redirect": lambda: self._send(302, "text/plain", b"Moved", {"Location": "/snapshot.jpg"}),
        }

    def _send(self, status, content_type, body, extra_headers=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra_headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _send_segment(self):
        self._send(200, "video/mp2t", SEGMENT_BODY)

    def _send_live_segment(self, number):
        if number >= self.server.camera.hls_segments_produced():
            return self._send(404, "text/plain", b"Not yet")
        self._send(200, "video/mp2t", live_segment_body(number))

    def _send_playlist(self, text):
        self._send(200, "application/vnd.apple.mpegurl", text.encode())

    def _start_multipart(self):
        self.send_response(200)
        self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()

    def _stream_mjpeg(self, with_lengths):
        """Send frames until the client goes away (or the server stops), then record the end."""
        camera = self.server.camera
        self._start_multipart()
        number = 0
        camera.stream_started(self.path)
        try:
            while not camera.stopping.is_set():
                frame = camera.mjpeg_frame(number)
                headers = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                if with_lengths:
                    headers += f"Content-Length: {len(frame)}\r\n"
                else:
                    frame = with_exif_thumbnail(frame)
                self.wfile.write(headers.encode() + b"\r\n" + frame + b"\r\n")
                number += 1
                camera.frame_sent(self.client_address[1])
                camera.stopping.wait(camera.frame_interval)
        except OSError:
            pass  # the client disconnected: what every test client does after one frame
        finally:
            camera.record_stream_end(self.path)

    def _trickle(self, data):
        """Write data one byte a second, forever, until the client or the server gives up."""
        camera = self.server.camera
        try:
            while not camera.stopping.is_set():
                for byte in data:
                    self.wfile.write(bytes([byte]))
                    if camera.stopping.wait(1):
                        return
        except OSError:
            pass
        finally:
            camera.record_stream_end(self.path)

    def _trickle_body(self):
        self._start_multipart()
        self._trickle(f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n\r\n".encode())

    def _trickle_headers(self):
        self.wfile.write(b"HTTP/1.0 200 OK\r\n")
        self._trickle(b"X-Waiting: " + b"z" * 1000)

    def _send_garbage(self):
        self._start_multipart()
        chunk = b"\x00" * (256 * 1024)
        try:
            self.wfile.write(f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n\r\n".encode())
            for _ in range(GARBAGE_BYTES // len(chunk)):
                self.wfile.write(chunk)
        except OSError:
            pass


class _CameraHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # broken connections (e.g. a client refusing the test certificate) are expected


class StreamServer:
    """A camera-like HTTP(S) server on 127.0.0.1 in a background thread."""

    def __init__(self, tls_context=None, frame_interval=FRAME_INTERVAL_SECONDS,
                 hls_segment_seconds=HLS_SEGMENT_SECONDS):
        self.stopping = threading.Event()
        self.frame_interval = frame_interval
        self.hls_segment_seconds = hls_segment_seconds
        self._hls_started = time.monotonic()
        self.frames_sent = 0
        self.stream_frames = {}  # client port -> MJPEG frames sent on that stream
        self.requests = []  # (path, headers) of every request, in order
        self._started = []
        self._ended = []
        self._frames = {}  # pre-rendered MJPEG frames, by number modulo FRAME_CYCLE
        self._condition = threading.Condition()
        self._httpd = _CameraHTTPServer((HOST, 0), _CameraHandler)
        self._httpd.camera = self
        self.scheme = "http"
        if tls_context is not None:
            # The handshake then happens in each request's thread, not in the accepting one.
            self._httpd.socket = tls_context.wrap_socket(
                self._httpd.socket, server_side=True, do_handshake_on_connect=False
            )
            self.scheme = "https"
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": POLL_SECONDS}, name="test-camera", daemon=True
        )

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        """Stop serving; streaming handlers notice the stop flag and end."""
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def url(self, path="/", *, userinfo="", host=HOST):
        """The full address of path, e.g. url("/mjpeg", userinfo="viewer:s3cret")."""
        at = f"{userinfo}@" if userinfo else ""
        return f"{self.scheme}://{at}{host}:{self.port}{path}"

    def record_request(self, path, headers):
        with self._condition:
            self.requests.append((path, headers))

    def record_stream_end(self, path):
        with self._condition:
            self._ended.append(path)
            self._condition.notify_all()

    def stream_started(self, path):
        with self._condition:
            self._started.append(path)

    def frame_sent(self, client_port=None):
        with self._condition:
            self.frames_sent += 1
            if client_port is not None:
                self.stream_frames[client_port] = self.stream_frames.get(client_port, 0) + 1

    def mjpeg_frame(self, number):
        """The MJPEG frame `number`; a cycle of frames is rendered once, so serving costs no CPU."""
        key = number % FRAME_CYCLE
        if key not in self._frames:
            self._frames[key] = render_frame(number, MJPEG_SIZE)
        return self._frames[key]

    def hls_segments_produced(self):
        """How many live HLS segments are complete: one every hls_segment_seconds since the server was made."""
        return int((time.monotonic() - self._hls_started) / self.hls_segment_seconds)

    def live_playlist(self):
        """The live HLS playlist now: the last LIVE_HLS_WINDOW complete segments."""
        produced = self.hls_segments_produced()
        first = max(0, produced - LIVE_HLS_WINDOW)
        duration = self.hls_segment_seconds
        lines = ["#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{max(1, round(duration))}",
                 f"#EXT-X-MEDIA-SEQUENCE:{first}"]
        for number in range(first, produced):
            lines += [f"#EXTINF:{duration:.3f},", f"seg{number}.ts"]
        return "\n".join(lines) + "\n"

    def connections(self, path):
        """How many requests reached path (any query string)."""
        with self._condition:
            return sum(1 for requested, _ in self.requests if requested.split("?", 1)[0] == path)

    def open_streams(self, path):
        """How many streaming responses to path are still sending."""
        with self._condition:
            return self._started.count(path) - self._ended.count(path)

    def wait_for_stream_end(self, path, timeout=3.0):
        """True once a streaming response to path has ended because the client went away."""
        with self._condition:
            return self._condition.wait_for(lambda: path in self._ended, timeout=timeout)

    def paths_requested(self):
        with self._condition:
            return [path for path, _ in self.requests]


@pytest.fixture(name="stream_server")
def stream_server_fixture():
    """A running camera-like HTTP server (see the module docstring for its paths)."""
    server = StreamServer().start()
    yield server
    server.stop()


# The name the fixture is requested by; importing it into a test module works too, but then
# ruff reports the test parameters as redefinitions (F811), so prefer stream_server_fixture.
stream_server = stream_server_fixture


# --- HTTPS ---------------------------------------------------------------------------------


class TestCertificates:
    """A throwaway certificate authority and a server certificate for one host name."""

    __test__ = False  # not a test class, despite the name

    def __init__(self, directory, hostname=TLS_HOSTNAME):
        # Imported here: only the HTTPS fixtures need it (cryptography comes with the project's deps).
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        now = datetime.datetime.now(datetime.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Camera CA")])
        ca_cert = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, content_commitment=False, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                    encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        self.ca_file = directory / "ca.pem"
        self.cert_file = directory / "server.pem"
        self.key_file = directory / "server.key"
        self.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        self.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self.key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )

    def server_context(self):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


@pytest.fixture(name="tls_stream_server")
def tls_stream_server_fixture(tmp_path):
    """The camera server over HTTPS with a certificate for camera.example, signed by .ca_file.

    Clients must resolve camera.example to 127.0.0.1 and trust .ca_file themselves (for example
    SSL_CERT_FILE); the server attribute .certificates holds the files.
    """
    certificates = TestCertificates(tmp_path)
    server = StreamServer(tls_context=certificates.server_context())
    server.certificates = certificates
    server.start()
    yield server
    server.stop()


tls_stream_server = tls_stream_server_fixture


# --- RTSP ----------------------------------------------------------------------------------


class _RtspHandler(socketserver.StreamRequestHandler):
    """Answers RTSP requests on one connection until the client closes it."""

    def handle(self):
        gateway = self.server.gateway
        while not gateway.stopping.is_set():
            head = self._read_head()
            if not head:
                return
            gateway.record_request(head)
            self.wfile.write(gateway.response_to(head))

    def _read_head(self):
        lines = []
        while True:
            line = self.rfile.readline(8192)
            if not line:
                return None
            if line in (b"\r\n", b"\n"):
                return b"".join(lines).decode("utf-8", errors="replace")
            lines.append(line)


class _RtspTCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class RtspServer:
    """A tiny RTSP responder: OPTIONS (or any method) gets 200, or 401 without viewer:s3cret when auth is on."""

    def __init__(self, auth=False):
        self.auth = auth
        self.stopping = threading.Event()
        self.requests = []
        self._lock = threading.Lock()
        self._server = _RtspTCPServer((HOST, 0), _RtspHandler)
        self._server.gateway = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": POLL_SECONDS}, name="test-rtsp", daemon=True
        )

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def url(self, path="/live", *, userinfo=""):
        at = f"{userinfo}@" if userinfo else ""
        return f"rtsp://{at}{HOST}:{self.port}{path}"

    def record_request(self, head):
        with self._lock:
            self.requests.append(head)

    def response_to(self, head):
        """The RTSP response bytes for one request head."""
        headers = {}
        for line in head.splitlines()[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        cseq = headers.get("cseq", "0")
        if self.auth and headers.get("authorization") != basic_auth_header():
            return (
                f'RTSP/1.0 401 Unauthorized\r\nCSeq: {cseq}\r\nWWW-Authenticate: Basic realm="gateway"\r\n\r\n'
            ).encode()
        return f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nPublic: OPTIONS, DESCRIBE\r\n\r\n".encode()


@pytest.fixture(name="rtsp_server")
def rtsp_server_fixture():
    """A running RTSP responder that needs no credentials."""
    server = RtspServer(auth=False).start()
    yield server
    server.stop()


@pytest.fixture(name="rtsp_server_with_auth")
def rtsp_server_with_auth_fixture():
    """A running RTSP responder that answers 401 unless Basic viewer:s3cret is sent."""
    server = RtspServer(auth=True).start()
    yield server
    server.stop()


rtsp_server = rtsp_server_fixture
rtsp_server_with_auth = rtsp_server_with_auth_fixture
