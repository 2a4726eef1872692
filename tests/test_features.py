"""Input representations: shapes, values against known signals, cache keys, user errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.signal

from benchmark import adapters, features
from benchmark.errors import DataError, UnknownNameError

ALPHA = [b.name for b in features.BANDS].index("alpha")


def sine(freq: float, sfreq: float, seconds: float, n: int = 2, n_chans: int = 3, amp: float = 20.0) -> np.ndarray:
    t = np.arange(int(seconds * sfreq)) / sfreq
    return np.broadcast_to(amp * np.sin(2 * np.pi * freq * t), (n, n_chans, len(t))).astype(np.float32)


def noise(shape, seed: int = 0, scale: float = 10.0) -> np.ndarray:
    return (scale * np.random.default_rng(seed).standard_normal(shape)).astype(np.float32)


def test_registry_matches_adapter_contract():
    # Video clips are read and cut by benchmark.windows (frames, not EEG features).
    assert set(features.REPRESENTATIONS) == set(adapters.REPRESENTATIONS) - {"video"}


def test_raw_is_unchanged_float32():
    x = noise((3, 2, 100))
    out = features.compute("raw", x, 128, {})
    assert out.dtype == np.float32 and np.shares_memory(out, x)
    out64 = features.compute("raw", x.astype(np.float64), 128)
    assert out64.dtype == np.float32
    np.testing.assert_array_equal(out64, x)


def test_band_power_of_10hz_sine_peaks_in_alpha_with_the_right_power():
    x = sine(10.0, 256, 10.0, amp=20.0)
    bp = features.band_power(x, 256, log=False)
    assert bp.shape == (2, 3, len(features.BANDS))
    assert (bp.argmax(axis=-1) == ALPHA).all()
    # A sine of amplitude A has power A^2 / 2; the Hann leakage stays inside the 8-13 Hz band.
    np.testing.assert_allclose(bp[..., ALPHA], 20.0**2 / 2, rtol=0.01)
    logbp = features.band_power(x, 256, log=True)
    np.testing.assert_allclose(logbp, np.log10(bp + features.LOG_FLOOR), rtol=1e-5)


def test_band_power_moves_with_the_rhythm():
    bp = features.band_power(sine(6.0, 128, 4.0), 128)
    assert (bp.argmax(axis=-1) == [b.name for b in features.BANDS].index("theta")).all()


def test_band_power_matches_scipy_welch():
    x = noise((4, 3, 2560), seed=1)
    ours = features.band_power(x, 256, log=False, welch_s=2.0)
    freqs, psd = scipy.signal.welch(x.astype(np.float64), fs=256, nperseg=512, axis=-1)
    for i, band in enumerate(features.BANDS):
        mask = (freqs >= band.lo) & (freqs < band.hi)
        np.testing.assert_allclose(ours[..., i], psd[..., mask].sum(-1) * (freqs[1] - freqs[0]), rtol=1e-4)


def test_band_power_custom_bands_and_flat_channel_stays_finite():
    x = noise((2, 2, 512))
    x[:, 1] = 0.0
    out = features.compute("bandpower", x, 128, {"bands": [["slow", 1, 4], ["fast", 20, 40]]})
    assert out.shape == (2, 2, 2)
    assert np.isfinite(out).all()
    assert np.allclose(out[:, 1], np.log10(features.LOG_FLOOR), atol=1e-3)


def test_spectrogram_shape_for_10s_at_256hz_is_21_frames_by_60_bins():
    x = noise((2, 18, 2560))
    assert features.spectrogram(x, 256).shape == (2, 18, 21, 60)
    assert features.output_shape("spectrogram", 18, 2560, 256, {}) == (18, 21, 60)


def test_spectrogram_bins_are_1_to_60_hz():
    spec = features.spectrogram(sine(10.0, 256, 10.0), 256)
    middle = spec[:, :, 1:-1]  # edge frames see the reflected padding
    assert (middle.argmax(axis=-1) == 9).all()  # bin k holds k + 1 Hz


def test_spectrogram_density_scaling_obeys_parseval():
    x = noise((8, 2, 1280), seed=3, scale=10.0)
    # fmax at Nyquist keeps every bin but DC, so the summed density equals the variance.
    spec = features.spectrogram(x, 128, win_s=1.0, overlap=0.5, fmax=64, log=False)
    total = spec[:, :, 1:-1].sum(axis=-1).mean()  # 1-Hz bins: density sum * 1 Hz
    assert total == pytest.approx(100.0, rel=0.05)


def test_spectrogram_magnitude_is_sqrt_of_power():
    x = noise((2, 2, 640))
    power = features.spectrogram(x, 128, log=False)
    mag = features.spectrogram(x, 128, log=False, mode="magnitude")
    np.testing.assert_allclose(mag, np.sqrt(power), rtol=1e-5)


@pytest.mark.parametrize(
    "representation, n_chans, n_times, sfreq, params",
    [
        ("raw", 4, 256, 128, {}),
        ("bandpower", 18, 2560, 256, {}),
        ("bandpower", 3, 1000, 200, {"welch_s": 1.0, "bands": [["a", 1, 10]]}),
        ("spectrogram", 18, 2560, 256, {}),
        ("spectrogram", 2, 1000, 200, {"win_s": 0.5, "overlap": 0.75, "fmax": 40}),
        ("spectrogram", 2, 777, 128, {"win_s": 2.0, "overlap": 0.0, "fmax": 30}),
    ],
)
def test_output_shape_matches_compute(representation, n_chans, n_times, sfreq, params):
    x = noise((3, n_chans, n_times))
    out = features.compute(representation, x, sfreq, params)
    assert out.dtype == np.float32
    assert out.shape == (3, *features.output_shape(representation, n_chans, n_times, sfreq, params))


def test_representation_key_fills_defaults_and_is_stable():
    key = features.representation_key("bandpower", {})
    json.dumps(key)
    assert key["params"]["bands"][0] == ["delta", 0.5, 4.0]
    assert key == features.representation_key("bandpower", {"welch_s": 2, "log": True})
    assert key != features.representation_key("bandpower", {"welch_s": 1.0})
    assert features.representation_key("spectrogram", {})["params"]["fmax"] == 60.0
    assert features.representation_key("raw")["params"] == {"zscore": False}


def test_unknown_representation_or_parameter_is_a_one_line_user_error():
    with pytest.raises(UnknownNameError, match="Did you mean 'spectrogram'"):
        features.compute("spectogram", noise((1, 1, 256)), 128)
    with pytest.raises(UnknownNameError, match="fmax"):
        features.output_shape("spectrogram", 1, 256, 128, {"f_max": 40})


def test_frequencies_above_nyquist_are_rejected():
    with pytest.raises(DataError, match="Nyquist"):
        features.output_shape("bandpower", 2, 640, 64, {})  # gamma reaches 45 Hz > 32 Hz
    with pytest.raises(DataError, match="Nyquist"):
        features.compute("spectrogram", noise((1, 1, 640)), 100, {})  # fmax 60 > 50 Hz


def test_to_device_wraps_cpu_batches_without_a_copy_and_pins_for_cuda():
    import torch

    from benchmark.torch_utils import to_device

    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = to_device(x, torch.device("cpu"))
    assert t.device.type == "cpu" and np.shares_memory(t.numpy(), x)
    if torch.cuda.is_available():  # on a GPU: the copy lands on the device intact
        g = to_device(x, torch.device("cuda"))
        assert g.device.type == "cuda" and np.array_equal(g.cpu().numpy(), x)


def test_item06_a_512hz_recording_cached_at_256hz_is_scipys_resample_poly_of_it(tmp_path):
    """The representation parameter ``sfreq`` makes the window cache resample each recording: the
    windows of a 512-Hz recording prepared at 256 Hz are those of scipy's resample_poly of it."""
    from pathlib import Path

    import pandas as pd

    from benchmark.datasets import load_dataset
    from benchmark.datasets.synthetic import generate
    from benchmark.edf import EdfReader
    from benchmark.windows import Preprocessing, WindowCache
    from tests.conftest import tiny_config

    root = generate(tmp_path / "ds", tiny_config(n_patients=1, sfreq=512))
    index = load_dataset("chbmit-synthetic", root)
    patient = index.patients[0]
    rec = max(patient.recordings, key=lambda r: r.duration or 0)
    assert float(rec.sfreq) == 512.0
    params = {"zscore": False, "sfreq": 256}
    rate = features.target_sfreq(params, float(rec.sfreq))
    assert rate == 256.0 and features.target_sfreq({"zscore": False}, 512.0) == 512.0
    prep = Preprocessing(tuple(index.channels), rate, "raw", params)
    starts = np.array([20.0, 21.5, 100.0, float(rec.duration) - 30.0])
    table = pd.DataFrame(
        {"patient": patient.patient_id, "recording": rec.recording_id, "start": starts, "end": starts + 1}
    )
    got = np.asarray(WindowCache(tmp_path / "cache").get(index, patient.patient_id, table, prep)[0])
    assert got.shape == (4, len(index.channels), 256)
    with EdfReader(Path(index.root) / rec.file, prep.channels) as reader:
        signal = reader.read(0.0, reader.n_samples / reader.sfreq).astype(np.float64)
    ref = scipy.signal.resample_poly(signal, 1, 2, axis=-1)
    expected = np.stack([ref[:, int(s * 256) : int(s * 256) + 256] for s in starts])
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-3 * np.abs(expected).max())
    # one cache entry per target rate; a bad rate is one line
    assert features.representation_key("raw", params) != features.representation_key("raw", {"zscore": False})
    with pytest.raises(Exception, match="sfreq must be a positive sampling rate"):
        features.output_shape("raw", 2, 256, 256, {"sfreq": -1})
