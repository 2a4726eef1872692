"""Static HTML report of the results store: leaderboards, run pages, reported results.

Use :func:`build_report`; ``seizure-bench report [--out DIR]`` calls it.
"""

from benchmark.report.build import build_report

__all__ = ["build_report"]
