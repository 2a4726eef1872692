"""Typed accessors of a patient's dataset-specific facts; the index's hashed form is unchanged."""

from __future__ import annotations

from benchmark.index import ContextualVideo, Patient, Recording, RecordingIndex


def _video_patient() -> Patient:
    rec = Recording("v1", "videos/v1.mp4", None, 12.0, 25.0, ())
    info = {
        "labels": {"v1": {"label": "ES", "focus": "TLE"}},
        "contextual": [{"video_id": "c1", "file": "videos/c1.mp4", "duration": 30, "fps": 25.0}],
        "boxes": "boxes.csv",
        "age": 34.0,
        "sex": "F",
    }
    return Patient("p1", (rec,), info=info)


def test_video_facts_are_typed():
    p = _video_patient()
    assert p.video_labels == {"v1": {"label": "ES", "focus": "TLE"}}
    assert p.contextual == (ContextualVideo("c1", "videos/c1.mp4", 30.0, 25.0),)
    assert isinstance(p.contextual[0].duration, float)
    assert p.boxes == "boxes.csv" and p.age == 34.0 and p.sex == "F"


def test_absent_facts_are_empty():
    p = Patient("p2", ())
    assert p.contextual == () and p.boxes is None and p.video_labels == {}
    assert p.age is None and p.sex is None and p.montage("r1") is None


def test_montage_per_recording_else_per_patient_and_age_years():
    tusz = Patient("s1", (), info={"montages": {"s1_t0": "01_tcp_ar", "s1_t1": None}})
    assert tusz.montage("s1_t0") == "01_tcp_ar" and tusz.montage("s1_t1") is None
    whole = Patient("s2", (), info={"montage": "bipolar", "age_years": 7.0})
    assert whole.montage("any") == "bipolar" and whole.age == 7.0


def test_content_hash_keeps_info_as_written():
    """Split files and the window cache are keyed by this hash: the accessors change nothing in it."""
    index = RecordingIndex("video-x", (_video_patient(),), modality="video")
    again = RecordingIndex.from_dict(index.to_dict())
    assert again.content_hash() == index.content_hash()
    assert index.content_hash() == "fb5f38c48d7af4c34ed7e89a26cfa520a78dd1c2f3ba44fd30b769a023562351"
    assert index.content()["patients"][0]["info"]["contextual"][0]["duration"] == 30  # as the loader wrote it
