"""The plain-words verdict on training curves (pure Python)."""
from __future__ import annotations

import math

import pytest

from nnmagics.training.history import HistoryDict, TrainHistory
from nnmagics.training.verdict import verdict


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
    result = verdict({"loss": [1.0, 0.7, 0.5, 0.4], "val_loss": [1.0, 0.8, 0.6, 0.5]})
    assert result.kind == "converging"
    assert result.best_epoch == 4
    assert "still improving" in result.text


# -- issue 12: honest words (the course's divergence, too few epochs, never "still improving" when worse) --
def test_the_issues_case_validation_accuracy_falls_while_training_accuracy_rises():
    history = {"loss": [0.69, 0.62, 0.55, 0.45, 0.35], "accuracy": [0.55, 0.64, 0.70, 0.80, 0.88],
               "val_loss": [0.69, 0.66, 0.62, 0.64, 0.70], "val_accuracy": [0.55, 0.65, 0.72, 0.60, 0.52]}
    result = verdict(history)
    assert (result.kind, result.best_epoch, result.from_epoch) == ("over-fitting", 3, 4)
    assert "0.72 → 0.52" in result.text and "training accuracy kept rising" in result.text
    assert "diverge" in result.text and "still improving" not in result.text


def test_over_fitting_seen_in_accuracy_even_while_validation_loss_still_falls():
    history = {"loss": [0.69, 0.6, 0.5, 0.4, 0.3, 0.2], "acc": [0.55, 0.65, 0.72, 0.8, 0.88, 0.94],
               "val_loss": [0.69, 0.60, 0.55, 0.53, 0.52, 0.51], "val_acc": [0.60, 0.72, 0.70, 0.62, 0.56, 0.52]}
    result = verdict(history)                     # the course's names (acc, val_acc) are read too
    assert (result.kind, result.best_epoch, result.from_epoch) == ("over-fitting", 2, 3)
    assert "validation accuracy fell 0.72 → 0.52" in result.text


def test_validation_accuracy_stalled_far_below_a_rising_training_accuracy_is_over_fitting():
    history = {"loss": [0.6, 0.4, 0.3, 0.2, 0.12, 0.08, 0.05],
               "accuracy": [0.70, 0.80, 0.88, 0.93, 0.96, 0.98, 0.99],
               "val_loss": [0.62, 0.58, 0.56, 0.555, 0.55, 0.549, 0.548],
               "val_accuracy": [0.66, 0.70, 0.71, 0.70, 0.72, 0.71, 0.70]}
    result = verdict(history)
    assert result.kind == "over-fitting" and result.from_epoch == 3 and result.best_epoch == 5
    assert "stalled near 0.70 since epoch 2" in result.text
    close = dict(history, accuracy=[0.70, 0.72, 0.73, 0.74, 0.75, 0.76, 0.77])   # the curves stay together
    assert verdict(close).kind == "converging"


@pytest.mark.parametrize("epochs", [1, 2, 3])
def test_too_few_epochs_are_too_early_to_judge(epochs):
    history = {"loss": [0.9, 0.6, 0.5][:epochs], "val_loss": [0.6, 0.66, 0.7][:epochs]}
    result = verdict(history)
    assert result.kind == "too early" and not result.warning
    assert f"after {epochs} epoch" in result.text and "train at least 4" in result.text
    assert "Converging" not in result.text and "still improving" not in result.text
    if epochs > 1:
        assert "already rising" in result.text


def test_never_still_improving_when_validation_got_worse():
    result = verdict({"loss": [1.0, 0.7, 0.5, 0.35], "val_loss": [1.0, 0.8, 0.6, 0.66]})
    assert result.kind == "converging"                    # one bad epoch is not yet over-fitting…
    assert "still improving" not in result.text           # …but it is said
    assert "validation loss rose after epoch 3 (0.6 → 0.66)" in result.text


def test_a_noisy_validation_plateau_is_not_over_fitting():
    history = {"loss": [0.9, 0.7, 0.6, 0.55, 0.5, 0.47, 0.45, 0.43],
               "val_loss": [0.8, 0.55, 0.45, 0.47, 0.44, 0.46, 0.45, 0.455]}
    result = verdict(history)
    assert result.kind == "converging"
    assert "has not improved since epoch 5" in result.text and "still improving" not in result.text


def test_one_bad_validation_epoch_is_noise_not_over_fitting():
    spike = {"loss": [0.9, 0.7, 0.55, 0.45, 0.38, 0.33, 0.3], "val_loss": [0.8, 0.6, 0.5, 0.45, 0.62, 0.44, 0.43]}
    assert verdict(spike).kind == "converging"
    lucky_end = {"loss": [0.9, 0.7, 0.55, 0.45, 0.38, 0.33], "val_loss": [0.8, 0.5, 0.45, 0.6, 0.7, 0.44]}
    assert verdict(lucky_end).kind == "converging"        # the last epoch is the best: not over-fitting
    assert verdict(dict(lucky_end, val_loss=[0.8, 0.5, 0.45, 0.6, 0.7, 0.75])).kind == "over-fitting"


def test_validation_added_in_a_later_fit_is_judged_on_its_own_epochs():
    nan = float("nan")
    history = {"loss": [1.0, 0.8, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1],
               "val_loss": [nan, nan, 0.7, 0.6, 0.55, 0.62, 0.7, 0.8]}
    result = verdict(history)
    assert (result.kind, result.best_epoch, result.from_epoch) == ("over-fitting", 5, 6)


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
