"""Exchange with the SzCORE ecosystem: hypothesis files out and in, and szcore-evaluation's JSON.

SzCORE (Dan et al., 2024, "SzCORE: seizure community open-source research evaluation framework for
the validation of electroencephalography-based automated seizure detection algorithms", Epilepsia,
doi:10.1111/epi.18113) exchanges detections as BIDS ``*_events.tsv`` files, one per recording, with
the columns of :data:`HYPOTHESIS_COLUMNS` (a seizure row has an ``eventType`` starting with ``sz``; a
recording without detections has one ``bckg`` row covering it), and reports results in the JSON
layout of its reference scorer ``szcore-evaluation`` (``sample_results`` and ``event_results``, each
with the mean and standard deviation over subjects of sensitivity, precision, F1 and ``fpRate``, the
false positives per 24 h).

* :func:`export_hypotheses` writes the detections of a detection run (its window scores turned
  into events by the run's own post-processing) as such files.
* :func:`score_hypotheses` scores a folder of such files, made by any tool, against a dataset's
  annotations with the same event and sample scoring as runs (:func:`benchmark.events.score_events`)
  and stores it as a result set of kind ``"scored"`` carrying the folder's SHA-256.
* :func:`szcore_json` lays a stored detection run or scored set out as szcore-evaluation does.

Files are named by :func:`hypothesis_names`: a recording of a BIDS dataset keeps its BIDS basename
and folder (``sub-01/ses-01/eeg/sub-01_ses-01_task-szMonitoring_run-00_events.tsv``); a recording of
another layout is named ``sub-<patient>/ses-01/eeg/sub-<patient>_ses-01_task-szMonitoring_run-<NN>``
(the patient id without other characters than letters and digits, runs numbered from 00 in the
index's recording order). Hypothesis files are read strictly (:func:`_read_hypothesis_file`): a row
that SzCORE would not read as background or seizure is refused, never skipped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import numpy as np

from benchmark.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

    from benchmark.index import RecordingIndex
    from benchmark.store import ResultStore, RunRecord

log = logging.getLogger(__name__)

#: Columns of a hypothesis file, as szcore-evaluation (``epilepsy2bids``) writes and reads them.
HYPOTHESIS_COLUMNS = ("onset", "duration", "eventType", "confidence", "channels", "dateTime", "recordingDuration")
#: The task of every hypothesis file and of the scored sets.
TASK = "detection"
#: Protocol recorded for a scored folder when none is given: its training is not known here.
EXTERNAL_PROTOCOL = "external"
# The four ratios of szcore-evaluation's JSON, by our count names (see benchmark.events.EventCounts).
_JSON_METRICS = ("sensitivity", "precision", "f1", "fpRate")
_BIDS_BASENAME = re.compile(r"^sub-[A-Za-z0-9]+(_[a-z]+-[A-Za-z0-9]+)*$")


# -- names -----------------------------------------------------------------------------------------
def hypothesis_names(index: RecordingIndex) -> dict[tuple[str, str], str]:
    """The relative path of every recording's hypothesis file, by ``(patient, recording)``.

    The one naming rule of export and import (see the module docstring). File names are unique
    across the dataset, so a folder may also hold them flat.

    Raises
    ------
    DataError
        If two recordings would get the same file name (patient ids equal once reduced to letters
        and digits).
    """
    out: dict[tuple[str, str], str] = {}
    for patient in index.patients:
        pid = patient.patient_id
        sub = re.sub(r"[^A-Za-z0-9]", "", pid.removeprefix("sub-")) or "x"
        for i, rec in enumerate(patient.recordings):
            if _BIDS_BASENAME.match(rec.recording_id) and "_task-" in rec.recording_id:
                folder = PurePosixPath(rec.file).parent
                out[(pid, rec.recording_id)] = (folder / f"{rec.recording_id}_events.tsv").as_posix()
            else:
                base = f"sub-{sub}_ses-01_task-szMonitoring_run-{i:02d}"
                out[(pid, rec.recording_id)] = f"sub-{sub}/ses-01/eeg/{base}_events.tsv"
    seen: dict[str, tuple[str, str]] = {}
    for key, rel in out.items():
        name = PurePosixPath(rel).name
        if name in seen:
            raise DataError(
                f"recordings {'/'.join(seen[name])} and {'/'.join(key)} of {index.dataset} would both be "
                f"named {name}; patient ids must differ in their letters and digits"
            )
        seen[name] = key
    return out


def scored_recordings(index: RecordingIndex) -> dict[tuple[str, str], Any]:
    """Recordings a hypothesis folder is scored on: those the detection task labels (known duration,
    not excluded by the loader), by ``(patient, recording)``."""
    from benchmark.tasks.base import timed_recordings

    return {(p.patient_id, r.recording_id): r for p in index.patients for r in timed_recordings(index, p)}


# -- hypotheses out ----------------------------------------------------------------------------------
def _number(x: float) -> str:
    """Seconds as the shortest text of their value to the microsecond (window times' resolution)."""
    return repr(round(float(x), 6))


def hypothesis_text(events: list[tuple[float, float, float]], duration: float) -> str:
    """One recording's hypothesis file: a ``sz`` row per ``(start, end, confidence)`` event, or one
    ``bckg`` row covering the recording when there is none (as ``epilepsy2bids`` writes it)."""
    rows = ["\t".join(HYPOTHESIS_COLUMNS)]
    length = _number(duration)
    for start, end, confidence in events:
        conf = f"{confidence:.4f}" if math.isfinite(confidence) else "n/a"
        rows.append("\t".join([_number(start), _number(end - start), "sz", conf, "n/a", "n/a", length]))
    if not events:
        rows.append("\t".join(["0.0", length, "bckg", "n/a", "n/a", "n/a", length]))
    return "\n".join(rows) + "\n"


def run_events(scores: pd.DataFrame, post) -> dict[tuple[str, str], list[tuple[float, float, float]]]:
    """A detection run's events per ``(patient, recording)``, from its window scores and its
    post-processing, each with a confidence: the highest window score within it."""
    from benchmark.events import windows_to_events

    out = {}
    for (pid, rid), rows in scores.groupby(["patient", "recording"], sort=True):
        starts, ends, values = (rows[c].to_numpy(float) for c in ("start", "end", "score"))
        events = []
        for s, e in windows_to_events(starts, ends, values, post):
            inside = values[(starts < e) & (ends > s)]
            events.append((s, e, float(inside.max()) if inside.size else float("nan")))
        out[(str(pid), str(rid))] = events
    return out


def export_hypotheses(store_path: Path, run_ref: str, out_dir: Path, data_dir: Path | None = None) -> list[Path]:
    """Write a detection run's detections as SzCORE hypothesis files under ``out_dir``.

    One file per recording the run tested, named by :func:`hypothesis_names`; the dataset (from
    ``data_dir``, else its default place) gives the names and recording durations.

    Raises
    ------
    DataError
        If the run is not a detection run with stored window scores and event post-processing.
    """
    from benchmark.datasets import load_dataset
    from benchmark.events import PostProcessing
    from benchmark.store import ResultStore

    store = ResultStore(store_path)
    run = store.resolve(run_ref)
    post = (run.provenance or {}).get("event_scoring", {}).get("post_processing")
    if run.kind != "run" or run.task != TASK or post is None:
        raise DataError(
            f"{run.run_id} is a {run.kind} set of task {run.task}; only detection runs with scored "
            "window scores have detections to write as SzCORE hypotheses"
        )
    index = load_dataset(run.dataset, data_dir)
    if run.index_hash and index.content_hash() != run.index_hash:
        log.warning("the dataset %s differs from the version run %s used; file names may not match", index.dataset, run)
    names = hypothesis_names(index)
    written = []
    for (pid, rid), events in run_events(store.scores(run.run_id), PostProcessing(**post)).items():
        path = Path(out_dir) / names[(pid, rid)]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(hypothesis_text(events, float(index.recording(pid, rid).duration)), encoding="utf-8")
        written.append(path)
    log.info("wrote %d hypothesis files of run %s under %s", len(written), run.run_id, out_dir)
    return written


# -- hypotheses in -----------------------------------------------------------------------------------
def folder_hash(folder: Path) -> str:
    """SHA-256 of a hypothesis folder: every ``*_events.tsv`` file's relative path and bytes."""
    digest = hashlib.sha256()
    for path in sorted(Path(folder).rglob("*_events.tsv")):
        digest.update(path.relative_to(folder).as_posix().encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _check_utf8(path: Path) -> None:
    """Refuse a file that is not UTF-8, naming the line of the first bad byte."""
    raw = path.read_bytes()
    try:
        raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise DataError(
            f"{path}, line {line}: byte 0x{raw[err.start]:02x} is not UTF-8; save the hypothesis file as UTF-8"
        ) from None


def is_event_type(kind: str) -> bool:
    """Whether ``kind`` is an ``eventType`` of SzCORE's vocabulary: ``bckg`` (background) or a
    seizure, ``sz`` or a typed ``sz_...`` (HED-SCORE seizure types), in lower case as SzCORE writes."""
    return kind in ("bckg", "sz") or (kind.startswith("sz_") and len(kind) > 3)


def _read_hypothesis_file(path: Path, recording: str, duration: float) -> list[tuple[float, float]]:
    """The seizure events ``(onset, offset)`` of one hypothesis file of a recording lasting
    ``duration`` seconds; a one-line :class:`DataError` naming the file and line of anything else.

    Lines are counted as an editor counts them (blank lines included; they are skipped). Every row
    has as many tab-separated fields as the header, a known ``eventType`` (:func:`is_event_type`),
    a finite onset >= 0, a duration > 0 and an end within the recording; ``recordingDuration`` and
    ``dateTime``, when given, are one value per file and agree with the recording.
    """
    from benchmark.datasets.bids_eeg import _DURATION_TOLERANCE_S, _MISSING, event_times

    _check_utf8(path)
    lines = [(n, line) for n, line in enumerate(path.read_bytes().decode("utf-8-sig").splitlines(), 1) if line.strip()]
    expected = "\t".join(HYPOTHESIS_COLUMNS)
    if not lines:
        raise DataError(f"{path} is empty; a hypothesis file starts with the header row {expected!r}")
    first, header = lines[0]
    columns = [c.strip() for c in header.split("\t")]
    missing = [c for c in HYPOTHESIS_COLUMNS[:3] if c not in columns]
    if missing:
        raise DataError(
            f"{path}, line {first}: no column {', '.join(missing)}; a hypothesis file's header is "
            f"{expected!r} (tab-separated)"
        )
    doubled = sorted({c for c in columns if columns.count(c) > 1})
    if doubled:
        raise DataError(f"{path}, line {first}: column {', '.join(doubled)} appears twice; keep one of each")
    events: list[tuple[float, float]] = []
    per_file: dict[str, dict[str, int]] = {"recordingDuration": {}, "dateTime": {}}
    for n, line in lines[1:]:
        where = f"{path}, line {n}"
        cells = [c.strip() for c in line.split("\t")]
        if len(cells) != len(columns):
            raise DataError(
                f"{where}: {len(cells)} tab-separated fields, the header has {len(columns)}; "
                "write one field per column (an empty one as n/a)"
            )
        row = dict(zip(columns, cells))
        kind = row["eventType"]
        if not is_event_type(kind):
            raise DataError(
                f"{where}: eventType {kind!r} is not SzCORE's; use 'bckg' for background and 'sz' "
                "(or a seizure type 'sz_...') for a seizure, in lower case"
            )
        onset, length = event_times(row, where)
        if onset + length > duration + _DURATION_TOLERANCE_S:
            raise DataError(
                f"{where}: the event ends at {onset + length:g} s, after the end of recording {recording} "
                f"({duration:g} s); is the file for another recording?"
            )
        for column, seen in per_file.items():
            if row.get(column, "") not in _MISSING:
                seen.setdefault(row[column], n)
        if kind != "bckg":
            # End times to the microsecond, as written: onset + duration must not add float noise.
            events.append((onset, round(onset + length, 6)))
    _check_recording_values(path, per_file, recording, duration)
    return events


def _check_recording_values(path: Path, per_file: dict[str, dict[str, int]], recording: str, duration: float) -> None:
    """``recordingDuration`` and ``dateTime`` (value -> first line) are one value per file, the
    duration the recording's and the date a date-time; a one-line :class:`DataError` otherwise."""
    from benchmark.datasets._common import parse_seconds
    from benchmark.datasets.bids_eeg import _DURATION_TOLERANCE_S

    for column, seen in per_file.items():
        if len(seen) > 1:
            (v1, n1), (v2, n2) = sorted(seen.items(), key=lambda kv: kv[1])[:2]
            raise DataError(
                f"{path}, line {n2}: {column} {v2!r}, but {v1!r} on line {n1}; it describes the "
                "recording and is the same on every row"
            )
    for text, n in per_file["recordingDuration"].items():
        stated = parse_seconds(text, "recordingDuration", f"{path}, line {n}")
        if abs(stated - duration) > _DURATION_TOLERANCE_S:
            raise DataError(
                f"{path}, line {n}: recordingDuration {stated:g} s, but recording {recording} lasts "
                f"{duration:g} s; is the file for another dataset?"
            )
    for text, n in per_file["dateTime"].items():
        try:
            dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise DataError(
                f"{path}, line {n}: dateTime {text!r} is not a date-time like 2021-03-04 22:15:00"
            ) from None


def read_hypotheses(folder: Path, index: RecordingIndex) -> dict[tuple[str, str], list[tuple[float, float]]]:
    """The seizure events of every hypothesis file in ``folder``, by ``(patient, recording)``.

    Files are matched to recordings by name (:func:`hypothesis_names`; sub-folders do not matter)
    and read by :func:`_read_hypothesis_file`: rows whose ``eventType`` is ``sz`` or ``sz_...`` are
    events, ``bckg`` rows are background.

    Raises
    ------
    DataError
        One line naming the file (and line) when the folder holds no hypothesis file, a file names
        no recording of the dataset or one it does not score, is not UTF-8, lacks a column, holds a
        malformed row or an event past the recording's end, or states a ``recordingDuration``
        other than the recording's.
    """
    folder = Path(folder)
    if index.modality != "eeg":
        raise DataError(f"{index.dataset} is a {index.modality} dataset; SzCORE hypotheses score EEG seizure detection")
    if not folder.is_dir():
        raise DataError(f"hypothesis folder {folder} does not exist; pass --hypotheses a folder of *_events.tsv files")
    files = sorted(folder.rglob("*_events.tsv"))
    if not files:
        raise DataError(f"{folder} holds no *_events.tsv hypothesis files; pass the folder SzCORE tools wrote")
    by_name = {PurePosixPath(rel).name: key for key, rel in hypothesis_names(index).items()}
    scored = scored_recordings(index)
    out: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for path in files:
        key = by_name.get(path.name)
        if key is None or key not in scored:
            example = next(iter(by_name), "sub-01_ses-01_task-szMonitoring_run-00_events.tsv")
            what = "names no recording" if key is None else f"names recording {key[1]}, which is not scored,"
            raise DataError(f"{path} {what} of dataset {index.dataset}; hypothesis files are named like {example}")
        if key in out:
            raise DataError(f"{path}: a second hypothesis file for recording {key[1]}; keep one file per recording")
        out[key] = _read_hypothesis_file(path, key[1], float(scored[key].duration))
    return out


def score_folder(folder: Path, index: RecordingIndex) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Event and sample scores per patient of a hypothesis folder, and what its provenance records.

    A scored recording without a hypothesis file has no detections, as in szcore-evaluation; the
    provenance lists them.
    """
    from benchmark.events import score_events, scoring_records

    hypotheses = read_hypotheses(folder, index)
    recordings = scored_recordings(index)
    missing = [key for key in recordings if key not in hypotheses]
    if missing:
        log.warning(
            "%d of %d recordings have no hypothesis file: scored as no detections", len(missing), len(recordings)
        )
    # Recording names need not be unique across patients; key them by patient too (as runs do).
    keyed = {f"{p}/{r}": (p, r) for p, r in recordings}
    table = score_events(
        {k: hypotheses.get(key, []) for k, key in keyed.items()},
        {k: key[0] for k, key in keyed.items()},
        {k: [(sz.onset, sz.offset) for sz in recordings[key].seizures] for k, key in keyed.items()},
        {k: float(recordings[key].duration) for k, key in keyed.items()},
        *_scoring_params(),
    )
    provenance = {
        "hypotheses": {
            "folder": str(folder),
            "sha256": folder_hash(folder),
            "files": len(hypotheses),
            "recordings_without_file": ["/".join(key) for key in missing],
        },
        **scoring_records(table, None),
    }
    return table, provenance


def _scoring_params():
    from benchmark.events import SampleParams, SzcoreParams

    return SzcoreParams(), SampleParams()


def score_hypotheses(
    store_path: Path,
    dataset: str,
    folder: Path,
    *,
    data_dir: Path | None = None,
    protocol: str = EXTERNAL_PROTOCOL,
    name: str | None = None,
) -> RunRecord:
    """Score a folder of hypothesis files against ``dataset`` and store it as a ``scored`` set.

    Every file is read and checked before the store is touched, so a refused folder stores nothing.
    The set's id depends on the folder's content hash, the dataset version and ``protocol``: the
    same folder scored again is the same set, returned as stored (under its first name). The
    record, per-patient metrics and summary are written in one transaction.
    """
    from benchmark.datasets import load_dataset
    from benchmark.metrics import EVENT_METRICS, SAMPLE_METRICS, summarize
    from benchmark.provenance import package_versions
    from benchmark.store import ResultStore, RunRecord, utc_now

    if protocol != EXTERNAL_PROTOCOL:
        from benchmark.protocols import get_protocol

        get_protocol(protocol)  # a board's protocol: a known name, else a one-line error
    index = load_dataset(dataset, data_dir)
    table, provenance = score_folder(Path(folder), index)
    per_patient = table[[*EVENT_METRICS, *SAMPLE_METRICS]]
    digest = provenance["hypotheses"]["sha256"]
    key = hashlib.sha256(f"{digest}\0{index.content_hash()}\0{protocol}".encode()).hexdigest()[:12]
    label = name or Path(folder).resolve().name
    now = utc_now()
    record = RunRecord(
        run_id=f"scored-{index.dataset}-{key}",
        kind="scored",
        method=label,
        dataset=index.dataset,
        task=TASK,
        protocol=protocol,
        index_hash=index.content_hash(),
        synthetic=index.synthetic,
        status="complete",
        created_at=now,
        finished_at=now,
        display_name=label,
        provenance={**provenance, "versions": package_versions()},
        notes=f"SzCORE hypothesis files scored by seizure-bench (folder sha256 {digest})",
    )
    store = ResultStore(store_path)
    store.require_writable()
    existing = store.get_run(record.run_id)
    if existing is not None:
        # The set's id is its content: scoring the same files again stores nothing new.
        renamed = f"; its name stays {existing.method!r}" if name and name != existing.method else ""
        log.warning("%s is already stored as %s%s", folder, existing.run_id, renamed)
        return existing
    return store.create_result_set(record, per_patient, summarize(per_patient))


# -- szcore-evaluation's JSON --------------------------------------------------------------------------
def _section(per_patient: Mapping[str, Mapping[str, float]]) -> dict[str, Any]:
    """One ``*_results`` block: szcore-evaluation's mean and (population) std over subjects of each
    ratio, then the pooled counts and every subject's own figures."""
    from benchmark.events import EventCounts

    subjects = {}
    for patient, c in sorted(per_patient.items()):
        counts = EventCounts(int(c["tp"]), int(c["fp"]), int(c["n_ref"]), float(c["hours"]) * 3600.0)
        values = (counts.sensitivity, counts.precision, counts.f1, counts.fa_per_24h)
        subjects[patient] = {
            **dict(zip(_JSON_METRICS, values)),
            "tp": counts.tp,
            "fp": counts.fp,
            "refTrue": counts.n_ref,
            "duration": counts.duration_s,
        }
    out: dict[str, Any] = {}
    for metric in _JSON_METRICS:
        values = np.array([s[metric] for s in subjects.values()], dtype=float)
        finite = values[~np.isnan(values)]
        out[metric] = float(finite.mean()) if finite.size else None
        out[f"{metric}_std"] = float(finite.std()) if finite.size else None
    for count in ("tp", "fp", "refTrue", "duration"):
        out[count] = sum(s[count] for s in subjects.values())
    out["subjects"] = {
        p: {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in s.items()}
        for p, s in subjects.items()
    }
    return out


def szcore_json(store: ResultStore, run_ref: str) -> dict[str, Any]:
    """A detection run or scored set in szcore-evaluation's JSON layout.

    ``sample_results`` and ``event_results`` hold, as szcore-evaluation writes them, the mean and
    standard deviation (``numpy.nanstd``) over subjects of ``sensitivity``, ``precision``, ``f1``
    and ``fpRate`` (false positives per 24 h); then the counts behind them (``tp``, ``fp``,
    ``refTrue``, ``duration`` in seconds), pooled, and per subject under ``subjects``. Undefined
    values are ``null``. ``settings`` holds the scoring settings recorded with the set.

    Raises
    ------
    DataError
        If the set has no per-patient SzCORE counts (not a detection set, or stored before sample
        scoring: re-running its command re-scores it).
    """
    run = store.resolve(run_ref)
    prov = run.provenance or {}
    sections = {k: prov.get(f"{k}_scoring", {}) for k in ("sample", "event")}
    if not all("per_patient" in s for s in sections.values()):
        raise DataError(
            f"{run.run_id} has no per-patient SzCORE counts (task {run.task}); only detection runs and scored "
            "hypothesis sets have them: re-run the run's command to re-score a run stored before sample scoring"
        )
    return {
        "sample_results": _section(sections["sample"]["per_patient"]),
        "event_results": _section(sections["event"]["per_patient"]),
        "settings": {
            "run_id": run.run_id,
            "kind": run.kind,
            "dataset": run.dataset,
            "synthetic": bool(run.synthetic),
            "sample_scoring": sections["sample"].get("szcore", {}),
            "event_scoring": sections["event"].get("szcore", {}),
            "post_processing": sections["event"].get("post_processing"),
        },
    }
