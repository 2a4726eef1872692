"""The shape every dataset loader shares, and the one EDF header check.

A loader is a :class:`DatasetLoader` subclass (after MOABB's ``BaseDataset`` and braindecode's
dataset classes): the base checks the data folder, walks what the subclass finds, counts the EDF
headers it checks, and ends with :func:`~benchmark.datasets._common.finish_index` (the
``SYNTHETIC.json`` marker, the checks no loader may skip, the log line). A subclass fills small
hooks: :meth:`~DatasetLoader.find_recordings` (what the folder holds),
:meth:`~DatasetLoader.patient_facts` (age, sex and the like per patient) and
:meth:`~DatasetLoader.build_patients` (annotations read and turned into patients).

:func:`check_edf_header` is the only place where an EDF header is compared with what a
dataset's annotation files say about it, so every loader refuses a mismatching file with the
same one-line messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmark.datasets._common import finish_index
from benchmark.edf import EdfHeader, match_channels, read_header
from benchmark.errors import DataError
from benchmark.index import Exclusion, Patient, RecordingIndex

__all__ = ["TEN_TWENTY_CHANNELS", "DatasetLoader", "HeaderCheck", "check_edf_header"]

#: The 19 electrodes of the international 10-20 system (older T3/T4/T5/T6 names), in this order.
TEN_TWENTY_CHANNELS: tuple[str, ...] = (
    "FP1",
    "FP2",
    "F7",
    "F3",
    "FZ",
    "F4",
    "F8",
    "T3",
    "C3",
    "CZ",
    "C4",
    "T4",
    "T5",
    "P3",
    "PZ",
    "P4",
    "T6",
    "O1",
    "O2",
)

#: Seconds an EDF file's length may differ from what its annotations say.
DURATION_TOLERANCE_S = 2.0
_EPS = 1e-6


@dataclass(frozen=True)
class HeaderCheck:
    """What :func:`check_edf_header` found in one header."""

    header: EdfHeader
    missing: tuple[str, ...]  # wanted channels the file lacks
    rates: tuple[float, ...]  # distinct sampling rates of the wanted channels present, sorted

    @property
    def sfreq(self) -> float:
        """The one rate of the wanted channels, else the header's highest rate."""
        return self.rates[0] if len(self.rates) == 1 else self.header.sfreq


def _rates_text(rates: Iterable[float]) -> str:
    return ", ".join(f"{r:g}" for r in sorted(rates))


def check_edf_header(
    path: str | Path,
    *,
    source: str,
    wanted: Sequence[str],
    listed: Sequence[str] | None = None,
    sfreq: float | None = None,
    duration: float | None = None,
    one_rate: bool = False,
    header: EdfHeader | None = None,
) -> HeaderCheck:
    """Read (unless given) and check one EDF header against its dataset's annotations.

    Parameters
    ----------
    path
        The EDF file.
    source
        What the expected values come from, for messages (``"the summary"``, ``"x_events.tsv"``).
    wanted
        Channels the benchmark reads; those the file lacks are returned, not refused.
    listed
        Channel labels ``source`` lists for the file: wanted channels among them must be in the
        file.
    sfreq, duration
        Sampling rate and length ``source`` gives, checked when not ``None`` (length within
        :data:`DURATION_TOLERANCE_S`).
    one_rate
        Refuse wanted channels at different sampling rates (they cannot be read together).

    Raises
    ------
    DataError
        One line naming the file, what differs, and how to fix it.
    """
    h = header if header is not None else read_header(path)
    idx, missing = match_channels(h.channels, wanted)
    rates = tuple(sorted({h.channel_sfreqs[i] for i in idx}))
    if listed is not None:
        needed = [c for c in wanted if not match_channels(listed, [c])[1]]
        _, lacking = match_channels(h.channels, needed)
        if lacking:
            raise DataError(
                f"{path}: EDF lacks channel(s) {', '.join(lacking)} that {source} names; "
                f"fix {source} or re-download the file"
            )
    if one_rate and len(rates) > 1:
        raise DataError(
            f"{path}: the benchmark channels have different sampling rates ({_rates_text(rates)} "
            "Hz); re-download the file or choose channels of one rate"
        )
    if sfreq is not None and any(abs(r - sfreq) > _EPS for r in rates or (h.sfreq,)):
        raise DataError(
            f"{path}: EDF sampling rate {_rates_text(rates or (h.sfreq,))} Hz, {source} says "
            f"{sfreq:g} Hz; fix {source} or re-download the file"
        )
    if duration is not None and abs(h.duration - duration) > DURATION_TOLERANCE_S:
        raise DataError(
            f"{path}: EDF holds {h.duration:g} s but {source} says {duration:g} s; "
            "re-download the file (a partial download?)"
        )
    return HeaderCheck(h, tuple(missing), rates)


class DatasetLoader:
    """One dataset's loader: hooks filled by a subclass, the walk and the ending shared.

    Class attributes name the dataset (``default_name``), its folder layout for the synthetic
    marker note (``layout``, ``None``: the marker is not looked for), the channels the benchmark
    reads (``channels``), how the log line counts patients (``noun``) and what to say when the
    folder is missing (``how_to_get``).
    """

    default_name = ""
    what = "data"
    layout: str | None = None
    channels: tuple[str, ...] = ()
    noun = "patients"
    how_to_get = ""

    def __init__(self, data_dir, *, dataset_name: str | None = None, synthetic: bool = False, check_edf: bool = True):
        self.root = Path(data_dir).expanduser()
        self.dataset_name = dataset_name or self.default_name
        self.synthetic = synthetic
        self.check_edf = check_edf
        self.notes: list[str] = []
        self.exclusions: list[Exclusion] = []
        self.conflicts: list[str] = []
        self.checked = 0
        self.absent = 0

    # -- hooks --------------------------------------------------------------------------------
    def find_recordings(self) -> Any:
        """What the folder holds, in the form :meth:`build_patients` takes."""
        raise NotImplementedError

    def patient_facts(self) -> dict[str, dict[str, Any]]:
        """Facts per patient (age, sex, ...) for ``Patient.info``; none by default."""
        return {}

    def build_patients(self, found: Any, facts: dict[str, dict[str, Any]]) -> list[Patient]:
        """Read the annotations of what was found and build the patients."""
        raise NotImplementedError

    def finish_notes(self, patients: list[Patient], facts: dict[str, dict[str, Any]]) -> None:
        """Notes written once every patient is built; none by default."""

    # -- the shared walk ----------------------------------------------------------------------
    def check_root(self) -> None:
        if not self.root.is_dir():
            raise DataError(f"{self.what} folder {self.root} does not exist; {self.how_to_get}")

    def load(self) -> RecordingIndex:
        self.check_root()
        found = self.find_recordings()
        facts = self.patient_facts()
        patients = self.build_patients(found, facts)
        self.finish_notes(patients, facts)
        return self.finish(patients)

    def finish(self, patients: Iterable[Patient], **options: Any) -> RecordingIndex:
        options = {"synthetic": self.synthetic, "layout": self.layout, "noun": self.noun, **options}
        return finish_index(
            self.dataset_name,
            patients,
            root=self.root,
            channels=options.pop("channels", self.channels),
            exclusions=self.exclusions,
            notes=self.notes,
            conflicts=self.conflicts,
            **options,
        )

    # -- shared steps the hooks call ---------------------------------------------------------
    def check_header(self, path: Path, **expected: Any) -> HeaderCheck | None:
        """:func:`check_edf_header` for a present file (counted); ``None`` for an absent one."""
        if not path.is_file():
            self.absent += 1
            return None
        self.checked += 1
        expected.setdefault("wanted", self.channels)
        return check_edf_header(path, **expected)

    def exclude(self, scope: str, patient: str, reason: str, recording: str | None = None) -> None:
        self.exclusions.append(Exclusion(scope=scope, patient=patient, reason=reason, recording=recording))

    def note_unlisted(self, patients: Sequence[Patient], facts: dict, what: str, empty=lambda p: not p.info) -> None:
        """Note the patients that ``what`` (a facts file) has no entry for."""
        missing = [p.patient_id for p in patients if empty(p)]
        if missing:
            self.notes.append(f"no {what} for: {', '.join(missing)}")
