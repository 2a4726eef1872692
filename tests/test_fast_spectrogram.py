"""Shared-frame spectrogram of overlapping windows and the window cache's integrity checks."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from benchmark import features
from benchmark.index import Patient, Recording, RecordingIndex
from benchmark.windows import INTEGRITY_FILE, NpyWriter, Preprocessing, WindowCache, _fill, check_entry


def _span(n_chans: int, n_samples: int, seed: int = 0) -> np.ndarray:
    return (30.0 * np.random.default_rng(seed).standard_normal((n_chans, n_samples))).astype(np.float32)


def _per_window(span, offsets, n_times, sfreq, params):
    return features.compute("spectrogram", np.stack([span[:, o : o + n_times] for o in offsets]), sfreq, params)


@pytest.mark.parametrize(
    "sfreq, n_times, params, offsets",
    [
        (256, 2560, {}, np.arange(30) * 256),  # ResNet-LSTM: 10-s windows every second
        (256, 2560, {"log": False, "mode": "magnitude"}, np.arange(12) * 128),
        (200, 1000, {"win_s": 0.5, "overlap": 0.75, "fmax": 40}, np.arange(15) * 75),
        (128, 777, {"win_s": 2.0, "overlap": 0.0, "fmax": 30}, np.arange(8) * 100),  # off the hop grid
        (256, 2560, {}, np.array([900, 0, 256, 131, 4000, 256])),  # unsorted, repeated, off-grid
        (255, 2550, {}, np.arange(10) * 255),  # odd frame length
    ],
)
def test_span_spectrogram_equals_the_per_window_definition(sfreq, n_times, params, offsets):
    span = _span(3, int(offsets.max()) + n_times + 17)
    fast = features.compute_span("spectrogram", span, offsets, n_times, sfreq, params)
    slow = _per_window(span, offsets, n_times, sfreq, params)
    assert fast.dtype == np.float32 and fast.shape == slow.shape
    # Same samples through the same arithmetic: equal to float32 rounding (bitwise in practice).
    np.testing.assert_allclose(fast, slow, rtol=1e-6, atol=1e-6)


def test_span_spectrogram_edge_frames_see_each_windows_own_padding():
    # A step in the middle of the span: the first frame of the window starting there differs from
    # the frame the previous window holds at that time, so sharing edge frames would be caught.
    span = _span(2, 256 * 20)
    span[:, 256 * 5 :] += 500.0
    offsets = np.arange(8) * 256
    fast = features.compute_span("spectrogram", span, offsets, 2560, 256, {})
    np.testing.assert_allclose(fast, _per_window(span, offsets, 2560, 256, {}), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("representation", ["raw", "bandpower"])
def test_compute_span_of_other_representations_is_per_window(representation):
    span, offsets = _span(2, 3000), np.array([0, 100, 440])
    out = features.compute_span(representation, span, offsets, 2560, 256, {})
    np.testing.assert_array_equal(
        out, features.compute(representation, np.stack([span[:, o : o + 2560] for o in offsets]), 256)
    )


def test_npy_writer_writes_rows_in_any_order(tmp_path):
    values = _span(6, 20).reshape(6, 4, 5)
    w = NpyWriter(tmp_path / "a.npy", values.shape, np.float32)
    w[np.array([3, 4, 5])] = values[3:]
    w[np.array([2, 0])] = values[[2, 0]]
    w[np.array([1])] = values[1:2]
    w.close()
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), values)


class _Reader:
    """Stands in for an EDF reader of a fixed signal (channels, samples) at 256 Hz."""

    def __init__(self, signal):
        self.signal, self.sfreq, self.n_samples = signal, 256.0, signal.shape[-1]

    def read(self, start, stop):
        return self.signal[:, int(round(start * 256)) : int(round(stop * 256))]


def test_fill_uses_the_shared_frames_and_stays_exact_across_read_spans():
    signal = _span(2, 256 * 400, seed=4)
    starts = np.arange(0, 390, 1.0)  # 10-s windows at a 1-s stride span several 120-s reads
    rows = pd.DataFrame({"start": starts, "end": starts + 10})
    prep = Preprocessing(("a", "b"), 256.0, "spectrogram", {})
    out = np.zeros((len(rows), 2, 21, 60), np.float32)
    _fill(_Reader(signal), rows, out, prep, 2560)
    expected = _per_window(signal, (starts * 256).astype(int), 2560, 256, {})
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-6)


# --- cache integrity -------------------------------------------------------------------------------


@pytest.fixture
def cached(tmp_path):
    """A tiny EDF, its index, a window table, and a function that opens the cache entry."""
    import edfio

    rng = np.random.default_rng(1)
    sig = [
        edfio.EdfSignal(rng.standard_normal(256 * 60) * 20, 256, label=c, physical_range=(-500, 500))
        for c in ("C3", "C4")
    ]
    edfio.Edf(sig).write(tmp_path / "r.edf")
    rec = Recording("r", "r.edf", 0.0, 60.0, 256.0, ("C3", "C4"))
    index = RecordingIndex("tiny", (Patient("p", (rec,)),), channels=("C3", "C4"), synthetic=True, root=str(tmp_path))
    starts = np.arange(0.0, 51.0, 1.0)
    table = pd.DataFrame({"patient": "p", "recording": "r", "start": starts, "end": starts + 10})
    prep = Preprocessing(("C3", "C4"), 256.0, "spectrogram", {})

    def get(verify="sampled"):
        arr, reused = WindowCache(tmp_path / "cache", verify=verify).get(index, "p", table, prep)
        return np.array(arr), reused, WindowCache(tmp_path / "cache").entry_dir(index, "p", table, prep)

    return get


def test_intact_entry_is_reused_and_has_an_integrity_record(cached):
    first, reused, entry = cached()
    assert not reused and (entry / INTEGRITY_FILE).exists() and check_entry(entry, full=True) is None
    again, reused, _ = cached(verify="full")
    assert reused
    np.testing.assert_array_equal(again, first)


@pytest.mark.parametrize("damage", ["truncate", "flip", "header", "no-record"])
def test_damaged_entry_is_rebuilt_with_a_warning(cached, damage, caplog):
    first, _, entry = cached()
    data = entry / "X.npy"
    raw = bytearray(data.read_bytes())
    if damage == "truncate":
        data.write_bytes(raw[: len(raw) - 1000])
    elif damage == "flip":
        raw[len(raw) // 2] ^= 0xFF  # small entries are hashed whole
        data.write_bytes(raw)
    elif damage == "header":
        n = len(np.load(data, mmap_mode="r"))
        data.write_bytes(raw.replace(f"'shape': ({n},".encode(), f"'shape': ({n - 1},".encode()).ljust(len(raw), b"\0"))
    else:
        (entry / INTEGRITY_FILE).unlink()
    assert check_entry(entry) is not None
    with caplog.at_level(logging.WARNING, logger="benchmark.windows"):
        rebuilt, reused, _ = cached()
    assert not reused
    assert any("damaged" in r.getMessage() and "rebuilding" in r.getMessage() for r in caplog.records)
    np.testing.assert_array_equal(rebuilt, first)
    assert check_entry(entry, full=True) is None


@pytest.mark.parametrize("bump", ["cache format", "feature code"])
def test_a_version_bump_never_reuses_an_entry_of_the_old_version(cached, monkeypatch, bump):
    import benchmark.windows as windows

    old, _, old_entry = cached()
    if bump == "cache format":
        monkeypatch.setattr(windows, "CACHE_VERSION", windows.CACHE_VERSION + 1)
    else:
        # New feature code: its output differs, and it declares a new FEATURES_VERSION.
        monkeypatch.setattr(features, "FEATURES_VERSION", features.FEATURES_VERSION + ".1")
        for name in ("spectrogram_frames", "spectrogram_edge_frames"):
            monkeypatch.setattr(features, name, lambda *a, _f=getattr(features, name), **k: _f(*a, **k) + 1.0)
    new, reused, new_entry = cached()
    assert not reused and new_entry != old_entry and check_entry(new_entry, full=True) is None
    if bump == "feature code":
        np.testing.assert_allclose(new, old + 1.0, rtol=1e-6)  # the new code's numbers, not the cached ones
    else:
        np.testing.assert_array_equal(new, old)
    monkeypatch.undo()
    again, reused, entry = cached()  # the old version's entry is still there, intact, for old code
    assert reused and entry == old_entry
    np.testing.assert_array_equal(again, old)


def test_a_replaced_edf_file_is_never_served_from_the_cache(cached, tmp_path):
    import edfio

    old, _, old_entry = cached()
    rng = np.random.default_rng(2)  # new content, same name, same length and channels
    sig = [
        edfio.EdfSignal(rng.standard_normal(256 * 60) * 20, 256, label=c, physical_range=(-500, 500))
        for c in ("C3", "C4")
    ]
    edfio.Edf(sig).write(tmp_path / "r.edf")
    new, reused, new_entry = cached()
    assert not reused and new_entry != old_entry
    assert not np.allclose(new, old)


def test_full_verification_catches_damage_between_sampled_blocks(tmp_path, monkeypatch):
    import benchmark.windows as windows

    # Make the sample smaller than the file so that only full verification reads every byte.
    monkeypatch.setattr(windows, "SAMPLE_BLOCKS", 2)
    monkeypatch.setattr(windows, "SAMPLE_BYTES", 64)
    entry = tmp_path / "e"
    entry.mkdir()
    values = _span(100, 50).reshape(100, 50)
    w = NpyWriter(entry / "X.npy", values.shape, np.float32)
    w[np.arange(100)] = values
    crc = w.close()
    import json

    rec = windows._integrity_record(entry / "X.npy", values.shape, np.float32, w.header_bytes, crc)
    rec["parts"] = {}  # an entry of X.npy alone
    (entry / INTEGRITY_FILE).write_text(json.dumps(rec))
    assert check_entry(entry, full=True) is None
    raw = bytearray((entry / "X.npy").read_bytes())
    raw[len(raw) // 2] ^= 0x01
    (entry / "X.npy").write_bytes(raw)
    assert check_entry(entry) is None  # the sampled blocks missed it ...
    assert "every byte" in check_entry(entry, full=True)  # ... the full check does not
