"""Checking that an uploaded file is real, complete video, and fingerprinting it.

Owners upload security-camera footage that may end up as evidence, so the portal checks each file
before accepting it: it must open as video (not a photo, document or sound recording), and it must
be complete (an upload or copy cut short is rejected with a reason the owner can act on). The
SHA-256 fingerprint is taken separately by `sha256_file`, streaming, so multi-gigabyte files never
sit in memory.

Everything here reads the file a piece at a time, from a path or from a seekable file (footage in object
storage). PyAV (FFmpeg) does the parsing; every
FFmpeg error is turned into `NotVideoError`, whose message is plain English for the owner.
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
from contextlib import contextmanager
from dataclasses import asdict, dataclass

import av
import av.logging
from av.error import FFmpegError

__all__ = ["MediaFacts", "NotVideoError", "browser_playable", "probe_video", "sha256_file"]


class NotVideoError(Exception):
    """The file is not usable video; str(error) is a plain-English reason shown to the owner."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class MediaFacts:
    container: str  # "mp4" or "mov" for the MP4 family, else FFmpeg's demuxer name: "matroska,webm", "avi", "mpegts"
    codec: str  # video codec, e.g. "h264", "hevc", "mpeg4", "vp9"
    duration_s: float | None
    width: int
    height: int
    frame_rate: float | None

    def as_dict(self):
        """JSON-ready facts, stored on FootageSubmission.media."""
        return asdict(self)


# --- Hashing -----------------------------------------------------------------------------------

def sha256_file(source, *, chunk_size=1024 * 1024):
    """Hex SHA-256 of a file (a path, or a binary file read from its start), chunk by chunk: memory use does
    not grow with the file."""
    if isinstance(source, (str, bytes, os.PathLike)):
        with open(source, "rb", buffering=0) as handle:
            return sha256_file(handle, chunk_size=chunk_size)
    digest = hashlib.sha256()
    buffer = bytearray(chunk_size)
    view = memoryview(buffer)
    source.seek(0)
    while True:
        count = source.readinto(buffer)
        if not count:
            break
        digest.update(view[:count])
    return digest.hexdigest()


# --- Reasons shown to owners -------------------------------------------------------------------

NOT_READABLE = "This file is not a video the portal can read"
INCOMPLETE = "This video is incomplete or damaged"

REASON_EMPTY = "This file is empty: it contains no data. Please choose the video file again."
REASON_UNREADABLE = f"{NOT_READABLE}."
REASON_SOUND_ONLY = f"{NOT_READABLE} (it contains sound only, no pictures)."
REASON_STILL = f"{NOT_READABLE} (it is a still picture, not a video)."
REASON_NO_SIZE = f"{NOT_READABLE} (its pictures have no size)."
REASON_NO_DECODER = f"{NOT_READABLE} (its video is stored in a format, {{codec}}, the portal cannot decode)."
REASON_MISSING_INDEX = (f"{INCOMPLETE}: its index is missing, which usually means the upload or copy stopped "
                        "before the end of the file.")
REASON_ENDS_EARLY = f"{INCOMPLETE}: it ends before its last frame."
REASON_UNDECODABLE = f"{INCOMPLETE}: some of its pictures cannot be decoded."
REASON_NO_FRAMES = f"{INCOMPLETE}: none of its pictures can be decoded."


def _looks_like(what):
    return f"{NOT_READABLE} (it looks like {what})."


# --- Recognising common non-video files by their first bytes -----------------------------------
# Done before FFmpeg sees the file: the owner gets a specific reason, and FFmpeg never gets to
# interpret documents, playlists or pictures (some FFmpeg demuxers follow links inside text files,
# e.g. HLS playlists, and FFmpeg happily opens a text file as "tty" video or a JPEG as one frame).

_MAGIC = [
    (b"%PDF", "a PDF document"),
    (b"\xff\xd8\xff", "a JPEG photo"),
    (b"\x89PNG\r\n\x1a\n", "a PNG picture"),
    (b"GIF87a", "a GIF picture"),
    (b"GIF89a", "a GIF picture"),
    (b"II*\x00", "a TIFF picture"),
    (b"MM\x00*", "a TIFF picture"),
    (b"BM", None),  # BMP: too short a signature to trust on its own; see _sniff
    (b"PK\x03\x04", "a ZIP archive or Office document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Office document"),
    (b"{\\rtf", "a rich-text document"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x1f\x8b", "a compressed (gzip) archive"),
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a program"),
]
# ISO base-media "ftyp" brands of still-image files (iPhone HEIC photos, AVIF pictures).
_IMAGE_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1",
                 b"avif", b"avis"}


def _sniff(head):
    """A description such as "a PDF document" when head (the first bytes) is a known non-video file."""
    for magic, what in _MAGIC:
        if head.startswith(magic):
            if magic == b"BM":
                # "BM" + 4-byte size + 4 reserved zero bytes: a Windows bitmap.
                if len(head) >= 10 and head[6:10] == b"\x00\x00\x00\x00":
                    return "a bitmap picture"
                continue
            return what
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "a WebP picture"
    if head[4:8] == b"ftyp" and head[8:12] in _IMAGE_BRANDS:
        return "a HEIC or AVIF photo"
    if _is_text(head):
        return "a text document"
    return None


_TEXT_CONTROLS = frozenset(b"\t\n\r\f")


def _is_text(head):
    """True when head reads as text: UTF-8, or a legacy 8-bit encoding such as Windows-1252."""
    if not head or b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start >= len(head) - 4:
            text = head[: error.start].decode("utf-8")  # a multi-byte character cut off by the sample
        else:
            # Not UTF-8: count bytes that are printable in 8-bit encodings (ASCII and 0xA0 upwards).
            printable = sum(1 for byte in head if 0x20 <= byte < 0x7F or byte >= 0xA0 or byte in _TEXT_CONTROLS)
            return printable >= 0.95 * len(head)
    printable = sum(1 for char in text if char.isprintable() or char in "\r\n\t\f")
    return printable >= 0.95 * len(text)


_ISO_MEDIA_DEMUXER = "mov,mp4,m4a,3gp,3g2,mj2"


def _is_iso_media(head):
    """True for MP4/MOV-family files (they start with an ftyp, or for old QuickTime files a moov/mdat/wide box)."""
    return head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip")


# --- FFmpeg demuxers and codecs that are not video ---------------------------------------------

# FFmpeg opens pictures, animations and text as "video"; none of these is camera footage.
_STILL_IMAGE_CONTAINERS = {"image2", "image2pipe", "gif", "apng", "webp", "jpegxl_anim", "ico", "alias_pix",
                           "brender_pix"}
_TEXT_CONTAINERS = {"tty", "bin", "adf", "idf", "xbin", "hls", "concat", "dash", "sdp", "rtsp", "ffmetadata",
                    "imf"}
_TEXT_ART_CODECS = {"ansi", "bintext", "xbin", "idf"}


def _container_reason(format_name):
    names = set(format_name.split(","))
    if format_name.endswith("_pipe") or names & _STILL_IMAGE_CONTAINERS:
        return REASON_STILL
    if names & _TEXT_CONTAINERS:
        return _looks_like("a text document")
    return None


# --- Keeping FFmpeg quiet ----------------------------------------------------------------------
# PyAV turns FFmpeg's logging off by default, but a developer may have switched it on (e.g.
# av.logging.set_level(av.logging.VERBOSE)); probing a damaged file would then flood the logs with
# decoder complaints. Logging is off while any probe runs and restored when the last one finishes.

_quiet_lock = threading.Lock()
_quiet_depth = 0
_saved_level = None


@contextmanager
def _quiet_ffmpeg():
    global _quiet_depth, _saved_level
    with _quiet_lock:
        if _quiet_depth == 0:
            _saved_level = av.logging.get_level()
            if _saved_level is not None:
                av.logging.set_level(None)
        _quiet_depth += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_depth -= 1
            if _quiet_depth == 0 and _saved_level is not None:
                av.logging.set_level(_saved_level)


# Errors PyAV raises for bad input: FFmpeg's own (av.error.FFmpegError and subclasses; PyAV 18 has
# no av.AVError) plus the Python ones it raises while converting odd values.
_PYAV_ERRORS = (FFmpegError, ValueError, EOFError, OverflowError, UnicodeError)


# --- Probing -----------------------------------------------------------------------------------

def probe_video(source, *, decode_check=True):
    """Facts about a video, or NotVideoError with a reason the owner can understand.

    ``source`` is a path or a seekable binary file (footage in object storage is read through
    ``open_reader``). With decode_check (the default) the video is also decoded to prove it is complete;
    see _check_complete for how the work stays bounded on long files.
    """
    if isinstance(source, (str, bytes, os.PathLike)):
        source = os.fspath(source)
        if os.path.getsize(source) == 0:
            raise NotVideoError(REASON_EMPTY)
        with open(source, "rb") as handle:
            head = handle.read(4096)
        # FFmpeg may only read local files, never follow a link found inside one.
        allowed_protocols = "file"
    else:
        source.seek(0)
        head = source.read(4096)
        if not head:
            raise NotVideoError(REASON_EMPTY)
        source.seek(0)
        # FFmpeg reads through the file object alone and may open nothing else.
        allowed_protocols = "none"
    what = _sniff(head)
    if what:
        raise NotVideoError(_looks_like(what))

    with _quiet_ffmpeg():
        try:
            container = av.open(source, options={"protocol_whitelist": allowed_protocols},
                                metadata_errors="replace")
        except _PYAV_ERRORS as error:
            if _is_iso_media(head) and isinstance(error, av.error.InvalidDataError):
                # MP4/MOV with its index (the moov atom) written last, and the file cut before it.
                raise NotVideoError(REASON_MISSING_INDEX) from None
            raise NotVideoError(REASON_UNREADABLE) from None
        try:
            with container:
                return _probe_open(container, head, decode_check=decode_check)
        except _PYAV_ERRORS:
            raise NotVideoError(REASON_UNDECODABLE) from None


def _probe_open(container, head, *, decode_check):
    format_name = container.format.name
    reason = _container_reason(format_name)
    if reason:
        raise NotVideoError(reason)

    stream = _video_stream(container)
    if stream is None:
        if container.streams.audio:
            raise NotVideoError(REASON_SOUND_ONLY)
        raise NotVideoError(REASON_UNREADABLE)

    context = stream.codec_context
    codec = _codec_name(stream)
    if codec in _TEXT_ART_CODECS:
        raise NotVideoError(_looks_like("a text document"))
    if context is None:
        raise NotVideoError(REASON_NO_DECODER.format(codec=codec))
    width, height = context.width, context.height
    if not width or not height or width <= 0 or height <= 0:
        raise NotVideoError(REASON_NO_SIZE)

    duration = _declared_duration(container, stream)
    facts = MediaFacts(
        container=_container_label(format_name, head),
        codec=codec,
        duration_s=round(duration, 3) if duration is not None else None,
        width=int(width),
        height=int(height),
        frame_rate=_frame_rate(stream),
    )
    if decode_check:
        _check_complete(container, stream, duration)
    elif duration is None and _packet_count(container, stream, stop_at=2) < 2:
        raise NotVideoError(REASON_STILL)  # one picture, no running time: a still image
    return facts


def _container_label(format_name, head):
    """FFmpeg calls MP4 and QuickTime alike "mov,mp4,m4a,3gp,3g2,mj2"; the file's ftyp brand tells them apart."""
    if format_name != _ISO_MEDIA_DEMUXER:
        return format_name
    if head[4:8] != b"ftyp" or head[8:12] == b"qt  ":
        return "mov"
    return "mp4"


def _packet_count(container, stream, *, stop_at):
    count = 0
    for packet in container.demux(stream):
        if packet.size:
            count += 1
            if count >= stop_at:
                break
    return count


def _video_stream(container):
    """The main picture stream: the largest video stream that is not cover art."""
    candidates = [
        stream for stream in container.streams.video
        if not (stream.disposition & av.stream.Disposition.attached_pic)
    ]
    if not candidates:
        return None

    def area(stream):
        context = stream.codec_context
        return (context.width or 0) * (context.height or 0) if context is not None else 0

    return max(candidates, key=area)


def _codec_name(stream):
    context = stream.codec_context
    if context is not None:
        # The codec's own name ("av1"), not the decoder's ("libdav1d").
        return context.codec.canonical_name
    return getattr(stream, "codec_tag", None) or "unknown"


def _declared_duration(container, stream):
    """Running time in seconds as the file declares it: the video stream's, else the container's."""
    if stream.duration and stream.duration > 0 and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration and container.duration > 0:
        return container.duration / av.time_base
    return None


def _frame_rate(stream):
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate and rate > 0:
            value = float(rate)
            if math.isfinite(value) and value < 1000:
                return round(value, 3)
    return None


# --- Completeness check ------------------------------------------------------------------------
#
# Strategy (memory stays constant: packets and frames are dropped as soon as they are checked):
#
# * Videos declaring up to FULL_CHECK_SECONDS of running time (and files that declare none) are
#   demuxed from start to end in one pass; every video packet in the first FULL_CHECK_SECONDS is
#   decoded, later ones are only demuxed (cheap: reading, no decoding). Raw H.264/HEVC streams carry
#   no timestamps, so decoding also stops after FULL_CHECK_PACKETS packets (HEAD_PACKETS below).
# * Longer videos are checked at both ends: the first HEAD_SECONDS are decoded, then the demuxer
#   seeks to TAIL_SECONDS before the declared end (through the file's index, so this costs the same
#   for 10 GB as for 10 MB) and decodes through to the end. If the format cannot seek, the rest of
#   the file is demuxed without decoding instead.
# * "Incomplete" (the usual case: an upload or copy cut short) is decided at the end of the file:
#   the last video packet is flagged corrupt (the MP4 and AVI demuxers flag a frame cut off by the
#   end of the file), or the last packet ends short of the declared running time by more than
#   _end_tolerance (an MP4 with its index at the front, WebM/Matroska or AVI cut short: the header
#   still declares the full length). An MP4 cut short with its index at the end fails earlier, when
#   opening. Formats that declare no length (e.g. MPEG-TS) cannot be told apart from a shorter
#   recording; a frame cut in half at the end is still caught by the corrupt flag.
# * "Damaged": FFmpeg fails while demuxing, no picture decodes, or more than MAX_DAMAGED_SHARE of the
#   decoded packets fail to decode. A few bad packets in the middle are tolerated: camera recordings
#   often have a glitch or two, and the footage around them is still evidence.
# * A file whose only picture is a single frame with no running time is a still image, not a video.

FULL_CHECK_SECONDS = 20.0
FULL_CHECK_PACKETS = 1200  # 20 s at 60 frames a second
HEAD_SECONDS = 5.0
HEAD_PACKETS = 300
TAIL_SECONDS = 5.0
MAX_DAMAGED_SHARE = 0.05


def _end_tolerance(declared):
    return max(1.0, 0.02 * declared)


class _Progress:
    """What has been seen of one video stream while checking it."""

    def __init__(self, stream):
        self.stream = stream
        self.time_base = stream.time_base
        self.origin = stream.start_time  # in time_base units; None until a packet shows it
        self.last_end = None  # in time_base units
        self.packets = 0
        self.last_corrupt = False
        self.decoded_packets = 0
        self.damaged_packets = 0
        self.frames = 0
        self.decoding_started = False

    def reached_seconds(self):
        if self.last_end is None or self.origin is None:
            return 0.0
        return float((self.last_end - self.origin) * self.time_base)

    def take(self, packet, *, decode):
        """Check one demuxed packet; returns its time in seconds from the start (None if it has none)."""
        if packet.size == 0:
            # End-of-stream marker from demux(): drains the decoder's last buffered pictures.
            if decode and self.decoding_started:
                self._decode(packet)
            return None
        self.packets += 1
        self.last_corrupt = packet.is_corrupt
        timestamp = packet.pts if packet.pts is not None else packet.dts
        seconds = None
        if timestamp is not None:
            if self.origin is None:
                self.origin = timestamp
            seconds = float((timestamp - self.origin) * self.time_base)
            end = timestamp + max(packet.duration or 0, 0)
            if self.last_end is None or end > self.last_end:
                self.last_end = end
        if decode:
            # Decoding starts at a keyframe: pictures before the first one (a recording that begins
            # mid-sequence, or just after a seek) cannot be decoded by design.
            if self.decoding_started or packet.is_keyframe:
                self.decoding_started = True
                self.decoded_packets += 1
                if packet.is_corrupt:
                    self.damaged_packets += 1
                self._decode(packet, already_damaged=packet.is_corrupt)
        return seconds

    def _decode(self, packet, *, already_damaged=False):
        try:
            self.frames += len(packet.decode())
        except _PYAV_ERRORS:
            if not already_damaged:
                self.damaged_packets += 1

    def restart_decoding(self):
        self.stream.codec_context.flush_buffers()
        self.decoding_started = False


def _check_complete(container, stream, declared):
    """Raise NotVideoError unless the video stream demuxes and decodes to its declared end."""
    progress = _Progress(stream)
    ends_early = declared is not None and declared > 0
    try:
        if declared is not None and declared > FULL_CHECK_SECONDS:
            _check_head_and_tail(container, stream, declared, progress)
        else:
            _check_whole(container, stream, progress)
    except _PYAV_ERRORS:
        # The demuxer gave up mid-file: with a declared length we can tell whether it stopped early.
        if ends_early and progress.reached_seconds() < declared - _end_tolerance(declared):
            raise NotVideoError(REASON_ENDS_EARLY) from None
        raise NotVideoError(REASON_UNDECODABLE) from None

    if progress.packets == 0:
        raise NotVideoError(REASON_ENDS_EARLY if ends_early else REASON_NO_FRAMES)
    if progress.last_corrupt:
        raise NotVideoError(REASON_ENDS_EARLY)
    if ends_early and progress.reached_seconds() < declared - _end_tolerance(declared):
        raise NotVideoError(REASON_ENDS_EARLY)
    if progress.frames == 0:
        raise NotVideoError(REASON_NO_FRAMES)
    if progress.damaged_packets > MAX_DAMAGED_SHARE * progress.decoded_packets:
        raise NotVideoError(REASON_UNDECODABLE)
    if progress.packets == 1 and not declared:
        raise NotVideoError(REASON_STILL)


def _check_whole(container, stream, progress):
    decode = True
    for packet in container.demux(stream):
        seconds = progress.take(packet, decode=decode)
        if decode and ((seconds or 0) > FULL_CHECK_SECONDS or progress.packets >= FULL_CHECK_PACKETS):
            decode = False  # long file without a declared length: keep reading, stop decoding


def _check_head_and_tail(container, stream, declared, progress):
    for packet in container.demux(stream):
        seconds = progress.take(packet, decode=True)
        if (seconds or 0) > HEAD_SECONDS or progress.packets >= HEAD_PACKETS:
            break
    else:
        return  # the file ended inside the head: the end checks in _check_complete reject it

    origin = progress.origin if progress.origin is not None else 0
    target = origin + int((declared - TAIL_SECONDS) / stream.time_base)
    try:
        container.seek(target, stream=stream, backward=True)
    except _PYAV_ERRORS:
        # Not seekable: read (without decoding) from where the head stopped to the end.
        for packet in container.demux(stream):
            progress.take(packet, decode=False)
        return
    progress.restart_decoding()
    for packet in container.demux(stream):
        progress.take(packet, decode=True)


# --- Playback ----------------------------------------------------------------------------------

# What Chromium's and phones' <video> elements play: H.264/AV1/VP9 in MP4 (and QuickTime .mov, which
# browsers read as MP4), VP8/VP9/AV1 in WebM. FFmpeg names Matroska and WebM together
# ("matroska,webm"), so Matroska files with WebM codecs count; H.264 in Matroska does not (Safari
# and many phones refuse .mkv).
_MP4_FAMILY = {"mov", "mp4", "m4a", "3gp", "3g2", "mj2"}
_WEBM_FAMILY = {"matroska", "webm"}
_MP4_CODECS = {"h264", "av1", "vp9"}
_WEBM_CODECS = {"vp8", "vp9", "av1"}


def browser_playable(facts):
    """True when a browser's <video> element can play the file as it is (no conversion needed)."""
    names = set(facts.container.split(","))
    if names & _MP4_FAMILY:
        return facts.codec in _MP4_CODECS
    if names & _WEBM_FAMILY:
        return facts.codec in _WEBM_CODECS
    return False
