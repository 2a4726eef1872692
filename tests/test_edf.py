"""EDF header parsing and span reading, on the two real CHB-MIT excerpts and broken copies."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from benchmark.datasets.chbmit import CHBMIT_CHANNELS
from benchmark.edf import EdfReader, read_header
from benchmark.errors import DataError


@pytest.fixture(scope="module")
def excerpts(shared_data):
    folder = shared_data / "chbmit" / "excerpts"
    seizure, background = folder / "chb01_03_Seizure.edf", folder / "chb01_03_NonSeizure.edf"
    if not (seizure.is_file() and background.is_file()):
        pytest.skip(f"CHB-MIT excerpts not found in {folder}")
    return seizure, background


def test_header_of_real_excerpt(excerpts):
    h = read_header(excerpts[0])
    assert h.sfreq == 256.0 and len(h.channels) == 23
    assert h.n_samples == 41 * 256 and h.duration == 41.0
    assert h.n_records == 41 and h.record_duration == 1.0
    # Labels as in the file: T8-P8 at positions 15 and 23, not renamed.
    assert [i for i, c in enumerate(h.channels) if c == "T8-P8"] == [14, 22]
    assert set(CHBMIT_CHANNELS) <= set(h.channels)
    # The README gives the excerpt's start: 14:32:59 (chb01_03 starts 13:43:04, +2995 s).
    assert h.start.time() == dt.time(14, 32, 59)
    assert read_header(excerpts[1]).start.time() == dt.time(13, 43, 4)


def test_reader_selects_channels_case_insensitively_and_reads_spans(excerpts):
    with EdfReader(excerpts[0], ["t8-p8", "FP1-F7", "cz-pz"]) as edf:
        assert (edf.sfreq, edf.duration, edf.n_samples) == (256.0, 41.0, 41 * 256)
        full = edf.read(0, 41)
        span = edf.read(10.0, 12.5)
    assert full.dtype == np.float32 and full.shape == (3, 41 * 256)
    assert span.shape == (3, 640)
    np.testing.assert_array_equal(span, full[:, 2560:3200])
    # Microvolts: scalp EEG has a standard deviation of tens to hundreds of uV.
    assert np.all((full.std(axis=1) > 1) & (full.std(axis=1) < 1000))


def test_duplicated_label_resolves_to_first_occurrence(excerpts, tmp_path):
    # Make the two T8-P8 signals differ on disk by zeroing the second one's samples, then
    # check the reader returns the first (non-zero) one.
    raw = bytearray(excerpts[0].read_bytes())
    h = read_header(excerpts[0])
    header_bytes, ns, spr = 256 * (len(h.channels) + 1), len(h.channels), 256
    for rec in range(h.n_records):
        start = header_bytes + (rec * ns + 22) * spr * 2
        raw[start : start + spr * 2] = bytes(spr * 2)
    path = tmp_path / "dup.edf"
    path.write_bytes(bytes(raw))
    with EdfReader(path, ["T8-P8"]) as edf:
        first = edf.read(0, 41)
    with EdfReader(excerpts[0], ["T8-P8"]) as edf:
        original = edf.read(0, 41)
    assert first.std() > 1
    np.testing.assert_array_equal(first, original)


def test_seizure_excerpt_has_more_line_length_than_background(excerpts):
    def line_length(path):
        with EdfReader(path, CHBMIT_CHANNELS) as edf:
            x = edf.read(0, edf.duration)
        return np.abs(np.diff(x, axis=1)).mean(axis=1)

    ratio = line_length(excerpts[0]) / line_length(excerpts[1])
    # Ictal rhythm raises line length on most channels (median about 1.7x, up to ~7x over T8-P8).
    assert np.median(ratio) > 1.5


def test_truncated_file_is_detected(excerpts, tmp_path):
    data = excerpts[0].read_bytes()
    path = tmp_path / "truncated.edf"
    path.write_bytes(data[: len(data) - 5000])
    with pytest.raises(DataError, match="truncated.*41 data records.*holds 40"):
        read_header(path)
    with pytest.raises(DataError, match="truncated"):
        EdfReader(path, ["FP1-F7"])


def test_garbage_and_missing_files(tmp_path):
    garbage = tmp_path / "garbage.edf"
    garbage.write_bytes(b"this is not an EDF file at all" * 40)
    with pytest.raises(DataError, match="not an EDF file"):
        read_header(garbage)
    with pytest.raises(DataError, match="does not exist"):
        read_header(tmp_path / "missing.edf")
    short = tmp_path / "short.edf"
    short.write_bytes(b"0       ")
    with pytest.raises(DataError, match="not an EDF file"):
        EdfReader(short, ["FP1-F7"])


def test_missing_channels_and_reads_beyond_end(excerpts):
    with pytest.raises(DataError, match=r"lacks channel\(s\) C7-F9, XX.*it has FP1-F7, F7-T7"):
        EdfReader(excerpts[0], ["FP1-F7", "C7-F9", "XX"])
    with EdfReader(excerpts[0], ["FP1-F7"]) as edf:
        with pytest.raises(DataError, match="holds 41 s"):
            edf.read(40, 42)
        with pytest.raises(DataError, match="inside the recording"):
            edf.read(-1, 2)
        assert edf.read(3, 3).shape == (1, 0)


def test_mixed_sampling_rates_are_refused(tmp_path):
    edfio = pytest.importorskip("edfio")
    t = np.arange(400) / 200
    path = tmp_path / "mixed.edf"
    edfio.Edf(
        [
            edfio.EdfSignal(np.sin(t) * 50, sampling_frequency=200, label="C3"),
            edfio.EdfSignal(np.sin(t[:200]) * 50, sampling_frequency=100, label="ECG"),
        ]
    ).write(path)
    h = read_header(path)
    assert h.channel_sfreqs == (200.0, 100.0) and h.sfreq == 200.0
    with pytest.raises(DataError, match="different sampling rates"):
        EdfReader(path, ["C3", "ECG"])
    # A slower unrelated channel does not change the rate of the ones asked for.
    with EdfReader(path, ["ECG"]) as edf:
        assert edf.sfreq == 100.0 and edf.read(0, 2).shape == (1, 200)
    with EdfReader(path, ["c3"]) as edf:
        assert edf.sfreq == 200.0 and edf.read(0, 2).shape == (1, 400)


def test_discontinuous_edf_plus_is_refused(excerpts, tmp_path):
    data = bytearray(excerpts[1].read_bytes())
    data[192:197] = b"EDF+D"
    path = tmp_path / "discontinuous.edf"
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match="discontinuous"):
        read_header(path)
