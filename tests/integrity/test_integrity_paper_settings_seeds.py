"""Stated settings of the lee2024, hou2024 and li2024 methods follow what the methods run."""

from __future__ import annotations

from benchmark.recipes import RECIPES, resolve_settings
from methods import _resnet_lstm_parts as parts
from methods.pv_contrastive_timesformer import (
    PVContrastiveTimeSformer,
    PVContrastiveTimeSformerNoPretrain,
    PVContrastiveTimeSformerPatientOnly,
)
from methods.resnet_lstm_supcon import ResNetLSTM, ResNetSupCon
from methods.video_ssl_transformer import VideoSSLTransformer


def test_item04_lee2024_stated_lstm_layers_are_the_built_lstm():
    import torch.nn as nn

    model = parts.SequenceClassifier(nn.Identity(), 2, lstm_hidden=8, dropout=0.5)
    assert ResNetLSTM.stated_settings(ResNetLSTM.meta.budgets["paper"])["lstm_layers"] == model.lstm.num_layers
    no_lstm = ResNetSupCon.stated_settings(ResNetSupCon.meta.budgets["paper"])
    assert "lstm_layers" not in no_lstm and no_lstm["optimizer"] == "sgd"
    assert "augmentations" not in ResNetLSTM.stated_settings(ResNetLSTM.meta.budgets["paper"])  # no pre-training


def test_item04_hou2024_class_weight_follows_the_budget():
    paper = dict(VideoSSLTransformer.meta.budgets["paper"])
    assert VideoSSLTransformer.stated_settings(paper)["class_weight"] == "reciprocal"
    assert VideoSSLTransformer.stated_settings({**paper, "class_weighted": False})["class_weight"] == "none"


def test_item04_li2024_pretraining_settings_only_where_there_is_pretraining():
    full = PVContrastiveTimeSformer.stated_settings(PVContrastiveTimeSformer.meta.budgets["paper"])
    assert full["pretrain_loss"] == "video+patient" and full["video_aggregation"] == "vote"
    patient = PVContrastiveTimeSformerPatientOnly.stated_settings(
        PVContrastiveTimeSformerPatientOnly.meta.budgets["paper"]
    )
    assert patient["pretrain_loss"] == "patient"
    none = PVContrastiveTimeSformerNoPretrain.stated_settings(PVContrastiveTimeSformerNoPretrain.meta.budgets["paper"])
    assert "pretrain_loss" not in none and "pretrain_data" not in none and none["frozen_encoder"] is True


def test_item04_leak_free_pretraining_is_a_listed_deviation():
    # The suite keeps test patients out of pre-training; the recipes say so instead of claiming the paper's data.
    for recipe, method in (("hou2024", "video_ssl_transformer"), ("li2024", "pv_contrastive_timesformer")):
        name = f"method.{method}.pretrain_data"
        assert "training patients" in resolve_settings(RECIPES[recipe])[name]
        assert RECIPES[recipe].deviations[name].strip()
