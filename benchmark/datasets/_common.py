"""Steps shared by the EEG dataset loaders once they have read a folder.

Every loader ends the same way: honour the ``SYNTHETIC.json`` marker a generator leaves in a
folder it wrote, check what no loader may let through (file names outside the data folder, the
same EEG listed twice, a seizure listed twice), build the :class:`~benchmark.index.RecordingIndex`
and log one summary line; :func:`finish_index` does all of it so the loaders cannot drift apart.
The helpers below it (:func:`read_text`, :func:`safe_relpath`, :func:`safe_dataset_name`,
:func:`identical_files`) are the one place where loaders read text files and turn names from
data files into paths.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import logging
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from benchmark.errors import DataError
from benchmark.index import Exclusion, Patient, RecordingIndex

log = logging.getLogger(__name__)

# Written by the synthetic generators (benchmark.datasets.synthetic) into the
# folders they create.
SYNTHETIC_MARKER = "SYNTHETIC.json"


def finish_index(
    dataset: str,
    patients: Iterable[Patient],
    *,
    root: Path,
    channels: Iterable[str],
    exclusions: Iterable[Exclusion] = (),
    notes: Iterable[str] = (),
    synthetic: bool = False,
    layout: str | None = None,
    noun: str = "patients",
    detail: str = "",
    check_files: bool = True,
    conflicts: Iterable[str] = (),
) -> RecordingIndex:
    """Build a loader's index and log its size.

    Parameters
    ----------
    dataset
        Dataset name recorded in the index.
    patients, channels, exclusions, notes
        The index's content, in the order the loader found it.
    root
        Folder the recordings' relative paths start from.
    synthetic
        Whether the caller already knows the data are generated.
    layout
        Name of the folder layout for the note added when the marker is found (``"CHB-MIT"``
        gives "generated EEG in CHB-MIT layout"). A folder holding ``SYNTHETIC.json`` is then
        marked synthetic whatever ``synthetic`` says, so generated EEG loaded under a real
        dataset's name is still labelled synthetic everywhere. ``None``: the loader does not look
        for the marker.
    noun, detail
        How the log line names the patients (``"neonates"``) and what it adds after the dataset
        name (``" (consensus all)"``).
    check_files
        Look for identical files among the recordings present (``False`` when the caller was
        told not to read the EEG files).
    conflicts
        Disagreements between the dataset's own annotation sources and which one was followed;
        shown by ``data describe`` and in reports, not part of the content hash.

    Raises
    ------
    DataError
        The dataset name is not a plain name; a recording's file is not inside ``root``; one
        file, or two files with identical signal data, are listed under two patients; a
        recording lists the same seizure twice.

    Returns
    -------
    RecordingIndex
    """
    root = Path(root)
    notes = list(notes)
    dataset = safe_dataset_name(dataset, where=f"dataset in {root}")
    patients = tuple(patients)
    exclusions = list(exclusions)
    for p in patients:
        for r in p.recordings:
            safe_relpath(root, r.file, where=f"{dataset}: recording {p.patient_id}/{r.recording_id}")
    _refuse_repeated_seizures(patients)
    if check_files:
        exclusions += _duplicate_recordings(dataset, root, patients)
    synthetic = _honour_marker(root, layout, synthetic, notes)
    index = RecordingIndex(
        dataset=dataset,
        patients=patients,
        channels=tuple(channels),
        exclusions=tuple(exclusions),
        synthetic=synthetic,
        root=str(root),
        notes=tuple(notes),
        conflicts=tuple(conflicts),
    )
    _log_summary(index, detail, noun)
    return index


def _log_summary(index: RecordingIndex, detail: str, noun: str) -> None:
    for line in index.conflicts:
        log.info("%s: %s", index.dataset, line)
    log.info(
        "%s%s: %d %s, %d recordings, %d seizures, %d exclusions",
        index.dataset,
        detail,
        len(index.patients),
        noun,
        index.n_recordings,
        index.n_seizures,
        len(index.exclusions),
    )


def _honour_marker(root: Path, layout: str | None, synthetic: bool, notes: list[str]) -> bool:
    """A folder a generator wrote (``SYNTHETIC.json``) is synthetic whatever the caller said."""
    if layout is not None and not synthetic and (root / SYNTHETIC_MARKER).is_file():
        log.warning("%s holds %s: its EEG is generated; results are labelled synthetic", root, SYNTHETIC_MARKER)
        notes.append(f"{SYNTHETIC_MARKER} present: generated EEG in {layout} layout, labelled synthetic")
        return True
    return synthetic


def _refuse_repeated_seizures(patients: Sequence[Patient]) -> None:
    """A seizure listed twice would be counted twice (two lead seizures, two events to find)."""
    for p in patients:
        for r in p.recordings:
            seen: set[tuple[float, float]] = set()
            for sz in r.seizures:
                if (sz.onset, sz.offset) in seen:
                    raise DataError(
                        f"{r.file}: seizure {sz.onset:g}-{sz.offset:g} s of recording "
                        f"{p.patient_id}/{r.recording_id} is listed twice; remove the repeated row"
                    )
                seen.add((sz.onset, sz.offset))


def _duplicate_recordings(dataset: str, root: Path, patients: Sequence[Patient]) -> list[Exclusion]:
    """Refuse one EEG under two patients; leave out a second copy within one patient."""
    where = {(p.patient_id, r.recording_id): r.file for p in patients for r in p.recordings}
    out = []
    for group in identical_files(root, list(where.items())):
        (pid, rid), first = group[0], where[group[0]]
        for other in group[1:]:
            same = (root / where[other]).resolve() == (root / first).resolve()
            what = "are the same file" if same else "hold identical signal data"
            if other[0] != pid:
                raise DataError(
                    f"{dataset}: recordings {pid}/{rid} ({first}) and {other[0]}/{other[1]} "
                    f"({where[other]}) {what}: one EEG under two patients would be in training and "
                    "test data; list it under one patient only"
                )
            out.append(
                Exclusion(
                    scope="recording",
                    patient=pid,
                    recording=other[1],
                    reason=f"{where[other]} and {first} (recording {rid}) {what}; the second copy is left out",
                )
            )
    return out


def parse_seconds(text: str, column: str, where: str) -> float:
    """A finite number of seconds read from a table cell; a one-line :class:`DataError` otherwise."""
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"{where}: {column} {text!r} is not a number of seconds") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise DataError(f"{where}: {column} {text!r} is not a finite number of seconds")
    return value


# -- text files ----------------------------------------------------------------------------------
def read_text(path: str | os.PathLike, *, latin1_fallback: bool = False) -> str:
    """The text of a data file (CSV, JSON, TOML, summary), decoded as UTF-8.

    A UTF-8 byte-order mark is dropped. Anything else that is not UTF-8 (UTF-16, which Excel and
    Windows tools write, or a legacy 8-bit encoding) is a one-line :class:`DataError` naming the
    file and asking for UTF-8. ``latin1_fallback`` accepts 8-bit text for formats published that
    way (Siena's seizure lists); UTF-16 is refused even then, since Latin-1 would misread it.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path} does not exist; check the data folder") from None
    except OSError as err:
        raise DataError(f"{path} cannot be read ({err.strerror}); check its permissions") from None
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or (len(raw) >= 2 and b"\x00" in raw[:64]):
        raise DataError(f"{path} is UTF-16 text, not UTF-8; save it as UTF-8")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        if latin1_fallback:
            return raw.decode("latin-1")
        raise DataError(
            f"{path} is not UTF-8 text (byte 0x{raw[err.start]:02x} at offset {err.start}); save it as UTF-8"
        ) from None


def text_stream(path: str | os.PathLike) -> io.StringIO:
    """:func:`read_text` as a file object for :mod:`csv` and pandas (newlines kept as written)."""
    return io.StringIO(read_text(path), newline="")


# -- names from data files that become paths -----------------------------------------------------
_DATASET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def safe_relpath(root: str | os.PathLike, name: str, *, where: str, what: str = "file") -> str:
    """Check that ``name``, read from a data file, is a path inside ``root``; return it as POSIX.

    Refused: an empty name, a NUL byte, an absolute path or drive, a ``..`` component, and a path
    that leaves ``root`` once symbolic links are resolved. Backslashes count as separators.
    Every loader passes every file name it reads from a data file through here, and
    :func:`finish_index` passes every recording's file again.
    """
    text = str(name)
    rel = PurePosixPath(text.replace("\\", "/"))
    bad = (
        not text.strip()
        or "\x00" in text
        or rel.is_absolute()
        or PureWindowsPath(text).drive != ""
        or ".." in rel.parts
    )
    if not bad:
        base = Path(root).resolve()
        bad = not (base / rel).resolve().is_relative_to(base)
    if bad:
        raise DataError(
            f"{where}: {what} {text!r} must be a path inside the data folder {root}: give a relative "
            "path without '..' that stays in the folder (copy a file that a link points outside it)"
        )
    return rel.as_posix()


def safe_dataset_name(name: str, *, where: str) -> str:
    """A dataset name used in split paths, run ids and work folders: a short slug."""
    text = str(name)
    if not _DATASET_NAME.match(text):
        raise DataError(
            f"{where}: dataset name {text!r} is not a plain name; use letters, digits, '.', '_' and "
            "'-' only, starting with a letter or digit (at most 100 characters)"
        )
    return text


# -- identical files -----------------------------------------------------------------------------
_PART = 1 << 16  # bytes hashed at each end of a file's data before any full hash (two recordings
# of real EEG never agree on 64 KiB; only files that do are hashed whole)
# (resolved path, size, mtime_ns) -> hash, so reloading an index in one process reads nothing again
_HASHES: dict[tuple[str, int, int, str], str] = {}


def _data_offset(fh) -> int:
    """Where the signal data start: after the header of an EDF/BDF file, else 0."""
    head = fh.read(256)
    if len(head) == 256 and (head[:8].strip() == b"0" or head[:8] == b"\xffBIOSEMI"):
        try:
            return int(head[184:192].decode("ascii").strip())
        except ValueError:
            return 0
    return 0


def _file_hash(path: Path, stat: os.stat_result, full: bool) -> str:
    key = (str(path), stat.st_size, stat.st_mtime_ns, "full" if full else "part")
    if key in _HASHES:
        return _HASHES[key]
    h = hashlib.sha256()
    with path.open("rb") as fh:
        start = min(_data_offset(fh), stat.st_size)
        n = stat.st_size - start
        fh.seek(start)
        if full or n <= 2 * _PART:
            while block := fh.read(1 << 22):
                h.update(block)
        else:
            h.update(fh.read(_PART))
            fh.seek(stat.st_size - _PART)
            h.update(fh.read(_PART))
    _HASHES[key] = digest = h.hexdigest()
    return digest


def identical_files(root: str | os.PathLike, files: Sequence[tuple[Any, str]]) -> list[list[Any]]:
    """Groups (two or more) of entries whose files hold the same content.

    ``files`` are ``(key, relative path)``; absent files are skipped. Two files are the same when
    they are one file (same resolved path) or their signal data are byte-identical: for EDF/BDF
    files the header is left out, so a copy with an edited header is still found. Cheap first:
    only files of equal size are hashed, first on their first and last 64 KiB of data, and only
    those that still agree are hashed whole; hashes are remembered per (path, size, mtime).
    """
    root = Path(root)
    by_size: dict[int, list[tuple[Any, Path, os.stat_result]]] = {}
    groups: dict[str, list[Any]] = {}
    for key, rel in files:
        path = (root / rel).resolve()
        try:
            stat = path.stat()
        except OSError:
            continue
        if not path.is_file():
            continue
        groups.setdefault(f"path:{path}", []).append(key)
        by_size.setdefault(stat.st_size, []).append((key, path, stat))
    for size, items in by_size.items():
        distinct = {str(p): (k, p, s) for k, p, s in items}  # one file listed twice: hashed once
        if len(distinct) < 2:
            continue
        by_part: dict[str, list[tuple[Any, Path, os.stat_result]]] = {}
        for k, p, s in distinct.values():
            by_part.setdefault(_file_hash(p, s, full=False), []).append((k, p, s))
        for part in by_part.values():
            if len(part) < 2:
                continue
            by_full: dict[str, list[Path]] = {}
            for _, p, s in part:
                by_full.setdefault(_file_hash(p, s, full=True), []).append(p)
            for digest, paths in by_full.items():
                if len(paths) > 1:
                    groups[f"data:{digest}"] = [k for k, p, _ in items if p in paths]
    # Path groups that a data group covers add nothing.
    out, seen = [], set()
    for name in sorted(groups, key=lambda g: not g.startswith("data:")):
        keys = groups[name]
        if len(keys) > 1 and not set(keys) <= seen:
            out.append(keys)
            seen |= set(keys)
    return out
