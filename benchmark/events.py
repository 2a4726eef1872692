"""Event-based scoring of seizure detection, following SzCORE.

Window scores are turned into predicted seizure events by a small, documented post-processing
(:class:`PostProcessing`, :func:`windows_to_events`), and predicted events are compared with the
annotated seizures by the SzCORE event-scoring rules of Dan et al. (2024), "SzCORE: seizure
community open-source research evaluation framework for the validation of
electroencephalography-based automated seizure detection algorithms", Epilepsia,
doi:10.1111/epi.18113:

* any overlap between a predicted and a reference event is a detection;
* events (reference and predicted) separated by less than 90 s are merged into one;
* events longer than 5 min are split into 5-min events (the remainder is its own event);
* each reference event is widened by a tolerance of 30 s before its onset and 60 s after its
  offset before overlaps are looked for;
* sensitivity, precision, F1 and false alarms per 24 h are reported.

The matching itself is delegated to the reference implementation of those rules, the
``timescoring`` package (``EventScoring``) by the SzCORE authors, so the numbers agree with other
SzCORE results. Counts are kept as :class:`EventCounts` so that recordings of one patient can be
pooled (:func:`sum_counts`) before ratios are taken, as SzCORE does per subject.

Times are compared in whole ticks, never by subtracting floats: 10.3 + 90.0 - 10.3 is
89.99999999999999 in floating point, which would merge events exactly 90 s apart and split a
300.0-s event into 300 s and an empty piece (an extra false alarm). SzCORE scoring runs on the
0.1-s grid ``timescoring`` works on (:data:`SCORING_FS`): event times are rounded to the nearest
0.1 s, then merging (gap < 90 s) and splitting (> 300 s) are done here in integer ticks, and
``timescoring`` is called with both turned off, since its own float arithmetic would redo them
inexactly; its tolerance edges are rounded to the tick by the library (float errors are some
1e-12 s, far below half a tick). Parameters in seconds are read as the decimals they print as
(90.0 -> 900 ticks) and must be multiples of 0.1 s. Post-processing (:func:`windows_to_events`)
compares times in whole microseconds, the resolution of window times.

SzCORE also defines sample-based scoring (:func:`score_recording_samples`): both event lists become
binary masks of :attr:`SampleParams.fs` samples per second (1 Hz, SzCORE's choice), and
``timescoring``'s ``SampleScoring`` counts the samples; sensitivity, precision, F1 and false-positive
samples per 24 h follow from the pooled counts as for events.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from fractions import Fraction

import numpy as np
import pandas as pd
from timescoring.annotations import Annotation
from timescoring.scoring import EventScoring, SampleScoring

from benchmark.errors import BenchmarkError, DataError

log = logging.getLogger(__name__)

#: Sampling rate (Hz) of the binary masks handed to ``timescoring``. ``EventScoring`` resamples
#: every annotation to 10 Hz internally whatever rate it is given, so building the masks at 10 Hz
#: adds no second quantisation (a 1-Hz mask would round the recording length to whole seconds
#: before the library upsamples it) and events keep a 0.1-s resolution.
SCORING_FS = 10

SECONDS_PER_DAY = 24 * 3600.0

#: Columns of the per-patient table returned by :func:`score_windows`.
EVENT_COLUMNS = (
    "event_sensitivity",
    "event_precision",
    "event_f1",
    "fa_per_24h",
    "event_tp",
    "event_fp",
    "event_n_ref",
    "hours",
)

#: Columns :func:`score_windows` adds with sample-based scoring (``samples=``); counts are in samples.
SAMPLE_COLUMNS = (
    "sample_sensitivity",
    "sample_precision",
    "sample_f1",
    "sample_fp_per_24h",
    "sample_tp",
    "sample_fp",
    "sample_n_ref",
    "sample_hours",
)

Event = tuple[float, float]

#: Ticks per second of post-processing: window times are kept to the microsecond.
POST_TICKS = 1_000_000


def _ticks(seconds: float, per_s: int) -> int:
    """A time in whole ticks: the nearest tick, so float noise (100.30000000000001) disappears."""
    return round(float(seconds) * per_s)


def _exact(seconds: float, per_s: int) -> Fraction:
    """A duration parameter in ticks, exactly, read as the decimal it prints as (90.0 -> 900)."""
    return Fraction(repr(float(seconds))) * per_s


# -- post-processing: window scores -> predicted events --------------------------------------------
@dataclass(frozen=True)
class PostProcessing:
    """How window scores of one recording become predicted seizure events.

    Steps, in order (see :func:`windows_to_events`):

    1. the score is smoothed by a moving average over ``smooth_windows`` consecutive windows
       (in order of start time), centred on each window and shrunk at the recording's edges so
       that the first and last windows are averaged over the windows that exist;
    2. a window is positive when its smoothed score is ``>= threshold`` (the same convention as
       :func:`benchmark.metrics.binary_metrics`);
    3. each run of consecutive positive windows becomes one event, from the first window's start
       to the last window's end (gaps between windows of a run are covered);
    4. events that overlap or touch are joined, and events separated by less than
       ``merge_gap_s`` seconds are merged;
    5. events shorter than ``min_duration_s`` seconds are dropped. Merging comes first so that a
       long detection broken by a one-window dip is not discarded piece by piece.

    Parameters
    ----------
    threshold
        Decision threshold on the smoothed score.
    smooth_windows
        Length of the moving average, in windows; 1 means no smoothing. For an even length the
        extra window is taken from the past.
    min_duration_s
        Minimum event duration in seconds; shorter events are dropped.
    merge_gap_s
        Events separated by a gap shorter than this are merged. SzCORE scoring merges events
        closer than 90 s anyway (:class:`SzcoreParams`), so this only matters for larger gaps or
        for ``min_duration_s``.
    """

    threshold: float = 0.5
    smooth_windows: int = 1
    min_duration_s: float = 0.0
    merge_gap_s: float = 0.0

    def __post_init__(self):
        if not math.isfinite(self.threshold):
            raise BenchmarkError(f"post-processing threshold must be a finite number, got {self.threshold}.")
        k = self.smooth_windows
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise BenchmarkError(f"smooth_windows must be a whole number of windows >= 1, got {self.smooth_windows}.")
        for name in ("min_duration_s", "merge_gap_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise BenchmarkError(f"{name} must be a finite number of seconds >= 0, got {value}.")


def _moving_average(x: np.ndarray, k: int) -> np.ndarray:
    """Centred moving average of length ``k``, averaging only existing samples at the edges."""
    if k == 1 or x.size == 0:
        return x.astype(float)
    n = x.size
    idx = np.arange(n)
    lo = np.clip(idx - k // 2, 0, n)
    hi = np.clip(idx - k // 2 + k, 0, n)  # exclusive
    csum = np.concatenate([[0.0], np.cumsum(x, dtype=float)])
    return (csum[hi] - csum[lo]) / (hi - lo)


def _merge(events: Iterable[tuple[int, int]], gap: Fraction | int) -> list[tuple[int, int]]:
    """Join tick events (sorted by start) that overlap, touch, or are less than ``gap`` ticks apart."""
    merged: list[list[int]] = []
    for start, end in events:
        if merged and (start <= merged[-1][1] or start - merged[-1][1] < gap):
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def _split(events: Iterable[tuple[int, int]], longest: int) -> list[tuple[int, int]]:
    """Cut tick events longer than ``longest`` ticks into pieces of ``longest``, the remainder last."""
    out = []
    for start, end in events:
        while end - start > longest:
            out.append((start, start + longest))
            start += longest
        out.append((start, end))
    return out


def windows_to_events(starts, ends, scores, post: PostProcessing = PostProcessing()) -> list[Event]:
    """Turn the window scores of ONE recording into predicted events (see :class:`PostProcessing`).

    Parameters
    ----------
    starts, ends
        Window start and end times in seconds from the recording's start. Windows may overlap
        or leave gaps; they are put in order of start time (stable, ties by end) before
        smoothing.
    scores
        Predicted probability of a seizure for each window.
    post
        The post-processing to apply.

    Returns
    -------
    list of (float, float)
        Disjoint predicted events ``(start, end)`` in seconds, sorted by start.

    Raises
    ------
    DataError
        If the three arrays differ in length, contain non-finite values, or a window ends before
        it starts.
    """
    starts = np.asarray(starts, dtype=float).ravel()
    ends = np.asarray(ends, dtype=float).ravel()
    scores = np.asarray(scores, dtype=float).ravel()
    if not (starts.size == ends.size == scores.size):
        raise DataError(
            "windows_to_events needs one start, end and score per window; got "
            f"{starts.size} starts, {ends.size} ends and {scores.size} scores."
        )
    if starts.size == 0:
        return []
    if not (np.isfinite(starts).all() and np.isfinite(ends).all() and np.isfinite(scores).all()):
        raise DataError("window starts, ends and scores must be finite numbers (found NaN or inf).")
    if (ends < starts).any():
        raise DataError("a window ends before it starts; check the window table's start/end columns.")

    order = np.lexsort((ends, starts))
    starts, ends, scores = starts[order], ends[order], scores[order]
    positive = _moving_average(scores, int(post.smooth_windows)) >= post.threshold

    # Runs of consecutive positive windows: boundaries where the positive flag changes.
    flag = np.concatenate([[False], positive, [False]]).astype(np.int8)
    run_first = np.flatnonzero(np.diff(flag) == 1)
    run_last = np.flatnonzero(np.diff(flag) == -1) - 1
    # A run's end is its latest window end: with overlapping windows of unequal length the last
    # window by start need not end last.
    runs = [
        (_ticks(starts[a], POST_TICKS), _ticks(ends[a : b + 1].max(), POST_TICKS)) for a, b in zip(run_first, run_last)
    ]

    events = _merge(sorted(runs), _exact(post.merge_gap_s, POST_TICKS))
    shortest = _exact(post.min_duration_s, POST_TICKS)
    return [(s / POST_TICKS, e / POST_TICKS) for s, e in events if e - s >= shortest]


# -- SzCORE scoring ------------------------------------------------------------------------------
@dataclass(frozen=True)
class SzcoreParams:
    """Event-scoring parameters; the defaults are SzCORE's (Dan et al., 2024).

    Parameters
    ----------
    tolerance_start_s
        Seconds before a reference onset in which a detection still counts (30 s).
    tolerance_end_s
        Seconds after a reference offset in which a detection still counts (60 s).
    min_overlap
        Fraction of the widened reference event a detection must cover; 0 means any overlap.
    max_event_duration_s
        Events longer than this are split into pieces of this length (300 s).
    min_duration_between_events_s
        Events separated by less than this are merged (90 s).
    """

    tolerance_start_s: float = 30.0
    tolerance_end_s: float = 60.0
    min_overlap: float = 0.0
    max_event_duration_s: float = 300.0
    min_duration_between_events_s: float = 90.0

    def __post_init__(self):
        for name in ("tolerance_start_s", "tolerance_end_s", "min_duration_between_events_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise BenchmarkError(f"{name} must be a finite number of seconds >= 0, got {value}.")
        if not (math.isfinite(self.max_event_duration_s) and self.max_event_duration_s > 0):
            raise BenchmarkError(
                f"max_event_duration_s must be a positive number of seconds, got {self.max_event_duration_s}."
            )
        if not (0 <= self.min_overlap < 1):
            raise BenchmarkError(f"min_overlap must be in [0, 1), got {self.min_overlap}.")
        for name in ("tolerance_start_s", "tolerance_end_s", "max_event_duration_s", "min_duration_between_events_s"):
            if _exact(getattr(self, name), SCORING_FS).denominator != 1:
                raise BenchmarkError(
                    f"{name} must be a multiple of {1 / SCORING_FS:g} s (the SzCORE scoring grid), "
                    f"got {getattr(self, name)}."
                )

    def to_timescoring(self) -> EventScoring.Parameters:
        """The same parameters as a ``timescoring.scoring.EventScoring.Parameters``."""
        return EventScoring.Parameters(
            toleranceStart=self.tolerance_start_s,
            toleranceEnd=self.tolerance_end_s,
            minOverlap=self.min_overlap,
            maxEventDuration=self.max_event_duration_s,
            minDurationBetweenEvents=self.min_duration_between_events_s,
        )


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den > 0 else float("nan")


@dataclass(frozen=True)
class EventCounts:
    """Event-scoring counts of one recording, or of several pooled by :func:`sum_counts`.

    Parameters
    ----------
    tp
        Reference events detected (after SzCORE merging and splitting of the reference).
    fp
        Predicted events that overlap no widened reference event (false alarms).
    n_ref
        Reference events after SzCORE merging and splitting (a 12-min seizure counts as 3).
    duration_s
        Recorded time in seconds, the denominator of the false-alarm rate.
    """

    tp: int
    fp: int
    n_ref: int
    duration_s: float

    @property
    def sensitivity(self) -> float:
        """``tp / n_ref``; NaN without reference events."""
        return _ratio(self.tp, self.n_ref)

    @property
    def precision(self) -> float:
        """``tp / (tp + fp)``; NaN without any detection."""
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def f1(self) -> float:
        """``2 tp / (2 tp + fp + fn)`` with ``fn = n_ref - tp``; NaN with no event of either kind.

        Equal to the harmonic mean of sensitivity and precision when both are defined, and 0 (not
        NaN) for false alarms in a recording without seizures, as in ``timescoring``.
        """
        return _ratio(2 * self.tp, 2 * self.tp + self.fp + (self.n_ref - self.tp))

    @property
    def fa_per_24h(self) -> float:
        """False alarms per 24 h of recording; NaN for zero duration."""
        return _ratio(self.fp * SECONDS_PER_DAY, self.duration_s)


def _checked(event: Event, what: str) -> tuple[float, float]:
    start, end = float(event[0]), float(event[1])
    if not (math.isfinite(start) and math.isfinite(end)) or end < start:
        raise DataError(f"{what} event {tuple(event)} is not a (start, end) pair with start <= end.")
    return start, end


def _clipped(events: Sequence[Event], duration_s: float, what: str) -> list[tuple[float, float]]:
    """Events in seconds, checked, clipped to ``[0, duration_s]`` and sorted; empty ones dropped."""
    out = []
    for event in events:
        start, end = _checked(event, what)
        start, end = min(max(start, 0.0), duration_s), min(max(end, 0.0), duration_s)
        if end > start:
            out.append((start, end))
    return sorted(out)


def _prepare(events: Sequence[Event], n_samples: int, what: str) -> list[tuple[int, int]]:
    """Events in ticks of the scoring grid: clipped to the recording, sorted, overlaps joined.

    Snapping to the 10-Hz grid keeps the event list and the library's mask consistent: an event
    shorter than one sample would otherwise have an empty mask yet still be counted as a false
    alarm by ``timescoring``.
    """
    out = []
    for event in events:
        start, end = _checked(event, what)
        s = min(max(_ticks(start, SCORING_FS), 0), n_samples)
        e = min(max(_ticks(end, SCORING_FS), 0), n_samples)
        if (s / SCORING_FS, e / SCORING_FS) != (start, end):
            log.debug("%s event (%s, %s) clipped/snapped to (%s, %s)", what, start, end, s / SCORING_FS, e / SCORING_FS)
        if e > s:
            out.append((s, e))
    return _merge(sorted(out), 0)


def szcore_events(events: Sequence[Event], n_samples: int, params: SzcoreParams, what: str) -> list[tuple[int, int]]:
    """SzCORE's merging then splitting of one recording's events, in ticks of :data:`SCORING_FS`."""
    ticks = _prepare(events, n_samples, what)
    merged = _merge(ticks, _exact(params.min_duration_between_events_s, SCORING_FS))
    return _split(merged, int(_exact(params.max_event_duration_s, SCORING_FS)))


def score_recording(
    reference: Sequence[Event],
    hypothesis: Sequence[Event],
    duration_s: float,
    params: SzcoreParams = SzcoreParams(),
) -> EventCounts:
    """Score the predicted events of one recording against its annotated seizures (SzCORE).

    Both event lists are clipped to ``[0, duration_s]``, snapped to a 0.1-s grid
    (:data:`SCORING_FS`), sorted, joined where they overlap, merged and split by the SzCORE
    rules in integer ticks (:func:`szcore_events`), then handed to
    ``timescoring.scoring.EventScoring`` with its own merging and splitting turned off, which
    widens the reference events by the tolerances and matches them (see the module docstring).

    Parameters
    ----------
    reference
        Annotated seizures ``(onset, offset)`` in seconds from the recording's start.
    hypothesis
        Predicted events ``(start, end)`` in seconds, e.g. from :func:`windows_to_events`.
    duration_s
        Length of the recording in seconds.
    params
        Scoring parameters (SzCORE defaults).

    Returns
    -------
    EventCounts

    Raises
    ------
    DataError
        If ``duration_s`` is not a positive number or an event is malformed.
    """
    duration_s = float(duration_s)
    if not (math.isfinite(duration_s) and duration_s > 0):
        raise DataError(f"recording duration must be a positive number of seconds, got {duration_s}.")
    n_samples = round(duration_s * SCORING_FS)
    if n_samples == 0:
        raise DataError(f"recording of {duration_s} s is shorter than one scoring sample ({1 / SCORING_FS} s).")
    ref, hyp = (
        [(s / SCORING_FS, e / SCORING_FS) for s, e in szcore_events(events, n_samples, params, what)]
        for events, what in ((reference, "reference"), (hypothesis, "hypothesis"))
    )
    library = params.to_timescoring()
    # Merged and split above, exactly; the library's float versions would undo that. Pieces of a
    # split event share a boundary whose two floats are equal, so a 0-s gap is never merged.
    library.minDurationBetweenEvents = 0.0
    library.maxEventDuration = math.inf
    scoring = EventScoring(
        Annotation(ref, SCORING_FS, n_samples),
        Annotation(hyp, SCORING_FS, n_samples),
        library,
    )
    return EventCounts(tp=int(scoring.tp), fp=int(scoring.fp), n_ref=int(scoring.refTrue), duration_s=duration_s)


def sum_counts(counts: Iterable[EventCounts]) -> EventCounts:
    """Pool event (or sample) counts, e.g. all recordings of one patient; ratios are recomputed from sums.

    An empty iterable gives zero counts and zero duration, whose ratios are all NaN.
    """
    tp = fp = n_ref = 0
    duration = 0.0
    for c in counts:
        tp += c.tp
        fp += c.fp
        n_ref += c.n_ref
        duration += c.duration_s
    return EventCounts(tp=tp, fp=fp, n_ref=n_ref, duration_s=duration)


@dataclass(frozen=True)
class SampleParams:
    """Sample-based scoring settings; the default is SzCORE's.

    Parameters
    ----------
    fs
        Samples per second of the binary masks compared sample by sample (SzCORE: 1 Hz).
    """

    fs: int = 1

    def __post_init__(self):
        if isinstance(self.fs, bool) or not isinstance(self.fs, (int, np.integer)) or self.fs < 1:
            raise BenchmarkError(f"sample scoring fs must be a whole number of samples per second >= 1, got {self.fs}.")


def score_recording_samples(
    reference: Sequence[Event],
    hypothesis: Sequence[Event],
    duration_s: float,
    params: SampleParams = SampleParams(),
) -> EventCounts:
    """Sample-based SzCORE scores of one recording, as counts of mask samples.

    Both event lists are checked and clipped to the recording (in seconds, not snapped to a grid
    first: an edge is rounded once), then drawn on masks of ``round(duration_s * fs)`` samples
    (``timescoring.annotations.Annotation``, which rounds event edges to the nearest sample) and
    compared by ``timescoring.scoring.SampleScoring``. In the
    returned counts ``tp`` and ``fp`` are hypothesis samples inside and outside a seizure, ``n_ref``
    the seizure samples, and ``duration_s`` the masks' length in seconds (the library's
    false-positive-rate denominator).

    Raises
    ------
    DataError
        If ``duration_s`` is not a positive number of at least one sample, or an event is malformed.
    """
    duration_s = float(duration_s)
    if not (math.isfinite(duration_s) and duration_s > 0):
        raise DataError(f"recording duration must be a positive number of seconds, got {duration_s}.")
    fs = int(params.fs)
    n = round(duration_s * fs)
    if n == 0:
        raise DataError(f"recording of {duration_s} s is shorter than one scoring sample ({1 / fs} s).")
    ref, hyp = (
        Annotation(_clipped(events, n / fs, what), fs, n)
        for events, what in ((reference, "reference"), (hypothesis, "hypothesis"))
    )
    scoring = SampleScoring(ref, hyp, fs)
    return EventCounts(tp=int(scoring.tp), fp=int(scoring.fp), n_ref=int(scoring.refTrue), duration_s=n / fs)


def score_windows(
    table: pd.DataFrame,
    reference: Mapping[str, Sequence[Event]],
    durations: Mapping[str, float],
    post: PostProcessing = PostProcessing(),
    params: SzcoreParams = SzcoreParams(),
    samples: SampleParams | None = None,
) -> pd.DataFrame:
    """Per-patient SzCORE event scores from a table of window scores.

    Each recording's windows are post-processed into events (:func:`windows_to_events`) and
    scored (:func:`score_events`); the counts of a patient's recordings are pooled
    (:func:`sum_counts`) before ratios are taken.

    Parameters
    ----------
    table
        One row per test window, with columns ``patient``, ``recording``, ``start``, ``end``
        (seconds from the recording's start) and ``score``.
    reference
        Annotated seizures ``[(onset, offset), ...]`` per recording id; every recording in
        ``table`` must have an entry (an empty list for a recording without seizures), so that a
        forgotten annotation cannot pass as a seizure-free recording.
    durations
        Length in seconds of each recording in ``table``; the false-alarm rate is per 24 h of
        these durations.
    post, params
        Post-processing and scoring parameters.
    samples
        Sample-based scoring settings; when given, the columns of :data:`SAMPLE_COLUMNS` are added.

    Returns
    -------
    pandas.DataFrame
        One row per patient (index ``patient``, sorted) with the columns of
        :data:`EVENT_COLUMNS` (and :data:`SAMPLE_COLUMNS`); ``hours`` is the pooled recording
        duration in hours.

    Raises
    ------
    DataError
        If a column is missing, a recording belongs to more than one patient, or a recording has
        no reference or duration entry.
    """
    needed = ("patient", "recording", "start", "end", "score")
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise DataError(f"window table lacks column(s) {', '.join(missing)} needed for event scoring.")

    hypotheses: dict[str, list[Event]] = {}
    patients: dict[str, str] = {}
    for recording, rows in table.groupby("recording", sort=True):
        patients[recording] = _recording_patient(recording, rows)
        _check_known(recording, reference, durations)
        hypotheses[recording] = windows_to_events(rows["start"], rows["end"], rows["score"], post)
    return score_events(hypotheses, patients, reference, durations, params, samples)


def score_events(
    hypotheses: Mapping[str, Sequence[Event]],
    patients: Mapping[str, str],
    reference: Mapping[str, Sequence[Event]],
    durations: Mapping[str, float],
    params: SzcoreParams = SzcoreParams(),
    samples: SampleParams | None = None,
) -> pd.DataFrame:
    """Per-patient SzCORE scores of predicted events, pooled over each patient's recordings.

    The one scoring step of window scores (:func:`score_windows`) and of hypothesis files made by
    other tools (:mod:`benchmark.szcore`), so both give the same numbers for the same events.

    Parameters
    ----------
    hypotheses
        Predicted events ``[(start, end), ...]`` per recording id (every recording scored).
    patients
        The patient of each recording in ``hypotheses``.
    reference, durations, params, samples
        As for :func:`score_windows`.

    Returns
    -------
    pandas.DataFrame
        As :func:`score_windows`.
    """
    events: dict[str, list[EventCounts]] = {}
    sampled: dict[str, list[EventCounts]] = {}
    for recording in sorted(hypotheses):
        _check_known(recording, reference, durations)
        patient, hyp, duration = patients[recording], hypotheses[recording], durations[recording]
        events.setdefault(patient, []).append(score_recording(reference[recording], hyp, duration, params))
        if samples is not None:
            counts = score_recording_samples(reference[recording], hyp, duration, samples)
            sampled.setdefault(patient, []).append(counts)

    records = [
        _patient_record(p, sum_counts(events[p]), sum_counts(sampled[p]) if samples is not None else None)
        for p in sorted(events)
    ]
    columns = ["patient", *EVENT_COLUMNS, *(SAMPLE_COLUMNS if samples is not None else ())]
    out = pd.DataFrame.from_records(records, columns=columns).set_index("patient")
    return out.astype({c: int for c in out.columns if c.endswith(("_tp", "_fp", "_n_ref"))})


def _recording_patient(recording: str, rows: pd.DataFrame) -> str:
    """The one patient of a recording's windows."""
    patients = rows["patient"].unique()
    if len(patients) != 1:
        raise DataError(f"recording {recording!r} appears under several patients ({', '.join(map(str, patients))}).")
    return str(patients[0])


def _check_known(recording: str, reference: Mapping[str, Sequence[Event]], durations: Mapping[str, float]) -> None:
    """Refuse a recording without a reference (an empty list means no seizures) or a duration."""
    if recording not in reference:
        raise DataError(
            f"no seizure annotation given for recording {recording!r}; pass an empty list "
            "for a recording without seizures."
        )
    if recording not in durations:
        raise DataError(f"no duration given for recording {recording!r}.")


def _patient_record(patient: str, c: EventCounts, samples: EventCounts | None = None) -> dict[str, object]:
    """One row of :func:`score_events`' table from a patient's pooled event (and sample) counts."""
    row: dict[str, object] = {
        "patient": patient,
        "event_sensitivity": c.sensitivity,
        "event_precision": c.precision,
        "event_f1": c.f1,
        "fa_per_24h": c.fa_per_24h,
        "event_tp": c.tp,
        "event_fp": c.fp,
        "event_n_ref": c.n_ref,
        "hours": c.duration_s / 3600.0,
    }
    if samples is not None:
        row.update(
            sample_sensitivity=samples.sensitivity,
            sample_precision=samples.precision,
            sample_f1=samples.f1,
            sample_fp_per_24h=samples.fa_per_24h,
            sample_tp=samples.tp,
            sample_fp=samples.fp,
            sample_n_ref=samples.n_ref,
            sample_hours=samples.duration_s / 3600.0,
        )
    return row


def scoring_records(
    table: pd.DataFrame,
    post: PostProcessing | None,
    params: SzcoreParams = SzcoreParams(),
    samples: SampleParams = SampleParams(),
) -> dict[str, dict]:
    """What a result set's provenance records of its SzCORE scoring: the settings, the totals and
    each patient's counts (the counts behind the ratios, which the szcore-evaluation JSON export
    reports), from a table of :func:`score_events` with sample columns.

    ``post`` is the post-processing that made events from window scores, or ``None`` for events
    read from hypothesis files.
    """
    event_counts = {"tp": "event_tp", "fp": "event_fp", "n_ref": "event_n_ref", "hours": "hours"}
    sample_counts = {"tp": "sample_tp", "fp": "sample_fp", "n_ref": "sample_n_ref", "hours": "sample_hours"}

    def per_patient(names: dict[str, str]) -> dict[str, dict[str, float]]:
        return {str(p): {k: float(row[c]) for k, c in names.items()} for p, row in table.iterrows()}

    events = {
        **({"post_processing": asdict(post)} if post is not None else {}),
        "szcore": asdict(params),
        "totals": {c: float(table[c].sum()) for c in event_counts.values()},
        "per_patient": per_patient(event_counts),
    }
    sampled = {
        "szcore": asdict(samples),
        "totals": {c: float(table[c].sum()) for c in sample_counts.values()},
        "per_patient": per_patient(sample_counts),
    }
    return {"event_scoring": events, "sample_scoring": sampled}
