"""Server-side "Test connection" for a business's integrated camera stream.

The portal connects to an address typed by a camera owner, so every connection is guarded against
server-side request forgery: the host is resolved once, every resolved address must be public (or
inside settings.STREAM_ALLOWED_NETWORKS), and the connection goes to that already-resolved address
so a second DNS answer cannot redirect it (DNS rebinding). Redirects are never followed. One time
limit (settings.STREAM_TEST_TIMEOUT_SECONDS) bounds the whole test, however slowly a server answers.

Messages are shown to the owner, so they are plain sentences and never repeat the address or the
credentials.
"""

import base64
import io
import ipaddress
import logging
import re
import socket
import ssl
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from http.client import HTTPException, RemoteDisconnected
from urllib.parse import quote, unquote, urljoin, urlsplit

import urllib3
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from PIL import Image
from urllib3.util.ssl_match_hostname import CertificateError

HTTP_SCHEMES = frozenset({"http", "https"})
RTSP_SCHEMES = frozenset({"rtsp", "rtsps"})
DEFAULT_PORTS = {"http": 80, "https": 443, "rtsp": 554, "rtsps": 322}

MJPEG_READ_LIMIT = 5 * 1024 * 1024
SNAPSHOT_READ_LIMIT = 5 * 1024 * 1024
PLAYLIST_READ_LIMIT = 1024 * 1024
RTSP_HEAD_LIMIT = 64 * 1024
READ_CHUNK = 64 * 1024
# Far above any camera (4K is 8.3 MP) yet small enough that decoding one frame stays cheap.
MAX_FRAME_PIXELS = 40_000_000
USER_AGENT = "CommunityCameraPortal-StreamTest/1.0"

JPEG_TYPES = frozenset({"image/jpeg", "image/jpg", "image/pjpeg"})
# Some cameras label snapshots vaguely; the picture is still checked with Pillow.
VAGUE_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# NAT64 gateways translate these IPv6 addresses to the IPv4 address in their last 32 bits.
NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")
# Spaces and control characters could smuggle extra header lines into a request.
UNSAFE_URL_CHARACTERS = re.compile(r"[\x00-\x20\x7f]")
PRINTABLE_ASCII = "".join(chr(code) for code in range(0x21, 0x7F))
MEDIA_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+$")
PART_CONTENT_LENGTH = re.compile(rb"content-length[ \t]*:[ \t]*(\d{1,9})", re.IGNORECASE)
RTSP_STATUS_LINE = re.compile(rb"^RTSP/1\.[01] (\d{3})")


class _HideRequestTargets(logging.Filter):
    """Keeps camera addresses out of urllib3's log.

    urllib3 logs the request path and query when a camera sends malformed headers, and cameras
    often take their password in the query (snapshot.cgi?user=admin&pwd=...).
    """

    def filter(self, record):
        if isinstance(record.msg, str) and record.msg.startswith("Failed to parse headers (url=") and record.args:
            record.args = ("(hidden)", *tuple(record.args)[1:])
        return True


logging.getLogger("urllib3.connection").addFilter(_HideRequestTargets())


class StreamTestError(Exception):
    """A test that failed, with a message for the camera owner.

    For example "The camera did not answer within 5 seconds." The message never contains the
    address's password or the credentials.
    """

    @property
    def message(self):
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class StreamTestResult:
    """What a successful test found. frame_jpeg is one JPEG picture for MJPEG and snapshot sources."""

    ok: bool
    message: str
    frame_jpeg: bytes | None = None
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class _Target:
    """A checked address: where to connect (a pinned IP) and what to tell the server it is."""

    scheme: str
    hostname: str
    port: int
    ip: str
    host_header: str
    request_target: str
    username: str
    password: str


class _Deadline:
    """The one time limit shared by every step of a test."""

    def __init__(self, seconds):
        self.seconds = seconds
        self._expires = time.monotonic() + seconds

    def remaining(self):
        """Seconds left; raises the timeout error once none are."""
        left = self._expires - time.monotonic()
        if left <= 0:
            raise _timeout_error(self.seconds)
        return left


class _Watchdog:
    """Cuts a connection when the deadline passes.

    Socket timeouts apply to each read separately, so a server sending one byte a second would
    never trip them; shutting the socket down from another thread wakes the blocked read at once.
    """

    def __init__(self, sock, seconds):
        self.expired = False
        self._sock = sock
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def _expire(self):
        with self._lock:
            if self._sock is None:
                return
            self.expired = True
            try:
                # The plain socket method, even for TLS: it must not touch the TLS state that the
                # reading thread is using.
                socket.socket.shutdown(self._sock, socket.SHUT_RDWR)
            except OSError:
                pass

    def cancel(self):
        with self._lock:
            self._sock = None
        self._timer.cancel()


# --- Address checks ------------------------------------------------------------------------


def check_url_allowed(url, *, allowed_schemes):
    """Check that url may be tested and return (hostname, port, resolved_ips).

    The scheme must be one of allowed_schemes. The host is resolved once; if any of its addresses
    is loopback, private, link-local, multicast, reserved, unspecified or otherwise not public
    (including IPv4 addresses wrapped in IPv6), the address is refused unless it lies inside one
    of settings.STREAM_ALLOWED_NETWORKS. Connect only to the returned IPs: resolving the name
    again could give a different answer. Raises StreamTestError.
    """
    parts = _split(url, allowed_schemes)
    hostname = _ascii_hostname(parts.hostname)
    port = _port(parts)
    ips = _resolve(hostname, port)
    allowed_networks = _allowed_networks()
    if any(not _address_allowed(ip, allowed_networks) for ip in ips):
        raise StreamTestError(
            _(
                "That address is on a private or reserved network, which the portal is not allowed to reach. "
                "Enter the camera's public address."
            )
        )
    return hostname, port, ips


def _split(url, allowed_schemes):
    url = (url or "").strip()
    if UNSAFE_URL_CHARACTERS.search(url):
        raise StreamTestError(_("The address contains spaces or other characters that are not allowed."))
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise StreamTestError(_("That is not a valid address.")) from exc
    if parts.scheme.lower() not in allowed_schemes:
        schemes = " ".join(f"{scheme}://" for scheme in sorted(allowed_schemes))
        raise StreamTestError(_("The address must start with one of: %(schemes)s") % {"schemes": schemes})
    if not parts.hostname:
        raise StreamTestError(_("Enter a full address, including the camera's host name or IP address."))
    return parts


def _ascii_hostname(hostname):
    """The host name as sent on the wire (IDNA for international names)."""
    if hostname.isascii():
        return hostname
    try:
        return hostname.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise StreamTestError(_("The host name in the address is not valid.")) from exc


def _port(parts):
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port is None:
        return DEFAULT_PORTS[parts.scheme.lower()]
    if not 0 < port < 65536:
        raise StreamTestError(_("The port number in the address is not valid."))
    return port


def _resolve(hostname, port):
    """The host's addresses, in the resolver's order of preference, without duplicates."""
    try:
        # An IP literal needs no lookup, so it is judged even where the resolver could not handle it.
        return [str(ipaddress.ip_address(hostname))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise StreamTestError(
            _("The camera's host name could not be found. Check the spelling of the address.")
        ) from exc
    ips = list(dict.fromkeys(info[4][0] for info in infos if info[0] in (socket.AF_INET, socket.AF_INET6)))
    if not ips:
        raise StreamTestError(_("The camera's host name could not be found. Check the spelling of the address."))
    return ips


def _allowed_networks():
    networks = []
    for cidr in getattr(settings, "STREAM_ALLOWED_NETWORKS", []) or []:
        try:
            networks.append(ipaddress.ip_network(cidr.strip(), strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(f"STREAM_ALLOWED_NETWORKS: {cidr!r} is not a network") from exc
    return networks


def _address_allowed(ip_text, allowed_networks):
    # A zone index ("fe80::1%eth0") says which interface, not which address.
    ip = ipaddress.ip_address(ip_text.split("%", 1)[0])
    if any(ip.version == network.version and ip in network for network in allowed_networks):
        return True
    return _is_public(ip)


def _is_public(ip):
    if ip.version == 6:
        for embedded in _embedded_ipv4(ip):
            if not _is_public(embedded):
                return False
    flags = (ip.is_loopback, ip.is_private, ip.is_link_local, ip.is_multicast, ip.is_reserved, ip.is_unspecified)
    # is_global also rules out ranges the flags miss, such as carrier-grade NAT (100.64.0.0/10).
    return ip.is_global and not any(flags)


def _embedded_ipv4(ip):
    """IPv4 addresses that an IPv6 address leads to (mapped, 6to4, NAT64)."""
    candidates = [ip.ipv4_mapped, ip.sixtofour]
    if ip in NAT64_PREFIX:
        candidates.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return [candidate for candidate in candidates if candidate is not None]


def _target(url, username, password, allowed_schemes):
    """Check url and gather everything needed to connect to it safely."""
    hostname, port, ips = check_url_allowed(url, allowed_schemes=allowed_schemes)
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if not (username or password):
        # Credentials typed into the address move to the Authorization header.
        username, password = unquote(parts.username or ""), unquote(parts.password or "")
    host = f"[{hostname}]" if ":" in hostname else hostname
    host_header = host if port == DEFAULT_PORTS[scheme] else f"{host}:{port}"
    # Non-ASCII characters are percent-encoded; everything else is kept as typed.
    request_target = quote(parts.path or "/", safe=PRINTABLE_ASCII)
    if parts.query:
        request_target += "?" + quote(parts.query, safe=PRINTABLE_ASCII)
    return _Target(scheme, hostname, port, ips[0], host_header, request_target, username, password)


def _basic_auth(username, password):
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


# --- Messages ------------------------------------------------------------------------------


def _timeout_error(seconds):
    return StreamTestError(
        ngettext(
            "The camera did not answer within %(seconds)s second.",
            "The camera did not answer within %(seconds)s seconds.",
            seconds,
        )
        % {"seconds": seconds}
    )


def _refused_credentials_error(target, device):
    if target.username or target.password:
        if device == "gateway":
            return StreamTestError(_("The media gateway refused the user name or password."))
        return StreamTestError(_("The camera refused the user name or password."))
    if device == "gateway":
        return StreamTestError(_("The media gateway asks for a user name and password."))
    return StreamTestError(_("The camera asks for a user name and password."))


def _connection_error(exc, seconds):
    """A plain explanation of a failed connection (the exception's own text may name the address)."""
    causes = _causes(exc)
    if any(isinstance(cause, TimeoutError) for cause in causes):
        return _timeout_error(seconds)
    # urllib3 checks the host name itself (CertificateError); OpenSSL checks the chain of trust.
    if any(isinstance(cause, (ssl.SSLCertVerificationError, CertificateError)) for cause in causes):
        return StreamTestError(_("The camera's security certificate could not be verified for this address."))
    if any(isinstance(cause, ssl.SSLError) for cause in causes):
        return StreamTestError(_("A secure connection to the camera could not be set up."))
    if any(isinstance(cause, ConnectionRefusedError) for cause in causes):
        return StreamTestError(_("The camera refused the connection. Check the address and the port number."))
    if any(isinstance(cause, RemoteDisconnected) for cause in causes):
        return StreamTestError(_("The camera closed the connection without answering."))
    if any(isinstance(cause, HTTPException) for cause in causes):
        return StreamTestError(_("The camera's answer was not valid HTTP."))
    return StreamTestError(_("Could not connect to the camera. Check the address and that the camera is online."))


def _causes(exc):
    seen = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def _media_type(response):
    return response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()


def _shown_type(media_type):
    # The server chooses this text; show it only when it looks like a media type.
    return media_type if MEDIA_TYPE.match(media_type) else _("an unknown type")


# --- HTTP ----------------------------------------------------------------------------------


@contextmanager
def _http_get(url, username, password, deadline):
    """GET url through a pinned connection and yield the unread urllib3 response.

    Any status other than 2xx becomes a StreamTestError. The connection is closed on leaving.
    """
    target = _target(url, username, password, HTTP_SCHEMES)
    connection = _connection(target, deadline.remaining())
    watchdog = response = None
    try:
        connection.connect()
        watchdog = _Watchdog(connection.sock, deadline.remaining())
        connection.request(
            "GET", target.request_target, headers=_headers(target), preload_content=False, decode_content=False
        )
        response = connection.getresponse()
        _check_status(response.status, target)
        yield response
    except StreamTestError:
        # Once the watchdog has cut the connection, whatever broke next is the time limit's doing.
        if watchdog is not None and watchdog.expired:
            raise _timeout_error(deadline.seconds) from None
        raise
    except (OSError, HTTPException, urllib3.exceptions.HTTPError, CertificateError) as exc:
        if watchdog is not None and watchdog.expired:
            raise _timeout_error(deadline.seconds) from exc
        raise _connection_error(exc, deadline.seconds) from exc
    finally:
        if watchdog is not None:
            watchdog.cancel()
        # The response holds its own file on the socket; both must go for the socket to close.
        if response is not None:
            response.close()
        connection.close()


def _connection(target, timeout):
    """A connection to the pinned IP that still names the original host (Host header, SNI, certificate)."""
    if target.scheme == "https":
        return urllib3.connection.HTTPSConnection(
            target.ip,
            target.port,
            timeout=timeout,
            server_hostname=target.hostname,
            assert_hostname=target.hostname,
            cert_reqs="CERT_REQUIRED",
        )
    return urllib3.connection.HTTPConnection(target.ip, target.port, timeout=timeout)


def _headers(target):
    headers = {
        "Host": target.host_header,
        "User-Agent": USER_AGENT,
        "Accept": "*/*",
        "Accept-Encoding": "identity",
        "Connection": "close",
    }
    if target.username or target.password:
        headers["Authorization"] = _basic_auth(target.username, target.password)
    return headers


def _check_status(status, target):
    if 200 <= status < 300:
        return
    if status in REDIRECT_STATUSES:
        raise StreamTestError(_("The camera redirected to another address; enter the final address."))
    if status in (401, 403):
        raise _refused_credentials_error(target, "camera")
    raise StreamTestError(_("The camera answered with HTTP status %(status)s.") % {"status": status})


def _read_body(response, limit):
    """The whole body, refusing more than limit bytes."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large_error(limit)
    body = bytearray()
    while chunk := response.read1(READ_CHUNK, decode_content=False):
        body += chunk
        if len(body) > limit:
            raise _too_large_error(limit)
    return bytes(body)


def _too_large_error(limit):
    return StreamTestError(
        _("The camera sent more than %(megabytes)s MB, more than a test allows.") % {"megabytes": limit // 2**20}
    )


# --- JPEG ----------------------------------------------------------------------------------


def inspect_jpeg(data):
    """(width, height) of a JPEG picture, after checking with Pillow that it really decodes."""
    try:
        with Image.open(io.BytesIO(data), formats=["JPEG"]) as image:
            width, height = image.size
            image.verify()
        if width * height > MAX_FRAME_PIXELS:
            raise StreamTestError(_("The camera's picture is too large to check."))
        with Image.open(io.BytesIO(data), formats=["JPEG"]) as image:
            # Decoding at 1/8 scale still reads every byte of the picture but costs little.
            image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
            image.load()
    except Image.DecompressionBombError as exc:
        raise StreamTestError(_("The camera's picture is too large to check.")) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise StreamTestError(_("The camera sent something that is not a valid JPEG picture.")) from exc
    return width, height


class _FrameFinder:
    """Finds the first complete JPEG in the bytes of an MJPEG stream as they arrive.

    The part's Content-Length, when the camera sends one, marks the frame's end. Otherwise the JPEG
    marker segments are walked: searching for the first end-of-image marker (FF D9) would stop at
    the end of a thumbnail embedded in the EXIF segment. Parsing resumes where it stopped, so each
    byte is looked at once however the stream is split (a hostile stream cannot make it quadratic).
    """

    def __init__(self):
        self.buffer = bytearray()
        self._start = None  # index of the frame's start-of-image marker
        self._length = None  # the part's declared length
        self._position = 0  # where parsing resumes
        self._in_scan = False  # inside entropy-coded data

    def feed(self, chunk):
        """Add chunk; return the complete frame once there is one, else None."""
        self.buffer += chunk
        if self._start is None and not self._find_start():
            return None
        if self._length is not None:
            end = self._start + self._length
            return bytes(self.buffer[self._start : end]) if len(self.buffer) >= end else None
        end = self._walk()
        return bytes(self.buffer[self._start : end]) if end is not None else None

    def rest(self, frame):
        """The bytes after `frame`, just returned by feed(): the start of the stream's next part."""
        return bytes(self.buffer[self._start + len(frame) :])

    def _find_start(self):
        start = self.buffer.find(b"\xff\xd8\xff", max(0, self._position - 2))
        if start < 0:
            self._position = len(self.buffer)
            return False
        self._start, self._position = start, start + 2
        lengths = PART_CONTENT_LENGTH.findall(self.buffer[max(0, start - 1024) : start])
        if lengths and 0 < int(lengths[-1]) <= MJPEG_READ_LIMIT:
            self._length = int(lengths[-1])
        return True

    def _walk(self):
        """Index just past the end-of-image marker, or None (remembering where to resume)."""
        buffer, position = self.buffer, self._position
        while True:
            if self._in_scan:
                position = self._scan_entropy_data(position)
                if self._in_scan:
                    self._position = position
                    return None
            if position + 4 > len(buffer):
                # Every marker but the last needs four bytes; FF D9 needs two.
                if buffer[position : position + 2] == b"\xff\xd9":
                    return position + 2
                self._position = position
                return None
            if buffer[position] != 0xFF:
                raise StreamTestError(_("The camera sent something that is not a valid JPEG picture."))
            marker = buffer[position + 1]
            if marker == 0xFF:  # fill byte before a marker
                position += 1
            elif marker == 0xD9:  # end of image
                return position + 2
            elif 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
                position += 2
            else:
                length = int.from_bytes(buffer[position + 2 : position + 4], "big")
                if length < 2:
                    raise StreamTestError(_("The camera sent something that is not a valid JPEG picture."))
                position += 2 + length
                # After a start-of-scan header, entropy-coded data runs to the next real marker.
                self._in_scan = marker == 0xDA

    def _scan_entropy_data(self, position):
        """Position of the marker ending the entropy-coded data, or where to resume looking."""
        buffer = self.buffer
        while position < len(buffer):
            found = buffer.find(b"\xff", position)
            if found < 0 or found + 1 >= len(buffer):
                return len(buffer) if found < 0 else found
            following = buffer[found + 1]
            # FF 00 is an escaped data byte, FF D0-D7 restart markers inside the data, FF FF padding.
            if following == 0x00 or 0xD0 <= following <= 0xD7:
                position = found + 2
            elif following == 0xFF:
                position = found + 1
            else:
                self._in_scan = False
                return found
        return position


# --- Kinds ---------------------------------------------------------------------------------


def test_stream(kind, url, username="", password=""):
    """Connect to a camera source once and report what came back.

    kind is "mjpeg", "snapshot", "hls" or "rtsp". username and password, when given, are sent as
    Basic authentication; otherwise credentials written in the address (http://user:pass@host/)
    are. Returns a StreamTestResult; raises StreamTestError with a message for the owner.
    """
    testers = {"mjpeg": _test_mjpeg, "snapshot": _test_snapshot, "hls": _test_hls, "rtsp": _test_rtsp}
    if kind not in testers:
        raise StreamTestError(_("Choose what kind of stream this is."))
    deadline = _Deadline(max(1, int(getattr(settings, "STREAM_TEST_TIMEOUT_SECONDS", 5))))
    return testers[kind](url, username or "", password or "", deadline)


# Pytest would otherwise collect the function above as a test wherever it is imported.
test_stream.__test__ = False


def _test_snapshot(url, username, password, deadline):
    with _http_get(url, username, password, deadline) as response:
        media_type = _media_type(response)
        if media_type not in JPEG_TYPES and media_type not in VAGUE_TYPES:
            raise StreamTestError(
                _("The address did not return a JPEG picture (it sent %(type)s).") % {"type": _shown_type(media_type)}
            )
        data = _read_body(response, SNAPSHOT_READ_LIMIT)
    width, height = inspect_jpeg(data)
    message = _("Received a %(width)s×%(height)s JPEG picture.") % {"width": width, "height": height}
    return StreamTestResult(ok=True, message=message, frame_jpeg=data, width=width, height=height)


def _test_mjpeg(url, username, password, deadline):
    with _http_get(url, username, password, deadline) as response:
        media_type = _media_type(response)
        if media_type in JPEG_TYPES:
            raise StreamTestError(
                _("This address gives a single picture, not a moving stream. Choose “JPEG snapshot URL” instead.")
            )
        if not media_type.startswith("multipart/"):
            raise StreamTestError(
                _("The address did not return an MJPEG stream (it sent %(type)s).") % {"type": _shown_type(media_type)}
            )
        frame = _read_first_frame(response)
    # Leaving the block above closed the connection: one frame is all a test needs.
    width, height = inspect_jpeg(frame)
    message = _("Received a %(width)s×%(height)s JPEG frame from the stream.") % {"width": width, "height": height}
    return StreamTestResult(ok=True, message=message, frame_jpeg=frame, width=width, height=height)


def _read_first_frame(response):
    finder = _FrameFinder()
    frame = None
    while frame is None:
        if len(finder.buffer) >= MJPEG_READ_LIMIT:
            raise StreamTestError(
                _("The stream sent %(megabytes)s MB without a complete picture.")
                % {"megabytes": MJPEG_READ_LIMIT // 2**20}
            )
        chunk = response.read1(min(READ_CHUNK, MJPEG_READ_LIMIT - len(finder.buffer)), decode_content=False)
        if not chunk:
            raise StreamTestError(_("The stream ended before a complete picture arrived."))
        frame = finder.feed(chunk)
    return frame


def _test_hls(url, username, password, deadline):
    text = _fetch_playlist(url, username, password, deadline)
    if "#EXT-X-STREAM-INF" not in text:
        segments, target_duration = _media_playlist_summary(text)
        message = _hls_message(segments, target_duration)
        return StreamTestResult(ok=True, message=message, frame_jpeg=None, width=None, height=None)
    variant_url = urljoin(url.strip(), _first_variant(text))
    if not _same_origin(url, variant_url):
        # Credentials belong to the camera's own server, not to whatever host the playlist names.
        username = password = ""
    variant_text = _fetch_playlist(variant_url, username, password, deadline)
    if "#EXT-X-STREAM-INF" in variant_text:
        raise StreamTestError(_("The playlist's first variant is itself a list of variants; enter a direct playlist."))
    segments, target_duration = _media_playlist_summary(variant_text)
    message = _("Master playlist. Its first variant: %(summary)s") % {
        "summary": _hls_message(segments, target_duration)
    }
    return StreamTestResult(ok=True, message=message, frame_jpeg=None, width=None, height=None)


def _fetch_playlist(url, username, password, deadline):
    with _http_get(url, username, password, deadline) as response:
        body = _read_body(response, PLAYLIST_READ_LIMIT)
    text = body.decode("utf-8", errors="replace").lstrip("\ufeff")
    if not text.startswith("#EXTM3U"):
        raise StreamTestError(_("The address did not return an HLS playlist (it should start with #EXTM3U)."))
    return text


def _first_variant(text):
    lines = [line.strip() for line in text.splitlines()]
    for index, line in enumerate(lines):
        if line.startswith("#EXT-X-STREAM-INF"):
            for candidate in lines[index + 1 :]:
                if candidate and not candidate.startswith("#"):
                    return candidate
    raise StreamTestError(_("The master playlist does not name any variant playlist."))


def _media_playlist_summary(text):
    """(number of segments, target duration in seconds or None) of a media playlist."""
    segments = 0
    target_duration = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#EXTINF"):
            segments += 1
        elif line.startswith("#EXT-X-TARGETDURATION:"):
            value = line.partition(":")[2].strip()
            target_duration = int(value) if value.isdigit() else None
    if not segments:
        raise StreamTestError(_("The playlist does not list any video segments yet."))
    return segments, target_duration


def _hls_message(segments, target_duration):
    if target_duration is None:
        return ngettext(
            "HLS playlist with %(segments)s segment.", "HLS playlist with %(segments)s segments.", segments
        ) % {"segments": segments}
    return ngettext(
        "HLS playlist with %(segments)s segment of up to %(target)s seconds.",
        "HLS playlist with %(segments)s segments of up to %(target)s seconds each.",
        segments,
    ) % {"segments": segments, "target": target_duration}


def _same_origin(first, second):
    a, b = urlsplit(first.strip()), urlsplit(second.strip())
    return (a.scheme.lower(), a.hostname, _port(a)) == (b.scheme.lower(), b.hostname, _port(b))


# --- RTSP ----------------------------------------------------------------------------------


def _test_rtsp(url, username, password, deadline):
    from cameras.relay import rtsp_ingest_mode

    # On the embedded path (RTSP_INGEST) the owner gives the camera's own address, not a gateway's.
    device = "gateway" if rtsp_ingest_mode() == "gateway" else "camera"
    target = _target(url, username, password, RTSP_SCHEMES)
    head = _rtsp_options(target, deadline)
    match = RTSP_STATUS_LINE.match(head)
    if match is None:
        if device == "camera":
            raise StreamTestError(_("The address did not answer as an RTSP camera."))
        raise StreamTestError(_("The address did not answer as an RTSP media gateway."))
    status = int(match.group(1))
    if status in (401, 403):
        raise _refused_credentials_error(target, device)
    if status != 200:
        if device == "camera":
            raise StreamTestError(_("The camera answered with RTSP status %(status)s.") % {"status": status})
        raise StreamTestError(_("The media gateway answered with RTSP status %(status)s.") % {"status": status})
    if device == "camera":
        message = _("The camera answered the RTSP request.")
    else:
        message = _("The media gateway answered the RTSP request.")
    return StreamTestResult(ok=True, message=message, frame_jpeg=None, width=None, height=None)


def _rtsp_options(target, deadline):
    """Send OPTIONS to the pinned address and return the response head (status line and headers)."""
    lines = [
        f"OPTIONS {target.scheme}://{target.host_header}{target.request_target} RTSP/1.0",
        "CSeq: 1",
        f"User-Agent: {USER_AGENT}",
    ]
    if target.username or target.password:
        lines.append(f"Authorization: {_basic_auth(target.username, target.password)}")
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")
    try:
        with socket.create_connection((target.ip, target.port), timeout=deadline.remaining()) as sock:
            if target.scheme == "rtsps":
                # RTSP over TLS: the certificate must be trusted and name the host, as for https.
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=target.hostname)
            with sock:
                sock.sendall(request)
                return _read_rtsp_head(sock, deadline)
    except StreamTestError:
        raise
    except OSError as exc:
        raise _connection_error(exc, deadline.seconds) from exc


def _read_rtsp_head(sock, deadline):
    head = bytearray()
    while b"\r\n\r\n" not in head:
        if len(head) > RTSP_HEAD_LIMIT:
            raise StreamTestError(_("The address did not answer as an RTSP media gateway."))
        # Each wait is cut to the time left, so the total never exceeds the limit.
        sock.settimeout(deadline.remaining())
        chunk = sock.recv(4096)
        if not chunk:
            break
        head += chunk
    return bytes(head)
