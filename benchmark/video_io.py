"""Reading and writing video files for the video track (PyAV).

Three functions, the only place the benchmark touches video containers:

* :func:`probe` reads a video's frame rate, frame count, duration and frame size;
* :func:`read_clips` cuts clips out of one video: each clip is ``n_frames`` consecutive frames of the
  video resampled to ``fps`` frames per second, so it covers ``n_frames / fps`` seconds, each frame
  resized (or cropped to the patient's bounding box, then resized) to ``size x size`` RGB;
* :func:`write_video` writes RGB frames to a file whose container follows its suffix.

Timing
------
``fps`` is a frame rate, never a sampling density: a clip of ``n_frames`` frames at ``fps`` lasts
``n_frames / fps`` seconds (8 frames at 15 fps: 0.53 s; 96 frames over 10 s: 9.6 fps). Frame ``k`` of a
clip starting at ``start`` is the frame shown at time ``t = start + (k + 0.5) / fps`` by the video
resampled to ``fps``: the resampled frame ``g = floor(t * fps)`` (shown from ``g / fps`` on), so a clip is
the ``n_frames`` consecutive resampled frames from the one nearest ``start``. Resampled frame ``g`` is the
*native* frame whose presentation time is nearest to ``g / fps`` (ties go to the earlier frame).
Presentation times come from the frames' time stamps, measured from the first frame, so
variable-frame-rate files are resampled correctly too. Times before the first frame take the first
frame, times after the last take the last.

Frames are decoded sequentially, each needed frame once (clips may overlap), and decoding stops after
the last needed frame, so memory does not grow with the length of the video: only the output array and
one decoded frame are held.

Bounding boxes
--------------
With ``boxes`` (columns ``frame, x0, y0, x1, y1`` in pixels of the native frame; ``frame`` is the native
frame number counted from 0), each frame is cropped to the box of the nearest listed frame, widened to a
square around the box centre (the longer side), moved and if needed shrunk to lie inside the image, and
then resized. Without boxes the whole frame is resized to a square (the aspect ratio is not kept).
Resizing is bilinear with antialiasing (Pillow, whose filters widen with the reduction factor).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pandas as pd
from av.video.reformatter import VideoReformatter
from PIL import Image

from benchmark.errors import DataError

__all__ = ["DEFAULT_CODECS", "VIDEO_SUFFIXES", "VideoInfo", "probe", "read_clips", "write_video"]

#: Container suffixes the benchmark looks for (any container FFmpeg demuxes can be read).
VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v")
#: Codec :func:`write_video` uses for each suffix when none is given.
DEFAULT_CODECS = {
    # FFmpeg's own MPEG-4 Part 2 encoder: bit-for-bit reproducible, unlike libx264 whose output was
    # seen to vary between runs even on one thread.
    ".mp4": "mpeg4",
    ".m4v": "mpeg4",
    ".mov": "mpeg4",
    ".mkv": "ffv1",  # lossless: convenient for exact test fixtures
    ".avi": "mjpeg",
    ".webm": "libvpx-vp9",
}
_PIX_FMT = {"mjpeg": "yuvj420p", "ffv1": "bgra"}  # others: yuv420p
_MPEG4_Q = 3  # about 38 dB PSNR on the synthetic scenes, like libx264 at CRF 18
_BOX_COLUMNS = ("frame", "x0", "y0", "x1", "y1")
_FIX = "re-encode it (e.g. ffmpeg -i IN -c:v libx264 -pix_fmt yuv420p OUT.mp4) or fix its path"


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe` reads from a video file.

    Attributes
    ----------
    fps
        Native (average) frame rate.
    n_frames
        Number of frames of the first video stream.
    duration
        ``n_frames / fps`` seconds: the time the frames span.
    width, height
        Frame size in pixels.
    """

    fps: float
    n_frames: int
    duration: float
    width: int
    height: int


def _open(path: Path) -> av.container.InputContainer:
    if not path.is_file():
        raise DataError(f"video file {path} not found; check the path or restore the file")
    try:
        container = av.open(str(path))
    except (av.FFmpegError, UnicodeDecodeError) as err:
        raise DataError(f"cannot open video {path} ({_reason(err)}); {_FIX}") from None
    if not container.streams.video:
        container.close()
        raise DataError(f"{path} holds no video stream; {_FIX}")
    return container


def _reason(err: Exception) -> str:
    return " ".join(str(getattr(err, "strerror", None) or err).split()) or type(err).__name__


def _rate(stream) -> float:
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    return float(rate) if rate else 0.0


def probe(path: str | Path) -> VideoInfo:
    """Read frame rate, frame count, duration and frame size of a video file.

    Parameters
    ----------
    path
        Any container FFmpeg reads (.mp4, .avi, .mkv, .webm, .mov, ...); the first video stream is used.

    Returns
    -------
    VideoInfo

    Raises
    ------
    DataError
        The file is missing, unreadable, has no video stream, no frame rate, or no frames.

    Notes
    -----
    The frame count comes from the container header when it has one (MP4, AVI); otherwise (Matroska,
    WebM) the packets are counted, which reads the file without decoding it.
    """
    path = Path(path)
    container = _open(path)
    try:
        stream = container.streams.video[0]
        fps = _rate(stream)
        width, height = stream.codec_context.width, stream.codec_context.height
        n_frames = int(stream.frames or 0)
        if n_frames <= 0:
            n_frames = sum(1 for packet in container.demux(stream) if packet.size)
    except av.FFmpegError as err:
        raise DataError(f"cannot read video {path} ({_reason(err)}); {_FIX}") from None
    finally:
        container.close()
    if fps <= 0:
        raise DataError(f"video {path} has no frame rate in its header; {_FIX}")
    if n_frames <= 0 or width <= 0 or height <= 0:
        raise DataError(f"video {path} has no frames; {_FIX}")
    return VideoInfo(fps=fps, n_frames=n_frames, duration=n_frames / fps, width=width, height=height)


def _box_lookup(boxes: pd.DataFrame | None, path: Path):
    """A function native frame number -> crop box (or None), from the nearest listed frame."""
    if boxes is None or len(boxes) == 0:
        return lambda j: None
    missing = [c for c in _BOX_COLUMNS if c not in boxes.columns]
    if missing:
        raise DataError(
            f"bounding boxes for {path} lack column(s) {', '.join(missing)}; give video_id,frame,x0,y0,x1,y1"
        )
    if "video_id" in boxes.columns and boxes["video_id"].nunique() > 1:
        raise ValueError(f"boxes for {path} name several videos; pass only the rows of this video")
    table = boxes.sort_values("frame", kind="stable")
    frames = table["frame"].to_numpy(dtype=np.int64)
    coords = table[["x0", "y0", "x1", "y1"]].to_numpy(dtype=float)
    if not np.all(np.isfinite(coords)) or np.any(coords[:, 2] <= coords[:, 0]) or np.any(coords[:, 3] <= coords[:, 1]):
        raise DataError(f"bounding boxes for {path} must have finite x0 < x1 and y0 < y1; fix the boxes file")

    def lookup(j: int) -> np.ndarray:
        i = int(np.searchsorted(frames, j))
        if i == len(frames) or (i > 0 and j - frames[i - 1] <= frames[i] - j):
            i -= 1  # the earlier listed frame is at least as near
        return coords[i]

    return lookup


def _square_box(box: np.ndarray, width: int, height: int) -> tuple[float, float, float, float]:
    """``box`` widened to a square around its centre, then moved (and shrunk) to fit the image."""
    x0, y0, x1, y1 = box
    side = min(max(x1 - x0, y1 - y0, 1.0), float(width), float(height))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left = min(max(cx - side / 2, 0.0), width - side)
    top = min(max(cy - side / 2, 0.0), height - side)
    return (left, top, left + side, top + side)


def _to_square(rgb: np.ndarray, size: int, box: np.ndarray | None) -> np.ndarray:
    """``(H, W, 3)`` -> ``(3, size, size)`` uint8: whole frame or square crop, bilinear + antialias."""
    height, width = rgb.shape[:2]
    if box is None and height == width == size:
        return rgb.transpose(2, 0, 1)
    region = None if box is None else _square_box(box, width, height)
    img = Image.fromarray(rgb).resize((size, size), Image.Resampling.BILINEAR, box=region)
    return np.asarray(img).transpose(2, 0, 1)


def read_clips(
    path: str | Path,
    starts: np.ndarray,
    *,
    n_frames: int,
    size: int,
    fps: float,
    boxes: pd.DataFrame | None = None,
) -> np.ndarray:
    """Cut clips of consecutive, resized frames out of one video.

    Parameters
    ----------
    path
        The video file.
    starts
        Clip start times in seconds from the first frame, in any order (clips may overlap).
    n_frames
        Frames per clip: consecutive frames at ``fps``, so a clip lasts ``n_frames / fps`` seconds
        (see the module docstring for the timing).
    size
        Output frames are ``size x size`` pixels.
    fps
        Frames per second of the clip: the rate the video is resampled to.
    boxes
        Optional bounding boxes of this video (columns ``frame, x0, y0, x1, y1``, optionally
        ``video_id``); each frame is cropped to the square around its nearest listed box.

    Returns
    -------
    numpy.ndarray
        uint8 ``(len(starts), n_frames, 3, size, size)``, RGB.

    Raises
    ------
    DataError
        The file is missing or unreadable, or a box is malformed.
    """
    path = Path(path)
    starts = np.asarray(starts, dtype=float).reshape(-1)
    if n_frames < 1 or size < 1 or not fps > 0:
        raise ValueError("read_clips needs n_frames >= 1, size >= 1 and fps > 0")
    out = np.empty((starts.size, n_frames, 3, size, size), dtype=np.uint8)
    if starts.size == 0:
        return out
    targets, slots, bounds = _clip_targets(starts, n_frames, fps)
    slot_writer = _SlotWriter(out.reshape(-1, 3, size, size), slots, bounds, size, _box_lookup(boxes, path))
    container = _open(path)
    try:
        _emit_nearest_frames(container, path, targets, fps, slot_writer.emit)
    except av.FFmpegError as err:
        raise DataError(f"cannot decode video {path} ({_reason(err)}); {_FIX}") from None
    finally:
        container.close()
    return out


def _clip_targets(starts: np.ndarray, n_frames: int, fps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct frame times the clips need, ascending, and where each goes: output slots
    ``slots[bounds[i] : bounds[i + 1]]`` (flat clip-frame numbers) show target ``i``."""
    times = starts[:, None] + (np.arange(n_frames) + 0.5) / fps
    grid = np.floor(times * fps + 1e-6)  # the resampled frame shown at each time; 1e-6 absorbs rounding
    targets, owner = np.unique(grid / fps, return_inverse=True)  # sorted grid times; owner: slot -> target
    owner = owner.reshape(-1)
    slots = np.argsort(owner, kind="stable")  # output slots grouped by target, targets ascending
    bounds = np.searchsorted(owner[slots], np.arange(targets.size + 1))
    return targets, slots, bounds


class _SlotWriter:
    """Writes a decoded frame into the output slots of a target, converted and resized once per
    native frame (near targets often share one)."""

    def __init__(self, flat: np.ndarray, slots: np.ndarray, bounds: np.ndarray, size: int, box_of) -> None:
        self.flat, self.slots, self.bounds, self.size, self.box_of = flat, slots, bounds, size, box_of
        self.last: tuple[int, np.ndarray] | None = None  # (native frame number, resized frame)
        # One converter for all frames: building one per frame costs 20x the conversion.
        self.to_rgb = VideoReformatter()

    def emit(self, target: int, frame: av.VideoFrame, j: int) -> None:
        """Show native frame ``j`` (``frame``) at ``target``."""
        if self.last is None or self.last[0] != j:
            rgb = self.to_rgb.reformat(frame, format="rgb24").to_ndarray()
            self.last = (j, _to_square(rgb, self.size, self.box_of(j)))
        self.flat[self.slots[self.bounds[target] : self.bounds[target + 1]]] = self.last[1]


def _emit_nearest_frames(container, path: Path, targets: np.ndarray, fps: float, emit) -> None:
    """Decode the video once and call ``emit(target, frame, frame_number)`` with the native frame
    nearest to each target time, targets in ascending order; stop decoding after the last target."""
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"  # decoder threads; the output does not depend on them
    native_fps = _rate(stream) or fps
    time_base = float(stream.time_base) if stream.time_base else 0.0
    i, j = 0, -1
    prev, prev_t, t0 = None, 0.0, None
    for frame in container.decode(stream):
        j += 1
        if frame.pts is not None and time_base:
            t0 = frame.pts if t0 is None else t0
            t = (frame.pts - t0) * time_base
        else:
            t = prev_t + 1.0 / native_fps if prev is not None else 0.0
        if prev is not None:
            mid = (prev_t + t) / 2  # targets up to here are nearer to the previous frame
            while i < targets.size and targets[i] <= mid:
                emit(i, prev, j - 1)
                i += 1
            if i == targets.size:
                break
        prev, prev_t = frame, t
    if prev is None:
        raise DataError(f"video {path} has no decodable frames; {_FIX}")
    while i < targets.size:  # at or after the last frame (the loop ran to the end)
        emit(i, prev, j)
        i += 1


def write_video(path: str | Path, frames: np.ndarray, fps: float, codec: str | None = None) -> None:
    """Write RGB frames to a video file; the container follows the file suffix.

    Parameters
    ----------
    path
        Output file; ``.mp4``/``.mov``/``.m4v`` (MPEG-4 Part 2 by default), ``.avi`` (MJPEG),
        ``.mkv`` (FFV1 on RGB: lossless) or ``.webm`` (VP9).
    frames
        uint8 ``(N, H, W, 3)`` RGB. Codecs with 4:2:0 chroma (all but FFV1) need even ``H`` and ``W``.
    fps
        Frame rate.
    codec
        FFmpeg encoder name overriding the default for the suffix (e.g. ``"mpeg4"``).

    Notes
    -----
    Frames are encoded on one thread; with the default codecs the same frames give the same file
    bytes on the same PyAV build.
    MPEG-4 uses a fixed quantiser (3); ``codec="libx264"`` (constant quality, CRF 18, preset
    veryfast) writes smaller files, but its bytes can vary from run to run; the other encoders use
    FFmpeg's defaults.
    """
    path = Path(path)
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8 or frames.shape[0] == 0:
        raise ValueError(f"write_video needs uint8 frames (N, H, W, 3) with N >= 1, got {frames.dtype} {frames.shape}")
    suffix = path.suffix.lower()
    codec = codec or DEFAULT_CODECS.get(suffix)
    if codec is None:
        raise ValueError(f"no default codec for '{suffix}'; use one of {', '.join(DEFAULT_CODECS)} or pass codec")
    pix_fmt = _PIX_FMT.get(codec, "yuv420p")
    height, width = frames.shape[1:3]
    if pix_fmt.endswith("420p") and (height % 2 or width % 2):
        raise ValueError(f"{codec} with {pix_fmt} needs an even frame size, got {width}x{height}")
    path.parent.mkdir(parents=True, exist_ok=True)
    opaque = np.full((height, width, 1), 255, dtype=np.uint8)
    options = {"threads": "1"}
    if codec == "libx264":
        options.update(crf="18", preset="veryfast")
    elif codec == "mpeg4":
        options.update(qmin=str(_MPEG4_Q), qmax=str(_MPEG4_Q))  # fixed quantiser: constant quality
    with av.open(str(path), mode="w") as container:
        rate = Fraction(fps).limit_denominator(1001)
        rate_tb = 1 / rate
        stream = container.add_stream(codec, rate=rate, options=options)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        stream.codec_context.thread_count = 1
        if codec == "mpeg4":
            stream.codec_context.bit_rate = 50_000_000  # a ceiling only: the fixed quantiser sets the size
        for i, rgb in enumerate(frames):
            if pix_fmt == "bgra":  # FFV1 on RGB: lossless
                frame = av.VideoFrame.from_ndarray(np.concatenate([rgb[..., ::-1], opaque], axis=-1), format="bgra")
            else:  # FFmpeg converts to the codec's YCbCr (BT.601)
                frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = i, rate_tb
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
