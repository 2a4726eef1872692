"""Opaque identifiers and times for the windows handed to a method.

A method sees, for every window of a fold (train, valid, test, unlabelled, and the per-patient and
per-recording dictionaries of ``WindowSet.info``), pseudonyms for patient, recording and unit, and
times shifted by a secret offset per recording, so ``test.meta`` cannot be matched with the
dataset's annotation files. The real identifiers and times stay with the harness, which scores.

What methods rely on is kept, so pseudonyms never change a model's numbers:

- equal identifiers stay equal and different ones different, consistently across the fold's sets
  (patient-specific methods, grouping by recording or video);
- the sort order of each identifier column (pseudonyms are drawn at random, then assigned in the
  order of the real values);
- the order of windows, their durations and the differences of start times within a recording
  (sequence models chain consecutive windows).

Pseudonyms are derived from a per-fold salt: a keyed hash (HMAC-SHA256) of the run and fold under a
secret kept in the window cache (``secret.key``, created from ``os.urandom``), outside what an
isolated fold can read. The same cache gives a fold the same pseudonyms in every run, so caches
keyed by window metadata (e.g. a fold's pre-trained encoder) are reused.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

SECRET_FILE = "secret.key"
#: Offsets of recording times are whole seconds in this range (exact in float64 for window times).
OFFSET_RANGE_S = (100_000, 1_000_000)


def cache_secret(cache_root: Path) -> bytes:
    """The cache's secret (created on first use, readable by its owner only)."""
    path = Path(cache_root) / SECRET_FILE
    try:
        data = path.read_bytes()
        if len(data) >= 32:
            return data
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{SECRET_FILE}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(os.urandom(32))
    try:
        os.link(tmp, path)  # first writer wins: folds of concurrent runs agree on the secret
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_bytes()


def fold_salt(secret: bytes, run_id: str, fold_id: str) -> bytes:
    """The salt of one fold's pseudonyms."""
    return hmac.new(secret, f"{run_id}\x00{fold_id}".encode(), hashlib.sha256).digest()


def _tokens(salt: bytes, kind: str, values: Iterable[str], prefix: str) -> dict[str, str]:
    """Order-preserving random pseudonyms: random tokens, sorted, assigned in the values' order."""
    real = sorted(set(values))
    drawn = sorted({hmac.new(salt, f"{kind}\x00{v}".encode(), hashlib.sha256).hexdigest()[:16] for v in real})
    if len(drawn) < len(real):  # a 64-bit collision: never in practice, but stay one-to-one
        drawn = sorted(hmac.new(salt, f"{kind}\x00{v}".encode(), hashlib.sha256).hexdigest() for v in real)
    return {v: f"{prefix}{t}" for v, t in zip(real, drawn)}


class Pseudonyms:
    """The pseudonyms of one fold, built from every window metadata table handed to its method."""

    def __init__(self, salt: bytes, metas: Iterable[pd.DataFrame | None]):
        tables = [m for m in metas if m is not None and len(m)]
        col = lambda name: [str(v) for m in tables if name in m.columns for v in m[name].unique()]  # noqa: E731
        self.patient = _tokens(salt, "patient", col("patient"), "P")
        self.recording = _tokens(salt, "recording", col("recording"), "R")
        self.unit = _tokens(salt, "unit", col("unit"), "U")
        pairs = {
            (str(p), str(r))
            for m in tables
            for p, r in m[["patient", "recording"]].drop_duplicates().itertuples(index=False)
        }
        lo, hi = OFFSET_RANGE_S
        self.offset = {
            pair: float(
                lo
                + int.from_bytes(
                    hmac.new(salt, f"time\x00{pair[0]}\x00{pair[1]}".encode(), hashlib.sha256).digest()[:8], "big"
                )
                % (hi - lo)
            )
            for pair in pairs
        }

    def meta(self, meta: pd.DataFrame | None) -> pd.DataFrame | None:
        """``meta`` with pseudonymous ids and shifted times (same rows, same order)."""
        if meta is None:
            return None
        out = meta.copy()
        patient, recording = meta["patient"].astype(str), meta["recording"].astype(str)
        shift = pd.Series(list(zip(patient, recording)), index=meta.index).map(self.offset).astype(float)
        for name in ("start", "end"):
            if name in out.columns:
                out[name] = out[name].astype(float) + shift
        out["patient"] = patient.map(self.patient)
        out["recording"] = recording.map(self.recording)
        if "unit" in out.columns:
            out["unit"] = out["unit"].astype(str).map(self.unit)
        return out

    def info(self, info: dict[str, Any]) -> dict[str, Any]:
        """``info`` with its per-patient and per-recording dictionaries re-keyed, for the fold's own
        patients and recordings only."""
        out = dict(info)
        if isinstance(info.get("patients"), dict):
            out["patients"] = {self.patient[str(p)]: v for p, v in info["patients"].items() if str(p) in self.patient}
        for name in ("montages", "recording_durations"):
            table = info.get(name)
            if isinstance(table, dict):
                keyed = {}
                for p, r in self.offset:
                    key = f"{p}/{r}"
                    if key in table:
                        keyed[f"{self.patient[p]}/{self.recording[r]}"] = table[key]
                out[name] = keyed
        return out
