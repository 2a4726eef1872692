"""``detection``: ictal vs non-ictal windows, scored per window and as SzCORE events.

One unit = one recording; its windows are labelled ictal when they overlap a seizure (segment label
:data:`~benchmark.tasks.base.BY_OVERLAP`). Besides the window metrics, the window scores of every
test recording become events (:mod:`benchmark.events`) scored against the seizures.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from benchmark.index import Exclusion, RecordingIndex
from benchmark.tasks.base import (
    BY_OVERLAP,
    Scored,
    ScoringContext,
    Segment,
    Task,
    TaskLabels,
    TaskMetadata,
    Unit,
    listed_by_loader,
    register_task,
    timed_recordings,
)

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class DetectionParams:
    """Parameters of the detection task that define its labels (and so its splits)."""

    seed: int = 0

    def label(self) -> str:
        return "ictal vs non-ictal"

    def slug(self) -> str:
        return "ictal"


@register_task
class Detection(Task):
    metadata = TaskMetadata(
        name="detection",
        description="ictal vs non-ictal windows of every recording, with SzCORE event scoring",
        classes=("non-ictal", "ictal"),
        window_s=1.0,
        balance_training=True,
        extra_ictal_windows=True,
        # Event F1 last, for boards of scored hypothesis folders, which have no window scores: SzCORE
        # ranks by it, and an all-seizure or a no-seizure hypothesis scores low on it (sensitivity
        # would rank the first at the top).
        ranking_metrics=("balanced_accuracy", "roc_auc", "event_f1"),
        summary_metrics=(
            "sensitivity",
            "specificity",
            "balanced_accuracy",
            "roc_auc",
            "event_sensitivity",
            "event_f1",
            "fa_per_24h",
        ),
        claim="seizure detection on real EEG",
    )
    params_cls = DetectionParams

    def labels(self, index: RecordingIndex, params: DetectionParams) -> TaskLabels:
        units: list[Unit] = []
        excl: list[Exclusion] = []
        for patient in index.patients:
            pid = patient.patient_id
            recs = timed_recordings(index, patient)
            if not recs:
                if not listed_by_loader(index, patient):
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
        return TaskLabels(self.name, params, self.metadata.classes, units, excl)

    def score(self, scores: pd.DataFrame, classes: tuple[str, ...], ctx: ScoringContext) -> Scored:
        """Window metrics, joined per patient by SzCORE event and sample metrics; the scoring's
        settings, totals and per-patient counts go to the run's provenance."""
        from benchmark import metrics as M
        from benchmark.events import scoring_records

        scored = super().score(scores, classes, ctx)
        if not len(scores):
            return scored
        events = event_metrics(scores, ctx.index, ctx.post_processing)
        scored.per_patient = scored.per_patient.join(events[[*M.EVENT_METRICS, *M.SAMPLE_METRICS]], how="left")
        # Event and sample scoring: settings, totals and each patient's counts.
        scored.provenance.update(scoring_records(events, ctx.post_processing))
        return scored

    def rescore_needed(self, provenance: dict, ctx: ScoringContext) -> bool:
        """Event post-processing is scoring, not training: other settings re-score the stored windows,
        as does a run stored before sample-based scoring (which then gains it)."""
        stored = (provenance or {}).get("event_scoring", {}).get("post_processing")
        return stored is not None and (stored != asdict(ctx.post_processing) or "sample_scoring" not in provenance)


def event_metrics(scores: pd.DataFrame, index: RecordingIndex, post) -> pd.DataFrame:
    """SzCORE event and sample scores per patient from the window scores of every scored recording."""
    from benchmark.events import SampleParams, SzcoreParams, score_windows

    table = scores[["patient", "recording", "start", "end", "score"]].copy()
    # Recording names need not be unique across patients (edf-folder); key them by patient too.
    table["recording"] = table["patient"].astype(str) + "/" + table["recording"].astype(str)
    reference, durations = {}, {}
    for pid, rid in scores[["patient", "recording"]].drop_duplicates().itertuples(index=False):
        rec = index.recording(pid, rid)
        reference[f"{pid}/{rid}"] = [(sz.onset, sz.offset) for sz in rec.seizures]
        durations[f"{pid}/{rid}"] = float(rec.duration)
    return score_windows(table, reference, durations, post, SzcoreParams(), SampleParams())
