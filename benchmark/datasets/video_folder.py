"""A video dataset given as a folder of video files plus CSV tables (``video-folder``).

For seizure videos from epilepsy monitoring units (ES vs PNES, TLE vs exTLE, ...) that cannot be
shared: the benchmark reads them in place from this layout::

    data_dir/
        manifest.csv     video_id,patient_id,file,label[,focus,...]   one row per labelled video
        contextual.csv   video_id,patient_id,file                     optional: unlabelled videos
        boxes.csv        video_id,frame,x0,y0,x1,y1                   optional: patient bounding boxes
        any/sub/folders/*.mp4|.avi|.mkv|.webm|.mov

``file`` is relative to ``data_dir``. Every manifest column besides ``video_id``, ``patient_id`` and
``file`` is a label column (``label`` is required; others such as ``focus`` are optional and a task picks
one with ``--target``); an empty cell means the value is missing for that video. A manifest row whose
``label`` is empty is not used and is recorded as an :class:`~benchmark.index.Exclusion`. Contextual
videos (sleep, meals, visitors, ...) carry no labels and serve self-supervised pre-training. Boxes are
in pixels of the native frame, ``frame`` being the native frame number from 0; frames without a box
use the nearest listed frame's box (see :func:`benchmark.video_io.read_clips`).

Frame rates and durations come from the video files (:func:`benchmark.video_io.probe`), so every video
must be present and readable. A ``SYNTHETIC.json`` file in the folder marks generated data.

The index has ``modality="video"``: one :class:`~benchmark.index.Patient` per patient id and one
:class:`~benchmark.index.Recording` per labelled video (``recording_id`` = video id, ``start=None``,
``duration`` in seconds, ``sfreq`` = native frame rate, no channels or seizures). Labels live in
``Patient.info["labels"]`` (``{video_id: {column: value}}``), contextual videos in
``Patient.info["contextual"]`` (``[{"video_id", "file", "duration", "fps"}]``) and, when the patient has
boxes, ``Patient.info["boxes"] = "boxes.csv"`` (relative to the root).
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmark.datasets._common import identical_files, safe_dataset_name, safe_relpath, text_stream
from benchmark.datasets.base import DatasetLoader
from benchmark.datasets.chbmit import natural_key
from benchmark.errors import DataError
from benchmark.index import Patient, Recording, RecordingIndex
from benchmark.video_io import VideoInfo, probe

log = logging.getLogger(__name__)

__all__ = ["BOXES", "CONTEXTUAL", "MANIFEST", "load_video_folder"]

MANIFEST = "manifest.csv"
CONTEXTUAL = "contextual.csv"
BOXES = "boxes.csv"
SYNTHETIC_MARKER = "SYNTHETIC.json"
_ID_COLUMNS = ("video_id", "patient_id", "file")
# Patient facts, not labels: age and sex may reach a method (see benchmark.runner.window_metadata);
# subject_id groups patient ids that are one person.
_FACT_COLUMNS = ("age", "sex", "subject_id")
_BOX_COLUMNS = ("video_id", "frame", "x0", "y0", "x1", "y1")


def _patient_facts(entries: list[dict[str, Any]], manifest: Path) -> dict[str, dict[str, str]]:
    """Age, sex and subject id of each patient, from its manifest rows (which must agree)."""
    facts: dict[str, dict[str, str]] = {}
    for e in entries:
        mine = facts.setdefault(e["patient_id"], {})
        for column, value in e.get("facts", {}).items():
            if mine.setdefault(column, value) != value:
                raise DataError(
                    f"{manifest}: patient {e['patient_id']} has {column} '{mine[column]}' and '{value}'; "
                    f"give one {column} per patient"
                )
    return facts


def _read_table(path: Path, required: tuple[str, ...]) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and non-blank rows (stripped) of a CSV file, each row with its line number."""
    with text_stream(path) as fh:
        reader = csv.DictReader(fh)
        header = [(h or "").strip() for h in (reader.fieldnames or [])]
        missing = [c for c in required if c not in header]
        if missing:
            raise DataError(
                f"{path} lacks column(s) {', '.join(missing)}; it needs {', '.join(required)} "
                f"(found: {', '.join(h for h in header if h) or 'none'})"
            )
        rows = []
        for row in reader:
            clean = {(k or "").strip(): (v or "").strip() for k, v in row.items() if isinstance(v, str) or v is None}
            if any(clean.values()):
                rows.append((reader.line_num, clean))
    return header, rows


def _video_entry(data_dir: Path, table: Path, line: int, row: dict[str, str]) -> dict[str, Any]:
    """Check one row's ids and file, probe the video, and return what the index needs of it."""
    where = f"{table}, line {line}"
    empty = [c for c in _ID_COLUMNS if not row.get(c)]
    if empty:
        raise DataError(f"{where}: empty {', '.join(empty)}; fill in video_id, patient_id and file")
    rel = safe_relpath(data_dir, row["file"], where=where)
    if not (data_dir / rel).is_file():
        raise DataError(
            f"{where}: video file {rel} of video {row['video_id']} is not in {data_dir}; "
            "fix the file column or add the video"
        )
    info: VideoInfo = probe(data_dir / rel)
    return {
        "video_id": row["video_id"],
        "patient_id": row["patient_id"],
        "file": rel,
        "info": info,
        "where": where,
    }


def _check_ids(entries: list[dict[str, Any]]) -> None:
    """One row per video id, and each video id in one patient only (manifest and contextual together)."""
    seen: dict[str, dict[str, Any]] = {}
    for e in entries:
        first = seen.setdefault(e["video_id"], e)
        if first is e:
            continue
        if first["patient_id"] != e["patient_id"]:
            raise DataError(
                f"{e['where']}: video {e['video_id']} is given to patients {first['patient_id']} "
                f"({first['where']}) and {e['patient_id']}; a video belongs to one patient, fix its patient_id"
            )
        raise DataError(
            f"{e['where']}: video id {e['video_id']} is listed twice (also {first['where']}); "
            "give every video its own id and list it once"
        )


def _duplicate_videos(data_dir: Path, entries: list[dict[str, Any]]) -> dict[str, str]:
    """Refuse one video under two patients; return the labelled second copies within one patient
    (video id -> reason), which are left out."""
    by_id = {e["video_id"]: e for e in entries}
    out = {}
    for group in identical_files(data_dir, [(e["video_id"], e["file"]) for e in entries]):
        first = by_id[group[0]]
        for vid in group[1:]:
            e = by_id[vid]
            if e["patient_id"] != first["patient_id"]:
                raise DataError(
                    f"{e['where']}: video {vid} ({e['file']}) is identical to video {first['video_id']} "
                    f"({first['file']}, {first['where']}) of patient {first['patient_id']}: one video under "
                    "two patients would be in training and test data; list it under one patient only"
                )
            if "labels" in e and "labels" in first:
                out[vid] = (
                    f"{e['file']} is identical to video {first['video_id']} ({first['file']}); "
                    "the second copy is left out"
                )
    return out


def _read_boxes(path: Path, videos: dict[str, dict[str, Any]]) -> set[str]:
    """Validate ``boxes.csv``; return the ids of the videos it gives boxes for."""
    try:
        table = pd.read_csv(text_stream(path), dtype={"video_id": str}, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise DataError(f"{path} is not a readable CSV ({' '.join(str(err).split())}); fix the file") from None
    table.columns = [str(c).strip() for c in table.columns]
    missing = [c for c in _BOX_COLUMNS if c not in table.columns]
    if missing:
        raise DataError(
            f"{path} lacks column(s) {', '.join(missing)}; it needs {', '.join(_BOX_COLUMNS)} "
            f"(found: {', '.join(table.columns) or 'none'})"
        )
    table["video_id"] = table["video_id"].astype(str).str.strip()
    numbers = table[list(_BOX_COLUMNS[1:])].apply(pd.to_numeric, errors="coerce")
    bad = ~np.isfinite(numbers.to_numpy(dtype=float)).all(axis=1)
    bad |= (numbers["x1"] <= numbers["x0"]).to_numpy() | (numbers["y1"] <= numbers["y0"]).to_numpy()
    bad |= ((numbers["frame"] < 0) | (numbers["frame"] != np.round(numbers["frame"]))).fillna(True).to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{path}, line {i + 2}: box {', '.join(str(v) for v in table.iloc[i][list(_BOX_COLUMNS)])} is "
            "invalid; frame must be a whole number >= 0 and x0 < x1, y0 < y1 pixel numbers"
        )
    unknown = sorted(set(table["video_id"]) - set(videos), key=natural_key)
    if unknown:
        raise DataError(
            f"{path} gives boxes for video(s) {', '.join(unknown[:3])}{' ...' if len(unknown) > 3 else ''} "
            f"that are in neither {MANIFEST} nor {CONTEXTUAL}; fix the video_id or list the video"
        )
    last = table.assign(frame=numbers["frame"]).groupby("video_id")["frame"].max()
    for vid, frame in last.items():
        n = videos[vid]["info"].n_frames
        if frame >= n:
            raise DataError(
                f"{path}: video {vid} has a box for frame {int(frame)} but only {n} frames (0-{n - 1}); "
                "frame is the native frame number counted from 0"
            )
    return set(last.index)


def _patient_info(
    pid: str, videos: list[dict], context: list[dict], with_boxes: set[str], facts: dict, manifest: Path
) -> tuple[str, dict[str, Any]]:
    """The subject and ``Patient.info`` of one patient: labels, contextual videos, boxes, facts."""
    info: dict[str, Any] = {
        "labels": {e["video_id"]: e["labels"] for e in videos},
        "contextual": [
            {"video_id": e["video_id"], "file": e["file"], "duration": e["info"].duration, "fps": e["info"].fps}
            for e in context
        ],
    }
    if any(e["video_id"] in with_boxes for e in videos + context):
        info["boxes"] = BOXES
    known = dict(facts.get(pid, {}))
    subject = known.pop("subject_id", pid)
    if "age" in known:
        try:
            known["age"] = float(known["age"])
        except ValueError:
            raise DataError(
                f"{manifest}: age '{known['age']}' of patient {pid} is not a number; give years, e.g. 34 or 0.5"
            ) from None
    info.update(known)
    return subject, info


class VideoFolderLoader(DatasetLoader):
    """A folder of labelled videos with ``manifest.csv`` (see :func:`load_video_folder`)."""

    default_name = "video-folder"

    def __init__(self, data_dir, *, dataset_name: str = "video-folder", synthetic: bool | None = None):
        super().__init__(data_dir, dataset_name=dataset_name)
        self.synthetic = synthetic
        self.dataset_name = safe_dataset_name(dataset_name, where=f"video folder {self.root}")

    def check_root(self) -> None:
        if not self.root.is_dir():
            raise DataError(
                f"video folder {self.root} does not exist; point --data-dir at the folder holding {MANIFEST} "
                "and the videos"
            )

    def find_recordings(self) -> tuple[list[dict], list[dict]]:
        """The labelled videos of the manifest and the unlabelled ones of ``contextual.csv``, probed."""
        data_dir, manifest = self.root, self.root / MANIFEST
        if not manifest.is_file():
            raise DataError(
                f"{manifest} not found; write it with columns video_id,patient_id,file,label "
                "(one row per labelled video)"
            )
        header, rows = _read_table(manifest, (*_ID_COLUMNS, "label"))
        self.label_columns = [c for c in header if c and c not in _ID_COLUMNS and c not in _FACT_COLUMNS]
        if not rows:
            raise DataError(f"{manifest} lists no videos; add one row per labelled video")
        labelled = []
        for line, row in rows:
            entry = _video_entry(data_dir, manifest, line, row)
            entry["labels"] = {c: row[c] for c in self.label_columns if row.get(c)}
            entry["facts"] = {c: row[c] for c in _FACT_COLUMNS if row.get(c)}
            labelled.append(entry)
        contextual = []
        if (data_dir / CONTEXTUAL).is_file():
            for line, row in _read_table(data_dir / CONTEXTUAL, _ID_COLUMNS)[1]:
                contextual.append(_video_entry(data_dir, data_dir / CONTEXTUAL, line, row))
        _check_ids(labelled + contextual)
        return labelled, contextual

    def _by_patient(
        self, labelled: list[dict], contextual: list[dict], copies: dict[str, str]
    ) -> dict[str, dict[str, list]]:
        """Usable labelled and contextual videos per patient; copies and unlabelled rows excluded."""
        by_patient: dict[str, dict[str, list]] = {}
        for e in labelled:
            slot = by_patient.setdefault(e["patient_id"], {"labelled": [], "contextual": []})
            if e["video_id"] in copies:
                self.exclude("recording", e["patient_id"], copies[e["video_id"]], e["video_id"])
            elif "label" in e["labels"]:
                slot["labelled"].append(e)
            else:
                self.exclude(
                    "recording",
                    e["patient_id"],
                    f"{e['file']} has no label in {MANIFEST}; fill in its label, or list it in "
                    f"{CONTEXTUAL} to use it unlabelled",
                    e["video_id"],
                )
        for e in contextual:
            by_patient.setdefault(e["patient_id"], {"labelled": [], "contextual": []})["contextual"].append(e)
        return by_patient

    def build_patients(self, found: tuple[list[dict], list[dict]], _facts: dict) -> list[Patient]:
        labelled, contextual = found
        copies = _duplicate_videos(self.root, labelled + contextual)
        self.with_boxes: set[str] = set()
        if (self.root / BOXES).is_file():
            self.with_boxes = _read_boxes(self.root / BOXES, {e["video_id"]: e for e in labelled + contextual})
        by_patient = self._by_patient(labelled, contextual, copies)
        facts = _patient_facts(labelled, self.root / MANIFEST)
        patients = []
        for pid in sorted(by_patient, key=natural_key):
            videos = sorted(by_patient[pid]["labelled"], key=lambda e: natural_key(e["video_id"]))
            context = sorted(by_patient[pid]["contextual"], key=lambda e: natural_key(e["video_id"]))
            recordings = tuple(
                Recording(
                    recording_id=e["video_id"],
                    file=e["file"],
                    start=None,
                    duration=e["info"].duration,
                    sfreq=e["info"].fps,
                    channels=(),
                )
                for e in videos
            )
            subject, info = _patient_info(pid, videos, context, self.with_boxes, facts, self.root / MANIFEST)
            patients.append(Patient(pid, recordings, subject_id=subject, info=info))
        self.n_videos = len(labelled) + len(contextual)
        self.n_contextual = len(contextual)
        self.minutes = sum(e["info"].duration for e in labelled + contextual) / 60
        return patients

    def finish(self, patients: list[Patient], **options: Any) -> RecordingIndex:
        """Videos keep their own ending: no EEG file checks, the marker only when not told."""
        synthetic = (self.root / SYNTHETIC_MARKER).is_file() if self.synthetic is None else self.synthetic
        with_boxes = self.with_boxes
        index = RecordingIndex(
            dataset=self.dataset_name,
            patients=tuple(patients),
            channels=(),
            exclusions=tuple(self.exclusions),
            synthetic=bool(synthetic),
            root=str(self.root),
            notes=(
                f"label columns from {MANIFEST}: {', '.join(self.label_columns)}",
                f"{self.n_videos} videos probed",
                *([f"bounding boxes of {len(with_boxes)} videos in {BOXES}"] if with_boxes else []),
            ),
            modality="video",
        )
        log.info(
            "%s%s: %d patients, %d labelled videos, %d contextual videos, %.1f min of video, %d excluded",
            self.dataset_name,
            " (SYNTHETIC)" if synthetic else "",
            len(patients),
            sum(len(p.recordings) for p in patients),
            self.n_contextual,
            self.minutes,
            len(self.exclusions),
        )
        return index


def load_video_folder(data_dir, *, dataset_name: str = "video-folder", synthetic: bool | None = None) -> RecordingIndex:
    """Build a video recording index from a folder of videos and its ``manifest.csv``.

    Parameters
    ----------
    data_dir
        The dataset folder (layout in the module docstring).
    dataset_name
        Name stored in the index.
    synthetic
        Whether the data are generated; default: whether ``SYNTHETIC.json`` is in the folder.

    Returns
    -------
    RecordingIndex
        ``modality="video"``, patients and their videos sorted by id (numbers in ids in numeric
        order).

    Raises
    ------
    DataError
        Missing folder or manifest; a missing column; an empty id or file cell; a file that is not
        there; a video id listed twice or given to two patients; an unreadable video; a malformed box
        or a box for an unknown video.
    """
    return VideoFolderLoader(data_dir, dataset_name=dataset_name, synthetic=synthetic).load()
