"""The embedded RTSP path: the portal itself reads an RTSP camera and serves it as HLS.

With RTSP_INGEST = "embedded" (the default when no MEDIA_GATEWAY_HLS_URL is set), an RTSP or
RTSPS camera needs no MediaMTX. Each server process opens ONE upstream per camera, however many
viewers, with PyAV in a thread of its own (blocking FFmpeg work never touches the event loop). The
thread copies H.264 and H.265 packets into MPEG-TS segments of about SEGMENT_SECONDS, cut at key
frames, without decoding them; only a codec browsers cannot play (MJPEG over RTSP, MPEG-4...) is
re-encoded to H.264. The last KEEP_SEGMENTS segments stay in memory; the playlist lists the newest
PLAYLIST_SEGMENTS. A JPEG snapshot is decoded from the latest key frame when someone asks.

Viewers reach all this only through the live endpoints (cameras/views.py), which check the live
session and the access policy on every request, exactly as for HLS cameras. The thread stops
IDLE_STOP_SECONDS after the last request and reconnects with back-off when the camera drops. The
camera's address is checked and pinned as "Test connection" does (cameras/streams.py: public
addresses only, unless in STREAM_ALLOWED_NETWORKS). Its address and credentials are never logged:
FFmpeg's error texts name the URL, so only the error's class is ever reported.
"""

import asyncio
import io
import logging
import math
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass
from fractions import Fraction
from urllib.parse import quote, urlsplit

import av

from cameras.relay import BACKOFF_MAX_SECONDS, RelayError, UpstreamMark
from cameras.streams import RTSP_SCHEMES, StreamTestError, _target

logger = logging.getLogger(__name__)

INGEST_SCHEMES = RTSP_SCHEMES
# Browsers play these as they are (hls.js, or Safari natively); anything else is re-encoded to H.264.
COPIED_CODECS = frozenset({"h264", "hevc"})
SEGMENT_SECONDS = 2.0
SEGMENT_MAX_SECONDS = 6.0  # a camera with rare key frames still gets segments cut
TIMESTAMP_JUMP_SECONDS = 60.0
PLAYLIST_SEGMENTS = 5
KEEP_SEGMENTS = 8  # a few more than listed, for a player a little behind
IDLE_STOP_SECONDS = 10.0  # hls.js asks for the playlist every segment; well above that
OPEN_TIMEOUT_SECONDS = 10
READ_TIMEOUT_SECONDS = 10
FIRST_SEGMENT_WAIT_SECONDS = 15
STEADY_SECONDS = 30  # a connection that lasted this long resets the back-off
SEGMENT_NAME_SUFFIX = ".ts"
TLS_FAILED = "the secure connection failed: the camera's certificate is not trusted or does not name its address"


def pinned_url(upstream):
    """The address PyAV opens: checked like "Test connection", pinned to the resolved IP, credentials inserted.

    Raises RelayError with a message safe to show. The result holds the password: never log it.
    """
    try:
        target = _target(upstream.url, upstream.username, upstream.password, INGEST_SCHEMES)
    except StreamTestError as error:
        raise RelayError(error.message) from None
    host = f"[{target.ip}]" if ":" in target.ip else target.ip
    userinfo = ""
    if target.username or target.password:
        userinfo = f"{quote(target.username, safe='')}:{quote(target.password, safe='')}@"
    return f"{target.scheme}://{userinfo}{host}:{target.port}{target.request_target}"


def open_options(upstream):
    """FFmpeg's options: RTSP interleaved over TCP, with a read time-out.

    For rtsps:// the camera's certificate must chain to a trusted authority (the system's, or
    SSL_CERT_FILE) and name the host in the address, as "Test connection" and https cameras require,
    although the connection goes to the pinned IP.
    """
    options = {"rtsp_transport": "tcp", "timeout": str(READ_TIMEOUT_SECONDS * 1_000_000)}
    parts = urlsplit(upstream.url.strip())
    if parts.scheme.lower() == "rtsps":
        options |= {"tls_verify": "1", "verifyhost": parts.hostname or ""}
        trusted = ssl.get_default_verify_paths().cafile
        if trusted:
            options["ca_file"] = trusted
    return options


def _reason(error):
    """A plain reason for an FFmpeg failure; FFmpeg's own text names the URL (and its password)."""
    if isinstance(error, av.error.HTTPUnauthorizedError):
        return "the camera refused the user name or password (or asks for one)"
    if isinstance(error, av.error.HTTPForbiddenError):
        return "the camera refused access"
    if isinstance(error, av.error.HTTPNotFoundError):
        return "the camera has no stream at that path"
    if isinstance(error, ConnectionRefusedError):
        return "the camera refused the connection"
    if isinstance(error, (TimeoutError, av.error.ExitError)):
        return "the camera did not answer in time"
    if isinstance(error, EOFError):
        return "the camera ended the stream"
    return f"the stream could not be read ({type(error).__name__})"


@dataclass(frozen=True)
class Segment:
    sequence: int
    duration: float
    data: bytes
    discontinuity: bool


@dataclass(frozen=True)
class KeyFrame:
    codec: str
    extradata: bytes | None
    data: bytes


def keyframe_jpeg(keyframe):
    """A JPEG picture of one key frame (decoded on its own: key frames need no other frame)."""
    decoder = av.CodecContext.create(keyframe.codec, "r")
    if keyframe.extradata:
        decoder.extradata = keyframe.extradata
    frames = [*decoder.decode(av.Packet(keyframe.data)), *decoder.decode(None)]
    if not frames:
        return None
    frame = frames[0]
    encoder = av.CodecContext.create("mjpeg", "w")
    encoder.width, encoder.height = frame.width, frame.height
    encoder.pix_fmt = "yuvj420p"
    encoder.time_base = Fraction(1, 25)
    packets = [*encoder.encode(frame.reformat(format="yuvj420p")), *encoder.encode(None)]
    return bytes(packets[0]) if packets else None


class _Segmenter:
    """Cuts a packet stream into self-contained MPEG-TS segments at key frames, copying every packet."""

    def __init__(self, channel, template, time_base, codec, extradata):
        self.channel, self.template, self.time_base = channel, template, time_base
        self.codec, self.extradata = codec, extradata
        self._buffer = self._output = self._stream = None
        self._start_pts = None

    def add(self, packet):
        if packet.pts is None or packet.size == 0:
            return
        if self._output is None and not packet.is_keyframe:
            return  # a segment starts with a key frame, or a player could not start on it
        if self._output is not None:
            elapsed = float((packet.pts - self._start_pts) * self.time_base)
            if not 0 <= elapsed <= TIMESTAMP_JUMP_SECONDS:
                # The camera's clock jumped (a reboot, a wrap): drop the segment, restart at a key frame.
                self.close()
                self.channel._mark_discontinuity()
                if not packet.is_keyframe:
                    return
            elif (packet.is_keyframe and elapsed >= SEGMENT_SECONDS) or elapsed >= SEGMENT_MAX_SECONDS:
                self._finish(elapsed)
        if packet.is_keyframe:
            self.channel._keep_keyframe(KeyFrame(self.codec, self.extradata, bytes(packet)))
        if self._output is None:
            self._buffer = io.BytesIO()
            self._output = av.open(self._buffer, "w", format="mpegts")
            self._stream = self._output.add_stream_from_template(self.template)
            self._start_pts = packet.pts
        packet.stream = self._stream
        self._output.mux(packet)

    def _finish(self, duration):
        self._output.close()
        self.channel._publish(self._buffer.getvalue(), duration)
        self._buffer = self._output = self._stream = None

    def close(self):
        """Drop the unfinished segment (the stream broke or no one watches)."""
        if self._output is not None:
            try:
                self._output.close()
            except av.FFmpegError:
                pass
        self._buffer = self._output = self._stream = None


class _Transcoder:
    """Decodes what browsers cannot play and encodes it to H.264 for the segmenter (the costly path)."""

    def __init__(self, channel, stream):
        self.decoder = stream.codec_context
        width, height = self.decoder.width // 2 * 2, self.decoder.height // 2 * 2
        # The encoder lives in a scratch container's stream so that segments can copy its parameters.
        self._scratch = av.open(io.BytesIO(), "w", format="mpegts")
        rate = stream.average_rate or stream.guessed_rate or 15
        self.encoded = self._scratch.add_stream("libx264", rate=rate)
        encoder = self.encoded.codec_context
        encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
        encoder.time_base = stream.time_base
        encoder.gop_size = max(1, round(float(rate) * SEGMENT_SECONDS))
        encoder.options = {"preset": "veryfast", "tune": "zerolatency"}
        encoder.open()
        self.encoder, self.time_base = encoder, stream.time_base
        self.segmenter = _Segmenter(channel, self.encoded, stream.time_base, "h264", None)

    def add(self, packet):
        for frame in self.decoder.decode(packet):
            if frame.pts is None:
                continue
            picture = frame.reformat(width=self.encoder.width, height=self.encoder.height, format="yuv420p")
            picture.pts, picture.time_base = frame.pts, self.time_base
            picture.pict_type = av.video.frame.PictureType.NONE  # let the encoder choose its key frames
            for encoded in self.encoder.encode(picture):
                self.segmenter.add(encoded)

    def close(self):
        self.segmenter.close()
        try:
            self._scratch.close()
        except av.FFmpegError:
            pass


class IngestChannel:
    """One RTSP camera read by one thread while anyone watches, served as a rolling HLS playlist."""

    def __init__(self, loop, upstream):
        self.loop = loop
        self.upstream = upstream
        self.last_touch = time.monotonic()
        self.upstream_connections = 0
        self.codec = None  # the camera's codec, once connected
        self.transcoding = None  # True when the camera's codec had to be re-encoded
        self.width = self.height = None
        self.last_error = ""
        self.closed = False
        self._lock = threading.Lock()
        self._segments = deque()
        self._next_sequence = 0
        self._dropped_discontinuities = 0
        self._discontinuity = False
        self._keyframe = None
        self._snapshot = (None, None)
        self._thread = None
        self._wake = threading.Event()
        self.mark = UpstreamMark(upstream.camera_id)

    # Called on the event loop.

    def active(self):
        return not self.closed and time.monotonic() - self.last_touch < IDLE_STOP_SECONDS

    def running(self):
        return self._thread is not None

    def touch(self):
        """A viewer asked for something: keep (or start) the upstream."""
        self.last_touch = time.monotonic()
        self._ensure_running()

    def close(self):
        self.closed = True
        self._wake.set()

    async def playlist(self, prefix):
        """The live playlist, segment URIs under prefix; waits for the first segment. Raises RelayError."""
        deadline = time.monotonic() + FIRST_SEGMENT_WAIT_SECONDS
        while True:
            self.touch()
            text = self.playlist_text(prefix)
            if text is not None:
                return text
            if time.monotonic() > deadline:
                raise RelayError(self.last_error or "no video arrived from the camera")
            await asyncio.sleep(0.2)

    def playlist_text(self, prefix):
        """The playlist now, or None before the first segment."""
        with self._lock:
            segments = list(self._segments)
            dropped = self._dropped_discontinuities
        if not segments:
            return None
        listed = segments[-PLAYLIST_SEGMENTS:]
        discontinuity_sequence = dropped + sum(segment.discontinuity for segment in segments[:-PLAYLIST_SEGMENTS])
        lines = ["#EXTM3U", "#EXT-X-VERSION:3",
                 f"#EXT-X-TARGETDURATION:{max(1, math.ceil(max(segment.duration for segment in listed)))}",
                 f"#EXT-X-MEDIA-SEQUENCE:{listed[0].sequence}",
                 f"#EXT-X-DISCONTINUITY-SEQUENCE:{discontinuity_sequence}"]
        for segment in listed:
            if segment.discontinuity:
                lines.append("#EXT-X-DISCONTINUITY")
            lines.append(f"#EXTINF:{segment.duration:.3f},")
            lines.append(f"{prefix}s/{segment.sequence}{SEGMENT_NAME_SUFFIX}")
        return "\n".join(lines) + "\n"

    def segment(self, name):
        """The bytes of segment "<sequence>.ts", or None when it is unknown or gone."""
        self.touch()
        number = name.removesuffix(SEGMENT_NAME_SUFFIX)
        if not name.endswith(SEGMENT_NAME_SUFFIX) or not number.isdigit():
            return None
        with self._lock:
            for segment in self._segments:
                if segment.sequence == int(number):
                    return segment.data
        return None

    async def snapshot(self, wait):
        """A JPEG of the latest key frame (waiting up to `wait` seconds for one), or None."""
        deadline = time.monotonic() + wait
        while self._keyframe is None:
            self.touch()
            if time.monotonic() > deadline:
                return None
            await asyncio.sleep(0.2)
        self.touch()
        return await asyncio.to_thread(self._snapshot_jpeg)

    def _snapshot_jpeg(self):
        keyframe = self._keyframe
        cached_for, jpeg = self._snapshot
        if cached_for is keyframe:
            return jpeg
        try:
            jpeg = keyframe_jpeg(keyframe)
        except (av.FFmpegError, ValueError):
            return None
        self._snapshot = (keyframe, jpeg)
        return jpeg

    def _ensure_running(self):
        with self._lock:
            if self._thread is None and not self.closed:
                # Segments from an earlier run are stale: a new viewer must not be shown old video.
                self._dropped_discontinuities += sum(segment.discontinuity for segment in self._segments)
                self._segments.clear()
                self._keyframe = None
                self._discontinuity = self._next_sequence > 0
                self._wake.clear()
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name=f"rtsp-ingest-camera-{self.upstream.camera_id}")
                self._thread.start()

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
                started = time.monotonic()
                try:
                    self._ingest()
                except RelayError as error:
                    self._failed(str(error))
                except av.FFmpegError as error:
                    self._failed(_reason(error))
                except Exception as error:  # the thread must survive anything a camera sends
                    self._failed(f"the stream could not be read ({type(error).__name__})")
                if time.monotonic() - started > STEADY_SECONDS:
                    backoff = 1.0
                self._mark_discontinuity()
                self._wake.wait(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_SECONDS)
        finally:
            self.mark.set_up()  # nobody watches any more: nothing to say about the upstream
            with self._lock:
                if self._thread is threading.current_thread():
                    self._thread = None

    def _failed(self, reason):
        self.last_error = reason
        if self.active():
            self.mark.set_down()
            logger.warning("Embedded RTSP: camera %s: %s", self.upstream.camera_id, reason)

    def _ingest(self):
        url = pinned_url(self.upstream)
        self.upstream_connections += 1
        try:
            container = av.open(url, options=open_options(self.upstream),
                                timeout=(OPEN_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS))
        except av.FFmpegError as error:
            # FFmpeg reports a refused certificate only as a broken connection (its text names the URL).
            if url.startswith("rtsps:") and _reason(error).startswith("the stream could not be read"):
                raise RelayError(TLS_FAILED) from None
            raise
        writer = None
        try:
            if not container.streams.video:
                raise RelayError("the camera sent no video")
            stream = container.streams.video[0]
            context = stream.codec_context
            self.codec, self.width, self.height = context.name, context.width, context.height
            self.transcoding = context.name not in COPIED_CODECS
            if self.transcoding:
                writer = _Transcoder(self, stream)
            else:
                writer = _Segmenter(self, stream, stream.time_base, context.name, bytes(context.extradata or b""))
            self.last_error = ""
            for packet in container.demux(stream):
                if not self.active():
                    return
                writer.add(packet)
            raise RelayError("the camera ended the stream")
        finally:
            if writer is not None:
                writer.close()
            container.close()

    def _mark_discontinuity(self):
        with self._lock:
            self._discontinuity = True

    def _keep_keyframe(self, keyframe):
        self._keyframe = keyframe

    def _publish(self, data, duration):
        self.mark.set_up()
        with self._lock:
            self._segments.append(Segment(self._next_sequence, duration, data, self._discontinuity))
            self._discontinuity = False
            self._next_sequence += 1
            while len(self._segments) > KEEP_SEGMENTS:
                self._dropped_discontinuities += self._segments.popleft().discontinuity
