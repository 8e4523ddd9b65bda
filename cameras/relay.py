"""The live relay: one upstream connection per camera per server process, however many viewers.

Each daphne process keeps a Hub (one per event loop). For MJPEG and JPEG-snapshot cameras a
FrameChannel runs the upstream in a thread of its own (blocking reads never touch the event loop)
and hands each complete frame to the loop; each streaming viewer has a short queue of its own
(VIEWER_QUEUE_FRAMES), so a viewer that keeps up gets every frame even when it is busy for a moment
(e.g. the policy recheck), and one that truly falls behind loses its oldest frames, counted, instead
of holding up the others or queueing without end. The queues share the frames' bytes. For HLS (and
RTSP, through the media gateway's HLS output) an HlsChannel fetches each playlist at most once per
target duration and each segment once, sharing fetches in flight and keeping a small segment cache;
every URI in a playlist is rewritten to an opaque portal URL carrying the viewer's token.

The upstream is reached as "Test connection" reaches it (cameras/streams.py): the host is resolved
once, every address must be public or in STREAM_ALLOWED_NETWORKS, and the connection goes to the
pinned address. Only the city's media gateway (MEDIA_GATEWAY_HLS_URL) is trusted on any network.
RTSP cameras on the embedded path (RTSP_INGEST, cameras/rtsp_ingest.py) get an IngestChannel instead,
which reads the camera with PyAV and makes the HLS itself. Upstreams stop LINGER_SECONDS after the
last viewer leaves and reconnect with back-off when the camera drops. Nothing here logs, raises or
returns a camera's address or credentials.
"""

import asyncio
import hashlib
import logging
import re
import socket
import threading
import time
import weakref
from collections import Counter, OrderedDict, deque
from dataclasses import dataclass, field
from http.client import HTTPException
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

import urllib3
from cryptography.fernet import InvalidToken
from django.conf import settings

from cameras import crypto
from cameras.streams import (
    DEFAULT_PORTS,
    HTTP_SCHEMES,
    MJPEG_READ_LIMIT,
    PLAYLIST_READ_LIMIT,
    PRINTABLE_ASCII,
    READ_CHUNK,
    SNAPSHOT_READ_LIMIT,
    StreamTestError,
    _ascii_hostname,
    _check_status,
    _connection,
    _Deadline,
    _FrameFinder,
    _headers,
    _port,
    _read_body,
    _resolve,
    _split,
    _Target,
    _target,
    _Watchdog,
)

logger = logging.getLogger(__name__)

LINGER_SECONDS = 3.0
TIMEOUT_SECONDS = 10
BACKOFF_MAX_SECONDS = 15
# An upstream that streamed this long before it dropped starts its back-off from 1 s again; one that keeps
# hanging up sooner is retried more and more slowly.
STEADY_SECONDS = 10
FRAME_MAX_AGE_SECONDS = 15
# Frames a streaming viewer may be behind before it loses the oldest: 2 s at 10 fps. Memory stays bounded:
# every queue holds the newest frames of the same camera, so all of them together hold at most this many.
VIEWER_QUEUE_FRAMES = 20
SEGMENT_READ_LIMIT = 32 * 1024 * 1024
SEGMENT_CACHE_ITEMS = 24
MASTER_PLAYLIST_TTL_SECONDS = 30
SEGMENT_TYPES = frozenset({"video/mp2t", "video/mp4", "video/iso.segment", "audio/mp4", "audio/aac",
                           "audio/mpeg", "application/octet-stream", "binary/octet-stream"})
URI_ATTRIBUTE = re.compile(r'URI="([^"]*)"')
# Tags whose URI names another playlist rather than media.
PLAYLIST_URI_TAGS = ("#EXT-X-MEDIA:", "#EXT-X-I-FRAME-STREAM-INF:", "#EXT-X-RENDITION-REPORT:")


class RelayError(Exception):
    """The camera could not be reached or sent something unusable. The message is safe to show."""


@dataclass(frozen=True)
class Upstream:
    """Where a camera's picture comes from. Its repr hides everything secret."""

    camera_id: int
    kind: str
    url: str = field(repr=False)
    username: str = field(default="", repr=False)
    password: str = field(default="", repr=False)
    gateway: bool = False

    @property
    def fingerprint(self):
        """Changes when the address or credentials change, so a new source gets a new channel."""
        material = f"{self.kind}\n{self.url}\n{self.username}\n{self.password}".encode()
        return hashlib.sha256(material).hexdigest()[:16]


def upstream_for_camera(camera_id):
    """The camera's source, decrypted (synchronous: reads the database)."""
    from cameras.models import StreamSource

    source = StreamSource.objects.filter(camera_id=camera_id).first()
    if source is None:
        return None
    if source.kind == StreamSource.Kind.RTSP and rtsp_ingest_mode() == "gateway":
        url = settings.MEDIA_GATEWAY_HLS_URL.format(path=gateway_path(camera_id))
        return Upstream(camera_id, source.kind, url, gateway=True)
    return Upstream(camera_id, source.kind, crypto.decrypt(source.encrypted_url),
                    crypto.decrypt(source.encrypted_username), crypto.decrypt(source.encrypted_password))


# While an upstream is down and being reconnected, this cache key says so, for the viewers' status poll
# (which may reach another server process than their stream: the cache is shared). It expires on its own
# if the process that set it goes away.
UPSTREAM_DOWN_KEY = "live-relay-upstream-down:{camera_id}"
UPSTREAM_DOWN_TTL_SECONDS = 2 * BACKOFF_MAX_SECONDS + TIMEOUT_SECONDS


def camera_state(camera_id):
    """ "reconnecting" while this camera's relay upstream is down and being retried, else "live"."""
    from django.core.cache import cache

    return "reconnecting" if cache.get(UPSTREAM_DOWN_KEY.format(camera_id=camera_id)) else "live"


class UpstreamMark:
    """Records in the cache whether one camera's upstream is down (called from its upstream thread)."""

    def __init__(self, camera_id):
        self.key = UPSTREAM_DOWN_KEY.format(camera_id=camera_id)
        self.down = False

    def set_down(self):
        from django.core.cache import cache

        cache.set(self.key, time.time(), UPSTREAM_DOWN_TTL_SECONDS)  # again on each failed attempt: kept fresh
        self.down = True

    def set_up(self):
        from django.core.cache import cache

        if self.down:
            cache.delete(self.key)
            self.down = False


def rtsp_ingest_mode():
    """ "embedded" (the portal reads RTSP itself, cameras/rtsp_ingest.py) or "gateway" (MediaMTX)."""
    mode = settings.RTSP_INGEST
    if mode == "auto":
        return "gateway" if settings.MEDIA_GATEWAY_HLS_URL else "embedded"
    return mode


def gateway_path(camera_id):
    """The media gateway's path for a camera: "camera-<id>"."""
    return f"camera-{camera_id}"


# --- Pinned HTTP fetches ------------------------------------------------------------------


def _origin(url):
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or DEFAULT_PORTS.get(scheme)
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port


def _gateway_origin():
    template = settings.MEDIA_GATEWAY_HLS_URL
    return _origin(template.format(path="x")) if template else None


def _trusted_target(url):
    """A pinned target for the city's own media gateway, which may sit on a private network."""
    parts = _split(url, HTTP_SCHEMES)
    hostname, port = _ascii_hostname(parts.hostname), _port(parts)
    ip = _resolve(hostname, port)[0]
    scheme = parts.scheme.lower()
    host = f"[{hostname}]" if ":" in hostname else hostname
    host_header = host if port == DEFAULT_PORTS[scheme] else f"{host}:{port}"
    request_target = quote(parts.path or "/", safe=PRINTABLE_ASCII)
    if parts.query:
        request_target += "?" + quote(parts.query, safe=PRINTABLE_ASCII)
    return _Target(scheme, hostname, port, ip, host_header, request_target, "", "")


def _with_token(url, token):
    parts = urlsplit(url)
    query = [(name, value) for name, value in parse_qsl(parts.query, keep_blank_values=True) if name != "token"]
    query.append(("token", token))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def _target_for(url, upstream, token=None):
    """Check and pin url; the camera's credentials go only to the camera's own origin."""
    gateway = _gateway_origin()
    if upstream.gateway and gateway is not None and _origin(url) == gateway:
        return _trusted_target(_with_token(url, token) if token else url)
    if _origin(url) == _origin(upstream.url):
        return _target(url, upstream.username, upstream.password, HTTP_SCHEMES)
    return _target(url, "", "", HTTP_SCHEMES)


def fetch(url, *, upstream, limit, token=None):
    """GET url through a pinned connection: (media type, body). Raises RelayError."""
    deadline = _Deadline(TIMEOUT_SECONDS)
    watchdog = response = connection = None
    try:
        target = _target_for(url, upstream, token)
        connection = _connection(target, deadline.remaining())
        connection.connect()
        watchdog = _Watchdog(connection.sock, deadline.remaining())
        connection.request("GET", target.request_target, headers=_headers(target), preload_content=False,
                           decode_content=False)
        response = connection.getresponse()
        _check_status(response.status, target)
        media_type = response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
        return media_type, _read_body(response, limit)
    except StreamTestError as error:
        raise RelayError(error.message) from None
    except (OSError, HTTPException, urllib3.exceptions.HTTPError) as error:
        raise RelayError(f"connection failed ({type(error).__name__})") from None
    finally:
        if watchdog is not None:
            watchdog.cancel()
        if response is not None:
            response.close()
        if connection is not None:
            connection.close()


# --- Frames: MJPEG and snapshots ----------------------------------------------------------


class Subscription:
    """One streaming viewer's frames, oldest first: at most `depth`; when full, the oldest goes (counted)."""

    def __init__(self, depth=VIEWER_QUEUE_FRAMES):
        self.depth = depth
        self.dropped = 0
        self._frames = deque()
        self._ready = asyncio.Event()

    def put(self, frame):
        if len(self._frames) >= self.depth:
            self._frames.popleft()
            self.dropped += 1
        self._frames.append(frame)
        self._ready.set()

    def pending(self):
        return len(self._frames)

    async def next_frame(self, timeout):
        """The oldest frame not yet taken, waiting up to timeout seconds for one; None if none comes."""
        if not self._frames:
            self._ready.clear()
            try:
                await asyncio.wait_for(self._ready.wait(), timeout)
            except TimeoutError:
                return None
        return self._frames.popleft() if self._frames else None


class FrameChannel:
    """The frames of one camera, kept coming by one upstream thread while anyone watches.

    Streaming viewers subscribe() (getting a Subscription, fed every frame) and unsubscribe(); polling
    viewers touch() on each fetch and take the latest(). The thread stops LINGER_SECONDS after the last
    of them.
    """

    def __init__(self, loop, upstream):
        self.loop = loop
        self.upstream = upstream
        self.polled = upstream.kind == "snapshot"
        self.frame = None
        self.frame_at = 0.0
        self.seq = 0
        self.subscribers = 0
        self.subscriptions = set()
        self.frames_dropped = 0  # frames lost by viewers that fell more than VIEWER_QUEUE_FRAMES behind
        self.last_touch = time.monotonic()
        self.upstream_connections = 0
        self.reconnect_waits = deque(maxlen=50)  # the back-off before each reconnection, in seconds
        self._changed = asyncio.Event()
        self._lock = threading.Lock()
        self._thread = None
        self._wake = threading.Event()
        self._socket = None
        self._got_frame = False  # on the current upstream connection
        self.mark = UpstreamMark(upstream.camera_id)
        self.closed = False

    # Called on the event loop.

    def active(self):
        return not self.closed and (self.subscribers > 0 or time.monotonic() - self.last_touch < LINGER_SECONDS)

    def subscribe(self, depth=VIEWER_QUEUE_FRAMES):
        """A Subscription fed every frame from now on, starting with the latest if it is recent."""
        subscription = Subscription(depth)
        if self.frame is not None and time.monotonic() - self.frame_at < FRAME_MAX_AGE_SECONDS:
            subscription.put(self.frame)
        self.subscriptions.add(subscription)
        self.subscribers += 1
        self._ensure_running()
        return subscription

    def unsubscribe(self, subscription=None):
        if subscription is not None and subscription in self.subscriptions:
            self.subscriptions.discard(subscription)
            self.frames_dropped += subscription.dropped
            if subscription.dropped:
                logger.info("Live relay: camera %s: a viewer fell behind and skipped %d frame(s)",
                            self.upstream.camera_id, subscription.dropped)
        self.subscribers -= 1
        if self.subscribers == 0:
            self.last_touch = time.monotonic()
            self.loop.call_later(LINGER_SECONDS + 0.1, self._stop_if_idle)

    def touch(self):
        self.last_touch = time.monotonic()
        self._ensure_running()
        self.loop.call_later(LINGER_SECONDS + 0.1, self._stop_if_idle)

    def running(self):
        return self._thread is not None

    async def wait_frame(self, after_seq, timeout):
        """(seq, frame) of a frame newer than after_seq, or None after timeout seconds."""
        if self.seq > after_seq:
            return self.seq, self.frame
        changed = self._changed
        try:
            await asyncio.wait_for(changed.wait(), timeout)
        except TimeoutError:
            return None
        return (self.seq, self.frame) if self.seq > after_seq else None

    async def latest(self, wait):
        """The newest frame if it is recent, else wait up to `wait` seconds for one; None if none comes."""
        if self.frame is not None and time.monotonic() - self.frame_at < FRAME_MAX_AGE_SECONDS:
            return self.frame
        found = await self.wait_frame(self.seq, wait)
        return found[1] if found else None

    def close(self):
        self.closed = True
        self._stop_if_idle()

    def _publish(self, frame):
        self.frame, self.frame_at, self.seq = frame, time.monotonic(), self.seq + 1
        for subscription in self.subscriptions:
            subscription.put(frame)
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def _stop_if_idle(self):
        if not self.active():
            self._wake.set()
            self._cut()

    def _ensure_running(self):
        with self._lock:
            if self._thread is None:
                self._wake.clear()
                self._thread = threading.Thread(target=self._run, name=f"live-relay-camera-{self.upstream.camera_id}",
                                                daemon=True)
                self._thread.start()

    def _cut(self):
        sock = self._socket
        if sock is not None:
            try:
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass

    # Called in the upstream thread.

    def _keep_going(self):
        with self._lock:
            if self.active():
                return True
            self._thread = None
            return False

    def _run(self):
        backoff = 1.0
        try:
            while self._keep_going():
                self._wake.clear()
                self._got_frame = False
                started = time.monotonic()
                try:
                    if self.polled:
                        self._poll_once()
                        backoff = 1.0
                        self._wake.wait(settings.LIVE_SNAPSHOT_INTERVAL_SECONDS)
                        continue
                    self._stream()
                except RelayError as error:
                    if self.active():
                        logger.warning("Live relay: camera %s: %s", self.upstream.camera_id, error)
                except Exception as error:  # the thread must survive anything a camera sends
                    logger.warning("Live relay: camera %s failed (%s)", self.upstream.camera_id, type(error).__name__)
                if not self.active():
                    continue
                self.mark.set_down()
                if self._got_frame and time.monotonic() - started > STEADY_SECONDS:
                    backoff = 1.0  # it had been streaming steadily: try again soon, then slower and slower
                self.reconnect_waits.append(backoff)
                self._wake.wait(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_SECONDS)
        except RuntimeError:
            pass  # the event loop closed under us (server shutting down)
        finally:
            self.mark.set_up()  # nobody watches any more: nothing to say about the upstream
            with self._lock:
                if self._thread is threading.current_thread():
                    self._thread = None

    def _hand_over(self, frame):
        if not self._got_frame:
            self._got_frame = True
            self.mark.set_up()
        self.loop.call_soon_threadsafe(self._publish, frame)

    def _poll_once(self):
        self.upstream_connections += 1
        _media_type, body = fetch(self.upstream.url, upstream=self.upstream, limit=SNAPSHOT_READ_LIMIT)
        if not body.startswith(b"\xff\xd8\xff"):
            raise RelayError("the camera sent something that is not a JPEG picture")
        self._hand_over(body)

    def _stream(self):
        try:
            target = _target_for(self.upstream.url, self.upstream)
            connection = _connection(target, TIMEOUT_SECONDS)
            connection.connect()
        except StreamTestError as error:
            raise RelayError(error.message) from None
        except (OSError, urllib3.exceptions.HTTPError) as error:
            raise RelayError(f"connection failed ({type(error).__name__})") from None
        self._socket = connection.sock
        self.upstream_connections += 1
        response = None
        try:
            connection.request("GET", target.request_target, headers=_headers(target), preload_content=False,
                               decode_content=False)
            response = connection.getresponse()
            _check_status(response.status, target)
            self._read_frames(response)
        except StreamTestError as error:
            raise RelayError(error.message) from None
        except (OSError, HTTPException, urllib3.exceptions.HTTPError) as error:
            if self.active():
                raise RelayError(f"the stream broke off ({type(error).__name__})") from None
        finally:
            self._socket = None
            if response is not None:
                response.close()
            connection.close()

    def _read_frames(self, response):
        finder = _FrameFinder()
        while self.active():
            chunk = response.read1(READ_CHUNK, decode_content=False)
            if not chunk:
                raise RelayError("the camera ended the stream")
            frame = finder.feed(chunk)
            while frame is not None:
                self._hand_over(frame)
                rest = finder.rest(frame)
                finder = _FrameFinder()
                frame = finder.feed(rest)
            if len(finder.buffer) > MJPEG_READ_LIMIT:
                raise RelayError("the stream sent too much without a complete picture")


# --- HLS ----------------------------------------------------------------------------------


class HlsChannel:
    """Shared playlist and segment fetches for one HLS camera (or one RTSP camera through the gateway)."""

    def __init__(self, loop, upstream):
        self.loop = loop
        self.upstream = upstream
        self.last_touch = time.monotonic()
        self.upstream_fetches = Counter()  # "playlist" / "segment"
        self._playlists = {}  # url -> (fetched_at, text, ttl)
        self._segments = OrderedDict()  # url -> (media type, body)
        self._in_flight = {}  # (what, url) -> Future
        self._ids = {}  # url -> opaque id
        self._urls = {}  # opaque id -> url
        self.mark = UpstreamMark(upstream.camera_id)

    def touch(self):
        self.last_touch = time.monotonic()

    def active(self):
        return time.monotonic() - self.last_touch < max(LINGER_SECONDS, 30)

    def opaque_id(self, url):
        """A portal-side name for an upstream URL: encrypted, bound to the camera, stable per process."""
        found = self._ids.get(url)
        if found is None:
            found = crypto._fernet().encrypt(f"{self.upstream.camera_id}\n{url}".encode()).decode()
            self._ids[url], self._urls[found] = found, url
        return found

    def url_for(self, opaque):
        """The upstream URL an opaque id names, or None (forged, other camera's, or garbled)."""
        if opaque in self._urls:
            return self._urls[opaque]
        try:
            camera_id, _, url = crypto._fernet().decrypt(opaque.encode()).decode().partition("\n")
        except (InvalidToken, ValueError, UnicodeError):
            return None
        return url if camera_id == str(self.upstream.camera_id) else None

    async def playlist(self, url, token, prefix):
        """The playlist at url, every URI rewritten under prefix (".../live/<token>/hls/")."""
        cached = self._playlists.get(url)
        if cached is None or time.monotonic() - cached[0] >= cached[2]:
            text = await self._shared(("playlist", url), lambda: self._fetch_playlist(url, token))
        else:
            text = cached[1]
        return self._rewrite(text, url, prefix)

    async def segment(self, url, token):
        """(media type, body) of one segment, fetched once for every viewer."""
        cached = self._segments.get(url)
        if cached is not None:
            self._segments.move_to_end(url)
            return cached
        return await self._shared(("segment", url), lambda: self._fetch_segment(url, token))

    async def _shared(self, key, fetcher):
        """Run fetcher once for everyone asking for the same thing at the same time."""
        task = self._in_flight.get(key)
        if task is None:
            task = self._in_flight[key] = self.loop.create_task(asyncio.to_thread(fetcher))
            task.add_done_callback(lambda _task: self._in_flight.pop(key, None))
        # Shielded: a viewer who leaves does not cancel the fetch the others wait for.
        return await asyncio.shield(task)

    def _fetch_playlist(self, url, token):
        self.upstream_fetches["playlist"] += 1
        try:
            _media_type, body = fetch(url, upstream=self.upstream, limit=PLAYLIST_READ_LIMIT, token=token)
            text = body.decode("utf-8", errors="replace").lstrip("\ufeff")
            if not text.startswith("#EXTM3U"):
                raise RelayError("the camera did not send an HLS playlist")
        except RelayError:
            self.mark.set_down()  # the players retry on their own; their status says the camera is reconnecting
            raise
        self.mark.set_up()
        self._playlists[url] = (time.monotonic(), text, _playlist_ttl(text))
        return text

    def _fetch_segment(self, url, token):
        self.upstream_fetches["segment"] += 1
        media_type, body = fetch(url, upstream=self.upstream, limit=SEGMENT_READ_LIMIT, token=token)
        result = (media_type if media_type in SEGMENT_TYPES else "application/octet-stream", body)
        self._segments[url] = result
        while len(self._segments) > SEGMENT_CACHE_ITEMS:
            self._segments.popitem(last=False)
        return result

    def _rewrite(self, text, base_url, prefix):
        lines = []
        next_is_playlist = False
        for line in text.splitlines():
            stripped = line.strip()
            if not stripped:
                lines.append("")
            elif stripped.startswith("#"):
                is_playlist = stripped.startswith(PLAYLIST_URI_TAGS)

                def replace(match, is_playlist=is_playlist):
                    return 'URI="' + self._portal_uri(match.group(1), base_url, prefix, is_playlist) + '"'

                lines.append(URI_ATTRIBUTE.sub(replace, stripped))
                next_is_playlist = stripped.startswith("#EXT-X-STREAM-INF")
            else:
                lines.append(self._portal_uri(stripped, base_url, prefix, next_is_playlist))
                next_is_playlist = False
        return "\n".join(lines) + "\n"

    def _portal_uri(self, uri, base_url, prefix, is_playlist):
        absolute = urljoin(base_url, uri)
        if self.upstream.gateway:
            absolute = _without_token(absolute)
        if is_playlist or urlsplit(absolute).path.lower().endswith((".m3u8", ".m3u")):
            return f"{prefix}p/{self.opaque_id(absolute)}.m3u8"
        return f"{prefix}s/{self.opaque_id(absolute)}"


def _without_token(url):
    parts = urlsplit(url)
    query = [(name, value) for name, value in parse_qsl(parts.query, keep_blank_values=True) if name != "token"]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def _playlist_ttl(text):
    if "#EXT-X-STREAM-INF" in text:
        return MASTER_PLAYLIST_TTL_SECONDS
    for line in text.splitlines():
        if line.startswith("#EXT-X-TARGETDURATION:"):
            value = line.partition(":")[2].strip()
            if value.isdigit():
                return max(1, int(value))
    return 2


# --- The hub ------------------------------------------------------------------------------


class Hub:
    """Every channel of one event loop (one daphne process), and the relay connections per session."""

    def __init__(self, loop):
        self.loop = loop
        self.channels = {}
        self.connections = Counter()  # live session pk -> open MJPEG responses

    def channel(self, upstream):
        self._forget_idle()
        key = (upstream.camera_id, upstream.kind, upstream.fingerprint)
        channel = self.channels.get(key)
        if channel is None:
            channel_class = _channel_class(upstream)
            channel = self.channels[key] = channel_class(self.loop, upstream)
        return channel

    def channels_of(self, camera_id):
        return [channel for key, channel in self.channels.items() if key[0] == camera_id]

    def _forget_idle(self):
        for key, channel in list(self.channels.items()):
            if not channel.active() and not getattr(channel, "running", lambda: False)():
                del self.channels[key]


def _channel_class(upstream):
    if upstream.kind == "rtsp" and not upstream.gateway:
        from cameras.rtsp_ingest import IngestChannel

        return IngestChannel
    return HlsChannel if upstream.kind in ("hls", "rtsp") else FrameChannel


_hubs = weakref.WeakKeyDictionary()


def get_hub():
    """This process's hub for the running event loop."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = Hub(loop)
    return hub
