"""seizure-bench: the harness of a leak-free benchmark for seizure prediction and detection.

Data flow, one way: dataset (:mod:`benchmark.datasets`) -> task labels (:mod:`benchmark.tasks`)
-> split (:mod:`benchmark.splits`) -> windows/features (:mod:`benchmark.windows`,
:mod:`benchmark.features`) -> adapter (:mod:`benchmark.adapters`) -> scores -> metrics
(:mod:`benchmark.metrics`, :mod:`benchmark.stats`) -> store (:mod:`benchmark.store`) -> report
(:mod:`benchmark.report`). :mod:`benchmark.runner` drives one run; :mod:`benchmark.cli` is the
``seizure-bench`` command.
"""

import os as _os
import sys as _sys
import types as _types
from importlib import metadata as _metadata

from benchmark.threads import choose_wait_policy as _choose_wait_policy

# Same seed, same numbers on CPU: by default MKL picks its thread count from the machine's load and
# its code path from the CPU, so sums may be ordered differently from run to run. These must be set
# before torch loads MKL, hence here; a user's own settings win.
_os.environ.setdefault("MKL_DYNAMIC", "FALSE")
_os.environ.setdefault("MKL_CBWR", "AUTO")
# On a busy machine idle OpenMP threads sleep instead of spinning, so a run does not burn the CPU
# other work and its own working threads need (benchmark.threads, which imports only the standard library).
_choose_wait_policy()

try:
    __version__ = _metadata.version("seizure-bench")
except _metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

# The Python API (benchmark.api) needs pandas, so it is imported on first use: `import benchmark`
# and the instant commands stay light.
_API = ("evaluate", "load_results", "compare", "load_index")
# Any scikit-learn estimator or braindecode model class as a method; imported on first use too.
_WRAPPERS = {"SklearnAdapter": "benchmark.sklearn_adapter", "BraindecodeAdapter": "benchmark.braindecode_adapter"}
__all__ = ["__version__", *_API, *_WRAPPERS]


def __getattr__(name: str):
    if name in _API:
        from benchmark import api

        return getattr(api, name)
    if name in _WRAPPERS:
        import importlib

        return getattr(importlib.import_module(_WRAPPERS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API) | set(_WRAPPERS))


class _Package(_types.ModuleType):
    # benchmark/compare.py is also a submodule named `compare`; importing it sets the package's
    # attribute to the module, which would hide the API's compare(). This property wins over the
    # attribute, so `benchmark.compare` is the function whatever was imported first (the submodule
    # itself stays importable: `from benchmark.compare import compare_many`).
    @property
    def compare(self):
        from benchmark.api import compare

        return compare

    @compare.setter
    def compare(self, value) -> None:
        pass  # the import system's setattr of the submodule


_sys.modules[__name__].__class__ = _Package
