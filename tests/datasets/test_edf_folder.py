"""The EDF-folder loader for private datasets (manifest + seizure CSVs + config)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmark.datasets import load_dataset
from benchmark.datasets.edf_folder import load_edf_folder
from benchmark.errors import DataError

edfio = pytest.importorskip("edfio")

CHANNELS = ["Fp1", "F3", "C3"]


def write_edf(path, seconds, labels=CHANNELS, sfreq=200):
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(len(str(path)))
    edfio.Edf(
        [edfio.EdfSignal(rng.normal(0, 20, seconds * sfreq), sampling_frequency=sfreq, label=c) for c in labels]
    ).write(path)


def write_csv(path, header, rows):
    path.write_text("\n".join([",".join(header)] + [",".join(map(str, r)) for r in rows]) + "\n")


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "snuh"
    write_edf(root / "p2" / "a.edf", 30)
    write_edf(root / "p1" / "b.edf", 20)
    write_edf(root / "p1" / "a.edf", 10)
    write_csv(
        root / "manifest.csv",
        ["patient", "recording", "file", "start_time"],
        [
            ("p1", "r2", "p1/b.edf", "2021-03-04T23:59:50"),
            ("p1", "r1", "p1/a.edf", "2021-03-04T22:00:00"),
            ("p2", "r1", "p2/a.edf", "2020-01-01 08:00:00"),
        ],
    )
    write_csv(
        root / "seizures.csv",
        ["patient", "recording", "onset", "offset", "type"],
        [("p1", "r2", 12, 15.5, "FBTC"), ("p1", "r2", 2, 4, ""), ("p2", "r1", 0, 30, "focal")],
    )
    (root / "edf-folder.json").write_text(json.dumps({"name": "snuh", "channels": CHANNELS}))
    return root


def test_index_from_folder(folder):
    index = load_edf_folder(folder)
    assert index.dataset == "snuh" and index.channels == tuple(CHANNELS)
    assert index.patient_ids == ["p1", "p2"]
    p1 = index.patient("p1")
    assert [r.recording_id for r in p1.recordings] == ["r1", "r2"]  # chronological
    r1, r2 = p1.recordings
    assert (r1.start, r1.duration, r1.sfreq) == (0.0, 10.0, 200.0)
    assert r2.start == 2 * 3600 - 10.0 and r2.file == "p1/b.edf"
    assert [(s.onset, s.offset, s.type) for s in r2.seizures] == [(2, 4, None), (12, 15.5, "FBTC")]
    assert r2.channels == tuple(CHANNELS)
    assert index.n_seizures == 3 and index.exclusions == ()
    # Same content whether loaded directly, by name, with the channel list given explicitly.
    assert load_dataset("edf-folder", folder).content_hash() == index.content_hash()
    by_arg = load_edf_folder(folder, channels=CHANNELS, dataset_name="snuh")
    assert by_arg.content_hash() == index.content_hash()


def test_toml_config_and_case_insensitive_channels(folder):
    (folder / "edf-folder.json").unlink()
    (folder / "edf-folder.toml").write_text('name = "snuh-toml"\nchannels = ["FP1", "f3"]\n')
    index = load_edf_folder(folder)
    assert index.dataset == "snuh-toml" and index.channels == ("FP1", "f3")


def test_recording_lacking_a_channel_is_excluded_but_a_channel_missing_everywhere_is_an_error(folder):
    write_edf(folder / "p2" / "a.edf", 30, labels=["Fp1", "F3"])
    index = load_edf_folder(folder)
    [excl] = index.exclusions
    assert (excl.scope, excl.patient, excl.recording) == ("recording", "p2", "r1")
    assert "C3" in excl.reason
    with pytest.raises(DataError, match=r"channel\(s\) Cz .* in none of the EDF files"):
        load_edf_folder(folder, channels=["Fp1", "Cz"])


@pytest.mark.parametrize(
    ("table", "header", "rows", "fragment"),
    [
        ("manifest.csv", ["patient", "recording", "file"], [("p1", "r1", "p1/a.edf")], r"lacks column\(s\) start_time"),
        ("seizures.csv", ["patient", "recording", "onset"], [("p1", "r1", 1)], r"lacks column\(s\) offset"),
        (
            "seizures.csv",
            ["patient", "recording", "onset", "offset"],
            [("p1", "r9", 1, 2)],
            "recording p1/r9 is not in manifest.csv",
        ),
        (
            "seizures.csv",
            ["patient", "recording", "onset", "offset"],
            [("p1", "r1", 5, 11)],
            r"seizure 5-11 s is outside recording p1/r1 \(0-10 s\)",
        ),
        ("seizures.csv", ["patient", "recording", "onset", "offset"], [("p1", "r1", 5, 4)], "ends before it starts"),
        (
            "seizures.csv",
            ["patient", "recording", "onset", "offset"],
            [("p1", "r1", "x", 4)],
            "onset 'x' is not a number",
        ),
        (
            "manifest.csv",
            ["patient", "recording", "file", "start_time"],
            [("p1", "r1", "p1/a.edf", "2021-03-04T22:00:00"), ("p1", "r2", "p1/b.edf", "2021-03-04T22:00:05")],
            r"p1/r1 \(p1/a.edf\) and p1/r2 \(p1/b.edf\) overlap",
        ),
        (
            "manifest.csv",
            ["patient", "recording", "file", "start_time"],
            [("p1", "r1", "p1/a.edf", "yesterday")],
            "not an ISO date-time",
        ),
        (
            "manifest.csv",
            ["patient", "recording", "file", "start_time"],
            [("p1", "r1", "p1/missing.edf", "2021-03-04T22:00:00")],
            "missing.edf does not exist",
        ),
        (
            "manifest.csv",
            ["patient", "recording", "file", "start_time"],
            [("p1", "r1", "p1/a.edf", "2021-03-04T22:00:00"), ("p1", "r1", "p1/b.edf", "2021-03-05T22:00:00")],
            "listed twice",
        ),
        (
            "manifest.csv",
            ["patient", "recording", "file", "start_time"],
            [("p1", "r1", "p1/a.edf", "2021-03-04T22:00:00"), ("p1", "r2", "p1/b.edf", "2021-03-05T22:00:00+01:00")],
            "time zone",
        ),
        (
            "manifest.csv",
            ["patient", "recording", "file", "start_time"],
            [("p1", "r1", "../a.edf", "2021-03-04T22:00:00")],
            "must be a path inside",
        ),
    ],
)
def test_bad_tables_raise_clear_errors(folder, table, header, rows, fragment):
    write_csv(folder / table, header, rows)
    if table == "manifest.csv":  # keep the seizure list consistent with the new manifest
        write_csv(folder / "seizures.csv", ["patient", "recording", "onset", "offset"], [])
    with pytest.raises(DataError, match=fragment) as err:
        load_edf_folder(folder)
    assert "\n" not in str(err.value)


def test_missing_config_folder_and_tables(folder, tmp_path):
    (folder / "edf-folder.json").unlink()
    with pytest.raises(DataError, match="no channel list .* edf-folder.json"):
        load_edf_folder(folder)
    with pytest.raises(DataError, match="unknown key.*chanels"):
        load_edf_folder(folder, config={"chanels": CHANNELS})
    assert load_edf_folder(folder, config={"channels": CHANNELS}).dataset == "edf-folder"
    with pytest.raises(DataError, match="does not exist"):
        load_edf_folder(tmp_path / "nowhere", channels=CHANNELS)
    (folder / "seizures.csv").unlink()
    with pytest.raises(DataError, match="seizure list .*seizures.csv not found"):
        load_edf_folder(folder, channels=CHANNELS)


def test_truncated_edf_in_folder_is_reported(folder):
    path = folder / "p1" / "b.edf"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError, match=r"b\.edf is truncated"):
        load_edf_folder(folder)


def test_a_generated_folder_is_labelled_synthetic(folder):
    assert not load_edf_folder(folder).synthetic
    (folder / "SYNTHETIC.json").write_text("{}")
    index = load_edf_folder(folder)
    assert index.synthetic and any("SYNTHETIC.json present" in n for n in index.notes)


def test_content_hash_of_the_fixture_is_pinned(folder):
    """The dataset version that split files and the window cache are keyed by."""
    assert load_edf_folder(folder).content_hash() == (
        "cdfaa38071f853dc02fb10f79de125af43e077ba2a54ec49a7c730c36a03ebb6"
    )
