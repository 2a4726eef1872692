"""Pretrained weights: one rule for every method, and how results name them.

A method whose paper starts from pretrained weights has a weights setting (``backbone_weights``)
that is ``None`` in its ``paper`` budget. Such a run must name a local file, or choose random
initialisation on purpose with ``"random"`` (what the ``smoke`` budgets hold); a ``paper`` run that
does neither is refused in one line (:func:`weights_file`, called when the harness first builds the
adapter, before any data is read). Nothing is ever downloaded.

A run's ``weights_source`` (provenance) names a loaded file and its SHA-256
(:func:`weights_provenance`); a backbone left at random initialisation by choice says so with
:data:`NOT_THE_PAPERS_SETTING` (:func:`random_init_source`), and the boards then never show the run
as the paper's budget (:func:`budget_label`). The loader itself, which needs torch, is
:func:`benchmark.torch_utils.load_weights`.

This module imports neither torch nor numpy: the report reads it too.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from benchmark.errors import BenchmarkError, DataError

#: The value of a weights setting that chooses random initialisation on purpose.
RANDOM_WEIGHTS = "random"
#: Part of every ``weights_source`` of a randomly initialised backbone whose paper loads weights; the
#: boards read it to keep such a ``paper`` run from being shown as the paper's setting.
NOT_THE_PAPERS_SETTING = "not the paper's setting"
WEIGHT_SUFFIXES = (".pt", ".pth", ".pyth", ".bin", ".ckpt", ".safetensors")
#: Files a Hugging Face checkpoint folder holds its weights in, in order of preference.
HF_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


class MissingWeightsError(BenchmarkError):
    """A ``paper`` budget that needs pretrained weights was run without saying which."""


#: How a ``weights_source`` names pretrained weights that stand in for the paper's (e.g. a smaller
#: text encoder than the paper's BERT): :func:`stand_in_source` writes it, :func:`budget_label` reads it.
_STAND_IN = re.compile(r"([^;:,]+?) instead of ([^;:,(]+?) \(" + re.escape(NOT_THE_PAPERS_SETTING) + r"\)")


def stand_in_source(used: str, paper: str) -> str:
    """``weights_source`` text of pretrained weights used instead of the paper's: ``"MiniLM-L6 instead
    of the paper's 12-layer BERT (not the paper's setting)"``; ``used`` and ``paper`` are short names
    (no ``;``, ``:``, ``,`` or parentheses)."""
    return f"{used} instead of {paper} ({NOT_THE_PAPERS_SETTING})"


def random_init_source(setting: str) -> str:
    """``weights_source`` text of a backbone left at random initialisation by ``setting=random``."""
    return f"random init ({setting}={RANDOM_WEIGHTS}; {NOT_THE_PAPERS_SETTING})"


def weights_file(value: Any, *, method: str, setting: str, needs: str, example: str) -> Path | None:
    """Check a weights setting: the local file to load, or ``None`` for random initialisation by choice.

    Parameters
    ----------
    value
        The setting's value: a path (a file, or a Hugging Face checkpoint folder), ``"random"``, or
        ``None`` (not given: refused).
    method, setting
        Method name and setting name, for the message.
    needs, example
        What the paper loads (``"ImageNet ResNet-152 weights"``) and a typical file
        (``"resnet152-f82ba261.pth (torchvision's file)"``), for the message.

    Raises
    ------
    MissingWeightsError
        ``value`` is ``None``: the paper budget needs weights and none were given.
    DataError
        The path does not exist or is not a weights file.
    """
    hint = f"--set {setting}=/path/{example}, or --set {setting}={RANDOM_WEIGHTS} to run at random init"
    if value is None or not str(value).strip():
        raise MissingWeightsError(
            f"the paper budget of {method} needs {needs}: pass {hint}, which is {NOT_THE_PAPERS_SETTING}."
        )
    if str(value).strip().lower() == RANDOM_WEIGHTS:
        return None
    path = Path(str(value)).expanduser()
    if path.is_dir():
        found = next((path / n for n in HF_WEIGHT_FILES if (path / n).is_file()), None)
        if found is None:
            raise DataError(f"{setting} folder {path} holds none of {', '.join(HF_WEIGHT_FILES)}; pass {hint}.")
        path = found
    if not path.is_file():
        raise DataError(f"{setting} file {path} does not exist; {method} needs {needs}: pass {hint}.")
    if path.suffix.lower() not in WEIGHT_SUFFIXES:
        raise DataError(f"{setting} file {path.name} has an unknown suffix; use one of {', '.join(WEIGHT_SUFFIXES)}.")
    return path


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def weights_provenance(path: str | Path, sha256: str | None = None) -> str:
    """Text naming a local weights file: ``"local file <name> sha256 <12 hex>"``."""
    path = Path(path)
    return f"local file {path.name} sha256 {(sha256 or file_sha256(path))[:12]}"


def is_random_init(weights_source: Any) -> bool:
    """Whether a run's ``weights_source`` says its pretrained part was randomly initialised.

    True for a backbone left at random init by choice (:data:`NOT_THE_PAPERS_SETTING`), and for a
    text that says "random" and names no loaded file (methods that state it their own way); false
    when a file was loaded, even if other parts (a head, a Transformer trained in the fold) start
    at random as their paper has them.
    """
    if not isinstance(weights_source, str):
        return False
    if NOT_THE_PAPERS_SETTING in weights_source:
        return True
    return "random" in weights_source.lower() and "sha256" not in weights_source


def budget_label(budget: str | None, weights_source: Any) -> str:
    """The budget as boards show it: a ``paper`` run whose pretrained backbone was left at random
    initialisation by choice, or ran other weights than the paper's (:func:`stand_in_source`), is
    never shown as ``paper``."""
    budget = budget or ""
    if budget == "paper" and isinstance(weights_source, str) and NOT_THE_PAPERS_SETTING in weights_source:
        stand_in = _STAND_IN.search(weights_source)
        if stand_in:
            return (
                f"paper budget, {stand_in.group(1).strip()} instead of {stand_in.group(2).strip()} "
                f"({NOT_THE_PAPERS_SETTING})"
            )
        return f"paper budget, random init ({NOT_THE_PAPERS_SETTING})"
    return budget


def weights_paths(settings: dict[str, Any]) -> dict[str, str]:
    """Absolute paths of the local weights files (or Hugging Face folders) named by ``*_weights``
    settings, by setting: what an isolated fold must be shown, read-only, to load them. Only a
    file with a weights suffix or a folder holding a Hugging Face weights file is shown, so a
    setting cannot open a dataset folder to the method."""
    out = {}
    for key, value in settings.items():
        if not key.endswith("_weights") or not isinstance(value, str) or value.strip().lower() == RANDOM_WEIGHTS:
            continue
        path = Path(value).expanduser()
        if path.is_file() and path.name.lower().endswith(WEIGHT_SUFFIXES):
            out[key] = str(path.resolve())
        elif path.is_dir() and any((path / name).is_file() for name in HF_WEIGHT_FILES):
            out[key] = str(path.resolve())
    return out
