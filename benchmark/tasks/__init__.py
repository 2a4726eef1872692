"""Tasks: which stretches of a recording are examples of which class, grouped into units.

A task turns a :class:`~benchmark.index.RecordingIndex` into *units*: groups of labelled segments
``(patient, recording, start, end, label)`` in recording-relative seconds. Units are what protocols
split, so split files never depend on windowing. Each task is one class with declarative metadata
(:mod:`benchmark.tasks.base`); the registered ones are:

* ``prediction``: pre-ictal vs inter-ictal (:mod:`.prediction`);
* ``detection``: ictal vs non-ictal windows, with event scoring (:mod:`.detection`);
* ``seizure-type``: background or the seizure's type (:mod:`.seizure_type`);
* ``classification``: one label per video (:mod:`.classification`).

A new task is one module with one class decorated by :func:`register_task`.
"""

from __future__ import annotations

from benchmark.index import Exclusion  # what a task's labels list beside its units
from benchmark.tasks.base import (
    BACKGROUND,
    BY_OVERLAP,
    BY_TYPE,
    Scored,
    ScoringContext,
    Segment,
    Task,
    TaskLabels,
    TaskMetadata,
    TaskOption,
    Unit,
    all_tasks,
    find_task,
    get_task,
    listed_by_loader,
    make_labels,
    make_params,
    params_dict,
    params_hash,
    register_task,
    subtract,
    task_names,
    timed_recordings,
    unregister_task,
    usable_recordings,
    window_labels,
)

# Imported in this order so that listings show the EEG tasks first.
from benchmark.tasks.prediction import Prediction, PredictionParams  # isort: skip
from benchmark.tasks.detection import Detection, DetectionParams  # isort: skip
from benchmark.tasks.seizure_type import SeizureType, SeizureTypeParams, seizure_types  # isort: skip
from benchmark.tasks.classification import (
    DEFAULT_CLASS_ORDER,
    Classification,  # isort: skip
    ClassificationParams,
    default_classes,
    label_columns,
    video_labels,
)

DEFAULT_TASK = Prediction.metadata.name

__all__ = [
    "DEFAULT_TASK",
    "Exclusion",
    "listed_by_loader",
    "subtract",
    "timed_recordings",
    "usable_recordings",
    "BACKGROUND",
    "BY_OVERLAP",
    "BY_TYPE",
    "DEFAULT_CLASS_ORDER",
    "Classification",
    "ClassificationParams",
    "Detection",
    "DetectionParams",
    "Prediction",
    "PredictionParams",
    "Scored",
    "ScoringContext",
    "Segment",
    "SeizureType",
    "SeizureTypeParams",
    "Task",
    "TaskLabels",
    "TaskMetadata",
    "TaskOption",
    "Unit",
    "all_tasks",
    "default_classes",
    "find_task",
    "get_task",
    "label_columns",
    "make_labels",
    "make_params",
    "params_dict",
    "params_hash",
    "register_task",
    "seizure_types",
    "task_names",
    "unregister_task",
    "video_labels",
    "window_labels",
]
