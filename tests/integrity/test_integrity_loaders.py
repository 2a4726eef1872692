"""Loader integrity (issue 12): duplicate EEG, invalid EDF headers, names that escape the data
folder, text files that are not UTF-8, and conflicts between a dataset's annotation sources."""

from __future__ import annotations

import json
import shutil
import zlib

import numpy as np
import pytest

from benchmark.cli import main
from benchmark.datasets import describe
from benchmark.datasets._common import finish_index, identical_files, read_text, safe_relpath
from benchmark.datasets.chbmit import load_chbmit
from benchmark.datasets.edf_folder import load_edf_folder
from benchmark.edf import EdfReader, read_header
from benchmark.errors import DataError
from benchmark.index import Patient, Recording, Seizure

edfio = pytest.importorskip("edfio")

CHANNELS = ["Fp1", "F3", "C3"]
MANIFEST = ["patient", "recording", "file", "start_time"]
SEIZURES = ["patient", "recording", "onset", "offset"]


def write_edf(path, seconds=60, sfreq=100, seed=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(zlib.crc32(str(path).encode()) if seed is None else seed)
    edfio.Edf(
        [
            edfio.EdfSignal(
                rng.normal(0, 20, seconds * sfreq), sampling_frequency=sfreq, label=c, physical_range=(-500, 500)
            )
            for c in CHANNELS
        ]
    ).write(path)
    return path


def write_csv(path, header, rows, encoding="utf-8"):
    text = "\n".join([",".join(header)] + [",".join(map(str, r)) for r in rows]) + "\n"
    path.write_bytes(text.encode(encoding))


def edf_folder(root, manifest_rows, seizure_rows=(), config=None):
    root.mkdir(parents=True, exist_ok=True)
    (root / "edf-folder.json").write_text(json.dumps(config or {"channels": CHANNELS}))
    write_csv(root / "manifest.csv", MANIFEST, manifest_rows)
    write_csv(root / "seizures.csv", SEIZURES, seizure_rows)
    return root


def patch_signal_field(path, offset, value, signal=0):
    """Overwrite one 8-byte per-signal header field (offset = field start x number of signals)."""
    raw = bytearray(path.read_bytes())
    ns = int(raw[252:256].decode().strip())
    at = 256 + offset * ns + 8 * signal
    raw[at : at + 8] = value.encode().ljust(8)
    path.write_bytes(bytes(raw))


# -- item 2: the same EEG twice --------------------------------------------------------------------
def test_item02_one_edf_file_under_two_patients_is_refused(tmp_path):
    root = tmp_path / "ds"
    write_edf(root / "a.edf")
    edf_folder(root, [("p1", "r1", "a.edf", "2021-01-01T00:00:00"), ("p2", "r1", "a.edf", "2021-01-01T00:00:00")])
    with pytest.raises(DataError, match=r"p1/r1 \(a.edf\) and p2/r1 \(a.edf\) are the same file.*one patient only"):
        load_edf_folder(root)


def test_item02_a_copy_with_an_edited_header_under_two_patients_is_refused(tmp_path):
    root = tmp_path / "ds"
    write_edf(root / "a.edf")
    raw = bytearray((root / "a.edf").read_bytes())
    raw[8:88] = b"X renamed patient".ljust(80)  # de-identified copy: header differs, signal does not
    (root / "b.edf").write_bytes(bytes(raw))
    edf_folder(root, [("p1", "r1", "a.edf", "2021-01-01T00:00:00"), ("p2", "r1", "b.edf", "2021-01-01T00:00:00")])
    with pytest.raises(DataError, match="hold identical signal data"):
        load_edf_folder(root)


def test_item02_second_copy_within_one_patient_is_excluded_with_a_reason(tmp_path, capsys):
    root = tmp_path / "ds"
    write_edf(root / "a.edf")
    shutil.copy(root / "a.edf", root / "b.edf")
    write_edf(root / "c.edf")
    edf_folder(
        root,
        [
            ("p1", "r1", "a.edf", "2021-01-01T00:00:00"),
            ("p1", "r2", "b.edf", "2021-01-01T01:00:00"),
            ("p2", "r1", "c.edf", "2021-01-01T00:00:00"),
        ],
    )
    index = load_edf_folder(root)
    (excl,) = index.exclusions
    assert (excl.patient, excl.recording, excl.scope) == ("p1", "r2", "recording")
    assert "b.edf and a.edf (recording r1)" in excl.reason and "left out" in excl.reason
    assert main(["data", "describe", "edf-folder", "--data-dir", str(root)]) == 0
    assert "second copy is left out" in capsys.readouterr().out


def test_item02_different_files_are_not_duplicates_even_when_their_ends_agree(tmp_path):
    # Same size, same first and last MiB, different middle: only the full hash tells them apart.
    head, tail = b"\x01" * (1 << 20), b"\x02" * (1 << 20)
    (tmp_path / "a.bin").write_bytes(head + b"\x00" * 4096 + tail)
    (tmp_path / "b.bin").write_bytes(head + b"\x00" * 4095 + b"\x07" + tail)
    (tmp_path / "c.bin").write_bytes(head + b"\x00" * 4096 + tail)
    assert identical_files(tmp_path, [("a", "a.bin"), ("b", "b.bin"), ("c", "c.bin"), ("x", "missing.bin")]) == [
        ["a", "c"]
    ]


def test_item02_repeated_seizure_row_is_refused_naming_file_and_row(tmp_path):
    root = tmp_path / "ds"
    write_edf(root / "a.edf")
    edf_folder(
        root,
        [("p1", "r1", "a.edf", "2021-01-01T00:00:00")],
        [("p1", "r1", 10, 20), ("p1", "r1", 30, 40), ("p1", "r1", 10, 20)],
    )
    with pytest.raises(DataError, match=r"seizures.csv, line 4: seizure 10-20 s of p1/r1 repeats line 2"):
        load_edf_folder(root)


def test_item02_every_loader_refuses_a_seizure_listed_twice(tmp_path):
    rec = Recording("r1", "r1.edf", 0.0, 60.0, 100.0, (), seizures=(Seizure(1, 2), Seizure(1, 2)))
    with pytest.raises(DataError, match=r"r1.edf: seizure 1-2 s of recording p1/r1 is listed twice"):
        finish_index("x", [Patient("p1", (rec,))], root=tmp_path, channels=())


def test_item02_one_video_under_two_patients_is_refused(tmp_path):
    from benchmark.datasets.video_folder import load_video_folder
    from benchmark.video_io import write_video

    rng = np.random.default_rng(0)
    write_video(tmp_path / "v1.mp4", rng.integers(0, 255, (10, 16, 16, 3), dtype=np.uint8), 10)
    shutil.copy(tmp_path / "v1.mp4", tmp_path / "v2.mp4")
    (tmp_path / "manifest.csv").write_text("video_id,patient_id,file,label\nv1,p1,v1.mp4,ES\nv2,p2,v2.mp4,PNES\n")
    with pytest.raises(DataError, match="video v2 .* is identical to video v1 .* of patient p1"):
        load_video_folder(tmp_path)


# -- item 9: headers that cannot give finite microvolts --------------------------------------------
@pytest.mark.parametrize(
    "field, value, fragment",
    [
        (104, "nan", "physical minimum 'nan'"),
        (112, "inf", "physical maximum 'inf'"),
        (120, "0", "empty range"),  # digital min = max (both 0 after the patch below)
    ],
)
def test_item09_invalid_scaling_header_fails_in_one_line_naming_the_file(tmp_path, field, value, fragment):
    path = write_edf(tmp_path / "bad.edf")
    patch_signal_field(path, field, value, signal=1)
    if field == 120:
        patch_signal_field(path, 128, "0", signal=1)
    with pytest.raises(DataError, match=fragment) as err:
        read_header(path)
    assert str(path) in str(err.value) and "'F3'" in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_item09_non_finite_record_duration_is_a_one_line_error(tmp_path, value):
    path = write_edf(tmp_path / "bad.edf")
    raw = bytearray(path.read_bytes())
    raw[244:252] = value.encode().ljust(8)
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match="data record duration"):
        read_header(path)


def test_item09_edf_folder_with_a_nan_range_recording_fails_naming_it(tmp_path):
    root = tmp_path / "ds"
    write_edf(root / "good.edf")
    patch_signal_field(write_edf(root / "bad.edf"), 104, "nan")
    edf_folder(root, [("p1", "r1", "good.edf", "2021-01-01T00:00:00"), ("p2", "r1", "bad.edf", "2021-01-01T00:00:00")])
    with pytest.raises(DataError, match=r"bad.edf: signal 'Fp1' has physical minimum 'nan'"):
        load_edf_folder(root)


def test_item09_samples_that_scale_to_inf_are_never_returned(tmp_path):
    path = write_edf(tmp_path / "huge.edf")
    patch_signal_field(path, 112, "1e300")  # finite header, but microvolts overflow float32
    read_header(path)
    with EdfReader(path, CHANNELS) as edf:
        with pytest.raises(DataError, match=r"huge.edf: channel Fp1 holds a non-finite value"):
            edf.read(0.0, 10.0)


# -- item 10: names from data files that would leave the data folder --------------------------------
@pytest.mark.parametrize("name", ["../../../x", "/tmp/evil", "a/b", "", ".."])
def test_item10_edf_folder_name_must_be_a_plain_dataset_name(tmp_path, name):
    root = tmp_path / "ds"
    write_edf(root / "a.edf")
    edf_folder(root, [("p1", "r1", "a.edf", "2021-01-01T00:00:00")], config={"channels": CHANNELS, "name": name})
    with pytest.raises(DataError, match="is not a plain name"):
        load_edf_folder(root)


def test_item10_edf_folder_plain_name_is_used(tmp_path):
    root = tmp_path / "ds"
    write_edf(root / "a.edf")
    edf_folder(root, [("p1", "r1", "a.edf", "2021-01-01T00:00:00")], config={"channels": CHANNELS, "name": "snuh-v2"})
    assert load_edf_folder(root).dataset == "snuh-v2"


def test_item10_a_link_out_of_the_data_folder_is_refused(tmp_path):
    root = tmp_path / "ds"
    outside = write_edf(tmp_path / "elsewhere" / "a.edf")
    root.mkdir()
    (root / "a.edf").symlink_to(outside)
    edf_folder(root, [("p1", "r1", "a.edf", "2021-01-01T00:00:00")])
    with pytest.raises(DataError, match=r"manifest.csv, line 2: file 'a.edf' must be a path inside"):
        load_edf_folder(root)


@pytest.mark.parametrize("name", ["../x.edf", "/etc/passwd", "C:\\x.edf", "a/../../x", "a\x00b", ""])
def test_item10_validator_refuses_every_escape(tmp_path, name):
    with pytest.raises(DataError, match="must be a path inside"):
        safe_relpath(tmp_path, name, where="t.csv, line 2")
    assert safe_relpath(tmp_path, "sub\\x.edf", where="t") == "sub/x.edf"


def _chbmit_case(root, name="chb01_01.edf", seizures=((10, 20),)):
    lines = ["Data Sampling Rate: 256 Hz", "Channels in EDF Files:"]
    lines += [f"Channel {i}: {c}" for i, c in enumerate(("FP1-F7",), 1)]
    lines += [
        f"File Name: {name}",
        "File Start Time: 10:00:00",
        "File End Time: 11:00:00",
        f"Number of Seizures in File: {len(seizures)}",
    ]
    for k, (on, off) in enumerate(seizures, 1):
        lines += [f"Seizure {k} Start Time: {on} seconds", f"Seizure {k} End Time: {off} seconds"]
    (root / "chb01").mkdir(parents=True, exist_ok=True)
    (root / "chb01" / "chb01-summary.txt").write_text("\n".join(lines) + "\n")
    return root


def test_item10_chbmit_summary_file_name_with_dotdot_is_refused(tmp_path):
    root = _chbmit_case(tmp_path / "ds", name="../../outside.edf")
    with pytest.raises(
        DataError, match=r"chb01-summary.txt: File Name 'chb01/../../outside.edf' must be a path inside"
    ):
        load_chbmit(root)


def test_item10_chbmit_records_line_with_dotdot_is_refused(tmp_path):
    root = _chbmit_case(tmp_path / "ds")
    (root / "RECORDS").write_text("chb01/chb01_01.edf\nchb01/../../../etc/x.edf\n")
    with pytest.raises(DataError, match=r"RECORDS, line 2: record 'chb01/../../../etc/x.edf' must be a path inside"):
        load_chbmit(root)


# -- item 11 (first half): text files that are not UTF-8 ------------------------------------------
@pytest.mark.parametrize("encoding, fragment", [("utf-16", "is UTF-16 text"), ("latin-1", "is not UTF-8 text")])
def test_item11_non_utf8_manifest_is_a_one_line_error(tmp_path, encoding, fragment):
    root = tmp_path / "ds"
    write_edf(root / "a.edf")
    edf_folder(root, [])
    write_csv(root / "manifest.csv", MANIFEST, [("pé", "r1", "a.edf", "2021-01-01T00:00:00")], encoding=encoding)
    with pytest.raises(DataError, match=fragment + ".*save it as UTF-8") as err:
        load_edf_folder(root)
    assert "manifest.csv" in str(err.value)


def test_item11_utf16_json_config_and_summary_are_one_line_errors(tmp_path):
    root = tmp_path / "ds"
    write_edf(root / "a.edf")
    edf_folder(root, [("p1", "r1", "a.edf", "2021-01-01T00:00:00")])
    (root / "edf-folder.json").write_bytes(json.dumps({"channels": CHANNELS}).encode("utf-16"))
    with pytest.raises(DataError, match=r"edf-folder.json is UTF-16 text, not UTF-8; save it as UTF-8"):
        load_edf_folder(root)
    case = _chbmit_case(tmp_path / "chb")
    summary = case / "chb01" / "chb01-summary.txt"
    summary.write_bytes(summary.read_text().encode("utf-16"))
    with pytest.raises(DataError, match=r"chb01-summary.txt is UTF-16 text"):
        load_chbmit(case)


def test_item11_video_manifest_in_utf16_is_a_one_line_error(tmp_path):
    from benchmark.datasets.video_folder import load_video_folder

    (tmp_path / "manifest.csv").write_bytes("video_id,patient_id,file,label\n".encode("utf-16"))
    with pytest.raises(DataError, match="manifest.csv is UTF-16 text"):
        load_video_folder(tmp_path)


def test_item11_utf8_with_bom_is_read(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"\xef\xbb\xbfa,b\n")
    assert read_text(path) == "a,b\n"


# -- item 14: the dataset's own annotation sources disagree ----------------------------------------
def test_item14_generated_seizures_file_that_disagrees_is_reported(tmp_path, capsys):
    wfdb = pytest.importorskip("wfdb")
    root = _chbmit_case(tmp_path / "ds", seizures=((100, 150), (300, 320)))
    # .seizures marks the first onset 40 s earlier, the second seizure as in the summary.
    wfdb.wrann(
        "chb01_01",
        "seizures",
        np.array([60 * 256, 150 * 256, 300 * 256, 320 * 256]),
        symbol=["[", "]", "[", "]"],
        fs=256,
        write_dir=str(root / "chb01"),
    )
    (root / "chb01" / "chb01_01.seizures").rename(root / "chb01" / "chb01_01.edf.seizures")
    index = load_chbmit(root, check_edf=False)
    assert index.conflicts == ("chb01_01 seizure 1: summary onset 100 s, .seizures 60 s; the summary is used",)
    assert [(s.onset, s.offset) for s in index.recording("chb01", "chb01_01").seizures] == [(100, 150), (300, 320)]
    plain = load_chbmit(_chbmit_case(tmp_path / "plain", seizures=((100, 150), (300, 320))), check_edf=False)
    assert plain.conflicts == () and plain.content_hash() == index.content_hash()
    assert describe(index)["conflicts"] == list(index.conflicts)
    assert main(["data", "describe", "chbmit", "--data-dir", str(root)]) == 0
    out = capsys.readouterr().out
    assert "source annotation conflicts (1):" in out and "summary onset 100 s, .seizures 60 s" in out


def test_item14_report_run_page_lists_source_conflicts(tmp_path):
    import pandas as pd

    from benchmark.metrics import summarize
    from benchmark.report import build_report
    from benchmark.store import ResultStore, RunRecord

    store = ResultStore(tmp_path / "results.sqlite")
    line = "chb24_21 seizure 1: summary onset 2804 s, .seizures 2404 s; the summary is used"
    store.create_run(
        RunRecord(
            "run-x",
            "run",
            "chance",
            dataset="chbmit",
            task="prediction",
            protocol="loocv",
            synthetic=False,
            budget="smoke",
            status="complete",
            created_at="2025-01-01T00:00:00+00:00",
            provenance={"is_baseline": True, "source_conflicts": [line]},
        )
    )
    per_patient = pd.DataFrame({"sensitivity": [0.5, 0.6], "accuracy": [0.5, 0.6]}, index=["chb01", "chb02"])
    store.save_patient_metrics("run-x", per_patient)
    store.save_summary("run-x", summarize(per_patient, n_boot=50))
    index = build_report(store, tmp_path / "report", title="t")
    page = (index.parent / "runs" / "run-x.html").read_text(encoding="utf-8")
    assert "Source annotation conflicts" in page and "summary onset 2804 s, .seizures 2404 s" in page


def test_item14_real_chb24_21_conflict_is_shown_and_hash_unchanged(shared_data, capsys):
    pytest.importorskip("wfdb")
    index = load_chbmit(shared_data / "chbmit", check_edf=False)
    assert "chb24_21 seizure 1: summary onset 2804 s, .seizures 2404 s; the summary is used" in index.conflicts
    assert len(index.conflicts) == 1
    # The split files committed for chbmit were frozen on this dataset version.
    committed = json.loads((report_root() / "splits" / "chbmit" / "detection-ictal-loso.json").read_text())[
        "index_hash"
    ]
    assert index.content_hash() == committed
    assert main(["data", "describe", "chbmit", "--data-dir", str(shared_data / "chbmit"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["conflicts"] == list(index.conflicts)


def report_root():
    from pathlib import Path

    return Path(__file__).resolve().parents[2]
