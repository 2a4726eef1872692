"""Protocols (cross-validators over task units), frozen split files and the leakage guard.

Splitters follow scikit-learn's cross-validator contract (``split(X, y=None, groups=None)`` yields
``(train_indices, test_indices)``; ``get_n_splits``) where ``X`` is a sequence of
:class:`~benchmark.tasks.Unit`.

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

A split file lists its units by ``(patient, recording, start, end, label)`` so it does not depend on
windowing, and carries the dataset index hash and a sha256 of its own content. A sha256 can be
recomputed by whoever edits the file, so :func:`verify_split` also re-derives the split from the
index and refuses any difference, and :func:`split_leak` refuses a fold with anything on both sides.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold

from benchmark.errors import BenchmarkError, SplitError, UnknownNameError, did_you_mean
from benchmark.index import Exclusion
from benchmark.tasks import CLASSES, Segment, TaskLabels, Unit, make_labels, make_params

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
RANDOM_CHUNK_S = 10.0  # granularity of kfold5-random assignment (seconds of one recording)
# kfold5-random-balanced assigns every second on its own: the paper splits its 1-s segments at random.
BALANCED_CHUNK_S = 1.0
# Protocols whose folds are drawn over windows (chunks of recordings), not units: leaky by design.
RANDOM_PROTOCOLS = ("kfold5-random", "kfold5-random-balanced")
# Random protocols whose window pool is class-balanced once, before the split (DistilCLIP-EEG).
BALANCED_PROTOCOLS = ("kfold5-random-balanced",)


# -- splitters --------------------------------------------------------------------------------
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


PROTOCOLS: dict[str, str] = {
    "loocv": "patient-specific leave-one-seizure-out (units: pre-ictal block + matched inter-ictal block)",
    "loso": "leave one subject out (cross-patient)",
    "kfold5": "subject-wise stratified grouped 5-fold (cross-patient)",
    "kfold5-random": "segment-level random 5-fold (LEAKY: reproduces papers that used it)",
    "kfold5-random-balanced": "segment-level random 5-fold of windows class-balanced before the split "
                              "(LEAKY: DistilCLIP-EEG's evaluation)",
}


def get_splitter(protocol: str, seed: int = 0):
    if protocol == "loocv":
        return PatientLeaveOneUnitOut()
    if protocol == "loso":
        return LeaveOneSubjectOut()
    if protocol == "kfold5":
        return SubjectStratifiedKFold(5, seed)
    if protocol == "kfold5-random":
        return RandomChunkKFold(5, seed)
    if protocol == "kfold5-random-balanced":
        return RandomChunkKFold(5, seed, BALANCED_CHUNK_S)
    raise UnknownNameError(
        f"unknown protocol '{protocol}'.{did_you_mean(protocol, PROTOCOLS)} Choose one of {list(PROTOCOLS)}."
    )


# -- split specs ------------------------------------------------------------------------------
@dataclass
class Fold:
    fold_id: str
    train: list[str]
    test: list[str]
    patient: str | None = None
    chunk_fold: int | None = None  # random protocols: test windows are the chunks hashed to this fold


@dataclass
class SplitSpec:
    """A frozen split: units, folds, and the hashes that tie it to one dataset version."""

    dataset: str
    index_hash: str
    task: str
    task_params: dict[str, Any]
    protocol: str
    seed: int
    units: dict[str, Unit]
    folds: list[Fold]
    leaky: bool = False
    exclusions: list[Exclusion] = field(default_factory=list)
    synthetic: bool = False
    random_chunk_s: float | None = None
    # Class names when the dataset decides them (seizure types); () means the task's fixed classes.
    classes: tuple[str, ...] = ()

    # Serialisation is explicit so that the file is stable and human-readable.
    def content(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "dataset": self.dataset,
            "synthetic": self.synthetic,
            "index_hash": self.index_hash,
            "task": self.task,
            "task_params": self.task_params,
            "protocol": self.protocol,
            "protocol_description": PROTOCOLS[self.protocol],
            "seed": self.seed,
            "leaky": self.leaky,
            "random_chunk_s": self.random_chunk_s,
            "units": {
                uid: {
                    "patient": u.patient,
                    "group": u.group,
                    "kind": u.kind,
                    "stratum": u.stratum,
                    "segments": [[s.recording, s.start, s.end, s.label] for s in u.segments],
                }
                for uid, u in self.units.items()
            },
            "folds": [
                {k: v for k, v in vars(f).items() if v is not None or k in ("train", "test")} for f in self.folds
            ],
            "exclusions": [vars(e) for e in self.exclusions],
            # Written only when set, so split files of fixed-class tasks keep their sha256.
            **({"classes": list(self.classes)} if self.classes else {}),
        }

    def sha256(self) -> str:
        return _sha(self.content())

    def to_json(self) -> str:
        d = self.content()
        d["sha256"] = _sha(d)
        return json.dumps(d, indent=1)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "SplitSpec":
        units = {
            uid: Unit(
                uid,
                u["patient"],
                u["group"],
                tuple(Segment(u["patient"], r, float(a), float(b), int(lab)) for r, a, b, lab in u["segments"]),
                u["kind"],
                int(u.get("stratum", 0)),
            )
            for uid, u in d["units"].items()
        }
        folds = [
            Fold(f["fold_id"], list(f["train"]), list(f["test"]), f.get("patient"), f.get("chunk_fold"))
            for f in d["folds"]
        ]
        return cls(
            dataset=d["dataset"],
            index_hash=d["index_hash"],
            task=d["task"],
            task_params=d["task_params"],
            protocol=d["protocol"],
            seed=int(d["seed"]),
            units=units,
            folds=folds,
            leaky=bool(d["leaky"]),
            exclusions=[Exclusion(**e) for e in d.get("exclusions", [])],
            synthetic=bool(d.get("synthetic", False)),
            random_chunk_s=d.get("random_chunk_s"),
            classes=tuple(d.get("classes", ())),
        )

    def class_names(self) -> tuple[str, ...]:
        """The split's classes: its own (seizure types) or the task's fixed ones."""
        return self.classes or CLASSES[self.task]

    def splitter(self):
        return get_splitter(self.protocol, self.seed)


def _sha(content: dict[str, Any]) -> str:
    blob = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def make_split(labels: TaskLabels, protocol: str, *, dataset: str, index_hash: str, seed: int = 0,
               synthetic: bool = False) -> SplitSpec:
    """Apply ``protocol`` to the task's units and return the split, with its exclusions."""
    splitter = get_splitter(protocol, seed)
    if protocol in BALANCED_PROTOCOLS and labels.task == "classification":
        raise SplitError(f"protocol {protocol} balances EEG windows before the split; a video's clips must stay "
                         "together: use --protocol kfold5-random, kfold5 or loso for video classification.")
    units = list(labels.units)
    exclusions = list(labels.exclusions)
    if protocol == "loocv":
        counts = pd.Series([u.patient for u in units]).value_counts() if units else pd.Series(dtype=int)
        for pid, n in counts.items():
            if n < 2:
                exclusions.append(
                    Exclusion("patient", pid, f"only {n} usable unit (lead seizure); leave-one-out needs at least 2")
                )
    folds: list[Fold] = []
    if protocol in RANDOM_PROTOCOLS:
        ids = [u.unit_id for u in units]
        folds = [Fold(f"fold{k}", ids, ids, None, k) for k in range(splitter.n_splits)]
    else:
        per_patient_count: dict[str, int] = {}
        for train, test in splitter.split(units):
            test_units = [units[i] for i in test]
            patients = sorted({u.patient for u in test_units})
            if protocol == "loocv":
                pid = patients[0]
                k = per_patient_count.get(pid, 0)
                per_patient_count[pid] = k + 1
                fold_id, fpatient = f"{pid}-f{k:02d}", pid
            elif protocol == "loso":
                fold_id, fpatient = f"{test_units[0].group}", (patients[0] if len(patients) == 1 else None)
            else:
                fold_id, fpatient = f"fold{len(folds)}", None
            folds.append(Fold(fold_id, [units[i].unit_id for i in train], [u.unit_id for u in test_units], fpatient))
    used = {uid for f in folds for uid in f.train + f.test}
    return SplitSpec(
        dataset=dataset,
        index_hash=index_hash,
        task=labels.task,
        task_params=vars(labels.params).copy(),
        protocol=protocol,
        seed=seed,
        units={u.unit_id: u for u in units if u.unit_id in used},
        folds=folds,
        leaky=splitter.leaky,
        exclusions=exclusions,
        synthetic=synthetic,
        # Video classification assigns whole videos at random (clips of a video never straddle folds).
        random_chunk_s=splitter.chunk_s if protocol in RANDOM_PROTOCOLS and labels.task != "classification" else None,
        classes=tuple(labels.classes) if labels.task not in CLASSES else (),
    )


# -- files ------------------------------------------------------------------------------------
def split_filename(task: str, params, protocol: str) -> str:
    return f"{task}-{params.slug()}-{protocol}.json"


def split_path(splits_dir: Path, dataset: str, task: str, params, protocol: str) -> Path:
    return Path(splits_dir) / dataset / split_filename(task, params, protocol)


def adhoc_split_path(cache_splits_dir: Path, dataset: str, index_hash: str, task: str, params, protocol: str) -> Path:
    """Where an ad-hoc (uncommitted) split of one dataset version lives in the cache.

    Keyed by the index's content hash, not only its name: a corrected dataset gets its own split
    instead of being refused, and two datasets loaded under one name never share a split.
    """
    return Path(cache_splits_dir) / dataset / index_hash[:16] / split_filename(task, params, protocol)


def save_split(spec: SplitSpec, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(spec.to_json())
    tmp.replace(path)  # atomic: a reader never sees half a split file
    return path


def load_split(path: Path) -> SplitSpec:
    """Load a split file and check its own sha256; raises :class:`SplitError` when it does not match."""
    path = Path(path)
    try:
        d = json.loads(path.read_text())
    except FileNotFoundError:
        raise SplitError(f"split file {path} does not exist; run 'seizure-bench splits freeze' to create it.")
    except (OSError, json.JSONDecodeError) as exc:
        raise SplitError(f"split file {path} is not valid JSON ({exc}); restore it from git or re-freeze it.")
    stored = d.pop("sha256", None)
    if stored is None or stored != _sha(d):
        raise SplitError(
            f"split file {path} was modified: its sha256 does not match its content; restore it from git "
            "('git checkout -- splits/') or re-freeze it with 'seizure-bench splits freeze'."
        )
    try:
        return SplitSpec.from_dict(d)
    except (KeyError, TypeError, ValueError) as exc:
        raise SplitError(f"split file {path} is malformed ({exc!r}); re-freeze it with 'seizure-bench splits freeze'.")


def check_against_index(spec: SplitSpec, index_hash: str, path: Path | str = "") -> None:
    """Refuse a split frozen on another version of the dataset."""
    if spec.index_hash != index_hash:
        raise SplitError(
            f"split {path or spec.protocol} was frozen on dataset version {spec.index_hash[:12]} but the "
            f"data in use is version {index_hash[:12]}; use the data the split was made for, or re-freeze "
            "with 'seizure-bench splits freeze' (and commit the new split)."
        )


# -- re-derivation: a split file must be exactly what the data give -----------------------------
_COMMITTED_FIX = "restore it from git ('git checkout -- splits/') or re-freeze it with 'seizure-bench splits freeze'"
_ADHOC_FIX = "delete it and the next run freezes it again from the data"


def rederive(spec: SplitSpec, index, labels: TaskLabels | None = None) -> SplitSpec:
    """The split the dataset index gives for ``spec``'s task, parameters and protocol.

    Cheap: labels come from the index alone (no EDF or video is read). ``labels`` may be passed
    when several splits share one task setting.
    """
    params = make_params(spec.task, **spec.task_params)
    if labels is None:
        labels = make_labels(index, spec.task, params)
    return make_split(labels, spec.protocol, dataset=spec.dataset, index_hash=index.content_hash(),
                      seed=params.seed, synthetic=index.synthetic)


def _plain(x: Any) -> Any:
    return json.loads(json.dumps(x))  # tuples -> lists, as in the file


def _missing_either_way(what: str, derived: dict, given: dict) -> str | None:
    """The first id the split file has that the data do not give, or the data give that it lacks."""
    for key in given:
        if key not in derived:
            return f"{what} {key} is not derived from the data"
    for key in derived:
        if key not in given:
            return f"{what} {key} derived from the data is missing"
    return None


def split_difference(derived: SplitSpec, spec: SplitSpec) -> str | None:
    """The first way ``spec`` differs from ``derived`` (the split the data give), or ``None``."""
    a, b = _plain(derived.content()), _plain(spec.content())
    if a == b:
        return None
    for key in ("format", "dataset", "index_hash", "synthetic", "task", "task_params", "protocol", "seed",
                "leaky", "random_chunk_s", "classes"):
        if a.get(key) != b.get(key):
            return f"{key} is {b.get(key)!r}, the data give {a.get(key)!r}"
    ua, ub = a["units"], b["units"]
    fa = {f["fold_id"]: f for f in a["folds"]}
    fb = {f["fold_id"]: f for f in b["folds"]}
    if (why := _missing_either_way("unit", ua, ub)) is not None:
        return why
    for uid in ua:
        if ua[uid] != ub[uid]:
            return f"unit {uid} differs from the one derived from the data"
    if (why := _missing_either_way("fold", fa, fb)) is not None:
        return why
    for fid in fa:
        for side in ("train", "test"):
            derived_side, given_side = set(fa[fid][side]), set(fb[fid][side])
            extra = [u for u in fb[fid][side] if u not in derived_side]
            if extra:
                return (f"fold {fid}: unit {extra[0]} is in {side}, "
                        "where the split derived from the data does not put it")
            lost = [u for u in fa[fid][side] if u not in given_side]
            if lost:
                return (f"fold {fid}: unit {lost[0]} is missing from {side}, "
                        "where the split derived from the data puts it")
        if fa[fid] != fb[fid]:
            return f"fold {fid} differs from the one derived from the data"
    if list(fa) != list(fb):
        return "folds are in another order than those derived from the data"
    if a["exclusions"] != b["exclusions"]:
        return "exclusions differ from those derived from the data"
    return "content differs from the split derived from the data"


def verify_split(spec: SplitSpec, index, path: Path | str = "", *, committed: bool = True,
                 labels: TaskLabels | None = None) -> None:
    """Refuse a split that is not exactly the one ``index`` gives, in one line naming the file and
    the first difference: another dataset version, a fold that leaks (:func:`split_leak`), or any
    difference from the split re-derived from the index (a hand-edited file whose sha256 was
    recomputed, or one made by other code). Used by ``run``, ``plan`` and ``splits verify``."""
    where = f"split file {path}" if path else f"split {spec.task} {spec.protocol}"
    fix = _COMMITTED_FIX if committed else _ADHOC_FIX
    check_against_index(spec, index.content_hash(), path)
    leak = split_leak(spec)
    if leak:
        raise SplitError(f"{where} leaks: {leak}; the split is wrong: {fix}.")
    try:
        derived = rederive(spec, index, labels)
    except BenchmarkError as exc:
        raise SplitError(f"{where} cannot be derived from the data ({exc}); {fix}.") from None
    diff = split_difference(derived, spec)
    if diff:
        raise SplitError(f"{where} does not match the split derived from the data: {diff}; {fix}.")


# -- leakage guard ----------------------------------------------------------------------------
# Protocols that test on unseen people: nothing of a test subject may be in training.
CROSS_PATIENT = ("loso", "kfold5")


def leakage_checks(protocol: str) -> list[str]:
    """What the leakage guard checks in every fold of ``protocol`` (stored with each run)."""
    if protocol in RANDOM_PROTOCOLS:
        # Units, recordings and patients are on both sides by design (the protocol is flagged leaky).
        return ["overlapping windows"]
    cross = ["recordings", "patients", "subjects"] if protocol in CROSS_PATIENT else []
    return ["overlapping windows", "units", *cross]


def fold_leak(spec: SplitSpec, fold: Fold) -> str | None:
    """The first unit, or for cross-patient protocols recording, patient or subject (person: CHB-MIT's
    chb01 and chb21 are one), found on both sides of ``fold``; ``None`` when there is none.

    Overlapping windows are checked on the fold's windows by :func:`check_leakage`.
    """
    unknown = next((u for u in fold.train + fold.test if u not in spec.units), None)
    if unknown is not None:
        return f"fold {fold.fold_id}: unit {unknown} is not among the split's units"
    if spec.protocol in RANDOM_PROTOCOLS:
        return None
    if fold.chunk_fold is not None:
        return f"fold {fold.fold_id}: window-level (chunk) folds belong to {' and '.join(RANDOM_PROTOCOLS)} only"
    train, test = set(fold.train), set(fold.test)
    both = sorted(train & test)
    if both:
        return f"fold {fold.fold_id}: unit {both[0]} in train and test"
    if spec.protocol in CROSS_PATIENT:
        keys = (("recording", lambda u: {f"{u.patient}/{s.recording}" for s in u.segments}),
                ("patient", lambda u: {u.patient}), ("subject", lambda u: {u.group}))
        for what, of in keys:
            shared = sorted(set().union(*(of(spec.units[u]) for u in train))
                            & set().union(*(of(spec.units[u]) for u in test)))
            if shared:
                return f"fold {fold.fold_id}: {what} {shared[0]} in train and test"
    return None


def split_leak(spec: SplitSpec) -> str | None:
    """The first leak of any fold of ``spec`` (:func:`fold_leak`), or ``None``."""
    return next((leak for f in spec.folds if (leak := fold_leak(spec, f))), None)


def check_leakage(train: pd.DataFrame, test: pd.DataFrame, max_report: int = 5) -> dict[str, Any]:
    """Check that no training window overlaps a test window in time within one recording.

    ``train`` and ``test`` have columns ``recording``, ``start``, ``end`` (seconds), and ``patient``
    when recording names may repeat across patients. Returns
    ``{"ok": bool, "n_overlaps": int, "examples": [...]}``.
    """
    n_bad = 0
    examples: list[dict[str, Any]] = []
    keys = ["patient", "recording"] if "patient" in train and "patient" in test else ["recording"]
    test_by_rec = {rec: g for rec, g in test.groupby(keys, sort=False)}
    for rec, tr in train.groupby(keys, sort=False):
        te = test_by_rec.get(rec)
        if te is None:
            continue
        ts = np.sort(te["start"].to_numpy(float))
        te_sorted = te.sort_values("start")
        te_end_by_start = te_sorted["end"].to_numpy(float)
        # Running max of test ends lets one searchsorted find any overlapping test window.
        run_max_end = np.maximum.accumulate(te_end_by_start)
        s = tr["start"].to_numpy(float)
        e = tr["end"].to_numpy(float)
        # Test windows starting before the train window ends: the last such one's running max end.
        k = np.searchsorted(ts, e, side="left") - 1
        has = k >= 0
        overlap = np.zeros(len(s), dtype=bool)
        overlap[has] = run_max_end[k[has]] > s[has]
        n = int(overlap.sum())
        if n:
            n_bad += n
            for i in np.flatnonzero(overlap)[: max(0, max_report - len(examples))]:
                examples.append({"recording": "/".join(map(str, rec)), "train_start": float(s[i]), "train_end": float(e[i])})
    return {"ok": n_bad == 0, "n_overlaps": n_bad, "examples": examples}
