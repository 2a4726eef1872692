"""Published methods, one adapter module each.

Importing this package declares every in-tree method with :mod:`benchmark.adapters` from its light
metadata module (``_<module>_meta.py``); the adapter module itself (torch, timm, ...) is imported
when the registry first needs the method's class. The four seed methods (ResNet-LSTM with
supervised contrastive pre-training, DistilCLIP-EEG, the denoising-pretrained video Transformer and
the patient/video-level contrastive TimeSformer) are added here as their adapters land.
"""

from methods import (  # noqa: F401  (importing declares the methods)
    _distilclip_eeg_meta,
    _pv_contrastive_timesformer_meta,
    _resnet_lstm_supcon_meta,
    _video_ssl_transformer_meta,
)
