"""Published methods, one adapter module each.

Importing this package registers every in-tree method with :mod:`benchmark.adapters`. The four
seed methods (ResNet-LSTM with supervised contrastive pre-training, DistilCLIP-EEG, the
denoising-pretrained video Transformer and the patient/video-level contrastive TimeSformer) are
added here as their adapters land.
"""

from methods import (
    distilclip_eeg,  # noqa: F401
    pv_contrastive_timesformer,  # noqa: F401
    resnet_lstm_supcon,  # noqa: F401  (importing registers the methods)
    video_ssl_transformer,  # noqa: F401
)
