"""The CHB-MIT Scalp EEG Database as a :class:`~benchmark.index.RecordingIndex`.

CHB-MIT (Shoeb, 2009, PhD thesis, MIT; Goldberger et al., 2000, Circulation 101(23):e215-e220;
https://physionet.org/content/chbmit/1.0.0/) holds 686 EDF files of 24 cases (23 children; chb21
is chb01 1.5 years later) with 198 annotated seizures.

The canonical index is built from the small text files alone (``RECORDS``, ``chbNN-summary.txt``,
``SUBJECT-INFO``), so it -- and its content hash, which split files refer to -- is the same
whether or not the 43 GB of EDF files are present. EDF headers that are present are only used to
check the text files against the signals.

Timeline
    A recording's ``start`` is seconds since the start of its case's first file, from the
    summary's clock times, files taken in summary order (:func:`place_on_timeline`): a file whose
    start clock is earlier than the previous file's is on the next day (midnight wrap), except that
    chb03_25 (15:38:57-16:38:57), listed after chb03_24, exactly fills the gap between chb03_23
    (ends 15:38:45) and chb03_24 (starts 16:39:05) and goes there; a file that would overlap an
    earlier one moves a day on (chb18_36, 08:45:57, cannot overlap chb18_35, 08:42:06-09:42:06;
    chb10_89 likewise). Days between files are otherwise unknown, so the smallest consistent gap
    is taken. chb24's summary
    has no clock times: its recordings have ``start = duration = None``, are recorded as a
    patient-level exclusion for timeline tasks, and keep their 16 seizures in the index.

Channels
    The benchmark uses the 18 bipolar channels common to the cases, :data:`CHBMIT_CHANNELS`. The
    files list ``T8-P8`` twice (channel 15 and a repeat as the last channel); the first occurrence is
    used (see :class:`benchmark.edf.EdfReader`). Recordings whose summary channel list lacks any of
    the 18 (chb12_27, chb12_28, chb12_29 are referenced to CS2 or unipolar) stay in the index, seizures
    included, with a recording-level :class:`~benchmark.index.Exclusion`; tasks skip them.
"""

from __future__ import annotations

import re
from pathlib import Path

from benchmark.datasets._common import read_text, safe_relpath
from benchmark.datasets.base import DatasetLoader
from benchmark.datasets.chbmit_summary import Summary, SummaryFile, parse_summary
from benchmark.edf import match_channels
from benchmark.errors import DataError
from benchmark.index import Exclusion, Patient, Recording, RecordingIndex, Seizure

__all__ = ["CHBMIT_CHANNELS", "SAME_SUBJECT", "load_chbmit", "place_on_timeline"]

#: The 18 bipolar channels (double banana) present in (nearly) every CHB-MIT file, in this order.
CHBMIT_CHANNELS: tuple[str, ...] = (
    "FP1-F7",
    "F7-T7",
    "T7-P7",
    "P7-O1",
    "FP1-F3",
    "F3-C3",
    "C3-P3",
    "P3-O1",
    "FP2-F4",
    "F4-C4",
    "C4-P4",
    "P4-O2",
    "FP2-F8",
    "F8-T8",
    "T8-P8",
    "P8-O2",
    "FZ-CZ",
    "CZ-PZ",
)

#: Cases that are the same person: chb21 was recorded from chb01's subject 1.5 years later.
SAME_SUBJECT: dict[str, str] = {"chb21": "chb01"}

_DAY = 86400
_ANNOTATION_TOLERANCE_S = 0.5  # summaries give whole seconds; .seizures sample numbers
_SNUG_GAP_S = 60.0  # inter-file gaps within a session are seconds, rarely over a minute
_HOW_TO_GET = (
    "download CHB-MIT v1.0.0 from https://physionet.org/content/chbmit/1.0.0/ (folders chb01 ... "
    "chb24 with their chbNN-summary.txt, plus RECORDS and SUBJECT-INFO), "
    "or use --dataset chbmit-synthetic"
)


def natural_key(name: str) -> tuple:
    """Sort key that orders embedded numbers numerically (``chb02_9`` before ``chb02_10``)."""
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name))


def place_on_timeline(clocks: list[tuple[int, float]]) -> list[float]:
    """Place files with clock times on one continuous timeline.

    Parameters
    ----------
    clocks
        ``(start_clock, duration)`` per file in listing order; ``start_clock`` in seconds since
        midnight (values past 24 h are reduced modulo one day).

    Returns
    -------
    list of float
        Each file's start in seconds since the first file's start.

    Notes
    -----
    Rules, in order, for each file after the first:

    1. A file listed out of order goes back into a gap between two placed files if it fills the
       gap to within a minute at both ends (chb03_25 between chb03_23 and chb03_24).
    2. Otherwise it goes on the previous file's day, or on the next day when its start clock is
       earlier than the previous file's (midnight wrap).
    3. While it overlaps a placed file it moves one more day on (chb18_36 starts 4 min after
       chb18_35 by the clock, which lasts an hour).
    """
    if not clocks:
        return []
    origin = clocks[0][0] % _DAY
    placed: list[tuple[float, float]] = []
    prev_t = prev_clock = None
    for clock, duration in clocks:
        clock %= _DAY
        if prev_t is None:
            t = 0.0
        else:
            t = _snug_slot(placed, clock - origin, duration)
            if t is None:
                day = (prev_t + origin) // _DAY + (1 if clock < prev_clock else 0)
                t = day * _DAY + clock - origin
                while any(t < e and s < t + duration for s, e in placed):
                    t += _DAY
        placed.append((float(t), float(t) + duration))
        prev_t, prev_clock = t, clock
    return [s for s, _ in placed]


def _snug_slot(placed: list[tuple[float, float]], offset: float, duration: float) -> float | None:
    """Start of a gap between placed files that a file of ``duration`` fills within a minute."""
    spans = sorted(placed)
    for (_, gap_start), (gap_end, _) in zip(spans, spans[1:]):
        t = gap_start + (offset - gap_start) % _DAY  # first time >= gap_start on the file's clock
        if t - gap_start <= _SNUG_GAP_S and 0 <= gap_end - (t + duration) <= _SNUG_GAP_S:
            return t
    return None


def _read_subject_info(path: Path) -> dict[str, dict]:
    """``SUBJECT-INFO`` (Case, Gender, Age) -> {case: {"sex": .., "age": ..}}."""
    info: dict[str, dict] = {}
    if not path.is_file():
        return info
    for line in read_text(path).splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0].lower().startswith("chb"):
            try:
                age = float(parts[2])
            except ValueError:
                age = None
            info[parts[0]] = {"sex": parts[1], "age_years": age}
    return info


def _read_records(path: Path) -> dict[str, list[str]] | None:
    """``RECORDS`` -> {patient dir: [file names]} or None when absent."""
    if not path.is_file():
        return None
    out: dict[str, list[str]] = {}
    for n, line in enumerate(read_text(path).splitlines(), 1):
        line = line.strip()
        if line:
            # Each line becomes a path under the data folder: nothing outside it is read.
            safe_relpath(path.parent, line, where=f"{path}, line {n}", what="record")
            patient, _, name = line.rpartition("/")
            out.setdefault(patient, []).append(name)
    return out


def _find_summaries(data_dir: Path) -> dict[str, Path]:
    found = {}
    for d in sorted(data_dir.iterdir(), key=lambda p: natural_key(p.name)):
        summary = d / f"{d.name}-summary.txt"
        if d.is_dir() and summary.is_file():
            found[d.name] = summary
    return found


def _summary_names(
    pid: str, summary: Summary, record_names: list[str] | None, with_seizures: set[str], notes: list[str]
) -> list[str]:
    """File names of a case: the summary's, and those RECORDS adds (taken as seizure-free)."""
    names = [f.name for f in summary.files]
    if record_names is None:
        return names
    extra = [n for n in record_names if n not in names]
    for n in extra:
        if f"{pid}/{n}" in with_seizures:
            raise DataError(
                f"{pid}/{n} is listed in RECORDS-WITH-SEIZURES but not in {pid}-summary.txt, "
                "so its seizure times are unknown; restore the official summary"
            )
    if extra:
        notes.append(
            f"{pid}: {len(extra)} file(s) in RECORDS but not in the summary, taken as "
            f"seizure-free (not in RECORDS-WITH-SEIZURES): {', '.join(extra)}"
        )
    missing = [n for n in names if n not in set(record_names)]
    if missing:
        notes.append(f"{pid}: {len(missing)} summary file(s) not in RECORDS: {', '.join(missing)}")
    return list(dict.fromkeys(list(record_names) + names))


def _exclude_off_timeline(pid: str, recordings: list[Recording], exclusions: list[Exclusion]) -> None:
    """A case without clock times is excluded whole; a single file without them alone."""
    off_timeline = [r for r in recordings if r.start is None]
    if off_timeline and len(off_timeline) == len(recordings):
        exclusions.append(
            Exclusion(
                scope="patient",
                patient=pid,
                reason=(
                    f"{pid}-summary.txt gives no file start/end times, so recordings cannot be "
                    "placed on a timeline and their durations are unknown: its seizures are counted "
                    "in the index but no task can use its recordings"
                ),
            )
        )
        return
    for r in off_timeline:
        exclusions.append(
            Exclusion(
                scope="recording",
                patient=pid,
                recording=r.recording_id,
                reason=(
                    f"{r.file} has no start/end time in {pid}-summary.txt although the "
                    "case's other files do: duration and place on the timeline unknown"
                ),
            )
        )


def _recording(
    pid: str,
    name: str,
    f: SummaryFile | None,
    summary: Summary,
    start: float | None,
    default_channels: tuple[str, ...],
    exclusions: list[Exclusion],
) -> Recording:
    rid = name[:-4] if name.lower().endswith(".edf") else name
    channels = f.channels if f is not None else default_channels
    lacking = [c for c in CHBMIT_CHANNELS if match_channels(channels, [c])[1]]
    if lacking:
        what = (
            "channel list unknown (file not in the summary and the montage changes)"
            if not channels
            else f"lacks channel(s) {', '.join(lacking)}"
        )
        exclusions.append(
            Exclusion(
                scope="recording",
                patient=pid,
                recording=rid,
                reason=f"{name}: {what}; the benchmark uses the 18 bipolar CHB-MIT channels",
            )
        )
    return Recording(
        recording_id=rid,
        file=f"{pid}/{name}",
        start=start,
        duration=f.duration if f is not None else None,
        sfreq=summary.sfreq,
        channels=tuple(channels),
        seizures=tuple(Seizure(on, off) for on, off in (f.seizures if f else ())),
    )


def _patient(
    pid: str,
    summary: Summary,
    summary_path: Path,
    record_names: list[str] | None,
    with_seizures: set[str],
    subject_info: dict,
    exclusions: list[Exclusion],
    notes: list[str],
) -> Patient:
    by_name = {f.name: f for f in summary.files}
    for name in by_name:
        safe_relpath(summary_path.parent.parent, f"{pid}/{name}", where=str(summary_path), what="File Name")
    names = _summary_names(pid, summary, record_names, with_seizures, notes)
    timed = [f for f in summary.files if f.start_clock is not None]
    starts = dict(
        zip(
            (f.name for f in timed),
            place_on_timeline([(f.start_clock, f.duration) for f in timed]),
        )
    )
    # Files not in the summary inherit its montage only when it never changes.
    default_channels = summary.channel_sections[0] if len(summary.channel_sections) == 1 else ()
    recordings = [
        _recording(pid, name, by_name.get(name), summary, starts.get(name), default_channels, exclusions)
        for name in names
    ]
    _exclude_off_timeline(pid, recordings, exclusions)
    # Chronological where known; files without times after, by name.
    recordings.sort(key=lambda r: (r.start is None, r.start or 0.0, natural_key(r.recording_id)))
    return Patient(
        patient_id=pid,
        recordings=tuple(recordings),
        subject_id=SAME_SUBJECT.get(pid, pid),
        info=dict(subject_info.get(pid, {})),
    )


class ChbmitLoader(DatasetLoader):
    """CHB-MIT in its PhysioNet layout (see :func:`load_chbmit`)."""

    default_name = "chbmit"
    what = "CHB-MIT data"
    layout = "CHB-MIT"
    channels = CHBMIT_CHANNELS
    how_to_get = _HOW_TO_GET

    def find_recordings(self) -> dict[str, Path]:
        summaries = _find_summaries(self.root)
        if not summaries:
            raise DataError(f"no chbNN/chbNN-summary.txt found under {self.root}; {_HOW_TO_GET}")
        return summaries

    def patient_facts(self) -> dict[str, dict]:
        return _read_subject_info(self.root / "SUBJECT-INFO")

    def build_patients(self, summaries: dict[str, Path], facts: dict[str, dict]) -> list[Patient]:
        records = _read_records(self.root / "RECORDS")
        rws_path = self.root / "RECORDS-WITH-SEIZURES"
        with_seizures = set(read_text(rws_path).split()) if rws_path.is_file() else set()
        self.notes += [
            "timeline from summary clock times (midnight wraps and out-of-order files resolved)",
            "T8-P8 appears twice in the EDF files; the first occurrence is used",
        ]
        if records is None:
            self.notes.append("no RECORDS file: recordings are the files listed in the summaries")
        else:
            orphans = sorted(set(records) - set(summaries), key=natural_key)
            if orphans:
                self.notes.append(f"RECORDS lists cases without a summary (ignored): {', '.join(orphans)}")
        patients = []
        for pid, path in summaries.items():
            summary = parse_summary(read_text(path), source=str(path))
            record_names = None if records is None else records.get(pid, [])
            patients.append(
                _patient(pid, summary, path, record_names, with_seizures, facts, self.exclusions, self.notes)
            )
        return patients

    def finish_notes(self, patients: list[Patient], facts: dict[str, dict]) -> None:
        self.note_unlisted(patients, facts, "SUBJECT-INFO entry (sex, age)")
        if self.check_edf:
            self._check_edfs(patients)
        self.conflicts = annotation_conflicts(self.root, patients)

    def _check_edfs(self, patients: list[Patient]) -> None:
        """Compare present EDF headers with the summaries; raise on a disagreement that matters."""
        label_mismatch = []
        for p in patients:
            for r in p.recordings:
                # Channels the benchmark reads must really be there; other labels (placeholders,
                # the chb12 '01' typo) only get noted.
                check = self.check_header(
                    self.root / r.file, source="the summary", listed=r.channels, sfreq=r.sfreq, duration=r.duration
                )
                if check and [c.upper() for c in check.header.channels] != [c.upper() for c in r.channels]:
                    label_mismatch.append(r.recording_id)
        self.notes.append(f"EDF headers checked: {self.checked} present, {self.absent} absent (not checked)")
        if label_mismatch:
            self.notes.append(
                f"{len(label_mismatch)} EDF file(s) whose labels differ from the summary outside the "
                f"18 benchmark channels: {', '.join(label_mismatch[:20])}"
                + (" ..." if len(label_mismatch) > 20 else "")
            )

    def finish(self, patients, **options) -> RecordingIndex:
        return super().finish(patients, check_files=self.check_edf, **options)


def load_chbmit(
    data_dir,
    *,
    check_edf: bool = True,
    dataset_name: str = "chbmit",
    synthetic: bool = False,
) -> RecordingIndex:
    """Build the CHB-MIT recording index from a PhysioNet-layout folder.

    Parameters
    ----------
    data_dir
        Folder with ``chbNN/chbNN-summary.txt`` per case, optionally ``RECORDS``,
        ``RECORDS-WITH-SEIZURES``, ``SUBJECT-INFO`` and the EDF files.
    check_edf
        Read the headers of the EDF files that are present and check them against the summaries
        (sampling rate, duration within 2 s of the clock times, the 18 benchmark channels).
        Absent EDF files are not an error; ``index.notes`` says how many were checked.
    dataset_name
        Name stored in the index (part of its content hash).
    synthetic
        Mark the index as synthetic data. A folder holding ``SYNTHETIC.json`` (written by the
        synthetic generator) is marked synthetic whatever this says, so generated EEG loaded
        under the real dataset's name is still labelled synthetic everywhere.

    Returns
    -------
    RecordingIndex
        Patients in natural order, recordings chronological, ``channels`` = :data:`CHBMIT_CHANNELS`.

    Raises
    ------
    DataError
        The folder or its summaries are missing, a summary is malformed, or an EDF header
        disagrees with its summary.
    """
    return ChbmitLoader(data_dir, dataset_name=dataset_name, synthetic=synthetic, check_edf=check_edf).load()


def annotation_conflicts(data_dir: Path, patients: list[Patient]) -> list[str]:
    """Where a recording's WFDB ``.seizures`` file disagrees with its summary.

    PhysioNet ships both; the summary is the source the index follows (the ``.seizures`` files
    exist only for files with seizures, and the summaries are what the literature cites). Known
    case: chb24_21, onset 2804 s in the summary and 2404 s in ``chb24_21.edf.seizures``. Only
    recordings whose ``.seizures`` file is present are compared; the index itself is unchanged.
    """
    out = []
    for p in patients:
        for r in p.recordings:
            path = data_dir / f"{r.file}.seizures"
            if not path.is_file():
                continue
            try:
                import wfdb  # only when .seizures files are present

                ann = wfdb.rdann(str(data_dir / r.file), "seizures")
                fs = float(ann.fs or r.sfreq or 256.0)
                onsets = [s / fs for s, sym in zip(ann.sample, ann.symbol) if sym == "["]
                offsets = [s / fs for s, sym in zip(ann.sample, ann.symbol) if sym == "]"]
            except Exception as err:  # wfdb raises many types for a damaged file
                out.append(
                    f"{r.file}.seizures cannot be read ({type(err).__name__}); not compared, the summary is used"
                )
                continue
            listed = [(s.onset, s.offset) for s in r.seizures]
            if len(onsets) != len(offsets) or len(onsets) != len(listed):
                out.append(
                    f"{r.recording_id}: the summary lists {len(listed)} seizure(s), .seizures marks "
                    f"{len(onsets)} onset(s) and {len(offsets)} end(s); the summary is used"
                )
                continue
            for k, ((on, off), a, b) in enumerate(zip(listed, onsets, offsets), 1):
                diffs = [
                    f"{what} {mine:g} s, .seizures {theirs:g} s"
                    for what, mine, theirs in (("onset", on, a), ("offset", off, b))
                    if abs(mine - theirs) > _ANNOTATION_TOLERANCE_S
                ]
                if diffs:
                    out.append(
                        f"{r.recording_id} seizure {k}: summary " + "; summary ".join(diffs) + "; the summary is used"
                    )
    return out
