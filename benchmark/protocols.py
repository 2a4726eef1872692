"""Protocols: how a task's units are split into folds, whether that is valid, and whether it leaks.

Each protocol is one class (MOABB's evaluations, which validate themselves, are the model): its
metadata say what it is (leaky, window-level, patient-specific, cross-patient), :meth:`Protocol.splitter`
gives its cross-validator (scikit-learn's contract: ``split(X)`` yields ``(train, test)`` index arrays
over a sequence of :class:`~benchmark.tasks.Unit`), :meth:`Protocol.is_valid` says why it cannot split
a task's labels, and :meth:`Protocol.folds` names the folds. Registering one is a decorator
(:func:`register_protocol`); :func:`get_protocol` finds it.

``loocv``
    Patient-specific leave-one-out as in Lee et al. (ResNet-LSTM): a unit is one lead seizure's
    pre-ictal block with its matched inter-ictal block; N units give N folds per patient.
``loso``
    Leave one subject out (cross-patient); CHB-MIT's chb01/chb21 are one subject.
``kfold5``
    Patient-wise (grouped by subject) 5-fold, stratified on whether units contain positives.
``kfold5-random``
    Segment-level random 5-fold. Neighbouring seconds of one recording land in train and test, so it
    is always flagged leaky; kept only to reproduce papers that used it.
``kfold5-random-balanced``
    DistilCLIP-EEG's own evaluation (Wang et al. 2025, Sec. IV-A and IV-C): the windows are first
    class-balanced (every seizure window, the extra overlapping ones of ``--ictal-stride``
    included, and as many random background windows), once per run, and only then split at random
    into five folds, second by second, so test folds are balanced as well (the paper's Table II
    accuracy equals (recall + specificity) / 2). Leaky like ``kfold5-random``, and flagged alike.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from benchmark.errors import BenchmarkError, SplitError, UnknownNameError, did_you_mean
from benchmark.index import Exclusion
from benchmark.tasks import Unit, get_task

RANDOM_CHUNK_S = 10.0  # granularity of kfold5-random assignment (seconds of one recording)
# kfold5-random-balanced assigns every second on its own: the paper splits its 1-s segments at random.
BALANCED_CHUNK_S = 1.0


@dataclass
class Fold:
    fold_id: str
    train: list[str]
    test: list[str]
    patient: str | None = None
    chunk_fold: int | None = None  # random protocols: test windows are the chunks hashed to this fold


# -- cross-validators ---------------------------------------------------------------------------
class PatientLeaveOneUnitOut:
    """Within each patient, hold out one unit at a time (patients with < 2 units have no folds)."""

    leaky = False

    def get_n_splits(self, X: Sequence[Unit], y=None, groups=None) -> int:
        return sum(1 for _ in self.split(X))

    def split(self, X: Sequence[Unit], y=None, groups=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        by_patient: dict[str, list[int]] = {}
        for i, u in enumerate(X):
            by_patient.setdefault(u.patient, []).append(i)
        for idx in by_patient.values():
            if len(idx) < 2:
                continue
            for held in idx:
                yield np.array([i for i in idx if i != held]), np.array([held])


class LeaveOneSubjectOut:
    """Hold out every unit of one subject (person) at a time."""

    leaky = False

    def get_n_splits(self, X: Sequence[Unit], y=None, groups=None) -> int:
        return len({u.group for u in X})

    def split(self, X: Sequence[Unit], y=None, groups=None):
        groups = np.array([u.group for u in X]) if groups is None else np.asarray(groups)
        for g in sorted(set(groups)):
            yield np.flatnonzero(groups != g), np.flatnonzero(groups == g)


class SubjectStratifiedKFold:
    """Grouped (by subject), stratified k-fold over units."""

    leaky = False

    def __init__(self, n_splits: int = 5, seed: int = 0):
        self.n_splits = n_splits
        self.seed = seed

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        return self.n_splits

    def split(self, X: Sequence[Unit], y=None, groups=None):
        groups = np.array([u.group for u in X]) if groups is None else np.asarray(groups)
        n_groups = len(set(groups))
        if n_groups < self.n_splits:
            raise SplitError(
                f"kfold{self.n_splits} needs at least {self.n_splits} subjects with usable units, the "
                f"dataset has {n_groups}; use --protocol loso or loocv, or a larger dataset."
            )
        from sklearn.model_selection import StratifiedGroupKFold  # imported here: listings stay instant

        y = np.array([u.stratum for u in X]) if y is None else np.asarray(y)
        cv = StratifiedGroupKFold(n_splits=self.n_splits, shuffle=True, random_state=self.seed)
        yield from cv.split(np.zeros(len(X)), y, groups)


class RandomChunkKFold:
    """Segment-level random k-fold: every ``chunk_s`` seconds of every recording is assigned to a
    fold by a seeded hash. Leaky by design."""

    leaky = True

    def __init__(self, n_splits: int = 5, seed: int = 0, chunk_s: float = RANDOM_CHUNK_S):
        self.n_splits, self.seed, self.chunk_s = n_splits, seed, chunk_s

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        return self.n_splits

    def split(self, X: Sequence[Unit], y=None, groups=None):
        # Folds of this protocol cut through units, so they cannot be expressed as unit indices.
        raise TypeError("RandomChunkKFold assigns windows, not units, to folds: use chunk_folds()")

    def chunk_folds(self, recording: str, starts: np.ndarray) -> np.ndarray:
        """Fold of each window, from the chunk its start falls in."""
        chunk = np.floor(np.asarray(starts, dtype=float) / self.chunk_s).astype(np.int64)
        salt = int(hashlib.sha256(f"{self.seed}:{recording}".encode()).hexdigest()[:8], 16)
        # A cheap, stable integer hash (splitmix64 finaliser) so assignment never depends on order.
        z = (chunk.astype(np.uint64) + np.uint64(salt)) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
        return (z % np.uint64(self.n_splits)).astype(np.int64)


# -- protocols ----------------------------------------------------------------------------------
class Protocol:
    """One protocol; subclasses set the class attributes and :meth:`splitter`.

    Attributes
    ----------
    name, description
        ``--protocol`` name and the one line split files and listings carry (leaky ones say LEAKY).
    leaky
        Folds put neighbouring stretches of one recording on both sides: results are flagged.
    window_level
        Folds are drawn over windows (chunks of recordings), not units.
    balanced_pool
        Windows are class-balanced once, before the split (DistilCLIP-EEG).
    patient_specific
        Train and test come from the same patient (one model per patient's folds).
    cross_patient
        Test patients (subjects) are never seen in training; the leakage guard checks it.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    leaky: ClassVar[bool] = False
    window_level: ClassVar[bool] = False
    balanced_pool: ClassVar[bool] = False
    patient_specific: ClassVar[bool] = False
    cross_patient: ClassVar[bool] = False

    def splitter(self, seed: int = 0):
        raise NotImplementedError

    def is_valid(self, task: str) -> str | None:
        """Why this protocol cannot split ``task``'s labels, or ``None`` when it can."""
        return None

    def check(self, task: str) -> None:
        """Refuse, in one line, a task this protocol cannot split (:meth:`is_valid`)."""
        why = self.is_valid(task)
        if why:
            raise SplitError(why)

    def exclusions(self, units: list[Unit]) -> list[Exclusion]:
        """Patients the protocol cannot use, with the reason (none by default)."""
        return []

    def folds(self, units: list[Unit], seed: int = 0) -> list[Fold]:
        """The folds over ``units``, each named for reports and resumable runs."""
        out: list[Fold] = []
        for train, test in self.splitter(seed).split(units):
            test_units = [units[i] for i in test]
            fold_id, patient = self.fold_name(test_units, len(out))
            out.append(Fold(fold_id, [units[i].unit_id for i in train], [u.unit_id for u in test_units], patient))
        return out

    def fold_name(self, test_units: list[Unit], k: int) -> tuple[str, str | None]:
        """``(fold id, the one test patient or None)`` of the ``k``-th fold."""
        return f"fold{k}", None

    def chunk_s(self, task: str) -> float | None:
        """Seconds per random chunk recorded in the split file (``None``: not window-level)."""
        return None

    def leakage_checks(self) -> list[str]:
        """What the leakage guard checks in every fold (stored with each run)."""
        if self.window_level:
            # Units, recordings and patients are on both sides by design (the protocol is flagged leaky).
            return ["overlapping windows"]
        cross = ["recordings", "patients", "subjects"] if self.cross_patient else []
        return ["overlapping windows", "units", *cross]


class _RandomProtocol(Protocol):
    """Window-level random k-fold: every fold lists every unit; windows are hashed to folds."""

    leaky = True
    window_level = True
    chunk_seconds: ClassVar[float] = RANDOM_CHUNK_S

    def splitter(self, seed: int = 0) -> RandomChunkKFold:
        return RandomChunkKFold(5, seed, self.chunk_seconds)

    def folds(self, units: list[Unit], seed: int = 0) -> list[Fold]:
        ids = [u.unit_id for u in units]
        return [Fold(f"fold{k}", ids, ids, None, k) for k in range(self.splitter(seed).n_splits)]

    def chunk_s(self, task: str) -> float | None:
        # A task whose recordings are chunks (video classification) assigns whole videos at random.
        return None if get_task(task).metadata.whole_recording_chunks else self.chunk_seconds


_REGISTRY: dict[str, Protocol] = {}
DEFAULT_PROTOCOL = "loocv"


def register_protocol(cls: type[Protocol]) -> type[Protocol]:
    """Class decorator: make ``cls`` a protocol found by name."""
    if cls.name in _REGISTRY and type(_REGISTRY[cls.name]) is not cls:
        raise BenchmarkError(f"protocol '{cls.name}' is registered twice.")
    _REGISTRY[cls.name] = cls()
    return cls


def unregister_protocol(name: str) -> None:
    _REGISTRY.pop(name, None)


def get_protocol(name: str) -> Protocol:
    """The registered protocol ``name``; an unknown name gives a one-line error with close names."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise UnknownNameError(
            f"unknown protocol '{name}'.{did_you_mean(str(name), _REGISTRY)} Choose one of {list(_REGISTRY)}."
        ) from None


def all_protocols() -> list[Protocol]:
    return list(_REGISTRY.values())


@register_protocol
class LOOCV(Protocol):
    name = "loocv"
    description = "patient-specific leave-one-seizure-out (units: pre-ictal block + matched inter-ictal block)"
    patient_specific = True

    def splitter(self, seed: int = 0) -> PatientLeaveOneUnitOut:
        return PatientLeaveOneUnitOut()

    def exclusions(self, units: list[Unit]) -> list[Exclusion]:
        import pandas as pd

        counts = pd.Series([u.patient for u in units]).value_counts() if units else pd.Series(dtype=int)
        return [
            Exclusion("patient", pid, f"only {n} usable unit (lead seizure); leave-one-out needs at least 2")
            for pid, n in counts.items()
            if n < 2
        ]

    def folds(self, units: list[Unit], seed: int = 0) -> list[Fold]:
        per_patient: dict[str, int] = {}
        out = []
        for fold in super().folds(units, seed):
            pid = fold.patient
            k = per_patient.get(pid, 0)
            per_patient[pid] = k + 1
            out.append(Fold(f"{pid}-f{k:02d}", fold.train, fold.test, pid))
        return out

    def fold_name(self, test_units: list[Unit], k: int) -> tuple[str, str | None]:
        pid = sorted({u.patient for u in test_units})[0]
        return pid, pid


@register_protocol
class LOSO(Protocol):
    name = "loso"
    description = "leave one subject out (cross-patient)"
    cross_patient = True

    def splitter(self, seed: int = 0) -> LeaveOneSubjectOut:
        return LeaveOneSubjectOut()

    def fold_name(self, test_units: list[Unit], k: int) -> tuple[str, str | None]:
        patients = sorted({u.patient for u in test_units})
        return f"{test_units[0].group}", (patients[0] if len(patients) == 1 else None)


@register_protocol
class KFold5(Protocol):
    name = "kfold5"
    description = "subject-wise stratified grouped 5-fold (cross-patient)"
    cross_patient = True

    def splitter(self, seed: int = 0) -> SubjectStratifiedKFold:
        return SubjectStratifiedKFold(5, seed)


@register_protocol
class KFold5Random(_RandomProtocol):
    name = "kfold5-random"
    description = "segment-level random 5-fold (LEAKY: reproduces papers that used it)"


@register_protocol
class KFold5RandomBalanced(_RandomProtocol):
    name = "kfold5-random-balanced"
    description = (
        "segment-level random 5-fold of windows class-balanced before the split (LEAKY: DistilCLIP-EEG's evaluation)"
    )
    balanced_pool = True
    chunk_seconds = BALANCED_CHUNK_S

    def is_valid(self, task: str) -> str | None:
        if get_task(task).metadata.whole_recording_chunks:
            return (
                f"protocol {self.name} balances EEG windows before the split; a video's clips must stay "
                "together: use --protocol kfold5-random, kfold5 or loso for video classification."
            )
        return None
