"""``classification``: one label per video, from a column of the dataset's manifest.

``target`` names the label column (``label``: ES vs PNES; ``focus``: TLE vs exTLE). One unit = one
video, so its clips never end up on both sides of a split; clip scores are also aggregated into one
prediction per video (the method's ``video_aggregation``), scored per patient and pooled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from benchmark.errors import BenchmarkError
from benchmark.index import Exclusion, RecordingIndex
from benchmark.tasks.base import (
    Scored,
    ScoringContext,
    Segment,
    Task,
    TaskLabels,
    TaskMetadata,
    TaskOption,
    Unit,
    register_task,
)

if TYPE_CHECKING:
    import pandas as pd


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


@register_task
class Classification(Task):
    metadata = TaskMetadata(
        name="classification",
        description="one label per video from a manifest column (--target, --classes)",
        modality="video",
        classes=None,
        classes_from="one label per video from a manifest column (--target, --classes)",
        window_s=2.0,  # a video task's window is the method's clip (n_frames / fps)
        whole_recording_chunks=True,
        ranking_metrics=("video_class_balanced_accuracy", "video_roc_auc", "video_balanced_accuracy"),
        summary_metrics=("video_accuracy", "video_sensitivity", "video_specificity", "video_f1", "accuracy"),
        claim="seizure classification from real clinical video",
    )
    params_cls = ClassificationParams
    options = (
        TaskOption(
            "--target",
            "target",
            str,
            "COLUMN",
            "classification (video): the manifest's label column to classify, e.g. label (ES vs PNES) or "
            "focus (TLE vs exTLE); default: the method's, else label",
        ),
        TaskOption(
            "--classes",
            "classes",
            str,
            "A,B",
            "classification: the labels to keep, in order (for two, the second is the positive class)",
            as_list=True,
        ),
    )

    def standard_params(self, index: RecordingIndex, protocol, choices: dict[str, list] | None = None) -> list:
        """One split per label column of the manifest. A patient-specific protocol (leave one seizure
        out) has no meaning for whole videos, and balancing clips before the split would cut videos
        apart."""
        if protocol.patient_specific or protocol.balanced_pool:
            return []
        return [self.make_params(target=t) for t in label_columns(index)]

    def labels(self, index: RecordingIndex, params: ClassificationParams) -> TaskLabels:
        return _classification(index, params)

    def record_params(self, classes: tuple[str, ...]) -> dict[str, Any]:
        # The classes in force, in order (the last of two is positive), given or not.
        return {"classes": list(classes)}

    def score(self, scores: pd.DataFrame, classes: tuple[str, ...], ctx: ScoringContext) -> Scored:
        """Clip metrics, joined per patient by video-level metrics; the pooled video-level record
        goes to the run's provenance."""
        scored = super().score(scores, classes, ctx)
        if len(scores):
            per_video, record = video_level(scores, classes, ctx.video_aggregation)
            scored.per_patient = scored.per_patient.join(per_video, how="left")
            scored.provenance["video_level"] = record
        return scored


def video_level(scores: pd.DataFrame, classes, aggregation: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Per-patient video-level metrics, and the pooled video-level record kept in provenance."""
    import numpy as np

    from benchmark import metrics as M

    if len(classes) > 2:
        proba = np.asarray(scores["probs"].tolist(), dtype=float)
    else:
        p1 = scores["score"].to_numpy(float)
        proba = np.column_stack([1.0 - p1, p1])
    videos = M.aggregate_videos(scores, proba, aggregation)
    record = {
        "aggregation": aggregation,
        "classes": list(classes),
        "n_videos": int(len(videos)),
        "confusion": M.confusion(videos["label"], videos["pred"], len(classes)),
        "metrics": M.video_metrics(videos, classes),
    }
    return M.video_patient_metrics(videos, classes), record


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


def label_columns(index: RecordingIndex) -> list[str]:
    """The label columns of a video dataset's manifest (each a possible ``--target``)."""
    return sorted({k for pt in index.patients for v in pt.video_labels.values() for k in v})


def video_labels(index: RecordingIndex, target: str) -> dict[tuple[str, str], str]:
    """``{(patient, video): label}`` of every labelled video that has a value for ``target``."""
    out = {}
    for patient in index.patients:
        labels = patient.video_labels
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
    columns = label_columns(index)
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
        raise BenchmarkError(
            f"label column '{p.target}' of '{index.dataset}' has one class only ({present}); "
            "classification needs two or more."
        )
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
                excl.append(
                    Exclusion("recording", pid, f"label '{value}' is not a class of this task", rec.recording_id)
                )
                continue
            if not rec.duration:
                excl.append(Exclusion("recording", pid, "video duration unknown", rec.recording_id))
                continue
            k = classes.index(value)
            # One unit per video: clips of one video never end up on both sides of a split.
            units.append(
                Unit(
                    f"{pid}/{rec.recording_id}",
                    pid,
                    patient.group,
                    (Segment(pid, rec.recording_id, 0.0, round(float(rec.duration), 3), k),),
                    "video",
                    k,
                )
            )
    return TaskLabels(Classification.metadata.name, p, classes, units, excl)
