"""benchmark.video_io: probing, clips of consecutive frames at a frame rate, box crops, errors (PyAV)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from benchmark import video_io
from benchmark.errors import DataError
from benchmark.video_io import probe, read_clips, write_video

N_FRAMES, FPS, HEIGHT, WIDTH = 45, 30, 48, 64
STEP = 5  # brightness of native frame j is STEP * j, so decoded clips say which frame they show


def numbered_frames(n: int = N_FRAMES) -> np.ndarray:
    frames = np.empty((n, HEIGHT, WIDTH, 3), dtype=np.uint8)
    frames[:] = (STEP * np.arange(n, dtype=np.uint8))[:, None, None, None]
    return frames


def frame_numbers(clips: np.ndarray) -> np.ndarray:
    """Native frame number shown by each output frame (from its mean brightness)."""
    return np.rint(clips.reshape(*clips.shape[:2], -1).mean(axis=-1) / STEP).astype(int)


def expected_frames(starts, n: int, native_fps: float, n_native: int, fps: float = 25.0) -> np.ndarray:
    """The contract, computed independently: frame k of a clip is the native frame nearest to the start
    of the frame at ``fps`` shown at start + (k + 0.5) / fps (n consecutive frames at fps)."""
    out = np.empty((len(starts), n), dtype=int)
    for c, start in enumerate(starts):
        for k in range(n):
            grid = math.floor((start + (k + 0.5) / fps) * fps + 1e-9)
            times = np.arange(n_native) / native_fps
            out[c, k] = int(np.argmin(np.abs(times - grid / fps)))
    return out


@pytest.fixture(scope="module", params=[".mp4", ".avi", ".mkv"])
def numbered(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("vio") / f"numbered{request.param}"
    write_video(path, numbered_frames(), FPS)
    return path


def test_probe_reads_rate_count_duration_and_size(numbered):
    info = probe(numbered)
    assert info.fps == pytest.approx(FPS)
    assert info.n_frames == N_FRAMES
    assert info.duration == pytest.approx(N_FRAMES / FPS)
    assert (info.width, info.height) == (WIDTH, HEIGHT)


def test_read_clips_shape_and_dtype(numbered):
    clips = read_clips(numbered, np.array([0.0, 0.4, 0.2]), n_frames=8, size=16, fps=10)
    assert clips.shape == (3, 8, 3, 16, 16)
    assert clips.dtype == np.uint8
    assert read_clips(numbered, np.array([]), n_frames=4, size=8, fps=4).shape == (0, 4, 3, 8, 8)


def test_clip_frames_are_the_nearest_native_frames_after_resampling_to_25_fps(numbered):
    # Unsorted, overlapping starts, and a clip running past the last frame (1.5 s).
    starts = [0.0, 0.9, 0.3, 0.31, 1.2]
    clips = read_clips(numbered, np.array(starts), n_frames=20, size=8, fps=25)
    want = expected_frames(starts, 20, FPS, N_FRAMES)
    np.testing.assert_array_equal(frame_numbers(clips), want)
    # 30 -> 25 fps drops every sixth native frame: 0.8-s clips of 20 frames show 20 distinct frames
    # spaced 1 or 2 native frames apart.
    dense = frame_numbers(clips)[0]
    assert set(np.diff(dense)) == {1, 2}
    assert dense[-1] == want[0, -1] == 23  # 25-fps frame 19 at 0.76 s is native frame 22.8 -> 23


def test_item08_fps_is_frames_per_second_so_a_clip_lasts_n_frames_over_fps(numbered):
    """8 frames at 15 fps (a GESTURES snippet) span 8 / 15 s: consecutive 15-fps frames, never 8
    frames spread over a longer window; 8 frames at 4 fps span 2 s."""
    snippet = frame_numbers(read_clips(numbered, np.array([0.0]), n_frames=8, size=8, fps=15))[0]
    np.testing.assert_array_equal(snippet, 2 * np.arange(8))  # every other native 30-fps frame
    assert snippet[-1] / FPS == pytest.approx(7 / 15)
    slow = frame_numbers(read_clips(numbered, np.array([0.0]), n_frames=6, size=8, fps=4))[0]
    np.testing.assert_array_equal(slow, [0, 7, 15, 22, 30, 37])  # 30 fps: k / 4 s is native frame 7.5 k, ties earlier
    # the clip length is not a separate argument that could disagree with n_frames / fps
    with pytest.raises(TypeError):
        read_clips(numbered, np.array([0.0]), 2.0, 8, 8)


def test_video_at_25_fps_is_sampled_frame_by_frame(tmp_path):
    path = tmp_path / "v25.mkv"
    write_video(path, numbered_frames(40), 25)
    clips = read_clips(path, np.array([0.2]), n_frames=10, size=8, fps=25)
    np.testing.assert_array_equal(frame_numbers(clips)[0], np.arange(5, 15))


def test_decoding_stops_after_the_last_needed_frame(monkeypatch, tmp_path):
    path = tmp_path / "long.mp4"
    write_video(path, numbered_frames(45), FPS)
    decoded = []
    real_open = video_io._open

    class Counting:
        def __init__(self, container):
            self._container = container

        def __getattr__(self, name):
            return getattr(self._container, name)

        def decode(self, *args, **kwargs):
            for frame in self._container.decode(*args, **kwargs):
                decoded.append(frame.pts)
                yield frame

    monkeypatch.setattr(video_io, "_open", lambda p: Counting(real_open(p)))
    clips = read_clips(path, np.array([0.0]), n_frames=9, size=8, fps=25)
    # Last needed: 25-fps frame 8 (0.32 s) = native frame 10; one more frame tells it is the nearest.
    assert frame_numbers(clips)[0, -1] == 10
    assert len(decoded) == 12


def test_boxes_crop_to_the_nearest_listed_frames_box(tmp_path):
    frames = np.zeros((N_FRAMES, HEIGHT, WIDTH, 3), dtype=np.uint8)
    frames[:, 4:20, 4:20] = (230, 20, 20)  # red square, top left
    frames[:, 28:44, 40:56] = (20, 230, 20)  # green square, bottom right
    path = tmp_path / "boxes.mkv"
    write_video(path, frames, FPS)
    boxes = pd.DataFrame(
        {"video_id": "v", "frame": [40, 0], "x0": [40, 4], "y0": [28, 4], "x1": [56, 20], "y1": [44, 20]}
    )
    clips = read_clips(path, np.array([0.0]), n_frames=15, size=8, fps=10, boxes=boxes)
    native = expected_frames([0.0], 15, FPS, N_FRAMES, fps=10)[0]
    mean_rgb = clips[0].mean(axis=(2, 3))
    for j, rgb in zip(native, mean_rgb):
        red = j - 0 <= 40 - j  # ties go to the earlier listed frame
        assert (rgb[0] > 200 and rgb[1] < 50) if red else (rgb[1] > 200 and rgb[0] < 50), (j, rgb)
    # Without boxes the whole frame is used: both squares and the black background appear.
    whole = read_clips(path, np.array([0.0]), n_frames=1, size=16, fps=5)[0, 0]
    assert whole[0].max() > 150 and whole[1].max() > 150 and whole.min() < 30


def test_boxes_are_made_square_and_moved_inside_the_image(tmp_path):
    frames = np.empty((5, HEIGHT, WIDTH, 3), dtype=np.uint8)
    frames[:] = (4 * np.arange(WIDTH, dtype=np.uint8))[None, None, :, None]  # brightness = 4 * x
    path = tmp_path / "ramp.mkv"
    write_video(path, frames, 25)
    # 14 x 40 box at the right edge -> 40 x 40 square centred on x = 57 -> moved left to x 24-64.
    boxes = pd.DataFrame({"frame": [0], "x0": [50], "y0": [0], "x1": [64], "y1": [40]})
    out = read_clips(path, np.array([0.0]), n_frames=1, size=8, fps=25, boxes=boxes)[0, 0, 0]
    centres = 24 + (np.arange(8) + 0.5) * 5 - 0.5  # source x of each output column's centre
    np.testing.assert_allclose(out.mean(axis=0), 4 * centres, atol=6)
    assert np.ptp(out, axis=0).max() <= 3  # rows identical: vertical position does not matter here


def test_missing_and_unreadable_files_raise_one_line_data_errors(tmp_path):
    missing = tmp_path / "nope.mp4"
    with pytest.raises(DataError, match="nope.mp4 not found") as err:
        probe(missing)
    assert "\n" not in str(err.value)
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"this is not a video" * 50)
    for call in (lambda: probe(garbage), lambda: read_clips(garbage, np.array([0.0]), n_frames=2, size=8, fps=2)):
        with pytest.raises(DataError) as err:
            call()
        message = str(err.value)
        assert "garbage.mp4" in message and "re-encode" in message and "\n" not in message


def test_malformed_boxes_are_rejected(numbered):
    bad = pd.DataFrame({"frame": [0], "x0": [10], "y0": [5], "x1": [10], "y1": [20]})
    with pytest.raises(DataError, match="x0 < x1"):
        read_clips(numbered, np.array([0.0]), n_frames=2, size=8, fps=10, boxes=bad)
    with pytest.raises(DataError, match="lack column"):
        read_clips(numbered, np.array([0.0]), n_frames=2, size=8, fps=10, boxes=bad.drop(columns="y1"))


def test_mkv_round_trip_is_lossless_and_writing_is_deterministic(tmp_path):
    frames = np.random.default_rng(0).integers(0, 256, (6, 16, 24, 3), dtype=np.uint8)
    write_video(tmp_path / "a.mkv", frames, 25)
    back = read_clips(tmp_path / "a.mkv", np.array([0.0]), n_frames=6, size=16, fps=25, boxes=None)[0]
    crop = read_clips(
        tmp_path / "a.mkv",
        np.array([0.0]),
        n_frames=6,
        size=16,
        fps=25,
        boxes=pd.DataFrame({"frame": [0], "x0": [8], "y0": [0], "x1": [24], "y1": [16]}),
    )[0]
    np.testing.assert_array_equal(crop.transpose(0, 2, 3, 1), frames[:, :, 8:])  # a 16 x 16 box: no resizing
    assert back.shape == (6, 3, 16, 16)
    for name in ("b.mp4", "c.mp4"):
        write_video(tmp_path / name, frames, 25)
    assert (tmp_path / "b.mp4").read_bytes() == (tmp_path / "c.mp4").read_bytes()


def test_write_video_checks_its_input(tmp_path):
    with pytest.raises(ValueError, match="uint8"):
        write_video(tmp_path / "x.mp4", np.zeros((2, 8, 8, 3), dtype=np.float32), 25)
    with pytest.raises(ValueError, match="no default codec"):
        write_video(tmp_path / "x.gif", np.zeros((2, 8, 8, 3), dtype=np.uint8), 25)
    with pytest.raises(ValueError, match="even"):
        write_video(tmp_path / "x.mp4", np.zeros((2, 7, 8, 3), dtype=np.uint8), 25)
    write_video(tmp_path / "x.mp4", np.zeros((3, 8, 8, 3), dtype=np.uint8), 25, codec="mpeg4")
    assert probe(tmp_path / "x.mp4").n_frames == 3
