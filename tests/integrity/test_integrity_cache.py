"""The window cache never serves an altered entry: every byte a run reads is checked once per run.

Entries are checked with an xxh3-128 checksum of the whole ``X.npy`` (see ``benchmark.windows``);
the cheaper sampled check reads 64 blocks of 64 KiB and misses damage between them, which is why
it is no longer the default.
"""

from __future__ import annotations

import json
import logging
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import tiny_config

import benchmark.windows as windows
from benchmark import cli
from benchmark.index import Patient, Recording, RecordingIndex
from benchmark.store import ResultStore
from benchmark.windows import INTEGRITY_FILE, NpyWriter, Preprocessing, WindowCache, check_entry


def _unsampled_ranges(size: int, header_bytes: int) -> list[tuple[int, int]]:
    """Byte ranges of the data that the sampled check never reads."""
    blocks = windows.SAMPLE_BLOCKS * windows.SAMPLE_BYTES
    assert size > blocks, "the entry must be larger than the sample for the check to be sampled"
    starts = np.linspace(0, size - windows.SAMPLE_BYTES, windows.SAMPLE_BLOCKS).astype(np.int64)
    gaps = [(int(a) + windows.SAMPLE_BYTES, int(b)) for a, b in zip(starts[:-1], starts[1:])]
    return [(max(lo, header_bytes), hi) for lo, hi in gaps if hi - max(lo, header_bytes) >= 4]


@pytest.fixture(scope="module")
def bigger(tmp_path_factory) -> Path:
    """Synthetic CHB-MIT-shaped data whose per-patient detection entry at a 0.1-s stride is > 4 MiB."""
    from benchmark.datasets.synthetic import generate

    return generate(tmp_path_factory.mktemp("cache-ds") / "ds", tiny_config(interictal_recording_minutes=5))


def _run(root: Path, data: Path, cache: Path, capsys) -> tuple[pd.DataFrame, str]:
    store = root / "r.sqlite"
    capsys.readouterr()
    rc = cli.main(
        [
            "--store",
            str(store),
            "run",
            "--method",
            "bandpower_logreg",
            "--dataset",
            "chbmit-synthetic",
            "--data-dir",
            str(data),
            "--splits-dir",
            str(root / "splits"),
            "--cache-dir",
            str(cache),
            "--task",
            "detection",
            "--stride",
            "0.1",
            "--threads",
            "1",
            "--no-progress",
        ]
    )
    out, err = capsys.readouterr()
    assert rc == 0, err
    with ResultStore(store) as st:
        (run,) = st.list_runs()
        assert run.status == "complete"
        return st.scores(run.run_id), out


@pytest.mark.slow
def test_item08_damage_the_sampled_check_never_reads_is_rebuilt_not_served(bigger, tmp_path, capsys, caplog):
    cache = tmp_path / "cache"
    clean, _ = _run(tmp_path / "a", bigger, cache, capsys)
    entries = sorted(p for p in (cache / "windows").iterdir() if (p / "COMPLETE").exists())
    assert entries
    entry = entries[0]
    data = entry / "X.npy"
    size = data.stat().st_size
    assert size > 4 << 20
    header_bytes = json.loads((entry / INTEGRITY_FILE).read_text())["header_bytes"]
    # Large band powers in every gap between the sampled blocks: about a fifth of the windows.
    raw = bytearray(data.read_bytes())
    for lo, hi in _unsampled_ranges(size, header_bytes):
        lo += (header_bytes - lo) % 4  # whole float32 values
        n = (hi - lo) // 4
        raw[lo : lo + 4 * n] = np.full(n, 1e6, dtype=np.float32).tobytes()
    data.write_bytes(bytes(raw))
    assert check_entry(entry) is None  # invisible to the sampled check ...
    assert "every byte" in check_entry(entry, full=True)  # ... not to the full one

    with caplog.at_level(logging.WARNING, logger="benchmark.windows"):
        again, _ = _run(tmp_path / "b", bigger, cache, capsys)
    warned = [r.getMessage() for r in caplog.records if "damaged" in r.getMessage()]
    assert len(warned) == 1 and entry.name in warned[0] and "rebuilding" in warned[0]
    assert check_entry(entry, full=True) is None
    pd.testing.assert_frame_equal(again, clean)


def _tiny_entry(tmp_path: Path):
    import edfio

    rng = np.random.default_rng(3)
    sig = [
        edfio.EdfSignal(rng.standard_normal(256 * 40) * 20, 256, label=c, physical_range=(-500, 500))
        for c in ("C3", "C4")
    ]
    edfio.Edf(sig).write(tmp_path / "r.edf")
    rec = Recording("r", "r.edf", 0.0, 40.0, 256.0, ("C3", "C4"))
    index = RecordingIndex("tiny", (Patient("p", (rec,)),), channels=("C3", "C4"), synthetic=True, root=str(tmp_path))
    starts = np.arange(0.0, 30.0, 1.0)
    table = pd.DataFrame({"patient": "p", "recording": "r", "start": starts, "end": starts + 4})
    prep = Preprocessing(("C3", "C4"), 256.0, "raw", {})
    return index, table, prep


def test_item08_each_entry_is_fully_checked_once_per_run_and_again_when_it_changes(tmp_path, monkeypatch):
    index, table, prep = _tiny_entry(tmp_path)
    calls = []
    hash_file = windows._hash_file
    monkeypatch.setattr(windows, "_hash_file", lambda p: calls.append(Path(p).name) or hash_file(p))
    first, reused = WindowCache(tmp_path / "cache").get(index, "p", table, prep)
    first = np.array(first)  # a copy: the memmap would show the damage done below
    assert not reused
    calls.clear()
    run = WindowCache(tmp_path / "cache")  # one object per run
    for _ in range(3):
        _, reused = run.get(index, "p", table, prep)
        assert reused
    assert calls[0] == "X.npy" and sorted(calls[1:]) == ["layout.json", "windows.npy"]  # the first time only
    _, reused = WindowCache(tmp_path / "cache").get(index, "p", table, prep)
    assert reused and len(calls) == 6  # the next run checks again
    # Altered after it was checked in this run: checked again, found damaged, rebuilt.
    entry = run.entry_dir(index, "p", table, prep)
    raw = bytearray((entry / "X.npy").read_bytes())
    raw[-5] ^= 0x10
    (entry / "X.npy").write_bytes(bytes(raw))
    arr, reused = run.get(index, "p", table, prep)
    assert not reused
    np.testing.assert_array_equal(np.asarray(arr), np.asarray(first))


def test_item08_entries_written_before_xxh3_are_still_fully_checked_by_their_crc32(tmp_path):
    index, table, prep = _tiny_entry(tmp_path)
    cache = WindowCache(tmp_path / "cache")
    first = np.array(cache.get(index, "p", table, prep)[0])
    entry = cache.entry_dir(index, "p", table, prep)
    rec = json.loads((entry / INTEGRITY_FILE).read_text())
    data = (entry / "X.npy").read_bytes()
    old = {k: v for k, v in rec.items() if k != "xxh3_128"}
    old["crc32"] = zlib.crc32(data[rec["header_bytes"] :])  # the record as the previous format wrote it
    (entry / INTEGRITY_FILE).write_text(json.dumps(old))
    assert check_entry(entry, full=True) is None
    _, reused = WindowCache(tmp_path / "cache").get(index, "p", table, prep)
    assert reused
    raw = bytearray(data)
    raw[len(raw) // 2] ^= 0x01
    (entry / "X.npy").write_bytes(bytes(raw))
    assert "CRC-32" in check_entry(entry, full=True)
    arr, reused = WindowCache(tmp_path / "cache").get(index, "p", table, prep)
    assert not reused and "xxh3_128" in json.loads((entry / INTEGRITY_FILE).read_text())
    np.testing.assert_array_equal(np.asarray(arr), np.asarray(first))


def test_item08_file_checksum_is_streamed_and_equals_the_writers(tmp_path, monkeypatch):
    import xxhash

    monkeypatch.setattr(windows, "HASH_CHUNK", 1000)  # many chunks, the last one partial
    values = np.random.default_rng(0).standard_normal((97, 13)).astype(np.float32)
    w = NpyWriter(tmp_path / "a.npy", values.shape, np.float32)
    w[np.arange(40)] = values[:40]
    w[np.arange(40, 97)] = values[40:]
    in_order = w.close()
    w = NpyWriter(tmp_path / "b.npy", values.shape, np.float32)
    w[np.arange(50, 97)] = values[50:]  # out of order: hashed from the file at close
    w[np.arange(50)] = values[:50]
    out_of_order = w.close()
    whole = xxhash.xxh3_128_hexdigest((tmp_path / "a.npy").read_bytes())
    assert in_order == out_of_order == whole == windows._hash_file(tmp_path / "a.npy")
    np.testing.assert_array_equal(np.load(tmp_path / "b.npy"), values)
