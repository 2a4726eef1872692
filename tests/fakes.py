"""Test helpers: tiny SYNTHETIC window sets (re-exported from :mod:`benchmark.fake_data`).

``make_windowset(n=64, n_chans=4, n_times=256, sfreq=128, representation="raw", seed=0,
learnable=True, labels=True)`` gives windows where class 1 carries an extra 5-7 Hz rhythm, so a
reasonable model learns to separate the classes; ``labels=False`` gives a test-style set (``y=None``).
"""

from benchmark.fake_data import DEFAULT_CLASSES, make_labels, make_raw_windows, make_windowset

__all__ = ["DEFAULT_CLASSES", "make_labels", "make_raw_windows", "make_windowset"]
