"""Datasets the benchmark knows by name, and summaries of a loaded index.

Each dataset is a loader that turns a folder into a :class:`~benchmark.index.RecordingIndex`:

* ``chbmit``: the CHB-MIT Scalp EEG Database in its PhysioNet layout (:mod:`.chbmit`);
* ``chbmit-synthetic``: a small generated folder in the same layout, for tests and demos; every
  result on it is labelled synthetic (:mod:`.synthetic.chbmit`);
* ``edf-folder``: a private dataset as EDF files plus CSV manifest and seizure list (:mod:`.edf_folder`);
* ``tusz``: the TUH EEG Seizure Corpus v2 with typed seizures (:mod:`.tusz`);
* ``tusz-synthetic``: generated multi-class (seizure-type) EEG in the TUSZ layout (:mod:`.synthetic.tusz`);
* ``siena``: the Siena Scalp EEG Database (:mod:`.siena`);
* ``helsinki``: the neonatal EEG of Helsinki University Hospital with three annotators (:mod:`.helsinki`);
* ``bids``: any BIDS-EEG epilepsy dataset with SzCORE-style ``events.tsv`` (:mod:`.bids_eeg`);
* ``video-folder``: seizure videos with a CSV manifest of patients and labels (:mod:`.video_folder`);
* ``video-synthetic``: generated clinical-looking seizure videos in that layout (:mod:`.synthetic.video`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from benchmark.datasets.bids_eeg import load_bids
from benchmark.datasets.chbmit import CHBMIT_CHANNELS, load_chbmit
from benchmark.datasets.edf_folder import load_edf_folder
from benchmark.datasets.helsinki import load_helsinki
from benchmark.datasets.siena import load_siena
from benchmark.datasets.tusz import load_tusz
from benchmark.errors import DataError, UnknownNameError, did_you_mean
from benchmark.index import RecordingIndex
from benchmark.seizures import lead_seizures

__all__ = [
    "CHBMIT_CHANNELS",
    "DATASETS",
    "DatasetSpec",
    "describe",
    "excluded_recordings",
    "lead_seizures",
    "load_chbmit",
    "load_dataset",
    "load_edf_folder",
    "load_bids",
    "load_helsinki",
    "load_siena",
    "load_tusz",
]


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset the benchmark can load by name.

    Attributes
    ----------
    name
        Name used on the command line (``--dataset``).
    description
        One line for listings.
    loader
        ``loader(data_dir, **options) -> RecordingIndex``.
    needs_data_dir
        Whether a data directory must be given.
    synthetic
        Whether the data are generated rather than recorded.
    stands_in_for
        For a synthetic dataset, the real dataset(s) whose layout and task it imitates; results
        reported in papers on them are shown beside it as a labelled, untested reference.
    index_from_text
        Whether the index (and its content hash) comes from text files alone, so that the loader's
        EDF header check (``check_edf=False``) can be skipped without changing the dataset version
        (``plan`` reads no EDF file of such a dataset).
    """

    name: str
    description: str
    loader: Callable[..., RecordingIndex]
    needs_data_dir: bool
    synthetic: bool
    stands_in_for: str | tuple[str, ...] | None = None
    index_from_text: bool = False


def _load_chbmit_synthetic(data_dir=None, *, config=None, progress=False, **options) -> RecordingIndex:
    # Imported here: generating data pulls in code that loading real data never needs.
    from benchmark.datasets.synthetic import ensure_synthetic

    path = ensure_synthetic(data_dir, config, progress=progress)
    return load_chbmit(path, dataset_name="chbmit-synthetic", synthetic=True, **options)


def _load_tusz_synthetic(data_dir=None, *, config=None, progress=False, **options) -> RecordingIndex:
    from benchmark.datasets.synthetic.tusz import load_tusz_synthetic

    return load_tusz_synthetic(data_dir, config=config, progress=progress, **options)


def _load_video_folder(data_dir, **options) -> RecordingIndex:
    # Imported here: video decoding (PyAV) is not needed by EEG runs.
    from benchmark.datasets.video_folder import load_video_folder

    return load_video_folder(data_dir, **options)


def _load_video_synthetic(data_dir=None, *, config=None, progress=False) -> RecordingIndex:
    from benchmark.datasets.synthetic.video import load_video_synthetic

    return load_video_synthetic(data_dir, config=config, progress=progress)


DATASETS: Mapping[str, DatasetSpec] = MappingProxyType(
    {
        "chbmit": DatasetSpec(
            "chbmit",
            "CHB-MIT Scalp EEG Database v1.0.0 (PhysioNet): 24 cases, 686 files, 198 seizures",
            load_chbmit,
            needs_data_dir=True,
            synthetic=False,
            index_from_text=True,
        ),
        "chbmit-synthetic": DatasetSpec(
            "chbmit-synthetic",
            "SYNTHETIC data in CHB-MIT layout, generated on first use (tests and demos only)",
            _load_chbmit_synthetic,
            needs_data_dir=False,
            synthetic=True,
            stands_in_for="chbmit",
            index_from_text=True,
        ),
        "edf-folder": DatasetSpec(
            "edf-folder",
            "a folder of EDF files with manifest.csv, seizures.csv and edf-folder.json",
            load_edf_folder,
            needs_data_dir=True,
            synthetic=False,
        ),
        "tusz": DatasetSpec(
            "tusz",
            "TUH EEG Seizure Corpus v2 (edf/<split>/<subject>/<session>/<montage>/*.edf + .csv/.csv_bi), "
            "typed seizures",
            load_tusz,
            needs_data_dir=True,
            synthetic=False,
        ),
        "tusz-synthetic": DatasetSpec(
            "tusz-synthetic",
            "SYNTHETIC seizure-type EEG in TUSZ layout (7 types + background), generated on first use",
            _load_tusz_synthetic,
            needs_data_dir=False,
            synthetic=True,
            stands_in_for="tusz",
        ),
        "siena": DatasetSpec(
            "siena",
            "Siena Scalp EEG Database (PhysioNet): PNxx/PNxx-N.edf, Seizures-list-PNxx.txt, subject_info.csv",
            load_siena,
            needs_data_dir=True,
            synthetic=False,
        ),
        "helsinki": DatasetSpec(
            "helsinki",
            "neonatal EEG, Helsinki University Hospital (Zenodo): eegN.edf + three annotators' per-second CSVs",
            load_helsinki,
            needs_data_dir=True,
            synthetic=False,
        ),
        "bids": DatasetSpec(
            "bids",
            "a BIDS-EEG epilepsy dataset with SzCORE-style events.tsv (read through mne-bids)",
            load_bids,
            needs_data_dir=True,
            synthetic=False,
        ),
        "video-folder": DatasetSpec(
            "video-folder",
            "seizure videos (.mp4/.avi/.mkv/...) with manifest.csv (video_id, patient_id, file, label[, focus]), "
            "optional contextual.csv and boxes.csv",
            _load_video_folder,
            needs_data_dir=True,
            synthetic=False,
        ),
        "video-synthetic": DatasetSpec(
            "video-synthetic",
            "SYNTHETIC seizure-semiology videos (ES/PNES, TLE/exTLE) in video-folder layout, generated on first use",
            _load_video_synthetic,
            needs_data_dir=False,
            synthetic=True,
            # The private corpora of Hou et al. (ES vs PNES) and Li et al. (TLE vs exTLE).
            stands_in_for=("marseille-emu-video-private", "taipei-vgh-video-private"),
        ),
    }
)


def load_dataset(name: str, data_dir=None, *, progress: bool = False, **options: Any) -> RecordingIndex:
    """Load a dataset by name.

    Parameters
    ----------
    name
        A key of :data:`DATASETS`.
    data_dir
        The dataset folder; optional for ``chbmit-synthetic`` (a default cache folder is used).
    progress
        Show a progress bar while a synthetic dataset is generated (real data is only read).
    **options
        Passed to the loader (e.g. ``check_edf=False``).

    Raises
    ------
    UnknownNameError
        ``name`` is not a known dataset.
    DataError
        The dataset needs a folder and none was given, or loading failed.
    """
    spec = DATASETS.get(name)
    if spec is None:
        raise UnknownNameError(f"unknown dataset '{name}'; known: {', '.join(DATASETS)}.{did_you_mean(name, DATASETS)}")
    if data_dir is None and spec.needs_data_dir:
        raise DataError(
            f"dataset '{name}' needs its data folder: pass --data-dir PATH (or try --dataset chbmit-synthetic)"
        )
    if spec.synthetic:
        options["progress"] = progress
    return spec.loader(data_dir, **options)


def excluded_recordings(index: RecordingIndex, *, needs_timeline: bool = False) -> set[tuple[str, str]]:
    """``(patient_id, recording_id)`` of recordings that tasks must skip.

    Parameters
    ----------
    index
        The recording index.
    needs_timeline
        Also skip recordings without a known start and duration (e.g. all of chb24), for tasks
        that place windows on the patient timeline (prediction, lead seizures).

    Returns
    -------
    set of tuple
        Recordings named by recording-scope exclusions, plus (``needs_timeline``) those off the
        timeline. A patient-scope exclusion (chb24: no clock times) excludes nothing by itself;
        it explains why that patient's recordings are off the timeline.
    """
    out = {(e.patient, e.recording) for e in index.exclusions if e.scope == "recording"}
    if needs_timeline:
        out |= {(p.patient_id, r.recording_id) for p, r in index.iter_recordings() if not r.on_timeline}
    return out


def _describe_patient(p, excluded: set, sops: tuple[float, ...], sph_minutes: float) -> dict[str, Any]:
    """One patient's row of :func:`describe`."""
    on_timeline = any(r.on_timeline for r in p.recordings)
    return {
        "patient_id": p.patient_id,
        "subject_id": p.group,
        "recordings": len(p.recordings),
        "recordings_excluded": sum((p.patient_id, r.recording_id) in excluded for r in p.recordings),
        "recordings_off_timeline": sum(not r.on_timeline for r in p.recordings),
        "hours": p.hours,
        "seizures": p.n_seizures,
        "lead_seizures": {
            sop: (len(lead_seizures(p, sop * 60.0, sph_minutes * 60.0)) if on_timeline else None) for sop in sops
        },
    }


def describe(
    index: RecordingIndex,
    sop_minutes: Iterable[float] = (10, 15, 30),
    sph_minutes: float = 0,
) -> dict[str, Any]:
    """Summarise an index: per patient and in total, plus every exclusion.

    Parameters
    ----------
    index
        The recording index.
    sop_minutes
        Seizure occurrence periods for which lead seizures are counted.
    sph_minutes
        Seizure prediction horizon added to each SOP.

    Returns
    -------
    dict
        ``dataset``, ``synthetic``, ``content_hash``, ``channels``, ``sop_minutes``,
        ``sph_minutes``, ``notes``, ``conflicts`` (disagreements between the dataset's annotation
        sources and the choice made), ``patients`` (``patient_id``, ``subject_id``, ``recordings``,
        ``recordings_excluded``, ``recordings_off_timeline``, ``hours`` (of recordings with a
        known duration), ``seizures``, ``lead_seizures`` {SOP minutes: count, or ``None`` when
        the patient has no timeline}), ``totals`` and ``exclusions`` (scope, patient,
        recording, reason). Lead seizures are counted on the whole timeline, seizures in
        excluded recordings included (they still precede later ones); which lead seizures a
        task can use is the task's decision.
    """
    sops = tuple(sop_minutes)
    excluded = excluded_recordings(index)
    patients = [_describe_patient(p, excluded, sops, sph_minutes) for p in index.patients]
    totals = {
        "patients": len(patients),
        "subjects": len({p["subject_id"] for p in patients}),
        "recordings": index.n_recordings,
        "recordings_excluded": len(excluded),
        "recordings_off_timeline": sum(p["recordings_off_timeline"] for p in patients),
        "hours": index.hours,
        "seizures": index.n_seizures,
        "lead_seizures": {sop: sum(p["lead_seizures"][sop] or 0 for p in patients) for sop in sops},
    }
    return {
        "dataset": index.dataset,
        "synthetic": index.synthetic,
        "content_hash": index.content_hash(),
        "channels": list(index.channels),
        "sop_minutes": list(sops),
        "sph_minutes": sph_minutes,
        "notes": list(index.notes),
        "conflicts": list(index.conflicts),
        "patients": patients,
        "totals": totals,
        "exclusions": [
            {"scope": e.scope, "patient": e.patient, "recording": e.recording, "reason": e.reason}
            for e in index.exclusions
        ],
    }


def describe_videos(index: RecordingIndex) -> dict[str, Any]:
    """Summarise a video index: per patient its labelled and contextual videos, minutes, and the
    count of each value of each label column; totals and exclusions.

    Returns
    -------
    dict
        ``dataset``, ``synthetic``, ``modality``, ``content_hash``, ``label_columns``,
        ``patients`` (``patient_id``, ``subject_id``, ``videos``, ``contextual``, ``minutes``,
        ``labels`` {column: {value: count}}), ``totals`` and ``exclusions``.
    """
    patients, columns = [], set()
    for p in index.patients:
        counts: dict[str, dict[str, int]] = {}
        for labels in p.video_labels.values():
            for column, value in labels.items():
                columns.add(column)
                counts.setdefault(column, {}).setdefault(value, 0)
                counts[column][value] += 1
        context = p.contextual
        seconds = sum(r.duration or 0.0 for r in p.recordings) + sum(c.duration for c in context)
        patients.append(
            {
                "patient_id": p.patient_id,
                "subject_id": p.group,
                "videos": len(p.recordings),
                "contextual": len(context),
                "minutes": seconds / 60.0,
                "labels": counts,
            }
        )
    totals = {
        "patients": len(patients),
        "subjects": len({p["subject_id"] for p in patients}),
        "videos": sum(p["videos"] for p in patients),
        "contextual": sum(p["contextual"] for p in patients),
        "minutes": sum(p["minutes"] for p in patients),
        "labels": {
            c: {
                v: sum(p["labels"].get(c, {}).get(v, 0) for p in patients)
                for v in sorted({v for p in patients for v in p["labels"].get(c, {})})
            }
            for c in sorted(columns)
        },
    }
    return {
        "dataset": index.dataset,
        "synthetic": index.synthetic,
        "modality": index.modality,
        "content_hash": index.content_hash(),
        "label_columns": sorted(columns),
        "patients": patients,
        "totals": totals,
        "exclusions": [vars(e) for e in index.exclusions],
        "notes": list(index.notes),
        "conflicts": list(index.conflicts),
    }
