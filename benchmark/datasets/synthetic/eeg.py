"""Synthetic scalp EEG in the CHB-MIT bipolar montage, generated chunk by chunk (numpy only).

Every recording is built from simulated *unipolar* electrode potentials (10-20 system plus
FT9/FT10); the 23 CHB-MIT channels are differences of those, so neighbouring derivations correlate
and a chain such as ``FP1-F7``/``F7-T7`` shares an electrode with opposite sign, as in real
double-banana recordings. Components, all in µV:

* background: spatially smoothed 1/f^a noise (a per patient), the dominant part of resting EEG
  (He, 2014, "Scale-free brain activity", Trends Cogn Sci 18:480);
* posterior alpha (8-12 Hz, patient-specific peak) strongest at O1/O2, waxing and waning with a
  slowly varying vigilance level;
* eye blinks (large slow frontal deflections at FP1/FP2), muscle bursts (20-70 Hz, temporal
  electrodes), 60 Hz line noise with electrode-specific amplitude, and amplifier noise;
* seizures: rhythmic spike-wave whose frequency evolves within 3-8 Hz, starting at a
  patient-specific focus and spreading with a delay and a widening field, amplitude building up
  over the first third; then post-ictal slowing and suppression;
* a *subtle* patient-specific pre-ictal change starting some 15-35 min before each onset: a slow
  ramp of power in a patient-specific band at the focus, plus more frequent low-amplitude sharp
  transients there. Its strength follows a difficulty ladder (easy, medium, hard, near chance), so
  window-level prediction is learnable for some patients and not others, as on real data.

Signals are streamed in chunks (default 60 s) with constant memory: the stochastic sources are
independent FFT-synthesised segments cross-faded over 4 s with sine/cosine ramps (sin^2 + cos^2 = 1
keeps the variance stationary across chunk borders); events (blinks, transients, muscle bursts)
are drawn per chunk from their own seeded generators and may spill into the next chunk; slow
modulations, event rates and the ictal rhythm are closed-form functions of time. Every random
number comes from :class:`numpy.random.SeedSequence` keys derived from the seed, patient and
recording, so the output is a pure function of the arguments.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from benchmark.datasets.synthetic._setup import seeded_rng as _rng
from benchmark.datasets.synthetic._setup import smoothstep as _smoothstep

# -- montage ----------------------------------------------------------------------------------
#: Unipolar electrodes simulated, with approximate 2-D scalp positions (x to the right, y to the
#: nose, unit radius at the T7/T8 circle; FT9/FT10 sit below it).
ELECTRODES: dict[str, tuple[float, float]] = {
    "FP1": (-0.31, 0.95),
    "FP2": (0.31, 0.95),
    "F7": (-0.81, 0.59),
    "F3": (-0.40, 0.53),
    "FZ": (0.0, 0.50),
    "F4": (0.40, 0.53),
    "F8": (0.81, 0.59),
    "FT9": (-1.08, 0.33),
    "FT10": (1.08, 0.33),
    "T7": (-1.0, 0.0),
    "C3": (-0.50, 0.0),
    "CZ": (0.0, 0.0),
    "C4": (0.50, 0.0),
    "T8": (1.0, 0.0),
    "P7": (-0.81, -0.59),
    "P3": (-0.40, -0.53),
    "PZ": (0.0, -0.50),
    "P4": (0.40, -0.53),
    "P8": (0.81, -0.59),
    "O1": (-0.31, -0.95),
    "O2": (0.31, -0.95),
}
ELECTRODE_NAMES: tuple[str, ...] = tuple(ELECTRODES)

#: The 23 channels of most CHB-MIT EDF files, in file order. ``T8-P8`` really appears twice
#: (channels 15 and 23), which loaders must handle.
CHBMIT_CHANNELS: tuple[str, ...] = (
    "FP1-F7",
    "F7-T7",
    "T7-P7",
    "P7-O1",
    "FP1-F3",
    "F3-C3",
    "C3-P3",
    "P3-O1",
    "FP2-F4",
    "F4-C4",
    "C4-P4",
    "P4-O2",
    "FP2-F8",
    "F8-T8",
    "T8-P8",
    "P8-O2",
    "FZ-CZ",
    "CZ-PZ",
    "P7-T7",
    "T7-FT9",
    "FT9-FT10",
    "FT10-T8",
    "T8-P8",
)

#: Candidate seizure foci (electrode whose neighbourhood starts the seizure).
FOCI: tuple[str, ...] = ("T7", "F8", "P3", "C4", "F3", "T8", "P4", "F7", "O1", "C3")

#: Bands (Hz) a patient's subtle pre-ictal change may live in, each with a gain that evens out
#: how detectable the same relative power change is in 10-s windows (set empirically: beta is
#: clean, gamma shares its band with muscle artefacts, theta with slow activity and blinks).
PREICTAL_BANDS: dict[tuple[float, float], float] = {(13.0, 20.0): 0.9, (25.0, 40.0): 0.9, (4.0, 7.0): 1.8}

#: Difficulty ladder cycled over patients: (label, pre-ictal strength). Strength scales both the
#: band-power ramp and the extra sharp transients; 0.03 leaves the pre-ictal EEG almost unchanged.
DIFFICULTY: tuple[tuple[str, float], ...] = (("easy", 1.0), ("medium", 0.5), ("hard", 0.25), ("near-chance", 0.03))

#: At full strength the pre-ictal band power at the focus electrode rises by this fraction ...
PREICTAL_POWER_GAIN = 0.5
#: ... and sharp transients there become this many times more frequent (plus one).
PREICTAL_SPIKE_GAIN = 4.0

_POS = np.array(list(ELECTRODES.values()))
_IDX = {name: i for i, name in enumerate(ELECTRODE_NAMES)}
_LINE_HZ = 60.0


def bipolar_pairs(channels: Sequence[str] = CHBMIT_CHANNELS) -> tuple[np.ndarray, np.ndarray]:
    """Indices into :data:`ELECTRODE_NAMES` of the two electrodes of each ``"A-B"`` channel."""
    a, b = zip(*(ch.split("-") for ch in channels))
    return np.array([_IDX[x] for x in a]), np.array([_IDX[x] for x in b])


# Stream tags, so that components never share random numbers.
_PROFILE, _RECORDING, _NOISE, _BLINK, _SPIKE, _MUSCLE, _SEIZURE, _FLOOR = range(8)


# -- patient profile --------------------------------------------------------------------------
@dataclass(frozen=True)
class PatientProfile:
    """Patient-specific parameters of the synthetic EEG (all amplitudes in µV).

    Attributes
    ----------
    difficulty, preictal_strength
        Rung of :data:`DIFFICULTY` and its strength (0 = no pre-ictal change).
    focus, focus_xy
        Electrode nearest the seizure focus and the focus position on the scalp map.
    preictal_band, preictal_lead_s, preictal_ramp_s
        Band of the pre-ictal power ramp, how long before onset it starts, and how long it takes
        to reach full strength.
    """

    index: int
    background_uv: float
    background_exponent: float
    alpha_hz: float
    alpha_uv: float
    blink_rate_hz: float
    muscle_rate_hz: float
    focus: str
    focus_xy: tuple[float, float]
    ictal_uv: float
    ictal_start_hz: float
    ictal_end_hz: float
    ictal_sharpness: float
    spread_s: float
    spread_width: float
    seizure_s: float
    difficulty: str
    preictal_strength: float
    preictal_band: tuple[float, float]
    preictal_lead_s: float
    preictal_ramp_s: float
    spike_rate_hz: float
    spike_uv: float

    def focal_weights(self, width: float = 0.38) -> np.ndarray:
        """Gaussian weight of each electrode by its distance to the focus (1 at the focus)."""
        d2 = np.sum((_POS - np.array(self.focus_xy)) ** 2, axis=1)
        return np.exp(-d2 / (2 * width**2))

    def focus_channels(self, n: int = 4, channels: Sequence[str] = CHBMIT_CHANNELS) -> tuple[str, ...]:
        """The ``n`` distinct bipolar channels that carry most of the focal (and ictal) signal."""
        ia, ib = bipolar_pairs(channels)
        w = self.focal_weights()
        gain = np.abs(w[ia] - w[ib])
        out: list[str] = []
        for k in np.argsort(-gain, kind="stable"):
            if channels[k] not in out:
                out.append(channels[k])
            if len(out) == n:
                break
        return tuple(out)

    def describe(self) -> dict:
        """JSON-friendly summary (what a benchmark user may want to know about the patient)."""
        return {
            "difficulty": self.difficulty,
            "preictal_strength": self.preictal_strength,
            "preictal_band_hz": list(self.preictal_band),
            "preictal_lead_min": round(self.preictal_lead_s / 60, 1),
            "focus": self.focus,
            "focus_channels": list(self.focus_channels()),
            "ictal_hz": [round(self.ictal_start_hz, 2), round(self.ictal_end_hz, 2)],
            "alpha_hz": round(self.alpha_hz, 2),
        }


def make_profile(index: int, seed: int = 0) -> PatientProfile:
    """Draw the profile of patient ``index`` (0-based) for dataset ``seed``.

    The focus cycles through a seed-dependent permutation of :data:`FOCI` and the difficulty
    through :data:`DIFFICULTY`, so the first patients always differ in both.
    """
    rng = _rng(seed, _PROFILE, index)
    foci = _rng(seed, _PROFILE, 1_000_000).permutation(len(FOCI))
    focus = FOCI[int(foci[index % len(FOCI)])]
    fx, fy = ELECTRODES[focus] + rng.normal(0.0, 0.06, 2)
    label, strength = DIFFICULTY[index % len(DIFFICULTY)]
    return PatientProfile(
        index=index,
        background_uv=float(rng.uniform(22.0, 34.0)),
        background_exponent=float(rng.uniform(1.5, 2.0)),
        alpha_hz=float(rng.uniform(8.5, 11.0)),
        alpha_uv=float(rng.uniform(10.0, 20.0)),
        blink_rate_hz=float(rng.uniform(0.12, 0.3)),
        muscle_rate_hz=float(rng.uniform(0.02, 0.06)),
        focus=focus,
        focus_xy=(float(fx), float(fy)),
        ictal_uv=float(rng.uniform(160.0, 260.0)),
        ictal_start_hz=float(rng.uniform(6.0, 8.0)),
        ictal_end_hz=float(rng.uniform(3.0, 4.2)),
        ictal_sharpness=float(rng.uniform(3.0, 7.0)),
        spread_s=float(rng.uniform(3.0, 10.0)),
        spread_width=float(rng.uniform(0.7, 1.2)),
        seizure_s=float(rng.uniform(35.0, 70.0)),
        difficulty=label,
        preictal_strength=strength,
        preictal_band=list(PREICTAL_BANDS)[int(rng.integers(len(PREICTAL_BANDS)))],
        preictal_lead_s=float(rng.uniform(15.0, 35.0)) * 60,
        preictal_ramp_s=float(rng.uniform(3.0, 6.0)) * 60,
        spike_rate_hz=float(rng.uniform(0.5, 1.5)) / 60,
        spike_uv=float(rng.uniform(35.0, 55.0)),
    )


# -- stochastic sources -------------------------------------------------------------------------
def _spectra(profile: PatientProfile, f: np.ndarray) -> np.ndarray:
    """Power spectral shapes (unnormalised) of the continuous sources, one row per source."""
    fs = np.maximum(f, 0.25)
    highpass = (f / 0.5) ** 4 / (1 + (f / 0.5) ** 4)  # amplifier high-pass near 0.5 Hz
    lowpass = 1 / (1 + (f / 90.0) ** 8)  # anti-aliasing
    bg = highpass * lowpass / fs**profile.background_exponent
    alpha = np.exp(-0.5 * ((f - profile.alpha_hz) / 0.6) ** 2)
    delta = np.exp(-0.5 * ((f - 1.8) / 0.8) ** 2) * highpass
    lo, hi = profile.preictal_band
    band = 1 / (1 + np.exp(-(f - lo) / 0.5)) / (1 + np.exp((f - hi) / 0.5))
    muscle = (1 / (1 + np.exp(-(f - 20) / 2.0)) / (1 + np.exp((f - 70) / 4.0))) * lowpass
    n_bg = len(ELECTRODE_NAMES)
    return np.vstack([np.repeat(bg[None], n_bg, 0), alpha, alpha, delta, band, muscle, muscle])


_SRC_ALPHA_L, _SRC_ALPHA_R, _SRC_DELTA, _SRC_BAND, _SRC_MUSCLE_L, _SRC_MUSCLE_R = range(
    len(ELECTRODES), len(ELECTRODES) + 6
)


class _OverlapAddNoise:
    """Stationary Gaussian sources with given spectra, streamed ``length`` samples at a time.

    Each call synthesises, per source, one new segment of ``length + overlap`` samples in the
    frequency domain. Consecutive segments overlap by ``overlap`` samples and are cross-faded with
    a sine and a cosine ramp (``sin^2 + cos^2 = 1``: the variance stays exactly 1 and there is no
    seam at chunk borders; only structure slower than the overlap, below the 0.5 Hz high-pass,
    is affected).
    """

    def __init__(self, spectra_fn, profile: PatientProfile, length: int, overlap: int, sfreq: float, rng):
        n = length + overlap
        f = np.fft.rfftfreq(n, 1 / sfreq)
        s = spectra_fn(profile, f)
        s[:, 0] = 0.0  # no DC
        # With X_k = c_k (a + ib), a, b ~ N(0, 1), irfft has variance 4/n^2 * sum c_k^2.
        self._coef = np.sqrt(s) * n / (2 * np.sqrt(s.sum(axis=1, keepdims=True)))
        ramp = (np.arange(overlap) + 0.5) / overlap * np.pi / 2
        self._rise, self._fall = np.sin(ramp), np.cos(ramp)
        self._n, self._len, self._overlap, self._rng = n, length, overlap, rng
        self._pending = self._segment()[:, length:] * self._fall

    def _segment(self) -> np.ndarray:
        k, nb = self._coef.shape
        z = self._rng.standard_normal((k, 2 * nb)).view(np.complex128)
        return np.fft.irfft(z * self._coef, n=self._n, axis=1)

    def next(self) -> np.ndarray:
        seg = self._segment()
        out = seg[:, : self._len]
        out[:, : self._overlap] = out[:, : self._overlap] * self._rise + self._pending
        self._pending = seg[:, self._len :] * self._fall
        return out


# -- helpers for smooth functions of time -------------------------------------------------------
@dataclass(frozen=True)
class _SlowWave:
    """Sum of a few slow sinusoids: a smooth, bounded, closed-form random function of time."""

    freqs: np.ndarray
    phases: np.ndarray
    amps: np.ndarray

    @classmethod
    def draw(cls, rng: np.random.Generator, n: int, period_s: tuple[float, float]) -> _SlowWave:
        freqs = 1 / rng.uniform(*period_s, n)
        return cls(freqs, rng.uniform(0, 2 * np.pi, n), rng.uniform(0.5, 1.0, n) / np.sqrt(n))

    def __call__(self, t: np.ndarray) -> np.ndarray:
        return np.sin(2 * np.pi * self.freqs[:, None] * t[None] + self.phases[:, None]).T @ self.amps


def _spatial(weights: dict[str, float], default: float) -> np.ndarray:
    w = np.full(len(ELECTRODE_NAMES), default)
    for name, v in weights.items():
        w[_IDX[name]] = v
    w.flags.writeable = False  # module constants
    return w


_W_ALPHA_L = _spatial({"O1": 1.0, "P3": 0.6, "P7": 0.55, "PZ": 0.45, "O2": 0.35, "C3": 0.15}, 0.03)
_W_ALPHA_R = _spatial({"O2": 1.0, "P4": 0.6, "P8": 0.55, "PZ": 0.45, "O1": 0.35, "C4": 0.15}, 0.03)
_W_BLINK = _spatial({"FP1": 1.0, "FP2": 1.0, "F7": 0.35, "F8": 0.35, "F3": 0.3, "F4": 0.3, "FZ": 0.25}, 0.02)
_W_MUSCLE_L = _spatial({"T7": 1.0, "FT9": 1.0, "F7": 0.7, "P7": 0.5, "FP1": 0.2}, 0.0)
_W_MUSCLE_R = _spatial({"T8": 1.0, "FT10": 1.0, "F8": 0.7, "P8": 0.5, "FP2": 0.2}, 0.0)


def _mixing(width: float = 0.4, local: float = 0.35) -> np.ndarray:
    """Volume-conduction mixing: each electrode is a distance-weighted blend of nearby sources,
    plus a share ``local`` of its own (so close pairs such as T7-FT9 do not cancel out)."""
    d2 = np.sum((_POS[:, None] - _POS[None]) ** 2, axis=2)
    m = (1 - local) * np.exp(-d2 / (2 * width**2)) + local * np.eye(len(_POS))
    return m / np.sqrt((m**2).sum(axis=1, keepdims=True))  # keeps unit variance per electrode


def _blink(t: np.ndarray) -> np.ndarray:
    x = np.maximum(t, 0) / 0.11
    return x**3 * np.exp(3 * (1 - x))  # gamma-like: fast rise, slower return, peak 1 at 110 ms


def _sharp_transient(t: np.ndarray) -> np.ndarray:
    spike = -np.exp(-0.5 * ((t - 0.04) / 0.012) ** 2)
    wave = 0.45 * np.exp(-0.5 * ((t - 0.17) / 0.05) ** 2)
    return spike + wave


def preictal_band_uv(profile: PatientProfile, sfreq: float = 256) -> float:
    """RMS (µV, at the focus electrode) of the pre-ictal band activity at full ramp.

    Calibrated on the bipolar channel that carries most focal signal: there, background power in
    ``profile.preictal_band`` grows by the factor ``1 + PREICTAL_POWER_GAIN * preictal_strength *
    PREICTAL_BANDS[profile.preictal_band]``.
    """
    f = np.linspace(0, sfreq / 2, 8193)
    spectra = _spectra(profile, f)
    bg, band = spectra[0], spectra[_SRC_BAND] / spectra[_SRC_BAND].max()
    frac = float((bg * band).sum() / bg.sum())
    ia, ib = bipolar_pairs()
    w = profile.focal_weights()
    k = int(np.argmax(np.abs(w[ia] - w[ib])))
    mixing = _mixing()
    bg_bipolar = float(np.sum((mixing[ia[k]] - mixing[ib[k]]) ** 2))
    gain = PREICTAL_POWER_GAIN * profile.preictal_strength * PREICTAL_BANDS.get(profile.preictal_band, 1.0)
    return profile.background_uv * float(np.sqrt(gain * frac * bg_bipolar)) / abs(w[ia[k]] - w[ib[k]])


# -- the recording generator --------------------------------------------------------------------
@dataclass(frozen=True)
class _Seizure:
    """One seizure of a recording with its own amplitude, frequency glide and phase jitter."""

    onset: float
    offset: float
    amp: float
    f0: float
    f1: float
    jitter: _SlowWave


def _spike_wave(phase: np.ndarray, sharpness: float) -> np.ndarray:
    """Periodic spike-and-slow-wave of ``phase`` (rad), zero-mean over a period."""
    spike = np.exp(sharpness * (np.cos(phase) - 1))
    wave = np.exp(1.2 * (np.cos(phase - 2.4) - 1))
    return spike - 0.6 * wave - (_periodic_mean(sharpness) - 0.6 * _periodic_mean(1.2))


def _periodic_mean(k: float) -> float:
    """Mean over one period of ``exp(k (cos x - 1))`` (= I0(k) e^-k)."""
    x = np.linspace(0, 2 * np.pi, 2048, endpoint=False)
    return float(np.exp(k * (np.cos(x) - 1)).mean())


def _sine_burst(t: np.ndarray, width: float) -> np.ndarray:
    return np.sin(np.pi * np.clip(t / width, 0, 1)) ** 2


class _Recording:
    """State of one recording being synthesised; :meth:`chunk` renders one block of samples."""

    def __init__(self, profile, duration_s, seizures, sfreq, seed, recording_key, chunk_s):
        self.p, self.sfreq = profile, sfreq
        self.key = (seed, _RECORDING, profile.index, recording_key)
        self.n_total, self.chunk_len = int(round(duration_s * sfreq)), int(chunk_s * sfreq)
        rng = _rng(*self.key)
        # Per-recording nuisance: level shifts and line noise differ from one recording to the next.
        self.bg_level = profile.background_uv * rng.uniform(0.92, 1.08)
        self.alpha_level = profile.alpha_uv * rng.uniform(0.7, 1.3)
        self.vigilance = _SlowWave.draw(rng, 4, (90.0, 900.0))
        self.bg_wobble = _SlowWave.draw(rng, 3, (40.0, 400.0))
        n_el = len(ELECTRODE_NAMES)
        self.line_amp = rng.lognormal(np.log(1.5), 0.6, n_el)
        self.line_amp[rng.integers(n_el)] *= rng.uniform(3, 8)  # one poorly attached electrode
        self.line_phase = rng.uniform(0, 2 * np.pi, n_el)
        self.blink_scale = rng.uniform(0.7, 1.3)

        self.w_focus = profile.focal_weights()
        self.w_delta = 0.5 + 0.5 * profile.focal_weights(0.6)
        self.d_focus = np.sqrt(np.sum((_POS - np.array(profile.focus_xy)) ** 2, axis=1))
        self.mixing = _mixing()
        self.band_uv = preictal_band_uv(profile, sfreq)
        self.spike_max = profile.spike_rate_hz * (1 + PREICTAL_SPIKE_GAIN * profile.preictal_strength)
        self.seizures = []
        for k, (on, off) in enumerate(sorted(seizures)):
            srng = _rng(*self.key, _SEIZURE, k)
            self.seizures.append(
                _Seizure(
                    float(on),
                    float(off),
                    profile.ictal_uv * float(srng.uniform(0.8, 1.2)),
                    profile.ictal_start_hz + float(srng.uniform(-0.4, 0.4)),
                    profile.ictal_end_hz + float(srng.uniform(-0.3, 0.3)),
                    _SlowWave.draw(srng, 3, (2.0, 10.0)),
                )
            )
        self.noise = _OverlapAddNoise(_spectra, profile, self.chunk_len, int(4 * sfreq), sfreq, _rng(*self.key, _NOISE))
        self.floor_rng = _rng(*self.key, _FLOOR)

    # -- slow state, closed-form in time ---------------------------------------------------------
    def preictal(self, t: np.ndarray) -> np.ndarray:
        """0 -> 1 ramp starting ``preictal_lead_s`` before each onset, 0 from the onset on."""
        p = np.zeros_like(t)
        for s in self.seizures:
            ramp = _smoothstep((t - s.onset + self.p.preictal_lead_s) / self.p.preictal_ramp_s)
            p = np.maximum(p, np.where(t < s.onset, ramp, 0.0))
        return p

    def postictal(self, t: np.ndarray) -> np.ndarray:
        q = np.zeros_like(t)
        for s in self.seizures:
            q = np.maximum(q, np.where(t >= s.offset, np.exp(-np.maximum(t - s.offset, 0) / 90.0), 0.0))
        return q

    def ictal(self, t: np.ndarray) -> np.ndarray:
        g = np.zeros_like(t)
        for s in self.seizures:
            g = np.maximum(g, ((t >= s.onset) & (t < s.offset)).astype(float))
        return g

    def alertness(self, t: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-2.5 * self.vigilance(t)))  # 0 = drowsy/eyes closed, 1 = alert

    # Event rates (Hz). They must be closed-form in time: a block's events are thinned with them
    # both when rendering that block and when its events spill into the next one.
    def blink_rate(self, t: np.ndarray) -> np.ndarray:
        return self.p.blink_rate_hz * (0.3 + 1.4 * self.alertness(t)) * (1 - 0.7 * self.ictal(t))

    def spike_rate(self, t: np.ndarray) -> np.ndarray:
        return self.p.spike_rate_hz * (1 + PREICTAL_SPIKE_GAIN * self.p.preictal_strength * self.preictal(t))

    def muscle_rate(self, t: np.ndarray) -> np.ndarray:
        return self.p.muscle_rate_hz * (0.5 + self.alertness(t) + 4 * self.ictal(t))

    # -- events ----------------------------------------------------------------------------------
    def events(self, kind: int, block: int, rate_max: float, rate_fn) -> tuple[np.ndarray, np.ndarray]:
        """Event times (s) and three unit-uniform marks each, of one block, thinned to ``rate_fn``.

        Drawn from a generator keyed by ``(kind, block)``, so a block's events are the same
        whichever chunk asks for them.
        """
        rng = _rng(*self.key, kind, block)
        t0 = block * self.chunk_len / self.sfreq
        t1 = min((block + 1) * self.chunk_len, self.n_total) / self.sfreq
        n = rng.poisson(rate_max * (t1 - t0))
        t = np.sort(rng.uniform(t0, t1, n))
        u, marks = rng.random(n), rng.random((n, 3))
        keep = u * rate_max < rate_fn(t)
        return t[keep], marks[keep]

    def render(self, trace, s0, times, amps, template, length_s, widths=None) -> None:
        """Add ``amp * template(t - time)`` of each event to ``trace`` (which starts at sample ``s0``)."""
        m = int(length_s * self.sfreq)
        for k, (te, a) in enumerate(zip(times, amps)):
            start = int(round(te * self.sfreq))
            lo, hi = max(start, s0), min(start + m, s0 + trace.size)
            if hi > lo:
                tt = (np.arange(lo, hi) - start) / self.sfreq
                trace[lo - s0 : hi - s0] += a * (template(tt) if widths is None else template(tt, widths[k]))

    # -- one chunk ---------------------------------------------------------------------------------
    def chunk(self, block: int) -> np.ndarray:
        """Unipolar potentials ``(n_electrodes, n)`` of block ``block``, in µV."""
        p, sfreq = self.p, self.sfreq
        s0 = block * self.chunk_len
        n = min(self.chunk_len, self.n_total - s0)
        t = (s0 + np.arange(n)) / sfreq
        src = self.noise.next()[:, :n]
        post, pre, alert = self.postictal(t), self.preictal(t), self.alertness(t)

        # Background with volume conduction, slow level changes and post-ictal suppression.
        bg_gain = self.bg_level * (1 + 0.12 * self.bg_wobble(t)) * (1 - 0.55 * post)
        u = np.einsum("ij,jn->in", self.mixing, src[: len(ELECTRODE_NAMES)]) * bg_gain
        alpha_gain = self.alpha_level * (0.25 + 1.1 * (1 - alert)) * (1 - post)
        u += np.outer(_W_ALPHA_L, src[_SRC_ALPHA_L] * alpha_gain)
        u += np.outer(_W_ALPHA_R, (0.6 * src[_SRC_ALPHA_L] + 0.8 * src[_SRC_ALPHA_R]) * alpha_gain)
        u += np.outer(self.w_delta, src[_SRC_DELTA] * self.bg_level * (0.25 + 0.35 * (1 - alert) + 2.2 * post))
        # The subtle pre-ictal change: band power at the focus ramps up before each onset.
        if self.band_uv > 0 and pre.any():
            scale = self.band_uv * self.bg_level / p.background_uv
            u += np.outer(self.w_focus, src[_SRC_BAND] * (scale * pre))

        # Events, drawn per block; the previous block's events may spill into this one.
        blink, spikes, muscle_l, muscle_r = np.zeros((4, n))
        for b in (block - 1, block):
            if b < 0:
                continue
            te, mk = self.events(_BLINK, b, 1.7 * p.blink_rate_hz, self.blink_rate)
            self.render(blink, s0, te, self.blink_scale * (90 + 90 * mk[:, 0]), _blink, 0.8)
            te, mk = self.events(_SPIKE, b, self.spike_max, self.spike_rate)
            self.render(spikes, s0, te, p.spike_uv * (0.7 + 0.6 * mk[:, 0]), _sharp_transient, 0.4)
            te, mk = self.events(_MUSCLE, b, 5.5 * p.muscle_rate_hz, self.muscle_rate)
            width, left = 0.5 + 2.5 * mk[:, 1], mk[:, 2] < 0.5
            amp = 20 + 40 * mk[:, 0]
            self.render(muscle_l, s0, te[left], amp[left], _sine_burst, 3.0, width[left])
            self.render(muscle_r, s0, te[~left], amp[~left], _sine_burst, 3.0, width[~left])
        u += np.outer(_W_BLINK, blink)
        u += np.outer(self.w_focus, spikes)
        u += np.outer(_W_MUSCLE_L, muscle_l * src[_SRC_MUSCLE_L])
        u += np.outer(_W_MUSCLE_R, muscle_r * src[_SRC_MUSCLE_R])

        for s in self.seizures:
            if s.onset < t[-1] + 1 / sfreq and s.offset > t[0]:
                _add_seizure(u, t, s, p, self.d_focus)

        w = 2 * np.pi * _LINE_HZ * t
        u += np.outer(self.line_amp * np.cos(self.line_phase), np.sin(w))
        u += np.outer(self.line_amp * np.sin(self.line_phase), np.cos(w))
        u += 0.8 * self.floor_rng.standard_normal(u.shape)  # amplifier noise
        return u


def synthesize_recording(
    profile: PatientProfile,
    duration_s: int,
    seizures: Sequence[tuple[float, float]] = (),
    *,
    sfreq: int = 256,
    seed: int = 0,
    recording_key: int = 0,
    chunk_s: int = 60,
    channels: Sequence[str] = CHBMIT_CHANNELS,
) -> Iterator[np.ndarray]:
    """Yield one recording's bipolar EEG in µV as ``(len(channels), n)`` float64 chunks.

    Parameters
    ----------
    profile
        The patient (:func:`make_profile`).
    duration_s
        Recording length in seconds; the chunks add up to ``duration_s * sfreq`` samples.
    seizures
        ``(onset, offset)`` of each seizure in seconds from the recording start. The pre-ictal
        change precedes each onset by up to ``profile.preictal_lead_s``; EEG earlier than that
        is unaffected by the seizure (the same numbers as without it).
    sfreq
        Sampling rate (Hz), at least 128.
    seed, recording_key
        Dataset seed and a number unique to the recording within its patient; together with
        ``profile.index`` they determine every random number.
    chunk_s
        Chunk length in seconds, at least 8 (memory grows with it, not with ``duration_s``).
    channels
        ``"A-B"`` derivations of :data:`ELECTRODE_NAMES` to output.
    """
    if sfreq < 128:
        raise ValueError(f"sfreq must be at least 128 Hz, got {sfreq}")
    if chunk_s < 8:
        raise ValueError(f"chunk_s must be at least 8 s (events and cross-fades last up to 4 s), got {chunk_s}")
    ia, ib = bipolar_pairs(channels)
    rec = _Recording(profile, duration_s, seizures, sfreq, seed, recording_key, chunk_s)
    for block in range(-(-rec.n_total // rec.chunk_len)):
        u = rec.chunk(block)
        yield u[ia] - u[ib]


def _add_seizure(u: np.ndarray, t: np.ndarray, s: _Seizure, profile: PatientProfile, d_focus: np.ndarray) -> None:
    """Add the ictal discharge of seizure ``s`` to unipolar signals ``u`` (in place) over times ``t``.

    Each electrode joins after a delay proportional to its distance from the focus; the field
    widens over the seizure, the frequency glides from ``f0`` to ``f1`` (the phase is the
    closed-form integral of the linear glide plus a slow jitter), and the amplitude builds up over
    the first third, then stops everywhere together at the offset.
    """
    dur = s.offset - s.onset
    sel = (t >= s.onset) & (t < s.offset)
    if not sel.any():
        return
    tt = t[sel] - s.onset
    delay = profile.spread_s * d_focus / d_focus.max()
    tau = tt[None] - delay[:, None]  # (n_electrodes, n): time since this electrode joined
    active = tau >= 0
    tau = np.maximum(tau, 0)
    frac = np.clip(tt / dur, 0, 1)[None]
    width = 0.3 + (profile.spread_width - 0.3) * frac
    field = np.exp(-(d_focus[:, None] ** 2) / (2 * width**2))
    jitter = 0.6 * s.jitter(tau.ravel()).reshape(tau.shape)
    phase = 2 * np.pi * (s.f0 * tau + (s.f1 - s.f0) * tau**2 / (2 * dur)) + jitter
    build = 0.12 + 0.88 * _smoothstep(tau / (0.35 * dur))
    ending = _smoothstep((dur - tt) / 1.5)[None]
    u[:, sel] += s.amp * field * build * ending * active * _spike_wave(phase, profile.ictal_sharpness)
