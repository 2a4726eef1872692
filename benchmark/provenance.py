"""Provenance of a run: package versions, git commit, hardware and device."""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import os
import platform
import socket
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

# Top-level packages of this repository that hold methods: their code is "in-tree seizure-bench".
IN_TREE_PACKAGES = ("methods", "baselines", "benchmark")

PACKAGES = ("seizure-bench", "torch", "numpy", "scipy", "pandas", "scikit-learn", "mne", "braindecode", "timm")


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_commit(path: Path | None = None) -> str:
    """Commit of the checkout the harness runs from (``+dirty`` when it has local changes)."""
    cwd = Path(path or Path(__file__).resolve().parent)
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
        return commit + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def hardware(device: str) -> dict[str, Any]:
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "device": device,
    }
    try:
        import torch

        info["torch_threads"] = torch.get_num_threads()
        if device.startswith("cuda") and torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
    except ImportError:  # pragma: no cover - torch is a hard dependency
        pass
    return info


def resolve_device(device: str = "auto") -> str:
    """``auto`` picks CUDA when present, else CPU; an unusable device is a one-line error."""
    if device == "cpu":
        return device  # without importing torch: plan asks for the CPU
    import re

    import torch

    from benchmark.errors import BenchmarkError

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if re.fullmatch(r"cuda(:\d+)?", device):
        if not torch.cuda.is_available():
            raise BenchmarkError(f"--device {device}: no CUDA GPU is visible to PyTorch; use --device cpu or auto.")
        return device
    raise BenchmarkError(f"unknown --device '{device}'; use auto, cpu, cuda or cuda:N.")


def command_line() -> str:
    return " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])


def method_code(cls: type) -> dict[str, Any]:
    """What code a method runs: the distribution providing it, its version, and a hash of its source.

    The hashed source is every ``.py`` file of the top-level package the method class lives in
    (``methods`` or ``baselines`` in-tree, a plug-in's own package; the single file of a plug-in
    that is a bare module), as ``sha256`` over the sorted relative paths and file contents, so the
    same code gives the same hash on every machine and any edit gives another. A run's id includes
    it: folds trained by other code are never mixed into one run.
    """
    top = cls.__module__.split(".")[0]
    code = dict(_package_code(top))
    code["package"] = top
    return code


@functools.cache
def _package_code(top: str) -> tuple[tuple[str, str], ...]:
    # Computed once per process and package: hashing a package's files is cheap but not free.
    if top in IN_TREE_PACKAGES:
        dist = "in-tree seizure-bench"
        version = _version("seizure-bench")
    else:
        dists = metadata.packages_distributions().get(top) or []
        dist = dists[0] if dists else "not installed"
        version = _version(dist) if dists else "unknown"
    return (("distribution", dist), ("version", version), ("source_sha256", _source_hash(top)))


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def _source_hash(top: str) -> str:
    # Found, not imported, when not imported yet: a plug-in of an isolated run never runs in the harness.
    module = sys.modules.get(top)
    try:
        spec = getattr(module, "__spec__", None) if module is not None else importlib.util.find_spec(top)
    except (ImportError, ValueError):
        spec = None
    roots = [Path(p) for p in getattr(module, "__path__", None) or (spec and spec.submodule_search_locations) or []]
    origin = getattr(module, "__file__", None) or (spec.origin if spec is not None and spec.has_location else None)
    if roots:
        files = sorted({(f.relative_to(root).as_posix(), f) for root in roots for f in root.rglob("*.py")})
    elif origin:
        f = Path(origin)
        files = [(f.name, f)]
    else:  # defined in __main__ or built at run time: no file to hash
        return "unavailable"
    h = hashlib.sha256()
    for rel, f in files:
        data = f.read_bytes()
        h.update(f"{rel}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()


def process_info() -> dict[str, Any]:
    """This process as a run records it (host, pid, start time), to tell a live run from a dead one."""
    return {"host": socket.gethostname(), "pid": os.getpid(), "started": process_start_time(os.getpid())}


def process_start_time(pid: int) -> float | None:
    """Start time of a live process (seconds since the epoch), ``None`` when there is none."""
    try:
        import psutil

        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        return round(proc.create_time(), 2)
    except Exception:  # no such process, or psutil unavailable
        return None
