"""The Helsinki neonatal EEG dataset as a :class:`~benchmark.index.RecordingIndex`.

Stevenson, Tapani, Lauronen & Vanhatalo (2019), "A dataset of neonatal EEG recordings with seizure
annotations", Scientific Data 6:190039 (https://doi.org/10.1038/sdata.2019.39); data on Zenodo,
https://doi.org/10.5281/zenodo.2547147. Multi-channel EEG of 79 term neonates in the neonatal
intensive care unit of Helsinki University Hospital (median 74 min each), recorded at 256 Hz with
the 19 electrodes of the 10-20 system (labelled like ``EEG Fp1-REF``), each recording reviewed
independently by three experts who marked every second as seizure or not.

Layout, as published::

    data_dir/
        eeg1.edf ... eeg79.edf
        annotations_2017_A.csv  annotations_2017_B.csv  annotations_2017_C.csv
        clinical_information.csv

Each annotation file belongs to one expert (A, B, C). Its header row numbers the neonates
(``1`` ... ``79``); below it, one row per second, ``1`` for seizure and ``0`` for none. Columns are
as long as their recordings and padded at the bottom with empty cells. ``clinical_information.csv``
has one row per neonate (``ID``, ``EEG file``, ``Gender``, ``GA (weeks)``, ``BW (g)``, ``EEG to PMA
(weeks)``, ``Diagnosis``, ``Number of Reviewers Annotating Seizure``, ...); the columns read here are
listed in :data:`CLINICAL_COLUMNS` and any others are ignored.

Labels
    The three experts disagree, so the label is a choice (:data:`CONSENSUS_RULES`): ``"majority"``
    (a second is ictal when at least two of the three experts marked it; the default, the
    reference standard of the paper), ``"all"``, ``"any"``, or one expert alone (``"A"``, ``"B"``,
    ``"C"``). Seizures are maximal runs of ictal seconds; second *k* covers ``[k, k + 1)`` s. The
    rule is written into ``index.notes`` and into every patient's ``info["consensus"]``, so the
    content hash -- the dataset version that split files refer to -- differs between rules.
    Where the experts' columns for one neonate differ in length, the rule is applied to the
    seconds all of its experts annotated (and a note says so).

Patients and recordings
    One patient per neonate (``eeg1`` ...), with one recording (``start = 0``). A neonate without
    a column in every annotation file the rule needs is left out with a patient-scope
    :class:`~benchmark.index.Exclusion`.

Duration
    From the EDF header when the file is present and ``check_edf`` is true, else the length of
    the annotation. When the two differ by more than 2 s the recording keeps the span that is
    both recorded and annotated (the shorter of the two), seizures are cut to it, and a note names
    the neonate and both lengths; a seizure wholly outside that span becomes a seizure-scope
    exclusion. An error would make the whole corpus unusable for one inconsistent file, and
    silently labelling unannotated EEG as seizure-free would be wrong.

Channels
    The benchmark uses the 19 electrodes :data:`HELSINKI_CHANNELS` (matched to ``EEG Fp1-REF`` and
    the like by :func:`benchmark.edf.match_channels`). A recording whose EDF lacks any of them stays
    in the index with a recording-scope exclusion. Without an EDF header the channel list and
    sampling rate are unknown (empty, ``None``).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.datasets._common import text_stream
from benchmark.datasets.base import TEN_TWENTY_CHANNELS, DatasetLoader, check_edf_header
from benchmark.datasets.chbmit import natural_key
from benchmark.edf import EdfHeader
from benchmark.errors import DataError, UnknownNameError, did_you_mean
from benchmark.index import Exclusion, Patient, Recording, RecordingIndex, Seizure

__all__ = [
    "ANNOTATORS",
    "CLINICAL_COLUMNS",
    "CONSENSUS_RULES",
    "HELSINKI_CHANNELS",
    "TEN_TWENTY_CHANNELS",
    "annotation_file",
    "consensus_labels",
    "load_helsinki",
    "seizure_runs",
]


#: Channels the benchmark reads from the Helsinki files (stored there as ``EEG Fp1-REF`` etc.).
HELSINKI_CHANNELS: tuple[str, ...] = TEN_TWENTY_CHANNELS

#: The experts, each with one annotation file ``annotations_2017_<letter>.csv``.
ANNOTATORS: tuple[str, ...] = ("A", "B", "C")

#: Consensus rules: name -> (experts it needs, minimum number of them marking a second as seizure).
CONSENSUS_RULES: dict[str, tuple[tuple[str, ...], int]] = {
    "majority": (ANNOTATORS, 2),
    "all": (ANNOTATORS, 3),
    "any": (ANNOTATORS, 1),
    "A": (("A",), 1),
    "B": (("B",), 1),
    "C": (("C",), 1),
}

_RULE_TEXT = {
    "majority": "at least 2 of the 3 experts (A, B, C)",
    "all": "all 3 experts (A, B, C)",
    "any": "at least 1 of the 3 experts (A, B, C)",
}

#: ``clinical_information.csv`` column (compared case-insensitively) -> key in ``Patient.info``.
CLINICAL_COLUMNS: dict[str, str] = {
    "gender": "sex",
    "ga (weeks)": "gestational_age_weeks",
    "bw (g)": "birth_weight_g",
    "eeg to pma (weeks)": "pma_weeks",
    "diagnosis": "diagnosis",
    "number of reviewers annotating seizure": "reviewers_annotating_seizure",
}

_DURATION_TOLERANCE_S = 2.0
_EDF_NAME = re.compile(r"eeg(\d+)\.edf", re.IGNORECASE)
_HOW_TO_GET = (
    "download the Helsinki neonatal EEG dataset from https://doi.org/10.5281/zenodo.2547147 "
    "(eeg1.edf ... eeg79.edf, annotations_2017_A.csv, annotations_2017_B.csv, "
    "annotations_2017_C.csv, clinical_information.csv) into one folder"
)


def annotation_file(annotator: str) -> str:
    """File name of one expert's annotations, e.g. ``annotations_2017_A.csv``."""
    return f"annotations_2017_{annotator}.csv"


def consensus_labels(columns: dict[str, np.ndarray], consensus: str = "majority") -> np.ndarray:
    """Combine the experts' per-second labels into one label per second.

    Parameters
    ----------
    columns
        Expert letter -> 0/1 array, one value per second. Must hold every expert the rule needs;
        arrays of different lengths are cut to the shortest.
    consensus
        A key of :data:`CONSENSUS_RULES`.

    Returns
    -------
    numpy.ndarray
        bool, True for seconds labelled seizure under the rule.
    """
    experts, needed = _rule(consensus)
    n = min(len(columns[e]) for e in experts)
    votes = np.sum([np.asarray(columns[e][:n], dtype=np.int64) for e in experts], axis=0)
    return np.asarray(votes >= needed, dtype=bool).reshape(n)


def seizure_runs(labels: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs of True in a per-second label vector, as ``(first second, end second)``.

    ``[1, 1, 0, 1]`` gives ``[(0, 2), (3, 4)]``: the end is exclusive, so a run is the time span
    ``[first, end)`` in seconds.
    """
    x = np.concatenate(([0], np.asarray(labels, dtype=np.int8), [0]))
    edges = np.flatnonzero(np.diff(x))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


def _rule(consensus: str) -> tuple[tuple[str, ...], int]:
    try:
        return CONSENSUS_RULES[consensus]
    except (KeyError, TypeError):
        raise UnknownNameError(
            f"unknown consensus {consensus!r} for the Helsinki annotations; choose one of "
            f"{', '.join(CONSENSUS_RULES)}.{did_you_mean(str(consensus), CONSENSUS_RULES)}"
        ) from None


def _read_text_csv(path: Path):
    """A CSV as a pandas frame of strings (empty cells as ""); a one-line error if unreadable."""
    import pandas as pd  # slow import; only when a dataset is loaded

    try:
        return pd.read_csv(text_stream(path), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise DataError(f"{path} is not a readable CSV file ({type(err).__name__}); re-download it") from None


def _read_annotations(path: Path) -> dict[int, np.ndarray]:
    """One expert's file -> {neonate number: 0/1 per second}, bottom padding removed."""
    import pandas as pd

    df = _read_text_csv(path)
    out: dict[int, np.ndarray] = {}
    for col in df.columns:
        name = str(col).strip()
        if not name.isdigit():
            if name.startswith("Unnamed:") and not df[col].str.strip().any():
                continue  # an empty trailing column from a final comma
            raise DataError(
                f"{path}: column header {name!r} is not a neonate number; the header row must "
                "number the neonates 1, 2, ... as in the published files"
            )
        number = int(name)
        if number in out:
            raise DataError(f"{path}: neonate {number} has two columns; keep one")
        cells = df[col].str.strip().to_numpy()
        filled = np.flatnonzero(cells != "")
        if not filled.size:
            continue  # a header without a single annotated second: no annotation for this neonate
        n = int(filled[-1]) + 1
        if filled.size != n:
            row = int(np.flatnonzero(cells[:n] == "")[0]) + 2  # +1 header, +1 one-based lines
            raise DataError(
                f"{path}: neonate {number} has an empty cell on line {row} before the end of its "
                "column; every second must be 0 or 1 (only the bottom may be padded)"
            )
        values = pd.to_numeric(pd.Series(cells[:n]), errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isin(values, (0.0, 1.0)))
        if bad.size:
            row = int(bad[0]) + 2
            raise DataError(
                f"{path}: neonate {number}, line {row} holds {cells[bad[0]]!r}; annotations must "
                "be 0 (no seizure) or 1 (seizure)"
            )
        out[number] = values.astype(np.int8)
    return out


def _header_numbers(path: Path) -> set[int]:
    """Neonate numbers in the header row of an annotation file the rule does not read."""
    with text_stream(path) as fh:
        header = next(csv.reader(fh), [])
    return {int(h) for h in (c.strip() for c in header) if h.isdigit()}


def _clinical_value(text: str) -> Any:
    """Numbers as numbers, everything else as the text given (e.g. an interval like '37-38')."""
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() else value


def _read_clinical(path: Path, notes: list[str]) -> dict[str, dict[str, Any]]:
    """``clinical_information.csv`` -> {"eegN": info}; tolerant of unknown columns."""
    if not path.is_file():
        notes.append(f"no {path.name}: patient info (sex, gestational age, ...) left empty")
        return {}
    df = _read_text_csv(path)
    columns = {str(c).strip().lower(): c for c in df.columns}
    if "id" not in columns and "eeg file" not in columns:
        raise DataError(
            f"{path} has neither an 'ID' nor an 'EEG file' column, so its rows cannot be matched "
            f"to recordings (found: {', '.join(map(str, df.columns))}); restore the published file"
        )
    info: dict[str, dict[str, Any]] = {}
    for _, row in df.iterrows():
        cell = {k: str(row[c]).strip() for k, c in columns.items()}
        pid = cell.get("eeg file", "")
        if not pid and cell.get("id", "").isdigit():
            pid = f"eeg{int(cell['id'])}"
        if not pid:
            continue
        pid = pid.lower().removesuffix(".edf")
        entry: dict[str, Any] = {}
        if cell.get("id", "").isdigit():
            entry["id"] = int(cell["id"])
        for column, key in CLINICAL_COLUMNS.items():
            text = cell.get(column, "")
            if text and text.lower() not in ("n/a", "na", "nan"):
                entry[key] = text.upper() if key == "sex" else _clinical_value(text)
        info[pid] = entry
    return info


def _header_checked(pid: str, path: Path, exclusions: list[Exclusion]) -> tuple[EdfHeader, float]:
    """Header and sampling rate of the benchmark channels; a recording lacking some gets an exclusion."""
    check = check_edf_header(path, source="the annotations", wanted=HELSINKI_CHANNELS, one_rate=True)
    if check.missing:
        exclusions.append(
            Exclusion(
                scope="recording",
                patient=pid,
                recording=pid,
                reason=(
                    f"{pid}.edf lacks channel(s) {', '.join(check.missing)}; the benchmark uses the 19 10-20 electrodes"
                ),
            )
        )
    return check.header, check.sfreq


def _seizures(pid: str, labels: np.ndarray, duration: float, exclusions: list[Exclusion]) -> list[Seizure]:
    """Runs of ictal seconds; a run starting past the recording's end is excluded."""
    seizures = []
    for first, end in seizure_runs(labels):
        if first >= duration:
            exclusions.append(
                Exclusion(
                    scope="seizure",
                    patient=pid,
                    recording=pid,
                    reason=(f"seizure at {first}-{end} s is annotated beyond the end of {pid}.edf ({duration:g} s)"),
                )
            )
            continue
        seizures.append(Seizure(float(first), float(min(end, duration))))
    return seizures


class HelsinkiLoader(DatasetLoader):
    """The Helsinki neonatal EEG dataset (see :func:`load_helsinki`)."""

    default_name = "helsinki"
    what = "Helsinki data"
    layout = "the Helsinki"
    channels = HELSINKI_CHANNELS
    noun = "neonates"
    how_to_get = _HOW_TO_GET

    def __init__(self, data_dir, *, consensus: str = "majority", **options):
        self.experts, _ = _rule(consensus)
        super().__init__(data_dir, **options)
        self.consensus = consensus
        self.length_notes: list[str] = []

    def find_recordings(self) -> dict[str, dict[int, np.ndarray]]:
        """The annotations of the experts the rule needs (the EDF files are found later)."""
        data_dir, experts, consensus = self.root, self.experts, self.consensus
        missing_files = [annotation_file(e) for e in experts if not (data_dir / annotation_file(e)).is_file()]
        if missing_files:
            raise DataError(
                f"{', '.join(missing_files)} not found in {data_dir} (consensus {consensus!r} needs "
                f"expert(s) {', '.join(experts)}); {_HOW_TO_GET}, or choose a consensus of the experts "
                "you have"
            )
        annotations = {e: _read_annotations(data_dir / annotation_file(e)) for e in experts}
        rule_text = _RULE_TEXT.get(consensus, f"expert {consensus} alone")
        self.notes.append(
            f"seizure labels: consensus {consensus!r}, a second is ictal when marked by {rule_text}; "
            "seizures are maximal runs of ictal seconds (second k covers [k, k+1) s)",
        )
        return annotations

    def patient_facts(self) -> dict[str, dict[str, Any]]:
        return _read_clinical(self.root / "clinical_information.csv", self.notes)

    def _edf_files(self) -> dict[str, Path]:
        edf_files = {}
        for path in sorted(self.root.glob("*.[eE][dD][fF]")):
            m = _EDF_NAME.fullmatch(path.name)
            if m:
                edf_files[f"eeg{int(m.group(1))}"] = path
        others = sorted(p.name for p in self.root.glob("*.[eE][dD][fF]") if not _EDF_NAME.fullmatch(p.name))
        if others:
            self.notes.append(f"EDF files not named eeg<N>.edf ignored: {', '.join(others)}")
        return edf_files

    def _columns(self, annotations, clinical, edf_files) -> dict[str, int | None]:
        """Annotation column of every neonate; a clinical row's ID overrides eegN -> column N."""
        number_of = {pid: e["id"] for pid, e in clinical.items() if "id" in e}
        numbers = set().union(*(set(cols) for cols in annotations.values()))
        # Neonates annotated only by experts the rule does not use are excluded, not silently absent.
        for e in ANNOTATORS:
            if e not in self.experts and (self.root / annotation_file(e)).is_file():
                numbers |= _header_numbers(self.root / annotation_file(e))
        pid_of = {n: pid for pid, n in number_of.items()}
        pids = set(edf_files) | set(clinical) | {pid_of.get(n, f"eeg{n}") for n in numbers}
        return {pid: number_of.get(pid, int(pid[3:]) if pid[3:].isdigit() else None) for pid in pids}

    def build_patients(self, annotations, clinical) -> list[Patient]:
        edf_files = self._edf_files()
        column_of = self._columns(annotations, clinical, edf_files)
        patients = []
        for pid in sorted(column_of, key=natural_key):
            patient = self._patient(pid, column_of[pid], annotations, clinical, edf_files)
            if patient is not None:
                patients.append(patient)
        if not patients:
            raise DataError(
                f"no neonate in {self.root} has annotations from expert(s) {', '.join(self.experts)}; {_HOW_TO_GET}"
            )
        return patients

    def _labels(self, pid: str, number, annotations) -> dict[str, np.ndarray] | None:
        """The experts' columns of one neonate, or ``None`` (excluded) when one is missing."""
        lacking = [e for e in self.experts if number not in annotations[e]]
        if lacking:
            self.exclude(
                "patient",
                pid,
                (
                    f"no annotations for {pid} in "
                    f"{', '.join(annotation_file(e) for e in lacking)}; consensus "
                    f"{self.consensus!r} needs expert(s) {', '.join(self.experts)}"
                ),
            )
            return None
        columns = {e: annotations[e][number] for e in self.experts}
        lengths = {e: len(c) for e, c in columns.items()}
        if len(set(lengths.values())) > 1:
            self.length_notes.append(
                f"{pid}: experts' columns differ in length ("
                + ", ".join(f"{e} {n} s" for e, n in lengths.items())
                + f"), consensus over the first {min(lengths.values())} s"
            )
        return columns

    def _edf_fields(self, pid: str, edf: Path | None, annotated: float):
        """Duration, sampling rate and channels, from the EDF header when it is read."""
        if not self.check_edf:
            return annotated, None, ()
        if edf is None:
            self.absent += 1
            return annotated, None, ()
        self.checked += 1
        header, sfreq = _header_checked(pid, edf, self.exclusions)
        duration = header.duration
        if abs(header.duration - annotated) > _DURATION_TOLERANCE_S:
            duration = min(header.duration, annotated)
            self.notes.append(
                f"{pid}: EDF holds {header.duration:g} s but the annotations cover "
                f"{annotated:g} s; kept the {duration:g} s that are both recorded and annotated"
            )
        return duration, sfreq, header.channels

    def _patient(self, pid, number, annotations, clinical, edf_files) -> Patient | None:
        columns = self._labels(pid, number, annotations)
        if columns is None:
            return None
        labels = consensus_labels(columns, self.consensus)
        duration, sfreq, channels = self._edf_fields(pid, edf_files.get(pid), float(len(labels)))
        seizures = _seizures(pid, labels, duration, self.exclusions)
        info = dict(clinical.get(pid, {}))
        info["consensus"] = self.consensus
        reviewers = info.get("reviewers_annotating_seizure")
        if self.consensus in ("majority", "all", "any") and isinstance(reviewers, int):
            marked = sum(bool(np.any(c)) for c in columns.values())
            if marked != reviewers:
                self.notes.append(
                    f"{pid}: clinical_information.csv says {reviewers} expert(s) annotated a "
                    f"seizure, the annotation files show {marked}"
                )
        recording = Recording(
            recording_id=pid,
            file=edf_files[pid].name if pid in edf_files else f"{pid}.edf",
            start=0.0,
            duration=duration,
            sfreq=sfreq,
            channels=tuple(channels),
            seizures=tuple(seizures),
        )
        return Patient(patient_id=pid, recordings=(recording,), subject_id=pid, info=info)

    def finish_notes(self, patients: list[Patient], clinical: dict) -> None:
        self.notes.extend(self.length_notes)
        if self.check_edf:
            self.notes.append(
                f"EDF headers checked: {self.checked} present, {self.absent} absent (duration from the "
                "annotations, channels and sampling rate unknown)"
            )
        else:
            self.notes.append("EDF headers not read: durations from the annotations, channels unknown")
        if clinical:
            self.note_unlisted(
                patients, clinical, "clinical_information.csv row", empty=lambda p: set(p.info) == {"consensus"}
            )

    def finish(self, patients, **options) -> RecordingIndex:
        return super().finish(patients, detail=f" (consensus {self.consensus})", **options)


def load_helsinki(
    data_dir,
    *,
    consensus: str = "majority",
    check_edf: bool = True,
    dataset_name: str = "helsinki",
    synthetic: bool = False,
) -> RecordingIndex:
    """Build the recording index of the Helsinki neonatal EEG dataset (Stevenson et al., 2019).

    Parameters
    ----------
    data_dir
        Folder holding ``annotations_2017_{A,B,C}.csv`` and, optionally, ``eeg1.edf`` ...
        ``eeg79.edf`` and ``clinical_information.csv``.
    consensus
        How the three experts' per-second labels are combined (:data:`CONSENSUS_RULES`):
        ``"majority"`` (>= 2 of 3), ``"all"``, ``"any"``, or one expert ``"A"``, ``"B"``, ``"C"``.
        Part of the content hash.
    check_edf
        Read the headers of the EDF files that are present: duration, sampling rate and channel
        labels come from them. Absent files are not an error; ``index.notes`` counts them.
    dataset_name
        Name stored in the index (part of its content hash).
    synthetic
        Mark the index as synthetic data; a folder holding ``SYNTHETIC.json`` is marked synthetic
        whatever this says.

    Returns
    -------
    RecordingIndex
        Patients ``eeg1`` ... in natural order, one recording each, ``channels`` =
        :data:`HELSINKI_CHANNELS`.

    Raises
    ------
    UnknownNameError
        ``consensus`` is not a known rule.
    DataError
        The folder or an annotation file the rule needs is missing or malformed, or an EDF file
        is unreadable.
    """
    return HelsinkiLoader(
        data_dir, consensus=consensus, dataset_name=dataset_name, synthetic=synthetic, check_edf=check_edf
    ).load()
