"""Reading EDF files: headers, integrity checks, and channel-selected spans in microvolts.

The fixed EDF header (Kemp et al., 1992, "A simple format for exchange of digitized polygraphic
recordings", Electroencephalogr. Clin. Neurophysiol. 82:391-393; EDF+ in Kemp & Olivan, 2003,
Clin. Neurophysiol. 114:1755-1761) is parsed here directly, for two reasons MNE does not cover:

* labels are kept exactly as written, duplicates included (MNE renames CHB-MIT's second
  ``T8-P8`` to ``T8-P8-1``), so callers can compare them with the dataset's documentation;
* a truncated file (fewer data records on disk than the header promises, e.g. an interrupted
  download) is detected from the file size before any signal is read.

Signal data are read with MNE (``mne.io.read_raw_edf(preload=False)``): only the requested span
is read from disk, never the whole file.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmark.errors import DataError

log = logging.getLogger(__name__)

__all__ = ["EdfHeader", "EdfReader", "match_channels", "read_header"]

_FIX_LEN = 256  # bytes of the fixed part of the header
_PER_SIGNAL_LEN = 256  # bytes of the per-signal part, per signal
_ANNOTATION_LABELS = ("EDF ANNOTATIONS", "BDF ANNOTATIONS")


@dataclass(frozen=True)
class EdfHeader:
    """What an EDF header says about a file (annotation signals left out).

    Attributes
    ----------
    path
        The file the header was read from.
    sfreq
        Highest sampling rate among the signals, Hz (what MNE resamples every signal to).
    channels
        Signal labels exactly as in the file (stripped of padding), duplicates included.
    channel_sfreqs
        Sampling rate of each signal in ``channels``, Hz.
    n_samples
        Samples per signal at ``sfreq``.
    duration
        Seconds of signal: number of data records times record duration.
    start
        Start date and time from the header, or ``None`` when it cannot be parsed. EDF stores
        two-digit years (85-99 -> 19xx, else 20xx); de-identified files often carry fake dates.
    n_records
        Number of data records.
    record_duration
        Seconds per data record.
    """

    path: str
    sfreq: float
    channels: tuple[str, ...]
    channel_sfreqs: tuple[float, ...]
    n_samples: int
    duration: float
    start: dt.datetime | None
    n_records: int
    record_duration: float
    #: Per signal in ``channels``: ``(digital_min, digital_max, physical_min, physical_max,
    #: dimension)`` as the header gives them (sample ``d`` is ``physical_min + (d - digital_min) *
    #: (physical_max - physical_min) / (digital_max - digital_min)`` in ``dimension``).
    scaling: tuple[tuple[float, float, float, float, str], ...] = ()
    #: Bytes per stored sample: 2 for EDF, 3 for BDF.
    bytes_per_sample: int = 2

    def microvolts_per_unit(self, i: int) -> float | None:
        """Microvolts per physical unit of signal ``i`` (``uV`` 1, ``mV`` 1000, ``V`` 1e6), or ``None``."""
        if not self.scaling:
            return None
        unit = self.scaling[i][4].replace("\u00b5", "u").replace("\u03bc", "u").lower()
        return {"uv": 1.0, "mv": 1e3, "v": 1e6, "nv": 1e-3}.get(unit)


def _field(raw: bytes) -> str:
    try:
        return raw.decode("ascii").strip()
    except UnicodeDecodeError:
        # Latin-1 labels occur in the wild; latin-1 decodes any byte.
        return raw.decode("latin-1").strip()


def _number(text: str, what: str, path: Path, kind=float):
    try:
        return kind(text)
    except ValueError:
        raise DataError(
            f"{path} is not a readable EDF file: header field '{what}' is {text!r}; re-download or re-export the file"
        ) from None


def _parse_start(date: str, time: str) -> dt.datetime | None:
    try:
        day, month, year = (int(x) for x in date.split("."))
        hour, minute, second = (int(x) for x in time.split("."))
        year += 1900 if year >= 85 else 2000
        return dt.datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None


def read_header(path: str | os.PathLike) -> EdfHeader:
    """Read and check the header of an EDF (or BDF) file without reading its signals.

    Parameters
    ----------
    path
        The EDF file.

    Returns
    -------
    EdfHeader

    Raises
    ------
    DataError
        The file is missing, is not an EDF file, or is truncated (the header promises more data
        records than the file holds); its record duration is not a positive finite number; a
        signal's physical or digital range is not finite or empty, or it has no samples.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"EDF file {path} does not exist; check the data directory or re-download it")
    try:
        return _read_header(path)
    except OSError as err:
        raise DataError(f"{path} cannot be read ({err.strerror}); check its permissions") from None


def _read_header(path: Path) -> EdfHeader:
    size = path.stat().st_size
    with path.open("rb") as fh:
        fixed = fh.read(_FIX_LEN)
        if len(fixed) < _FIX_LEN or not (fixed[:8].strip() == b"0" or fixed[:8] == b"\xffBIOSEMI"):
            raise DataError(f"{path} is not an EDF file (no valid EDF header); re-download or re-export it")
        bytes_per_sample = 3 if fixed[:1] == b"\xff" else 2
        header_bytes = _number(_field(fixed[184:192]), "header bytes", path, int)
        n_records = _number(_field(fixed[236:244]), "number of data records", path, int)
        record_duration = _number(_field(fixed[244:252]), "record duration", path)
        ns = _number(_field(fixed[252:256]), "number of signals", path, int)
        if ns <= 0 or header_bytes != _FIX_LEN + ns * _PER_SIGNAL_LEN:
            raise DataError(
                f"{path} is not a readable EDF file: header size {header_bytes} does not match "
                f"{ns} signals; re-download or re-export it"
            )
        if fixed[192:197] == b"EDF+D":
            # Records of a discontinuous file are not back to back: sample index != time.
            raise DataError(
                f"{path} is a discontinuous EDF+ (EDF+D) file, which is not supported; export it as continuous EDF"
            )
        rest = fh.read(ns * _PER_SIGNAL_LEN)
    if len(rest) < ns * _PER_SIGNAL_LEN:
        raise DataError(f"{path} is truncated inside its header; re-download it")

    def column(offset: int, width: int) -> list[str]:
        start = offset * ns
        return [_field(rest[start + i * width : start + (i + 1) * width]) for i in range(ns)]

    # Per-signal fields are stored column-wise: all labels, then all transducers, ...
    labels = column(0, 16)
    samples = [_number(s, "samples per record", path, int) for s in column(16 + 80 + 8 * 5 + 80, 8)]
    if not (math.isfinite(record_duration) and record_duration > 0):
        raise DataError(
            f"{path} has a data record duration of {record_duration} s; re-export the file "
            "with a positive record duration"
        )
    record_bytes = sum(samples) * bytes_per_sample
    on_disk = (size - header_bytes) // record_bytes if record_bytes else 0
    if n_records < 0:  # -1: "unknown", allowed while recording; trust the file size
        n_records = on_disk
    elif on_disk < n_records:
        raise DataError(
            f"{path} is truncated: its header promises {n_records} data records of "
            f"{record_duration:g} s but the file holds {on_disk}; re-download the file"
        )
    keep = [i for i, lab in enumerate(labels) if lab.upper() not in _ANNOTATION_LABELS]
    if not keep:
        raise DataError(f"{path} holds no signals (annotations only); use an EDF file with EEG")
    _check_scaling(path, labels, samples, keep, column)
    sfreqs = tuple(samples[i] / record_duration for i in keep)
    sfreq = max(sfreqs)
    return EdfHeader(
        path=str(path),
        sfreq=sfreq,
        channels=tuple(labels[i] for i in keep),
        channel_sfreqs=sfreqs,
        n_samples=int(round(n_records * record_duration * sfreq)),
        duration=n_records * record_duration,
        start=_parse_start(_field(fixed[168:176]), _field(fixed[176:184])),
        n_records=n_records,
        record_duration=record_duration,
        scaling=_scaling(column, keep),
        bytes_per_sample=bytes_per_sample,
    )


def _scaling(column, keep) -> tuple[tuple[float, float, float, float, str], ...]:
    """``(digital_min, digital_max, physical_min, physical_max, dimension)`` of the kept signals
    (fields checked finite by :func:`_check_scaling`)."""
    dmin, dmax, pmin, pmax = ([float(v) for v in column(offset, 8)] for offset in (120, 128, 104, 112))
    unit = column(96, 8)
    return tuple((dmin[i], dmax[i], pmin[i], pmax[i], unit[i]) for i in keep)


def _check_scaling(path: Path, labels, samples, keep, column) -> None:
    """Refuse a signal whose samples cannot become finite microvolts.

    Samples are scaled as ``physical_min + (d - digital_min) * (physical_max - physical_min) /
    (digital_max - digital_min)``: a non-finite physical range or equal digital limits would
    turn a whole recording into NaN or inf, which a model would then be trained and scored on.
    """
    # Per-signal field offsets (x ns): label 16, transducer 80, dimension 8, then these.
    fields = {"physical minimum": 104, "physical maximum": 112, "digital minimum": 120, "digital maximum": 128}
    values = {name: column(offset, 8) for name, offset in fields.items()}
    for i in keep:
        where = f"{path}: signal {labels[i]!r}"
        if samples[i] <= 0:
            raise DataError(f"{where} has {samples[i]} samples per data record; re-export the file")
        nums = {}
        for name in fields:
            text = values[name][i]
            try:
                nums[name] = float(text)
            except ValueError:
                nums[name] = math.nan
            if not math.isfinite(nums[name]):
                raise DataError(
                    f"{where} has {name} {text!r} in its header, so its samples cannot be scaled "
                    "to finite values; re-export the file with a finite physical and digital range"
                )
        if nums["digital minimum"] == nums["digital maximum"] or (nums["physical minimum"] == nums["physical maximum"]):
            raise DataError(
                f"{where} has an empty range in its header (physical {nums['physical minimum']:g} to "
                f"{nums['physical maximum']:g}, digital {nums['digital minimum']:g} to "
                f"{nums['digital maximum']:g}); re-export the file with distinct limits"
            )


# Reference suffixes and type prefixes that corpora add to electrode names: TUH writes
# "EEG FP1-REF" or "EEG FP1-LE", Siena "EEG Fp1", Helsinki "EEG Fp1-REF".
_PREFIXES = ("EEG ", "EEG-")
_SUFFIXES = ("-REF", "-LE", "-AR", "-AVG", "-A1", "-A2")


def canonical_channel(label: str) -> str:
    """Upper-case electrode name without the corpus's type prefix and reference suffix.

    ``"EEG FP1-REF"``, ``"EEG Fp1"`` and ``"FP1"`` all give ``"FP1"``; a bipolar derivation such
    as ``"FP1-F7"`` is kept whole.
    """
    name = label.strip().upper()
    for prefix in _PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix) :].strip()
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)].strip()
    return name


def match_channels(available: Sequence[str], wanted: Sequence[str]) -> tuple[list[int], list[str]]:
    """Map wanted channel names to indices in ``available``, case-insensitively.

    An exact (case-insensitive) label wins; otherwise labels are compared by
    :func:`canonical_channel`, so ``"FP1"`` finds ``"EEG FP1-REF"``. A label that occurs more than
    once (CHB-MIT repeats ``T8-P8`` as its last channel) resolves to its first occurrence.

    Returns
    -------
    indices, missing
        The index in ``available`` of each wanted name that was found, and the wanted names that
        were not.
    """
    first: dict[str, int] = {}
    canonical: dict[str, int] = {}
    for i, label in enumerate(available):
        first.setdefault(label.strip().upper(), i)
        canonical.setdefault(canonical_channel(label), i)
    indices, missing = [], []
    for name in wanted:
        i = first.get(name.strip().upper())
        if i is None:
            i = canonical.get(canonical_channel(name))
        if i is None:
            missing.append(name)
        else:
            indices.append(i)
    return indices, missing


class EdfReader:
    """Read spans of selected channels from one EDF file, in microvolts.

    Use as a context manager::

        with EdfReader(path, ["FP1-F7", "T8-P8"]) as edf:
            x = edf.read(10.0, 20.0)  # float32, (2, 10 * edf.sfreq)

    Parameters
    ----------
    path
        The EDF file.
    channels
        Channel names to read, in the order wanted; matched case-insensitively, a duplicated
        label resolves to its first occurrence in the file.

    Raises
    ------
    DataError
        The file is missing, not an EDF, truncated; a requested channel is absent; or the
        requested channels have different sampling rates.
    """

    def __init__(self, path: str | os.PathLike, channels: Sequence[str]):
        self.path = Path(path)
        self.header = read_header(self.path)
        self.channels = tuple(channels)
        if not self.channels:
            raise DataError(f"no channels requested from {self.path}; name at least one channel")
        idx, missing = match_channels(self.header.channels, self.channels)
        if missing:
            raise DataError(
                f"{self.path} lacks channel(s) {', '.join(missing)}; it has "
                f"{', '.join(self.header.channels)}; fix the channel list in the dataset config"
            )
        rates = {self.header.channel_sfreqs[i] for i in idx}
        if len(rates) > 1:
            detail = ", ".join(f"{self.header.channels[i]}={self.header.channel_sfreqs[i]:g} Hz" for i in idx)
            raise DataError(
                f"{self.path}: the requested channels have different sampling rates ({detail}); "
                "request channels that share one rate"
            )
        self.sfreq = float(rates.pop())
        self.n_samples = int(round(self.header.duration * self.sfreq))
        self.duration = self.n_samples / self.sfreq
        self._labels = [self.header.channels[i] for i in idx]
        #: Position in ``header.channels`` (and ``header.scaling``) of each requested channel.
        self.indices = tuple(int(i) for i in idx)
        self._raw = self._open()
        # MNE keeps the file's signal order (annotations removed) for the channels we included.
        wanted = set(self._labels)
        mne_order = [lab for lab in self.header.channels if lab in wanted]
        if len(mne_order) != len(self._raw.ch_names):
            raise DataError(
                f"{self.path}: MNE found {len(self._raw.ch_names)} of the requested signals, "
                f"expected {len(mne_order)}; check the channel labels in the file"
            )
        self._picks = [mne_order.index(lab) for lab in self._labels]

    def _open(self):
        import mne  # slow import; only when signals are actually read

        # Only the requested labels are loaded, so a faster unrelated signal (e.g. ECG) cannot
        # make MNE resample our channels. Duplicates of a label come along and are ignored.
        try:
            raw = mne.io.read_raw_edf(self.path, include=sorted(set(self._labels)), preload=False, verbose="error")
        except Exception as err:  # MNE raises many types for malformed files
            raise DataError(
                f"{self.path} could not be read as EDF ({type(err).__name__}: {err}); re-download or re-export the file"
            ) from err
        if abs(raw.info["sfreq"] - self.sfreq) > 1e-6:
            raise DataError(
                f"{self.path}: MNE reads the requested channels at {raw.info['sfreq']:g} Hz, not "
                f"{self.sfreq:g} Hz (a duplicated label has another rate); rename the channels"
            )
        return raw

    def read(self, start_s: float, stop_s: float) -> np.ndarray:
        """Read ``[start_s, stop_s)`` seconds of the selected channels.

        Parameters
        ----------
        start_s, stop_s
            Span in seconds from the start of the file; rounded to the nearest sample.

        Returns
        -------
        numpy.ndarray
            float32, shape ``(n_channels, n_samples)``, microvolts.
        """
        start = int(round(start_s * self.sfreq))
        stop = int(round(stop_s * self.sfreq))
        if start < 0 or stop < start or stop > self.n_samples:
            raise DataError(
                f"cannot read {start_s:g}-{stop_s:g} s from {self.path}: it holds "
                f"{self.duration:g} s; ask for a span inside the recording"
            )
        if stop == start:
            return np.zeros((len(self.channels), 0), dtype=np.float32)
        # Index into the raw by position; names are ambiguous after MNE renames duplicates.
        volts = self._raw.get_data(picks=self._picks, start=start, stop=stop)
        with np.errstate(over="ignore"):  # an overflow becomes inf, refused just below
            out = (volts * 1e6).astype(np.float32)
        if not np.isfinite(out).all():
            # The header check makes this rare (e.g. a scale that overflows float32); never score it.
            ch, i = np.argwhere(~np.isfinite(out))[0]
            raise DataError(
                f"{self.path}: channel {self.channels[ch]} holds a non-finite value at "
                f"{(start + i) / self.sfreq:g} s; fix or re-export the file, or leave the recording out"
            )
        return out

    def close(self) -> None:
        """Release the file handle."""
        raw, self._raw = getattr(self, "_raw", None), None
        if raw is not None:
            raw.close()

    def __enter__(self) -> EdfReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
