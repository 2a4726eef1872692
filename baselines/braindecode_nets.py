"""Compact convolutional networks from braindecode, trained from scratch on raw windows.

Both nets see raw windows ``(n_chans, n_times)`` after a per-window centring and per-channel robust
scaling fitted on the training windows (:class:`benchmark.torch_utils.InputScaler`), and are trained
with :func:`benchmark.torch_utils.train_classifier` (AdamW, class-weighted cross-entropy, weights of
the epoch with the lowest validation loss kept).

Budgets
-------
``smoke`` is a plumbing check, not a result: 4 epochs on at most 2048 windows per epoch, so a fold of
a few hundred 18 x 2560 windows trains in seconds to tens of seconds on two CPU cores. EEGNet's
temporal kernel is also shortened to 64 samples there, and batch-norm statistics use momentum 0.1 so
they settle within the few steps taken.

``paper`` follows the papers where they state a setting, as noted on each class.

References
----------
Lawhern, V. J., Solon, A. J., Waytowich, N. R., Gordon, S. M., Hung, C. P., & Lance, B. J. (2018).
EEGNet: a compact convolutional neural network for EEG-based brain-computer interfaces. Journal of
Neural Engineering, 15(5), 056013.

Schirrmeister, R. T., Springenberg, J. T., Fiederer, L. D. J., Glasstetter, M., Eggensperger, K.,
Tangermann, M., Hutter, F., Burgard, W., & Ball, T. (2017). Deep learning with convolutional neural
networks for EEG decoding and visualization. Human Brain Mapping, 38(11), 5391-5420.
"""

from __future__ import annotations

from baselines import _braindecode_nets_meta
from benchmark.adapters import register
from benchmark.braindecode_adapter import BraindecodeNet, braindecode_models

# Training, inference and input scaling are those of every braindecode method (benchmark.braindecode_adapter).


@register
class EEGNetAdapter(BraindecodeNet):
    """EEGNet (Lawhern et al. 2018): temporal, depthwise-spatial and separable convolutions.

    Notes
    -----
    ``kernel_length="auto"`` sets the temporal kernel to half the sampling rate (0.5 s), the paper's
    rule (64 samples at 128 Hz). The ``paper`` budget keeps the paper's F1=8, D=2, its max-norm
    constrained dense classifier (norm 0.25, ``final_layer_with_constraint``) and its training:
    Adam at the default learning rate 1e-3 (AdamW with no weight decay is the same optimiser), 500
    epochs, weights of the lowest-validation-loss epoch kept. Dropout 0.25 is the paper's
    cross-subject value; batch-norm momentum 0.01 matches the Keras default of the reference code.
    Batch size 64 is our choice. Pass a ``patience`` override to stop early and bound compute.
    """

    meta = _braindecode_nets_meta.EEGNET

    def _build_net(self, n_chans: int, n_outputs: int, n_times: int, sfreq: float | None):
        p = self._net_params()
        kernel_length = p.pop("kernel_length")
        if kernel_length == "auto":
            kernel_length = 64 if sfreq is None else max(2, int(round(sfreq / 2)))
        return braindecode_models().EEGNet(
            n_chans=n_chans,
            n_outputs=n_outputs,
            n_times=n_times,
            sfreq=sfreq,
            kernel_length=int(kernel_length),
            **p,
        )


@register
class ShallowConvNetAdapter(BraindecodeNet):
    """Shallow ConvNet (Schirrmeister et al. 2017), braindecode's ``ShallowFBCSPNet``.

    Temporal then spatial convolution, squaring, mean pooling and log: a learnable analogue of
    filter-bank common spatial patterns (log band power of spatially filtered signals).

    Notes
    -----
    Architecture as in the paper (40 temporal and 40 spatial filters, 25-sample kernels, pooling 75
    with stride 15, dropout 0.5). ``paper`` training: batch size 60 as in the paper, learning rate
    6.25e-4 without weight decay (braindecode's recommended setting for this network), 300 epochs,
    weights of the lowest-validation-loss epoch kept, a simplification of the paper's two-phase
    early stopping.
    """

    meta = _braindecode_nets_meta.SHALLOW_CONVNET

    def _build_net(self, n_chans: int, n_outputs: int, n_times: int, sfreq: float | None):
        return braindecode_models().ShallowFBCSPNet(
            n_chans=n_chans, n_outputs=n_outputs, n_times=n_times, sfreq=sfreq, **self._net_params()
        )
