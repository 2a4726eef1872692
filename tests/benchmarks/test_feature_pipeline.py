"""Spectrogram windows of EEG hours: the window cache against braindecode + per-window scipy.

Issue 6 (SYNTHETIC EEG throughout). The input of the ResNet-LSTM predictor (Lee et al., 2024) is an
STFT image per 10-s window, windows every second. Cutting the windows first and transforming each
one repeats the STFT of every frame about ten times (neighbouring windows share 19 of their 21
frames); :func:`benchmark.features.spectrogram_span` transforms each distinct frame of a read span
once. Three figures, for the 18 CHB-MIT channels of the 23-signal, 256-Hz recordings of
``conftest.bench_data``:

``test_spectrogram_windows_against_braindecode``
    (a) braindecode's lazy ``create_fixed_length_windows`` over an MNE raw of the 1-h recording,
    then ``scipy.signal.stft`` of each window with the parameters of the documented definition
    (:func:`benchmark.features.spectrogram`: 1-s Hann frames, 50 % overlap, even (reflect)
    extension, per-frame mean removed, density scaling, 1-60 Hz, log10); (b)
    :meth:`benchmark.windows.WindowCache.get` on a window table of the same windows, cold cache
    every round (EDF read, STFT, ``.npy`` written), and (b') the same reading and STFT code
    (:func:`benchmark.windows._fill`) into an array in memory, which is what (a) produces. Rounds
    alternate (a, b', b, a, b', b, ...) so that other load on the machine hits all alike; the ratios
    of the medians are reported; (a) / (b'), like for like, on the best rounds (least disturbed by
    other load) must be at least :data:`MIN_SPEEDUP`; (b) adds writing 0.33 GB to disk, whose speed
    is the machine's, not the pipeline's. Sampled windows of (a), (b) and (b') must agree. (d) The re-read
    speed of the cached entry (integrity check + a full copy out of the memmap), in GB/s.
``test_peak_rss_is_flat_in_hours``
    (c) Peak resident memory (``VmHWM``) of a process that builds the cache of 1 h and of
    :data:`LONG_HOURS` h, each in a fresh interpreter. The long recording (about 510 MB of EDF) is
    written record by record, never held in memory; its cache entry (about 3.9 GB) is deleted at
    once. The cache is written with positioned writes, not through a memmap, so its pages do not
    count in the RSS of the builder.

References
----------
Lee, K., Jeong, H., Kim, S., Yang, D., Kang, H.-C., & Choi, E. (2022). Real-time seizure detection
using EEG: a comprehensive comparison of recent approaches under a realistic setting. CHIL 2022,
PMLR 174, 311-337.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import scipy.signal

from benchmark import features
from benchmark.edf import EdfReader
from benchmark.windows import WindowCache, WindowParams, _fill

from .conftest import _DIG, _PHYS_UV, SFREQ, BenchData, patient_id

HOURS = 1.0
WINDOW = WindowParams(10.0, 1.0)  # the ResNet-LSTM paper's 10-s windows at a 1-s stride
PARAMS = {"win_s": 1.0, "overlap": 0.5, "fmax": 60.0, "log": True, "mode": "power"}
ROUNDS = 5
MIN_SPEEDUP = 4.0  # issue 6 target
LONG_HOURS = 12.0
MAX_RSS_RATIO = 1.2  # issue 6: same peak RSS within 20 %
MAX_BUILD_GROWTH_MIB = 64.0  # growth of the build's own peak from 1 h to LONG_HOURS


def _braindecode_windows(edf: Path, channels: tuple[str, ...]):
    """Lazy 10-s windows at a 1-s stride of ``channels`` (braindecode 1.8 API)."""
    import mne
    from braindecode.datasets import BaseConcatDataset, RawDataset
    from braindecode.preprocessing import create_fixed_length_windows

    raw = mne.io.read_raw_edf(edf, include=sorted(set(channels)), preload=False, verbose="error")
    # MNE renames the file's duplicated T8-P8 to T8-P8-0 / T8-P8-1; the first is the one wanted.
    raw.pick([c if c in raw.ch_names else f"{c}-0" for c in channels])
    ds = BaseConcatDataset([RawDataset(raw, target_name=None)])
    return create_fixed_length_windows(
        ds,
        window_size_samples=int(WINDOW.window_s * SFREQ),
        window_stride_samples=int(WINDOW.stride_s * SFREQ),
        on_last_window="drop",
        preload=False,
    )


def _scipy_spectrogram(volts: np.ndarray) -> np.ndarray:
    """The per-window definition of :func:`benchmark.features.spectrogram` with scipy's STFT."""
    win = int(PARAMS["win_s"] * SFREQ)
    _, _, z = scipy.signal.stft(
        volts * np.float32(1e6),
        fs=SFREQ,
        window="hann",
        nperseg=win,
        noverlap=win // 2,
        boundary="even",
        padded=False,
        detrend="constant",
        scaling="psd",
        axis=-1,
    )
    n_freqs = int(PARAMS["fmax"] * PARAMS["win_s"])
    power = 2.0 * (z.real**2 + z.imag**2)[:, 1 : n_freqs + 1, :]  # one-sided density, DC dropped
    return np.log10(power + features.LOG_FLOOR).transpose(0, 2, 1).astype(np.float32)


def _baseline(edf: Path, channels: tuple[str, ...]) -> list[np.ndarray]:
    windows = _braindecode_windows(edf, channels)
    return [_scipy_spectrogram(windows[i][0]) for i in range(len(windows))]


@pytest.mark.heavy
@pytest.mark.benchmark(group="feature-pipeline")
def test_spectrogram_windows_against_braindecode(benchmark, bench_data: BenchData, bench_summary, tmp_path):
    table = bench_data.table(HOURS, WINDOW)
    pid = patient_id(HOURS)
    prep = bench_data.preprocessing("spectrogram")
    edf = bench_data.root / bench_data.index.recording(pid, table["recording"].iloc[0]).file
    assert features.resolve_params("spectrogram", prep.representation_params) == PARAMS

    baseline_s: list[float] = []
    ours_s: list[float] = []
    memory_s: list[float] = []
    n_times = int(round(WINDOW.window_s * prep.sfreq))
    shape = features.output_shape("spectrogram", len(prep.channels), n_times, prep.sfreq, prep.representation_params)
    rows = table.reset_index(drop=True)
    kept: dict = {}
    caches = iter(tmp_path / f"round{k}" for k in range(ROUNDS + 1))
    sample = np.linspace(0, len(rows) - 1, 25).astype(int)  # windows compared with the baseline

    def setup():
        # One baseline round, then a fresh cache folder: the timed call does the whole build.
        for old in tmp_path.glob("round*"):
            shutil.rmtree(old)
        t0 = time.perf_counter()
        base = _baseline(edf, prep.channels)
        baseline_s.append(time.perf_counter() - t0)
        # Only the compared windows are kept: the baseline's 0.33 GB, freed before the timed build,
        # would otherwise sit in memory beside it.
        kept["n_baseline"], kept["baseline"] = len(base), {i: base[i] for i in sample}
        del base
        if "memory" not in kept:
            # One output array for every round, its pages touched once here: a fresh 0.33-GB array
            # per round would time the kernel's first-touch page faults, not the features.
            kept["memory"] = np.zeros((len(rows), *shape), dtype=np.float32)
        t0 = time.perf_counter()
        with EdfReader(edf, prep.channels) as reader:
            _fill(reader, rows, kept["memory"], prep, n_times)
        memory_s.append(time.perf_counter() - t0)
        return (WindowCache(next(caches)),), {}

    def ours(cache: WindowCache):
        t0 = time.perf_counter()
        arr, reused = cache.get(bench_data.index, pid, table, prep)
        ours_s.append(time.perf_counter() - t0)
        kept["ours"], kept["reused"], kept["cache"] = arr, reused, cache
        return arr

    benchmark.pedantic(ours, setup=setup, rounds=ROUNDS, iterations=1, warmup_rounds=0)

    arr, base = kept["ours"], kept["baseline"]
    assert not kept["reused"]
    assert kept["n_baseline"] == len(table) == arr.shape[0] == int(HOURS * 3600 - WINDOW.window_s) + 1
    diff = max(float(np.abs(arr[i] - base[i]).max()) for i in sample)
    for i in sample:
        # scipy works on volts scaled back to µV and its own FFT, the cache on µV: float32 rounding
        # apart, which in log10 reaches ~2e-4 only in near-empty bins (power ~1e-6 µV²/Hz).
        np.testing.assert_allclose(arr[i], base[i], rtol=0, atol=2e-3)
        np.testing.assert_array_equal(kept["memory"][i], arr[i])

    # (d) re-read: a fresh cache object opens the entry (size, header, checksum of every byte) and the
    # whole array is copied out of the memmap.
    out = np.empty(arr.shape, dtype=arr.dtype)
    del arr, kept["ours"], kept["baseline"], base
    reread_s = []
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        again, reused = WindowCache(kept["cache"].root).get(bench_data.index, pid, table, prep)
        np.copyto(out, again)
        reread_s.append(time.perf_counter() - t0)
        assert reused
        del again
    gb = out.nbytes / 1e9
    del out
    for old in tmp_path.glob("round*"):  # 330 MB per entry; pytest keeps recent tmp folders
        shutil.rmtree(old)

    del kept["memory"]
    ratio = float(np.median(baseline_s) / np.median(ours_s))
    memory_ratio = float(np.median(baseline_s) / np.median(memory_s))
    # Asserted on the best rounds: the least disturbed by other load on a shared machine.
    best_ratio = float(np.min(baseline_s) / np.min(memory_s))
    reread_gbps = gb / float(np.median(reread_s))
    benchmark.extra_info.update(
        {
            "eeg_hours": HOURS,
            "n_windows": len(table),
            "n_channels": len(prep.channels),
            "window_s": WINDOW.window_s,
            "stride_s": WINDOW.stride_s,
            "baseline": "braindecode create_fixed_length_windows (lazy) + scipy.signal.stft per window",
            "baseline_s": [round(s, 3) for s in baseline_s],
            "ours_s": [round(s, 3) for s in ours_s],
            "ours_in_memory_s": [round(s, 3) for s in memory_s],
            "speedup_with_cache_write": round(ratio, 2),
            "speedup": round(memory_ratio, 2),
            "speedup_best_rounds": round(best_ratio, 2),
            "max_abs_log10_difference": diff,
            "cache_gb": round(gb, 3),
            "reread_s": [round(s, 4) for s in reread_s],
            "reread_gb_per_s": round(reread_gbps, 2),
            "synthetic": True,
        }
    )
    line = (
        f"feature pipeline {HOURS:g} h, {len(table)} x {WINDOW.window_s:g}-s spectrogram windows at "
        f"{WINDOW.stride_s:g}-s stride: braindecode+scipy {np.median(baseline_s):.2f} s, ours in memory "
        f"{np.median(memory_s):.2f} s, speed-up {memory_ratio:.1f}x (best rounds {best_ratio:.1f}x); into the "
        f"on-disk cache {np.median(ours_s):.2f} s ({ratio:.1f}x); cached re-read {reread_gbps:.2f} GB/s ({gb:.2f} GB)"
    )
    bench_summary.append(line)
    print(line)
    assert best_ratio >= MIN_SPEEDUP, f"speed-up {best_ratio:.2f}x is below the {MIN_SPEEDUP:g}x target: {line}"


def write_long_recording(path: Path, hours: float, seed: int, chunk_s: int = 600) -> None:
    """A CHB-MIT-shaped EDF (23 signals, 256 Hz, 1-s records) written ``chunk_s`` seconds at a time.

    The header comes from edfio (a one-record file with the same signals) with its record count
    patched; data records follow as 16-bit integers, so memory stays at one chunk whatever the hours.
    """
    import edfio

    from benchmark.datasets.synthetic.eeg import CHBMIT_CHANNELS as FILE_CHANNELS

    n_sig = len(FILE_CHANNELS)
    one = [
        edfio.EdfSignal.from_digital(
            np.zeros(SFREQ, np.int16),
            SFREQ,
            label=label,
            physical_dimension="uV",
            physical_range=(-_PHYS_UV, _PHYS_UV),
            digital_range=(-_DIG, _DIG),
        )
        for label in FILE_CHANNELS
    ]
    buf = io.BytesIO()
    edfio.Edf(one, data_record_duration=1).write(buf)
    header = bytearray(buf.getvalue()[: 256 * (n_sig + 1)])
    n_records = int(round(hours * 3600))
    header[236:244] = f"{n_records:<8d}".encode()
    rng = np.random.default_rng(seed)
    gain = _PHYS_UV / _DIG
    with open(path, "wb") as fh:
        fh.write(header)
        for first in range(0, n_records, chunk_s):
            n = min(chunk_s, n_records - first)
            t = (first * SFREQ + np.arange(n * SFREQ)) / SFREQ
            uv = rng.standard_normal((n_sig, n * SFREQ), dtype=np.float32) * 30.0
            uv += (40.0 * np.sin(2 * np.pi * 10.0 * t)).astype(np.float32)
            digital = np.clip(np.rint(uv / gain), -_DIG, _DIG).astype("<i2")
            # EDF data record: all samples of signal 1, then signal 2, ... for one second.
            fh.write(digital.reshape(n_sig, n, SFREQ).transpose(1, 0, 2).tobytes())


# Runs in a fresh interpreter and prints one JSON line: VmHWM of the whole process (imports
# included) and the build's own peak above the RSS before it (VmHWM reset via clear_refs).
_PROBE = r"""
import json, sys, time
from pathlib import Path
import numpy as np, pandas as pd
from benchmark.index import Patient, Recording, RecordingIndex
from benchmark.windows import Preprocessing, WindowCache
from benchmark.edf import EdfReader
import mne, scipy.signal  # noqa: F401

a = json.loads(sys.argv[1])
channels = tuple(a["channels"])
rec = Recording("r", Path(a["edf"]).name, 0.0, a["hours"] * 3600, a["sfreq"], tuple(a["file_channels"]))
index = RecordingIndex("rss-probe", (Patient("p", (rec,)),), channels=channels, synthetic=True,
                       root=str(Path(a["edf"]).parent))
starts = np.arange(0.0, a["hours"] * 3600 - a["window_s"] + 1e-9, a["stride_s"])
table = pd.DataFrame({"patient": "p", "recording": "r", "start": starts, "end": starts + a["window_s"]})
prep = Preprocessing(channels, a["sfreq"], "spectrogram", {})
with EdfReader(a["edf"], channels) as r:
    r.read(0.0, 1.0)

def kb(field):
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith(field + ":"))

before = kb("VmRSS")
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # VmHWM := current RSS, so the second figure is the build's alone
t0 = time.perf_counter()
arr, reused = WindowCache(Path(a["cache"])).get(index, "p", table, prep)
seconds = time.perf_counter() - t0
print(json.dumps({"reused": reused, "n_windows": int(arr.shape[0]), "cache_gb": arr.nbytes / 1e9,
                  "seconds": seconds, "peak_rss_mib": kb("VmHWM") / 1024,
                  "build_peak_mib": (kb("VmHWM") - before) / 1024}))
"""


def _probe(edf: Path, hours: float, cache: Path, channels) -> dict:
    from benchmark.datasets.synthetic.eeg import CHBMIT_CHANNELS as FILE_CHANNELS

    args = {
        "edf": str(edf),
        "hours": hours,
        "cache": str(cache),
        "channels": list(channels),
        "file_channels": list(FILE_CHANNELS),
        "sfreq": float(SFREQ),
        "window_s": WINDOW.window_s,
        "stride_s": WINDOW.stride_s,
    }
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, json.dumps(args)], capture_output=True, text=True, timeout=600, check=True
        )
    except subprocess.CalledProcessError as err:
        pytest.fail(f"RSS probe for {hours} h failed:\n{err.stderr[-3000:]}")
    finally:
        shutil.rmtree(cache, ignore_errors=True)  # the 12-h entry is about 3.9 GB
    return {"eeg_hours": hours, **json.loads(done.stdout.strip().splitlines()[-1])}


@pytest.mark.heavy
@pytest.mark.benchmark(group="feature-pipeline")
def test_peak_rss_is_flat_in_hours(benchmark, bench_data: BenchData, bench_summary, tmp_path):
    if not Path("/proc/self/clear_refs").exists():
        pytest.skip("peak RSS is read from /proc/self/status (Linux only)")
    channels = bench_data.preprocessing("spectrogram").channels
    edfs = {}
    for hours in (HOURS, LONG_HOURS):
        edfs[hours] = tmp_path / f"rss{int(hours):02d}h.edf"
        write_long_recording(edfs[hours], hours, seed=int(hours))
    series: list[dict] = []

    def measure():
        series.clear()
        for hours in (HOURS, LONG_HOURS):
            series.append(_probe(edfs[hours], hours, tmp_path / f"cache{int(hours)}", channels))

    try:
        benchmark.pedantic(measure, rounds=1, iterations=1, warmup_rounds=0)
    finally:
        for edf in edfs.values():
            edf.unlink(missing_ok=True)

    short, long = series
    benchmark.extra_info.update(
        {
            "window_s": WINDOW.window_s,
            "stride_s": WINDOW.stride_s,
            "synthetic": True,
            "series": [{k: round(v, 3) if isinstance(v, float) else v for k, v in p.items()} for p in series],
        }
    )
    for p in series:
        line = (
            f"peak RSS {p['eeg_hours']:4.0f} h ({p['n_windows']} spectrogram windows, cache {p['cache_gb']:.2f} GB): "
            f"process {p['peak_rss_mib']:.0f} MiB, build {p['build_peak_mib']:.0f} MiB above its start, "
            f"{p['seconds']:.1f} s"
        )
        bench_summary.append(line)
        print(line)
        assert not p["reused"]
        assert p["n_windows"] == int(p["eeg_hours"] * 3600 - WINDOW.window_s) + 1
    assert long["peak_rss_mib"] <= MAX_RSS_RATIO * short["peak_rss_mib"], (
        f"peak RSS grew from {short['peak_rss_mib']:.0f} MiB (1 h) to {long['peak_rss_mib']:.0f} MiB "
        f"({LONG_HOURS:g} h): the build is not streaming"
    )
    growth = long["build_peak_mib"] - short["build_peak_mib"]
    assert growth < MAX_BUILD_GROWTH_MIB, f"the build's own peak grew by {growth:.0f} MiB from 1 h to {LONG_HOURS:g} h"
