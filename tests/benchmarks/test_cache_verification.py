"""Speed of the window cache's integrity check against a plain re-read of the entry.

Every byte of an entry is checked (xxh3-128 of ``X.npy``) the first time a run opens it, so the
check costs about one extra read of the entry. Figures, in GB/s of ``X.npy`` (page cache warm):

* plain re-read: the file read in the same chunks into the same buffer, no checksum;
* full check: :func:`benchmark.windows.check_entry` with ``full=True`` (size, header, xxh3-128);
* CRC-32: the full checksum of entries written before xxh3 (``zlib.crc32``), for reference;
* sampled check: the cheaper ``verify="sampled"`` (64 blocks of 64 KiB), in milliseconds.

The full check must reach :data:`MIN_RATIO` of the plain re-read's throughput on the best rounds.
The entry holds seeded random float32 values; the speed does not depend on them.
"""

from __future__ import annotations

import json
import time
import zlib

import numpy as np
import pytest

import benchmark.windows as windows
from benchmark.windows import INTEGRITY_FILE, NpyWriter, check_entry

ENTRY_MIB = 256
ROUNDS = 5
MIN_RATIO = 0.5


def _plain_read(path) -> int:
    buf = bytearray(windows.HASH_CHUNK)
    total = 0
    with open(path, "rb", buffering=0) as fh:
        while n := fh.readinto(buf):
            total += n
    return total


def _crc(path) -> int:
    buf = bytearray(windows.HASH_CHUNK)
    view, crc = memoryview(buf), 0
    with open(path, "rb", buffering=0) as fh:
        while n := fh.readinto(buf):
            crc = zlib.crc32(view[:n], crc)
    return crc


def test_full_cache_check_runs_at_re_read_speed(benchmark, bench_summary, tmp_path):
    entry = tmp_path / "entry"
    entry.mkdir()
    rows = ENTRY_MIB * 1024  # rows of 1 KiB
    writer = NpyWriter(entry / "X.npy", (rows, 256), np.float32)
    rng = np.random.default_rng(0)
    for lo in range(0, rows, 16384):
        hi = min(rows, lo + 16384)
        writer[np.arange(lo, hi)] = rng.standard_normal((hi - lo, 256), dtype=np.float32)
    digest = writer.close()
    record = windows._integrity_record(entry / "X.npy", (rows, 256), np.float32, writer.header_bytes, digest)
    record["parts"] = {}  # an entry of X.npy alone
    (entry / INTEGRITY_FILE).write_text(json.dumps(record))
    size = (entry / "X.npy").stat().st_size
    assert _plain_read(entry / "X.npy") == size  # and the page cache is warm from here on

    plain_s, full_s, crc_s, sampled_s = [], [], [], []

    def timed(into, fn, *args):
        t0 = time.perf_counter()
        out = fn(*args)
        into.append(time.perf_counter() - t0)
        return out

    def one_round():
        # Interleaved so that other load on a shared machine hits all alike.
        timed(plain_s, _plain_read, entry / "X.npy")
        assert timed(full_s, check_entry, entry, True) is None
        timed(crc_s, _crc, entry / "X.npy")
        assert timed(sampled_s, check_entry, entry, False) is None

    benchmark.pedantic(one_round, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    gb = size / 1e9
    plain, full, crc = gb / np.min(plain_s), gb / np.min(full_s), gb / np.min(crc_s)
    ratio = float(full / plain)
    benchmark.extra_info.update(
        {
            "entry_gb": round(gb, 3),
            "plain_reread_gbps_best": round(plain, 2),
            "full_check_gbps_best": round(full, 2),
            "crc32_gbps_best": round(crc, 2),
            "full_check_gbps_median": round(gb / float(np.median(full_s)), 2),
            "plain_reread_gbps_median": round(gb / float(np.median(plain_s)), 2),
            "sampled_check_ms_median": round(1e3 * float(np.median(sampled_s)), 2),
            "full_over_plain": round(ratio, 2),
        }
    )
    bench_summary.append(
        f"cache check of a {gb:.2f}-GB entry (best of {ROUNDS}): full xxh3-128 {full:.1f} GB/s, plain re-read "
        f"{plain:.1f} GB/s ({ratio:.2f}x), CRC-32 {crc:.1f} GB/s, sampled {1e3 * np.median(sampled_s):.1f} ms"
    )
    assert ratio >= MIN_RATIO, f"the full check runs at {ratio:.2f}x the plain re-read, under {MIN_RATIO}"


@pytest.fixture(autouse=True)
def _free(tmp_path):
    yield
    for f in tmp_path.glob("entry/*"):  # 256 MiB; pytest keeps recent tmp folders
        f.unlink()
