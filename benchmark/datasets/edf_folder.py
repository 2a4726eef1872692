"""A private dataset given as a folder of EDF files plus two CSV tables.

For hospital data such as SNUH's (21 unipolar scalp channels at 200 Hz) that cannot be shared:
the benchmark reads it in place from this layout::

    data_dir/
        edf-folder.json     {"name": "snuh", "channels": ["Fp1", "F3", ...]}  (or edf-folder.toml)
        manifest.csv        patient,recording,file,start_time[,subject]
        seizures.csv        patient,recording,onset,offset[,type]
        any/sub/folders/*.edf

``file`` is relative to ``data_dir``; ``start_time`` is an ISO 8601 date-time and places the
recording on its patient's timeline (seconds since the patient's first start); ``onset`` and
``offset`` are seconds from the start of the recording. Durations, sampling rates and channel labels
come from the EDF headers, so every EDF file must be present.

A recording that lacks some of the configured channels is kept, with a recording-level
:class:`~benchmark.index.Exclusion`; a channel missing from every recording is taken to be a
configuration mistake and is an error.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmark.datasets._common import (
    parse_seconds,
    read_text,
    safe_dataset_name,
    safe_relpath,
    text_stream,
)
from benchmark.datasets.base import DatasetLoader, check_edf_header
from benchmark.datasets.chbmit import natural_key
from benchmark.edf import match_channels, read_header
from benchmark.errors import DataError
from benchmark.index import Patient, Recording, RecordingIndex, Seizure

__all__ = ["CONFIG_NAMES", "load_edf_folder"]

#: Configuration files looked for in the data folder, in this order.
CONFIG_NAMES = ("edf-folder.json", "edf-folder.toml")
_CONFIG_KEYS = {"channels", "name", "description"}
_MANIFEST_COLUMNS = ("patient", "recording", "file", "start_time")
_SEIZURE_COLUMNS = ("patient", "recording", "onset", "offset")
_EPS = 1e-6


def _read_config(data_dir: Path) -> tuple[dict[str, Any], str | None]:
    for name in CONFIG_NAMES:
        path = data_dir / name
        if not path.is_file():
            continue
        try:
            if name.endswith(".json"):
                cfg = json.loads(read_text(path))
            else:
                cfg = tomllib.loads(read_text(path))
        except (json.JSONDecodeError, tomllib.TOMLDecodeError) as err:
            raise DataError(f"{path} is not valid {name.rsplit('.', 1)[1].upper()}: {err}") from None
        if not isinstance(cfg, dict):
            raise DataError(f'{path} must hold an object like {{"channels": [...]}}')
        return cfg, str(path)
    return {}, None


def _resolve_config(
    data_dir: Path, channels: Sequence[str] | None, config: dict | None
) -> tuple[tuple[str, ...], str | None, str]:
    """Channels and dataset name from the arguments, else the config dict, else the config file."""
    source = "config argument"
    if config is None:
        config, source = _read_config(data_dir)
    unknown = set(config) - _CONFIG_KEYS
    if unknown:
        raise DataError(
            f"unknown key(s) {', '.join(sorted(unknown))} in {source}; allowed: {', '.join(sorted(_CONFIG_KEYS))}"
        )
    if channels is not None:
        chans, source = channels, "channels argument"
    else:
        chans = config.get("channels")
    if not chans or isinstance(chans, str) or not all(isinstance(c, str) for c in chans):
        raise DataError(
            f"no channel list for the EDF folder {data_dir}: write {CONFIG_NAMES[0]} there with "
            '{"channels": ["Fp1", "F3", ...]} (labels as in the EDF files) or pass channels'
        )
    if len({c.upper() for c in chans}) != len(chans):
        raise DataError(f"the channel list from {source} names a channel twice; list each once")
    name = config.get("name")
    if name is not None:
        # The name ends up in split paths, run ids and work folders.
        name = safe_dataset_name(name, where=str(source or "config"))
    return tuple(chans), name, source or "config"


def _read_table(path: Path, required: Sequence[str], what: str) -> list[tuple[int, dict[str, str]]]:
    """CSV rows as dicts with stripped keys and values, with their line numbers."""
    if not path.is_file():
        raise DataError(f"{what} {path} not found; write a CSV with columns {', '.join(required)}")
    with text_stream(path) as fh:
        reader = csv.DictReader(fh)
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [c for c in required if c not in header]
        if missing:
            raise DataError(
                f"{path} lacks column(s) {', '.join(missing)}; it needs {', '.join(required)} "
                f"(found: {', '.join(header) or 'none'})"
            )
        rows = []
        for row in reader:
            clean = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
            if any(clean.values()):
                rows.append((reader.line_num, clean))
    return rows


def _parse_time(text: str, where: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise DataError(f"{where}: start_time {text!r} is not an ISO date-time like 2021-03-04T22:15:00") from None


class EdfFolderLoader(DatasetLoader):
    """A folder of EDF files with a manifest and a seizure list (see :func:`load_edf_folder`)."""

    default_name = "edf-folder"
    layout = "edf-folder"

    def __init__(
        self,
        data_dir,
        *,
        manifest: str = "manifest.csv",
        annotations: str = "seizures.csv",
        channels: Sequence[str] | None = None,
        dataset_name: str = "edf-folder",
        config: dict | None = None,
    ):
        super().__init__(data_dir, dataset_name=dataset_name)
        self.manifest, self.annotations = manifest, annotations
        self.chosen, self.config = channels, config

    def check_root(self) -> None:
        if not self.root.is_dir():
            raise DataError(
                f"EDF folder {self.root} does not exist; point --data-dir at the folder holding "
                f"{self.manifest}, {self.annotations}, {CONFIG_NAMES[0]} and the EDF files"
            )
        self.channels, name, self.source = _resolve_config(self.root, self.chosen, self.config)
        if self.dataset_name == "edf-folder" and name:
            self.dataset_name = str(name)

    def find_recordings(self) -> dict[tuple[str, str], dict[str, Any]]:
        """The manifest: one row per recording, its EDF header read."""
        entries: dict[tuple[str, str], dict[str, Any]] = {}
        manifest_path = self.root / self.manifest
        for line, row in _read_table(manifest_path, _MANIFEST_COLUMNS, "manifest"):
            where = f"{manifest_path}, line {line}"
            empty = [c for c in _MANIFEST_COLUMNS if not row[c]]
            if empty:
                raise DataError(f"{where}: empty {', '.join(empty)}; fill in every required column")
            key = (row["patient"], row["recording"])
            if key in entries:
                raise DataError(f"{where}: recording {key[0]}/{key[1]} is listed twice; list it once")
            rel = safe_relpath(self.root, row["file"], where=where)
            entries[key] = {
                "file": rel,
                "start_time": _parse_time(row["start_time"], where),
                "header": read_header(self.root / rel),
                "subject": row.get("subject", ""),
                "seizures": [],
                "where": where,
            }
        if not entries:
            raise DataError(f"{manifest_path} lists no recordings; add one row per EDF file")
        self._refuse_absent_channels(entries)
        self._read_seizures(entries)
        return entries

    def _refuse_absent_channels(self, entries) -> None:
        """A label absent from every file is a configuration mistake."""
        wanted = self.channels
        self.missing_by_rec = {k: match_channels(e["header"].channels, wanted)[1] for k, e in entries.items()}
        absent_everywhere = [c for c in wanted if all(c in m for m in self.missing_by_rec.values())]
        if absent_everywhere:
            some = next(iter(entries.values()))["header"]
            raise DataError(
                f"channel(s) {', '.join(absent_everywhere)} from {self.source} are in none of the EDF "
                f"files (e.g. {some.path} has {', '.join(some.channels)}); fix the channel list"
            )

    def _read_seizures(self, entries) -> None:
        ann_path = self.root / self.annotations
        listed: dict[tuple[str, str, float, float], int] = {}
        for line, row in _read_table(ann_path, _SEIZURE_COLUMNS, "seizure list"):
            where = f"{ann_path}, line {line}"
            key = (row["patient"], row["recording"])
            if key not in entries:
                raise DataError(
                    f"{where}: recording {key[0]}/{key[1]} is not in {self.manifest}; fix the names or "
                    "add the recording to the manifest"
                )
            onset = parse_seconds(row["onset"], "onset", where)
            offset = parse_seconds(row["offset"], "offset", where)
            duration = entries[key]["header"].duration
            if not 0 <= onset < offset <= duration + _EPS:
                raise DataError(
                    f"{where}: seizure {onset:g}-{offset:g} s is outside recording {key[0]}/{key[1]} "
                    f"(0-{duration:g} s) or ends before it starts; onset and offset are seconds "
                    "from the recording start"
                )
            first = listed.setdefault((*key, onset, offset), line)
            if first != line:
                raise DataError(
                    f"{where}: seizure {onset:g}-{offset:g} s of {key[0]}/{key[1]} repeats line {first}; "
                    "a seizure listed twice is counted twice, remove one of the rows"
                )
            entries[key]["seizures"].append(Seizure(onset, offset, row.get("type") or None))

    def _recording(self, pid: str, rid: str, e: dict[str, Any], start: float) -> Recording:
        h = e["header"]
        check = check_edf_header(h.path, source=self.source, wanted=self.channels, one_rate=True, header=h)
        missing = self.missing_by_rec[(pid, rid)]
        if missing:
            self.exclude("recording", pid, f"{e['file']} lacks channel(s) {', '.join(missing)}", rid)
        return Recording(
            recording_id=rid,
            file=e["file"],
            start=start,
            duration=h.duration,
            sfreq=check.sfreq,
            channels=h.channels,
            seizures=tuple(sorted(e["seizures"], key=lambda s: (s.onset, s.offset))),
        )

    def _patient(self, pid: str, recs: list[tuple[str, dict]]) -> Patient:
        manifest_path = self.root / self.manifest
        try:
            first = min(e["start_time"] for _, e in recs)
            offsets = {rid: (e["start_time"] - first).total_seconds() for rid, e in recs}
        except TypeError:
            raise DataError(
                f"{manifest_path}: patient {pid} mixes start_time values with and without a "
                "time zone; give all or none a UTC offset"
            ) from None
        recordings = [self._recording(pid, rid, e, offsets[rid]) for rid, e in recs]
        recordings.sort(key=lambda r: (r.start, natural_key(r.recording_id)))
        for a, b in zip(recordings, recordings[1:]):
            if b.start < a.end - _EPS:
                raise DataError(
                    f"recordings {pid}/{a.recording_id} ({a.file}) and {pid}/{b.recording_id} "
                    f"({b.file}) overlap in time ({a.end - b.start:g} s); fix their start_time "
                    f"in {self.manifest} or the EDF files"
                )
        subjects = {e["subject"] for _, e in recs if e["subject"]}
        if len(subjects) > 1:
            raise DataError(f"{manifest_path}: patient {pid} has several subjects ({', '.join(sorted(subjects))})")
        return Patient(pid, tuple(recordings), subject_id=subjects.pop() if subjects else pid)

    def build_patients(self, entries, facts) -> list[Patient]:
        by_patient: dict[str, list[tuple[str, dict]]] = {}
        for (pid, rid), e in entries.items():
            by_patient.setdefault(pid, []).append((rid, e))
        self.notes += [f"channels from {self.source}", f"{len(entries)} EDF headers read"]
        return [self._patient(pid, by_patient[pid]) for pid in sorted(by_patient, key=natural_key)]


def load_edf_folder(
    data_dir,
    *,
    manifest: str = "manifest.csv",
    annotations: str = "seizures.csv",
    channels: Sequence[str] | None = None,
    dataset_name: str = "edf-folder",
    config: dict | None = None,
) -> RecordingIndex:
    """Build a recording index from a folder of EDF files, a manifest and a seizure list.

    Parameters
    ----------
    data_dir
        The dataset folder.
    manifest, annotations
        CSV file names inside ``data_dir``.
    channels
        Channel labels to use (as in the EDF files; matched case-insensitively). Overrides the
        configuration.
    dataset_name
        Name stored in the index; when left at ``"edf-folder"`` the configuration's ``name`` is
        used if it has one.
    config
        Configuration dict used instead of ``edf-folder.json`` / ``edf-folder.toml``.

    Returns
    -------
    RecordingIndex

    Raises
    ------
    DataError
        Missing folder, configuration, table, column or EDF file; unknown recording in the
        seizure list; a seizure outside its recording; overlapping recordings of one patient;
        a configured channel absent from every file; mixed sampling rates within a recording.
    """
    return EdfFolderLoader(
        data_dir,
        manifest=manifest,
        annotations=annotations,
        channels=channels,
        dataset_name=dataset_name,
        config=config,
    ).load()
