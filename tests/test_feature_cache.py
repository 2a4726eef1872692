"""ClipFeatureCache: computes each clip once, keeps order, and never uses a bad entry."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest

from benchmark.feature_cache import FORMAT_VERSION, ClipFeatureCache, cached_features, compute_features
from benchmark.windowset import WindowSet

EXTRACTOR = {"name": "toy", "weights": "random-init:0", "input_size": 4}


def clips(seed: int = 0, n_frames: int = 2, size: int = 4) -> WindowSet:
    """Nine SYNTHETIC uint8 clips: two patients, three videos of 4, 3 and 2 clips."""
    videos = [("p1", "v1", 4), ("p1", "v2", 3), ("p2", "v3", 2)]
    rows = [
        {"patient": p, "recording": v, "start": 2.0 * k, "end": 2.0 * k + 2.0, "unit": v}
        for p, v, n in videos
        for k in range(n)
    ]
    data = np.random.default_rng(seed).integers(0, 256, size=(len(rows), n_frames, 3, size, size), dtype=np.uint8)
    info = {
        "representation": "video",
        "n_frames": n_frames,
        "size": size,
        "fps": 25.0,
        "window_s": 2.0,
        "dataset": "toy-synthetic",
        "synthetic": True,
    }
    refs = np.column_stack([np.zeros(len(rows), dtype=np.int64), np.arange(len(rows))])
    return WindowSet([data], refs, pd.DataFrame(rows), None, ("a", "b"), info)


class Counting:
    """A feature extractor (per-frame channel means, scaled) that records how many clips it saw."""

    def __init__(self, scale: float = 1.0):
        self.scale, self.calls, self.clips = scale, 0, 0

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        self.calls += 1
        self.clips += len(batch)
        return (batch.mean(axis=(3, 4)) * self.scale).astype(np.float32)  # (b, frames, 3)


def entry_files(root, video: str):
    (npy,) = root.rglob(f"{video}.npy")
    return npy, npy.with_suffix(".json")


def test_second_call_reads_the_cache(tmp_path):
    ws, compute = clips(), Counting()
    cache = ClipFeatureCache(tmp_path)
    first = cache.get_or_compute(ws, EXTRACTOR, compute, batch_size=2)
    assert compute.clips == len(ws) and first.shape == (len(ws), 2, 3) and first.dtype == np.float32
    np.testing.assert_allclose(first, compute_features(ws, Counting()))
    again = ClipFeatureCache(tmp_path).get_or_compute(ws, EXTRACTOR, compute)
    assert compute.clips == len(ws)  # nothing recomputed
    np.testing.assert_array_equal(again, first)
    sidecar = json.loads(entry_files(tmp_path, "v1")[1].read_text())
    assert sidecar["format"] == FORMAT_VERSION and sidecar["clips"] == [[0.0, 2.0], [2.0, 4.0], [4.0, 6.0], [6.0, 8.0]]
    assert sidecar["dataset"] == "toy-synthetic" and sidecar["patient"] == "p1"


def test_order_of_clips_is_preserved(tmp_path):
    ws, compute = clips(), Counting()
    cache = ClipFeatureCache(tmp_path)
    cache.get_or_compute(ws, EXTRACTOR, compute)
    order = np.random.default_rng(3).permutation(len(ws))
    shuffled = ws.subset(np.concatenate([order, order[:2]]))  # shuffled, with two repeats
    got = cache.get_or_compute(shuffled, EXTRACTOR, compute)
    np.testing.assert_allclose(got, compute_features(shuffled, Counting()))
    assert compute.clips == len(ws)


def test_new_clips_of_a_cached_video_are_added(tmp_path):
    ws, compute = clips(), Counting()
    cache = ClipFeatureCache(tmp_path)
    cache.get_or_compute(ws.subset(np.arange(2)), EXTRACTOR, compute)  # two clips of v1
    assert compute.clips == 2
    full = cache.get_or_compute(ws, EXTRACTOR, compute)
    assert compute.clips == len(ws)  # only the 7 missing clips were computed
    np.testing.assert_allclose(full, compute_features(ws, Counting()))
    assert len(json.loads(entry_files(tmp_path, "v1")[1].read_text())["clips"]) == 4


def test_different_extractors_do_not_collide(tmp_path):
    ws = clips()
    cache = ClipFeatureCache(tmp_path)
    a, b = Counting(1.0), Counting(-2.0)
    fa = cache.get_or_compute(ws, EXTRACTOR, a)
    fb = cache.get_or_compute(ws, {**EXTRACTOR, "weights": "sha256:abc"}, b)
    assert b.clips == len(ws)  # another weights digest is another entry
    np.testing.assert_allclose(fb, -2.0 * fa)
    np.testing.assert_array_equal(cache.get_or_compute(ws, EXTRACTOR, a), fa)
    np.testing.assert_array_equal(cache.get_or_compute(ws, {**EXTRACTOR, "weights": "sha256:abc"}, b), fb)
    assert (a.clips, b.clips) == (len(ws), len(ws))
    # The clip representation is part of the key too.
    other = clips()
    other.info["fps"] = 15.0
    c = Counting()
    cache.get_or_compute(other, EXTRACTOR, c)
    assert c.clips == len(ws)


def _recomputes_v1(tmp_path, caplog, damage, reason: str):
    ws, compute = clips(), Counting()
    cache = ClipFeatureCache(tmp_path)
    expected = cache.get_or_compute(ws, EXTRACTOR, compute)
    npy, sidecar = entry_files(tmp_path, "v1")
    damage(npy, sidecar)
    with caplog.at_level(logging.WARNING, logger="benchmark.feature_cache"):
        got = cache.get_or_compute(ws, EXTRACTOR, compute)
    np.testing.assert_array_equal(got, expected)
    assert compute.clips == len(ws) + 4  # v1 (4 clips) rebuilt, the other videos read
    assert "p1/v1" in caplog.text and reason in caplog.text
    caplog.clear()
    cache.get_or_compute(ws, EXTRACTOR, compute)  # the rebuilt entry is good again
    assert compute.clips == len(ws) + 4 and not caplog.text


def test_altered_array_is_detected_and_rebuilt(tmp_path, caplog):
    def flip_last_byte(npy, sidecar):
        data = bytearray(npy.read_bytes())
        data[-1] ^= 0xFF
        npy.write_bytes(bytes(data))

    _recomputes_v1(tmp_path, caplog, flip_last_byte, "checksum")


def test_truncated_array_is_detected_and_rebuilt(tmp_path, caplog):
    def truncate(npy, sidecar):
        npy.write_bytes(npy.read_bytes()[:-10])

    _recomputes_v1(tmp_path, caplog, truncate, "cannot be read")


def test_version_mismatch_is_rebuilt(tmp_path, caplog):
    def old_version(npy, sidecar):
        info = json.loads(sidecar.read_text())
        info["format"] = FORMAT_VERSION - 1
        sidecar.write_text(json.dumps(info))

    _recomputes_v1(tmp_path, caplog, old_version, "format version")


def test_missing_sidecar_is_rebuilt(tmp_path, caplog):
    _recomputes_v1(tmp_path, caplog, lambda npy, sidecar: sidecar.unlink(), "missing")


def test_changed_pixels_under_the_same_dataset_name_are_detected(tmp_path, caplog):
    compute = Counting()
    cache = ClipFeatureCache(tmp_path)
    cache.get_or_compute(clips(seed=0), EXTRACTOR, compute)
    regenerated = clips(seed=1)  # same ids and times, other pixels
    with caplog.at_level(logging.WARNING, logger="benchmark.feature_cache"):
        got = cache.get_or_compute(regenerated, EXTRACTOR, compute)
    np.testing.assert_allclose(got, compute_features(regenerated, Counting()))
    assert compute.clips == 2 * len(regenerated) and "pixels" in caplog.text


def test_without_cache_dir_features_are_computed(tmp_path):
    ws, compute = clips(), Counting()
    np.testing.assert_allclose(cached_features(ws, EXTRACTOR, compute, None), compute_features(ws, Counting()))
    cached_features(ws, EXTRACTOR, compute, None)
    assert compute.clips == 2 * len(ws)
    assert not any(tmp_path.iterdir())


def test_bad_inputs_are_refused(tmp_path):
    cache = ClipFeatureCache(tmp_path)
    with pytest.raises(ValueError, match="plain JSON"):
        cache.get_or_compute(clips(), {"name": "toy", "fn": print}, Counting())
    with pytest.raises(ValueError, match="returned shape"):
        cache.get_or_compute(clips(), EXTRACTOR, lambda batch: np.zeros((1, 3), np.float32))
