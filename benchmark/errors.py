"""User-facing errors.

Every error a user can cause (bad input, missing data, mismatched split files) is raised as a
:class:`BenchmarkError` whose message is one line saying what was wrong and how to fix it. The CLI
prints that line and exits non-zero without a traceback; anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations


class BenchmarkError(Exception):
    """An error caused by input the user can fix; ``str(err)`` is a one-line explanation."""

    exit_code = 2

    def __init__(self, message: str):
        # Fold to one line so the CLI never prints a multi-line wall for user errors.
        super().__init__(" ".join(str(message).split()))


class UnknownNameError(BenchmarkError):
    """An unknown method, dataset, task, protocol or budget name."""


class DataError(BenchmarkError):
    """Missing, unreadable or inconsistent data (directories, EDF files, channels, annotations)."""


class SplitError(BenchmarkError):
    """A split file is missing, malformed, or does not match the dataset it claims to split."""


class StoreError(BenchmarkError):
    """The results store cannot be opened or does not contain what was asked for."""


def did_you_mean(name: str, choices) -> str:
    """Return a ' Did you mean ...?' hint for a mistyped ``name``, or ''."""
    import difflib

    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" Did you mean '{close[0]}'?" if close else ""
