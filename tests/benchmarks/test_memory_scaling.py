"""Peak memory of a window-cache build against the hours of EEG: it must not grow with them.

The cache streams each recording in spans of at most ``benchmark.windows.MAX_READ_S`` seconds, so
the memory a build needs is bounded by one span whatever the length of the recording. Each size is
built in a fresh Python process (earlier allocations of the test session do not count), with dense
detection-style windows (1 s, stride 1 s, raw samples), whose cache grows as fast as the EEG.

Two figures per build, both measured after imports and a one-second warm-up read:

``heap_peak_mib``
    Peak of memory allocated through Python's allocators, numpy arrays included (``tracemalloc``;
    numpy reports its data buffers to it). Exact and deterministic; asserted on.
``anon_peak_mib``
    Peak growth of the process's anonymous resident memory (``RssAnon`` in ``/proc/self/status``,
    sampled every millisecond; Linux only). Catches native allocations tracemalloc cannot see.

``rss_peak_mib`` (peak resident memory, ``VmHWM`` after resetting it; Linux only) is recorded but
not asserted on: pages of the output memmap count in it although the kernel can write them back
and drop them at any time, so it grows with the size of the cache by design.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from .conftest import EEG_HOURS, SFREQ, patient_id

WINDOW_S = 1.0
STRIDE_S = 1.0
REPRESENTATION = "raw"
MAX_GROWTH_MIB = 32.0  # allowed peak-memory growth (MiB) from the shortest to the longest recording

# Runs in a fresh interpreter; prints one JSON line. Imports and a short warm-up read come before
# the baseline so that only the build itself is measured.
_PROBE = r"""
import json, sys, threading, time, tracemalloc
import numpy as np
from pathlib import Path

from benchmark.edf import EdfReader
from benchmark.index import RecordingIndex
from benchmark.splits import load_split
from benchmark.windows import Preprocessing, WindowCache, WindowParams, window_table
import benchmark.features, mne, scipy.signal  # noqa: F401

a = json.loads(sys.argv[1])
index = RecordingIndex.load(a["index"])
table = window_table(load_split(Path(a["split"])), index, WindowParams(a["window_s"], a["stride_s"]))
table = table[table["patient"] == a["patient"]].reset_index(drop=True)
prep = Preprocessing(tuple(index.channels), a["sfreq"], a["representation"], {})
rec = index.recording(a["patient"], table["recording"].iloc[0])
with EdfReader(Path(index.root) / rec.file, prep.channels) as r:
    r.read(0.0, 1.0)


def status_kb(field):
    # A kB field of /proc/self/status (Linux), or None where there is none.
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_rss_peak():
    # Linux >= 4.0: make VmHWM the current RSS, so the peak below is the build's alone. (ru_maxrss
    # cannot be used: a child process inherits its parent's high-water mark across fork and exec.)
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


base_anon = status_kb("RssAnon")
peak_anon = [base_anon]
done = threading.Event()


def sample():
    while not done.is_set():
        peak_anon[0] = max(peak_anon[0], status_kb("RssAnon"))
        time.sleep(0.001)


sampler = threading.Thread(target=sample, daemon=True)
if base_anon is not None:
    sampler.start()
base_rss = status_kb("VmRSS") if reset_rss_peak() else None
tracemalloc.start()
t0 = time.perf_counter()
arr, reused = WindowCache(Path(a["cache"])).get(index, a["patient"], table, prep)
seconds = time.perf_counter() - t0
heap_peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
done.set()
if base_anon is not None:
    sampler.join()
    peak_anon[0] = max(peak_anon[0], status_kb("RssAnon"))
rss_peak = status_kb("VmHWM")
print(json.dumps({
    "reused": reused,
    "n_windows": int(arr.shape[0]),
    "window_bytes": int(np.prod(arr.shape[1:])) * 4,
    "cache_mib": sum(f.stat().st_size for f in Path(arr.filename).glob("*.npy")) / 2**20,
    "seconds": seconds,
    "heap_peak_mib": heap_peak / 2**20,
    "anon_peak_mib": None if base_anon is None else (peak_anon[0] - base_anon) / 2**10,
    "rss_peak_mib": None if base_rss is None or rss_peak is None else (rss_peak - base_rss) / 2**10,
}))
"""


def _measure(bench_data, hours: float, cache_dir) -> dict:
    args = {
        "index": str(bench_data.index_path),
        "split": str(bench_data.split_path),
        "patient": patient_id(hours),
        "window_s": WINDOW_S,
        "stride_s": STRIDE_S,
        "sfreq": float(SFREQ),
        "representation": REPRESENTATION,
        "cache": str(cache_dir),
    }
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, json.dumps(args)], capture_output=True, text=True, timeout=300, check=True
        )
    except subprocess.CalledProcessError as err:
        pytest.fail(f"memory probe for {hours} h failed:\n{err.stderr[-3000:]}")
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)  # keeps disk use at one cache entry
    return {"eeg_hours": hours, **json.loads(done.stdout.strip().splitlines()[-1])}


@pytest.mark.benchmark(group="memory-scaling")
def test_peak_memory_does_not_grow_with_hours(benchmark, bench_data, bench_summary, tmp_path):
    series: list[dict] = []

    def measure_all():
        series.clear()
        for hours in EEG_HOURS:
            series.append(_measure(bench_data, hours, tmp_path / f"cache-{patient_id(hours)}"))

    # One round: each point is already a full build in its own process.
    benchmark.pedantic(measure_all, rounds=1, iterations=1, warmup_rounds=0)

    rounded = [{k: round(v, 2) if isinstance(v, float) else v for k, v in p.items()} for p in series]
    benchmark.extra_info.update(
        {
            "representation": REPRESENTATION,
            "window_s": WINDOW_S,
            "stride_s": STRIDE_S,
            "series": rounded,
            "synthetic": True,
        }
    )
    for p in series:
        anon = "n/a" if p["anon_peak_mib"] is None else f"{p['anon_peak_mib']:5.1f}"
        rss = "n/a" if p["rss_peak_mib"] is None else f"{p['rss_peak_mib']:5.1f}"
        bench_summary.append(
            f"memory {p['eeg_hours']:5.2f} h ({p['n_windows']} raw {WINDOW_S:g}-s windows, cache "
            f"{p['cache_mib']:6.1f} MiB): peak heap {p['heap_peak_mib']:5.1f} MiB, peak anon {anon} MiB, "
            f"peak RSS incl. memmap pages {rss} MiB, {p['seconds']:.2f} s"
        )
    for p in series:
        assert not p["reused"]
        assert p["n_windows"] == int(p["eeg_hours"] * 3600 / STRIDE_S)
    short, long = series[0], series[-1]
    # The data must grow enough for a leak proportional to it to show above the allowance: the
    # float32 windows built (the cache itself holds int16 samples, each once).
    assert (long["n_windows"] - short["n_windows"]) * long["window_bytes"] / 2**20 > 100
    growth = long["heap_peak_mib"] - short["heap_peak_mib"]
    assert growth < MAX_GROWTH_MIB, (
        f"peak heap grew by {growth:.1f} MiB from {short['eeg_hours']} h to {long['eeg_hours']} h of EEG "
        f"(cache {short['cache_mib']:.0f} -> {long['cache_mib']:.0f} MiB): the build is not streaming"
    )
    if long["anon_peak_mib"] is not None:
        anon_growth = long["anon_peak_mib"] - short["anon_peak_mib"]
        assert anon_growth < 2 * MAX_GROWTH_MIB, (
            f"peak anonymous memory grew by {anon_growth:.1f} MiB from {short['eeg_hours']} h to "
            f"{long['eeg_hours']} h of EEG: the build is not streaming"
        )
