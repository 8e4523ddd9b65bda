"""Small, real test videos written with PyAV, for tests that need footage to upload.

Every helper writes a genuine file (an FFmpeg encoder and muxer, not a fake header) in well under a
second and returns the path it wrote, so tests and browser tests can hand it straight to an upload
form. Frames are a moving gradient, which compresses well and still decodes to something visible.
"""

from __future__ import annotations

import math
import os
from array import array
from fractions import Fraction

import av

__all__ = [
    "make_audio_only",
    "make_avi",
    "make_mkv",
    "make_mov",
    "make_mp4",
    "make_truncated",
    "make_webm",
    "webm_codec",
]


def _frames(count, width, height):
    """YUV 4:2:0 frames of a diagonal gradient that slides each frame: cheap to build (no numpy), cheap to encode."""
    template = av.VideoFrame(width, height, "yuv420p")
    luma, blue, red = template.planes
    ramp = bytes(range(256)) * (luma.line_size // 256 + 2)
    blue_bytes = bytes([110]) * blue.buffer_size
    red_bytes = bytes([150]) * red.buffer_size
    for index in range(count):
        frame = av.VideoFrame(width, height, "yuv420p")
        rows = (ramp[(row + index * 4) % 256:][: luma.line_size] for row in range(luma.buffer_size // luma.line_size))
        frame.planes[0].update(b"".join(rows))
        frame.planes[1].update(blue_bytes)
        frame.planes[2].update(red_bytes)
        yield frame


def _write_video(path, *, codec, seconds, fps, width, height, options=None, codec_options=None, format=None,
                 with_audio=False):
    path = os.fspath(path)
    with av.open(path, mode="w", format=format, options=options or {}) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        # Keyframes every second, as camera recorders do; keeps seeking cheap for the probe.
        stream.codec_context.gop_size = max(1, int(fps))
        if codec_options:
            stream.codec_context.options = codec_options
        # Every stream must exist before the first packet is written.
        sound = _tone_frames(container, "aac", seconds=seconds) if with_audio else iter(())
        time_base = Fraction(1, int(fps))
        for index, frame in enumerate(_frames(int(round(seconds * fps)), width, height)):
            frame.pts = index
            frame.time_base = time_base
            container.mux(stream.encode(frame))
            # Interleave: sound up to the end of this picture.
            for audio_stream, chunk in sound:
                container.mux(audio_stream.encode(chunk))
                if chunk is None or chunk.time >= (index + 1) / fps:
                    break
        for audio_stream, chunk in sound:
            container.mux(audio_stream.encode(chunk))
        container.mux(stream.encode(None))
    return path


def _tone_frames(container, codec, *, seconds, sample_rate=8000):
    """Add a mono sound stream to container; yields (stream, frame) pairs of a 400 Hz tone, then (stream, None).

    The stream is added at once (before the generator is first advanced), since every stream must
    exist before the first packet is written. Built without numpy: at 8 kHz a 400 Hz tone repeats
    every 20 samples, so one period is computed and repeated.
    """
    stream = container.add_stream(codec, rate=sample_rate)
    stream.layout = "mono"
    frame_size = stream.codec_context.frame_size or 1024
    total = int(seconds * sample_rate)
    period = max(1, sample_rate // 400)
    wave = array("h", (int(8000 * math.sin(2 * math.pi * n / period)) for n in range(period))).tobytes()
    wave *= frame_size // period + 2

    def frames():
        for start in range(0, total, frame_size):
            count = min(frame_size, total - start)
            frame = av.AudioFrame(format="s16", layout="mono", samples=count)
            offset = (start % period) * 2
            samples = wave[offset:offset + 2 * count]
            frame.planes[0].update(samples + bytes(frame.planes[0].buffer_size - len(samples)))
            frame.sample_rate = sample_rate
            frame.pts = start
            frame.time_base = Fraction(1, sample_rate)
            yield stream, frame
        yield stream, None  # flush the encoder

    return frames()


def make_mp4(path, *, seconds=2, fps=10, width=320, height=240, faststart=True, with_audio=False):
    """H.264 (libx264, yuv420p) in MP4; with faststart the moov atom (the index) comes first.

    with_audio adds an AAC sound track, as cameras with a microphone record.
    """
    options = {"movflags": "faststart"} if faststart else {}
    return _write_video(path, codec="libx264", seconds=seconds, fps=fps, width=width, height=height,
                        options=options, codec_options={"preset": "ultrafast", "tune": "zerolatency"},
                        format="mp4", with_audio=with_audio)


def make_mov(path, *, seconds=2, fps=10, width=320, height=240):
    """H.264 in a QuickTime .mov, as iPhones and many cameras save."""
    return _write_video(path, codec="libx264", seconds=seconds, fps=fps, width=width, height=height,
                        codec_options={"preset": "ultrafast", "tune": "zerolatency"}, format="mov")


def webm_codec():
    """The codec make_webm uses: VP9 or VP8 when this FFmpeg build can encode them, else None."""
    for name in ("libvpx-vp9", "libvpx"):
        if name in av.codecs_available:
            try:
                av.codec.Codec(name, "w")
            except (ValueError, av.error.FFmpegError):
                continue
            return name
    return None


def make_webm(path, *, seconds=2, fps=10, width=320, height=240):
    """VP9/VP8 in WebM when available; otherwise falls back to make_mkv (MPEG-4 Part 2 in Matroska)."""
    codec = webm_codec()
    if codec is None:
        return make_mkv(path, seconds=seconds, fps=fps, width=width, height=height)
    # Realtime settings: libvpx's defaults are far too slow for a test suite.
    codec_options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    return _write_video(path, codec=codec, seconds=seconds, fps=fps, width=width, height=height,
                        codec_options=codec_options, format="webm")


def make_mkv(path, *, seconds=2, fps=10, width=320, height=240):
    """MPEG-4 Part 2 video in Matroska."""
    return _write_video(path, codec="mpeg4", seconds=seconds, fps=fps, width=width, height=height,
                        format="matroska")


def make_avi(path, *, seconds=2, fps=10, width=320, height=240):
    """MPEG-4 Part 2 video in AVI, the classic DVR export."""
    return _write_video(path, codec="mpeg4", seconds=seconds, fps=fps, width=width, height=height,
                        format="avi")


def make_audio_only(path, *, seconds=2, sample_rate=8000):
    """Sound with no picture: a 400 Hz tone as AAC in .m4a (or PCM in .wav when path ends in .wav)."""
    path = os.fspath(path)
    wav = path.lower().endswith(".wav")
    with av.open(path, mode="w", format="wav" if wav else "ipod") as container:
        codec = "pcm_s16le" if wav else "aac"
        for stream, frame in _tone_frames(container, codec, seconds=seconds, sample_rate=sample_rate):
            container.mux(stream.encode(frame))
    return path


def make_truncated(path, source, *, fraction=0.5):
    """Copy the first part (half by default) of source's bytes to path: a download or copy cut short."""
    path = os.fspath(path)
    with open(source, "rb") as original:
        data = original.read()
    with open(path, "wb") as cut:
        cut.write(data[: int(len(data) * fraction)])
    return path
