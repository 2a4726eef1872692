"""The video-folder loader: manifest, contextual videos, boxes, exclusions and every user error."""

from __future__ import annotations

import logging
import shutil

import numpy as np
import pytest

from benchmark.datasets.video_folder import load_video_folder
from benchmark.errors import DataError
from benchmark.index import Exclusion, RecordingIndex
from benchmark.video_io import write_video

# video id -> (file, number of frames, fps)
VIDEOS = {
    "v1": ("videos/a/v1.mp4", 20, 10),
    "v2": ("videos/b/v2.avi", 12, 8),
    "v10": ("videos/b/v10.mkv", 15, 25),
    "v3": ("videos/b/v3.mp4", 10, 10),
    "c1": ("context/c1.mp4", 10, 5),
    "c2": ("context/c2.mkv", 30, 15),
}
MANIFEST = """video_id,patient_id,file,label,focus
v1,p2,videos/a/v1.mp4,ES,TLE
v10,p1,videos/b/v10.mkv,ES,exTLE
v2,p1,videos/b/v2.avi,PNES,
v3,p1,videos/b/v3.mp4,,TLE
"""
CONTEXTUAL = """video_id,patient_id,file
c1,p1,context/c1.mp4
c2,p3,context/c2.mkv
"""
BOXES = """video_id,frame,x0,y0,x1,y1
v1,0,2,2,12,14
v1,10,3,2,13,14
c2,29,0,0,8,8
"""


def _write_videos(root):
    rng = np.random.default_rng(0)
    for file, n, fps in VIDEOS.values():
        write_video(root / file, rng.integers(0, 255, (n, 16, 16, 3), dtype=np.uint8), fps)


@pytest.fixture(scope="module")
def video_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("videos") / "ds"
    _write_videos(root)
    (root / "manifest.csv").write_text(MANIFEST)
    (root / "contextual.csv").write_text(CONTEXTUAL)
    (root / "boxes.csv").write_text(BOXES)
    return root


@pytest.fixture
def folder(video_root, tmp_path):
    """A fresh copy of the folder that a test may break."""
    return shutil.copytree(video_root, tmp_path / "ds")


def test_index_holds_labelled_videos_as_recordings(video_root, caplog):
    with caplog.at_level(logging.INFO, logger="benchmark.datasets.video_folder"):
        index = load_video_folder(video_root)
    assert (index.dataset, index.modality, index.channels, index.synthetic) == ("video-folder", "video", (), False)
    assert index.root == str(video_root)
    assert index.patient_ids == ["p1", "p2", "p3"]
    p1 = index.patient("p1")
    assert [r.recording_id for r in p1.recordings] == ["v2", "v10"]  # numbers in ids sorted as numbers
    v10 = index.recording("p1", "v10")
    assert (v10.file, v10.start, v10.channels, v10.seizures) == ("videos/b/v10.mkv", None, (), ())
    assert v10.duration == pytest.approx(15 / 25) and v10.sfreq == pytest.approx(25)
    assert index.recording("p1", "v2").duration == pytest.approx(12 / 8)
    assert index.patient("p3").recordings == ()
    records = [r for r in caplog.records if r.name == "benchmark.datasets.video_folder"]
    assert len(records) == 1 and "3 patients, 3 labelled videos, 2 contextual videos" in records[0].getMessage()


def test_labels_contextual_videos_and_boxes_live_in_patient_info(video_root):
    index = load_video_folder(video_root)
    p1, p2, p3 = (index.patient(p) for p in ("p1", "p2", "p3"))
    assert p1.info["labels"] == {"v2": {"label": "PNES"}, "v10": {"label": "ES", "focus": "exTLE"}}
    assert p2.info["labels"] == {"v1": {"label": "ES", "focus": "TLE"}}
    assert p1.info["contextual"] == [
        {"video_id": "c1", "file": "context/c1.mp4", "duration": pytest.approx(2.0), "fps": pytest.approx(5.0)}
    ]
    assert p3.info["labels"] == {} and [c["video_id"] for c in p3.info["contextual"]] == ["c2"]
    assert p2.info["boxes"] == "boxes.csv" and p3.info["boxes"] == "boxes.csv"
    assert "boxes" not in p1.info
    assert index.exclusions == (
        Exclusion(
            scope="recording",
            patient="p1",
            recording="v3",
            reason="videos/b/v3.mp4 has no label in manifest.csv; fill in its label, or list it in "
            "contextual.csv to use it unlabelled",
        ),
    )


def test_index_round_trips_and_its_hash_follows_the_labels(video_root, folder, tmp_path):
    index = load_video_folder(video_root)
    index.save(tmp_path / "index.json")
    again = RecordingIndex.load(tmp_path / "index.json")
    assert again.modality == "video" and again.patient("p1").info == index.patient("p1").info
    assert again.content_hash() == index.content_hash() == load_video_folder(video_root).content_hash()
    (folder / "manifest.csv").write_text(MANIFEST.replace("v2,p1,videos/b/v2.avi,PNES", "v2,p1,videos/b/v2.avi,ES"))
    assert load_video_folder(folder).content_hash() != index.content_hash()


def test_optional_tables_and_synthetic_marker(folder):
    (folder / "contextual.csv").unlink()
    (folder / "boxes.csv").unlink()
    index = load_video_folder(folder, dataset_name="my-emu")
    assert index.dataset == "my-emu" and index.patient_ids == ["p1", "p2"]
    assert all(p.info["contextual"] == [] and "boxes" not in p.info for p in index.patients)
    (folder / "SYNTHETIC.json").write_text("{}")
    assert load_video_folder(folder).synthetic is True
    assert load_video_folder(folder, synthetic=False).synthetic is False


def _edit(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def _garbage(folder):
    (folder / "videos/a/v1.mp4").write_bytes(b"not a video at all" * 20)


ERRORS = {
    "missing manifest": (
        lambda f: (f / "manifest.csv").unlink(),
        ["manifest.csv not found", "video_id,patient_id,file,label"],
    ),
    "missing column": (
        lambda f: _edit(f / "manifest.csv", "file,label,focus", "file,diagnosis,focus"),
        ["manifest.csv lacks column(s) label", "found: video_id, patient_id, file, diagnosis, focus"],
    ),
    "missing contextual column": (
        lambda f: _edit(f / "contextual.csv", "patient_id", "patient"),
        ["contextual.csv lacks column(s) patient_id"],
    ),
    "unknown file": (
        lambda f: _edit(f / "manifest.csv", "videos/b/v2.avi", "videos/b/v2.mov"),
        ["manifest.csv, line 4", "videos/b/v2.mov of video v2 is not in", "fix the file column or add the video"],
    ),
    "path outside": (
        lambda f: _edit(f / "manifest.csv", "videos/b/v2.avi", "../v2.avi"),
        ["'../v2.avi' must be a path inside"],
    ),
    "empty cell": (
        lambda f: _edit(f / "manifest.csv", "v1,p2,", "v1,,"),
        ["manifest.csv, line 2: empty patient_id", "fill in video_id, patient_id and file"],
    ),
    "duplicate video id": (
        lambda f: _edit(f / "contextual.csv", "c1,p1", "v2,p1"),
        ["contextual.csv, line 2: video id v2 is listed twice", "manifest.csv, line 4", "list it once"],
    ),
    "video in two patients": (
        lambda f: _edit(f / "contextual.csv", "c1,p1", "v1,p1"),
        ["video v1 is given to patients p2", "and p1", "fix its patient_id"],
    ),
    "unreadable video": (_garbage, ["v1.mp4", "re-encode it"]),
    "boxes for unknown video": (
        lambda f: _edit(f / "boxes.csv", "c2,29", "c9,29"),
        ["boxes.csv gives boxes for video(s) c9", "fix the video_id or list the video"],
    ),
    "invalid box": (
        lambda f: _edit(f / "boxes.csv", "v1,10,3,2,13,14", "v1,10,13,2,3,14"),
        ["boxes.csv, line 3", "x0 < x1"],
    ),
    "box beyond the video": (
        lambda f: _edit(f / "boxes.csv", "c2,29", "c2,30"),
        ["video c2 has a box for frame 30 but only 30 frames (0-29)"],
    ),
    "boxes missing column": (
        lambda f: _edit(f / "boxes.csv", "y1", "y2"),
        ["boxes.csv lacks column(s) y1"],
    ),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_user_errors_are_one_line_and_say_what_to_fix(folder, case):
    breaks, fragments = ERRORS[case]
    breaks(folder)
    with pytest.raises(DataError) as err:
        load_video_folder(folder)
    message = str(err.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, (case, message)


def test_missing_folder_and_empty_manifest(tmp_path):
    with pytest.raises(DataError, match="does not exist; point --data-dir"):
        load_video_folder(tmp_path / "nowhere")
    (tmp_path / "manifest.csv").write_text("video_id,patient_id,file,label\n")
    with pytest.raises(DataError, match="lists no videos"):
        load_video_folder(tmp_path)


def test_age_sex_and_subject_columns_are_patient_facts_not_labels(folder):
    text = (folder / "manifest.csv").read_text().splitlines()
    ages = {"v1": "41,F,s9", "v10": "7,M,", "v2": "7,M,", "v3": "7,M,"}
    rows = [text[0] + ",age,sex,subject_id"] + [r + "," + ages[r.split(",")[0]] for r in text[1:]]
    (folder / "manifest.csv").write_text("\n".join(rows) + "\n")
    index = load_video_folder(folder)
    p1, p2 = index.patient("p1"), index.patient("p2")
    assert (p1.info["age"], p1.info["sex"], p1.group) == (7.0, "M", "p1")
    assert (p2.info["age"], p2.info["sex"], p2.group) == (41.0, "F", "s9")
    assert p1.info["labels"]["v10"] == {"label": "ES", "focus": "exTLE"}  # no age/sex among the labels
    _edit(folder / "manifest.csv", "v2,p1,videos/b/v2.avi,PNES,,7,M,", "v2,p1,videos/b/v2.avi,PNES,,8,M,")
    with pytest.raises(DataError, match="patient p1 has age '7' and '8'; give one age per patient"):
        load_video_folder(folder)


def test_content_hash_of_the_fixture_is_pinned(video_root):
    """The dataset version that split files and the window cache are keyed by."""
    assert load_video_folder(video_root).content_hash() == (
        "e83b9fda82bc1cb9c43d35fda715bb368c0cdf002b36e20dec67e9e12494b741"
    )
