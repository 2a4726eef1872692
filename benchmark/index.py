"""The recording index: what a dataset contains, independent of how its files are laid out.

patient -> recordings (file, start on a continuous per-patient timeline, duration, sampling rate,
channels) -> seizures (onset, offset, type when known). Loaders build an index; tasks, splits and
windowing only ever read it. Its :meth:`RecordingIndex.content_hash` is the dataset version that
split files refer to.

All times are seconds. Seizure onsets/offsets are relative to the start of their recording;
``Recording.start`` places the recording on its patient's continuous timeline (seconds since the
start of the patient's first recording).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Seizure:
    """One annotated seizure, in seconds from the start of its recording."""

    onset: float
    offset: float
    type: str | None = None

    @property
    def duration(self) -> float:
        return self.offset - self.onset


@dataclass(frozen=True)
class Recording:
    """One continuous recording (one EDF file).

    ``start`` is the recording's start on the patient timeline, ``None`` when it cannot be known
    (for example chb24's summary has no clock times and no EDF header was read). ``start_exact`` is
    False when the start was inferred (recordings assumed back to back) rather than read from clock
    times or EDF headers. ``duration`` is ``None`` when unknown.
    """

    recording_id: str
    file: str
    start: float | None
    duration: float | None
    sfreq: float | None
    channels: tuple[str, ...]
    seizures: tuple[Seizure, ...] = ()
    start_exact: bool = True

    @property
    def end(self) -> float | None:
        if self.start is None or self.duration is None:
            return None
        return self.start + self.duration

    @property
    def on_timeline(self) -> bool:
        return self.start is not None and self.duration is not None


@dataclass(frozen=True)
class ContextualVideo:
    """An unlabelled video of a patient, kept for self-supervised pre-training."""

    video_id: str
    file: str
    duration: float
    fps: float | None = None


@dataclass(frozen=True)
class Patient:
    """One patient (a CHB-MIT "case").

    ``subject_id`` groups cases that are the same person (CHB-MIT's chb21 is chb01 1.5 years
    later), so cross-patient splits never put one person on both sides.
    """

    patient_id: str
    recordings: tuple[Recording, ...]
    subject_id: str = ""
    info: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def group(self) -> str:
        return self.subject_id or self.patient_id

    # -- dataset-specific facts, typed ------------------------------------------------------
    # They are stored in ``info`` (hashed as written there, so every dataset version keeps its
    # hash); code outside the loaders reads them only through these accessors.
    @property
    def contextual(self) -> tuple[ContextualVideo, ...]:
        """Unlabelled contextual videos (video datasets), for self-supervised pre-training."""
        return tuple(
            ContextualVideo(str(c["video_id"]), str(c["file"]), float(c["duration"]), c.get("fps"))
            for c in (self.info or {}).get("contextual", [])
        )

    @property
    def boxes(self) -> str | None:
        """File of the patient's bounding boxes, relative to the dataset root (video datasets)."""
        return (self.info or {}).get("boxes") or None

    @property
    def video_labels(self) -> dict[str, dict[str, str]]:
        """``{video_id: {column: value}}`` of the patient's labelled videos (video datasets)."""
        return dict((self.info or {}).get("labels", {}))

    def montage(self, recording_id: str) -> str | None:
        """The montage a recording was made in (TUSZ folder names), else the patient's, if known."""
        info = self.info or {}
        return (info.get("montages") or {}).get(recording_id, info.get("montage"))

    @property
    def age(self) -> float | None:
        """Age in years when the loader knows it (loaders name it ``age`` or ``age_years``)."""
        info = self.info or {}
        return info.get("age", info.get("age_years"))

    @property
    def sex(self) -> str | None:
        return (self.info or {}).get("sex")

    def seizures_on_timeline(self) -> list[tuple[float, float, str, Seizure]]:
        """``(abs_onset, abs_offset, recording_id, seizure)`` sorted by onset, for placed recordings."""
        out = []
        for rec in self.recordings:
            if rec.start is None:
                continue
            for sz in rec.seizures:
                out.append((rec.start + sz.onset, rec.start + sz.offset, rec.recording_id, sz))
        return sorted(out, key=lambda t: t[0])

    @property
    def n_seizures(self) -> int:
        return sum(len(r.seizures) for r in self.recordings)

    @property
    def hours(self) -> float:
        return sum(r.duration or 0.0 for r in self.recordings) / 3600.0


@dataclass(frozen=True)
class Exclusion:
    """Something left out of the benchmark, and why. Never dropped silently."""

    scope: str  # "patient" | "recording" | "seizure" | "channel"
    patient: str
    reason: str
    recording: str | None = None


@dataclass
class RecordingIndex:
    """A dataset's content: patients, their recordings and seizures, and every exclusion."""

    dataset: str
    patients: tuple[Patient, ...]
    channels: tuple[str, ...] = ()
    exclusions: tuple[Exclusion, ...] = ()
    synthetic: bool = False
    root: str | None = None
    notes: tuple[str, ...] = ()
    # Disagreements between a dataset's own annotation sources, each with the choice made
    # ("chb24_21 seizure 1: summary onset 2804 s, .seizures 2404 s; the summary is used").
    # Shown to the user; not hashed (the choice itself is in the content).
    conflicts: tuple[str, ...] = ()
    # "eeg" or "video". For video, each Recording is one labelled video (sfreq = native fps, no
    # channels) and the labels are Patient.video_labels (see benchmark.datasets.video_folder).
    modality: str = "eeg"

    # -- lookup -------------------------------------------------------------------------------
    def patient(self, patient_id: str) -> Patient:
        for p in self.patients:
            if p.patient_id == patient_id:
                return p
        raise KeyError(patient_id)

    def recording(self, patient_id: str, recording_id: str) -> Recording:
        for r in self.patient(patient_id).recordings:
            if r.recording_id == recording_id:
                return r
        raise KeyError((patient_id, recording_id))

    def iter_recordings(self) -> Iterator[tuple[Patient, Recording]]:
        for p in self.patients:
            for r in p.recordings:
                yield p, r

    @property
    def patient_ids(self) -> list[str]:
        return [p.patient_id for p in self.patients]

    @property
    def n_seizures(self) -> int:
        return sum(p.n_seizures for p in self.patients)

    @property
    def n_recordings(self) -> int:
        return sum(len(p.recordings) for p in self.patients)

    @property
    def hours(self) -> float:
        return sum(p.hours for p in self.patients)

    # -- serialisation ------------------------------------------------------------------------
    def content(self) -> dict[str, Any]:
        """The part of the index that defines the dataset version (hashed)."""
        content = {
            "dataset": self.dataset,
            "channels": list(self.channels),
            "patients": [_patient_to_dict(p) for p in self.patients],
        }
        if self.modality != "eeg":  # absent for EEG so every existing dataset version keeps its hash
            content["modality"] = self.modality
        return content

    def content_hash(self) -> str:
        """sha256 of the canonical JSON of :meth:`content`: the dataset version splits refer to."""
        blob = json.dumps(self.content(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        d = self.content()
        d.update(
            exclusions=[asdict(e) for e in self.exclusions],
            synthetic=self.synthetic,
            root=self.root,
            notes=list(self.notes),
            conflicts=list(self.conflicts),
            content_hash=self.content_hash(),
        )
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RecordingIndex:
        return cls(
            dataset=d["dataset"],
            channels=tuple(d.get("channels", ())),
            patients=tuple(_patient_from_dict(p) for p in d["patients"]),
            exclusions=tuple(Exclusion(**e) for e in d.get("exclusions", ())),
            synthetic=bool(d.get("synthetic", False)),
            root=d.get("root"),
            notes=tuple(d.get("notes", ())),
            conflicts=tuple(d.get("conflicts", ())),
            modality=d.get("modality", "eeg"),
        )

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1, sort_keys=True))

    @classmethod
    def load(cls, path: str | Path) -> RecordingIndex:
        return cls.from_dict(json.loads(Path(path).read_text()))


def _patient_to_dict(p: Patient) -> dict[str, Any]:
    return {
        "patient_id": p.patient_id,
        "subject_id": p.subject_id,
        "info": dict(sorted(p.info.items())),
        "recordings": [
            {
                "recording_id": r.recording_id,
                "file": r.file,
                "start": r.start,
                "duration": r.duration,
                "sfreq": r.sfreq,
                "channels": list(r.channels),
                "start_exact": r.start_exact,
                "seizures": [asdict(s) for s in r.seizures],
            }
            for r in p.recordings
        ],
    }


def _patient_from_dict(d: dict[str, Any]) -> Patient:
    recs = tuple(
        Recording(
            recording_id=r["recording_id"],
            file=r["file"],
            start=r["start"],
            duration=r["duration"],
            sfreq=r["sfreq"],
            channels=tuple(r["channels"]),
            start_exact=r.get("start_exact", True),
            seizures=tuple(Seizure(**s) for s in r["seizures"]),
        )
        for r in d["recordings"]
    )
    return Patient(d["patient_id"], recs, d.get("subject_id", ""), dict(d.get("info", {})))
