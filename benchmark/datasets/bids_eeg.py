"""A BIDS-EEG epilepsy dataset with SzCORE seizure annotations, as a recording index.

BIDS-EEG (Pernet et al., 2019, "EEG-BIDS, an extension to the brain imaging data structure for
electroencephalography", Scientific Data 6:103) lays a dataset out as::

    root/
        dataset_description.json  participants.tsv
        sub-<label>/[ses-<label>/]eeg/
            sub-<label>[_ses-<label>]_task-<label>[_run-<index>]_eeg.edf
            ..._eeg.json  ..._channels.tsv  ..._events.tsv

SzCORE (Dan et al., 2024, "SzCORE: Seizure Community Open-source Research Evaluation framework for
the validation of electroencephalography-based automated seizure detection algorithms",
Epilepsia, doi:10.1111/epi.18113; arXiv:2402.13005) publishes public seizure corpora (CHB-MIT,
Siena, TUSZ, SeizeIT, ...) in this layout, with EDF files of the 19 10-20 electrodes in a common
average montage (``Fp1-Avg`` ...) and one ``_events.tsv`` per recording with the columns
``onset duration eventType lateralization localization vigilance confidence channels dateTime
recordingDuration``. ``eventType`` is ``bckg`` for background or a hierarchical HED-SCORE seizure
code starting with ``sz`` (``sz``, ``sz_foc_ia``, ``sz_gen_m_tonicClonic``, ...); ``dateTime`` is the
recording's start (``YYYY-MM-DD HH:MM:SS``) and ``recordingDuration`` its length in seconds, both
repeated on every row.

What the index takes from where
    Subjects, sessions, tasks and runs are enumerated with :mod:`mne_bids`; files under
    ``derivatives/`` and ``sourcedata/`` are not recordings. Patient = subject (``sub-01``); a
    recording's id is its BIDS basename without suffix (``sub-01_ses-01_task-szMonitoring_run-00``)
    and its file is relative to the root. Seizures are the ``events.tsv`` rows whose ``eventType``
    starts with ``sz``, with that string as type. ``start`` places a recording on its subject's
    timeline from ``dateTime`` (seconds since the subject's earliest ``dateTime``); without one it
    is ``None``. ``duration`` is ``recordingDuration``, else the EDF header; the sampling rate is
    ``SamplingFrequency`` from the ``_eeg.json`` sidecar (inheritance applies), else the EDF
    header; channel labels come from ``_channels.tsv``, else the EDF header. Sidecars first, so
    the content hash does not depend on which EDF files are present.

Exclusions
    A recording without ``events.tsv`` (labels unknown), whose channel list lacks a wanted channel
    or marks one ``bad``, or whose channels are unknown, stays in the index with a recording-scope
    :class:`~benchmark.index.Exclusion`; so does a data file in another format than EDF (not read).
    A subject whose ``dateTime`` values make its recordings overlap has its recordings taken off
    the timeline (``start = None``) with a patient-scope exclusion, as de-identified dates often
    are shifted.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from benchmark.datasets._common import parse_seconds, read_text, text_stream
from benchmark.datasets.base import TEN_TWENTY_CHANNELS, DatasetLoader, check_edf_header
from benchmark.datasets.chbmit import natural_key
from benchmark.edf import match_channels, read_header
from benchmark.errors import DataError, did_you_mean
from benchmark.index import Exclusion, Patient, Recording, RecordingIndex, Seizure

__all__ = ["BIDS_CHANNELS", "SZCORE_EVENT_COLUMNS", "load_bids"]

#: Default channels: the 19 10-20 electrodes (SzCORE files label them ``Fp1-Avg`` etc.).
BIDS_CHANNELS: tuple[str, ...] = TEN_TWENTY_CHANNELS

#: Columns of an SzCORE ``events.tsv``; the loader needs the first three.
SZCORE_EVENT_COLUMNS: tuple[str, ...] = (
    "onset",
    "duration",
    "eventType",
    "lateralization",
    "localization",
    "vigilance",
    "confidence",
    "channels",
    "dateTime",
    "recordingDuration",
)
_REQUIRED_EVENT_COLUMNS = SZCORE_EVENT_COLUMNS[:3]
_MISSING = ("", "n/a")
_DURATION_TOLERANCE_S = 2.0
_EPS = 1e-6
# Files that accompany a data file rather than being one (BrainVision .eeg/.vmrk, EEGLAB .fdt).
_COMPANION_EXTENSIONS = {".json", ".eeg", ".vmrk", ".fdt"}
_HOW_TO_FIX = (
    "point --data-dir at the root of a BIDS-EEG dataset (the folder holding "
    "dataset_description.json and the sub-* folders)"
)


@dataclass
class _Events:
    """What one ``events.tsv`` says about its recording."""

    seizures: list[Seizure] = field(default_factory=list)
    date_time: dt.datetime | None = None
    recording_duration: float | None = None
    other_types: set[str] = field(default_factory=set)


def _read_tsv(path: Path):
    import pandas as pd  # slow import; only when a dataset is loaded

    try:
        df = pd.read_csv(text_stream(path), sep="\t", dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path} is empty; a BIDS .tsv file needs at least its header row") from None
    except pd.errors.ParserError as err:
        raise DataError(
            f"{path} is not a readable tab-separated file ({type(err).__name__}); fix or re-download it"
        ) from None
    df.columns = [str(c).strip() for c in df.columns]
    return df.apply(lambda col: col.str.strip())


def _one_value(df, column: str, path: Path) -> str | None:
    """The single value a per-recording column repeats on every row, or None when absent."""
    if column not in df.columns:
        return None
    values = {v for v in df[column] if v not in _MISSING}
    if len(values) > 1:
        raise DataError(
            f"{path}: column {column} holds different values ({', '.join(sorted(values)[:3])}); "
            "it describes the recording and must be the same on every row"
        )
    return values.pop() if values else None


def event_times(row: dict[str, str], where: str) -> tuple[float, float]:
    """``(onset, duration)`` of an events.tsv row (a dataset's annotation or an SzCORE hypothesis):
    finite seconds, onset >= 0 and duration > 0; a one-line :class:`DataError` naming ``where`` otherwise."""
    onset = parse_seconds(row["onset"], "onset", where)
    duration = parse_seconds(row["duration"], "duration", where)
    if onset < 0 or duration <= 0:
        raise DataError(
            f"{where}: onset {onset:g} s, duration {duration:g} s; onsets are seconds from the recording "
            "start and durations must be positive"
        )
    return onset, duration


def _read_events(path: Path) -> _Events:
    df = _read_tsv(path)
    missing = [c for c in _REQUIRED_EVENT_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(
            f"{path} lacks column(s) {', '.join(missing)}; SzCORE events.tsv files have "
            f"{', '.join(SZCORE_EVENT_COLUMNS)}"
        )
    out = _Events()
    for i, row in enumerate(df.to_dict("records")):
        kind = row["eventType"]
        if not kind.startswith("sz"):
            if kind != "bckg":
                out.other_types.add(kind or "(empty)")
            continue
        onset, duration = event_times(row, f"{path}, line {i + 2}")
        out.seizures.append(Seizure(onset, onset + duration, kind))
    text = _one_value(df, "dateTime", path)
    if text is not None:
        try:
            out.date_time = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise DataError(f"{path}: dateTime {text!r} is not a date-time like 2021-03-04 22:15:00") from None
    text = _one_value(df, "recordingDuration", path)
    if text is not None:
        out.recording_duration = parse_seconds(text, "recordingDuration", str(path))
    return out


def _read_channels_tsv(path: Path) -> tuple[tuple[str, ...], set[str]]:
    """Channel names in file order and the names whose status is ``bad``."""
    df = _read_tsv(path)
    if "name" not in df.columns:
        raise DataError(f"{path} lacks the column 'name' that BIDS requires in channels.tsv; fix the file")
    names = tuple(df["name"])
    bad = set(df.loc[df["status"].str.lower() == "bad", "name"]) if "status" in df.columns else set()
    return names, bad


def _read_participants(root: Path, notes: list[str]) -> dict[str, dict[str, Any]]:
    path = root / "participants.tsv"
    if not path.is_file():
        notes.append("no participants.tsv: patient info (age, sex) left empty")
        return {}
    df = _read_tsv(path)
    columns = {c.lower(): c for c in df.columns}
    if "participant_id" not in columns:
        raise DataError(f"{path} lacks the column participant_id that BIDS requires; fix the file")
    info: dict[str, dict[str, Any]] = {}
    for row in df.to_dict("records"):
        pid = row[columns["participant_id"]]
        entry: dict[str, Any] = {}
        age = row.get(columns.get("age", ""), "")
        if age not in _MISSING:
            try:
                entry["age_years"] = float(age)
            except ValueError:
                entry["age"] = age  # e.g. "89+" or a range
        sex = row.get(columns.get("sex", ""), "")
        if sex not in _MISSING:
            entry["sex"] = sex.upper()
        info[pid if pid.startswith("sub-") else f"sub-{pid}"] = entry
    return info


def _dataset_title(root: Path) -> str:
    path = root / "dataset_description.json"
    try:
        desc = json.loads(read_text(path))
    except json.JSONDecodeError as err:
        raise DataError(f"{path} is not valid JSON ({err}); fix the file") from None
    return str(desc.get("Name", "")) if isinstance(desc, dict) else ""


def _sampling_frequency(sidecar: Path | None) -> float | None:
    if sidecar is None:
        return None
    try:
        value = json.loads(read_text(sidecar)).get("SamplingFrequency")
    except (json.JSONDecodeError, AttributeError):
        raise DataError(f"{sidecar} is not a JSON object; fix the sidecar") from None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise DataError(f"{sidecar}: SamplingFrequency {value!r} is not a positive number of Hz")
    return float(value)


def _channel_list(channels: Sequence[str] | None) -> tuple[str, ...]:
    if channels is None:
        return BIDS_CHANNELS
    if isinstance(channels, str) or not channels or not all(isinstance(c, str) for c in channels):
        raise DataError("channels must be a non-empty list of channel names like ['FP1', 'F3', ...]")
    if len({c.strip().upper() for c in channels}) != len(channels):
        raise DataError("the channel list names a channel twice; list each once")
    return tuple(channels)


def _place_subject(
    pid: str, recordings: list[Recording], stamps: dict[str, dt.datetime], exclusions: list[Exclusion]
) -> list[Recording]:
    """Starts from ``dateTime`` on the subject's timeline; overlapping recordings go off it."""
    if not stamps:
        return recordings
    try:
        first = min(stamps.values())
    except TypeError:
        raise DataError(
            f"{pid}: dateTime values mix entries with and without a time zone; give all or none a UTC offset"
        ) from None
    placed = [
        replace(r, start=(stamps[r.recording_id] - first).total_seconds()) if r.recording_id in stamps else r
        for r in recordings
    ]
    spans = sorted((r.start, r.end, r.recording_id) for r in placed if r.on_timeline)
    clash = next(((a, b) for a, b in zip(spans, spans[1:]) if b[0] < a[1] - _EPS), None)
    if clash is None:
        return placed
    (_, _, first_id), (_, _, second_id) = clash
    exclusions.append(
        Exclusion(
            scope="patient",
            patient=pid,
            reason=(
                f"dateTime values make {first_id} and {second_id} overlap (shifted "
                "de-identified dates?): the subject's recordings are off the timeline, "
                "usable by tasks that need no timeline"
            ),
        )
    )
    return [replace(r, start=None) for r in placed]


def _check_header(
    path: Path, labels: tuple[str, ...], wanted: Sequence[str], chan_path, sfreq, duration, events_path: Path
):
    """Channel labels, rate and duration from the EDF header, checked against each sidecar."""
    header = read_header(path)
    labels = labels or header.channels
    needed = [c for c in wanted if not match_channels(labels, [c])[1]]
    chan_source = Path(chan_path).name if chan_path else "the sidecar"
    check = check_edf_header(path, source=chan_source, wanted=needed, listed=labels, header=header)
    check_edf_header(path, source="the _eeg.json sidecar", wanted=needed, sfreq=sfreq, header=header)
    check_edf_header(path, source=events_path.name, wanted=needed, duration=duration, header=header)
    sfreq = check.sfreq if sfreq is None else sfreq
    duration = header.duration if duration is None else duration
    return labels, sfreq, duration


class BidsLoader(DatasetLoader):
    """A BIDS-EEG dataset with SzCORE ``events.tsv`` annotations (see :func:`load_bids`)."""

    default_name = "bids"
    what = "BIDS"
    layout = "BIDS"
    noun = "subjects"
    how_to_get = _HOW_TO_FIX

    def __init__(self, data_dir, *, channels: Sequence[str] | None = None, task: str | None = None, **options):
        super().__init__(data_dir, **options)
        self.task = task
        self.wanted = self.channels = _channel_list(channels)
        self.stamps: dict[str, dict[str, dt.datetime]] = {}
        self.known_channels: dict[tuple[str, str], tuple[str, ...]] = {}
        self.other_types: set[str] = set()
        self.no_datetime: list[str] = []
        self.clipped = 0

    def check_root(self) -> None:
        super().check_root()
        if not (self.root / "dataset_description.json").is_file():
            raise DataError(f"{self.root} is not a BIDS dataset (no dataset_description.json); {_HOW_TO_FIX}")

    def find_recordings(self) -> list:
        root, task = self.root, self.task
        title = _dataset_title(root)
        import mne_bids  # slow import; only when a BIDS dataset is loaded

        tasks = mne_bids.get_entity_vals(root, "task")
        if task is not None and task not in tasks:
            raise DataError(
                f"task {task!r} is not in {root} (tasks there: {', '.join(tasks) or 'none'}); "
                f"pass one of them.{did_you_mean(task, tasks)}"
            )
        found = mne_bids.find_matching_paths(root, tasks=task, datatypes="eeg", suffixes="eeg")
        # find_matching_paths also walks derivatives/ and sourcedata/, which are not recordings.
        found = [p for p in found if p.fpath.relative_to(root).parts[0].startswith("sub-")]
        data_files = [p for p in found if p.extension not in _COMPANION_EXTENSIONS]
        self.edf_names = {p.basename for p in data_files if p.extension.lower() == ".edf"}
        if not self.edf_names:
            raise DataError(
                "no EEG recordings (sub-*/[ses-*/]eeg/*_eeg.edf"
                + (f" of task {task!r}" if task else "")
                + f") under {root}; {_HOW_TO_FIX}"
            )
        self.subjects = mne_bids.get_entity_vals(root, "subject")
        self.notes += [
            f"BIDS dataset {title!r}" if title else "BIDS dataset (no Name in dataset_description.json)",
            "seizures: events.tsv rows whose eventType starts with 'sz' (SzCORE), type = eventType",
            "timeline: recording start from events.tsv dateTime, seconds since the subject's first",
        ]
        return sorted(data_files, key=lambda p: natural_key(p.basename))

    def patient_facts(self) -> dict[str, dict[str, Any]]:
        return _read_participants(self.root, self.notes)

    def _events(self, bp, pid: str, rid: str, rel: str) -> tuple[_Events, Path]:
        events_path = bp.copy().update(suffix="events", extension=".tsv").fpath
        events = _read_events(events_path) if events_path.is_file() else None
        if events is None:
            self.exclude("recording", pid, f"{rel} has no {events_path.name}: its seizures are unknown", rid)
            events = _Events()
        self.other_types |= events.other_types
        return events, events_path

    def _seizures(self, events: _Events, duration: float | None, events_path: Path) -> list[Seizure]:
        seizures = []
        for sz in sorted(events.seizures, key=lambda s: (s.onset, s.offset)):
            if duration is not None and sz.onset >= duration:
                raise DataError(
                    f"{events_path}: seizure at {sz.onset:g} s starts after the end of the "
                    f"recording ({duration:g} s); fix the onset or recordingDuration"
                )
            if duration is not None and sz.offset > duration + _EPS:
                sz = Seizure(sz.onset, duration, sz.type)
                self.clipped += 1
            seizures.append(sz)
        return seizures

    def _channel_exclusion(self, pid: str, rid: str, rel: str, labels, bad: set[str]) -> None:
        if labels:
            self.known_channels[(pid, rid)] = labels
            lacking = [c for c in self.wanted if match_channels(labels, [c])[1]]
            if lacking:
                reason = f"lacks channel(s) {', '.join(lacking)}"
            else:
                idx, _ = match_channels(labels, self.wanted)
                marked = [labels[i] for i in idx if labels[i] in bad]
                reason = f"channels.tsv marks {', '.join(marked)} bad" if marked else ""
        else:
            reason = "channel list unknown (no channels.tsv and the EDF header was not read)"
        if reason:
            self.exclude("recording", pid, f"{rel}: {reason}", rid)

    def _recording(self, bp) -> tuple[str, Recording] | None:
        pid = f"sub-{bp.subject}"
        rid = bp.copy().update(suffix=None, extension=None).basename
        rel = bp.fpath.relative_to(self.root).as_posix()
        if bp.extension.lower() != ".edf":
            if bp.basename.rsplit(".", 1)[0] + ".edf" not in self.edf_names:
                self.exclude("recording", pid, f"{rel}: {bp.extension} files are not read; convert it to EDF", rid)
            return None
        events, events_path = self._events(bp, pid, rid, rel)
        chan_path = bp.find_matching_sidecar(suffix="channels", extension=".tsv", on_error="ignore")
        labels, bad = _read_channels_tsv(Path(chan_path)) if chan_path else ((), set())
        sfreq = _sampling_frequency(bp.find_matching_sidecar(suffix="eeg", extension=".json", on_error="ignore"))
        duration = events.recording_duration
        if self.check_edf and not bp.fpath.is_file():
            self.absent += 1
        elif self.check_edf:
            self.checked += 1
            labels, sfreq, duration = _check_header(
                bp.fpath, labels, self.wanted, chan_path, sfreq, duration, events_path
            )
        seizures = self._seizures(events, duration, events_path)
        self._channel_exclusion(pid, rid, rel, labels, bad)
        if events.date_time is not None:
            self.stamps.setdefault(pid, {})[rid] = events.date_time
        else:
            self.no_datetime.append(rid)
        return pid, Recording(
            recording_id=rid,
            file=rel,
            start=None,
            duration=duration,
            sfreq=sfreq,
            channels=tuple(labels),
            seizures=tuple(seizures),
        )

    def build_patients(self, data_files: list, participants: dict) -> list[Patient]:
        by_subject: dict[str, list[Recording]] = {}
        for bp in data_files:
            got = self._recording(bp)
            if got is not None:
                by_subject.setdefault(got[0], []).append(got[1])
        # A wanted channel in none of the recordings is a wrong channel list, not missing data.
        if self.known_channels:
            known = self.known_channels.values()
            nowhere = [c for c in self.wanted if all(match_channels(k, [c])[1] for k in known)]
            if nowhere:
                some = next(iter(known))
                raise DataError(
                    f"channel(s) {', '.join(nowhere)} are in none of the recordings under {self.root} "
                    f"(e.g. {', '.join(some[:8])} ...); pass channels= with names from channels.tsv"
                )
        patients = []
        for pid in sorted(by_subject, key=natural_key):
            recs = _place_subject(pid, by_subject[pid], self.stamps.get(pid, {}), self.exclusions)
            recs.sort(key=lambda r: (r.start is None, r.start or 0.0, natural_key(r.recording_id)))
            patients.append(Patient(pid, tuple(recs), subject_id=pid, info=dict(participants.get(pid, {}))))
        return patients

    def finish_notes(self, patients: list[Patient], participants: dict) -> None:
        notes = self.notes
        if self.no_datetime:
            notes.append(
                f"{len(self.no_datetime)} recording(s) without dateTime are off the timeline: "
                + ", ".join(self.no_datetime[:10])
                + (" ..." if len(self.no_datetime) > 10 else "")
            )
        if self.other_types:
            notes.append(f"events other than bckg/sz* ignored: {', '.join(sorted(self.other_types))}")
        if self.clipped:
            notes.append(f"{self.clipped} seizure(s) ending after their recording were cut at its end")
        loaded = {p.patient_id for p in patients}
        without_eeg = sorted(set(f"sub-{s}" for s in self.subjects) - loaded, key=natural_key)
        if without_eeg:
            scope = " of this task" if self.task else ""
            notes.append(f"subjects without EEG recordings{scope}: {', '.join(without_eeg)}")
        if participants:
            self.note_unlisted(patients, participants, "participants.tsv entry (age, sex)")
        notes.append(
            f"EDF headers checked: {self.checked} present, {self.absent} absent (not checked)"
            if self.check_edf
            else "EDF headers not read"
        )


def load_bids(
    data_dir,
    *,
    channels: Sequence[str] | None = None,
    task: str | None = None,
    check_edf: bool = True,
    dataset_name: str = "bids",
    synthetic: bool = False,
) -> RecordingIndex:
    """Build a recording index from a BIDS-EEG dataset with SzCORE ``events.tsv`` annotations.

    Parameters
    ----------
    data_dir
        The BIDS root (holding ``dataset_description.json``).
    channels
        Channels the benchmark reads, matched to the files' labels by
        :func:`benchmark.edf.match_channels` (``"FP1"`` finds ``"Fp1-Avg"``); default the 19
        10-20 electrodes :data:`BIDS_CHANNELS`. Part of the content hash.
    task
        Only recordings of this BIDS task (e.g. ``"szMonitoring"``); default all tasks.
    check_edf
        Read the headers of the EDF files that are present and check them against the sidecars
        (sampling rate, duration within 2 s of ``recordingDuration``, the wanted channels);
        absent files are counted in ``index.notes``.
    dataset_name
        Name stored in the index (part of its content hash).
    synthetic
        Mark the index as synthetic data; a root holding ``SYNTHETIC.json`` is marked synthetic
        whatever this says.

    Returns
    -------
    RecordingIndex
        Patients (``sub-<label>``) in natural order, recordings in time order where known.

    Raises
    ------
    DataError
        The folder is missing or not a BIDS dataset, holds no EEG recordings (of ``task``), a
        sidecar or events file is malformed, a wanted channel is in no recording, or an EDF header
        disagrees with its sidecars.
    """
    return BidsLoader(
        data_dir, channels=channels, task=task, dataset_name=dataset_name, synthetic=synthetic, check_edf=check_edf
    ).load()
