"""Frozen split files (a protocol applied to a task's units) and the leakage guard.

The protocols themselves (how units are split, whether that is valid, whether it leaks) are
objects in :mod:`benchmark.protocols`; this module freezes their folds into files and guards them.

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
from typing import Any

import numpy as np
import pandas as pd

from benchmark.errors import BenchmarkError, SplitError
from benchmark.index import Exclusion
from benchmark.protocols import (  # noqa: F401 (re-exported)
    BALANCED_CHUNK_S,
    RANDOM_CHUNK_S,
    Fold,
    LeaveOneSubjectOut,
    PatientLeaveOneUnitOut,
    RandomChunkKFold,
    SubjectStratifiedKFold,
    all_protocols,
    get_protocol,
)
from benchmark.tasks import Segment, TaskLabels, Unit, get_task, make_labels, make_params

log = logging.getLogger(__name__)

FORMAT_VERSION = 1


def get_splitter(protocol: str, seed: int = 0):
    """The cross-validator of ``protocol`` (:meth:`benchmark.protocols.Protocol.splitter`)."""
    return get_protocol(protocol).splitter(seed)


# -- split specs ------------------------------------------------------------------------------
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
            "protocol_description": get_protocol(self.protocol).description,
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
    def from_dict(cls, d: dict[str, Any]) -> SplitSpec:
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
        return get_task(self.task).class_names(self.classes)

    def splitter(self):
        return get_splitter(self.protocol, self.seed)


def _sha(content: dict[str, Any]) -> str:
    blob = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def make_split(
    labels: TaskLabels, protocol: str, *, dataset: str, index_hash: str, seed: int = 0, synthetic: bool = False
) -> SplitSpec:
    """Apply ``protocol`` to the task's units and return the split, with its exclusions."""
    proto = get_protocol(protocol)
    proto.check(labels.task)
    units = list(labels.units)
    folds = proto.folds(units, seed)
    used = {uid for f in folds for uid in f.train + f.test}
    spec = SplitSpec(
        dataset=dataset,
        index_hash=index_hash,
        task=labels.task,
        task_params=vars(labels.params).copy(),
        protocol=protocol,
        seed=seed,
        units={u.unit_id: u for u in units if u.unit_id in used},
        folds=folds,
        leaky=proto.leaky,
        exclusions=list(labels.exclusions) + proto.exclusions(units),
        synthetic=synthetic,
        random_chunk_s=proto.chunk_s(labels.task),
        classes=get_task(labels.task).stored_classes(labels.classes),
    )
    leak = split_leak(spec)
    if leak:  # the protocol's own folds leak: no file is written, no run starts
        raise SplitError(f"protocol {protocol} gives folds that leak ({leak}); fix its splitter or fold_name.")
    return spec


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
    return make_split(
        labels,
        spec.protocol,
        dataset=spec.dataset,
        index_hash=index.content_hash(),
        seed=params.seed,
        synthetic=index.synthetic,
    )


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
    for key in (
        "format",
        "dataset",
        "index_hash",
        "synthetic",
        "task",
        "task_params",
        "protocol",
        "seed",
        "leaky",
        "random_chunk_s",
        "classes",
    ):
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
                return (
                    f"fold {fid}: unit {extra[0]} is in {side}, where the split derived from the data does not put it"
                )
            lost = [u for u in fa[fid][side] if u not in given_side]
            if lost:
                return (
                    f"fold {fid}: unit {lost[0]} is missing from {side}, where the split derived from the data puts it"
                )
        if fa[fid] != fb[fid]:
            return f"fold {fid} differs from the one derived from the data"
    if list(fa) != list(fb):
        return "folds are in another order than those derived from the data"
    if a["exclusions"] != b["exclusions"]:
        return "exclusions differ from those derived from the data"
    return "content differs from the split derived from the data"


def verify_split(
    spec: SplitSpec, index, path: Path | str = "", *, committed: bool = True, labels: TaskLabels | None = None
) -> None:
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
def leakage_checks(protocol: str) -> list[str]:
    """What the leakage guard checks in every fold of ``protocol`` (stored with each run)."""
    return get_protocol(protocol).leakage_checks()


def fold_leak(spec: SplitSpec, fold: Fold) -> str | None:
    """The first unit, or for cross-patient protocols recording, patient or subject (person: CHB-MIT's
    chb01 and chb21 are one), found on both sides of ``fold``; ``None`` when there is none.

    Overlapping windows are checked on the fold's windows by :func:`check_leakage`.
    """
    unknown = next((u for u in fold.train + fold.test if u not in spec.units), None)
    if unknown is not None:
        return f"fold {fold.fold_id}: unit {unknown} is not among the split's units"
    proto = get_protocol(spec.protocol)
    if proto.window_level:
        return None
    if fold.chunk_fold is not None:
        window_level = [p.name for p in all_protocols() if p.window_level]
        return f"fold {fold.fold_id}: window-level (chunk) folds belong to {' and '.join(window_level)} only"
    train, test = set(fold.train), set(fold.test)
    both = sorted(train & test)
    if both:
        return f"fold {fold.fold_id}: unit {both[0]} in train and test"
    if proto.cross_patient:
        keys = (
            ("recording", lambda u: {f"{u.patient}/{s.recording}" for s in u.segments}),
            ("patient", lambda u: {u.patient}),
            ("subject", lambda u: {u.group}),
        )
        for what, of in keys:
            shared = sorted(
                set().union(*(of(spec.units[u]) for u in train)) & set().union(*(of(spec.units[u]) for u in test))
            )
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
                examples.append(
                    {"recording": "/".join(map(str, rec)), "train_start": float(s[i]), "train_end": float(e[i])}
                )
    return {"ok": n_bad == 0, "n_overlaps": n_bad, "examples": examples}
