"""The TUH EEG Seizure Corpus (TUSZ v2.0.x) as a :class:`~benchmark.index.RecordingIndex`.

TUSZ (Shah et al., 2018, "The Temple University Hospital Seizure Detection Corpus", Front.
Neuroinform. 12:83; https://isip.piconepress.com/projects/nedc/html/tuh_eeg/) is a subset of the
TUH EEG Corpus annotated for seizures by type. It is distributed under a data-use agreement, so
none of it is in this repository; a user points the loader at their own copy.

Layout
    ``<root>/edf/{train,dev,eval}/<subject>/<sNNN_YYYY>/<NN_montage>/<subject>_sNNN_tNNN.edf``,
    each EDF with two annotation files beside it (format ``csv_v1.0.0``: ``#`` header lines
    including ``# duration = 2348.00 secs``, then the rows
    ``channel,start_time,stop_time,label,confidence``):

    * ``<stem>.csv``: channel-level events on the bipolar TCP montage (``FP1-F7``, ...) with
      lower-case seizure-type labels (``fnsz``, ``gnsz``, ``cpsz``, ...) and ``bckg``;
    * ``<stem>.csv_bi``: term-level events on channel ``TERM``, labels ``seiz`` / ``bckg``.

    Any folder holding such files at any depth is accepted. Annotation files with no EDF beside
    them are recordings too (durations from the ``# duration`` header, nothing to check), so the
    index of a copy without signals is the same as that of the full corpus minus the EDF-derived
    fields (sampling rate, channel labels).

Seizures
    Boundaries come from the ``.csv_bi`` terms labelled ``seiz``. A seizure's type is the
    upper-case code of the ``.csv`` channel events that overlap it most (summed over channels);
    with only a ``.csv`` the seizures are the union over channels of its non-``bckg`` events;
    with only a ``.csv_bi`` the type is ``None``. Seizures of a type in ``drop_types`` (``MYSZ``
    by default: too rare to learn, and dropped in the seizure-type literature) are left out of the
    index with a seizure-level :class:`~benchmark.index.Exclusion`, and their recording gets a
    recording-level one, because its ictal EEG would otherwise be taken as background.

Timeline
    TUSZ dates are de-identified and the gaps between sessions (and between the token files of
    one session) are not published, so no recording can be placed on a patient timeline:
    ``Recording.start`` is ``None`` everywhere. Tasks that need a timeline (prediction) cannot use
    TUSZ; detection and seizure-type classification only need each recording's own duration.

Channels
    The benchmark reads the 19 referential 10-20 electrodes, :data:`TUSZ_CHANNELS`, named in the
    old nomenclature that TUSZ uses (``T3``/``T4``/``T5``/``T6``); the EDF files label them
    ``EEG FP1-REF`` (``tcp_ar`` montages) or ``EEG FP1-LE`` (``tcp_le``), which
    :func:`benchmark.edf.match_channels` resolves. The montage of each recording (from its folder
    name) is kept in ``patient.info["montages"]``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmark.datasets._common import read_text
from benchmark.datasets.base import TEN_TWENTY_CHANNELS, DatasetLoader, check_edf_header
from benchmark.datasets.chbmit import natural_key
from benchmark.errors import DataError
from benchmark.index import Exclusion, Patient, Recording, RecordingIndex, Seizure

__all__ = [
    "TUSZ_CHANNELS",
    "TUSZ_SEIZURE_TYPES",
    "load_tusz",
    "read_tusz_csv",
    "write_tusz_annotations",
]

#: The 19 referential 10-20 electrodes read from TUSZ, in the old nomenclature TUSZ uses.
TUSZ_CHANNELS: tuple[str, ...] = TEN_TWENTY_CHANNELS

#: Seizure-type codes of TUSZ v2 (after Shah et al., 2018), for documentation and notes;
#: a label outside this table is still taken as a type, and the index notes list it.
TUSZ_SEIZURE_TYPES: dict[str, str] = {
    "SEIZ": "seizure, type not determined",
    "FNSZ": "focal non-specific seizure",
    "GNSZ": "generalized non-specific seizure",
    "SPSZ": "simple partial seizure",
    "CPSZ": "complex partial seizure",
    "ABSZ": "absence seizure",
    "TNSZ": "tonic seizure",
    "CNSZ": "clonic seizure",
    "TCSZ": "tonic-clonic seizure",
    "ATSZ": "atonic seizure",
    "MYSZ": "myoclonic seizure",
}

_VERSION = "csv_v1.0.0"
_COLUMNS = ("channel", "start_time", "stop_time", "label", "confidence")
_TERM = "TERM"
_BACKGROUND = "bckg"
_SEIZURE = "seiz"
_MONTAGE_FILE = "$NEDC_NFC/lib/nedc_eas_default_montage.txt"
_SETS = ("train", "dev", "eval")
_STEM = re.compile(r"^(?P<subject>[A-Za-z0-9]+)_(?P<session>s\d+)_(?P<token>t\d+)$")
_MONTAGE_DIR = re.compile(r"^\d+_(?P<montage>[a-z][a-z0-9_]*)$")
_LABEL = re.compile(r"^[a-z][a-z0-9_]*$")
_HEADER = re.compile(r"^#\s*(?P<key>[A-Za-z_]+)\s*=\s*(?P<value>.*?)\s*$")
_DURATION = re.compile(r"^(?P<value>\d+(?:\.\d*)?)\s*(?:secs?|seconds?)?$")
_DURATION_TOLERANCE_S = 2.0
_EPS = 1e-6
_HOW_TO_GET = (
    "TUSZ v2.0.x comes from https://isip.piconepress.com/projects/nedc/html/tuh_eeg/ after signing "
    "its data-use agreement; point --data-dir at its top folder (holding edf/train, edf/dev, "
    "edf/eval) or any folder of its .csv/.csv_bi files"
)


@dataclass(frozen=True)
class TuszEvent:
    """One annotation row: ``channel`` (``TERM`` in ``.csv_bi``), times in seconds, label."""

    channel: str
    start: float
    stop: float
    label: str
    confidence: float
    line: int


@dataclass(frozen=True)
class TuszAnnotation:
    """A parsed ``.csv`` or ``.csv_bi`` file."""

    path: str
    bname: str | None
    duration: float
    events: tuple[TuszEvent, ...]


def read_tusz_csv(path: str | Path) -> TuszAnnotation:
    """Parse one TUSZ ``csv_v1.0.0`` annotation file (``.csv`` or ``.csv_bi``).

    Parameters
    ----------
    path
        The annotation file.

    Returns
    -------
    TuszAnnotation
        The ``bname`` and ``duration`` header values and every event row. In a ``.csv_bi`` file
        every row must be on channel ``TERM`` with label ``seiz`` or ``bckg``.

    Raises
    ------
    DataError
        The file is missing, lacks the ``# duration`` header or the column line, declares
        another format version, or has a malformed row (the message names file and line).
    """
    path = Path(path)
    term_level = path.suffix.lower() == ".csv_bi"
    if not path.is_file():
        raise DataError(f"TUSZ annotation file {path} does not exist; check the data folder")
    text = read_text(path)
    header: dict[str, str] = {}
    columns_seen = False
    events: list[TuszEvent] = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        where = f"{path}, line {n}"
        if not line:
            continue
        if line.startswith("#"):
            if columns_seen:
                raise DataError(f"{where}: header line {line!r} after the column line; move it up")
            m = _HEADER.match(line)
            if m:
                header[m["key"].lower()] = m["value"]
            continue
        fields = [f.strip() for f in line.split(",")]
        if not columns_seen:
            if tuple(f.lower() for f in fields) != _COLUMNS:
                raise DataError(
                    f"{where}: expected the column line {','.join(_COLUMNS)!r}, found {line!r}; "
                    "restore the original TUSZ annotation file"
                )
            columns_seen = True
            continue
        events.append(_parse_row(fields, n, where, term_level))
    duration = _header_duration(path, header, columns_seen)
    for e in events:
        if e.stop > duration + _DURATION_TOLERANCE_S:
            raise DataError(
                f"{path}, line {e.line}: event ends at {e.stop:g} s, after the recording's "
                f"{duration:g} s ('# duration'); fix the times or the header"
            )
    return TuszAnnotation(str(path), header.get("bname"), duration, tuple(events))


def _header_duration(path: Path, header: dict[str, str], columns_seen: bool) -> float:
    """The ``# duration`` of an annotation file, once its version and column line are checked."""
    version = header.get("version")
    if version is not None and version != _VERSION:
        raise DataError(
            f"{path} has annotation format {version!r}; only TUSZ {_VERSION} (TUSZ v2.0.x) is "
            "supported, so use TUSZ v2.0.x annotations"
        )
    if "duration" not in header:
        raise DataError(
            f"{path} lacks the '# duration = N secs' header line, so the recording length is "
            "unknown; restore the original TUSZ annotation file"
        )
    m = _DURATION.match(header["duration"])
    duration = float(m["value"]) if m else math.nan
    if not duration > 0:
        raise DataError(
            f"{path}: '# duration = {header['duration']}' is not a positive number of seconds; "
            "restore the original TUSZ annotation file"
        )
    if not columns_seen:
        raise DataError(f"{path} has no column line {','.join(_COLUMNS)!r}; restore the original TUSZ annotation file")
    return duration


def _parse_row(fields: list[str], line: int, where: str, term_level: bool) -> TuszEvent:
    if len(fields) != len(_COLUMNS):
        raise DataError(
            f"{where}: {len(fields)} comma-separated fields, expected {len(_COLUMNS)} "
            f"({','.join(_COLUMNS)}); fix the line"
        )
    channel, start_s, stop_s, label, conf_s = fields
    values = []
    for name, text in (("start_time", start_s), ("stop_time", stop_s), ("confidence", conf_s)):
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise DataError(f"{where}: {name} {text!r} is not a number; fix the line")
        values.append(value)
    start, stop, confidence = values
    if not channel:
        raise DataError(f"{where}: empty channel field; fix the line")
    if not 0 <= start < stop:
        raise DataError(
            f"{where}: event {start:g}-{stop:g} s must start at or after 0 and end after it starts; fix the times"
        )
    if not 0 <= confidence <= 1:
        raise DataError(f"{where}: confidence {confidence:g} is outside 0-1; fix the line")
    if not _LABEL.match(label):
        raise DataError(
            f"{where}: label {label!r} is not a lower-case TUSZ label such as 'bckg' or 'fnsz'; fix the line"
        )
    if term_level and (channel.upper() != _TERM or label not in (_SEIZURE, _BACKGROUND)):
        raise DataError(
            f"{where}: a .csv_bi row must be on channel TERM with label seiz or bckg, found "
            f"{channel},{label}; the channel-level events belong in the .csv file"
        )
    return TuszEvent(channel, start, stop, label, confidence, line)


# -- writing --------------------------------------------------------------------------------------
def write_tusz_annotations(
    edf_path: Path,
    duration_s: float,
    events: Sequence[tuple[float, float, str]],
    channels: Sequence[str],
) -> tuple[Path, Path]:
    """Write the TUSZ ``.csv`` and ``.csv_bi`` annotation files of one recording.

    Parameters
    ----------
    edf_path
        The recording's EDF file; the annotation files go beside it with the same stem.
    duration_s
        Recording length in seconds (the ``# duration`` header).
    events
        Term-level seizures ``(start_s, stop_s, label)`` with a lower-case type label such as
        ``"fnsz"``; they must lie inside the recording and not overlap.
    channels
        Channel names of the ``.csv`` file (TUSZ uses the bipolar TCP montage, ``FP1-F7``, ...).
        Every seizure is written on every channel, with ``bckg`` filling the rest.

    Returns
    -------
    tuple of Path
        The ``.csv`` and ``.csv_bi`` paths.

    Notes
    -----
    Times are written with 4 decimals and confidences as ``1.0000``, as in TUSZ v2.0.x.
    :func:`load_tusz` reads back the same seizures with their upper-case types.
    """
    edf_path = Path(edf_path)
    if not duration_s > 0:
        raise ValueError(f"duration_s must be positive, got {duration_s!r}")
    if not channels or len(set(channels)) != len(channels):
        raise ValueError("channels must be a non-empty list of distinct names")
    ordered = sorted((float(a), float(b), str(lab)) for a, b, lab in events)
    end = 0.0
    for a, b, lab in ordered:
        if not (end <= a < b <= duration_s):
            raise ValueError(f"seizure {a:g}-{b:g} s overlaps another or lies outside 0-{duration_s:g} s")
        if not _LABEL.match(lab) or lab == _BACKGROUND:
            raise ValueError(f"seizure label {lab!r} must be a lower-case type such as 'fnsz'")
        end = b
    spans: list[tuple[float, float, str]] = []
    t = 0.0
    for a, b, lab in ordered:
        if a > t:
            spans.append((t, a, _BACKGROUND))
        spans.append((a, b, lab))
        t = b
    if t < duration_s:
        spans.append((t, float(duration_s), _BACKGROUND))

    def document(rows: list[str]) -> str:
        head = [
            f"# version = {_VERSION}",
            f"# bname = {edf_path.stem}",
            f"# duration = {duration_s:.2f} secs",
            f"# montage_file = {_MONTAGE_FILE}",
            "#",
            ",".join(_COLUMNS),
        ]
        return "\n".join(head + rows) + "\n"

    def row(channel: str, a: float, b: float, label: str) -> str:
        return f"{channel},{a:.4f},{b:.4f},{label},1.0000"

    csv_path = edf_path.with_suffix(".csv")
    bi_path = edf_path.with_suffix(".csv_bi")
    csv_path.write_text(document([row(c, a, b, lab) for c in channels for a, b, lab in spans]))
    terms = [(a, b, _BACKGROUND if lab == _BACKGROUND else _SEIZURE) for a, b, lab in spans]
    bi_path.write_text(document([row(_TERM, a, b, lab) for a, b, lab in terms]))
    return csv_path, bi_path


# -- seizures from the two annotation files -------------------------------------------------------
def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def _dominant_type(start: float, stop: float, typed: list[TuszEvent]) -> str | None:
    """Upper-case type with the largest summed overlap with ``[start, stop)``; ties by name."""
    totals: dict[str, float] = {}
    for e in typed:
        ov = _overlap(start, stop, e.start, e.stop)
        if ov > 0:
            totals[e.label.upper()] = totals.get(e.label.upper(), 0.0) + ov
    if not totals:
        return None
    return min(totals, key=lambda k: (-totals[k], k))


def _union(typed: list[TuszEvent]) -> list[tuple[float, float]]:
    spans: list[list[float]] = []
    for e in sorted(typed, key=lambda e: (e.start, e.stop)):
        if spans and e.start <= spans[-1][1] + _EPS:
            spans[-1][1] = max(spans[-1][1], e.stop)
        else:
            spans.append([e.start, e.stop])
    return [(a, b) for a, b in spans]


def _seizures(bi: TuszAnnotation | None, ch: TuszAnnotation | None) -> tuple[list[Seizure], int]:
    """Seizures of one recording and how many of them found no typed channel event."""
    typed = [e for e in ch.events if e.label != _BACKGROUND] if ch else []
    if bi is not None:
        terms = sorted((e for e in bi.events if e.label == _SEIZURE), key=lambda e: e.start)
        for a, b in zip(terms, terms[1:]):
            if b.start < a.stop - _EPS:
                raise DataError(
                    f"{bi.path}, line {b.line}: seizure term {b.start:g}-{b.stop:g} s overlaps "
                    f"the one on line {a.line}; restore the original TUSZ annotation file"
                )
        spans = [(e.start, e.stop) for e in terms]
    else:
        spans = _union(typed)
    out = [Seizure(a, b, _dominant_type(a, b, typed) if ch else None) for a, b in spans]
    untyped = sum(s.type is None for s in out) if ch else 0
    return out, untyped


# -- finding the files ----------------------------------------------------------------------------
@dataclass
class _Files:
    folder: Path
    stem: str
    csv: Path | None = None
    csv_bi: Path | None = None
    edf: Path | None = None


def _find(data_dir: Path, notes: list[str]) -> dict[str, _Files]:
    by_key: dict[tuple[Path, str], _Files] = {}
    ignored: list[str] = []
    for path in sorted(data_dir.rglob("*")):
        suffix = path.suffix.lower()
        if suffix not in (".csv", ".csv_bi", ".edf") or not path.is_file():
            continue
        if not _STEM.match(path.stem):
            ignored.append(path.relative_to(data_dir).as_posix())
            continue
        files = by_key.setdefault((path.parent, path.stem), _Files(path.parent, path.stem))
        setattr(files, suffix[1:], path)
    if ignored:
        notes.append(
            f"{len(ignored)} file(s) not named like TUSZ recordings (<subject>_sNNN_tNNN) ignored: "
            + ", ".join(ignored[:5])
            + (" ..." if len(ignored) > 5 else "")
        )
    by_stem: dict[str, _Files] = {}
    for files in by_key.values():
        other = by_stem.get(files.stem)
        if other is not None:
            raise DataError(
                f"recording {files.stem} appears twice, in {other.folder} and {files.folder}; "
                "keep one copy of each recording under the data folder"
            )
        by_stem[files.stem] = files
    return by_stem


def _montage(folder: Path) -> str | None:
    m = _MONTAGE_DIR.match(folder.name)
    return m["montage"] if m else None


def _read_pair(files: _Files) -> tuple[TuszAnnotation | None, TuszAnnotation | None]:
    """The ``.csv_bi`` and ``.csv`` of one recording, checked against its name and each other."""
    bi = read_tusz_csv(files.csv_bi) if files.csv_bi else None
    ch = read_tusz_csv(files.csv) if files.csv else None
    for ann in (bi, ch):
        if ann is not None and ann.bname is not None and ann.bname != files.stem:
            raise DataError(
                f"{ann.path} names recording {ann.bname!r} in '# bname' but is stored as "
                f"{files.stem}; restore the original file name or annotation"
            )
    if bi and ch and abs(bi.duration - ch.duration) > _DURATION_TOLERANCE_S:
        raise DataError(
            f"{bi.path} and {ch.path} disagree on the duration ({bi.duration:g} vs "
            f"{ch.duration:g} s); restore the original TUSZ annotation files"
        )
    return bi, ch


def _edf_fields(edf: Path, ann: TuszAnnotation, exclude: Callable[[str], None]) -> tuple[float, tuple[str, ...]]:
    """Sampling rate and labels from an EDF header, checked against its annotation."""
    check = check_edf_header(edf, source=str(ann.path), wanted=TUSZ_CHANNELS, duration=ann.duration)
    if check.missing:
        exclude(f"lacks channel(s) {', '.join(check.missing)}; the benchmark reads the 19 referential 10-20 electrodes")
    elif len(check.rates) > 1:
        exclude(
            f"the 19 electrodes have different sampling rates "
            f"({', '.join(f'{r:g}' for r in check.rates)} Hz), so they cannot be read together"
        )
    return check.sfreq, check.header.channels


# -- loading --------------------------------------------------------------------------------------
class TuszLoader(DatasetLoader):
    """TUSZ v2.0.x annotation (and EDF) files at any depth (see :func:`load_tusz`)."""

    default_name = "tusz"
    what = "TUSZ data"
    layout = "TUSZ"
    channels = TUSZ_CHANNELS
    how_to_get = _HOW_TO_GET

    def __init__(self, data_dir, *, drop_types: Sequence[str] = ("MYSZ",), **options):
        super().__init__(data_dir, **options)
        self.drop = {t.upper() for t in drop_types}
        self.counts = {"untyped": 0, "no_edf": 0, "checked": 0}
        self.unknown_labels: set[str] = set()

    def find_recordings(self) -> dict[str, _Files]:
        self.notes.append(
            "seizure boundaries from .csv_bi terms, types from the .csv channel events overlapping "
            "them most; recordings have no start (TUSZ dates are de-identified)",
        )
        return _find(self.root, self.notes)

    def _recording(self, stem: str, files: _Files) -> Recording | None:
        subject = _STEM.match(stem)["subject"]
        rel_edf = (files.folder / f"{stem}.edf").relative_to(self.root).as_posix()

        def exclude(reason: str, scope: str = "recording") -> None:
            self.exclusions.append(Exclusion(scope, subject, f"{rel_edf}: {reason}", stem))

        if files.csv is None and files.csv_bi is None:
            exclude("no .csv or .csv_bi annotation beside it: its seizures are unknown, so it is left out of the index")
            return None
        bi, ch = _read_pair(files)
        main = bi or ch
        if ch:
            self.unknown_labels |= {
                e.label.upper()
                for e in ch.events
                if e.label != _BACKGROUND and e.label.upper() not in TUSZ_SEIZURE_TYPES
            }
        seizures, n_untyped = _seizures(bi, ch)
        self.counts["untyped"] += n_untyped
        drop = self.drop
        kept = [s for s in seizures if s.type is None or s.type not in drop]
        for s in seizures:
            if s not in kept:
                exclude(
                    f"{s.type} seizure at {s.onset:g}-{s.offset:g} s dropped (drop_types="
                    f"{','.join(sorted(drop))}: too rare to learn)",
                    scope="seizure",
                )
        if len(kept) < len(seizures):
            exclude(
                f"holds seizure(s) of a dropped type ({','.join(sorted(drop))}); left out "
                "so that their ictal EEG is not taken as background"
            )
        sfreq, channels = None, ()
        if files.edf is None:
            self.counts["no_edf"] += 1
        elif self.check_edf:
            self.counts["checked"] += 1
            sfreq, channels = _edf_fields(files.edf, main, exclude)
        return Recording(
            recording_id=stem,
            file=rel_edf,
            start=None,
            duration=main.duration,
            sfreq=sfreq,
            channels=channels,
            seizures=tuple(kept),
        )

    def build_patients(self, found: dict[str, _Files], facts: dict) -> list[Patient]:
        recordings: dict[str, list[Recording]] = {}
        info: dict[str, dict] = {}
        for stem in sorted(found, key=natural_key):
            files = found[stem]
            rec = self._recording(stem, files)
            if rec is None:
                continue
            subject = _STEM.match(stem)["subject"]
            recordings.setdefault(subject, []).append(rec)
            pinfo = info.setdefault(subject, {"montages": {}, "sets": set()})
            pinfo["montages"][stem] = _montage(files.folder)
            pinfo["sets"].update(p for p in files.folder.relative_to(self.root).parts if p in _SETS)
        if not recordings:
            raise DataError(
                f"no TUSZ annotation file (<subject>_sNNN_tNNN.csv or .csv_bi) found under {self.root}; {_HOW_TO_GET}"
            )
        return [
            Patient(
                patient_id=pid,
                recordings=tuple(recordings[pid]),
                subject_id=pid,
                info={"montages": info[pid]["montages"], "sets": sorted(info[pid]["sets"])},
            )
            for pid in sorted(recordings)
        ]

    def finish_notes(self, patients: list[Patient], facts: dict) -> None:
        counts = self.counts
        if self.check_edf:
            self.notes.append(
                f"EDF headers checked: {counts['checked']} present, {counts['no_edf']} absent (not checked)"
            )
        else:
            self.notes.append("EDF headers not read (check_edf=False): sampling rates and channels unknown")
        if counts["untyped"]:
            self.notes.append(f"{counts['untyped']} seizure(s) overlap no typed .csv channel event: type unknown")
        if self.unknown_labels:
            self.notes.append(
                "seizure labels outside the TUSZ v2 table kept as types: " + ", ".join(sorted(self.unknown_labels))
            )


def load_tusz(
    data_dir,
    *,
    check_edf: bool = True,
    dataset_name: str = "tusz",
    synthetic: bool = False,
    drop_types: Sequence[str] = ("MYSZ",),
) -> RecordingIndex:
    """Build the TUSZ v2.0.x recording index from a folder of its annotation (and EDF) files.

    Parameters
    ----------
    data_dir
        The TUSZ top folder (``edf/{train,dev,eval}/...``) or any folder holding
        ``<subject>_sNNN_tNNN.csv`` / ``.csv_bi`` files at any depth, with or without the EDFs.
    check_edf
        Read the headers of the EDF files beside the annotations: the sampling rate and labels go
        into the index, a recording lacking any of :data:`TUSZ_CHANNELS` gets a recording-level
        exclusion, and a duration differing from the annotations by more than 2 s is an error.
        With ``False`` no EDF is opened, so ``sfreq`` and ``channels`` stay unknown (and the
        content hash differs from the checked index of the same folder).
    dataset_name
        Name stored in the index (part of its content hash).
    synthetic
        Mark the index as synthetic. A folder holding ``SYNTHETIC.json`` is marked synthetic
        whatever this says.
    drop_types
        Seizure-type codes (case-insensitive) left out of the index, each with a seizure-level
        exclusion and a recording-level exclusion of its recording.

    Returns
    -------
    RecordingIndex
        Patients (TUSZ subjects) sorted by id, recordings by session and token;
        ``channels`` = :data:`TUSZ_CHANNELS`; every ``Recording.start`` is ``None``.
        ``patient.info`` holds ``montages`` ({recording_id: montage or None}) and ``sets`` (the
        TUSZ partitions, ``train``/``dev``/``eval``, that its files lie under).

    Raises
    ------
    DataError
        The folder is missing or holds no TUSZ annotation file, an annotation file is malformed,
        the two annotation files of a recording disagree on its duration, a recording appears
        twice, or (``check_edf``) an EDF header disagrees with its annotations.
    """
    return TuszLoader(
        data_dir, dataset_name=dataset_name, synthetic=synthetic, check_edf=check_edf, drop_types=drop_types
    ).load()
