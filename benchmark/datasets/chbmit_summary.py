"""Parser for CHB-MIT ``chbNN-summary.txt`` files (pure: text in, records out).

A summary lists the sampling rate, the channel montage, and per EDF file its name, start and end
clock times and its seizures (Shoeb, 2009, PhD thesis, MIT; PhysioNet CHB-MIT Scalp EEG Database
v1.0.0, https://physionet.org/content/chbmit/1.0.0/). The 24 official summaries vary in ways this
parser accepts:

* seizure lines read ``Seizure Start Time: 2996 seconds`` or ``Seizure 3 Start Time: 1728 seconds``,
  with irregular spacing (``Seizure 1 End Time:  333 seconds``); the unit word is optional;
* clock times may pass 24:00 (``24:44:29``, ``27:09:34``): a file that runs past midnight keeps
  counting hours; the next file starts again at ``00:..``. Clock times are returned as written
  (seconds since the midnight of the day the file started); placing them on a timeline is the
  loader's job;
* ``Channels changed:`` sections apply to every file listed after them, until the next one; the
  lists contain placeholders (``-``, ``.``) for unused EDF signals and one typo (``01`` for ``O1``
  in chb12); labels are returned exactly as written;
* chb24 has no clock times at all (start and end are ``None``) and lists only its files with
  seizures;
* some file names carry suffixes (``chb02_16+.edf``, ``chb17a_03.edf``).

Any line the parser does not recognise is an error rather than being skipped, so a new quirk is
noticed instead of silently losing a seizure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from benchmark.errors import DataError

__all__ = ["SummaryFile", "Summary", "parse_summary", "parse_clock"]


@dataclass(frozen=True)
class SummaryFile:
    """One ``File Name:`` block of a summary.

    Attributes
    ----------
    name
        EDF file name as written, e.g. ``"chb01_03.edf"``.
    start_clock, end_clock
        Clock times in seconds since midnight as written (may exceed 86400), or ``None``.
    seizures
        ``(onset, offset)`` in seconds from the start of the file.
    channels
        The channel list in force for this file (the last channel section above it).
    """

    name: str
    start_clock: int | None
    end_clock: int | None
    seizures: tuple[tuple[float, float], ...]
    channels: tuple[str, ...]

    @property
    def duration(self) -> float | None:
        """Seconds between start and end clock times, ``None`` without clock times.

        An end time written modulo 24 h (earlier than the start) is taken to be on the next day.
        """
        if self.start_clock is None or self.end_clock is None:
            return None
        d = self.end_clock - self.start_clock
        return float(d if d > 0 else d + 86400)


@dataclass(frozen=True)
class Summary:
    """A parsed summary: sampling rate, channel sections in order of appearance, and files."""

    sfreq: float | None
    channel_sections: tuple[tuple[str, ...], ...]
    files: tuple[SummaryFile, ...]

    @property
    def n_seizures(self) -> int:
        return sum(len(f.seizures) for f in self.files)

    def file(self, name: str) -> SummaryFile:
        for f in self.files:
            if f.name == name:
                return f
        raise KeyError(name)


_CLOCK = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2})$")
_RATE = re.compile(r"^Data Sampling Rate:\s*([\d.]+)\s*Hz$", re.I)
_SECTION = re.compile(r"^Channels (in EDF Files|changed)\s*:$", re.I)
_CHANNEL = re.compile(r"^Channel\s+(\d+)\s*:\s*(.*)$", re.I)
_FILE = re.compile(r"^File Name\s*:\s*(\S+)$", re.I)
_TIME = re.compile(r"^File (Start|End) Time\s*:\s*(\S+)$", re.I)
_COUNT = re.compile(r"^Number of Seizures in File\s*:\s*(\d+)$", re.I)
_SEIZURE = re.compile(
    r"^Seizure(?:\s+(\d+))?\s+(Start|End)\s+Time\s*:\s*(\d+(?:\.\d+)?)\s*(?:seconds?|secs?|s)?$", re.I
)
_RULE = re.compile(r"^\*+$")


def parse_clock(text: str) -> int:
    """``"hh:mm:ss"`` -> seconds since midnight; hours past 23 are kept (``"24:44:29"`` -> 89069).

    Raises
    ------
    ValueError
        ``text`` is not a clock time.
    """
    m = _CLOCK.match(text.strip())
    if not m:
        raise ValueError(f"not a clock time: {text!r}")
    h, mi, s = (int(g) for g in m.groups())
    if mi > 59 or s > 59:
        raise ValueError(f"not a clock time: {text!r}")
    return h * 3600 + mi * 60 + s


class _FileBuilder:
    """Accumulates one ``File Name:`` block while its lines are read."""

    def __init__(self, name: str, channels: tuple[str, ...], lineno: int):
        self.name = name
        self.channels = channels
        self.lineno = lineno
        self.start: int | None = None
        self.end: int | None = None
        self.declared: int | None = None
        self.seizures: list[tuple[float, float]] = []
        self.open_onset: float | None = None

    def add_time(self, which: str, text: str, where: str) -> None:
        """A ``File Start/End Time: hh:mm:ss`` line."""
        try:
            clock = parse_clock(text)
        except ValueError:
            raise DataError(f"{where}: bad clock time {text!r}; expected hh:mm:ss") from None
        if which.lower() == "start":
            self.start = clock
        else:
            self.end = clock

    def add_seizure_time(self, which: str, seconds: float, where: str) -> None:
        """A ``Seizure [n] Start/End Time: s seconds`` line; an end closes the open seizure."""
        if which.lower() == "start":
            if self.open_onset is not None:
                raise DataError(f"{where}: seizure start without the previous seizure's end")
            self.open_onset = seconds
            return
        if self.open_onset is None:
            raise DataError(f"{where}: seizure end time without a start time")
        if seconds <= self.open_onset:
            raise DataError(
                f"{where}: seizure ends at {seconds:g} s, not after its start {self.open_onset:g} s; fix the summary"
            )
        self.seizures.append((self.open_onset, seconds))
        self.open_onset = None

    def finish(self, source: str) -> SummaryFile:
        where = f"{source}, file {self.name} (line {self.lineno})"
        if self.open_onset is not None:
            raise DataError(f"{where}: a seizure start time has no end time; fix the summary")
        if self.declared is None:
            raise DataError(f"{where}: no 'Number of Seizures in File' line; fix the summary")
        if self.declared != len(self.seizures):
            raise DataError(f"{where}: says {self.declared} seizures but lists {len(self.seizures)}; fix the summary")
        if (self.start is None) != (self.end is None):
            raise DataError(f"{where}: has a start time without an end time or vice versa")
        return SummaryFile(self.name, self.start, self.end, tuple(self.seizures), self.channels)


def parse_summary(text: str, *, source: str = "summary") -> Summary:
    """Parse the text of a CHB-MIT ``chbNN-summary.txt``.

    Parameters
    ----------
    text
        The file's content.
    source
        Name used in error messages (usually the file path).

    Returns
    -------
    Summary

    Raises
    ------
    DataError
        A line is not recognised, a seizure is incomplete or ends before it starts, the number of
        seizures listed differs from the number announced, or a file block is incomplete.
    """
    sfreq: float | None = None
    sections: list[tuple[str, ...]] = []
    current: list[tuple[int, str]] | None = None  # channel section being read
    in_force: tuple[str, ...] = ()
    files: list[SummaryFile] = []
    block: _FileBuilder | None = None

    def close_section() -> None:
        nonlocal current, in_force
        if current is not None:
            in_force = tuple(label for _, label in sorted(current))
            sections.append(in_force)
            current = None

    def close_block() -> None:
        nonlocal block
        if block is not None:
            files.append(block.finish(source))
            block = None

    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or _RULE.match(line):
            continue
        where = f"{source}, line {lineno}"
        if m := _RATE.match(line):
            sfreq = float(m.group(1))
        elif _SECTION.match(line):
            close_block()
            close_section()
            current = []
        elif m := _CHANNEL.match(line):
            if current is None:
                raise DataError(f"{where}: channel line outside a channel section: {line!r}")
            current.append((int(m.group(1)), m.group(2).strip()))
        elif m := _FILE.match(line):
            close_block()
            close_section()
            block = _FileBuilder(m.group(1), in_force, lineno)
        elif m := _TIME.match(line):
            if block is None:
                raise DataError(f"{where}: file time outside a file block: {line!r}")
            block.add_time(m.group(1), m.group(2), where)
        elif m := _COUNT.match(line):
            if block is None:
                raise DataError(f"{where}: seizure count outside a file block: {line!r}")
            block.declared = int(m.group(1))
        elif m := _SEIZURE.match(line):
            if block is None:
                raise DataError(f"{where}: seizure time outside a file block: {line!r}")
            block.add_seizure_time(m.group(2), float(m.group(3)), where)
        else:
            raise DataError(f"{where}: unrecognised line {line!r}; this summary format is unknown")
    close_block()
    close_section()
    return Summary(sfreq, tuple(sections), tuple(files))
