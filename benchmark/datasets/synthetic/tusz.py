"""``tusz-synthetic``: a small, deterministic, SYNTHETIC seizure-type dataset in the TUSZ v2 layout.

It lets multi-class seizure-type classification (the ``seizure-type`` task) run end to end without
the real Temple University Hospital Seizure Corpus (Shah et al., 2018), and it goes through the
same loader as real TUSZ (:func:`benchmark.datasets.tusz.load_tusz`): real EDF files whose
signals are the 19 referential 10-20 electrodes plus the ear electrodes A1 and A2, labelled
``EEG FP1-REF`` ... (16-bit, 1-s data records, µV), each with TUSZ annotation files beside it:
``.csv`` with typed events on the 22 channels of the TCP montage and ``.csv_bi`` with term-level
seizure/background events.

Layout (as TUSZ v2.0.x)::

    README.txt  SYNTHETIC.json
    edf/{train,dev,eval}/<subject>/s001_2011/01_tcp_ar/<subject>_s001_t000.{edf,csv,csv_bi}

Subjects are named ``synthaaa``, ``synthaab``, ... (eight lower-case letters, like TUSZ ids).
As in TUSZ, every subject lies in exactly one of ``train``, ``dev`` and ``eval`` (about 60/20/20 %,
the last patients in ``eval``); the benchmark's own protocols split by patient regardless of
these folders, which only exercise the loader's walk over all three.

Patients
--------
Each patient has its own background EEG (a :func:`~benchmark.datasets.synthetic.eeg.make_profile`
profile: level, 1/f exponent, alpha rhythm, blinks, muscle and sharp transients), taken against
the average of all 21 electrodes like TUSZ's ``ar`` (averaged reference) recordings, and
one or two seizure types. Types are dealt out so that every type occurs in at least two
patients, so patient-wise 5-fold and leave-one-subject-out splits still test each type on a
patient it was not trained on. Within a type, each patient has its own amplitude, frequency,
focus and field width, and each seizure its own duration and jitter, so a type looks similar,
not identical, across patients.

Seizure types
-------------
Each type caricatures the ictal pattern clinicians associate with it (Fisher et al., 2017, ILAE
classification; TUSZ type codes of Shah et al., 2018); the defaults are the seven types of the
TUSZ seizure-type papers (MYSZ left out):

``ABSZ`` (absence)
    Generalized, frontally predominant 3-Hz spike-and-wave (2.8-3.6 Hz, slowing by about 15 %
    within the seizure), abrupt onset and end, high amplitude, short (5-15 s).
``GNSZ`` (generalized non-specific)
    Generalized rhythmic sharply contoured theta (5-7.5 Hz) building up over the first third,
    moderate amplitude, 15-45 s.
``TCSZ`` (tonic-clonic)
    Tonic phase (first 35-45 %): generalized recruiting fast rhythm (9-11 Hz rising by 40 %)
    buried in intense muscle artefact (25-90 Hz, strongest over temporal and frontal channels);
    clonic phase: generalized polyspike-and-wave bursts whose rate slows from about 3 to 1 Hz,
    each with a muscle burst; then post-ictal suppression of the background (outside the
    annotation). Long: 40-80 s.
``TNSZ`` (tonic)
    Electrodecremental pattern: the background is attenuated to a quarter while generalized
    low-voltage fast activity (16-24 Hz, a few µV rising to 10-15 µV) builds up; 5-20 s.
``FNSZ`` (focal non-specific)
    Focal, near-sinusoidal rhythmic theta (5-7 Hz) over a few neighbouring electrodes around a
    patient-specific extratemporal focus (frontal, central, parietal or occipital), spreading
    with small delays, 15-50 s.
``CPSZ`` (complex partial)
    Temporal-lobe pattern: sharply contoured rhythmic activity over one temporal region (T3 or
    T4 with F7/F8, T5/T6), later also, weaker, on the other side, whose frequency evolves from
    7-9 Hz down to 2-3 Hz (most of the seizure in rhythmic delta) while the amplitude builds
    and the field widens; 30-80 s.
``SPSZ`` (simple partial)
    Focal, low-amplitude rhythmic low-beta (12-16 Hz) over one to three electrodes, short
    (8-25 s).

The ictal patterns are added to each channel as seen against a quiet reference. Every type can
be told from the others in 1-s windows by its spectrum, spatial extent and
amplitude relative to the patient's background (see ``tests/datasets/test_tusz_synthetic.py``), but
not from a single feature that is the same for every patient.

The default config (10 subjects, two 4-min recordings each, 40 seizures) writes about 50 MB
in a few seconds. ``SYNTHETIC.json`` (written last) says that the content is synthetic and records the
configuration, each patient's split folder, types, per-type parameters and seizures, and a
checksum of every file; ``README.txt`` says the same in words. Nothing here comes from real patients.

References
----------
Shah, V., von Weltin, E., Lopez, S., et al. (2018). The Temple University Hospital Seizure
Detection Corpus. Frontiers in Neuroinformatics, 12, 83.

Fisher, R. S., Cross, J. H., French, J. A., et al. (2017). Operational classification of
seizure types by the International League Against Epilepsy. Epilepsia, 58(4), 522-530.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import edfio
import numpy as np

from benchmark.datasets.synthetic._setup import (
    DIG,
    GAIN,
    GeneratorConfig,
    ensure_generated,
    prepare_out_dir,
    progress_bar,
    write_edf,
    write_marker,
)
from benchmark.datasets.synthetic._setup import seeded_rng as _rng
from benchmark.datasets.synthetic._setup import smoothstep as _smoothstep
from benchmark.datasets.synthetic.eeg import ELECTRODES, PatientProfile, make_profile, synthesize_recording
from benchmark.datasets.tusz import TUSZ_CHANNELS, load_tusz, write_tusz_annotations
from benchmark.index import RecordingIndex

log = logging.getLogger(__name__)

__all__ = [
    "DATASET_NAME",
    "EDF_CHANNELS",
    "GENERATOR_VERSION",
    "MORPHOLOGIES",
    "SEIZURE_TYPES",
    "TCP_CHANNELS",
    "Morphology",
    "TuszSyntheticConfig",
    "ensure_tusz_synthetic",
    "generate_tusz_synthetic",
    "load_tusz_synthetic",
]

DATASET_NAME = "tusz-synthetic"
#: Bumped whenever the generated bytes change for a given config, so caches are not reused wrongly.
GENERATOR_VERSION = 1
# Names this generator's former module path on purpose: the note is part of the generated files.
SYNTHETIC_NOTE = (
    "All content of this folder is SYNTHETIC: EEG signals, seizures, seizure types, subjects and "
    "dates were generated by seizure-bench (benchmark.datasets.tusz_synthetic) and come from no real "
    "patient. It mimics the layout of the TUH EEG Seizure Corpus (TUSZ) v2; results on it say "
    "nothing about performance on real EEG."
)


@dataclass(frozen=True)
class Morphology:
    """The synthetic ictal pattern of one seizure type (see the module docstring).

    Attributes
    ----------
    code
        TUSZ type code (upper case).
    pattern
        One line: the clinical pattern the synthetic seizure caricatures.
    duration_s
        Range of seizure durations (s); clipped to what fits the recording.
    freq_hz
        Range of the patient-specific characteristic frequency (Hz): the spike-wave rate, the
        rhythm, or for CPSZ the start of its glide and for TCSZ the tonic recruiting rhythm.
    extent
        ``"generalized"``, ``"focal"`` (extratemporal focus, or any electrode for SPSZ) or
        ``"temporal"``.
    """

    code: str
    pattern: str
    duration_s: tuple[float, float]
    freq_hz: tuple[float, float]
    extent: str


MORPHOLOGIES: dict[str, Morphology] = {
    m.code: m
    for m in (
        Morphology("ABSZ", "generalized 3-Hz spike-and-wave, abrupt, short", (5.0, 15.0), (2.8, 3.6), "generalized"),
        Morphology("CPSZ", "temporal rhythm evolving from ~8 Hz to 2-3 Hz", (30.0, 80.0), (7.0, 9.0), "temporal"),
        Morphology("FNSZ", "focal rhythmic theta over neighbouring electrodes", (15.0, 50.0), (5.0, 7.0), "focal"),
        Morphology("GNSZ", "generalized rhythmic sharply contoured theta", (15.0, 45.0), (5.0, 7.5), "generalized"),
        Morphology("SPSZ", "focal low-amplitude low-beta rhythm, short", (8.0, 25.0), (12.0, 16.0), "focal"),
        Morphology(
            "TCSZ",
            "tonic fast rhythm and muscle, then clonic polyspike-wave bursts",
            (40.0, 80.0),
            (9.0, 11.0),
            "generalized",
        ),
        Morphology(
            "TNSZ", "background attenuation with low-voltage fast activity", (5.0, 20.0), (16.0, 24.0), "generalized"
        ),
    )
}

#: The seven seizure types of the TUSZ seizure-type classification papers (MYSZ left out).
SEIZURE_TYPES: tuple[str, ...] = tuple(MORPHOLOGIES)

# TUSZ uses the old 10-20 names for the temporal chain; the eeg module the new ones.
_NEW_NAME = {"T3": "T7", "T4": "T8", "T5": "P7", "T6": "P8"}
_XY = np.array([ELECTRODES[_NEW_NAME.get(c, c)] for c in TUSZ_CHANNELS])
_N_CH = len(TUSZ_CHANNELS)
#: The 22 channels of the TCP bipolar montage, on which TUSZ ``.csv`` files list channel events.
TCP_CHANNELS: tuple[str, ...] = (
    "FP1-F7",
    "F7-T3",
    "T3-T5",
    "T5-O1",
    "FP2-F8",
    "F8-T4",
    "T4-T6",
    "T6-O2",
    "A1-T3",
    "T3-C3",
    "C3-CZ",
    "CZ-C4",
    "C4-T4",
    "T4-A2",
    "FP1-F3",
    "F3-C3",
    "C3-P3",
    "P3-O1",
    "FP2-F4",
    "F4-C4",
    "C4-P4",
    "P4-O2",
)
#: Signals of every EDF, in file order: the 19 electrodes, then the ear electrodes A1 and A2
#: (present in real TUSZ files and needed by the TCP montage; the benchmark does not read them).
EDF_CHANNELS: tuple[str, ...] = (*TUSZ_CHANNELS, "A1", "A2")
_EXTRATEMPORAL_FOCI = ("F3", "F4", "C3", "C4", "P3", "P4", "FZ", "CZ", "PZ", "O1", "O2")
_SPSZ_FOCI = ("F3", "F4", "C3", "C4", "P3", "P4", "O1", "O2", "F7", "F8", "T5", "T6")
_TEMPORAL_FOCI = ("T3", "T4")

_MARGIN_S = 15.0  # EEG before the first seizure, between seizures and after the last
# Random-stream tags, apart from each other and from the eeg and chbmit generators' tags.
_TAG_BACKGROUND, _TAG_TYPES, _TAG_PATIENT, _TAG_SEIZURE = 2000, 2001, 2002, 2003


# -- configuration ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TuszSyntheticConfig(GeneratorConfig):
    """Size and seed of a synthetic TUSZ-layout dataset.

    Parameters
    ----------
    n_patients
        Number of subjects; at least the number of seizure types (each patient has one or two
        types and every type must occur in at least two patients).
    seizure_types
        TUSZ codes of the types to generate, a subset of :data:`SEIZURE_TYPES`.
    sessions_per_patient, recordings_per_session
        Sessions ``s001_...`` per subject and recordings ``t000 ...`` per session.
    recording_minutes
        Length of every recording.
    seizures_per_recording
        Seizures in every recording; a patient with two types alternates them.
    sfreq
        Sampling rate (Hz).
    seed
        Seed of every random draw; the same config gives byte-identical files.
    """

    n_patients: int = 10
    seizure_types: tuple[str, ...] = SEIZURE_TYPES
    sessions_per_patient: int = 2
    recordings_per_session: int = 1
    recording_minutes: float = 4.0
    seizures_per_recording: int = 2
    sfreq: int = 256
    seed: int = 0

    DATASET: ClassVar[str] = DATASET_NAME
    GENERATOR_VERSION: ClassVar[int] = GENERATOR_VERSION
    INVALID: ClassVar[str] = "invalid tusz-synthetic config"

    def __post_init__(self) -> None:
        types = tuple(str(t).upper() for t in self.seizure_types)
        object.__setattr__(self, "seizure_types", types)  # lists (e.g. from JSON) become tuples
        unknown = [t for t in types if t not in MORPHOLOGIES]
        n_types = len(types)
        slot_s = (60 * self.recording_minutes - (self.seizures_per_recording + 1) * _MARGIN_S) / max(
            self.seizures_per_recording, 1
        )
        checks = [
            (not unknown, f"unknown seizure type(s) {', '.join(unknown)}; known: {', '.join(SEIZURE_TYPES)}"),
            (n_types >= 1 and len(set(types)) == n_types, "seizure_types must be distinct and not empty"),
            (
                self.n_patients >= max(n_types, 2) and self.n_patients <= 26**3,
                f"n_patients must be at least {max(n_types, 2)} (every one of the {n_types} types "
                "needs two patients, each patient has at most two types)",
            ),
            (self.sessions_per_patient >= 1, "sessions_per_patient must be at least 1"),
            (self.recordings_per_session >= 1, "recordings_per_session must be at least 1"),
            (self.seizures_per_recording >= 1, "seizures_per_recording must be at least 1"),
            (self.recording_minutes <= 120, "recording_minutes must be at most 120"),
            (slot_s >= 10, "recording_minutes is too short for seizures_per_recording seizures of at least 10 s"),
            (isinstance(self.sfreq, int) and self.sfreq >= 128, "sfreq must be an integer >= 128 (Hz)"),
            (self.seed >= 0, "seed must be >= 0"),
        ]
        self._check(checks)

    @property
    def n_recordings(self) -> int:
        """Recordings per patient."""
        return self.sessions_per_patient * self.recordings_per_session

    def hours(self) -> float:
        """Total hours of EEG the config generates."""
        return self.n_patients * self.n_recordings * self.recording_minutes / 60


# -- plan: who has which types, what goes where -----------------------------------------------------
@dataclass(frozen=True)
class _Style:
    """One patient's version of one seizure type."""

    code: str
    amp_uv: float  # RMS at the field maximum (for TCSZ: of the clonic bursts)
    freq_hz: float
    focus: str | None = None
    focus_xy: tuple[float, float] | None = None
    width: float = 1.0  # field width (scalp units, T3-T4 = 2)
    extra: float = 0.0  # CPSZ: contralateral share; TCSZ: tonic fraction

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rms_uv": round(self.amp_uv, 1), "freq_hz": round(self.freq_hz, 2)}
        if self.focus is not None:
            out["focus"] = self.focus
        return out


@dataclass(frozen=True)
class _PlannedSeizure:
    onset: float
    offset: float
    code: str
    key: int  # number of the seizure within its recording (random-stream key)


@dataclass(frozen=True)
class _PlannedRecording:
    rel_path: str  # "edf/train/synthaaa/s001_2021/01_tcp_ar/synthaaa_s001_t000.edf"
    key: int
    start: dt.datetime
    duration: int
    seizures: tuple[_PlannedSeizure, ...]


@dataclass(frozen=True)
class _PlannedPatient:
    index: int
    pid: str
    split: str
    profile: PatientProfile
    types: tuple[str, ...]
    styles: dict[str, _Style]
    recordings: tuple[_PlannedRecording, ...]


def _subject_id(i: int) -> str:
    letters = ""
    for _ in range(3):
        i, r = divmod(i, 26)
        letters = chr(ord("a") + r) + letters
    return "synth" + letters


def _split_of(i: int, n: int) -> str:
    n_eval = n_dev = round(0.2 * n) if n >= 5 else 0
    if i >= n - n_eval:
        return "eval"
    return "dev" if i >= n - n_eval - n_dev else "train"


def _assign_types(config: TuszSyntheticConfig) -> list[tuple[str, ...]]:
    """One or two types per patient, every type in at least two patients.

    Each type gets two slots (two random orders of the types, one after the other); patients
    take one or two consecutive slots (two-type patients chosen at random) until all are used.
    The second order is redrawn until no patient would get one type twice, so which types share
    a patient varies with the seed; the first order repeated is always valid and is the fallback.
    """
    rng = _rng(config.seed, _TAG_TYPES)
    types, n = config.seizure_types, config.n_patients
    order = [types[k] for k in rng.permutation(len(types))]
    if n >= 2 * len(types):
        return [(order[i % len(order)],) for i in range(n)]
    doubles = {int(k) for k in rng.choice(n, 2 * len(types) - n, replace=False)}

    def deal(slots: list[str]) -> list[tuple[str, ...]]:
        out, j = [], 0
        for i in range(n):
            take = 2 if i in doubles else 1
            out.append(tuple(sorted(slots[j : j + take])))
            j += take
        return out

    for _ in range(100):
        dealt = deal(order + [types[k] for k in rng.permutation(len(types))])
        if all(len(set(t)) == len(t) for t in dealt):
            return dealt
    return deal(order + order)


def _draw_style(code: str, rng: np.random.Generator) -> _Style:
    lo, hi = MORPHOLOGIES[code].freq_hz
    freq = float(rng.uniform(lo, hi))
    if code == "ABSZ":
        return _Style(code, float(rng.uniform(70, 110)), freq)
    if code == "GNSZ":
        return _Style(code, float(rng.uniform(45, 75)), freq)
    if code == "TCSZ":
        return _Style(code, float(rng.uniform(60, 100)), freq, extra=float(rng.uniform(0.35, 0.45)))
    if code == "TNSZ":
        return _Style(code, float(rng.uniform(9, 15)), freq)
    focus_set = {"FNSZ": _EXTRATEMPORAL_FOCI, "CPSZ": _TEMPORAL_FOCI, "SPSZ": _SPSZ_FOCI}[code]
    focus = focus_set[int(rng.integers(len(focus_set)))]
    xy = _XY[TUSZ_CHANNELS.index(focus)] + rng.normal(0.0, 0.05, 2)
    if code == "FNSZ":
        amp, width, extra = rng.uniform(55, 85), rng.uniform(0.3, 0.42), 0.0
    elif code == "CPSZ":
        amp, width, extra = rng.uniform(60, 100), rng.uniform(0.35, 0.45), rng.uniform(0.4, 0.7)
    else:  # SPSZ
        amp, width, extra = rng.uniform(15, 25), rng.uniform(0.2, 0.28), 0.0
    return _Style(code, float(amp), freq, focus, (float(xy[0]), float(xy[1])), float(width), float(extra))


def _plan(config: TuszSyntheticConfig) -> list[_PlannedPatient]:
    assigned = _assign_types(config)
    bg_seed = _background_seed(config.seed)
    patients = []
    for i, types in enumerate(assigned):
        rng = _rng(config.seed, _TAG_PATIENT, i)
        pid, split = _subject_id(i), _split_of(i, config.n_patients)
        styles = {code: _draw_style(code, rng) for code in types}
        n_sz = config.n_recordings * config.seizures_per_recording
        sequence = [types[k % len(types)] for k in rng.permutation(n_sz)]  # both types when two
        year = int(rng.integers(2002, 2018))  # TUSZ sessions span about these years
        recordings = []
        for s in range(config.sessions_per_patient):
            offset = dt.timedelta(days=int(rng.integers(0, 360)), hours=int(rng.integers(8, 18)))
            day = dt.datetime(year + s, 1, 1) + offset
            session = f"s{s + 1:03d}_{day.year}"
            for r in range(config.recordings_per_session):
                codes = [sequence.pop() for _ in range(config.seizures_per_recording)]
                duration = int(round(60 * config.recording_minutes))
                start = day + dt.timedelta(seconds=int(r * (duration + rng.integers(60, 600))))
                rel = f"edf/{split}/{pid}/{session}/01_tcp_ar/{pid}_s{s + 1:03d}_t{r:03d}.edf"
                seizures = _place_seizures(codes, duration, rng)
                recordings.append(_PlannedRecording(rel, 100 * s + r, start, duration, seizures))
        profile = make_profile(i, bg_seed)
        patients.append(_PlannedPatient(i, pid, split, profile, types, styles, tuple(recordings)))
    return patients


def _background_seed(seed: int) -> int:
    # A seed of its own, so these backgrounds differ from chbmit-synthetic's for the same seed.
    return int(np.random.SeedSequence([seed, _TAG_BACKGROUND]).generate_state(1)[0])


def _place_seizures(codes: list[str], duration: int, rng: np.random.Generator) -> tuple[_PlannedSeizure, ...]:
    """Seizure times (whole seconds) in one recording, in order, at least ``_MARGIN_S`` apart."""
    k = len(codes)
    slot = (duration - (k + 1) * _MARGIN_S) / k
    lengths = [float(min(np.round(rng.uniform(*MORPHOLOGIES[c].duration_s)), np.floor(slot))) for c in codes]
    free = duration - (k + 1) * _MARGIN_S - sum(lengths)
    gaps = _MARGIN_S + np.floor(free * rng.dirichlet(np.ones(k + 1)))
    out, t = [], 0.0
    for j, (code, length) in enumerate(zip(codes, lengths)):
        t += float(gaps[j])
        out.append(_PlannedSeizure(t, t + length, code, j))
        t += length
    return tuple(out)


# -- signals ---------------------------------------------------------------------------------------------
def _slow(rng: np.random.Generator, n: int, period_s: tuple[float, float]) -> Callable[[np.ndarray], np.ndarray]:
    """A smooth random function of time (any shape) in about [-1, 1]: a few slow sinusoids."""
    freqs, phases = 1 / rng.uniform(*period_s, n), rng.uniform(0, 2 * np.pi, n)
    amps = rng.uniform(0.5, 1.0, n) / np.sqrt(n)
    return lambda t: np.sin(2 * np.pi * freqs * np.asarray(t)[..., None] + phases) @ amps


def _unit_rms(fn: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    """``fn`` (a 2*pi-periodic waveform of the phase) scaled to zero mean and unit RMS."""
    grid = fn(np.linspace(0, 2 * np.pi, 2048, endpoint=False))
    mean, rms = grid.mean(), grid.std()
    return lambda phase: (fn(phase) - mean) / rms


# Waveforms of the phase (rad). Spike-and-wave: a narrow spike followed by a broad slow wave of
# the opposite sign; sharp theta: a sine with its second harmonic (sharpened peaks).
_SPIKE_WAVE = _unit_rms(lambda p: np.exp(5.0 * (np.cos(p) - 1)) - 0.55 * np.exp(1.3 * (np.cos(p - 2.6) - 1)))
_SHARP = _unit_rms(lambda p: np.sin(p) + 0.3 * np.sin(2 * p + 0.8))


def _band_noise(rng: np.random.Generator, shape: tuple[int, int], sfreq: float, lo: float, hi: float) -> np.ndarray:
    """Unit-variance Gaussian noise band-limited to ``[lo, hi]`` Hz (smooth edges), per row."""
    n = shape[1]
    f = np.fft.rfftfreq(n, 1 / sfreq)
    hi = min(hi, 0.45 * sfreq)
    gain = 1 / (1 + np.exp(-(f - lo) / 2.0)) / (1 + np.exp((f - hi) / 3.0))
    z = rng.standard_normal((shape[0], 2 * f.size)).view(np.complex128) * gain
    x = np.fft.irfft(z, n=n, axis=1)
    return x / x.std(axis=1, keepdims=True)


def _field(center: tuple[float, float], width: float | np.ndarray) -> np.ndarray:
    """Gaussian weight of each electrode by its distance to ``center`` (1 at the centre).

    ``width`` is a number (gives ``(19,)``) or a ``(1, n)`` array of widths over time (gives
    ``(19, n)``).
    """
    d2 = np.sum((_XY - np.asarray(center)) ** 2, axis=1)
    width = np.asarray(width, dtype=float)
    return np.exp(-(d2[:, None] if width.ndim else d2) / (2 * width**2))


@dataclass
class _Ictal:
    """One seizure being rendered: its time axis, draws, and the arrays it writes into.

    ``add`` (µV, added to the channels) and ``gain`` (multiplies the background) cover the
    seizure and, for TCSZ, 60 s of post-ictal suppression after it.
    """

    style: _Style
    dur: float
    sfreq: int
    rng: np.random.Generator
    tau: np.ndarray  # seconds since onset, one per ictal sample
    amp: float
    f0: float
    jitter: Callable[[np.ndarray], np.ndarray]
    wobble: np.ndarray  # slow amplitude fluctuation, about 1 +- 0.15
    add: np.ndarray
    gain: np.ndarray

    @property
    def n(self) -> int:
        return self.tau.size

    def phase(self, t: np.ndarray, f_start: float, f_end: float) -> np.ndarray:
        """Phase (rad) of a rhythm gliding linearly from ``f_start`` to ``f_end``, with jitter."""
        return 2 * np.pi * (f_start * t + (f_end - f_start) * t**2 / (2 * self.dur)) + 0.5 * self.jitter(t)

    def edges(self, rise_s: float, fall_s: float) -> np.ndarray:
        """Smooth onset and offset ramps."""
        return _smoothstep(self.tau / rise_s) * _smoothstep((self.dur - self.tau) / fall_s)

    def build(self, start: float, over: float) -> np.ndarray:
        """Amplitude growing from ``start`` to 1 over the first ``over`` of the seizure."""
        return start + (1 - start) * _smoothstep(self.tau / (over * self.dur))


def _absz(s: _Ictal) -> None:
    w = 0.6 + 0.4 * (_XY[:, 1] + 1) / 2  # frontal maximum
    lag = s.rng.uniform(0, 0.012, _N_CH)[:, None]
    wave = _SPIKE_WAVE(s.phase(s.tau[None] - lag, s.f0, 0.85 * s.f0))
    s.add[:, : s.n] = s.amp * w[:, None] * wave * (s.edges(0.3, 0.3) * s.wobble)[None]


def _gnsz(s: _Ictal) -> None:
    w = s.rng.uniform(0.8, 1.0, _N_CH)
    lag = s.rng.uniform(0, 0.02, _N_CH)[:, None]
    wave = _SHARP(s.phase(s.tau[None] - lag, s.f0, 0.85 * s.f0))
    s.add[:, : s.n] = s.amp * w[:, None] * wave * (s.edges(2.0, 1.0) * s.build(0.3, 0.33) * s.wobble)[None]


def _tnsz(s: _Ictal) -> None:
    w = 0.7 + 0.3 * np.exp(-np.sum(_XY**2, axis=1) / 0.5)  # fronto-central maximum
    lag = s.rng.uniform(0, 0.01, _N_CH)[:, None]
    wave = np.sqrt(2) * np.sin(s.phase(s.tau[None] - lag, s.f0, 1.1 * s.f0))
    wave += 0.3 * _band_noise(s.rng, (_N_CH, s.n), s.sfreq, 14, 30)
    s.add[:, : s.n] = s.amp * w[:, None] * wave * (s.edges(0.5, 1.0) * s.build(0.4, 0.6))[None]
    s.gain[: s.n] = 1 - 0.75 * s.edges(0.5, 1.5)  # electrodecrement


def _tcsz(s: _Ictal) -> None:
    n_tonic = int(s.style.extra * s.n)
    # Tonic: a recruiting fast rhythm, its frequency rising by 40 %, under muscle artefact.
    t = s.tau[:n_tonic]
    span = t[-1]
    rhythm = np.sin(2 * np.pi * (s.f0 * t + 0.4 * s.f0 * t**2 / (2 * span)) + 0.5 * s.jitter(t))
    s.add[:, :n_tonic] = (0.45 * s.amp * np.sqrt(2)) * (rhythm * (0.3 + 0.7 * _smoothstep(t / (0.8 * span))))[None]
    # Clonic: polyspike-and-wave bursts whose rate slows from ~3 Hz to ~1 Hz.
    t = s.tau[n_tonic:] - s.tau[n_tonic]
    span = max(float(t[-1]), 1.0)
    f_a, f_b = s.rng.uniform(2.6, 3.2), s.rng.uniform(1.0, 1.4)
    ph = 2 * np.pi * (f_a * t + (f_b - f_a) * t**2 / (2 * span))
    burst = np.exp(3.0 * (np.cos(ph) - 1))
    polyspikes = np.sin(2 * np.pi * 12.0 * t)
    s.add[:, n_tonic : s.n] = s.amp * (burst * (1.2 * polyspikes + 0.8) + 0.3 * _SPIKE_WAVE(ph))[None]
    # Muscle: everywhere, strongest over temporal and frontal electrodes; bursts when clonic.
    w = 0.45 + 0.35 * np.abs(_XY[:, 0]) + 0.2 * np.clip(_XY[:, 1], 0, 1)
    gate = np.concatenate([np.ones(n_tonic), 0.25 + 0.75 * burst])
    muscle = _band_noise(s.rng, (_N_CH, s.n), s.sfreq, 25, 90) * (s.amp * s.rng.uniform(0.6, 0.9))
    s.add[:, : s.n] += muscle * w[:, None] * gate[None]
    s.add[:, : s.n] *= (s.edges(1.0, 0.5) * s.wobble)[None]
    # Post-ictal suppression of the background, after the annotated offset.
    t = np.arange(s.gain.size - s.n) / s.sfreq
    s.gain[s.n :] = 1 - 0.7 * _smoothstep(t / 0.5) * np.exp(-t / s.rng.uniform(20, 35))


def _focal(s: _Ictal, f_end: float, env: np.ndarray) -> None:
    """A near-sinusoidal rhythm around the focus, reaching farther electrodes slightly later."""
    w = _field(s.style.focus_xy, s.style.width)
    lag = 0.03 * np.sqrt(np.sum((_XY - np.asarray(s.style.focus_xy)) ** 2, axis=1))[:, None]
    wave = np.sqrt(2) * np.sin(s.phase(s.tau[None] - lag, s.f0, f_end))
    s.add[:, : s.n] = s.amp * w[:, None] * wave * (env * s.wobble)[None]


def _fnsz(s: _Ictal) -> None:
    _focal(s, 0.95 * s.f0, s.edges(3.0, 1.0) * s.build(0.4, 0.3))


def _spsz(s: _Ictal) -> None:
    _focal(s, s.f0, s.edges(1.0, 1.0))


def _cpsz(s: _Ictal) -> None:
    fx, fy = s.style.focus_xy
    frac = np.clip(s.tau / s.dur, 0, 1)[None]
    width = s.style.width * (1 + 0.5 * frac)  # the field widens over the seizure
    w = _field((fx, fy), width) + s.style.extra * frac * _field((-fx, fy), width)  # + other side
    lag = 0.04 * np.abs(_XY[:, 0] - np.sign(fx))[:, None]
    # The frequency decays exponentially from f0 to f_end: a brief alpha/theta onset, then most
    # of the seizure in slowing rhythmic delta.
    f_end, decay = s.rng.uniform(2.0, 3.0), 0.15 * s.dur
    t = s.tau[None] - lag
    ph = 2 * np.pi * (f_end * t + (s.f0 - f_end) * decay * (1 - np.exp(-t / decay))) + 0.5 * s.jitter(t)
    s.add[:, : s.n] = s.amp * w * _SHARP(ph) * (s.edges(2.0, 1.5) * s.build(0.3, 0.4) * s.wobble)[None]


_RENDER: dict[str, Callable[[_Ictal], None]] = {
    "ABSZ": _absz,
    "CPSZ": _cpsz,
    "FNSZ": _fnsz,
    "GNSZ": _gnsz,
    "SPSZ": _spsz,
    "TCSZ": _tcsz,
    "TNSZ": _tnsz,
}


def _render_seizure(
    code: str, style: _Style, dur: float, sfreq: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The ictal signal ``(19, n)`` in µV and the background gain ``(n,)`` of one seizure.

    ``n`` covers the seizure plus, for TCSZ, 60 s of post-ictal suppression (where the ictal
    signal is zero). Each seizure draws its own amplitude (+-10 %) and frequency (+-5 %) around
    the patient's ``style``, a slow phase jitter and a slow amplitude fluctuation.
    """
    n = int(round(dur * sfreq))
    total = n + (int(60 * sfreq) if code == "TCSZ" else 0)
    tau = np.arange(n) / sfreq
    amp = style.amp_uv * rng.uniform(0.9, 1.1)
    f0 = style.freq_hz * rng.uniform(0.95, 1.05)
    jitter = _slow(rng, 3, (2.0, 8.0))
    wobble = 1 + 0.15 * _slow(rng, 3, (3.0, 12.0))(tau)
    state = _Ictal(style, dur, sfreq, rng, tau, amp, f0, jitter, wobble, np.zeros((_N_CH, total)), np.ones(total))
    _RENDER[code](state)
    return state.add, state.gain


def _synthesize(p: _PlannedPatient, r: _PlannedRecording, config: TuszSyntheticConfig) -> np.ndarray:
    """One recording, ``(21, n)`` float64 µV: :data:`EDF_CHANNELS` against the average reference."""
    # The eeg module renders derivations, so take every electrode against FT9 (FT9 and FT10 stand in
    # for the ear electrodes A1 and A2) and subtract the mean over all 21: the average
    # reference of TUSZ's "ar" recordings.
    electrodes = [_NEW_NAME.get(c, c) for c in TUSZ_CHANNELS] + ["FT9", "FT10"]
    pairs = [f"{e}-FT9" for e in electrodes if e != "FT9"]
    seed = _background_seed(config.seed)
    chunks = synthesize_recording(
        p.profile, r.duration, (), sfreq=config.sfreq, seed=seed, recording_key=r.key, channels=pairs
    )
    against_ft9 = np.concatenate(list(chunks), axis=1)
    n = against_ft9.shape[1]
    u = np.insert(against_ft9, _N_CH, np.zeros(n), axis=0)  # FT9 against itself
    u -= u.mean(axis=0)
    bg, ears = u[:_N_CH], u[_N_CH:]
    gain, add = np.ones(n), np.zeros_like(bg)
    for sz in r.seizures:
        rng = _rng(config.seed, _TAG_SEIZURE, p.index, r.key, sz.key)
        a, g = _render_seizure(sz.code, p.styles[sz.code], sz.offset - sz.onset, config.sfreq, rng)
        s0 = int(round(sz.onset * config.sfreq))
        s1 = min(s0 + a.shape[1], n)
        add[:, s0:s1] += a[:, : s1 - s0]
        gain[s0:s1] *= g[: s1 - s0]
    return np.vstack([bg * gain + add, ears * gain])


def _write_edf(path: Path, p: _PlannedPatient, r: _PlannedRecording, config: TuszSyntheticConfig) -> None:
    x = _synthesize(p, r, config)
    digital = np.clip(np.rint(x / GAIN), -DIG, DIG).astype(np.int16)
    labels = [f"EEG {ch}-REF" for ch in EDF_CHANNELS]
    write_edf(path, digital, config.sfreq, labels, edfio.Patient(code=p.pid, name="Synthetic"), r.start)


def _readme_text(config: TuszSyntheticConfig, patients: list[_PlannedPatient]) -> str:
    lines = [
        "tusz-synthetic: SYNTHETIC seizure-type data in the TUSZ v2 layout",
        "",
        SYNTHETIC_NOTE,
        "",
        f"{config.n_patients} subjects, {config.n_patients * config.n_recordings} recordings of "
        f"{config.recording_minutes:g} min at {config.sfreq} Hz, seizure types {' '.join(config.seizure_types)}.",
        "Signals: edf/{train,dev,eval}/<subject>/<session>/01_tcp_ar/*.edf (19 referential 10-20",
        "channels plus A1, A2, labelled 'EEG FP1-REF' etc.).",
        "Annotations: *.csv (typed, per channel) and *.csv_bi (seizure/background) beside each EDF.",
        "SYNTHETIC.json records the generator configuration, each subject's seizure types and a",
        "SHA-256 checksum of every file.",
        "",
        "Subjects and their seizure types:",
    ]
    lines += [f"  {p.pid} ({p.split}): {' '.join(p.types)}" for p in patients]
    return "\n".join(lines) + "\n"


# -- public API ----------------------------------------------------------------------------------------
def generate_tusz_synthetic(out_dir: Path, config: TuszSyntheticConfig, progress: bool = False) -> Path:
    """Write the SYNTHETIC TUSZ-layout dataset of ``config`` into ``out_dir``.

    Parameters
    ----------
    out_dir
        Target folder; created, and must not exist or be empty.
    config
        Size and seed.
    progress
        Show a progress bar.

    Returns
    -------
    Path
        ``out_dir``.

    Notes
    -----
    Not atomic: an interruption leaves a partial folder (without ``SYNTHETIC.json``, which is
    written last). :func:`ensure_tusz_synthetic` wraps this in a temporary folder and a rename.
    """
    out_dir = prepare_out_dir(out_dir)
    patients = _plan(config)
    n_files = sum(len(p.recordings) for p in patients)
    with progress_bar(progress, n_files, f"{DATASET_NAME} (synthetic)") as step:
        for p in patients:
            for r in p.recordings:
                path = out_dir / r.rel_path
                path.parent.mkdir(parents=True, exist_ok=True)
                _write_edf(path, p, r, config)
                events = [(sz.onset, sz.offset, sz.code.lower()) for sz in r.seizures]
                write_tusz_annotations(path, float(r.duration), events, TCP_CHANNELS)
                log.debug("wrote %s", r.rel_path)
                step()
    (out_dir / "README.txt").write_text(_readme_text(config, patients))
    write_marker(out_dir, config, SYNTHETIC_NOTE, hours=round(config.hours(), 3), patients=_ground_truth(patients))
    log.debug("%s: wrote %.2f h of synthetic EEG to %s", DATASET_NAME, config.hours(), out_dir)
    return out_dir


def _ground_truth(patients: list[_PlannedPatient]) -> dict[str, Any]:
    return {
        p.pid: {
            "split": p.split,
            "seizure_types": list(p.types),
            "types": {code: p.styles[code].describe() for code in p.types},
            "background": {"alpha_hz": round(p.profile.alpha_hz, 2), "level_uv": round(p.profile.background_uv, 1)},
            # Ground truth, independent of the annotation files: [onset_s, offset_s, type].
            "seizures": {
                Path(r.rel_path).stem: [[sz.onset, sz.offset, sz.code] for sz in r.seizures] for r in p.recordings
            },
        }
        for p in patients
    }


def ensure_tusz_synthetic(
    data_dir: Path | None = None, config: TuszSyntheticConfig | None = None, progress: bool = False
) -> Path:
    """Return a folder holding the complete synthetic TUSZ-layout dataset, generating it if needed.

    Parameters
    ----------
    data_dir
        The dataset folder itself; default ``<cache>/data/tusz-synthetic-<config.key()>`` (cache
        root as :func:`benchmark.datasets.synthetic._setup.default_cache_dir`). An existing folder is
        reused when its ``SYNTHETIC.json`` shows the same config and generator version and every
        listed file is present.
    config
        Dataset size and seed; default: the config recorded in ``data_dir`` when it already
        holds a tusz-synthetic dataset, else :class:`TuszSyntheticConfig()`.
    progress
        Show a progress bar while generating.

    Notes
    -----
    Generation goes into a hidden sibling folder renamed into place only when complete, so an
    interrupted run never leaves a half dataset and concurrent runs end with the same folder.

    Raises
    ------
    DataError
        ``data_dir`` exists but holds something else (another config, or not this dataset).
    """
    return ensure_generated(
        data_dir,
        config,
        TuszSyntheticConfig,
        lambda tmp, cfg: generate_tusz_synthetic(tmp, cfg, progress=progress),
        lambda cfg: f"{cfg.hours():.2f} h of synthetic EEG",
    )


def load_tusz_synthetic(
    data_dir: Path | None = None, *, config: TuszSyntheticConfig | None = None, progress: bool = False, **options: Any
) -> RecordingIndex:
    """Generate (or reuse) the synthetic dataset and load it with the real TUSZ loader.

    Parameters
    ----------
    data_dir, config, progress
        As :func:`ensure_tusz_synthetic`.
    **options
        Passed to :func:`benchmark.datasets.tusz.load_tusz` (e.g. ``check_edf=False``).

    Returns
    -------
    RecordingIndex
        Named ``tusz-synthetic``, with ``synthetic=True``.
    """
    path = ensure_tusz_synthetic(data_dir, config, progress)
    return load_tusz(path, dataset_name=DATASET_NAME, synthetic=True, **options)
