"""``prediction``: pre-ictal vs inter-ictal, as in patient-specific seizure prediction.

As in Lee et al. 2024 (ResNet-LSTM with supervised contrastive pre-training), pre-ictal is
``[onset - SPH - SOP, onset - SPH)`` of each *lead* seizure (no seizure ends within SOP + SPH before
its onset). Inter-ictal is recorded EEG farther than ``interictal_gap_hours`` from any seizure. One
unit = one lead seizure's pre-ictal block plus a matched inter-ictal block of the same duration
(inter-ictal is undersampled to balance the classes).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from benchmark.errors import BenchmarkError
from benchmark.index import Exclusion, RecordingIndex
from benchmark.seizures import lead_seizures
from benchmark.tasks.base import (
    Segment,
    Task,
    TaskLabels,
    TaskMetadata,
    TaskOption,
    Unit,
    listed_by_loader,
    register_task,
    subtract,
    usable_recordings,
)

DEFAULT_SOPS = (10.0, 15.0, 30.0)
DEFAULT_GAP_H = 4.0
PAPER_GAP_H = 3.0  # Lee et al. (ResNet-LSTM) define inter-ictal as > 3 h from a seizure


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


@register_task
class Prediction(Task):
    metadata = TaskMetadata(
        name="prediction",
        description="pre-ictal vs inter-ictal EEG of lead seizures (--sop, --sph, --interictal-gap)",
        classes=("interictal", "preictal"),
        window_s=10.0,  # as in the ResNet-LSTM paper
        ranking_metrics=("balanced_accuracy", "roc_auc"),
        summary_metrics=("sensitivity", "specificity", "fpr", "accuracy", "balanced_accuracy", "roc_auc"),
        claim="seizure prediction on real EEG",
    )
    params_cls = PredictionParams
    options = (
        TaskOption(
            "--sop", "sop_minutes", float, "MIN", "seizure occurrence period / pre-ictal length in minutes (default 10)"
        ),
        TaskOption("--sph", "sph_minutes", float, "MIN", "seizure prediction horizon in minutes (default 0)"),
        TaskOption(
            "--interictal-gap",
            "interictal_gap_hours",
            float,
            "H",
            "inter-ictal EEG is farther than H hours from any seizure (default 4)",
        ),
    )

    def check_params(self, params: PredictionParams) -> None:
        if params.sop_minutes <= 0 or params.sph_minutes < 0 or params.interictal_gap_hours <= 0:
            raise BenchmarkError("prediction needs SOP > 0 min, SPH >= 0 min and an inter-ictal gap > 0 h.")

    def standard_params(self, index: RecordingIndex, protocol, choices: dict[str, list] | None = None) -> list:
        """Every SOP of the literature (10, 15, 30 min) at the 4-h gap, and at Lee et al.'s 3-h gap
        for the patient-specific protocol they used (``choices``: ``sop_minutes``, ``sph_minutes``,
        ``interictal_gap_hours``)."""
        choices = dict(choices or {})
        gaps = choices.pop("interictal_gap_hours", None)
        gap_list = list(gaps) if gaps else [DEFAULT_GAP_H] + ([PAPER_GAP_H] if protocol.patient_specific else [])
        sops = choices.pop("sop_minutes", None) or DEFAULT_SOPS
        sphs = choices.pop("sph_minutes", None) or [None]
        return [
            self.make_params(sop_minutes=sop, interictal_gap_hours=gap, sph_minutes=sph)
            for gap in gap_list
            for sop in sops
            for sph in sphs
        ]

    def labels(self, index: RecordingIndex, params: PredictionParams) -> TaskLabels:
        return _prediction(index, params)

    def usable_units(
        self, index: RecordingIndex, sops=DEFAULT_SOPS, sph_minutes: float = 0.0, gap_hours: float = DEFAULT_GAP_H
    ) -> dict:
        """Per SOP: usable units per patient and the exclusions the task and ``loocv`` add.

        This is what ``data describe`` shows beside the loader's own exclusions, so that nothing a
        run leaves out is a surprise.
        """
        from benchmark.splits import make_split

        out = {}
        for sop in sops:
            params = self.make_params(sop_minutes=sop, sph_minutes=sph_minutes, interictal_gap_hours=gap_hours)
            labels = self.make_labels(index, params)
            spec = make_split(labels, "loocv", dataset=index.dataset, index_hash=index.content_hash(), seed=params.seed)
            units: dict[str, int] = {}
            for u in labels.units:
                units[u.patient] = units.get(u.patient, 0) + 1
            out[f"{sop:g}"] = {
                "label": params.label(),
                "units": units,
                # the dataset's own exclusions are shown once, by `data describe`, not per SOP
                "exclusions": [vars(e) for e in spec.exclusions if e not in index.exclusions],
            }
        return out


def _prediction(index: RecordingIndex, p: PredictionParams) -> TaskLabels:
    sop, sph, gap = p.sop_minutes * 60, p.sph_minutes * 60, p.interictal_gap_hours * 3600
    units: list[Unit] = []
    excl: list[Exclusion] = []
    for patient in index.patients:
        pid = patient.patient_id
        recs = usable_recordings(index, patient)
        if not recs:
            if not listed_by_loader(index, patient):
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
                    f"{n_nonlead} seizure(s) follow another within SOP+SPH ({(sop + sph) / 60:g} min): "
                    "not lead seizures",
                )
            )
        if not preictal:
            excl.append(Exclusion("patient", pid, f"no lead seizure with enough pre-ictal EEG for {p.label()}"))
            continue
        # Inter-ictal pool: recorded time farther than `gap` from any seizure.
        pool = subtract([(r.start, r.end) for r in recs], [(on - gap, off + gap) for on, off, _, _ in all_sz])
        pool_total = sum(b - a for a, b in pool)
        if pool_total <= 0:
            excl.append(
                Exclusion(
                    "patient", pid, f"no inter-ictal EEG farther than {p.interictal_gap_hours:g} h from a seizure"
                )
            )
            continue
        blocks = _matched_interictal(pool, [c for _, _, c in preictal], p.seed, pid)
        for (k, segs, _), block in zip(preictal, blocks):
            inter = []
            for lo, hi in block:
                inter.extend(_intersect(recs, lo, hi, pid, 0))
            units.append(Unit(f"{pid}-sz{k:02d}", pid, patient.group, tuple(segs) + tuple(inter), "seizure", 1))
    return TaskLabels("prediction", p, Prediction.metadata.classes, units, excl)


def _intersect(recs, lo: float, hi: float, patient: str, label: int) -> list[Segment]:
    """Segments of recordings ``recs`` covering the timeline interval ``[lo, hi)``."""
    out = []
    for r in recs:
        a, b = max(lo, r.start), min(hi, r.end)
        if b > a:
            out.append(Segment(patient, r.recording_id, round(a - r.start, 3), round(b - r.start, 3), label))
    return out


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
