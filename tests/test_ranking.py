"""The one ranking rule the boards and `results list` share (benchmark.ranking)."""

from __future__ import annotations

import math

from benchmark.ranking import VIDEO_CLASS_BALANCED, choose_primary, primary_score


def test_primary_score_takes_the_tasks_first_ranking_metric_it_has():
    means = {"accuracy": 0.9, "roc_auc": 0.8, "balanced_accuracy": 0.6, "recall:FNSZ": 0.1}
    assert primary_score("prediction", means) == ("balanced_accuracy", 0.6)
    assert primary_score("prediction", {"accuracy": 0.9, "roc_auc": 0.8}) == ("roc_auc", 0.8)


def test_video_sets_are_scored_by_the_class_balanced_mean_the_boards_derive():
    means = {"video_accuracy": 0.9, "video_sensitivity": 0.8, "video_specificity": 0.2, "video_roc_auc": 0.7}
    assert primary_score("classification", means) == (VIDEO_CLASS_BALANCED, 0.5)
    # Without specificity nothing is derived: the next metric of the rule.
    assert primary_score("classification", {"video_sensitivity": 0.8, "video_roc_auc": 0.7}) == ("video_roc_auc", 0.7)


def test_unknown_task_falls_back_to_what_every_set_shares():
    assert choose_primary("no-such-task", ["accuracy", "f1"], [{"accuracy": 0.5, "f1": 0.1}]) == "accuracy"
    shared = [{"accuracy": math.nan, "f1": 0.2}, {"f1": 0.3}]
    assert choose_primary("no-such-task", ["accuracy", "f1"], shared) == "f1"
    metric, value = primary_score("prediction", {})
    assert metric == "" and math.isnan(value)
