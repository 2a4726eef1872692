"""``video-synthetic``: a small, deterministic, SYNTHETIC seizure-video dataset in the video-folder layout.

It lets the video track (``classification`` of epileptic vs psychogenic non-epileptic seizures, and of
temporal vs extra-temporal epilepsy) run end to end without real epilepsy-monitoring-unit videos, which
cannot be shared. It goes through the same loader as real data
(:func:`benchmark.datasets.video_folder.load_video_folder`)::

    README.txt  SYNTHETIC.json  manifest.csv  contextual.csv  boxes.csv
    videos/<patient>/<patient>_evNN.mp4        labelled seizure events (label ES/PNES, focus TLE/exTLE)
    contextual/<patient>/<patient>_ctxNN.mp4   unlabelled everyday videos (self-supervised pre-training)

Scene
-----
Each clip (64 x 64 RGB at 25 fps by default, MPEG-4 Part 2 in MP4) shows a ceiling-camera view of one patient lying
supine on a bed in a room: floor with a tile pattern, a bedside cabinet, the bed frame, sheet, pillow
and a blanket over the legs. The figure is drawn from simple anti-aliased shapes (head with hair, face,
eyes and mouth; trunk in a gown; two-segment arms with hands; legs under the blanket) whose joint angles
move frame by frame. Every patient has a room, body size, position in the image, bed orientation
(head up, down, left or right, tilted by up to 25 degrees), colours (skin, hair, gown, sheets) and a
personal movement style (amplitude, speed, dominant side, which limbs take part) that stays the same
across that patient's videos, so patient-wise splits are harder than random ones. About a third of the
videos are recorded at night: dim, grey, infrared-like frames with a central illuminator fall-off and
stronger sensor noise. Some videos have a lighting change (a lamp switched, a curtain drawn). All
frames get sensor noise and a small brightness flicker.

Seizure videos (``label``, ``focus``)
-------------------------------------
Each labelled video starts with 0.3-1.5 s of quiet lying (breathing, blinks, small fidgets), then the
event until the end of the clip. The movements caricature the semiology used to tell the classes apart
(Avbersek & Sisodiya, 2010, on signs that tell PNES from ES; Bonini et al., 2014, on frontal
hyperkinetic seizures):

``ES`` (epileptic seizure)
    Stereotyped for the patient, abrupt onset, eyes open. After a focus-specific first phase (below)
    comes a clonic phase: synchronous, bilateral rhythmic jerks (a brief flexion then relaxation) of
    the arms, legs and head whose rate slows from about 3 Hz to about 1 Hz (patient-specific start
    2.6-3.4 Hz, end 0.8-1.3 Hz); it takes 40-70 % of the event (30-55 % for exTLE patients, whose
    brief hyperkinetic seizures evolve less often).
``ES``, ``focus=TLE`` (temporal-lobe epilepsy)
    First phase: oral automatisms (rhythmic chewing, 1-1.8 Hz), small fumbling hand automatisms of one
    hand (band-limited 1.5-3 Hz; both hands in some patients, restless legs in others), dystonic
    posturing of the other arm and a sustained head version to one side: little motion, mostly of the
    face and hands.
``ES``, ``focus=exTLE`` (extra-temporal, e.g. frontal)
    First phase: hyperkinetic movements with an abrupt onset: alternating leg pedalling (1.2-2.2 Hz),
    large arm flailing and trunk rocking, head tossing: large motion over the whole body.
``PNES`` (psychogenic non-epileptic seizure)
    Gradual onset; irregular, asynchronous and asymmetric limb movements (band-limited noise around a
    patient-specific 1.5-4 Hz, each limb with its own weight and phase) whose amplitude waxes and wanes
    (0.15-0.45 Hz, with near-pauses); often side-to-side head movements (0.8-1.8 Hz) and pelvic
    thrusting; eyes closed in 80 % of the events. The rate does not evolve.

ES and PNES overlap in overall motion energy; they differ in the rhythm (regular and slowing vs
irregular), in the waxing and waning, in the symmetry and in the eyes. TLE and exTLE differ in the
amount and place of motion in the first phase but share the clonic phase. None of these differences is
the same for every patient or every clip.

Contextual videos (no labels, ``contextual.csv``)
-------------------------------------------------
``sleeping`` (eyes closed, breathing, an occasional slow change of arm position; mostly at night),
``eating`` (repeated hand-to-mouth movements every 2.5-4 s, chewing, a tray on the bed) and
``visitor`` (the patient awake and still while a visitor walks into view, stands by the bed and leaves).

Bounding boxes of the patient (every 5th frame, from the drawn body with a small margin) are in
``boxes.csv``. The default config (12 patients: 6 ES-only, 5 PNES-only, 1 with both; TLE in 4 patients,
exTLE in 3) writes 57 labelled and 24 contextual videos (10 min, about 3 MB) in about 10 s on two
cores. The same config gives byte-identical frames (and files, on one PyAV build): every random draw
comes from seeded NumPy generators and the encoder is deterministic. ``SYNTHETIC.json`` (written last) records
the config, each patient's diagnosis and style, each video's ground truth and a checksum of every file;
``README.txt`` says the same in words. Nothing here comes from real patients.

References
----------
Avbersek, A., & Sisodiya, S. (2010). Does the primary literature provide support for clinical signs
used to distinguish psychogenic nonepileptic seizures from epileptic seizures? Journal of Neurology,
Neurosurgery & Psychiatry, 81(7), 719-725.

Bonini, F., McGonigal, A., Trebuchon, A., et al. (2014). Frontal lobe seizures: from clinical
semiology to localization. Epilepsia, 55(2), 264-277.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from benchmark.datasets.synthetic._setup import (
    GeneratorConfig,
    ensure_generated,
    prepare_out_dir,
    progress_bar,
    write_marker,
)
from benchmark.datasets.synthetic._setup import seeded_rng as _rng
from benchmark.datasets.synthetic._setup import smoothstep as _smoothstep
from benchmark.datasets.video_folder import load_video_folder
from benchmark.errors import BenchmarkError
from benchmark.index import RecordingIndex
from benchmark.video_io import write_video

log = logging.getLogger(__name__)

__all__ = [
    "CONTEXT_KINDS",
    "DATASET_NAME",
    "GENERATOR_VERSION",
    "VideoSyntheticConfig",
    "ensure_video_synthetic",
    "generate_video_synthetic",
    "load_video_synthetic",
]

DATASET_NAME = "video-synthetic"
#: Bumped whenever the generated frames change for a given config, so caches are not reused wrongly.
GENERATOR_VERSION = 2
# Names this generator's former module path on purpose: the note is part of the generated files.
SYNTHETIC_NOTE = (
    "All content of this folder is SYNTHETIC: the videos, patients, seizure labels and bounding boxes "
    "were generated by seizure-bench (benchmark.datasets.video_synthetic) from drawn shapes and come from "
    "no real patient. Results on it say nothing about performance on real seizure videos."
)
#: Kinds of unlabelled contextual videos.
CONTEXT_KINDS = ("sleeping", "eating", "visitor")
_BOX_EVERY = 5  # boxes.csv lists every 5th native frame, as a person detector run at 5 fps would
# Random-stream tags, apart from the other synthetic generators' tags.
_TAG_ROLES, _TAG_PATIENT, _TAG_VIDEO = 3000, 3001, 3002


# -- configuration ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class VideoSyntheticConfig(GeneratorConfig):
    """Size and seed of a synthetic seizure-video dataset.

    Parameters
    ----------
    n_patients
        Number of patients, at least 4 (ES and PNES each in two patients, TLE and exTLE each in one).
        From 8 patients on, one patient has both ES and PNES events.
    videos_per_patient
        Inclusive range of labelled (seizure) videos per patient.
    contextual_per_patient
        Unlabelled contextual videos per patient (kinds in turn: sleeping, eating, visitor).
    video_s, contextual_s
        Ranges of the lengths (s) of labelled and contextual videos.
    size
        Frame width and height in pixels (even).
    fps
        Frame rate.
    boxes
        Write ``boxes.csv`` with the patient's bounding box every 5th frame.
    seed
        Seed of every random draw; the same config gives byte-identical frames.
    """

    n_patients: int = 12
    videos_per_patient: tuple[int, int] = (3, 6)
    contextual_per_patient: int = 2
    video_s: tuple[float, float] = (4.0, 10.0)
    contextual_s: tuple[float, float] = (6.0, 10.0)
    size: int = 64
    fps: int = 25
    boxes: bool = True
    seed: int = 0

    DATASET: ClassVar[str] = DATASET_NAME
    GENERATOR_VERSION: ClassVar[int] = GENERATOR_VERSION
    INVALID: ClassVar[str] = "invalid video-synthetic config"

    def __post_init__(self) -> None:
        # Lists (e.g. from JSON) become tuples, so configs compare and hash alike.
        for name in ("videos_per_patient", "video_s", "contextual_s"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        lo, hi = self.videos_per_patient
        checks = [
            (4 <= self.n_patients <= 99, "n_patients must be between 4 and 99"),
            (1 <= lo <= hi <= 50, "videos_per_patient must be a range (lo, hi) with 1 <= lo <= hi <= 50"),
            (0 <= self.contextual_per_patient <= 20, "contextual_per_patient must be between 0 and 20"),
            (2.0 <= self.video_s[0] <= self.video_s[1] <= 120, "video_s must be a range within 2-120 s"),
            (2.0 <= self.contextual_s[0] <= self.contextual_s[1] <= 120, "contextual_s must be a range within 2-120 s"),
            (32 <= self.size <= 512 and self.size % 2 == 0, "size must be an even number of pixels, 32-512"),
            (isinstance(self.fps, int) and 10 <= self.fps <= 60, "fps must be an integer between 10 and 60"),
            (self.seed >= 0, "seed must be >= 0"),
        ]
        self._check(checks)


# -- plan: who has what, how each patient looks and moves ------------------------------------------
@dataclass(frozen=True)
class _Look:
    """A patient's camera view and appearance (image pixels and RGB 0-255)."""

    body_px: float  # body length L (head top to feet) in pixels
    centre: tuple[float, float]  # image position of the body's mid point
    angle: float  # direction head -> feet in the image (rad)
    colours: dict[str, tuple[float, float, float]]
    tile_px: float  # floor tile size
    cabinet_side: int  # +1 / -1: side of the bed the cabinet stands on


@dataclass(frozen=True)
class _Style:
    """A patient's personal way of moving; event-specific parameters live in ``params``."""

    amp: float  # overall movement amplitude
    speed: float  # frequency factor
    side: int  # dominant side (+1 left of the body axis, -1 right)
    params: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _Video:
    video_id: str
    rel_path: str
    kind: str  # "ES" | "PNES" | a CONTEXT_KINDS entry
    focus: str | None
    duration: float
    key: int


@dataclass(frozen=True)
class _PlannedPatient:
    index: int
    pid: str
    role: str  # "TLE" | "exTLE" | "PNES" | "ES+PNES"
    focus: str | None
    look: _Look
    style: _Style
    videos: tuple[_Video, ...]


def _roles(config: VideoSyntheticConfig) -> list[str]:
    """Diagnoses dealt to the patients in a seeded order (see the module docstring for the counts)."""
    n = config.n_patients
    n_mixed = 1 if n >= 8 else 0
    n_pnes = (n - n_mixed) // 2
    n_es = n - n_mixed - n_pnes
    roles = [("exTLE", "TLE")[k % 2] for k in range(n_es)] + ["PNES"] * n_pnes + ["ES+PNES"] * n_mixed
    order = _rng(config.seed, _TAG_ROLES).permutation(n)
    return [roles[k] for k in order]


_SKIN = ((224, 180, 150), (198, 146, 112), (150, 104, 74), (240, 200, 175), (120, 84, 60))
_HAIR = ((40, 30, 25), (90, 60, 35), (160, 130, 90), (200, 200, 195), (20, 20, 20))
_GOWN = ((70, 110, 170), (80, 140, 110), (150, 80, 100), (110, 90, 150), (60, 120, 140))
_ROOMS = (  # floor, sheet, blanket, bed frame, cabinet
    ((170, 165, 150), (235, 235, 230), (110, 140, 180), (90, 90, 95), (150, 120, 90)),
    ((140, 150, 160), (225, 230, 240), (160, 110, 110), (200, 200, 200), (230, 230, 225)),
    ((185, 170, 140), (240, 236, 225), (120, 150, 120), (70, 70, 80), (120, 95, 70)),
)


def _jitter(rng: np.random.Generator, rgb, spread: float = 8.0) -> tuple[float, float, float]:
    return tuple(float(v) for v in np.clip(np.asarray(rgb, float) + rng.normal(0, spread, 3), 0, 255))


def _draw_look(rng: np.random.Generator, size: int) -> _Look:
    room = _ROOMS[int(rng.integers(len(_ROOMS)))]
    names = ("floor", "sheet", "blanket", "frame", "cabinet")
    colours = {k: _jitter(rng, c) for k, c in zip(names, room)}
    colours["pillow"] = _jitter(rng, (245, 245, 245), 6)
    colours["skin"] = _jitter(rng, _SKIN[int(rng.integers(len(_SKIN)))], 8)
    colours["hair"] = _jitter(rng, _HAIR[int(rng.integers(len(_HAIR)))], 8)
    colours["gown"] = _jitter(rng, _GOWN[int(rng.integers(len(_GOWN)))], 10)
    angle = float(rng.integers(4)) * np.pi / 2 + rng.uniform(-0.44, 0.44)  # +-25 degrees
    body = size * rng.uniform(0.6, 0.78)
    centre = tuple(float(v) for v in size / 2 + rng.uniform(-0.07, 0.07, 2) * size)
    return _Look(body, centre, angle, colours, float(rng.uniform(9, 16)), int(rng.choice([-1, 1])))


def _draw_style(rng: np.random.Generator, role: str) -> _Style:
    amp, speed, side = float(rng.uniform(0.6, 1.4)), float(rng.uniform(0.88, 1.12)), int(rng.choice([-1, 1]))
    p = {
        # ES
        "clonic_f0": rng.uniform(2.6, 3.4),
        "clonic_f1": rng.uniform(0.8, 1.3),
        # hyperkinetic frontal seizures are brief and evolve less often into clonic jerking
        "clonic_frac": rng.uniform(*((0.3, 0.55) if role == "exTLE" else (0.4, 0.7))),
        "clonic_legs": rng.uniform(0.3, 0.9),
        "clonic_head": rng.uniform(0.3, 1.0),
        "chew_hz": rng.uniform(1.0, 1.8),
        "fumble_hz": rng.uniform(1.5, 3.0),
        "version": rng.uniform(0.6, 1.0),
        "dystonia": rng.uniform(0.4, 1.0),
        "pedal_hz": rng.uniform(1.2, 2.2),
        "flail": rng.uniform(0.8, 1.3),
        "rock_hz": rng.uniform(0.6, 1.2),
        "bimanual": float(rng.random() < 0.5),
        "leg_autom": float(rng.random() < 0.4),
        # PNES
        "pnes_hz": rng.uniform(1.5, 4.0),
        "wax_hz": rng.uniform(0.15, 0.45),
        "head_shake": float(rng.random() < 0.65),
        "shake_hz": rng.uniform(0.8, 1.8),
        "thrust": float(rng.random() < 0.35),
        "thrust_hz": rng.uniform(0.8, 1.6),
        # limb weights: left arm, right arm, left leg, right leg (asymmetric: one side stronger)
        "w_la": rng.uniform(0.2, 1.0),
        "w_ra": rng.uniform(0.2, 1.0),
        "w_ll": rng.uniform(0.1, 0.8),
        "w_rl": rng.uniform(0.1, 0.8),
        # contextual
        "bite_s": rng.uniform(2.5, 4.0),
    }
    return _Style(amp, speed, side, {k: float(v) for k, v in p.items()})


def _plan(config: VideoSyntheticConfig) -> list[_PlannedPatient]:
    roles = _roles(config)
    lo, hi = config.videos_per_patient
    patients = []
    for i, role in enumerate(roles):
        rng = _rng(config.seed, _TAG_PATIENT, i)
        pid = f"vsyn{i + 1:02d}"
        look, style = _draw_look(rng, config.size), _draw_style(rng, role)
        n_events = int(rng.integers(lo, hi + 1))
        focus = {"TLE": "TLE", "exTLE": "exTLE", "ES+PNES": "TLE"}.get(role)
        if role == "ES+PNES":  # alternate, starting at random, so both occur when there are two events
            first = int(rng.integers(2))
            kinds = [("ES", "PNES")[(k + first) % 2] for k in range(n_events)]
        else:
            kinds = ["PNES" if role == "PNES" else "ES"] * n_events
        videos = []
        for k, kind in enumerate(kinds):
            vid = f"{pid}_ev{k + 1:02d}"
            dur = _frames_s(rng.uniform(*config.video_s), config.fps)
            videos.append(_Video(vid, f"videos/{pid}/{vid}.mp4", kind, focus if kind == "ES" else None, dur, k))
        first_ctx = int(rng.integers(len(CONTEXT_KINDS)))
        for k in range(config.contextual_per_patient):
            vid = f"{pid}_ctx{k + 1:02d}"
            kind = CONTEXT_KINDS[(first_ctx + k) % len(CONTEXT_KINDS)]
            dur = _frames_s(rng.uniform(*config.contextual_s), config.fps)
            videos.append(_Video(vid, f"contextual/{pid}/{vid}.mp4", kind, None, dur, 100 + k))
        patients.append(_PlannedPatient(i, pid, role, focus, look, style, tuple(videos)))
    return patients


def _frames_s(seconds: float, fps: int) -> float:
    """``seconds`` rounded to a whole number of frames."""
    return round(seconds * fps) / fps


# -- movement: joint-angle time series --------------------------------------------------------------
def _band(rng: np.random.Generator, n: int, fps: float, lo: float, hi: float) -> np.ndarray:
    """Unit-RMS Gaussian noise band-limited to ``[lo, hi]`` Hz (irregular movement)."""
    f = np.fft.rfftfreq(n, 1 / fps)
    gain = ((f >= lo) & (f <= hi)).astype(float) + 1e-3
    x = np.fft.irfft(rng.standard_normal(f.size) * gain + 1j * rng.standard_normal(f.size) * gain, n=n)
    return x / (x.std() + 1e-12)


def _slow(rng: np.random.Generator, t: np.ndarray, period_s: tuple[float, float], n: int = 3) -> np.ndarray:
    """A smooth random function of time in about [-1, 1]: a few slow sinusoids."""
    freqs, phases = 1 / rng.uniform(*period_s, n), rng.uniform(0, 2 * np.pi, n)
    return np.sin(2 * np.pi * freqs * t[:, None] + phases) @ (np.ones(n) / np.sqrt(n))


_JOINTS = (
    "sh_l",
    "sh_r",
    "el_l",
    "el_r",
    "hip_l",
    "hip_r",
    "leg_l",
    "leg_r",
    "head_turn",
    "head_u",
    "trunk_u",
    "trunk_v",
    "mouth",
    "eyes",
    "breath",
)


def _baseline(rng: np.random.Generator, t: np.ndarray, fps: float, eyes_open: bool = True) -> dict[str, np.ndarray]:
    """Quiet lying: breathing, blinks and small fidgets around a rest posture."""
    n = t.size
    pose = {k: np.zeros(n) for k in _JOINTS}
    pose["el_l"] += 0.35 + 0.05 * _slow(rng, t, (4, 10))
    pose["el_r"] += 0.35 + 0.05 * _slow(rng, t, (4, 10))
    for k in ("sh_l", "sh_r", "hip_l", "hip_r"):
        pose[k] += 0.03 * _slow(rng, t, (2, 8))
    pose["head_turn"] += 0.1 * _slow(rng, t, (3, 10))
    pose["breath"] = np.sin(2 * np.pi * rng.uniform(0.2, 0.33) * t + rng.uniform(0, 2 * np.pi))
    if eyes_open:
        eyes = np.ones(n)
        blink = rng.uniform(0, 3.0)
        while blink < t[-1]:
            eyes[(t >= blink) & (t < blink + 0.15)] = 0.0
            blink += rng.uniform(2.5, 6.0)
        pose["eyes"] = eyes
    pose["mouth"] += 0.1
    return pose


def _clonic(pose, t, tau, env, st: _Style, rng, amp):
    """Synchronous bilateral jerks whose rate slows from ``clonic_f0`` to ``clonic_f1`` Hz."""
    span = max(float(tau[-1]), 0.5)
    f0 = st.params["clonic_f0"] * st.speed * rng.uniform(0.95, 1.05)
    f1 = st.params["clonic_f1"] * st.speed * rng.uniform(0.95, 1.05)
    freq = f0 * (f1 / f0) ** np.clip(tau / span, 0, 1)
    phase = 2 * np.pi * np.cumsum(freq) * (t[1] - t[0])
    jerk = np.exp(6.0 * (np.cos(phase) - 1)) * env  # brief flexion, then relaxation
    pose["el_l"] += 1.2 * amp * jerk
    pose["el_r"] += 1.2 * amp * jerk * rng.uniform(0.85, 1.0)
    pose["sh_l"] += 0.5 * amp * jerk
    pose["sh_r"] += 0.5 * amp * jerk
    pose["leg_l"] += 0.7 * amp * st.params["clonic_legs"] * jerk
    pose["leg_r"] += 0.7 * amp * st.params["clonic_legs"] * jerk
    pose["head_u"] -= 0.04 * amp * st.params["clonic_head"] * jerk
    pose["trunk_u"] -= 0.02 * amp * jerk
    pose["mouth"] += 0.5 * jerk


def _tle(pose, t, tau, env, st: _Style, rng, amp):
    """Oral and manual automatisms, dystonic posturing and head version (little motion)."""
    n, fps = t.size, 1 / (t[1] - t[0])
    s = st.side
    chew = st.params["chew_hz"] * st.speed * rng.uniform(0.92, 1.08)
    pose["mouth"] += env * (0.45 + 0.45 * np.sin(2 * np.pi * chew * tau))
    fumble = st.params["fumble_hz"] * st.speed
    hand, other = ("l", "r") if s > 0 else ("r", "l")
    pose[f"el_{hand}"] += env * amp * (0.5 + 0.22 * _band(rng, n, fps, 0.8 * fumble, 1.2 * fumble))
    pose[f"sh_{hand}"] += env * amp * 0.06 * _band(rng, n, fps, 0.8 * fumble, 1.2 * fumble)
    if st.params["bimanual"]:
        pose[f"el_{other}"] += env * amp * 0.18 * _band(rng, n, fps, 0.8 * fumble, 1.2 * fumble)
    pose[f"el_{other}"] += _smoothstep(tau / 2.0) * env * st.params["dystonia"] * 0.9
    if st.params["leg_autom"]:  # restless leg automatisms
        for leg in ("leg_l", "leg_r"):
            pose[leg] += env * amp * np.abs(0.35 * _band(rng, n, fps, 0.5, 1.5))
    pose["head_turn"] += -s * st.params["version"] * _smoothstep(tau / 1.5) * env


def _extle(pose, t, tau, env, st: _Style, rng, amp):
    """Hyperkinetic: pedalling, flailing, trunk rocking and head tossing (large motion)."""
    n, fps = t.size, 1 / (t[1] - t[0])
    pedal = st.params["pedal_hz"] * st.speed * rng.uniform(0.92, 1.08)
    ph = 2 * np.pi * pedal * tau + rng.uniform(0, 2 * np.pi)
    amp = 0.5 + 0.5 * amp  # hyperkinetic seizures are violent whatever the patient's usual amplitude
    pose["leg_l"] += env * amp * (0.5 + 0.45 * np.sin(ph))
    pose["leg_r"] += env * amp * (0.5 + 0.45 * np.sin(ph + np.pi))
    flail = st.params["flail"] * amp
    for side, sign in (("l", 1), ("r", -1)):
        swing = 0.45 + 0.35 * np.sin(0.9 * ph + sign) + 0.15 * _band(rng, n, fps, 0.8, 2.5)
        pose[f"sh_{side}"] += env * flail * swing
        pose[f"el_{side}"] += env * flail * (0.7 + 0.5 * np.sin(1.1 * ph + 2 * sign))
    rock = 2 * np.pi * st.params["rock_hz"] * st.speed * tau
    pose["trunk_v"] += env * amp * 0.07 * np.sin(rock)
    pose["head_turn"] += env * 0.7 * np.sin(rock + 0.5)
    pose["hip_l"] += env * amp * 0.15 * np.sin(ph + 0.7)
    pose["hip_r"] += env * amp * 0.15 * np.sin(ph + 0.7 + np.pi)


def _pnes(pose, t, tau, env, st: _Style, rng, amp):
    """Irregular, asynchronous, asymmetric, waxing-waning movements; head shaking, pelvic thrusting."""
    n, fps = t.size, 1 / (t[1] - t[0])
    fc = st.params["pnes_hz"] * st.speed
    wax_hz = st.params["wax_hz"] * rng.uniform(0.85, 1.15)
    wax = 0.5 + 0.5 * np.sin(2 * np.pi * wax_hz * tau + rng.uniform(0, 2 * np.pi))
    wax = env * wax**1.5 * (0.8 + 0.2 * _slow(rng, t, (2, 6)))
    band = (max(0.5, 0.6 * fc), 1.4 * fc)
    w = st.params
    pose["el_l"] += wax * amp * w["w_la"] * (0.3 + 0.6 * _band(rng, n, fps, *band))
    pose["el_r"] += wax * amp * w["w_ra"] * (0.3 + 0.6 * _band(rng, n, fps, *band))
    pose["sh_l"] += wax * amp * w["w_la"] * 0.3 * _band(rng, n, fps, *band)
    pose["sh_r"] += wax * amp * w["w_ra"] * 0.3 * _band(rng, n, fps, *band)
    pose["leg_l"] += wax * amp * w["w_ll"] * np.abs(0.6 * _band(rng, n, fps, *band))
    pose["leg_r"] += wax * amp * w["w_rl"] * np.abs(0.6 * _band(rng, n, fps, *band))
    if w["head_shake"]:
        wobble = 0.3 * _band(rng, n, fps, 0.2, 1)
        pose["head_turn"] += wax * 0.8 * np.sin(2 * np.pi * w["shake_hz"] * st.speed * tau + wobble)
    if w["thrust"]:
        pose["trunk_u"] += wax * amp * 0.03 * np.sin(2 * np.pi * w["thrust_hz"] * tau)
    pose["trunk_v"] += wax * amp * 0.02 * _band(rng, n, fps, 0.3, 1.5)


def _event_pose(video: _Video, st: _Style, t: np.ndarray, rng: np.random.Generator) -> tuple[dict, dict[str, Any]]:
    """Joint-angle series of one labelled event video, and its ground truth for ``SYNTHETIC.json``."""
    fps = 1 / (t[1] - t[0])
    onset = float(rng.uniform(0.3, 1.5))
    amp = st.amp * float(rng.uniform(0.85, 1.15))
    tau = np.maximum(t - onset, 0.0)
    truth: dict[str, Any] = {"label": video.kind, "onset_s": round(onset, 2)}
    if video.kind == "PNES":
        eyes_closed = bool(rng.random() < 0.8)
        pose = _baseline(rng, t, fps, eyes_open=True)
        env = _smoothstep(tau / rng.uniform(1.0, 2.0)) * (t >= onset)
        if eyes_closed:
            pose["eyes"] = np.where(t >= onset + 0.3, 0.0, pose["eyes"])
        _pnes(pose, t, tau, env, st, rng, amp)
        truth["eyes_closed"] = eyes_closed
        return pose, truth
    pose = _baseline(rng, t, fps, eyes_open=True)
    pose["eyes"] = np.where(t >= onset, 1.0, pose["eyes"])  # no blinks during the seizure
    frac = st.params["clonic_frac"] * float(rng.uniform(0.9, 1.1))
    clonic_at = onset + (1 - frac) * (t[-1] - onset)
    env1 = _smoothstep(tau / (0.15 if video.focus == "exTLE" else 0.6)) * (t >= onset)
    env1 = env1 * (1 - 0.7 * _smoothstep((t - clonic_at) / 0.4))  # the first phase fades under the clonic one
    (_extle if video.focus == "exTLE" else _tle)(pose, t, tau, env1, st, rng, amp)
    tau2 = np.maximum(t - clonic_at, 0.0)
    _clonic(pose, t, tau2, _smoothstep(tau2 / 0.3) * (t >= clonic_at), st, rng, amp)
    truth.update(focus=video.focus, clonic_onset_s=round(float(clonic_at), 2))
    return pose, truth


def _context_pose(video: _Video, st: _Style, t: np.ndarray, rng: np.random.Generator) -> dict:
    fps = 1 / (t[1] - t[0])
    if video.kind == "sleeping":
        pose = _baseline(rng, t, fps, eyes_open=False)
        pose["breath"] *= 1.6
        shift_at = rng.uniform(0.2, 0.8) * t[-1]
        arm = "el_l" if rng.random() < 0.5 else "el_r"
        pose[arm] += rng.uniform(0.4, 0.9) * _smoothstep((t - shift_at) / 1.2)
        pose["head_turn"] += rng.uniform(-0.6, 0.6)
        return pose
    pose = _baseline(rng, t, fps, eyes_open=True)
    if video.kind == "eating":
        hand = "l" if st.side > 0 else "r"
        period = st.params["bite_s"] * float(rng.uniform(0.9, 1.1))
        cycle = np.mod(t / period + rng.uniform(0, 1), 1.0)
        lift = _smoothstep(cycle / 0.3) * _smoothstep((0.75 - cycle) / 0.25)
        pose[f"el_{hand}"] += 1.9 * lift
        pose[f"sh_{hand}"] -= 0.25 * lift
        pose["mouth"] += 0.3 + 0.3 * np.sin(2 * np.pi * rng.uniform(1.2, 1.8) * t)
        pose["head_u"] -= 0.01 * lift
    return pose


# -- drawing ----------------------------------------------------------------------------------------
class _Frames:
    """``T`` RGB frames (float, 0-255) on which anti-aliased shapes are painted for all frames at once.

    Pixels are kept as three channel planes of ``T * H * W`` values, so that blending a shape gathers
    and scatters just the pixels it covers (a moving limb covers a small part of its bounding box).
    """

    def __init__(self, background: np.ndarray, n: int):
        self.n, self.h, self.w = n, background.shape[0], background.shape[1]
        flat = background.astype(np.float32).reshape(-1, 3).T  # (3, H * W)
        self.planes = np.tile(flat, (1, n))
        self.xs = np.arange(self.w, dtype=np.float32)
        self.ys = np.arange(self.h, dtype=np.float32)

    @property
    def img(self) -> np.ndarray:
        """The frames, ``(T, H, W, 3)``."""
        return self.planes.reshape(3, self.n, self.h, self.w).transpose(1, 2, 3, 0)

    def capsule(self, a: np.ndarray, b: np.ndarray, r, colour, outline: tuple[float, Any] | None = None) -> None:
        """Segments ``a -> b`` (``(T, 2)`` pixel x, y) of radius ``r`` (pixels, scalar or ``(T,)``).

        ``colour`` is RGB, or ``(T, 3)`` for one per frame; ``outline = (width_px, colour)`` first
        paints a border of that width around the shape.
        """
        a, b = a.astype(np.float32), b.astype(np.float32)
        r = np.broadcast_to(np.asarray(r, dtype=np.float32), (self.n,))
        reach = float(r.max()) + 1.5 + (outline[0] if outline else 0.0)
        lo = np.floor(np.minimum(a, b).min(axis=0) - reach).astype(int)
        hi = np.ceil(np.maximum(a, b).max(axis=0) + reach).astype(int) + 1
        x0, y0 = max(lo[0], 0), max(lo[1], 0)
        x1, y1 = min(hi[0], self.w), min(hi[1], self.h)
        if x1 <= x0 or y1 <= y0:
            return
        # Distances only within the box the shape can reach over all frames.
        px = self.xs[None, None, x0:x1] - a[:, 0, None, None]
        py = self.ys[None, y0:y1, None] - a[:, 1, None, None]
        d = b - a
        dx, dy = d[:, 0, None, None], d[:, 1, None, None]
        # Distance to the segment; in place, as this is the generator's inner loop.
        h = px * dx + py * dy
        h *= 1 / ((d**2).sum(axis=1)[:, None, None] + np.float32(1e-6))
        np.clip(h, 0.0, 1.0, out=h)
        ex, ey = dx * h, dy * h
        np.subtract(px, ex, out=ex)
        np.subtract(py, ey, out=ey)
        ex *= ex
        ey *= ey
        ex += ey
        dist = np.sqrt(ex, out=ex)
        dist -= r[:, None, None]
        hh, ww = y1 - y0, x1 - x0
        layers = ([outline] if outline else []) + [(0.0, colour)]
        for extra, col in layers:
            alpha = np.clip(np.float32(0.5 + extra) - dist, 0.0, 1.0)
            idx = np.flatnonzero(alpha)
            if idx.size == 0:
                continue
            tt, rest = np.divmod(idx, hh * ww)
            yy, xx = np.divmod(rest, ww)
            flat = (tt * self.h + yy + y0) * self.w + xx + x0
            col = np.asarray(col, dtype=np.float32)
            col = col[tt].T if col.ndim == 2 else col[:, None]
            under = self.planes[:, flat]
            self.planes[:, flat] = under + alpha.ravel()[idx] * (col - under)

    def disc(self, c: np.ndarray, r, colour) -> None:
        self.capsule(c, c, r, colour)


def _rect_alpha(size: int, centre, angle: float, half_u: float, half_v: float) -> np.ndarray:
    """Anti-aliased coverage ``(H, W)`` of a rectangle in body axes (``u`` along ``angle``)."""
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
    dx, dy = xs - centre[0], ys - centre[1]
    u = dx * np.cos(angle) + dy * np.sin(angle)
    v = -dx * np.sin(angle) + dy * np.cos(angle)
    qu, qv = np.abs(u) - half_u, np.abs(v) - half_v
    dist = np.hypot(np.maximum(qu, 0), np.maximum(qv, 0)) + np.minimum(np.maximum(qu, qv), 0)
    return np.clip(0.5 - dist, 0.0, 1.0)


def _body_to_image(look: _Look, u, v) -> np.ndarray:
    """Body coordinates (units of body length; ``u`` head -> feet, ``v`` to the body's left) -> pixels."""
    cu, cv = np.cos(look.angle), np.sin(look.angle)
    u, v = np.asarray(u, float) - 0.5, np.asarray(v, float)  # body mid point at u = 0.5
    x = look.centre[0] + look.body_px * (u * cu - v * cv)
    y = look.centre[1] + look.body_px * (u * cv + v * cu)
    return np.stack(np.broadcast_arrays(x, y), axis=-1)


def _background(look: _Look, size: int, tray: bool = False) -> np.ndarray:
    """The static scene: floor with tiles, cabinet, bed frame, sheet, pillow, blanket."""
    col = {k: np.asarray(v, np.float32) for k, v in look.colours.items()}
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    tiles = (np.abs(np.mod(xs, look.tile_px) - 0.5) < 0.6) | (np.abs(np.mod(ys, look.tile_px) - 0.5) < 0.6)
    img = np.broadcast_to(col["floor"], (size, size, 3)).astype(np.float32) * (1 - 0.08 * tiles[..., None])

    def paint(alpha, colour):
        img[:] += alpha[..., None] * (colour - img)

    L, c, a = look.body_px, _body_to_image(look, 0.5, 0.0), look.angle
    side = _body_to_image(look, 0.15, look.cabinet_side * 0.42)
    paint(_rect_alpha(size, side, a, 0.08 * L, 0.09 * L), col["cabinet"])
    paint(_rect_alpha(size, c, a, 0.6 * L, 0.28 * L), col["frame"])
    paint(_rect_alpha(size, c, a, 0.57 * L, 0.25 * L), col["sheet"])
    paint(_rect_alpha(size, _body_to_image(look, 0.06, 0.0), a, 0.07 * L, 0.16 * L), col["pillow"])
    paint(_rect_alpha(size, _body_to_image(look, 0.8, 0.0), a, 0.27 * L, 0.235 * L), col["blanket"])
    if tray:
        paint(_rect_alpha(size, _body_to_image(look, 0.47, 0.0), a, 0.07 * L, 0.13 * L), np.array([215, 205, 190]))
    return img


def _skeleton(look: _Look, pose: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Image positions ``(T, 2)`` of the body parts for the joint series ``pose``."""
    tv, tu = pose["trunk_v"], pose["trunk_u"]
    pts = {}

    def at(name, u, v):
        pts[name] = _body_to_image(look, u, v)
        return u, v

    hu, hv = at("head", 0.08 + pose["head_u"] + tu, tv + 0.012 * pose["head_turn"])
    at("neck", 0.19 + tu, tv)
    at("pelvis", 0.5 + 0.5 * tu, 0.3 * tv)
    for name, s in (("l", 1.0), ("r", -1.0)):
        su, sv = at(f"shoulder_{name}", 0.21 + tu, s * 0.1 + tv)
        t1 = 0.18 + pose[f"sh_{name}"]
        eu, ev = at(f"elbow_{name}", su + 0.17 * np.cos(t1), sv + s * 0.17 * np.sin(t1))
        t2 = t1 - pose[f"el_{name}"]
        at(f"hand_{name}", eu + 0.16 * np.cos(t2), ev + s * 0.16 * np.sin(t2))
        pull = np.clip(pose[f"leg_{name}"], 0.0, 1.2)  # knee drawn up: the leg looks shorter from above
        pu, pv = at(f"hip_{name}", 0.5 + 0.5 * tu, s * 0.065 + 0.3 * tv)
        th = 0.04 + pose[f"hip_{name}"]
        thigh = 0.24 * (1 - 0.3 * pull)
        ku, kv = at(f"knee_{name}", pu + thigh * np.cos(th), pv + s * (0.24 * np.sin(th) + 0.07 * pull))
        th2 = th - 0.2 * pull
        at(f"foot_{name}", ku + 0.23 * (1 - 0.45 * pull) * np.cos(th2), kv + s * 0.23 * np.sin(th2))
    turn = pose["head_turn"]
    fu, fv = at("face", hu + 0.018, hv + 0.035 * turn)
    for name, s in (("l", 1.0), ("r", -1.0)):
        at(f"eye_{name}", fu - 0.012, fv + s * 0.022 * np.cos(0.6 * turn) + 0.01 * turn)
    at("mouth", fu + 0.032, fv + 0.012 * turn)
    return pts


def _draw_patient(frames: _Frames, look: _Look, pose: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    L, col = look.body_px, look.colours
    pts = _skeleton(look, pose)
    fold = (0.015 * L, np.asarray(col["blanket"]) * 0.8)  # legs under the blanket: a darker fold around
    for s in ("l", "r"):
        for a, b in ((f"hip_{s}", f"knee_{s}"), (f"knee_{s}", f"foot_{s}")):
            frames.capsule(pts[a], pts[b], 0.055 * L, col["blanket"], outline=fold)
    frames.capsule(pts["neck"], pts["pelvis"], (0.09 + 0.004 * pose["breath"]) * L, col["gown"])
    for s in ("l", "r"):
        frames.capsule(pts[f"shoulder_{s}"], pts[f"elbow_{s}"], 0.042 * L, col["gown"])
        frames.capsule(pts[f"elbow_{s}"], pts[f"hand_{s}"], 0.036 * L, col["skin"])
        frames.disc(pts[f"hand_{s}"], 0.045 * L, col["skin"])
    frames.disc(pts["head"], 0.075 * L, col["hair"])
    frames.disc(pts["face"], 0.058 * L, col["skin"])
    eye = np.where(pose["eyes"][:, None] > 0.5, 35.0, np.asarray(col["skin"]) * 0.85)
    for s in ("l", "r"):
        frames.disc(pts[f"eye_{s}"], 0.012 * L, eye)
    frames.disc(pts["mouth"], (0.008 + 0.016 * np.clip(pose["mouth"], 0, 1)) * L, (90.0, 40.0, 40.0))
    return pts


def _draw_visitor(frames: _Frames, look: _Look, t: np.ndarray, rng: np.random.Generator) -> None:
    """A visitor seen from above walks in, stands by the bed, and leaves."""
    size = frames.w
    side = -look.cabinet_side
    stop = _body_to_image(look, rng.uniform(0.3, 0.6), side * 0.5)[None]
    enter = np.array([[-0.25 * size, rng.uniform(0.2, 0.8) * size]])
    leave = np.array([[1.25 * size, rng.uniform(0.2, 0.8) * size]])
    if rng.random() < 0.5:
        enter, leave = leave, enter
    span = t[-1]
    a, b = rng.uniform(0.15, 0.3) * span, rng.uniform(0.65, 0.8) * span
    k_in = _smoothstep(t / a)[:, None]
    k_out = _smoothstep((t - b) / (span - b))[:, None]
    pos = enter + (stop - enter) * k_in + (leave - stop) * k_out
    walking = np.clip(np.abs(np.gradient(pos[:, 0])) / 0.5, 0, 1)
    heading = np.arctan2(*(leave - enter)[0][::-1])
    across = np.array([-np.sin(heading), np.cos(heading)])
    swing = (np.sin(2 * np.pi * 1.8 * t) * walking)[:, None]
    scale = look.body_px
    clothes = _jitter(rng, rng.choice([(60, 60, 70), (180, 60, 60), (60, 110, 160), (220, 220, 220)]), 10)
    along = np.array([np.cos(heading), np.sin(heading)])
    for s in (1, -1):  # arms swinging
        shoulder = pos + s * 0.13 * scale * across
        hand = shoulder + swing * s * 0.1 * scale * along + 0.02 * scale * s * across
        frames.capsule(shoulder, hand, 0.04 * scale, clothes)
    frames.capsule(pos - 0.12 * scale * across, pos + 0.12 * scale * across, 0.07 * scale, clothes)
    frames.disc(pos, 0.065 * scale, _jitter(rng, _HAIR[int(rng.integers(len(_HAIR)))], 8))


def _boxes(pts: dict[str, np.ndarray], look: _Look, size: int) -> np.ndarray:
    """Patient bounding box ``(T, 4)`` x0, y0, x1, y1 from the drawn body parts plus a margin."""
    keys = [k for k in pts if not k.startswith(("eye", "mouth"))]
    p = np.stack([pts[k] for k in keys], axis=1)  # (T, K, 2)
    margin = 0.08 * look.body_px
    lo = np.clip(p.min(axis=1) - margin, 0, size)
    hi = np.clip(p.max(axis=1) + margin, 0, size)
    return np.concatenate([lo, hi], axis=1)


def _noise(rng: np.random.Generator, shape: tuple[int, ...], sigma: float) -> np.ndarray:
    """Zero-mean sensor noise of standard deviation ``sigma``.

    The sum of two uniform random bytes (a triangular distribution): several times faster to draw
    than Gaussian noise, and as good for blurring a drawn scene.
    """
    count = int(np.prod(shape))
    b = np.frombuffer(rng.bytes(2 * count), dtype=np.uint8).reshape(2, *shape).astype(np.float32)
    return (b[0] + b[1] - 255.0) * np.float32(sigma / np.sqrt(2 * (256**2 - 1) / 12))


def _camera(img: np.ndarray, t: np.ndarray, night: bool, change: tuple[float, float] | None, rng) -> np.ndarray:
    """Lighting, night-time infrared look, flicker and sensor noise; returns uint8 frames."""
    n, size = img.shape[0], img.shape[1]
    gain = 1 + 0.03 * _slow(rng, t, (3, 12)) + 0.01 * rng.standard_normal(n)  # drift and flicker
    if change is not None:
        at, step = change
        gain *= 1 + step * _smoothstep((t - at) / 0.25)
    if night:
        ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
        r2 = ((xs - size / 2) ** 2 + (ys - size / 2) ** 2) / (size / 2) ** 2
        falloff = (1 - 0.45 * np.clip(r2, 0, 1.6) / 1.6).astype(np.float32)
        grey = img @ np.array([0.299, 0.587, 0.114], np.float32)
        level = rng.uniform(0.65, 0.8)
        img = np.repeat(((grey * level + 8) * falloff)[..., None], 3, axis=-1)
        noise = _noise(rng, (n, size, size, 1), rng.uniform(2.5, 4.5))
    else:
        tint = rng.uniform(0.96, 1.04, 3).astype(np.float32)
        img = img * tint
        noise = _noise(rng, img.shape, rng.uniform(1.0, 2.5))
    img = img * gain[:, None, None, None].astype(np.float32) + noise
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def _render(p: _PlannedPatient, video: _Video, config: VideoSyntheticConfig) -> tuple[np.ndarray, np.ndarray, dict]:
    """Frames ``(T, H, W, 3)`` uint8, boxes ``(T, 4)`` and the ground truth of one video."""
    rng = _rng(config.seed, _TAG_VIDEO, p.index, video.key)
    n = int(round(video.duration * config.fps))
    t = np.arange(n) / config.fps
    labelled = video.kind in ("ES", "PNES")
    if labelled:
        pose, truth = _event_pose(video, p.style, t, rng)
        night = bool(rng.random() < 0.3)
    else:
        pose, truth = _context_pose(video, p.style, t, rng), {"context": video.kind}
        night = bool(rng.random() < (0.7 if video.kind == "sleeping" else 0.15))
    change = None
    if rng.random() < 0.25:
        change = (float(rng.uniform(0.2, 0.8) * t[-1]), float(rng.choice([-1, 1]) * rng.uniform(0.15, 0.3)))
    frames = _Frames(_background(p.look, config.size, tray=video.kind == "eating"), n)
    pts = _draw_patient(frames, p.look, pose)
    if video.kind == "visitor":
        _draw_visitor(frames, p.look, t, rng)
    out = _camera(frames.img, t, night, change, rng)
    truth.update(night=night, lighting_change_s=None if change is None else round(change[0], 2))
    return out, _boxes(pts, p.look, config.size), truth


# -- files ------------------------------------------------------------------------------------------
def _write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _readme_text(config: VideoSyntheticConfig, patients: list[_PlannedPatient], seconds: float) -> str:
    n_events = sum(v.kind in ("ES", "PNES") for p in patients for v in p.videos)
    n_context = sum(len(p.videos) for p in patients) - n_events
    lines = [
        "video-synthetic: SYNTHETIC seizure videos in the video-folder layout",
        "",
        SYNTHETIC_NOTE,
        "",
        # The former module path, kept: README.txt is part of the generated files.
        f"Generated by benchmark.datasets.video_synthetic (generator version {GENERATOR_VERSION}, seed "
        f"{config.seed}): {config.n_patients} patients, {n_events} labelled seizure videos and {n_context} "
        f"contextual videos, {seconds / 60:.1f} min in all, {config.size}x{config.size} RGB at {config.fps} fps "
        "(MPEG-4 Part 2).",
        "Each frame is drawn from simple shapes (a figure lying on a bed in a room, seen from the ceiling)",
        "moved by joint-angle time series that caricature seizure semiology: ES = a focus-specific first phase",
        "(TLE: automatisms and head version; exTLE: hyperkinetic thrashing) then clonic jerks slowing from",
        "about 3 to 1 Hz; PNES = irregular, asymmetric, waxing-waning movements, often head shaking, eyes",
        "closed. See the module docstring for details.",
        "",
        "manifest.csv    video_id,patient_id,file,label,focus   (label ES/PNES; focus TLE/exTLE for ES)",
        "contextual.csv  video_id,patient_id,file               (unlabelled: sleeping, eating, visitor)",
        (
            "boxes.csv       video_id,frame,x0,y0,x1,y1             (patient box, every 5th frame)"
            if config.boxes
            else None
        ),
        "SYNTHETIC.json  generator config, each patient's diagnosis and style, each video's ground truth,",
        "                SHA-256 of every file",
        "",
        "Patients:",
    ]
    for p in patients:
        kinds = [v.kind + (f"/{v.focus}" if v.focus else "") for v in p.videos if v.kind in ("ES", "PNES")]
        lines.append(f"  {p.pid}: {p.role:8s} events {' '.join(kinds)}")
    return "\n".join(line for line in lines if line is not None) + "\n"


def generate_video_synthetic(out_dir: Path, config: VideoSyntheticConfig | None = None, progress: bool = False) -> Path:
    """Write the SYNTHETIC seizure-video dataset of ``config`` into ``out_dir``.

    Parameters
    ----------
    out_dir
        Target folder; created, and must not exist or be empty.
    config
        Size and seed; default :class:`VideoSyntheticConfig()`.
    progress
        Show a progress bar (one step per video).

    Returns
    -------
    Path
        ``out_dir``.

    Notes
    -----
    Not atomic: an interruption leaves a partial folder (without ``SYNTHETIC.json``, which is
    written last). :func:`ensure_video_synthetic` wraps this in a temporary folder and a rename.
    """
    config = config or VideoSyntheticConfig()
    out_dir = prepare_out_dir(out_dir)
    patients = _plan(config)
    manifest, contextual, boxes = [], [], []
    truth: dict[str, dict[str, Any]] = {}
    seconds = 0.0
    n_videos = sum(len(p.videos) for p in patients)
    with progress_bar(progress, n_videos, f"{DATASET_NAME}: synthetic videos") as step:
        for p in patients:
            for video in p.videos:
                frames, box, truth[video.video_id] = _render(p, video, config)
                write_video(out_dir / video.rel_path, frames, config.fps)
                seconds += video.duration
                if video.kind in ("ES", "PNES"):
                    manifest.append([video.video_id, p.pid, video.rel_path, video.kind, video.focus or ""])
                else:
                    contextual.append([video.video_id, p.pid, video.rel_path])
                boxes += [[video.video_id, j, *np.round(box[j], 1).tolist()] for j in range(0, len(box), _BOX_EVERY)]
                log.debug("wrote %s", video.rel_path)
                step()
    _write_csv(out_dir / "manifest.csv", ["video_id", "patient_id", "file", "label", "focus"], manifest)
    _write_csv(out_dir / "contextual.csv", ["video_id", "patient_id", "file"], contextual)
    if config.boxes:
        _write_csv(out_dir / "boxes.csv", ["video_id", "frame", "x0", "y0", "x1", "y1"], boxes)
    (out_dir / "README.txt").write_text(_readme_text(config, patients, seconds))
    minutes = round(seconds / 60, 3)
    write_marker(out_dir, config, SYNTHETIC_NOTE, minutes=minutes, patients=_ground_truth(patients, truth))
    log.debug("%s: wrote %.1f min of synthetic video to %s", DATASET_NAME, seconds / 60, out_dir)
    return out_dir


def _ground_truth(patients: list[_PlannedPatient], truth: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        p.pid: {
            "diagnosis": p.role,
            "body_px": round(p.look.body_px, 1),
            "bed_angle_deg": round(float(np.degrees(p.look.angle)) % 360, 1),
            "amplitude": round(p.style.amp, 2),
            "speed": round(p.style.speed, 2),
            "dominant_side": "left" if p.style.side > 0 else "right",
            "videos": {v.video_id: truth[v.video_id] for v in p.videos},
        }
        for p in patients
    }


def ensure_video_synthetic(
    data_dir: Path | None = None, config: VideoSyntheticConfig | None = None, progress: bool = False
) -> Path:
    """Return a folder holding the complete synthetic video dataset, generating it if needed.

    Parameters
    ----------
    data_dir
        The dataset folder itself; default ``<cache>/data/video-synthetic-<config.key()>`` (cache root
        as :func:`benchmark.datasets.synthetic._setup.default_cache_dir`). An existing folder is reused when its
        ``SYNTHETIC.json`` shows the same config and generator version and every listed file is present.
    config
        Dataset size and seed; default: the config recorded in ``data_dir`` when it already holds a
        video-synthetic dataset, else :class:`VideoSyntheticConfig()`.

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
        VideoSyntheticConfig,
        lambda tmp, cfg: generate_video_synthetic(tmp, cfg, progress=progress),
        lambda cfg: "synthetic videos",
    )


def load_video_synthetic(
    data_dir: Path | None = None, *, config: VideoSyntheticConfig | dict | None = None, progress: bool = False
) -> RecordingIndex:
    """Generate (or reuse) the synthetic video dataset and load it with the video-folder loader.

    Parameters
    ----------
    data_dir
        As :func:`ensure_video_synthetic`.
    config
        A :class:`VideoSyntheticConfig` or a dict of its fields.

    Returns
    -------
    RecordingIndex
        Named ``video-synthetic``, with ``synthetic=True`` and ``modality="video"``.
    """
    if isinstance(config, dict):
        try:
            config = VideoSyntheticConfig(**config)
        except TypeError as err:
            raise BenchmarkError(f"invalid video-synthetic config: {err}") from None
    path = ensure_video_synthetic(data_dir, config, progress)
    return load_video_folder(path, dataset_name=DATASET_NAME, synthetic=True)
