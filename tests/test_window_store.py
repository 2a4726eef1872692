"""The window cache's entry layout (benchmark.window_store): samples and STFT frames stored once,
windows read back as views equal to the per-window definition; sizes, indexing and fold copies."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark import features, window_store
from benchmark.edf import EdfReader
from benchmark.fold_worker import AdapterTask
from benchmark.index import Patient, Recording, RecordingIndex
from benchmark.sandbox import fold_arrays
from benchmark.window_store import WINDOW_FILES, WindowStore, copy_windows, open_windows
from benchmark.windows import (
    Preprocessing,
    WindowCache,
    bandpass_filter,
    entry_bytes,
    recording_channel_stats,
)

SFREQ = 256.0
SECONDS = 60.0


def _write_edf(path: Path, chans, seconds=SECONDS, physical_range=(-500, 500), seed=1) -> None:
    import edfio

    rng = np.random.default_rng(seed)
    n = int(seconds * SFREQ)
    sig = [
        edfio.EdfSignal(rng.standard_normal(n) * 20 + 5 * c, SFREQ, label=lab, physical_range=physical_range)
        for c, lab in enumerate(chans)
    ]
    edfio.Edf(sig).write(path)


class _Setup:
    """EDFs of one patient ``p`` under ``root`` and the window cache reading them."""

    def __init__(self, root: Path, chans=("C3", "C4"), recordings=None):
        self.root, self.chans = root, tuple(chans)
        recordings = recordings or {"r": {}}
        recs = []
        for rec_id, kw in recordings.items():
            _write_edf(root / f"{rec_id}.edf", self.chans, **kw)
            recs.append(Recording(rec_id, f"{rec_id}.edf", 0.0, kw.get("seconds", SECONDS), SFREQ, self.chans))
        self.index = RecordingIndex(
            "tiny", (Patient("p", tuple(recs)),), channels=self.chans, synthetic=True, root=str(root)
        )

    def edf(self, rec_id="r") -> Path:
        return self.root / f"{rec_id}.edf"

    def get(self, table, prep, cache="cache") -> WindowStore:
        store, reused = WindowCache(self.root / cache).get(self.index, "p", table, prep)
        assert not reused
        return store


def _table(starts, window_s, recording="r") -> pd.DataFrame:
    starts = np.asarray(starts, dtype=float)
    return pd.DataFrame({"patient": "p", "recording": recording, "start": starts, "end": starts + window_s})


def _grid(window_s, stride, seconds=SECONDS, extra=()) -> np.ndarray:
    return np.concatenate([np.arange(0.0, seconds - window_s + 1e-9, stride), np.asarray(extra, float)])


def _entry_npy_bytes(store: WindowStore) -> int:
    return sum(p.stat().st_size for p in Path(store.path).glob("*.npy"))


def _direct(setup: _Setup, table: pd.DataFrame, prep: Preprocessing) -> np.ndarray:
    """Each window by the definition: read from the EDF, (band-passed and z-scored by the recording's
    statistics when asked), then ``features.compute`` of the stack; in table order."""
    n_times = int(round(float(table["end"].iloc[0] - table["start"].iloc[0]) * prep.sfreq))
    out = [None] * len(table)
    params = dict(prep.representation_params)
    per_recording = features.zscore_mode(params.get("zscore", False)) == "recording"
    for rec_id, rows in table.groupby("recording", sort=False):
        with EdfReader(setup.edf(rec_id), prep.channels) as reader:
            if prep.bandpass is None and not per_recording:
                x = np.stack([reader.read(s, e) for s, e in zip(rows["start"], rows["end"])])
                vals = features.compute(prep.representation, x, prep.sfreq, params)
            else:
                whole = reader.read(0.0, reader.duration)
                if prep.bandpass is not None:
                    whole = bandpass_filter(whole, prep.sfreq, prep.bandpass)
                if per_recording:
                    whole = features.zscore_channels(whole, *recording_channel_stats(reader, prep))
                    params["zscore"] = False
                offs = np.round(rows["start"].to_numpy(float) * prep.sfreq).astype(int)
                x = np.stack([whole[:, o : o + n_times] for o in offs])
                vals = features.compute(prep.representation, x, prep.sfreq, params)
        for k, row in enumerate(rows.index):
            out[row] = vals[k]
    return np.stack(out)


CONFIGS = {
    "raw": ("raw", {"zscore": False}, None, 2.0),
    "raw-zscore-window": ("raw", {"zscore": True}, None, 2.0),
    "raw-zscore-recording-bandpass": ("raw", {"zscore": "recording"}, (0.5, 40.0), 2.0),
    "spectrogram": ("spectrogram", {}, None, 10.0),
    "bandpower": ("bandpower", {}, None, 2.0),
}


@pytest.mark.parametrize("stride_kind", ["1s", "window"])
@pytest.mark.parametrize("config", list(CONFIGS))
def test_stored_windows_equal_the_per_window_definition(tmp_path, config, stride_kind):
    rep, params, band, w = CONFIGS[config]
    setup = _Setup(tmp_path)
    stride = 1.0 if stride_kind == "1s" else w
    # Sorted by start, as window_table gives them, with off-grid windows among the grid's.
    table = _table(np.sort(_grid(w, stride, extra=(5.25, 7.5, 13.0 + 1 / 256))), w)
    _assert_store_matches_definition(setup, table, Preprocessing(setup.chans, SFREQ, rep, params, band))


def _assert_store_matches_definition(setup, table, prep):
    got = np.asarray(setup.get(table, prep))
    want = _direct(setup, table, prep)
    assert got.dtype == np.float32 and got.shape == want.shape
    if prep.bandpass is None:
        np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))
    else:
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    "config",
    [
        "raw",
        "raw-zscore-recording-bandpass",
        "spectrogram",
        "bandpower",
    ],
)
def test_windows_in_any_table_order_equal_the_per_window_definition(tmp_path, config):
    rep, params, band, w = CONFIGS[config]
    setup = _Setup(tmp_path)
    # Grid windows, then off-grid ones before some of them (the order WindowCache.get must keep).
    table = _table(_grid(w, 1.0, extra=(5.25, 7.5, 13.0 + 1 / 256)), w)
    _assert_store_matches_definition(setup, table, Preprocessing(setup.chans, SFREQ, rep, params, band))


@pytest.mark.parametrize("stride", [0.25, 1.0, 2.0])
def test_unfiltered_raw_entry_is_int16_and_no_bigger_than_the_edf(tmp_path, stride):
    setup = _Setup(tmp_path, chans=tuple(f"E{i}" for i in range(8)))
    table = _table(_grid(2.0, stride), 2.0)
    store = setup.get(table, Preprocessing(setup.chans, SFREQ, "raw", {}))
    assert store.kind == "samples"
    assert store.X.dtype == np.int16
    # The samples themselves: each stored once, two bytes each, as in the EDF's data records.
    assert store.X.nbytes <= len(setup.chans) * SECONDS * SFREQ * 2
    assert _entry_npy_bytes(store) <= setup.edf().stat().st_size


def test_bandpassed_raw_entry_is_float32(tmp_path):
    setup = _Setup(tmp_path)
    store = setup.get(_table(_grid(2.0, 1.0), 2.0), Preprocessing(setup.chans, SFREQ, "raw", {}, (0.5, 40.0)))
    assert store.kind == "samples" and store.X.dtype == np.float32


def test_spectrogram_at_one_second_stride_stores_far_less_than_a_row_per_window(tmp_path):
    setup = _Setup(tmp_path)
    table = _table(_grid(10.0, 1.0), 10.0)
    store = setup.get(table, Preprocessing(setup.chans, SFREQ, "spectrogram", {}))
    assert store.kind == "frames"
    window_bytes = int(np.prod(store.shape[1:])) * 4
    assert _entry_npy_bytes(store) < 0.25 * len(table) * window_bytes


@pytest.mark.parametrize(
    "rep, w, stride", [("raw", 2.0, 0.5), ("raw", 2.0, 3.0), ("spectrogram", 10.0, 1.0), ("bandpower", 2.0, 1.0)]
)
def test_entry_bytes_predicts_the_entry_files_within_one_percent(tmp_path, rep, w, stride):
    setup = _Setup(tmp_path)
    table = _table(_grid(w, stride, extra=(5.25,)), w)
    prep = Preprocessing(setup.chans, SFREQ, rep, {})
    store = setup.get(table, prep)
    predicted, kind = entry_bytes(table, prep, SFREQ)
    assert kind == store.kind
    real = _entry_npy_bytes(store)
    assert abs(predicted - real) <= 0.01 * real, (predicted, real)


@pytest.mark.parametrize("rep, w", [("raw", 2.0), ("spectrogram", 10.0)])
def test_store_indexing_agrees_with_the_whole_array(tmp_path, rep, w):
    setup = _Setup(tmp_path)
    params = {"zscore": True} if rep == "raw" else {}
    store = setup.get(_table(_grid(w, 1.0, extra=(7.5,)), w), Preprocessing(setup.chans, SFREQ, rep, params))
    whole = np.asarray(store)
    n = len(store)
    assert whole.shape == store.shape
    for i in (0, 3, n - 1, -1, np.int64(5)):
        np.testing.assert_array_equal(store[i], whole[i])
    for sl in (slice(None), slice(2, 9), slice(None, None, 3), slice(n - 2, None), slice(None, None, -4)):
        np.testing.assert_array_equal(store[sl], whole[sl])
    rows = np.array([n - 1, 0, 4, 4, 2])
    np.testing.assert_array_equal(store[rows], whole[rows])
    np.testing.assert_array_equal(store[list(rows)], whole[rows])
    for bad in (n, -n - 1, np.array([0, n])):
        with pytest.raises(IndexError):
            store[bad]
    # Windows of two sources interleaved in a batch: each source writes its own rows of the batch.
    from benchmark.windowset import WindowSet

    both = WindowSet(
        [store, store], np.column_stack([np.arange(2 * n) % 2, np.arange(2 * n) // 2]), _meta(2 * n), None, ("a", "b")
    )
    idx = np.random.default_rng(0).permutation(2 * n)[: n + 3]
    np.testing.assert_array_equal(both.get(idx), whole[idx // 2])


@pytest.mark.parametrize(
    "rep, w",
    [("raw", 2.0), ("spectrogram", 10.0)],
)
def test_store_empty_selection_gives_no_windows(tmp_path, rep, w):
    setup = _Setup(tmp_path)
    store = setup.get(_table(_grid(w, 1.0), w), Preprocessing(setup.chans, SFREQ, rep, {}))
    assert store[5:2].shape == (0, *store.shape[1:])
    assert store[np.zeros(0, dtype=np.int64)].shape == (0, *store.shape[1:])


@pytest.mark.parametrize("rep, w", [("raw", 2.0), ("spectrogram", 10.0), ("bandpower", 2.0)])
def test_copy_windows_keeps_referenced_windows_in_their_new_places(tmp_path, rep, w):
    setup = _Setup(tmp_path)
    src = setup.get(_table(_grid(w, 1.0, extra=(5.25,)), w), Preprocessing(setup.chans, SFREQ, rep, {}))
    n = len(src)
    rows = np.array([0, 1, 20, n - 2, n - 1])  # far apart: most stored samples/frames unreferenced
    place = np.random.default_rng(3).permutation(len(rows))
    copy_windows(src.path, tmp_path / "copy", rows, place)
    dest = WindowStore(tmp_path / "copy")
    assert len(dest) == len(rows) and dest.kind == src.kind
    for k in range(len(rows)):
        np.testing.assert_array_equal(dest[int(place[k])], src[int(rows[k])])
    np.testing.assert_array_equal(np.asarray(dest)[place], src[rows])
    if src.kind != "rows":
        assert dest.X.shape[1] < src.X.shape[1]  # stored units: channel-major


def _meta(n):
    return pd.DataFrame(
        {"patient": "p", "recording": "r", "start": np.arange(n, dtype=float), "end": np.arange(n) + 1.0, "unit": "u"}
    )


def test_fold_arrays_links_training_entries_and_copies_only_referenced_test_windows(tmp_path):
    setup = _Setup(tmp_path)
    train_store = setup.get(_table(_grid(2.0, 1.0), 2.0), Preprocessing(setup.chans, SFREQ, "raw", {}))
    test_store = setup.get(_table(_grid(10.0, 1.0), 10.0), Preprocessing(setup.chans, SFREQ, "spectrogram", {}))
    sources = [str(train_store.path), str(test_store.path)]
    train = np.array([[0, r] for r in range(0, len(train_store), 3)] + [[1, 0], [1, 2]])
    test = np.array([[1, 10], [1, 40], [1, len(test_store) - 1]])
    task = AdapterTask(
        method="m",
        method_module="m",
        method_qualname="M",
        budget="smoke",
        overrides={},
        seed=0,
        device="cpu",
        classes=("bckg", "sz"),
        sources=sources,
        train=(train, _meta(len(train)), np.zeros(len(train), int)),
        test=(test, _meta(len(test))),
        info={},
        work_dir=str(tmp_path / "work"),
    )
    data = tmp_path / "fold" / "data"
    new = fold_arrays(task, data)
    opened = [open_windows(data / f"src{j}") for j in range(len(new.sources))]
    originals = [WindowStore(p) for p in sources]

    def windows(stores, refs):
        return [stores[int(s)][int(r)] for s, r in refs]

    for before, after in zip(windows(originals, train), windows(opened, new.train[0])):
        np.testing.assert_array_equal(after, before)
    for before, after in zip(windows(originals, test), windows(opened, new.test[0])):
        np.testing.assert_array_equal(after, before)
    j_train, j_test = new.sources.index(sources[0]), new.sources.index(sources[1])
    # The training-only entry: its arrays hard-linked, nothing else.
    assert os.path.samefile(data / f"src{j_train}" / "X.npy", train_store.path / "X.npy")
    assert {p.name for p in (data / f"src{j_train}").iterdir()} <= set(WINDOW_FILES)
    # The test entry: a private copy of the referenced windows only, holding array files only.
    copy = data / f"src{j_test}"
    assert not os.path.samefile(copy / "X.npy", test_store.path / "X.npy")
    names = {p.name for p in copy.iterdir()}
    assert {"X.npy", "windows.npy", "layout.json"} <= names <= set(WINDOW_FILES)
    assert not names & {"windows.csv", "preprocessing.json", "X.json"}
    referenced = {int(r) for s, r in np.concatenate([train, test]) if s == 1}
    assert len(opened[j_test]) == len(referenced)
    assert opened[j_test].X.shape[1] < test_store.X.shape[1]  # stored units: channel-major
    # The task handed over is unchanged.
    assert task.sources == sources
    np.testing.assert_array_equal(task.test[0], test)


def test_recordings_with_different_edf_scalings_read_back_exactly(tmp_path):
    setup = _Setup(
        tmp_path,
        recordings={"a": {"physical_range": (-500, 500), "seed": 1}, "b": {"physical_range": (-200.5, 200), "seed": 2}},
    )
    starts = _grid(2.0, 1.0, extra=(5.25,))
    table = pd.concat([_table(starts, 2.0, "a"), _table(starts[::-1], 2.0, "b")], ignore_index=True)
    prep = Preprocessing(setup.chans, SFREQ, "raw", {})
    got = np.asarray(setup.get(table, prep))
    want = _direct(setup, table, prep)
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))


def test_signal_edges_windows_are_slices_of_the_recordings_stft(tmp_path):
    setup = _Setup(tmp_path)
    params = {"edges": "signal"}
    # Windows every second, one starting half a hop late (another hop grid), the last one at the end.
    table = _table(_grid(10.0, 1.0, extra=(7.25,)), 10.0)
    store = setup.get(table, Preprocessing(setup.chans, SFREQ, "spectrogram", params))
    assert store.kind == "frames" and store.E is None
    with EdfReader(setup.edf(), setup.chans) as reader:
        whole = reader.read(0.0, reader.duration)
    got = np.asarray(store)
    n_frames = got.shape[2]
    for k, start in enumerate(table["start"]):
        s = int(round(start * SFREQ))
        if s % 128:  # off the recording's hop grid: its own STFT of the recording shifted by s
            stft = features.spectrogram(whole[None, :, s:], SFREQ, **params)[0]
            want = stft[:, :n_frames]
        else:
            stft = features.spectrogram(whole[None], SFREQ, **params)[0]
            want = stft[:, s // 128 : s // 128 + n_frames]
        if s == 0 or s % 128 == 0:
            np.testing.assert_array_equal(got[k].view(np.uint32), want.view(np.uint32))
        else:  # its first frame sees the EEG before it, which the shifted STFT reflects
            np.testing.assert_array_equal(got[k][:, 1:].view(np.uint32), want[:, 1:].view(np.uint32))


def test_signal_edges_store_each_frame_once(tmp_path):
    setup = _Setup(tmp_path, recordings={"r": {"seconds": 300.0}})
    dense = _table(_grid(10.0, 1.0, seconds=300.0), 10.0)
    sparse = _table(_grid(10.0, 10.0, seconds=300.0), 10.0)
    signal = Preprocessing(setup.chans, SFREQ, "spectrogram", {"edges": "signal"})
    reflect = Preprocessing(setup.chans, SFREQ, "spectrogram", {})
    one_row = len(sparse) * int(np.prod(setup.get(sparse, reflect, "a").shape[1:])) * 4
    assert _entry_npy_bytes(setup.get(dense, signal, "b")) <= 1.2 * one_row
    assert _entry_npy_bytes(setup.get(dense, reflect, "c")) > 1.5 * one_row  # per-window head and tail frames


def test_spectrogram_edges_are_checked_and_the_default_keeps_its_cache_key():
    assert features.representation_key("spectrogram", {"edges": "reflect"}) == features.representation_key(
        "spectrogram", {}
    )
    assert "edges" not in features.representation_key("spectrogram", {})["params"]
    assert features.representation_key("spectrogram", {"edges": "signal"})["params"]["edges"] == "signal"
    with pytest.raises(features.BenchmarkError, match="edges must be one of"):
        features.frame_layout(2560, SFREQ, {"edges": "neighbours"})


def test_reading_an_entry_imports_no_scipy(tmp_path):
    # A fold worker opens entries and reads windows; scipy (the feature code) is the cache builder's.
    setup = _Setup(tmp_path)
    store = setup.get(_table(_grid(2.0, 1.0), 2.0), Preprocessing(setup.chans, SFREQ, "raw", {"zscore": True}))
    code = (
        "import sys, numpy as np\n"
        "from benchmark.window_store import open_windows\n"
        f"w = open_windows({str(store.path)!r})\n"
        "x = w[np.arange(3)]\n"
        "print(x.shape, 'scipy.signal' in sys.modules, 'scipy.fft' in sys.modules)\n"
    )
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout.split() == ["(3,", "2,", "512)", "False", "False"]


def test_windows_past_the_end_of_the_edf_are_refused_in_one_line(tmp_path):
    setup = _Setup(tmp_path)  # a 60-s EDF ...
    rec = setup.index.patients[0].recordings[0]
    longer = Recording(rec.recording_id, rec.file, 0.0, 70.0, SFREQ, setup.chans)  # ... its index says 70 s
    setup.index = RecordingIndex(
        "tiny", (Patient("p", (longer,)),), channels=setup.chans, synthetic=True, root=str(tmp_path)
    )
    with pytest.raises(features.DataError) as err:
        setup.get(_table(_grid(2.0, 2.0, seconds=70.0), 2.0), Preprocessing(setup.chans, SFREQ, "raw", {}))
    assert "windows reach 70 s but the file holds 60 s" in str(err.value) and "\n" not in str(err.value)


def test_resampled_windows_do_not_depend_on_where_a_read_block_starts(tmp_path):
    from scipy.signal import resample_poly

    setup = _Setup(tmp_path, recordings={"r": {"seconds": 300.0}})
    rate = 250.0  # 256 -> 250 Hz: the two rates share a sample every 0.5 s only
    prep = Preprocessing(setup.chans, rate, "raw", {"sfreq": rate})
    # Reads go in blocks of up to 120 s; with 2.1-s windows a block starts at a window's end, off the
    # 0.5-s grid.
    table = _table(_grid(2.1, 0.25, seconds=300.0), 2.1)
    got = np.asarray(setup.get(table, prep))
    with EdfReader(setup.edf(), setup.chans) as reader:
        whole = resample_poly(reader.read(0.0, reader.duration), 125, 128, axis=-1).astype(np.float32)
    n = got.shape[-1]
    want = np.stack([whole[:, o : o + n] for o in np.rint(table["start"].to_numpy() * rate).astype(int)])
    # Blocks on the rates' common grid give the whole recording's resampled values (the filter's ends
    # lie 10 s away); a block off it is shifted by part of a sample, far beyond this tolerance.
    np.testing.assert_allclose(got, want, atol=0.05)


def _write_mixed_scaling_edf(path: Path, chans) -> None:
    """Channel 0 with a symmetric range (offset 0, as Siena files), the rest as CHB-MIT's 12-bit
    integers for +-800 uV (offset about 0.195 uV)."""
    import edfio

    rng = np.random.default_rng(3)
    n = int(SECONDS * SFREQ)
    sig = [
        edfio.EdfSignal(
            rng.standard_normal(n) * 20,
            SFREQ,
            label=lab,
            physical_dimension="uV",
            physical_range=(-4096, 4095.875) if c == 0 else (-800, 800),
            digital_range=(-32768, 32767) if c == 0 else (-2048, 2047),
        )
        for c, lab in enumerate(chans)
    ]
    edfio.Edf(sig).write(path)


def _decoded_memory(monkeypatch, megabytes: str, chunk: int | None = None) -> window_store._DecodedBudget:
    """A fresh process budget of decoded signal (``SEIZURE_BENCH_DECODED_MB``), chunks of ``chunk``."""
    monkeypatch.setenv(window_store.DECODED_MB_ENV, megabytes)
    budget = window_store._DecodedBudget()
    monkeypatch.setattr(window_store, "DECODED_BUDGET", budget)
    if chunk is not None:
        monkeypatch.setattr(window_store, "DECODE_CHUNK", chunk)
    return budget


# Decoded memory: as much as needed; none (every read decodes); room for part of the chunks, with
# windows spanning several chunks.
MEMORY = {"kept": ("4096", None), "none": ("0", None), "partial": ("0.05", 100)}


@pytest.mark.parametrize("memory", list(MEMORY))
@pytest.mark.parametrize("only", [None, *window_store.LUT_FORMULAS])
def test_every_decoding_of_edf_integers_gives_the_readers_values_bit_for_bit(tmp_path, monkeypatch, only, memory):
    import benchmark.windows as windows

    _decoded_memory(monkeypatch, *MEMORY[memory])
    if only is not None:  # this formula alone, else the value table
        monkeypatch.setattr(windows, "LUT_FORMULAS", {only: window_store.LUT_FORMULAS[only]})
    setup = _Setup(tmp_path, chans=("C3", "C4", "Cz"))
    _write_mixed_scaling_edf(setup.edf(), setup.chans)
    table = _table(_grid(2.0, 0.75, extra=(5.25,)), 2.0)
    prep = Preprocessing(setup.chans, SFREQ, "raw", {})
    store = setup.get(table, prep)
    assert store.X.dtype == np.int16
    lut = store.layout["lut"]
    names = [f[0] for f in lut["formula"]] if "formula" in lut else ["table"]
    if only is None:  # the default: the one-multiplication formula where the offset is 0
        assert names == ["scale", "microvolts", "microvolts"]
    else:
        assert set(names) <= {only, "table"}
    want = _direct(setup, table, prep)
    np.testing.assert_array_equal(np.asarray(store).view(np.uint32), want.view(np.uint32))
    rows = np.array([7, 0, 3])
    np.testing.assert_array_equal(store[rows].view(np.uint32), want[rows].view(np.uint32))
    done = store._decoded.done
    assert {"kept": done.all(), "none": not done.any(), "partial": 0 < done.sum() < len(done)}[memory]
    assert store._decoded.complete == (memory == "kept")
    if memory == "kept":  # once every chunk is decoded, reads copy float32 and touch no integer again
        monkeypatch.setattr(window_store, "_decode_block", None)
        monkeypatch.setattr(store._decoded, "_x", None)
        np.testing.assert_array_equal(store[rows[::-1]].view(np.uint32), want[rows[::-1]].view(np.uint32))


def test_decoded_signal_is_kept_within_the_budget_and_given_back(tmp_path, monkeypatch):
    import gc

    budget = _decoded_memory(monkeypatch, "0.05", chunk=100)  # 52,428 bytes: 43 chunks of 2 x 100
    setup = _Setup(tmp_path)
    table = _table(_grid(2.0, 1.0), 2.0)
    store = setup.get(table, Preprocessing(setup.chans, SFREQ, "raw", {}))
    first = np.asarray(store[np.arange(len(store))])
    chunk_bytes = 2 * 100 * 4
    assert store._decoded.done.sum() == 52428 // chunk_bytes and budget._left < chunk_bytes
    # Reads from memory and reads that decode again give the same bits, in any order.
    np.testing.assert_array_equal(np.asarray(store[np.arange(len(store))[::-1]]), first[::-1])
    other = WindowStore(store.path)  # the budget is the process's: a second store gets none
    np.testing.assert_array_equal(np.asarray(other[np.arange(len(other))]), first)
    assert not other._decoded.done.any()
    del store, other
    gc.collect()
    assert budget._left == 52428


def test_a_decoded_memory_setting_that_is_not_a_number_is_refused_in_one_line(tmp_path, monkeypatch):
    _decoded_memory(monkeypatch, "lots")
    setup = _Setup(tmp_path)
    store = setup.get(_table(_grid(2.0, 1.0), 2.0), Preprocessing(setup.chans, SFREQ, "raw", {}))
    with pytest.raises(ValueError, match=r"SEIZURE_BENCH_DECODED_MB='lots' is not a number of megabytes"):
        store[np.arange(3)]


def test_a_copy_of_a_table_decoded_entry_holds_float32_values_and_no_table(tmp_path, monkeypatch):
    import benchmark.windows as windows

    monkeypatch.setattr(windows, "LUT_FORMULAS", {})  # no formula fits: the entry keeps a value table
    setup = _Setup(tmp_path)
    src = setup.get(_table(_grid(2.0, 1.0), 2.0), Preprocessing(setup.chans, SFREQ, "raw", {}))
    assert src.X.dtype == np.int16 and (Path(src.path) / "lut.npy").exists()
    rows = np.array([3, 40])
    copy_windows(src.path, tmp_path / "copy", rows, np.array([1, 0]))
    dest = WindowStore(tmp_path / "copy")
    assert dest.X.dtype == np.float32 and not (tmp_path / "copy" / "lut.npy").exists()
    np.testing.assert_array_equal(dest[np.array([1, 0])], src[rows])


def test_a_copy_lays_its_stretches_out_in_a_random_order(tmp_path):
    setup = _Setup(tmp_path)
    src = setup.get(_table(_grid(2.0, 1.0), 2.0), Preprocessing(setup.chans, SFREQ, "raw", {}))
    rows = np.array([0, 10, 20, 30, 40, 50])  # six stretches that share no sample
    orders = set()
    for k in range(12):
        copy_windows(src.path, tmp_path / f"c{k}", rows, np.arange(6), rng=np.random.default_rng(k))
        dest = WindowStore(tmp_path / f"c{k}")
        np.testing.assert_array_equal(np.asarray(dest), src[rows])
        orders.add(tuple(np.argsort(dest.index[:, 0])))
    assert len(orders) > 1  # the file order of the stretches is not the windows' order


@pytest.mark.parametrize(
    ("rep", "w", "column", "value"), [("raw", 2.0, 0, -1), ("raw", 2.0, 0, 10**9), ("spectrogram", 10.0, 1, -2)]
)
def test_an_index_pointing_outside_the_entry_is_refused_when_it_is_opened(tmp_path, rep, w, column, value):
    # Windows are read through views that do not check bounds: a negative start would wrap around.
    setup = _Setup(tmp_path)
    store = setup.get(_table(_grid(w, 1.0), w), Preprocessing(setup.chans, SFREQ, rep, {}))
    copy = tmp_path / "copy"
    shutil.copytree(store.path, copy)
    index = np.load(copy / window_store.INDEX_FILE)
    index[1, column] = value
    np.save(copy / window_store.INDEX_FILE, index)
    with pytest.raises(ValueError, match="inconsistent.*delete the entry"):
        WindowStore(copy)


def test_a_spectrogram_entry_missing_its_edge_frames_is_refused_when_it_is_opened(tmp_path):
    setup = _Setup(tmp_path)
    store = setup.get(_table(_grid(10.0, 1.0), 10.0), Preprocessing(setup.chans, SFREQ, "spectrogram", {}))
    assert store.E is not None
    copy = tmp_path / "copy"
    shutil.copytree(store.path, copy)
    (copy / window_store.EDGES_FILE).unlink()
    with pytest.raises(ValueError, match="inconsistent"):
        WindowStore(copy)
