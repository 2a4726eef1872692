"""Synthetic datasets: generated, deterministic stand-ins for data that cannot be shipped.

Each generator writes a real dataset layout that the real loader reads, labelled synthetic:

* :mod:`.chbmit` – ``chbmit-synthetic``, EEG in the CHB-MIT layout (the default synthetic dataset,
  whose API this package re-exports: ``SyntheticConfig``, ``generate``, ``ensure_synthetic``);
* :mod:`.tusz` – ``tusz-synthetic``, seizure types in the TUSZ v2 layout;
* :mod:`.video` – ``video-synthetic``, seizure videos in the video-folder layout;
* :mod:`.eeg` – the scalp EEG signal model the two EEG generators share;
* :mod:`._setup` – what every generator shares: config key, generate-once cache folder, marker file.
"""

from benchmark.datasets.synthetic.chbmit import (
    DATASET_NAME,
    GENERATOR_VERSION,
    SyntheticConfig,
    default_cache_dir,
    ensure_synthetic,
    generate,
)

__all__ = ["DATASET_NAME", "GENERATOR_VERSION", "SyntheticConfig", "default_cache_dir", "ensure_synthetic", "generate"]
