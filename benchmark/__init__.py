"""seizure-bench: the harness of a leak-free benchmark for seizure prediction and detection.

Data flow, one way: dataset (:mod:`benchmark.datasets`) -> task labels (:mod:`benchmark.tasks`)
-> split (:mod:`benchmark.splits`) -> windows/features (:mod:`benchmark.windows`,
:mod:`benchmark.features`) -> adapter (:mod:`benchmark.adapters`) -> scores -> metrics
(:mod:`benchmark.metrics`, :mod:`benchmark.stats`) -> store (:mod:`benchmark.store`) -> report
(:mod:`benchmark.report`). :mod:`benchmark.runner` drives one run; :mod:`benchmark.cli` is the
``seizure-bench`` command.
"""

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("seizure-bench")
except _metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"
