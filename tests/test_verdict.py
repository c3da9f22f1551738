"""The plain-words verdict on training curves (pure Python)."""
from __future__ import annotations

import math

from nnmagics.history import HistoryDict, TrainHistory
from nnmagics.verdict import verdict


def test_not_trained_when_empty():
    assert verdict({}).kind == "not trained"
    assert verdict({"loss": []}).kind == "not trained"


def test_over_fitting_from_the_epoch_after_the_best_validation_loss():
    history = {"loss": [0.9, 0.6, 0.45, 0.35, 0.25, 0.15],
               "val_loss": [0.8, 0.6, 0.55, 0.60, 0.66, 0.75]}
    result = verdict(history)
    assert result.kind == "over-fitting"
    assert result.best_epoch == 3
    assert result.from_epoch == 4
    assert "epoch 4" in result.text and "0.55" in result.text
    assert result.warning


def test_a_short_rise_is_not_yet_over_fitting():
    history = {"loss": [0.9, 0.6, 0.45, 0.35], "val_loss": [0.8, 0.6, 0.55, 0.60]}
    assert verdict(history).kind == "converging"
    assert verdict(history, patience=1).kind == "over-fitting"


def test_rising_validation_loss_with_rising_training_loss_is_not_over_fitting():
    history = {"loss": [0.5, 0.4, 0.45, 0.5, 0.55], "val_loss": [0.5, 0.4, 0.45, 0.5, 0.55]}
    assert verdict(history).kind != "over-fitting"


def test_noise_within_tolerance_is_converging():
    history = {"loss": [0.9, 0.5, 0.4, 0.35, 0.3, 0.28],
               "val_loss": [0.8, 0.5, 0.45, 0.4501, 0.4502, 0.4503]}
    assert verdict(history).kind == "converging"


def test_under_fitting_when_training_loss_hardly_moves():
    result = verdict({"loss": [1.10, 1.09, 1.08, 1.07], "val_loss": [1.1, 1.09, 1.085, 1.08]})
    assert result.kind == "under-fitting"
    assert "hardly improves" in result.text


def test_diverged_training_is_reported():
    result = verdict({"loss": [0.9, float("nan"), float("nan")]})
    assert result.kind == "under-fitting"
    assert "NaN" in result.text and "epoch 2" in result.text


def test_converging_names_best_epoch_and_still_improving():
    result = verdict({"loss": [1.0, 0.7, 0.5], "val_loss": [1.0, 0.8, 0.6]})
    assert result.kind == "converging"
    assert result.best_epoch == 3
    assert "still improving" in result.text


def test_without_validation_the_best_epoch_is_the_lowest_training_loss():
    result = verdict({"loss": [1.0, 0.5, 0.6, 0.55]})
    assert result.kind == "converging" and result.best_epoch == 2


def test_accepts_history_objects():
    history = TrainHistory()
    for i, (loss, val) in enumerate([(0.9, 0.8), (0.5, 0.5), (0.3, 0.6), (0.2, 0.7), (0.1, 0.8)]):
        history.record(i, {"loss": loss, "val_loss": val})
    assert verdict(history).kind == "over-fitting"
    assert history.verdict().from_epoch == 3


def test_history_dict_aliases_acc_and_accuracy():
    h = HistoryDict(accuracy=[0.5, 0.7], val_accuracy=[0.4, 0.6])
    assert h["acc"] == [0.5, 0.7] and h["val_acc"] == [0.4, 0.6]
    assert "acc" in h and h.get("val_acc") == [0.4, 0.6]
    assert list(h) == ["accuracy", "val_accuracy"]  # aliases are not listed twice
    assert "auc" not in h and h.get("auc") is None


def test_history_pads_missing_values_so_lists_stay_aligned():
    history = TrainHistory()
    history.record(0, {"loss": 1.0})
    history.record(1, {"loss": 0.5, "val_loss": 0.6})
    assert history.history["loss"] == [1.0, 0.5]
    assert math.isnan(history.history["val_loss"][0]) and history.history["val_loss"][1] == 0.6
    assert history.epoch == [0, 1]
