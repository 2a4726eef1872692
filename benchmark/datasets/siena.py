"""The Siena Scalp EEG Database as a :class:`~benchmark.index.RecordingIndex`.

The Siena Scalp EEG Database (Detti, Vatti & Zabalo Manrique de Lara, 2020, "EEG Synchronization
Analysis for Seizure Prediction: A Study on Data of Noninvasive Recordings", Processes 8(7):846;
https://physionet.org/content/siena-scalp-eeg/1.0.0/, CC BY 4.0) holds video-EEG recordings of
14 adults at 512 Hz with 47 annotated seizures.

Layout
    ``<root>/PNxx/PNxx-N.edf``, ``<root>/PNxx/Seizures-list-PNxx.txt`` and
    ``<root>/subject_info.csv``. A seizure list directly under ``<root>`` is accepted too.

Seizure lists
    Free text written by hand, parsed by :func:`parse_seizure_list`. One block per seizure
    (``Seizure n K``, sometimes followed by a remark such as ``(in sleep):``) gives the file name,
    the registration (recording) start and end clock times and the seizure start and end clock
    times, as ``HH.MM.SS``. Wordings vary between lists: ``Seizure start time`` or ``Start time``,
    spaces before or after values, a space missing after the colon, a patient id line with
    surrounding spaces. Any other line is an error naming file and line, so a list in an
    unexpected form is never half-read. A block that repeats an earlier file may leave out the
    registration times.

Times
    A seizure's onset and offset are seconds from its file's registration start, taken modulo one
    day, so seizures after midnight and registrations crossing midnight come out right.
    Recordings are placed on a per-patient timeline from their registration start times in file
    order (:func:`benchmark.datasets.chbmit.place_on_timeline`: a start clock earlier than the
    previous file's is on the next day; the days between files are not published, so the
    smallest consistent gap is taken). A seizure ending after its registration end (``PN00-3``:
    18.28.29-19.29.29 in a registration ending 18.57.13) is kept with its offset clipped to the
    recording end, and its recording gets a recording-level exclusion: the written end cannot be
    trusted, so no label is drawn from that file.

Seizure types
    The lists give no per-seizure type. ``subject_info.csv`` classifies each patient's seizures
    as ``IAS`` (focal onset, impaired awareness), ``WIAS`` (focal onset, without impaired
    awareness) or ``FBTC`` (focal to bilateral tonic-clonic); that class is every seizure's
    ``Seizure.type``. It is ``None`` for a patient missing from ``subject_info.csv``.

Channels
    The benchmark reads the 19 10-20 electrodes, :data:`SIENA_CHANNELS`, in the old nomenclature
    that Siena uses (``T3``-``T6``); the EDF files label them ``EEG Fp1``, ... A recording whose
    list lacks any of them gets a recording-level exclusion. The lists write channel 5 as ``1``
    where the EDF files hold ``EEG O1`` (checked against the headers of ``PN00-1.edf`` and
    ``PN00-2.edf``); a bare ``1`` among the channels is read as ``O1``.

EDF files
    The canonical index comes from the text files, so its content hash does not depend on which
    EDF files are present. Present headers are checked: a sampling rate or electrode set that
    disagrees with the list is an error; an EDF start clock more than 2 s from the registration
    start, or an EDF more than 2 s shorter than the registration times (a cut excerpt or partial
    download), excludes the recording, since windows or seizure times would not fall where the
    index says; a longer EDF is only noted. EDF files in a patient folder that no seizure list
    mentions are seizure-free recordings with start clock, duration, sampling rate and labels
    from their headers (with ``check_edf=False`` their headers are not read, and they are
    excluded).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from benchmark.datasets._common import read_text, safe_relpath, text_stream
from benchmark.datasets.base import TEN_TWENTY_CHANNELS, DatasetLoader, check_edf_header
from benchmark.datasets.chbmit import natural_key, place_on_timeline
from benchmark.edf import match_channels
from benchmark.errors import DataError
from benchmark.index import Exclusion, Patient, Recording, RecordingIndex, Seizure

__all__ = ["SIENA_CHANNELS", "SeizureList", "load_siena", "parse_seizure_list"]

#: The 19 10-20 electrodes read from Siena, old nomenclature (as in its files).
SIENA_CHANNELS: tuple[str, ...] = TEN_TWENTY_CHANNELS

_DAY = 86400
_TOLERANCE_S = 2.0
_SEIZURE_CLASSES = ("IAS", "WIAS", "FBTC")
_SEX = {"male": "M", "m": "M", "female": "F", "f": "F"}
_LIST_NAME = re.compile(r"^Seizures-list-(?P<pid>PN\d+)\.txt$", re.IGNORECASE)
_PATIENT_DIR = re.compile(r"^PN\d+$")
_CLOCK = re.compile(r"^(?P<h>\d{1,2})[.:](?P<m>\d{2})[.:](?P<s>\d{2})$")
# Line patterns of the seizure lists, matched case-insensitively on the stripped line.
_PATIENT_LINE = re.compile(r"^(?P<pid>PN\d+)$", re.IGNORECASE)
_RATE_LINE = re.compile(r"^data\s+sampling\s+rate\s*:\s*(?P<v>\d+(?:\.\d+)?)\s*hz$", re.IGNORECASE)
_CHANNELS_HEAD = re.compile(r"^channels\s+in\s+edf\s+files\s*:?$", re.IGNORECASE)
_CHANNEL_LINE = re.compile(r"^channel\s+(?P<n>\d+)\s*:\s*(?P<label>.*)$", re.IGNORECASE)
# "Seizure n 1", "Seizure n 2 ", "Seizure n 1 (in sleep):"
_BLOCK_LINE = re.compile(r"^seizure\s+n\.?\s*\d+\s*(?:\([^)]*\))?\s*:?$", re.IGNORECASE)
_FIELD_LINES = (
    ("file", re.compile(r"^file\s*name\s*:\s*(?P<v>.*)$", re.IGNORECASE)),
    ("reg_start", re.compile(r"^registration\s+start\s+time\s*:\s*(?P<v>.*)$", re.IGNORECASE)),
    ("reg_end", re.compile(r"^registration\s+end\s+time\s*:\s*(?P<v>.*)$", re.IGNORECASE)),
    ("start", re.compile(r"^(?:seizure\s+)?start\s+time\s*:\s*(?P<v>.*)$", re.IGNORECASE)),
    ("end", re.compile(r"^(?:seizure\s+)?end\s+time\s*:\s*(?P<v>.*)$", re.IGNORECASE)),
)
_FIELD_WORDS = {
    "file": "File name",
    "reg_start": "Registration start time",
    "reg_end": "Registration end time",
    "start": "Seizure start time",
    "end": "Seizure end time",
}
_HOW_TO_GET = (
    "download the Siena Scalp EEG Database v1.0.0 from "
    "https://physionet.org/content/siena-scalp-eeg/1.0.0/ (folders PN00 ... PN17, each with its "
    "EDF files and Seizures-list-PNxx.txt, plus subject_info.csv)"
)


@dataclass(frozen=True)
class ListedSeizure:
    """One seizure block: clock times in seconds since midnight, and where it was written."""

    file: str
    start_clock: int
    end_clock: int
    line: int


@dataclass
class SeizureList:
    """A parsed ``Seizures-list-PNxx.txt``.

    Attributes
    ----------
    patient
        Patient id from the list's first line.
    sfreq
        ``Data Sampling Rate`` in Hz, ``None`` when the line is absent.
    channels
        Channel labels in channel-number order (the ``1`` typo read as ``O1``).
    registrations
        ``{file name: (start clock, end clock)}`` in seconds since midnight, in listing order.
    seizures
        Every seizure block, in listing order.
    source
        The file the list was read from (for messages).
    """

    patient: str
    sfreq: float | None
    channels: tuple[str, ...]
    registrations: dict[str, tuple[int, int]] = field(default_factory=dict)
    seizures: list[ListedSeizure] = field(default_factory=list)
    source: str = ""
    o1_typo: bool = False


def _clock(text: str, what: str, where: str) -> int:
    m = _CLOCK.match(text.strip())
    if m:
        h, mi, s = int(m["h"]), int(m["m"]), int(m["s"])
        if h < 24 and mi < 60 and s < 60:
            return h * 3600 + mi * 60 + s
    raise DataError(f"{where}: {what} {text.strip()!r} is not a clock time HH.MM.SS; fix the line")


def parse_seizure_list(text: str, source: str = "<seizure list>") -> SeizureList:
    """Parse the text of a Siena ``Seizures-list-PNxx.txt``.

    Parameters
    ----------
    text
        The file's text (any line endings).
    source
        Name used in error messages (normally the file path).

    Returns
    -------
    SeizureList

    Raises
    ------
    DataError
        A line in an unexpected form, a field given twice in one block, a block without file
        name or seizure times, a file without registration times, two blocks giving one file
        different registration times, or a list without patient id or seizures. The message
        names file and line.
    """
    patient, sfreq, channels, blocks = _read_lines(text, source)
    labels = [channels[k] for k in sorted(channels)]
    o1_typo = "1" in labels and not any(c.upper() == "O1" for c in labels)
    if o1_typo:
        labels = ["O1" if c == "1" else c for c in labels]
    out = SeizureList(patient, sfreq, tuple(labels), source=source, o1_typo=o1_typo)
    for start_line, fields in blocks:
        _add_block(out, start_line, fields)
    if not out.seizures:
        raise DataError(f"{source} lists no seizure; restore the original seizure list")
    return out


def _field_line(line: str, where: str, n: int, blocks: list) -> bool:
    """A ``Field: value`` line of the current seizure block; ``False`` when the line is none."""
    for key, pattern in _FIELD_LINES:
        fm = pattern.match(line)
        if fm:
            break
    else:
        return False
    if not blocks:
        raise DataError(f"{where}: {line!r} comes before the first 'Seizure n' line; restore the original seizure list")
    fields = blocks[-1][1]
    if key in fields:
        raise DataError(
            f"{where}: a second '{_FIELD_WORDS[key]}' in the seizure block starting on "
            f"line {blocks[-1][0]}; start each seizure with a 'Seizure n' line"
        )
    fields[key] = (fm["v"].strip(), n)
    return True


def _read_lines(text: str, source: str):
    """Patient id, sampling rate, numbered channels and the seizure blocks' fields, line by line."""
    patient: str | None = None
    sfreq: float | None = None
    channels: dict[int, str] = {}
    blocks: list[tuple[int, dict[str, tuple[str, int]]]] = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        where = f"{source}, line {n}"
        if not line:
            continue
        if patient is None:
            m = _PATIENT_LINE.match(line)
            if not m:
                raise DataError(
                    f"{where}: expected the patient id (e.g. 'PN00') as the first line, found "
                    f"{line!r}; restore the original seizure list"
                )
            patient = m["pid"].upper()
            continue
        if _BLOCK_LINE.match(line):
            blocks.append((n, {}))
            continue
        if _field_line(line, where, n, blocks):
            continue
        if blocks:
            raise DataError(
                f"{where}: unexpected line {line!r} in a seizure block; expected one of "
                f"{', '.join(repr(w + ':') for w in _FIELD_WORDS.values())} or 'Seizure n K'"
            )
        m = _RATE_LINE.match(line)
        if m:
            sfreq = float(m["v"])
            continue
        if _CHANNELS_HEAD.match(line):
            continue
        m = _CHANNEL_LINE.match(line)
        if m:
            number = int(m["n"])
            if number in channels:
                raise DataError(f"{where}: channel {number} is listed twice; list it once")
            channels[number] = m["label"].strip()
            continue
        raise DataError(
            f"{where}: unexpected line {line!r}; a seizure list holds the patient id, 'Data "
            "Sampling Rate: N Hz', 'Channel N: label' lines and 'Seizure n K' blocks"
        )
    if patient is None:
        raise DataError(f"{source} is empty; restore the original seizure list")
    return patient, sfreq, channels, blocks


def _registration(fields: dict, name: str, where: str, source: str) -> tuple[int, int] | None:
    """A block's registration start and end clock times, when it gives them."""
    if "reg_start" not in fields and "reg_end" not in fields:
        return None
    missing = [_FIELD_WORDS[k] for k in ("reg_start", "reg_end") if k not in fields]
    if missing:
        raise DataError(f"{where}: the seizure block lacks {missing[0]!r}; complete it")
    return tuple(
        _clock(fields[k][0], _FIELD_WORDS[k], f"{source}, line {fields[k][1]}") for k in ("reg_start", "reg_end")
    )


def _add_block(out: SeizureList, start_line: int, fields: dict) -> None:
    """One seizure block: its file's registration (first block of the file) and its seizure."""
    source, patient = out.source, out.patient
    where = f"{source}, line {start_line}"
    lacking = [_FIELD_WORDS[k] for k in ("file", "start", "end") if k not in fields]
    if lacking:
        raise DataError(f"{where}: the seizure block lacks {', '.join(repr(w) for w in lacking)}; complete it")
    name, name_line = fields["file"]
    if "/" in name or "\\" in name or not name.lower().endswith(".edf") or " " in name:
        raise DataError(
            f"{source}, line {name_line}: file name {name!r} is not an EDF file name like {patient}-1.edf; fix the line"
        )
    reg = _registration(fields, name, where, source)
    known = out.registrations.get(name)
    if reg is None and known is None:
        raise DataError(f"{where}: no registration start and end time for {name}; add them to its first seizure block")
    if reg is not None and known is not None and reg != known:
        raise DataError(f"{where}: registration times of {name} differ from an earlier block's; make them agree")
    if reg is not None and reg[0] == reg[1]:
        raise DataError(
            f"{source}, line {fields['reg_end'][1]}: registration of {name} ends when it starts; fix the times"
        )
    out.registrations.setdefault(name, reg or known)
    start, end = (_clock(fields[k][0], _FIELD_WORDS[k], f"{source}, line {fields[k][1]}") for k in ("start", "end"))
    out.seizures.append(ListedSeizure(name, start, end, fields["start"][1]))


# -- subject_info.csv -----------------------------------------------------------------------------
def _read_subject_info(path: Path) -> dict[str, dict]:
    """``subject_info.csv`` -> {patient: info}; {} when the file is absent."""
    if not path.is_file():
        return {}
    out: dict[str, dict] = {}
    with text_stream(path) as fh:
        reader = csv.reader(fh, skipinitialspace=True)
        header = [h.strip().lower() for h in next(reader, [])]
        required = ("patient_id", "age_years", "gender", "seizure")
        missing = [c for c in required if c not in header]
        if missing:
            raise DataError(f"{path} lacks column(s) {', '.join(missing)}; restore the original subject_info.csv")
        col = {name: i for i, name in enumerate(header)}
        for row in reader:
            where = f"{path}, line {reader.line_num}"
            row = [v.strip() for v in row]
            if not any(row):
                continue
            if len(row) != len(header):
                raise DataError(f"{where}: {len(row)} fields, the header has {len(header)}; fix the line")
            value = {name: row[i] for name, i in col.items()}
            pid = value["patient_id"].upper()
            if not _PATIENT_DIR.match(pid):
                raise DataError(f"{where}: patient_id {value['patient_id']!r} is not like PN00")
            try:
                age = float(value["age_years"])
            except ValueError:
                raise DataError(f"{where}: age_years {value['age_years']!r} is not a number") from None
            sex = _SEX.get(value["gender"].lower())
            if sex is None:
                raise DataError(f"{where}: gender {value['gender']!r} is not Male or Female")
            klass = value["seizure"].upper()
            if klass not in _SEIZURE_CLASSES:
                raise DataError(
                    f"{where}: seizure class {value['seizure']!r} is not one of "
                    f"{', '.join(_SEIZURE_CLASSES)}; fix the line"
                )
            info = {
                "age_years": int(age) if age.is_integer() else age,
                "sex": sex,
                "seizure_class": klass,
            }
            for name in ("localization", "lateralization"):
                if value.get(name):
                    info[name] = value[name]
            for name, key in (("number_seizures", "n_seizures_reported"), ("rec_time_minutes", "rec_minutes_reported")):
                if value.get(name, "").isdigit():
                    info[key] = int(value[name])
            if pid in out:
                raise DataError(f"{where}: patient {pid} is listed twice; list it once")
            out[pid] = info
    return out


# -- finding the files ----------------------------------------------------------------------------
def _find_lists(data_dir: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    candidates = [p for p in data_dir.iterdir() if p.is_file()]
    for d in data_dir.iterdir():
        if d.is_dir() and _PATIENT_DIR.match(d.name):
            candidates += [p for p in d.iterdir() if p.is_file()]
    for path in sorted(candidates):
        m = _LIST_NAME.match(path.name)
        if not m:
            continue
        pid = m["pid"].upper()
        other = found.get(pid)
        if other is not None and other.read_bytes() != path.read_bytes():
            raise DataError(f"two different seizure lists for {pid}: {other} and {path}; keep one")
        # The patient folder's copy wins over one at the top level.
        if other is None or path.parent.name == pid:
            found[pid] = path
    return found


def _edfs_on_disk(data_dir: Path, pid: str) -> list[str]:
    folder = data_dir / pid
    if not folder.is_dir():
        return []
    return sorted(
        (p.name for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".edf"),
        key=natural_key,
    )


# -- one patient ----------------------------------------------------------------------------------
@dataclass
class _Draft:
    """A recording while its patient is assembled."""

    name: str
    clock: int | None
    duration: float | None
    sfreq: float | None
    channels: tuple[str, ...]
    seizures: list[Seizure] = field(default_factory=list)
    listed: bool = True


def _listed_drafts(slist: SeizureList, kind: str | None, exclude) -> dict[str, _Draft]:
    """The seizure list's registrations, with their seizures in seconds from each start."""
    drafts: dict[str, _Draft] = {}
    for name, (reg_start, reg_end) in slist.registrations.items():
        drafts[name] = _Draft(name, reg_start, float((reg_end - reg_start) % _DAY), slist.sfreq, slist.channels)
    for sz in slist.seizures:
        d = drafts[sz.file]
        onset = float((sz.start_clock - d.clock) % _DAY)
        offset = float((sz.end_clock - d.clock) % _DAY)
        where = f"{Path(slist.source).name}, line {sz.line}"
        if offset <= onset:
            raise DataError(
                f"{slist.source}, line {sz.line}: seizure in {sz.file} ends before it starts "
                f"({_fmt(sz.start_clock)}-{_fmt(sz.end_clock)}); fix the times"
            )
        if onset >= d.duration:
            exclude(
                sz.file,
                f"seizure at {_fmt(sz.start_clock)} ({where}) starts after the registration "
                f"ends ({d.duration:g} s after its start); left out",
                scope="seizure",
            )
            exclude(sz.file, "a listed seizure lies outside the registration times, so its labels cannot be trusted")
            continue
        if offset > d.duration + _TOLERANCE_S:
            exclude(
                sz.file,
                f"seizure {_fmt(sz.start_clock)}-{_fmt(sz.end_clock)} ({where}) ends "
                f"{offset - d.duration:g} s after the registration end; kept with its end "
                "clipped to the recording end, recording left out because the written end "
                "cannot be trusted",
            )
            offset = d.duration
        d.seizures.append(Seizure(onset, offset, kind))
    return drafts


def _add_unlisted(
    data_dir: Path, pid: str, drafts: dict[str, _Draft], check_edf: bool, exclude, counts: dict[str, int]
) -> None:
    """EDF files no list mentions: seizure-free recordings described by their headers."""
    for name in _edfs_on_disk(data_dir, pid):
        if name in drafts:
            continue
        if not check_edf:
            drafts[name] = _Draft(name, None, None, None, (), listed=False)
            exclude(name, "not in the seizure list and its EDF header was not read (check_edf=False): duration unknown")
            continue
        check = check_edf_header(data_dir / pid / name, source="the seizure list", wanted=SIENA_CHANNELS)
        h = check.header
        drafts[name] = _Draft(name, _header_clock(h), h.duration, check.sfreq, h.channels, listed=False)
        counts["unlisted"] += 1


def _exclude_twins(drafts: dict[str, _Draft], exclude) -> set[str]:
    """Unlisted files that coincide with a listed registration may be the same recording under
    another name: their seizures would be taken as background."""
    listed = [d for d in drafts.values() if d.listed]
    twins = set()
    for d in drafts.values():
        if d.listed or d.clock is None:
            continue
        twin = next((o for o in listed if _clock_overlap(d, o)), None)
        if twin is not None:
            exclude(
                d.name,
                f"not in the seizure list, and its clock time overlaps {twin.name}'s "
                "registration: possibly the same recording under another name",
            )
            twins.add(d.name)
            d.clock = None
    return twins


def _check_drafts(pid: str, order: list[_Draft], starts: dict, twins: set[str], exclude, notes) -> None:
    """Note unlisted files off the timeline; exclude recordings lacking benchmark channels."""
    for d in order:
        if not d.listed and d.name not in starts and d.duration is not None and d.name not in twins:
            notes.append(
                f"{pid}/{d.name}: EDF header has no start time, so the recording is "
                "off the timeline (usable only where no timeline is needed)"
            )
        lacking = match_channels(d.channels, SIENA_CHANNELS)[1] if d.channels else []
        if lacking:
            exclude(d.name, f"lacks channel(s) {', '.join(lacking)}; the benchmark reads the 19 10-20 electrodes")
        elif not d.channels and d.listed:
            exclude(d.name, "the seizure list gives no channel list, so the electrodes are unknown")


def _patient(
    data_dir: Path,
    slist: SeizureList,
    info: dict,
    check_edf: bool,
    exclusions: list[Exclusion],
    notes: list[str],
    counts: dict[str, int],
) -> Patient:
    pid = slist.patient

    def exclude(name: str, reason: str, scope: str = "recording") -> None:
        exclusions.append(Exclusion(scope=scope, patient=pid, recording=name[:-4], reason=f"{pid}/{name}: {reason}"))

    drafts = _listed_drafts(slist, info.get("seizure_class"), exclude)
    _add_unlisted(data_dir, pid, drafts, check_edf, exclude, counts)
    twins = _exclude_twins(drafts, exclude)
    order = sorted(drafts.values(), key=lambda d: natural_key(d.name))
    placed = [d for d in order if d.clock is not None and d.duration is not None]
    offsets = place_on_timeline([(d.clock, d.duration) for d in placed])
    starts = dict(zip((d.name for d in placed), offsets))
    _check_drafts(pid, order, starts, twins, exclude, notes)
    if check_edf:
        _check_edfs(data_dir, pid, [d for d in order if d.listed], exclude, notes, counts)
    recordings = tuple(
        Recording(
            recording_id=d.name[:-4],
            file=f"{pid}/{d.name}",
            start=starts.get(d.name),
            duration=d.duration,
            sfreq=d.sfreq,
            channels=d.channels,
            seizures=tuple(sorted(d.seizures, key=lambda s: (s.onset, s.offset))),
        )
        for d in order
    )
    # Chronological where placed; the rest after, by name.
    recordings = tuple(
        sorted(
            recordings,
            key=lambda r: (r.start is None, r.start or 0.0, natural_key(r.recording_id)),
        )
    )
    return Patient(patient_id=pid, recordings=recordings, subject_id=pid, info=dict(info))


def _clock_overlap(a: _Draft, b: _Draft) -> bool:
    """Whether two recordings' clock spans overlap on a 24-hour dial."""
    if a.duration is None or b.duration is None:
        return False
    d = (a.clock - b.clock) % _DAY
    return d < b.duration or _DAY - d < a.duration


def _header_clock(h) -> int | None:
    """An EDF header's start time in seconds since midnight (its date is de-identified)."""
    if h.start is None:
        return None
    return h.start.hour * 3600 + h.start.minute * 60 + h.start.second


def _fmt(clock: int) -> str:
    return f"{clock // 3600:02d}.{clock // 60 % 60:02d}.{clock % 60:02d}"


def _check_edfs(data_dir, pid, drafts, exclude, notes, counts) -> None:
    """Compare the headers of present, listed EDF files with the seizure list."""
    for d in drafts:
        path = data_dir / pid / d.name
        if not path.is_file():
            counts["absent"] += 1
            continue
        counts["checked"] += 1
        h = check_edf_header(
            path, source="the seizure list", wanted=SIENA_CHANNELS, listed=d.channels, sfreq=d.sfreq
        ).header
        clock = _header_clock(h)
        if clock is not None:
            off = (clock - d.clock) % _DAY
            off = min(off, _DAY - off)
            if off > _TOLERANCE_S:
                exclude(
                    d.name,
                    f"EDF starts at {_fmt(clock)} but the registration at "
                    f"{_fmt(d.clock)}, so seizure times would be misplaced",
                )
        if h.duration < d.duration - _TOLERANCE_S:
            exclude(
                d.name,
                f"EDF holds {h.duration:g} s of the {d.duration:g} s the registration "
                "times give (a cut excerpt or partial download): windows past its end cannot "
                "be read",
            )
        elif h.duration > d.duration + _TOLERANCE_S:
            notes.append(
                f"{pid}/{d.name}: EDF holds {h.duration:g} s, the registration times "
                f"{d.duration:g} s; the index uses the registration span"
            )


class SienaLoader(DatasetLoader):
    """The Siena Scalp EEG Database in its PhysioNet layout (see :func:`load_siena`)."""

    default_name = "siena"
    what = "Siena data"
    layout = "Siena"
    channels = SIENA_CHANNELS
    how_to_get = _HOW_TO_GET

    def find_recordings(self) -> dict[str, Path]:
        lists = _find_lists(self.root)
        for d in sorted(self.root.iterdir()):
            orphan = d.is_dir() and _PATIENT_DIR.match(d.name) and d.name not in lists
            if orphan and _edfs_on_disk(self.root, d.name):
                raise DataError(
                    f"{d} holds EDF files but no Seizures-list-{d.name}.txt, so its seizures are "
                    f"unknown; restore the list from PhysioNet or remove the folder"
                )
        if not lists:
            raise DataError(f"no Seizures-list-PNxx.txt found in {self.root}; {_HOW_TO_GET}")
        return lists

    def patient_facts(self) -> dict[str, dict]:
        return _read_subject_info(self.root / "subject_info.csv")

    def _seizure_list(self, pid: str, path: Path) -> SeizureList:
        # The published lists are 8-bit text; UTF-16 is still refused.
        slist = parse_seizure_list(read_text(path, latin1_fallback=True), source=str(path))
        for name in dict.fromkeys([*slist.registrations, *(sz.file for sz in slist.seizures)]):
            safe_relpath(self.root, f"{pid}/{name}", where=str(path), what="file name")
        if slist.patient != pid:
            raise DataError(
                f"{path} is named for {pid} but its first line says {slist.patient}; restore the original seizure list"
            )
        if slist.o1_typo:
            self.notes.append(f"{pid}: channel label '1' in the seizure list read as O1")
        return slist

    def build_patients(self, lists: dict[str, Path], facts: dict[str, dict]) -> list[Patient]:
        self.notes += [
            "times from the seizure lists' clock times (modulo one day); timeline from registration "
            "starts in file order",
            "Seizure.type is the patient's seizure class from subject_info.csv (IAS, WIAS, FBTC)",
        ]
        self.counts = {"checked": 0, "absent": 0, "unlisted": 0}
        patients = []
        for pid in sorted(lists, key=natural_key):
            slist = self._seizure_list(pid, lists[pid])
            patient = _patient(
                self.root, slist, facts.get(pid, {}), self.check_edf, self.exclusions, self.notes, self.counts
            )
            reported = patient.info.get("n_seizures_reported")
            if reported is not None and reported != patient.n_seizures:
                self.notes.append(
                    f"{pid}: subject_info.csv reports {reported} seizures, the seizure list gives {patient.n_seizures}"
                )
            patients.append(patient)
        return patients

    def finish_notes(self, patients: list[Patient], facts: dict[str, dict]) -> None:
        if not facts:
            self.notes.append("no subject_info.csv: patient info and seizure types unknown")
        else:
            self.note_unlisted(patients, facts, "subject_info.csv entry")
            if self.notes[-1].startswith("no subject_info.csv entry for:"):
                self.notes[-1] += " (seizure type unknown)"
        unlisted = sorted(set(facts) - {p.patient_id for p in patients}, key=natural_key)
        if unlisted:
            self.notes.append(
                "subject_info.csv lists patients without a seizure list (not loaded): " + ", ".join(unlisted)
            )
        if self.check_edf:
            c = self.counts
            self.notes.append(
                f"EDF headers checked: {c['checked']} present, {c['absent']} absent (not "
                f"checked); {c['unlisted']} EDF file(s) not in any seizure list read as "
                "seizure-free recordings"
            )

    def finish(self, patients, **options) -> RecordingIndex:
        return super().finish(patients, noun="patients", **options)


# -- loading --------------------------------------------------------------------------------------
def load_siena(
    data_dir,
    *,
    check_edf: bool = True,
    dataset_name: str = "siena",
    synthetic: bool = False,
) -> RecordingIndex:
    """Build the Siena Scalp EEG recording index from a PhysioNet-layout folder.

    Parameters
    ----------
    data_dir
        Folder with ``PNxx/Seizures-list-PNxx.txt`` (or ``Seizures-list-PNxx.txt`` at its top),
        optionally ``subject_info.csv`` and the EDF files ``PNxx/PNxx-N.edf``.
    check_edf
        Check the headers of present EDF files against the seizure lists and read the headers of
        EDF files no list mentions (see the module notes). Absent EDF files are not an error.
    dataset_name
        Name stored in the index (part of its content hash).
    synthetic
        Mark the index as synthetic. A folder holding ``SYNTHETIC.json`` is marked synthetic
        whatever this says.

    Returns
    -------
    RecordingIndex
        Patients in natural order, recordings chronological, ``channels`` =
        :data:`SIENA_CHANNELS`. ``patient.info`` holds ``age_years``, ``sex`` (``"F"``/``"M"``),
        ``seizure_class``, ``localization``, ``lateralization``, ``n_seizures_reported`` and
        ``rec_minutes_reported`` from ``subject_info.csv``.

    Raises
    ------
    DataError
        The folder or its seizure lists are missing, a list or ``subject_info.csv`` is
        malformed, a patient folder holds EDF files but no seizure list, or an EDF header
        disagrees with its list in sampling rate or electrodes.
    """
    return SienaLoader(data_dir, dataset_name=dataset_name, synthetic=synthetic, check_edf=check_edf).load()
