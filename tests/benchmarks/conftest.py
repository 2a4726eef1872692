"""Inputs of the performance benchmarks: CHB-MIT-shaped EDF recordings of increasing length.

The recordings are written lazily, once per session, only when a benchmark test asks for them, so
``pytest --benchmark-skip`` (the project default) skips this folder without writing anything. The
signals are seeded noise with an alpha rhythm: throughput and memory do not depend on the content,
only on the number of channels, samples and windows. Everything here is SYNTHETIC.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark.datasets.chbmit import CHBMIT_CHANNELS
from benchmark.datasets.synthetic.eeg import CHBMIT_CHANNELS as FILE_CHANNELS
from benchmark.edf import EdfReader
from benchmark.index import Patient, Recording, RecordingIndex
from benchmark.splits import SplitSpec, make_split, save_split
from benchmark.tasks import make_labels
from benchmark.windows import Preprocessing, WindowParams, window_table

#: Hours of EEG per recording; one patient per recording so each size is one window-cache entry.
EEG_HOURS: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0)
SFREQ = 256
BYTES_PER_SAMPLE = 2  # EDF stores 16-bit integers
_PHYS_UV = 3000.0
_DIG = 32767
DATASET = "bench-synthetic"
_SUMMARY = pytest.StashKey[list]()


def patient_id(hours: float) -> str:
    """Patient holding the recording of ``hours`` hours, e.g. ``bench030m`` for 0.5 h."""
    return f"bench{int(round(hours * 60)):03d}m"


def eeg_megabytes(hours: float, n_channels: int = len(CHBMIT_CHANNELS)) -> float:
    """Megabytes (1e6 bytes) of 16-bit samples in ``hours`` of ``n_channels`` channels at SFREQ."""
    return hours * 3600 * SFREQ * n_channels * BYTES_PER_SAMPLE / 1e6


def write_recording(path: Path, hours: float, seed: int) -> None:
    """Write a 16-bit, 256-Hz EDF with the 23 signals of a CHB-MIT file, 1-s data records.

    The files carry 23 signals (``T8-P8`` twice) although the benchmark reads 18, as with real
    CHB-MIT files, so the reader's channel selection is part of what is measured.
    """
    import edfio

    n = int(round(hours * 3600)) * SFREQ
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=np.float32) / SFREQ
    alpha = 40.0 * np.sin(2 * np.pi * 10.0 * t, dtype=np.float32)
    gain = _PHYS_UV / _DIG
    signals = []
    for label in FILE_CHANNELS:
        uv = rng.standard_normal(n, dtype=np.float32) * 30.0 + alpha
        digital = np.clip(np.rint(uv / gain), -_DIG, _DIG).astype(np.int16)
        signals.append(
            edfio.EdfSignal.from_digital(
                digital,
                SFREQ,
                label=label,
                physical_dimension="uV",
                physical_range=(-_PHYS_UV, _PHYS_UV),
                digital_range=(-_DIG, _DIG),
            )
        )
    edfio.Edf(signals, data_record_duration=1).write(path)


@dataclass(frozen=True)
class BenchData:
    """The benchmark recordings, their index and a detection-style split covering them whole."""

    root: Path
    index: RecordingIndex
    index_path: Path
    spec: SplitSpec
    split_path: Path

    def table(self, hours: float, window: WindowParams) -> pd.DataFrame:
        """Windows over the whole recording of ``hours`` hours, in cache order."""
        table = window_table(self.spec, self.index, window)
        return table[table["patient"] == patient_id(hours)].reset_index(drop=True)

    def preprocessing(self, representation: str) -> Preprocessing:
        return Preprocessing(CHBMIT_CHANNELS, float(SFREQ), representation, {})


@pytest.fixture(scope="session")
def bench_data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BenchData]:
    """EDF recordings of :data:`EEG_HOURS` hours (about 160 MB in all), written on first use."""
    root = tmp_path_factory.mktemp("bench-edf")
    patients = []
    for k, hours in enumerate(EEG_HOURS):
        pid = patient_id(hours)
        (root / pid).mkdir()
        rel = f"{pid}/{pid}_01.edf"
        write_recording(root / rel, hours, seed=k)
        rec = Recording(f"{pid}_01", rel, 0.0, hours * 3600, float(SFREQ), FILE_CHANNELS)
        patients.append(Patient(pid, (rec,)))
    index = RecordingIndex(DATASET, tuple(patients), channels=CHBMIT_CHANNELS, synthetic=True, root=str(root))
    # Detection units are whole recordings, so the split covers every second of EEG.
    labels = make_labels(index, "detection")
    spec = make_split(labels, "loso", dataset=DATASET, index_hash=index.content_hash(), synthetic=True)
    index_path = root / "index.json"
    index.save(index_path)
    split_path = save_split(spec, root / "split.json")
    # The first read imports MNE's EDF reader (seconds); keep that out of the timed rounds.
    first = patients[0].recordings[0]
    with EdfReader(root / first.file, CHBMIT_CHANNELS) as reader:
        reader.read(0.0, 1.0)

    yield BenchData(root, index, index_path, spec, split_path)
    # pytest keeps the last few session folders; 160 MB of EDF in each is not worth keeping.
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def bench_summary(request: pytest.FixtureRequest) -> list[str]:
    """Lines a benchmark adds here are printed at the end of the run (figures at a glance)."""
    return request.config.stash.setdefault(_SUMMARY, [])


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    lines = config.stash.get(_SUMMARY, [])
    if lines:
        terminalreporter.section("seizure-bench windowing benchmarks (SYNTHETIC EEG)")
        for line in lines:
            terminalreporter.write_line(line)


def pytest_collection_modifyitems(config, items):
    """Heavy benchmarks (GBs of disk, a cluster, minutes) run in the benchmark suite only
    (``pytest tests/benchmarks --benchmark-only``), never in the plain test run CI does."""
    if config.getoption("benchmark_only", default=False):
        return
    skip = pytest.mark.skip(reason="heavy benchmark: run with 'pytest tests/benchmarks --benchmark-only'")
    for item in items:
        if item.get_closest_marker("heavy"):
            item.add_marker(skip)
