"""Checking uploads are real, complete video, and fingerprinting them: real files, no mocks."""

import hashlib
import json
import logging
import random
import time

import av
import av.logging
import pytest
from PIL import Image

from requests_app import media
from requests_app.media import MediaFacts, NotVideoError, browser_playable, probe_video, sha256_file
from requests_app.tests import videos

MATROSKA = "matroska,webm"


def rejection(path, **kwargs):
    """The reason probe_video gives for refusing path (fails the test if it accepts the file)."""
    with pytest.raises(NotVideoError) as caught:
        probe_video(path, **kwargs)
    reason = str(caught.value)
    assert reason.startswith("This "), reason  # a sentence for the owner, not an FFmpeg message
    return reason


# --- Real video is accepted --------------------------------------------------------------------

@pytest.mark.parametrize("faststart", [True, False], ids=["index-at-front", "index-at-end"])
def test_an_h264_mp4_is_accepted_with_its_codec_size_duration_and_frame_rate(tmp_path, faststart):
    path = videos.make_mp4(tmp_path / "clip.mp4", seconds=2, fps=10, width=320, height=240, faststart=faststart)

    facts = probe_video(path)

    assert facts.container == "mp4"
    assert facts.codec == "h264"
    assert (facts.width, facts.height) == (320, 240)
    assert facts.duration_s == pytest.approx(2.0, abs=0.2)
    assert facts.frame_rate == pytest.approx(10.0)
    assert browser_playable(facts) is True


def test_an_mp4_with_a_sound_track_is_accepted_as_video(tmp_path):
    path = videos.make_mp4(tmp_path / "with-sound.mp4", seconds=2, with_audio=True)

    facts = probe_video(path)

    assert facts.codec == "h264"
    assert facts.duration_s == pytest.approx(2.0, abs=0.2)


def test_a_quicktime_mov_is_accepted_labelled_mov_and_playable(tmp_path):
    path = videos.make_mov(tmp_path / "IMG_0001.MOV", seconds=2)

    facts = probe_video(path)

    assert (facts.container, facts.codec) == ("mov", "h264")
    assert facts.duration_s == pytest.approx(2.0, abs=0.2)
    assert browser_playable(facts) is True


def test_a_webm_video_is_accepted_and_playable_in_browsers(tmp_path):
    path = videos.make_webm(tmp_path / "clip.webm", seconds=3, width=256, height=144)
    codec = videos.webm_codec()

    facts = probe_video(path)

    assert facts.container == MATROSKA
    assert facts.codec == {"libvpx-vp9": "vp9", "libvpx": "vp8", None: "mpeg4"}[codec]
    assert (facts.width, facts.height) == (256, 144)
    assert facts.duration_s == pytest.approx(3.0, abs=0.2)
    assert browser_playable(facts) is (codec is not None)


def test_a_matroska_video_is_accepted(tmp_path):
    path = videos.make_mkv(tmp_path / "clip.mkv", seconds=2, width=320, height=240)

    facts = probe_video(path)

    assert facts.container == MATROSKA
    assert facts.codec == "mpeg4"
    assert (facts.width, facts.height) == (320, 240)
    assert facts.duration_s == pytest.approx(2.0, abs=0.2)
    assert browser_playable(facts) is False  # MPEG-4 Part 2 needs converting before a browser plays it


def test_an_avi_video_is_accepted_but_is_not_browser_playable(tmp_path):
    path = videos.make_avi(tmp_path / "dvr-export.avi", seconds=2, fps=10, width=320, height=240)

    facts = probe_video(path)

    assert facts.container == "avi"
    assert facts.codec == "mpeg4"
    assert (facts.width, facts.height) == (320, 240)
    assert facts.duration_s == pytest.approx(2.0, abs=0.2)
    assert browser_playable(facts) is False


def test_media_facts_are_json_ready_for_storing_on_the_submission(tmp_path):
    facts = probe_video(videos.make_mp4(tmp_path / "clip.mp4"))

    stored = json.loads(json.dumps(facts.as_dict()))

    assert stored == {"container": "mp4", "codec": "h264", "duration_s": pytest.approx(2.0, abs=0.2),
                      "width": 320, "height": 240, "frame_rate": pytest.approx(10.0)}
    assert MediaFacts(**stored) == facts


@pytest.mark.parametrize(("container", "codec", "playable"), [
    ("mp4", "h264", True),
    ("mp4", "av1", True),
    ("mov", "h264", True),
    ("mp4", "hevc", False),
    (MATROSKA, "vp9", True),
    (MATROSKA, "vp8", True),
    ("avi", "mpeg4", False),
    ("avi", "h264", False),
    ("mpegts", "h264", False),
])
def test_browser_playable_means_a_browser_container_holding_a_browser_codec(container, codec, playable):
    facts = MediaFacts(container=container, codec=codec, duration_s=1.0, width=320, height=240, frame_rate=10.0)

    assert browser_playable(facts) is playable


# --- Files that are not video are refused, with a reason the owner understands ------------------

def test_a_text_file_is_rejected_as_a_text_document(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("Camera 2 saw a van at 10:42.\n" * 40)

    assert "(it looks like a text document)" in rejection(path)


def test_text_in_an_old_8_bit_encoding_is_rejected_too(tmp_path):
    path = tmp_path / "receipt.txt"
    path.write_bytes("Café receipt, total 12.50\n".encode("cp1252") * 40)

    assert "(it looks like a text document)" in rejection(path)


def test_a_pdf_is_rejected_as_a_pdf_document(tmp_path):
    path = tmp_path / "statement.mp4"
    path.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" * 20)

    reason = rejection(path)

    assert reason == "This file is not a video the portal can read (it looks like a PDF document)."


def test_a_jpeg_photo_is_rejected_even_when_named_like_a_video(tmp_path):
    path = tmp_path / "photo.mp4"
    Image.new("RGB", (64, 48), (200, 30, 30)).save(path, format="JPEG")

    assert "(it looks like a JPEG photo)" in rejection(path)


def test_a_still_picture_ffmpeg_can_open_is_rejected_even_without_a_known_signature(tmp_path):
    # PPM has no entry in the portal's signature list, so this is refused by FFmpeg's own verdict.
    path = tmp_path / "frame.ppm"
    Image.new("RGB", (64, 48), (255, 0, 0)).save(path, format="PPM")

    assert "still picture" in rejection(path)


def test_an_empty_file_is_rejected(tmp_path):
    path = tmp_path / "empty.mp4"
    path.write_bytes(b"")

    assert "empty" in rejection(path)


@pytest.mark.parametrize("seed", range(5))
def test_random_bytes_are_rejected_without_any_ffmpeg_error_escaping(tmp_path, seed):
    path = tmp_path / "noise.mp4"
    path.write_bytes(random.Random(seed).randbytes(10_000 * (seed + 1)))

    assert rejection(path) == "This file is not a video the portal can read."


@pytest.mark.parametrize("name", ["sound.m4a", "sound.wav"])
def test_a_sound_recording_without_pictures_is_rejected(tmp_path, name):
    path = videos.make_audio_only(tmp_path / name)

    assert "(it contains sound only, no pictures)" in rejection(path)


# --- Incomplete uploads are refused ------------------------------------------------------------

def test_an_mp4_cut_short_with_its_index_at_the_end_is_rejected_when_opened(tmp_path):
    whole = videos.make_mp4(tmp_path / "whole.mp4", faststart=False)
    cut = videos.make_truncated(tmp_path / "cut.mp4", whole)

    reason = rejection(cut, decode_check=False)  # fails already at opening: the index never arrived

    assert reason.startswith("This video is incomplete or damaged: its index is missing")


def test_a_faststart_mp4_cut_short_opens_but_is_caught_by_the_decode_check(tmp_path):
    whole = videos.make_mp4(tmp_path / "whole.mp4", faststart=True)
    cut = videos.make_truncated(tmp_path / "cut.mp4", whole)

    assert probe_video(cut, decode_check=False).duration_s == pytest.approx(2.0, abs=0.2)  # the header is intact
    assert rejection(cut) == "This video is incomplete or damaged: it ends before its last frame."


@pytest.mark.parametrize("make", [videos.make_webm, videos.make_mkv, videos.make_avi],
                         ids=["webm", "matroska", "avi"])
def test_other_containers_cut_short_are_rejected_as_incomplete(tmp_path, make):
    whole = make(tmp_path / "whole.video", seconds=3)
    cut = videos.make_truncated(tmp_path / "cut.video", whole)

    assert rejection(cut).startswith("This video is incomplete or damaged")


def test_a_video_whose_pictures_are_largely_garbage_is_rejected_as_damaged(tmp_path):
    videos.make_mp4(tmp_path / "clip.mp4", seconds=4, faststart=True)  # index first, pictures after
    data = bytearray((tmp_path / "clip.mp4").read_bytes())
    pictures = data.index(b"mdat") + 4
    quarter = pictures + (len(data) - pictures) // 4
    data[quarter:] = random.Random(1).randbytes(len(data) - quarter)  # same length: all but the first quarter is noise
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(data)

    assert rejection(damaged) == "This video is incomplete or damaged: some of its pictures cannot be decoded."


def test_an_mp4_header_followed_by_garbage_is_rejected(tmp_path):
    videos.make_mp4(tmp_path / "clip.mp4")
    real = (tmp_path / "clip.mp4").read_bytes()
    path = tmp_path / "broken.mp4"
    path.write_bytes(real[:32] + random.Random(2).randbytes(5000))  # the ftyp box, then noise

    assert rejection(path).startswith("This video is incomplete or damaged")


def test_a_missing_file_is_a_programming_error_not_an_owners_mistake(tmp_path):
    with pytest.raises(FileNotFoundError):
        probe_video(tmp_path / "never-written.mp4")


# --- Long files --------------------------------------------------------------------------------

def test_a_thirty_second_video_is_checked_at_both_ends_in_well_under_a_second(tmp_path):
    path = videos.make_mp4(tmp_path / "long.mp4", seconds=30, fps=10, width=320, height=240)
    assert media.FULL_CHECK_SECONDS < 30  # so this takes the bounded head-and-tail path

    started = time.perf_counter()
    facts = probe_video(path)
    elapsed = time.perf_counter() - started

    assert facts.duration_s == pytest.approx(30.0, abs=0.2)
    assert elapsed < 1.0


def test_a_long_faststart_mp4_cut_in_half_is_caught_by_the_check_at_its_end(tmp_path):
    whole = videos.make_mp4(tmp_path / "long.mp4", seconds=30)
    cut = videos.make_truncated(tmp_path / "cut.mp4", whole)

    started = time.perf_counter()
    reason = rejection(cut)

    assert reason == "This video is incomplete or damaged: it ends before its last frame."
    assert time.perf_counter() - started < 1.0


def test_probing_keeps_ffmpeg_quiet_and_restores_the_log_level_afterwards(tmp_path, caplog):
    cut = videos.make_truncated(tmp_path / "cut.mp4", videos.make_mp4(tmp_path / "whole.mp4"))
    av.logging.set_level(av.logging.VERBOSE)
    try:
        with caplog.at_level(logging.DEBUG, logger="libav"):
            rejection(cut)
        assert av.logging.get_level() == av.logging.VERBOSE
    finally:
        av.logging.set_level(None)

    assert [record for record in caplog.records if record.name.startswith("libav")] == []


# --- Fingerprints ------------------------------------------------------------------------------

def test_sha256_file_matches_hashlib_for_a_file_read_in_many_chunks(tmp_path):
    data = random.Random(3).randbytes(10_007)  # not a multiple of the chunk size: the last chunk is short
    path = tmp_path / "footage.bin"
    path.write_bytes(data)

    assert sha256_file(path, chunk_size=1000) == hashlib.sha256(data).hexdigest()
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()


def test_sha256_file_of_an_empty_file_is_the_hash_of_nothing(tmp_path):
    path = tmp_path / "empty.bin"
    path.write_bytes(b"")

    assert sha256_file(path) == hashlib.sha256(b"").hexdigest()
