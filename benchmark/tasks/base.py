"""The task contract: declarative metadata, labels, scoring, and the one registry of tasks.

A task is one class (MTEB's ``AbsTask`` with its ``TaskMetadata`` is the model): its
:class:`TaskMetadata` says what it is (modality, classes or how they are derived, default window,
which harness rules apply: class balancing, event scoring, video-level aggregation, ranking
metrics), :meth:`Task.make_labels` turns a dataset index into units, and :meth:`Task.score` turns a
run's window scores into per-patient and pooled metrics. The runner, ``plan``, ``splits freeze``, the
CLI and the report ask the task; none of them branches on task names.

Registering a task is one decorator (:func:`register_task`) on its class; :func:`get_task` finds it.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from benchmark.errors import BenchmarkError, UnknownNameError, did_you_mean
from benchmark.index import Exclusion, Patient, RecordingIndex

if TYPE_CHECKING:  # pandas and the loaders are imported where used: listing tasks stays instant
    import pandas as pd

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
    kind: str  # "seizure" | "recording" | "video"
    stratum: int = 0  # for stratified protocols (1 = contains positives)


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


@dataclass(frozen=True)
class TaskOption:
    """A command-line option that sets one task parameter (``--sop`` -> ``sop_minutes``).

    ``as_list``: the value is comma-separated (``--types FNSZ,GNSZ``); ``empty`` is the error when
    the list is empty (``None``: an empty list is passed on).
    """

    flag: str
    param: str
    type: Callable[[str], Any] = str
    metavar: str = ""
    help: str = ""
    as_list: bool = False
    empty: str | None = None

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


@dataclass(frozen=True)
class TaskMetadata:
    """What a task is, declared once on its class.

    Attributes
    ----------
    name
        ``--task`` name; also in run ids, split file names and stored records.
    modality
        ``"eeg"`` or ``"video"``: the datasets and methods the task takes.
    classes
        Fixed class names, negative first (the last of two is the positive class); ``None`` when the
        dataset decides them (:attr:`classes_from`).
    classes_from
        How the classes are derived when :attr:`classes` is ``None`` (for listings).
    window_s
        Default window length in seconds (stride = window); a video task's window is the method's clip.
    balance_training
        The harness class-balances each fold's training windows (:mod:`benchmark.fold_windows`).
    extra_ictal_windows
        ``--ictal-stride`` applies: extra overlapping training windows inside seizures.
    whole_recording_chunks
        Random (window-level) protocols assign a whole recording to one fold: a video's clips never
        straddle folds, and class-balancing windows before a split (which would cut videos) is refused.
    ranking_metrics
        Boards of this task rank by the first of these the board has (each gives a constant predictor
        exactly the no-skill level, except event F1, the last resort of boards without window
        scores, on which a constant hypothesis scores low).
    summary_metrics
        Metrics the run summary prints, in order.
    claim
        What results of this task claim to measure, in the words synthetic-data banners deny.
    """

    name: str
    description: str
    modality: str = "eeg"
    classes: tuple[str, ...] | None = None
    classes_from: str = ""
    window_s: float = 1.0
    balance_training: bool = False
    extra_ictal_windows: bool = False
    whole_recording_chunks: bool = False
    ranking_metrics: tuple[str, ...] = ("balanced_accuracy", "roc_auc")
    summary_metrics: tuple[str, ...] = ("sensitivity", "specificity", "accuracy", "balanced_accuracy", "roc_auc")
    claim: str = ""


@dataclass(frozen=True)
class ScoringContext:
    """What scoring a run needs besides its window scores."""

    index: RecordingIndex | None
    post_processing: Any = None  # benchmark.events.PostProcessing of event scoring
    video_aggregation: str = "mean"


@dataclass
class Scored:
    """A run's per-patient metrics, pooled window metrics and what its provenance records of scoring."""

    per_patient: pd.DataFrame
    pooled: dict[str, float]
    provenance: dict[str, Any] = field(default_factory=dict)


class Task:
    """One task: subclasses set :attr:`metadata` and :attr:`params_cls` and implement :meth:`labels`."""

    metadata: ClassVar[TaskMetadata]
    params_cls: ClassVar[type]
    options: ClassVar[tuple[TaskOption, ...]] = ()

    @property
    def name(self) -> str:
        return self.metadata.name

    # -- parameters ---------------------------------------------------------------------------
    def make_params(self, **overrides: Any):
        """The parameter record of this task; unknown names give a one-line error."""
        allowed = {f.name for f in fields(self.params_cls)}
        given = {k: v for k, v in overrides.items() if v is not None}
        bad = sorted(set(given) - allowed)
        if bad:
            raise BenchmarkError(f"task '{self.name}' has no parameter(s) {bad}; it takes {sorted(allowed)}.")
        params = self.params_cls(**given)
        self.check_params(params)
        return params

    def check_params(self, params) -> None:
        """Refuse parameter values the task cannot label with (one line); the default takes all."""

    def standard_params(self, index: RecordingIndex, protocol, choices: dict[str, list] | None = None) -> list:
        """The parameter records ``splits freeze`` freezes for ``protocol`` by default; ``choices``
        (``{parameter: values}``, e.g. ``{"sop_minutes": [10]}``) narrows the task's own defaults: by
        default every combination of the given values of the task's own parameters."""
        own = {f.name for f in fields(self.params_cls)}
        picked = {k: list(v) for k, v in (choices or {}).items() if k in own and v}
        return [self.make_params(**dict(zip(picked, combo))) for combo in itertools.product(*picked.values())]

    def balance_multiclass(self, classes: tuple[str, ...]) -> bool:
        """Whether class balancing keeps every seizure window and as many background windows
        (``True``) rather than cutting every class to the rarest one (:func:`benchmark.fold_windows.balance_quota`):
        for more than two classes."""
        return len(classes) > 2

    # -- labels -------------------------------------------------------------------------------
    def make_labels(self, index: RecordingIndex, params=None) -> TaskLabels:
        """Label ``index``; the dataset's own exclusions come first in ``exclusions``, so that splits
        and runs carry every reason something is missing, not only the task's."""
        labels = self.labels(index, params or self.make_params())
        labels.exclusions = list(index.exclusions) + labels.exclusions
        return labels

    def labels(self, index: RecordingIndex, params) -> TaskLabels:
        raise NotImplementedError

    def class_names(self, derived: tuple[str, ...] = ()) -> tuple[str, ...]:
        """The classes of a split: the task's fixed ones, else those the split derived."""
        return self.metadata.classes if self.metadata.classes is not None else tuple(derived)

    def stored_classes(self, classes: tuple[str, ...]) -> tuple[str, ...]:
        """What a split file records as its classes: nothing for fixed classes (their files keep
        their sha256), else the derived ones."""
        return () if self.metadata.classes is not None else tuple(classes)

    def record_params(self, classes: tuple[str, ...]) -> dict[str, Any]:
        """Extra task parameters a run records besides the parameter record (none by default)."""
        return {}

    # -- scoring ------------------------------------------------------------------------------
    def score(self, scores: pd.DataFrame, classes: tuple[str, ...], ctx: ScoringContext) -> Scored:
        """Per-patient metrics (pooled over a patient's folds) and the metrics of all test windows."""
        import pandas as pd

        from benchmark import metrics as M

        multiclass = len(classes) > 2
        if not len(scores):
            names = M.multiclass_metric_names(classes) if multiclass else list(M.METRICS)
            return Scored(pd.DataFrame(columns=names), {})
        if multiclass:
            proba = np.asarray(scores["probs"].tolist(), dtype=float)
            return Scored(
                M.multiclass_patient_metrics(scores, proba, classes),
                M.multiclass_metrics(scores["label"].to_numpy(), proba, classes),
            )
        pooled = M.binary_metrics(
            scores["label"].to_numpy(), scores["score"].to_numpy(), pred=scores["pred"].to_numpy()
        )
        return Scored(M.patient_metrics(scores), pooled)

    def rescore_needed(self, provenance: dict[str, Any], ctx: ScoringContext) -> bool:
        """Whether a complete stored run must be re-scored (its scoring settings changed)."""
        return False


# -- the registry -------------------------------------------------------------------------------
_REGISTRY: dict[str, Task] = {}


def register_task(cls: type[Task]) -> type[Task]:
    """Class decorator: make ``cls`` a task found by name (a second class of one name is refused)."""
    name = cls.metadata.name
    if name in _REGISTRY and type(_REGISTRY[name]) is not cls:
        raise BenchmarkError(f"task '{name}' is registered twice ({type(_REGISTRY[name]).__name__}, {cls.__name__}).")
    _REGISTRY[name] = cls()
    return cls


def unregister_task(name: str) -> None:
    """Remove a task from the registry (tests that register toy tasks)."""
    _REGISTRY.pop(name, None)


def get_task(name: str) -> Task:
    """The registered task ``name``; an unknown name gives a one-line error with close names."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise UnknownNameError(
            f"unknown task '{name}'.{did_you_mean(str(name), _REGISTRY)} Choose one of {sorted(_REGISTRY)}."
        ) from None


def find_task(name: str) -> Task | None:
    """The registered task ``name`` or ``None`` (stored records may name tasks no longer registered)."""
    return _REGISTRY.get(name)


def task_names() -> list[str]:
    return list(_REGISTRY)


def all_tasks() -> list[Task]:
    return list(_REGISTRY.values())


def make_params(task: str, **overrides: Any):
    """Build the parameter record of ``task``; unknown names give a one-line error."""
    return get_task(task).make_params(**overrides)


def make_labels(index: RecordingIndex, task: str, params=None) -> TaskLabels:
    """Label ``index`` for ``task``; every patient or seizure left out gets an :class:`Exclusion`."""
    return get_task(task).make_labels(index, params)


def params_dict(params) -> dict[str, Any]:
    return asdict(params)


def params_hash(task: str, params) -> str:
    blob = json.dumps({"task": task, **asdict(params)}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


# -- helpers tasks share ------------------------------------------------------------------------
def usable_recordings(index: RecordingIndex, patient: Patient) -> list:
    """Recordings of ``patient`` placed on its timeline and not excluded by the loader."""
    from benchmark.datasets import excluded_recordings

    excluded = excluded_recordings(index)
    return [r for r in patient.recordings if r.on_timeline and (patient.patient_id, r.recording_id) not in excluded]


def timed_recordings(index: RecordingIndex, patient: Patient) -> list:
    """Recordings of ``patient`` with a known duration, not excluded by the loader."""
    from benchmark.datasets import excluded_recordings

    excluded = excluded_recordings(index)
    return [
        r for r in patient.recordings if r.duration is not None and (patient.patient_id, r.recording_id) not in excluded
    ]


def listed_by_loader(index: RecordingIndex, patient: Patient) -> bool:
    return any(e.scope == "patient" and e.patient == patient.patient_id for e in index.exclusions)


def subtract(intervals: list[tuple[float, float]], holes: list[tuple[float, float]]) -> list[tuple[float, float]]:
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


def window_labels(seizures, starts: np.ndarray, ends: np.ndarray, mode: int, classes: tuple[str, ...]) -> np.ndarray:
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
