"""Video network building blocks: spatiotemporal backbones, a per-frame encoder and sequence heads.

Backbones
---------
- :class:`InceptionI3d` / :func:`build_i3d`: Inception-v1 inflated to 3D (Carreira & Zisserman
  2017), written from the paper's architecture (Fig. 3 and the Inception-v1 channel table).
  ``features(x)`` gives the 1024-d clip descriptor (Mixed_5c, averaged over time and space).
- :class:`R2Plus1D18` / :func:`build_r2plus1d_18`: torchvision's R(2+1)D-18 (Tran et al. 2018),
  the same modules and state-dict keys as ``torchvision.models.video.r2plus1d_18(weights=None)``;
  ``features(x)`` gives 512 values.
- :class:`TimeSformer`: divided space-time attention (Bertasius et al. 2021) assembled from timm
  ViT pieces (``PatchEmbed``, ``Attention``, ``Mlp``, ``DropPath``); ``forward_features(x)`` gives
  the CLS token.
- :class:`FrameEncoder` / :func:`build_resnet152_frames`: a timm image ResNet applied frame by frame.

Nothing here downloads anything: every network starts from random initialisation and pretrained
weights come only from a local file through :func:`load_weights` (``benchmark.torch_utils``: every
tensor must fit, or the file is refused in one line). State-dict key names follow the common public
checkpoints where one exists (TF-derived names of the PyTorch I3D port, torchvision for R(2+1)D and
ResNet-152, whose names timm's ResNets share, the reference TimeSformer names), so such a file loads
without renaming; Hugging Face TimeSformer checkpoints are renamed by :func:`timesformer_state`.

Heads
-----
:class:`FeatureStandardizer` and :class:`SequenceClassifier` turn a sequence of backbone features
into class logits (the LSTM/GRU stage of the video baselines).

Input layouts: 3D CNNs take ``(B, 3, T, H, W)``; the TimeSformer and the frame encoder take
``(B, T, 3, H, W)`` (the harness's clip layout).

References
----------
Carreira, J., & Zisserman, A. (2017). Quo vadis, action recognition? A new model and the Kinetics
dataset. Proc. CVPR, 6299-6308.

Szegedy, C., Liu, W., Jia, Y., et al. (2015). Going deeper with convolutions. Proc. CVPR, 1-9.

Tran, D., Wang, H., Torresani, L., Ray, J., LeCun, Y., & Paluri, M. (2018). A closer look at
spatiotemporal convolutions for action recognition. Proc. CVPR, 6450-6459.

Bertasius, G., Wang, H., & Torresani, L. (2021). Is space-time attention all you need for video
understanding? Proc. ICML, PMLR 139, 813-824.

He, K., Zhang, X., Ren, S., & Sun, J. (2016). Deep residual learning for image recognition. Proc. CVPR.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models.video.resnet import BasicBlock, Conv2Plus1D, R2Plus1dStem, VideoResNet

from benchmark import torch_utils
from benchmark.efficiency import count_parameters  # noqa: F401  (vb.count_parameters)

log = logging.getLogger(__name__)

#: Normalisation each backbone family was trained with (inputs arrive in [0, 1]).
KINETICS_MEAN = (0.43216, 0.394666, 0.37645)  # torchvision video models
KINETICS_STD = (0.22803, 0.22145, 0.216989)
IMAGENET_MEAN = (0.485, 0.456, 0.406)  # timm ResNets
IMAGENET_STD = (0.229, 0.224, 0.225)


# --------------------------------------------------------------------------------------------
# I3D
# --------------------------------------------------------------------------------------------


def _same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow 'SAME' padding (front, back) so that the output has ``ceil(size / stride)`` steps."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _pad_same(x: torch.Tensor, kernel: Sequence[int], stride: Sequence[int], value: float = 0.0) -> torch.Tensor:
    pads: list[int] = []
    # F.pad lists the last dimension first: (w_front, w_back, h_front, h_back, t_front, t_back).
    for size, k, s in zip(reversed(x.shape[2:]), reversed(kernel), reversed(stride)):
        pads.extend(_same_padding(int(size), k, s))
    if not any(pads):
        return x
    return F.pad(x, pads, value=value)


class MaxPool3dSame(nn.Module):
    """3D max pooling with TensorFlow 'SAME' padding, as in the original I3D."""

    def __init__(self, kernel: Sequence[int], stride: Sequence[int]):
        super().__init__()
        self.kernel, self.stride = tuple(kernel), tuple(stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Padding with -inf never wins the max, so border windows see only real values.
        return F.max_pool3d(_pad_same(x, self.kernel, self.stride, float("-inf")), self.kernel, self.stride)


class Unit3D(nn.Module):
    """Conv3d with 'SAME' padding, then batch norm and ReLU (the I3D unit).

    Attribute names ``conv3d`` and ``bn`` match the widely used PyTorch port of the Kinetics
    checkpoints, so those state dicts load as they are.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: Sequence[int] = (1, 1, 1),
        stride: Sequence[int] = (1, 1, 1),
        batch_norm: bool = True,
        activation: bool = True,
        bias: bool = False,
    ):
        super().__init__()
        self.kernel, self.stride, self.activation = tuple(kernel), tuple(stride), activation
        self.conv3d = nn.Conv3d(in_channels, out_channels, self.kernel, self.stride, padding=0, bias=bias)
        # eps and momentum of the TensorFlow original (momentum 0.01 = decay 0.99).
        self.bn = nn.BatchNorm3d(out_channels, eps=1e-3, momentum=0.01) if batch_norm else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv3d(_pad_same(x, self.kernel, self.stride))
        if self.bn is not None:
            x = self.bn(x)
        return F.relu(x) if self.activation else x


class InceptionBlock3D(nn.Module):
    """Inflated Inception module: 1x1x1, 1x1x1->3x3x3, 1x1x1->3x3x3 and maxpool->1x1x1 branches.

    ``channels = (b0, b1_reduce, b1, b2_reduce, b2, b3)``; the output has ``b0 + b1 + b2 + b3``
    channels (Szegedy et al. 2015, Table 1, with 3x3x3 kernels in place of 3x3 / 5x5).
    """

    def __init__(self, in_channels: int, channels: Sequence[int]):
        super().__init__()
        c0, c1r, c1, c2r, c2, c3 = channels
        self.b0 = Unit3D(in_channels, c0)
        self.b1a = Unit3D(in_channels, c1r)
        self.b1b = Unit3D(c1r, c1, kernel=(3, 3, 3))
        self.b2a = Unit3D(in_channels, c2r)
        self.b2b = Unit3D(c2r, c2, kernel=(3, 3, 3))
        self.b3a = MaxPool3dSame((3, 3, 3), (1, 1, 1))
        self.b3b = Unit3D(in_channels, c3)
        self.out_channels = c0 + c1 + c2 + c3

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), self.b3b(self.b3a(x))], dim=1)


#: (name, channels) of the nine Inception modules of I3D, in order; outputs 256, 480, 512, 512,
#: 512, 528, 832, 832 and 1024 channels. The max pools come before Mixed_4b and Mixed_5b.
I3D_INCEPTION = (
    ("Mixed_3b", (64, 96, 128, 16, 32, 32)),
    ("Mixed_3c", (128, 128, 192, 32, 96, 64)),
    ("Mixed_4b", (192, 96, 208, 16, 48, 64)),
    ("Mixed_4c", (160, 112, 224, 24, 64, 64)),
    ("Mixed_4d", (128, 128, 256, 24, 64, 64)),
    ("Mixed_4e", (112, 144, 288, 32, 64, 64)),
    ("Mixed_4f", (256, 160, 320, 32, 128, 128)),
    ("Mixed_5b", (256, 160, 320, 32, 128, 128)),
    ("Mixed_5c", (384, 192, 384, 48, 128, 128)),
)


class InceptionI3d(nn.Module):
    """Two-stream-free (RGB) I3D: Inception-v1 with every filter and pool inflated to 3D.

    Layers (Carreira & Zisserman 2017, Fig. 3): 7x7x7 convolution with stride 2, 1x3x3 max pool
    (stride 1,2,2), 1x1x1 and 3x3x3 convolutions, 1x3x3 max pool, Mixed_3b-3c, 3x3x3 max pool
    (stride 2), Mixed_4b-4f, 2x2x2 max pool (stride 2), Mixed_5b-5c, 2x7x7 average pool, dropout and
    a 1x1x1 convolution to the logits, averaged over the remaining time steps. On 64 x 224 x 224
    inputs Mixed_5c is 8 x 7 x 7 x 1024. Smaller inputs work: pools shrink to the feature map.

    Parameters
    ----------
    num_classes
        Outputs of the logits layer (400 for Kinetics-400).
    in_channels
        Input channels (3 for RGB, 2 for optical flow).
    dropout
        Dropout before the logits (the paper keeps 0.5).
    """

    STAGES = (
        "Conv3d_1a_7x7",
        "pool_2a",
        "Conv3d_2b_1x1",
        "Conv3d_2c_3x3",
        "pool_3a",
        "Mixed_3b",
        "Mixed_3c",
        "pool_4a",
        "Mixed_4b",
        "Mixed_4c",
        "Mixed_4d",
        "Mixed_4e",
        "Mixed_4f",
        "pool_5a",
        "Mixed_5b",
        "Mixed_5c",
    )
    feature_dim = 1024

    def __init__(self, num_classes: int = 400, in_channels: int = 3, dropout: float = 0.5):
        super().__init__()
        # Module names follow the TF end points so that public checkpoints load as they are.
        self.Conv3d_1a_7x7 = Unit3D(in_channels, 64, kernel=(7, 7, 7), stride=(2, 2, 2))
        self.pool_2a = MaxPool3dSame((1, 3, 3), (1, 2, 2))
        self.Conv3d_2b_1x1 = Unit3D(64, 64)
        self.Conv3d_2c_3x3 = Unit3D(64, 192, kernel=(3, 3, 3))
        self.pool_3a = MaxPool3dSame((1, 3, 3), (1, 2, 2))
        self.pool_4a = MaxPool3dSame((3, 3, 3), (2, 2, 2))
        self.pool_5a = MaxPool3dSame((2, 2, 2), (2, 2, 2))
        channels = 192
        for name, spec in I3D_INCEPTION:
            block = InceptionBlock3D(channels, spec)
            setattr(self, name, block)
            channels = block.out_channels
        self.dropout = nn.Dropout(dropout)
        self.logits = Unit3D(channels, num_classes, batch_norm=False, activation=False, bias=True)
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                # He initialisation keeps activations at a usable scale through the 22 layers of a
                # random-init network, whose features the frozen-backbone baselines may still use.
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm3d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward_stages(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Output of every stage by name, for ``x`` of shape ``(B, C, T, H, W)``."""
        out = {}
        for name in self.STAGES:
            x = getattr(self, name)(x)
            out[name] = x
        return out

    def _trunk(self, x: torch.Tensor) -> torch.Tensor:
        for name in self.STAGES:
            x = getattr(self, name)(x)
        return x

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, 1024)``: Mixed_5c averaged over time and space."""
        return self._trunk(x).mean(dim=(2, 3, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, num_classes)``."""
        x = self._trunk(x)
        t, h, w = x.shape[2:]
        # The paper's 2x7x7 average pool (stride 1); clipped for inputs smaller than 224 px.
        x = F.avg_pool3d(x, (min(2, t), min(7, h), min(7, w)), stride=1)
        x = self.logits(self.dropout(x))
        return x.mean(dim=(2, 3, 4))


def build_i3d(num_classes: int = 400, in_channels: int = 3, dropout: float = 0.5) -> InceptionI3d:
    """I3D with random initialisation (load pretrained weights with :func:`load_weights`)."""
    return InceptionI3d(num_classes=num_classes, in_channels=in_channels, dropout=dropout)


# --------------------------------------------------------------------------------------------
# R(2+1)D-18
# --------------------------------------------------------------------------------------------


class R2Plus1D18(VideoResNet):
    """torchvision's R(2+1)D-18 with a ``features`` method (global average pool, 512 values).

    Built from the same torchvision blocks as ``r2plus1d_18(weights=None)``, so it has identical
    modules, state-dict keys and outputs; a torchvision checkpoint loads as it is.
    """

    feature_dim = 512

    def __init__(self, num_classes: int = 400):
        super().__init__(BasicBlock, [Conv2Plus1D] * 4, [2, 2, 2, 2], R2Plus1dStem, num_classes=num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, 512)`` for ``x`` of shape ``(B, 3, T, H, W)``."""
        x = self.stem(x)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.avgpool(x).flatten(1)


def build_r2plus1d_18(pretrained_path: str | Path | None = None, num_classes: int = 400) -> R2Plus1D18:
    """R(2+1)D-18, random init or weights from a local file (never downloaded)."""
    model = R2Plus1D18(num_classes=num_classes)
    if pretrained_path is not None:
        load_weights(model, pretrained_path)
    return model


# --------------------------------------------------------------------------------------------
# TimeSformer (divided space-time attention)
# --------------------------------------------------------------------------------------------


class DividedSpaceTimeBlock(nn.Module):
    """One TimeSformer block: temporal attention, then spatial attention, then the MLP.

    Temporal attention relates each patch to the patches at the same position in the other frames;
    its output goes through ``temporal_fc`` before the residual addition. Spatial attention then
    runs per frame over the frame's patches plus the CLS token, and the CLS token's updates from
    the frames are averaged (Bertasius et al. 2021, Fig. 1 "Divided Space-Time", Eq. 6-8).
    """

    def __init__(
        self,
        dim: int,
        num_heads: int,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        drop: float = 0.0,
        attn_drop: float = 0.0,
        drop_path: float = 0.0,
    ):
        from timm.layers import DropPath, Mlp
        from timm.models.vision_transformer import Attention

        super().__init__()
        self.temporal_norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.temporal_attn = Attention(dim, num_heads=num_heads, qkv_bias=qkv_bias, attn_drop=attn_drop, proj_drop=drop)
        self.temporal_fc = nn.Linear(dim, dim)
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads=num_heads, qkv_bias=qkv_bias, attn_drop=attn_drop, proj_drop=drop)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, hidden_features=int(dim * mlp_ratio), drop=drop)

    def forward(self, x: torch.Tensor, n_frames: int, n_patches: int) -> torch.Tensor:
        b, _, d = x.shape
        cls, patches = x[:, :1], x[:, 1:]  # patches in (frame, position) order
        # Temporal attention: one sequence of n_frames tokens per spatial position.
        xt = patches.reshape(b, n_frames, n_patches, d).transpose(1, 2).reshape(b * n_patches, n_frames, d)
        rt = self.temporal_fc(self.drop_path(self.temporal_attn(self.temporal_norm1(xt))))
        patches = patches + rt.reshape(b, n_patches, n_frames, d).transpose(1, 2).reshape(b, n_frames * n_patches, d)
        # Spatial attention: one sequence per frame, each with its own copy of the CLS token.
        xs = torch.cat([cls.repeat_interleave(n_frames, dim=0), patches.reshape(b * n_frames, n_patches, d)], dim=1)
        rs = self.drop_path(self.attn(self.norm1(xs)))
        cls_update = rs[:, 0].reshape(b, n_frames, d).mean(dim=1, keepdim=True)
        spatial = torch.cat([cls_update, rs[:, 1:].reshape(b, n_frames * n_patches, d)], dim=1)
        x = torch.cat([cls, patches], dim=1) + spatial
        return x + self.drop_path(self.mlp(self.norm2(x)))


class TimeSformer(nn.Module):
    """TimeSformer with divided space-time attention (Bertasius et al. 2021).

    Frames are cut into ``patch_size`` patches (timm ``PatchEmbed``); tokens get a learned spatial
    position embedding (shared by frames, with the CLS token's) and a learned per-frame time
    embedding; ``depth`` :class:`DividedSpaceTimeBlock` blocks follow, then a final layer norm.
    TimeSformer-Base (224 px, 16-px patches, 8 frames, width 768, depth 12, 12 heads) has about
    121 M parameters with a 400-class head.

    Parameters
    ----------
    img_size, patch_size, num_frames, embed_dim, depth, num_heads, mlp_ratio, qkv_bias
        Architecture; ``num_frames`` sizes the time embedding (other clip lengths interpolate it).
    num_classes
        Size of the linear head of :meth:`forward`; 0 for none (``forward`` returns the features).
    drop_rate, attn_drop_rate, drop_path_rate
        Dropout after embeddings/projections, attention dropout and stochastic depth (linearly
        increasing over blocks up to ``drop_path_rate``).
    in_chans
        Input channels.
    """

    def __init__(
        self,
        img_size: int = 224,
        patch_size: int = 16,
        num_frames: int = 8,
        embed_dim: int = 768,
        depth: int = 12,
        num_heads: int = 12,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        num_classes: int = 400,
        drop_rate: float = 0.0,
        attn_drop_rate: float = 0.0,
        drop_path_rate: float = 0.1,
        in_chans: int = 3,
    ):
        from timm.layers import PatchEmbed, trunc_normal_

        super().__init__()
        self.embed_dim, self.num_frames = embed_dim, num_frames
        self.patch_embed = PatchEmbed(img_size=img_size, patch_size=patch_size, in_chans=in_chans, embed_dim=embed_dim)
        n_patches = self.patch_embed.num_patches
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, n_patches + 1, embed_dim))
        self.time_embed = nn.Parameter(torch.zeros(1, num_frames, embed_dim))
        self.pos_drop = nn.Dropout(drop_rate)
        self.time_drop = nn.Dropout(drop_rate)
        rates = [drop_path_rate * i / (depth - 1) for i in range(depth)] if depth > 1 else [drop_path_rate] * depth
        self.blocks = nn.ModuleList(
            DividedSpaceTimeBlock(embed_dim, num_heads, mlp_ratio, qkv_bias, drop_rate, attn_drop_rate, rate)
            for rate in rates
        )
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)
        self.head = nn.Linear(embed_dim, num_classes) if num_classes > 0 else nn.Identity()

        trunc_normal_(self.pos_embed, std=0.02)
        trunc_normal_(self.cls_token, std=0.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        # Zero temporal projections after the first block: each block then starts as its image-ViT
        # counterpart, which is what lets ImageNet ViT weights initialise the video model.
        for i, block in enumerate(self.blocks):
            if i > 0:
                nn.init.zeros_(block.temporal_fc.weight)
                nn.init.zeros_(block.temporal_fc.bias)

    def _time_embed(self, n_frames: int) -> torch.Tensor:
        if n_frames == self.num_frames:
            return self.time_embed
        # Clips of another length: interpolate the learned embedding along time.
        te = F.interpolate(self.time_embed.transpose(1, 2), size=n_frames, mode="linear", align_corners=False)
        return te.transpose(1, 2)

    def forward_tokens(self, x: torch.Tensor) -> torch.Tensor:
        """All tokens after the final norm: ``(B, 1 + T * N, embed_dim)`` (CLS first, then frame by frame)."""
        if x.dim() != 5:
            raise ValueError(f"TimeSformer expects clips (B, T, C, H, W), got shape {tuple(x.shape)}")
        b, t = x.shape[:2]
        tokens = self.patch_embed(x.flatten(0, 1))  # (B*T, N, D)
        n = tokens.shape[1]
        cls = self.cls_token.expand(tokens.shape[0], -1, -1)
        tokens = self.pos_drop(torch.cat([cls, tokens], dim=1) + self.pos_embed)
        tokens = tokens.reshape(b, t, n + 1, self.embed_dim)
        cls = tokens[:, 0, :1]  # the CLS token is the same in every frame here; keep one
        patches = self.time_drop(tokens[:, :, 1:] + self._time_embed(t).unsqueeze(2))
        x = torch.cat([cls, patches.reshape(b, t * n, self.embed_dim)], dim=1)
        for block in self.blocks:
            x = block(x, t, n)
        return self.norm(x)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """CLS token ``(B, embed_dim)`` for clips ``(B, T, C, H, W)``."""
        return self.forward_tokens(x)[:, 0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.forward_features(x))


# --------------------------------------------------------------------------------------------
# Per-frame 2D encoder
# --------------------------------------------------------------------------------------------


class FrameEncoder(nn.Module):
    """A timm image network applied to every frame: ``(B, T, 3, H, W)`` -> ``(B, T, feature_dim)``.

    ``backbone`` holds the timm model, so a timm/torchvision image checkpoint loads into it with
    ``load_weights(encoder.backbone, path)``.
    """

    def __init__(self, backbone: nn.Module):
        super().__init__()
        self.backbone = backbone
        self.feature_dim = int(backbone.num_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t = x.shape[:2]
        return self.backbone(x.flatten(0, 1)).reshape(b, t, -1)


def build_resnet152_frames(pretrained_path: str | Path | None = None, model_name: str = "resnet152") -> FrameEncoder:
    """Per-frame ResNet from timm without its classifier (``resnet152``: 2048 features per frame).

    ``model_name`` picks a cheaper timm ResNet for smoke runs (e.g. ``"resnet18"``, 512 features).
    """
    import timm

    backbone = timm.create_model(model_name, pretrained=False, num_classes=0)
    if pretrained_path is not None:
        load_weights(backbone, pretrained_path, ignore=RESNET_HEAD)
    return FrameEncoder(backbone)


# --------------------------------------------------------------------------------------------
# Sequence heads
# --------------------------------------------------------------------------------------------


class FeatureStandardizer(nn.Module):
    """Per-feature standardisation with a mean and scale fitted on training features (buffers).

    Frozen-backbone features differ in scale by orders of magnitude between backbones (and between
    random-init and pretrained weights); standardising them lets one learning rate serve all.
    """

    def __init__(self, dim: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("scale", torch.ones(dim))

    @torch.no_grad()
    def fit(self, features: torch.Tensor) -> FeatureStandardizer:
        """Fit on ``(..., dim)`` features (every leading axis is pooled)."""
        flat = features.reshape(-1, features.shape[-1]).double()
        std = flat.std(dim=0, unbiased=False)
        self.mean.copy_(flat.mean(dim=0).float())
        # Constant features (std 0) keep unit scale instead of dividing by zero.
        self.scale.copy_(torch.where(std > 1e-8, std, torch.ones_like(std)).float())
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.scale


class SequenceClassifier(nn.Module):
    """Recurrent classifier over a feature sequence ``(B, L, dim)`` -> logits ``(B, n_classes)``.

    The final hidden state of every layer and direction is concatenated, passed through dropout
    and a linear layer (for a bidirectional RNN, the backward direction's state summarises the
    sequence read from its end).

    Parameters
    ----------
    dim, n_classes
        Feature size and number of classes.
    hidden_size, num_layers, bidirectional
        RNN shape.
    cell
        ``"lstm"`` or ``"gru"``.
    dropout
        Dropout before the linear layer.
    """

    def __init__(
        self,
        dim: int,
        n_classes: int,
        hidden_size: int = 128,
        num_layers: int = 1,
        bidirectional: bool = False,
        cell: str = "lstm",
        dropout: float = 0.0,
    ):
        super().__init__()
        rnn = {"lstm": nn.LSTM, "gru": nn.GRU}.get(cell)
        if rnn is None:
            raise ValueError(f"cell must be 'lstm' or 'gru', got {cell!r}")
        self.cell = cell
        self.rnn = rnn(dim, hidden_size, num_layers=num_layers, batch_first=True, bidirectional=bidirectional)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(hidden_size * num_layers * (2 if bidirectional else 1), n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Always fp32: the head is tiny, and recurrent kernels lack bf16 support on some
        # CUDA/cuDNN builds, which the harness's mixed-precision training would otherwise hit.
        with torch.autocast(device_type=x.device.type, enabled=False):
            _, state = self.rnn(x.float())
            h = state[0] if self.cell == "lstm" else state  # (layers * directions, B, hidden)
            return self.fc(self.dropout(h.transpose(0, 1).flatten(1)))


# --------------------------------------------------------------------------------------------
# Local weights
# --------------------------------------------------------------------------------------------

# One loader for the whole suite (benchmark.torch_utils); re-exported here for the video networks.
WEIGHT_SUFFIXES = torch_utils.WEIGHT_SUFFIXES
file_sha256 = torch_utils.file_sha256
weights_provenance = torch_utils.weights_provenance
read_state_dict = torch_utils.read_state_dict
load_weights = torch_utils.load_weights

#: What a classifier-free network drops from a checkpoint: the ImageNet classifier of a
#: torchvision/timm ResNet, the Kinetics head of a TimeSformer (reference ``head``, Hugging Face
#: ``classifier``).
RESNET_HEAD = ("fc.",)
TIMESFORMER_HEAD = ("head.", "classifier.")

# Hugging Face ``TimesformerModel`` names -> the reference names used here (per block, then global).
_HF_BLOCK = (
    ("temporal_attention.attention.qkv.", "temporal_attn.qkv."),
    ("temporal_attention.output.dense.", "temporal_attn.proj."),
    ("temporal_layernorm.", "temporal_norm1."),
    ("temporal_dense.", "temporal_fc."),
    ("attention.attention.qkv.", "attn.qkv."),
    ("attention.output.dense.", "attn.proj."),
    ("layernorm_before.", "norm1."),
    ("layernorm_after.", "norm2."),
    ("intermediate.dense.", "mlp.fc1."),
    ("output.dense.", "mlp.fc2."),
)
_HF_GLOBAL = {
    "embeddings.cls_token": "cls_token",
    "embeddings.position_embeddings": "pos_embed",
    "embeddings.time_embeddings": "time_embed",
    "embeddings.patch_embeddings.projection.weight": "patch_embed.proj.weight",
    "embeddings.patch_embeddings.projection.bias": "patch_embed.proj.bias",
    "layernorm.weight": "norm.weight",
    "layernorm.bias": "norm.bias",
}


def timesformer_state(state: dict[str, torch.Tensor], own: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A TimeSformer checkpoint in the reference layout of :class:`TimeSformer` (a ``convert`` for
    :func:`load_weights`).

    Hugging Face ``TimesformerModel`` / ``TimesformerForVideoClassification`` keys
    (``timesformer.encoder.layer.N....``) are renamed; the reference (facebookresearch) layout
    passes as it is. A time embedding learnt for another number of frames (e.g. the 8-frame
    Kinetics-400 TimeSformer-Base for longer clips) is interpolated linearly along time, as the
    reference code does when it loads a checkpoint for another clip length.
    """
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        name = key[len("timesformer.") :] if key.startswith("timesformer.") else key
        if name in _HF_GLOBAL:
            name = _HF_GLOBAL[name]
        elif name.startswith("encoder.layer."):
            index, rest = name[len("encoder.layer.") :].split(".", 1)
            for old, new in _HF_BLOCK:
                if rest.startswith(old):
                    rest = new + rest[len(old) :]
                    break
            name = f"blocks.{index}.{rest}"
        out[name] = value
    for key in [k for k in out if k.endswith("time_embed")]:
        target = own.get("time_embed")
        te = out[key]
        if target is not None and te.dim() == 3 and te.shape[2] == target.shape[2] and te.shape[1] != target.shape[1]:
            out[key] = (
                F.interpolate(te.transpose(1, 2).float(), size=target.shape[1], mode="linear", align_corners=False)
                .transpose(1, 2)
                .to(te.dtype)
            )
    return out
