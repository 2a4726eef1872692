"""Task labels: which stretches of EEG are positive or negative examples, grouped into units.

A task turns a :class:`~benchmark.index.RecordingIndex` into *units*: groups of labelled segments
``(patient, recording, start, end, label)`` in recording-relative seconds. Units are what protocols
split, so split files never depend on windowing.

``prediction``
    Pre-ictal vs inter-ictal, as in patient-specific seizure prediction (e.g. Lee et al. 2024,
    ResNet-LSTM with supervised contrastive pre-training). Pre-ictal is
    ``[onset - SPH - SOP, onset - SPH)`` of each *lead* seizure (no seizure ends within SOP + SPH
    before its onset). Inter-ictal is recorded EEG farther than ``interictal_gap_hours`` from any
    seizure. One unit = one lead seizure's pre-ictal block plus a matched inter-ictal block of the
    same duration (inter-ictal is undersampled to balance the classes).
``detection``
    Ictal vs non-ictal windows. One unit = one recording; its windows are labelled ictal when they
    overlap a seizure (label ``-1`` on a segment means "label by seizure overlap").
``seizure-type``
    Multi-class: background or the type of the seizure a window overlaps (TUSZ's FNSZ, GNSZ, ...).
    The classes are ``("background", *types)`` with the types the dataset's seizures carry (or a
    chosen subset). One unit = one recording; stretches of seizures without a kept type are cut out
    of it (and listed as exclusions) so that no window is labelled background inside a seizure.
    Label ``-2`` on a segment means "label by the type of the overlapping seizure".
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from benchmark.errors import BenchmarkError, UnknownNameError, did_you_mean
from benchmark.index import Exclusion, Patient, RecordingIndex
from benchmark.datasets import excluded_recordings
from benchmark.seizures import lead_seizures

BY_OVERLAP = -1  # segment label meaning "label each window by seizure overlap"
BY_TYPE = -2  # segment label meaning "label each window by the type of the seizure it overlaps"
BACKGROUND = "background"


@dataclass(frozen=True)
class Segment:
    """A labelled stretch of one recording, in seconds from the recording start."""

    patient: str
    recording: str
    start: float
    end: float
    label: int

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class Unit:
    """The indivisible thing a protocol assigns to train or test."""

    unit_id: str
    patient: str
    group: str  # the person (subject) the patient belongs to
    segments: tuple[Segment, ...]
    kind: str  # "seizure" | "recording"
    stratum: int = 0  # for stratified protocols (1 = contains positives)


@dataclass(frozen=True)
class PredictionParams:
    """Parameters of the prediction task that define its labels (and so its splits).

    Parameters
    ----------
    sop_minutes
        Seizure occurrence period: length of the pre-ictal block (10, 15 or 30 in the literature).
    sph_minutes
        Seizure prediction horizon: gap between the end of the pre-ictal block and the onset.
    interictal_gap_hours
        Inter-ictal EEG must be farther than this from any seizure (default 4 h; the ResNet-LSTM
        paper uses 3 h).
    min_preictal_fraction
        A lead seizure whose pre-ictal block is recorded for less than this fraction of SOP is
        excluded (gaps between CHB-MIT files often cut pre-ictal blocks short).
    seed
        Seed for placing the matched inter-ictal blocks.
    """

    sop_minutes: float = 10.0
    sph_minutes: float = 0.0
    interictal_gap_hours: float = 4.0
    min_preictal_fraction: float = 0.5
    seed: int = 0

    def label(self) -> str:
        return (
            f"SOP {self.sop_minutes:g} min, SPH {self.sph_minutes:g} min, "
            f"inter-ictal gap {self.interictal_gap_hours:g} h"
        )

    def slug(self) -> str:
        return f"sop{self.sop_minutes:g}-sph{self.sph_minutes:g}-gap{self.interictal_gap_hours:g}h"


@dataclass(frozen=True)
class DetectionParams:
    """Parameters of the detection task that define its labels (and so its splits)."""

    seed: int = 0

    def label(self) -> str:
        return "ictal vs non-ictal"

    def slug(self) -> str:
        return "ictal"


@dataclass(frozen=True)
class SeizureTypeParams:
    """Parameters of the seizure-type task.

    ``types`` restricts the classes to these seizure types (upper-case codes, e.g. ``("FNSZ",
    "GNSZ")``); by default every type found in the dataset is a class.
    """

    seed: int = 0
    types: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.types is not None:
            # JSON and the CLI give lists; the record must stay hashable and order-free.
            object.__setattr__(self, "types", tuple(sorted({str(t).upper() for t in self.types})))

    def label(self) -> str:
        return "seizure type" + (f" ({', '.join(self.types)})" if self.types else "")

    def slug(self) -> str:
        return "types" + ("-" + "-".join(t.lower() for t in self.types) if self.types else "")


@dataclass(frozen=True)
class ClassificationParams:
    """Parameters of the video-level ``classification`` task (one label per video).

    ``target`` names the label column of the dataset's manifest (``label``, e.g. ES vs PNES, or
    ``focus``, TLE vs exTLE); ``classes`` keeps only videos of these labels, in this order (for
    two classes ``classes[1]`` is the positive class); by default every label found, in the order
    of :data:`DEFAULT_CLASS_ORDER` when the labels are exactly those, else sorted.
    """

    seed: int = 0
    target: str = "label"
    classes: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.classes is not None:
            # JSON and the CLI give lists; order is kept because it decides the positive class.
            object.__setattr__(self, "classes", tuple(str(c) for c in self.classes))

    def label(self) -> str:
        return f"video {self.target}" + (f" ({' vs '.join(self.classes)})" if self.classes else "")

    def slug(self) -> str:
        return self.target + ("-" + "-".join(c.lower() for c in self.classes) if self.classes else "")


@dataclass
class TaskLabels:
    """The units of one task on one dataset, and what was excluded on the way."""

    task: str
    params: Any
    classes: tuple[str, ...]
    units: list[Unit]
    exclusions: list[Exclusion] = field(default_factory=list)

    def units_of(self, patient: str) -> list[Unit]:
        return [u for u in self.units if u.patient == patient]

    @property
    def patients(self) -> list[str]:
        seen: dict[str, None] = {}
        for u in self.units:
            seen.setdefault(u.patient, None)
        return list(seen)


TASKS: dict[str, type] = {
    "prediction": PredictionParams,
    "detection": DetectionParams,
    "seizure-type": SeizureTypeParams,
    "classification": ClassificationParams,
}
# The modality each task needs (tasks not listed are EEG tasks).
TASK_MODALITY = {"classification": "video"}
CLASSES = {"prediction": ("interictal", "preictal"), "detection": ("non-ictal", "ictal")}


def make_params(task: str, **overrides: Any):
    """Build the parameter record of ``task``; unknown names give a one-line error."""
    if task not in TASKS:
        raise UnknownNameError(f"unknown task '{task}'.{did_you_mean(task, TASKS)} Choose one of {sorted(TASKS)}.")
    cls = TASKS[task]
    allowed = {f.name for f in fields(cls)}
    given = {k: v for k, v in overrides.items() if v is not None}
    bad = sorted(set(given) - allowed)
    if bad:
        raise BenchmarkError(f"task '{task}' has no parameter(s) {bad}; it takes {sorted(allowed)}.")
    params = cls(**given)
    if task == "prediction":
        if params.sop_minutes <= 0 or params.sph_minutes < 0 or params.interictal_gap_hours <= 0:
            raise BenchmarkError("prediction needs SOP > 0 min, SPH >= 0 min and an inter-ictal gap > 0 h.")
    return params


def params_dict(params) -> dict[str, Any]:
    return asdict(params)


def params_hash(task: str, params) -> str:
    blob = json.dumps({"task": task, **asdict(params)}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def make_labels(index: RecordingIndex, task: str, params=None) -> TaskLabels:
    """Label ``index`` for ``task``; every patient or seizure left out gets an :class:`Exclusion`.

    The dataset's own exclusions come first in ``exclusions``, so that splits and runs carry every
    reason something is missing, not only the task's.
    """
    params = params or make_params(task)
    if task == "prediction":
        labels = _prediction(index, params)
    elif task == "detection":
        labels = _detection(index, params)
    elif task == "seizure-type":
        labels = _seizure_type(index, params)
    elif task == "classification":
        labels = _classification(index, params)
    else:
        raise UnknownNameError(f"unknown task '{task}'.{did_you_mean(task, TASKS)}")
    labels.exclusions = list(index.exclusions) + labels.exclusions
    return labels


# -- helpers ----------------------------------------------------------------------------------
def _usable_recordings(index: RecordingIndex, patient: Patient) -> list:
    excluded = excluded_recordings(index)
    return [
        r
        for r in patient.recordings
        if r.on_timeline and (patient.patient_id, r.recording_id) not in excluded
    ]


def _listed_by_loader(index: RecordingIndex, patient: Patient) -> bool:
    return any(e.scope == "patient" and e.patient == patient.patient_id for e in index.exclusions)


def _intersect(recs, lo: float, hi: float, patient: str, label: int) -> list[Segment]:
    """Segments of recordings ``recs`` covering the timeline interval ``[lo, hi)``."""
    out = []
    for r in recs:
        a, b = max(lo, r.start), min(hi, r.end)
        if b > a:
            out.append(Segment(patient, r.recording_id, round(a - r.start, 3), round(b - r.start, 3), label))
    return out


def _subtract(intervals: list[tuple[float, float]], holes: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """``intervals`` minus the union of ``holes`` (both lists of half-open intervals)."""
    out = []
    holes = sorted(holes)
    for lo, hi in intervals:
        cur = lo
        for hlo, hhi in holes:
            if hhi <= cur or hlo >= hi:
                continue
            if hlo > cur:
                out.append((cur, hlo))
            cur = max(cur, hhi)
            if cur >= hi:
                break
        if cur < hi:
            out.append((cur, hi))
    return out


# -- prediction -------------------------------------------------------------------------------
def _prediction(index: RecordingIndex, p: PredictionParams) -> TaskLabels:
    sop, sph, gap = p.sop_minutes * 60, p.sph_minutes * 60, p.interictal_gap_hours * 3600
    units: list[Unit] = []
    excl: list[Exclusion] = []
    for patient in index.patients:
        pid = patient.patient_id
        recs = _usable_recordings(index, patient)
        if not recs:
            if not _listed_by_loader(index, patient):
                excl.append(Exclusion("patient", pid, "no recording placed on the timeline with all channels"))
            continue
        all_sz = patient.seizures_on_timeline()
        preictal: list[tuple[int, list[Segment], float]] = []
        lead = lead_seizures(patient, sop, sph)
        for k, (onset, offset, rec_id, _) in enumerate(lead):
            segs = _intersect(recs, onset - sph - sop, onset - sph, pid, 1)
            covered = sum(s.duration for s in segs)
            if covered < p.min_preictal_fraction * sop:
                excl.append(
                    Exclusion(
                        "seizure",
                        pid,
                        f"lead seizure at {rec_id} +{onset - index.recording(pid, rec_id).start:.0f} s: only "
                        f"{covered / 60:.1f} of {sop / 60:g} min pre-ictal EEG recorded "
                        f"(needs {p.min_preictal_fraction:.0%})",
                        rec_id,
                    )
                )
                continue
            preictal.append((k, segs, covered))
        n_nonlead = len(all_sz) - len(lead)
        if n_nonlead:
            excl.append(
                Exclusion(
                    "seizure",
                    pid,
                    f"{n_nonlead} seizure(s) follow another within SOP+SPH ({(sop + sph) / 60:g} min): not lead seizures",
                )
            )
        if not preictal:
            excl.append(Exclusion("patient", pid, f"no lead seizure with enough pre-ictal EEG for {p.label()}"))
            continue
        # Inter-ictal pool: recorded time farther than `gap` from any seizure.
        pool = _subtract(
            [(r.start, r.end) for r in recs], [(on - gap, off + gap) for on, off, _, _ in all_sz]
        )
        pool_total = sum(b - a for a, b in pool)
        if pool_total <= 0:
            excl.append(
                Exclusion("patient", pid, f"no inter-ictal EEG farther than {p.interictal_gap_hours:g} h from a seizure")
            )
            continue
        blocks = _matched_interictal(pool, [c for _, _, c in preictal], p.seed, pid)
        for (k, segs, _), block in zip(preictal, blocks):
            inter = []
            for lo, hi in block:
                inter.extend(_intersect(recs, lo, hi, pid, 0))
            units.append(
                Unit(f"{pid}-sz{k:02d}", pid, patient.group, tuple(segs) + tuple(inter), "seizure", 1)
            )
    return TaskLabels("prediction", p, CLASSES["prediction"], units, excl)


def _matched_interictal(
    pool: list[tuple[float, float]], durations: list[float], seed: int, patient: str
) -> list[list[tuple[float, float]]]:
    """Split the inter-ictal pool chronologically into one chunk per unit, then take from each
    chunk a block as long as that unit's pre-ictal EEG (the whole chunk if it is shorter).

    Chronological chunks keep the inter-ictal blocks of different units apart in time.
    """
    n = len(durations)
    total = sum(b - a for a, b in pool)
    # Deterministic per patient, independent of the other patients.
    rng = np.random.default_rng([seed, int(hashlib.sha256(patient.encode()).hexdigest()[:8], 16)])
    chunks: list[list[tuple[float, float]]] = [[] for _ in range(n)]
    bounds = [total * i / n for i in range(n + 1)]
    acc = 0.0
    for a, b in pool:
        for i in range(n):
            lo = max(a, a + bounds[i] - acc)
            hi = min(b, a + bounds[i + 1] - acc)
            if hi > lo:
                chunks[i].append((lo, hi))
        acc += b - a
    blocks = []
    for chunk, need in zip(chunks, durations):
        length = sum(b - a for a, b in chunk)
        if length <= need:
            blocks.append(chunk)
            continue
        offset = float(rng.uniform(0, length - need))
        blocks.append(_take(chunk, offset, need))
    return blocks


def _take(chunk: list[tuple[float, float]], offset: float, length: float) -> list[tuple[float, float]]:
    """``length`` seconds of ``chunk`` (a list of intervals) starting ``offset`` seconds into it."""
    out = []
    for a, b in chunk:
        d = b - a
        if offset >= d:
            offset -= d
            continue
        lo = a + offset
        hi = min(b, lo + length)
        out.append((round(lo, 3), round(hi, 3)))
        length -= hi - lo
        offset = 0.0
        if length <= 1e-9:
            break
    return out


# -- detection --------------------------------------------------------------------------------
def _detection(index: RecordingIndex, p: DetectionParams) -> TaskLabels:
    units: list[Unit] = []
    excl: list[Exclusion] = []
    for patient in index.patients:
        pid = patient.patient_id
        excluded = excluded_recordings(index)
        recs = [r for r in patient.recordings if r.duration is not None and (pid, r.recording_id) not in excluded]
        if not recs:
            if not _listed_by_loader(index, patient):
                excl.append(Exclusion("patient", pid, "no recording with a known duration and all channels"))
            continue
        for r in recs:
            units.append(
                Unit(
                    f"{pid}/{r.recording_id}",  # recording names need not be unique across patients
                    pid,
                    patient.group,
                    (Segment(pid, r.recording_id, 0.0, float(r.duration), BY_OVERLAP),),
                    "recording",
                    int(bool(r.seizures)),
                )
            )
    return TaskLabels("detection", p, CLASSES["detection"], units, excl)


# -- seizure type -----------------------------------------------------------------------------
def seizure_types(index: RecordingIndex) -> list[str]:
    """Sorted seizure types carried by the seizures of usable recordings (``None`` types left out)."""
    excluded = excluded_recordings(index)
    return sorted(
        {
            sz.type
            for patient in index.patients
            for r in patient.recordings
            if r.duration is not None and (patient.patient_id, r.recording_id) not in excluded
            for sz in r.seizures
            if sz.type
        }
    )


def _seizure_type(index: RecordingIndex, p: SeizureTypeParams) -> TaskLabels:
    present = seizure_types(index)
    if not present:
        raise BenchmarkError(
            f"dataset '{index.dataset}' has no seizures with a type; seizure-type classification needs a "
            "corpus that annotates types (e.g. tusz, tusz-synthetic); use --task detection instead."
        )
    if p.types:
        missing = [t for t in p.types if t not in present]
        if missing:
            raise BenchmarkError(
                f"seizure type(s) {missing} do not occur in '{index.dataset}'; it has {present}."
            )
    kept = list(p.types) if p.types else present
    classes = (BACKGROUND, *kept)
    excluded = excluded_recordings(index)
    units: list[Unit] = []
    excl: list[Exclusion] = []
    for patient in index.patients:
        pid = patient.patient_id
        recs = [r for r in patient.recordings if r.duration is not None and (pid, r.recording_id) not in excluded]
        if not recs:
            if not _listed_by_loader(index, patient):
                excl.append(Exclusion("patient", pid, "no recording with a known duration and all channels"))
            continue
        for r in recs:
            holes = []
            for sz in r.seizures:
                if sz.type not in kept:
                    holes.append((float(sz.onset), float(sz.offset)))
                    why = "has no seizure type" if not sz.type else f"type {sz.type} is not a class of this task"
                    excl.append(Exclusion("seizure", pid, f"seizure at {sz.onset:g}-{sz.offset:g} s {why}",
                                          r.recording_id))
            spans = _subtract([(0.0, float(r.duration))], holes)
            if not spans:
                continue
            units.append(
                Unit(
                    f"{pid}/{r.recording_id}",
                    pid,
                    patient.group,
                    tuple(Segment(pid, r.recording_id, round(float(a), 3), round(float(b), 3), BY_TYPE)
                          for a, b in spans),
                    "recording",
                    int(any(sz.type in kept for sz in r.seizures)),
                )
            )
    return TaskLabels("seizure-type", p, classes, units, excl)


# -- video classification ---------------------------------------------------------------------
#: Class order of a label column when ``--classes`` is not given and its labels are exactly these
#: (the last of two is the positive class): ES vs PNES with ES positive, as Hou et al. report it
#: (their F1 0.82 follows from their Table 3 only with ES positive).
DEFAULT_CLASS_ORDER: dict[str, tuple[str, ...]] = {"label": ("PNES", "ES")}


def default_classes(target: str, present) -> tuple[str, ...]:
    """The classes of ``target`` without ``--classes``: :data:`DEFAULT_CLASS_ORDER` when the labels
    found are exactly its classes, else every label found, sorted."""
    present = sorted(set(present))
    order = DEFAULT_CLASS_ORDER.get(target)
    return tuple(order) if order is not None and sorted(order) == present else tuple(present)


def video_labels(index: RecordingIndex, target: str) -> dict[tuple[str, str], str]:
    """``{(patient, video): label}`` of every labelled video that has a value for ``target``."""
    out = {}
    for patient in index.patients:
        labels = (patient.info or {}).get("labels", {})
        for rec in patient.recordings:
            value = labels.get(rec.recording_id, {}).get(target)
            if value not in (None, ""):
                out[(patient.patient_id, rec.recording_id)] = str(value)
    return out


def _classification(index: RecordingIndex, p: ClassificationParams) -> TaskLabels:
    if index.modality != "video":
        raise BenchmarkError(
            f"task 'classification' labels whole videos, but '{index.dataset}' is an {index.modality} dataset; "
            "use --task detection, prediction or seizure-type, or a video dataset (video-folder, video-synthetic)."
        )
    columns = sorted({k for pt in index.patients for v in (pt.info or {}).get("labels", {}).values() for k in v})
    found = video_labels(index, p.target)
    if not found:
        raise BenchmarkError(
            f"no video of '{index.dataset}' has a value in label column '{p.target}'; choose --target from {columns}."
        )
    present = sorted(set(found.values()))
    if p.classes:
        missing = [c for c in p.classes if c not in present]
        if missing or len(p.classes) < 2:
            raise BenchmarkError(
                f"--classes {list(p.classes)} must name at least two of the labels of '{p.target}' in "
                f"'{index.dataset}': {present}."
            )
    classes = tuple(p.classes) if p.classes else default_classes(p.target, present)
    if len(classes) < 2:
        raise BenchmarkError(f"label column '{p.target}' of '{index.dataset}' has one class only ({present}); "
                             "classification needs two or more.")
    units: list[Unit] = []
    excl: list[Exclusion] = []
    for patient in index.patients:
        pid = patient.patient_id
        for rec in patient.recordings:
            value = found.get((pid, rec.recording_id))
            if value is None:
                excl.append(Exclusion("recording", pid, f"no value in label column '{p.target}'", rec.recording_id))
                continue
            if value not in classes:
                excl.append(Exclusion("recording", pid, f"label '{value}' is not a class of this task", rec.recording_id))
                continue
            if not rec.duration:
                excl.append(Exclusion("recording", pid, "video duration unknown", rec.recording_id))
                continue
            k = classes.index(value)
            # One unit per video: clips of one video never end up on both sides of a split.
            units.append(Unit(f"{pid}/{rec.recording_id}", pid, patient.group,
                              (Segment(pid, rec.recording_id, 0.0, round(float(rec.duration), 3), k),),
                              "video", k))
    return TaskLabels("classification", p, classes, units, excl)


def window_labels(
    seizures, starts: np.ndarray, ends: np.ndarray, mode: int, classes: tuple[str, ...]
) -> np.ndarray:
    """Labels of windows ``[starts, ends)`` of one recording for a by-seizure segment label.

    ``mode`` :data:`BY_OVERLAP` gives 1 for windows overlapping any seizure; :data:`BY_TYPE` gives
    the class index of the type of the seizure a window overlaps most (0, background, if none).
    """
    if mode == BY_OVERLAP:
        labels = np.zeros(len(starts), dtype=np.int64)
        for sz in seizures:
            labels |= (starts < sz.offset) & (ends > sz.onset)
        return labels
    best = np.zeros(len(starts), dtype=float)
    labels = np.zeros(len(starts), dtype=np.int64)
    for sz in seizures:
        if sz.type not in classes:
            continue
        overlap = np.clip(np.minimum(ends, sz.offset) - np.maximum(starts, sz.onset), 0.0, None)
        better = overlap > best
        labels[better] = classes.index(sz.type)
        best[better] = overlap[better]
    return labels
