"""The loader base: one EDF header check with one set of messages, and pinned dataset versions."""

from __future__ import annotations

import datetime as dt
import importlib
import inspect

import numpy as np
import pytest

from benchmark.datasets.base import DatasetLoader, check_edf_header
from benchmark.errors import DataError

edfio = pytest.importorskip("edfio")

EEG_LOADERS = {
    "chbmit": "ChbmitLoader",
    "siena": "SienaLoader",
    "tusz": "TuszLoader",
    "helsinki": "HelsinkiLoader",
    "bids_eeg": "BidsLoader",
    "edf_folder": "EdfFolderLoader",
}


def write_edf(path, seconds=4, labels=("Fp1", "F3", "C3"), rates=(256, 256, 256)):
    signals = [edfio.EdfSignal(np.zeros(seconds * r), sampling_frequency=r, label=lab) for lab, r in zip(labels, rates)]
    edfio.Edf(
        signals,
        recording=edfio.Recording(startdate=dt.date(2016, 1, 1)),
        starttime=dt.time(10, 0, 0),
        data_record_duration=1,
    ).write(path)
    return path


@pytest.mark.parametrize(
    "expected, message",
    [
        (
            {"listed": ("FP1", "F3", "C3", "O2")},
            r"EDF lacks channel\(s\) O2 that the list names; fix the list or re-download the file",
        ),
        ({"sfreq": 512.0}, r"EDF sampling rate 256 Hz, the list says 512 Hz; fix the list or re-download the file"),
        ({"duration": 60.0}, r"EDF holds 4 s but the list says 60 s; re-download the file \(a partial download\?\)"),
    ],
)
def test_a_mismatching_header_is_one_line_naming_the_file(tmp_path, expected, message):
    path = write_edf(tmp_path / "rec.edf")
    wanted = ("FP1", "F3", "C3", "O2")
    with pytest.raises(DataError, match=message) as err:
        check_edf_header(path, source="the list", wanted=wanted, **expected)
    text = str(err.value)
    assert "\n" not in text and text.startswith(f"{path}: ")


def test_a_matching_header_reports_missing_channels_and_rates(tmp_path):
    path = write_edf(tmp_path / "rec.edf", rates=(256, 256, 128))
    check = check_edf_header(path, source="the list", wanted=("FP1", "F3", "O2"), sfreq=256.0, duration=5.0)
    assert check.missing == ("O2",) and check.rates == (256.0,) and check.sfreq == 256.0
    mixed = check_edf_header(path, source="the list", wanted=("FP1", "C3"))
    assert mixed.rates == (128.0, 256.0) and mixed.sfreq == 256.0  # the header's highest rate
    with pytest.raises(
        DataError, match=r"rec\.edf: the benchmark channels have different sampling rates \(128, 256 Hz\)"
    ):
        check_edf_header(path, source="the list", wanted=("FP1", "C3"), one_rate=True)


@pytest.mark.parametrize("module, cls", sorted(EEG_LOADERS.items()))
def test_every_eeg_loader_checks_headers_through_the_one_function(module, cls):
    """Each EEG loader is a DatasetLoader, and its header mismatch messages come from check_edf_header."""
    mod = importlib.import_module(f"benchmark.datasets.{module}")
    assert issubclass(getattr(mod, cls), DatasetLoader)
    source = inspect.getsource(mod)
    for own_message in ("EDF sampling rate", "EDF lacks channel", "re-download the file"):
        assert own_message not in source, f"{module} words its own header check: {own_message!r}"
    loader = getattr(mod, cls)
    assert loader.load is DatasetLoader.load  # one walk for all
    assert "check_edf_header" in source or "self.check_header(" in source


# -- dataset versions: the content hashes split files and window caches are keyed by -------------
PINNED = {
    "chbmit": ("chbmit", "load_chbmit", "c2e245fa5ead3db575ac480e01b5472b70eca03fa9d0bba983c45015c328007e"),
    "siena": ("format-samples/siena", "load_siena", "a9e4bb97ed80d414bc7ca18880f319ec58a615d0209f72602c52fc5bfe9671cc"),
    "tusz": ("format-samples/tuh", "load_tusz", "0cfc16576148ff74cbb4285511f71b55fa9c0ec865d98be04116f65a79e4927e"),
}


@pytest.mark.parametrize("name", sorted(PINNED))
def test_content_hash_of_the_real_format_samples_is_pinned(shared_data, name):
    folder, loader, expected = PINNED[name]
    load = getattr(importlib.import_module("benchmark.datasets"), loader)
    assert load(shared_data / folder).content_hash() == expected
