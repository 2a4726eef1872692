"""``seizure-type``: background or the type of the seizure a window overlaps (TUSZ's FNSZ, GNSZ, ...).

The classes are ``("background", *types)`` with the types the dataset's seizures carry (or a chosen
subset). One unit = one recording; stretches of seizures without a kept type are cut out of it (and
listed as exclusions) so that no window is labelled background inside a seizure. Segment label
:data:`~benchmark.tasks.base.BY_TYPE` means "label by the type of the overlapping seizure".
"""

from __future__ import annotations

from dataclasses import dataclass

from benchmark.errors import BenchmarkError
from benchmark.index import Exclusion, RecordingIndex
from benchmark.tasks.base import (
    BACKGROUND,
    BY_TYPE,
    Segment,
    Task,
    TaskLabels,
    TaskMetadata,
    TaskOption,
    Unit,
    listed_by_loader,
    register_task,
    subtract,
    timed_recordings,
)


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


@register_task
class SeizureType(Task):
    metadata = TaskMetadata(
        name="seizure-type",
        description="background and each seizure type of the dataset (--types)",
        classes=None,
        classes_from="background and each seizure type of the dataset (--types)",
        window_s=1.0,
        balance_training=True,
        extra_ictal_windows=True,
        ranking_metrics=("balanced_accuracy", "roc_auc_macro"),
        summary_metrics=("accuracy", "balanced_accuracy", "f1_macro", "roc_auc_macro"),
        claim="seizure-type classification on real EEG",
    )
    params_cls = SeizureTypeParams
    options = (
        TaskOption(
            "--types",
            "types",
            str,
            "T1,T2",
            "seizure-type: the seizure types to classify (default: every type in the dataset)",
            as_list=True,
            empty="--types needs at least one seizure type, e.g. --types FNSZ,GNSZ.",
        ),
    )

    def labels(self, index: RecordingIndex, params: SeizureTypeParams) -> TaskLabels:
        return _seizure_type(index, params)


def seizure_types(index: RecordingIndex) -> list[str]:
    """Sorted seizure types carried by the seizures of usable recordings (``None`` types left out)."""
    return sorted(
        {
            sz.type
            for patient in index.patients
            for r in timed_recordings(index, patient)
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
            raise BenchmarkError(f"seizure type(s) {missing} do not occur in '{index.dataset}'; it has {present}.")
    kept = list(p.types) if p.types else present
    classes = (BACKGROUND, *kept)
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
            holes = []
            for sz in r.seizures:
                if sz.type not in kept:
                    holes.append((float(sz.onset), float(sz.offset)))
                    why = "has no seizure type" if not sz.type else f"type {sz.type} is not a class of this task"
                    excl.append(
                        Exclusion("seizure", pid, f"seizure at {sz.onset:g}-{sz.offset:g} s {why}", r.recording_id)
                    )
            spans = subtract([(0.0, float(r.duration))], holes)
            if not spans:
                continue
            units.append(
                Unit(
                    f"{pid}/{r.recording_id}",
                    pid,
                    patient.group,
                    tuple(
                        Segment(pid, r.recording_id, round(float(a), 3), round(float(b), 3), BY_TYPE) for a, b in spans
                    ),
                    "recording",
                    int(any(sz.type in kept for sz in r.seizures)),
                )
            )
    return TaskLabels(SeizureType.metadata.name, p, classes, units, excl)
