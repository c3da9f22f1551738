"""Typed fit options and the checks that run before anything trains.

``FitOptions`` is what ``train`` was asked, each value parsed once (from text too: the magic passes
its arguments as typed) with the checks of ``nnmagics.checks``. ``--epochs`` is always the number
of epochs *this* call runs, whichever way the model trains.

Example::

    options = FitOptions.parse(epochs="20", batch_size=32, val_split="0.2")
    options.epochs, options.val_split            # (20, 0.2)
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Iterable

from ..checks import (check_data, check_model, model_input_shape, number_in_range, optional_whole_number,
                      positive_number, shape_fits, whole_number)
from ..errors import NNUsageError
from ..i18n import _


@dataclass(frozen=True)
class FitOptions:
    """What one ``train`` call was asked (checked values; ``None`` = left out)."""

    epochs: int = 10                      # epochs run by this call (a continued history adds them)
    batch_size: int | None = None
    steps_per_epoch: int | None = None
    validation_steps: int | None = None
    early_stop: int | None = None         # patience, in epochs
    val_split: float | None = None
    lr: float | None = None
    momentum: float | None = None
    seed: int | None = None
    augment: bool = False
    checkpoint: str | None = None         # the ``.weights.h5`` path once ``check_training`` checked it

    @classmethod
    def parse(cls, *, epochs: Any = 10, batch_size: Any = None, steps_per_epoch: Any = None,
              validation_steps: Any = None, early_stop: Any = None, val_split: Any = None, lr: Any = None,
              seed: Any = None, augment: bool = False, checkpoint: Any = None, momentum: Any = None) -> "FitOptions":
        """Check and convert each option (numbers or their text), else one sentence naming the option.

        Example::

            FitOptions.parse(epochs="ten")    # NNUsageError: --epochs must be a positive whole number, not 'ten'.
        """
        if checkpoint is not None and not str(checkpoint).strip():
            raise NNUsageError(_("--checkpoint needs a file path, e.g. --checkpoint best.weights.h5."))
        epochs, batch_size, steps_per_epoch, validation_steps, early_stop, val_split, lr, seed, momentum = map(
            _number, (epochs, batch_size, steps_per_epoch, validation_steps, early_stop, val_split, lr, seed, momentum))
        return cls(
            epochs=whole_number(epochs, "--epochs", example="--epochs 20"),
            batch_size=optional_whole_number(batch_size, "--batch-size", example="--batch-size 32"),
            steps_per_epoch=optional_whole_number(steps_per_epoch, "--steps-per-epoch"),
            validation_steps=optional_whole_number(validation_steps, "--validation-steps"),
            early_stop=optional_whole_number(early_stop, _("--early-stop (patience in epochs)"), example="--early-stop 5"),
            val_split=None if val_split is None else number_in_range(
                val_split, "--val-split", low=0, high=1, low_inclusive=False, high_inclusive=False, example="0.2"),
            lr=None if lr is None else positive_number(lr, _("--lr, the learning rate"), example="0.001"),
            momentum=None if momentum is None else number_in_range(
                momentum, "--momentum", low=0, high=1, high_inclusive=False, example="0.9"),
            seed=optional_whole_number(seed, "--seed", minimum=0),
            augment=bool(augment),
            checkpoint=None if checkpoint is None else str(checkpoint),
        )

    @property
    def repeat(self) -> bool:
        """Whether the training batches repeat (a fixed number of steps per epoch)."""
        return self.steps_per_epoch is not None


def _number(value: Any) -> Any:
    """Text that reads as a number becomes that number (so a refusal shows ``0``, not ``'0'``); the rest is kept."""
    if not isinstance(value, str):
        return value
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number.is_integer() and "." not in value and "e" not in value.lower() else number


def check_training(model, data, options: FitOptions, model_name: str, data_name: str) -> FitOptions:
    """Check the model/data pair and the options that depend on them; returns ``options`` with the
    checkpoint path checked (writable, room for the weights).

    Example::

        options = check_training(model, data4, FitOptions.parse(checkpoint="best"), "model", "data4")
        options.checkpoint          # 'best.weights.h5'
    """
    check_model(model, f"'{model_name}'")
    check_data(data, f"'{data_name}'")
    if options.augment and data.kind != "images":
        raise NNUsageError(_("--augment applies to image data but '{data}' is a table.").format(data=data_name))
    if options.augment and _has_augmentation(model):
        raise NNUsageError(_("Model '{model}' already contains augmentation layers; leave out --augment "
                             "(or build the model without 'augment').").format(model=model_name))
    check_fit(model, data, model_name, data_name)
    check_outputs(model, data, model_name, data_name)
    if options.checkpoint is None:
        return options
    from ..model.weights_io import check_writable, weights_bytes

    return replace(options, checkpoint=check_writable(options.checkpoint, "--checkpoint", weights_bytes(model)))


def check_callbacks(callbacks: Any) -> list:
    """``callbacks`` (a callback, or lists of them) as one flat list of Keras callbacks, else one sentence.

    Example::

        check_callbacks([keras.callbacks.CSVLogger("log.csv")])
    """
    import keras

    found = []
    for item in _flatten(callbacks):
        if not isinstance(item, keras.callbacks.Callback):
            raise NNUsageError(_("A {type} is not a Keras callback; give objects such as "
                                 "keras.callbacks.CSVLogger('log.csv') or keras.callbacks.TensorBoard('logs').").format(
                type=type(item).__name__))
        found.append(item)
    return found


def _flatten(items: Any) -> Iterable:
    if items is None:
        return
    if isinstance(items, (list, tuple)):
        for item in items:
            yield from _flatten(item)
    else:
        yield items


def _has_augmentation(model) -> bool:
    from ..checks import all_layers

    # Keras' separate augmentation layers, or nnmagics' fused one (the `augment` layer kind)
    return any(type(layer).__name__.startswith("Random") or type(layer).__name__ == "FusedAugment"
               for layer in all_layers(model))


def describe_data(data) -> str:
    """``'images 150×150×3'`` or ``'a table of 2 feature(s)'``."""
    if data.kind == "images":
        h, w = data.image_size if hasattr(data, "image_size") else data.input_shape[:2]
        return _("images {h}×{w}×3").format(h=h, w=w)
    return _("a table of {n} feature(s)").format(n=data.input_shape[0])


def input_shape(model) -> tuple | None:
    """The model's input shape (no batch axis): Keras' own, else the specs nnmagics built it from."""
    shape = model_input_shape(model)
    if shape is None:
        from ..model.build import specs_of

        specs = specs_of(model)
        if specs:
            shape = tuple(specs[0].shape)
    return shape


def check_fit(model, data, model_name: str, data_name: str) -> None:
    """Raise a NNUsageError when the model's input cannot take ``data`` (kind or shape)."""
    wanted = input_shape(model)
    got = tuple(data.input_shape)
    if wanted is None or shape_fits(wanted, got):
        return
    if len(wanted) != len(got):
        if len(wanted) == 3:
            sentence = _("Model '{model}' takes images (input {shape}) but '{data}' holds {what}; {fix}.")
        elif len(wanted) == 1:
            sentence = _("Model '{model}' takes tables (input {shape}) but '{data}' holds {what}; {fix}.")
        else:
            sentence = _("Model '{model}' takes inputs of shape {wanted} (input {shape}) but '{data}' holds {what}; "
                         "{fix}.")
        fix = (_("build an image model, e.g. %nn_build cnn --preset course-cnn --from {data}")
               if data.kind == "images" else _("build a dense model, e.g. %nn_build model --preset course-dense --from {data}"))
        raise NNUsageError(sentence.format(model=model_name, wanted=wanted, shape=_shape(wanted), data=data_name,
                                           what=describe_data(data), fix=fix.format(data=data_name)))
    if data.kind == "images":
        sentence = _("Model '{model}' expects input {wanted} but '{data}' gives {got}; load the images with "
                     "--image-size {height}x{width} or rebuild the model with --from {data}.")
    else:
        sentence = _("Model '{model}' expects input {wanted} but '{data}' gives {got}; choose the features with "
                     "--features or rebuild the model with --from {data}.")
    raise NNUsageError(sentence.format(model=model_name, wanted=_shape(wanted), data=data_name, got=_shape(got),
                                       height=wanted[0], width=wanted[1] if len(wanted) > 1 else ""))


def _shape(shape) -> str:
    return "×".join("?" if d is None else str(d) for d in shape)


def check_outputs(model, data, model_name: str, data_name: str) -> None:
    """Raise when the number of output units cannot match the number of classes."""
    from ..model.compile import output_info

    units = output_info(model).units
    k = data.num_classes
    if units is None or units == k or (units == 1 and k == 2):
        return
    fix = "dense 1 sigmoid" if k == 2 else f"dense {k} softmax"
    raise NNUsageError(_("Model '{model}' ends with {units} unit(s) but '{data}' has {k} classes ({names}); end the "
                         "model with {fix} (or build it with --from {data}).").format(
        model=model_name, units=units, data=data_name, k=k, names=", ".join(map(str, data.class_names)), fix=fix))


def check_validation(train_data, val_data, train_name: str, val_name: str) -> None:
    """Same kind and same classes (same order) on both sides, else a NNUsageError."""
    check_data(val_data, f"'{val_name}'")
    if val_data.kind != train_data.kind:
        raise NNUsageError(_("Validation data '{val}' is {val_what} but training data '{train}' is {train_what}; "
                             "give validation data of the same kind.").format(
            val=val_name, val_what=describe_data(val_data), train=train_name, train_what=describe_data(train_data)))
    if list(map(str, val_data.class_names)) != list(map(str, train_data.class_names)):
        raise NNUsageError(_("Validation data '{val}' has classes {val_classes} but training data '{train}' has "
                             "{train_classes}; use folders/labels with the same classes.").format(
            val=val_name, val_classes=list(val_data.class_names), train=train_name,
            train_classes=list(train_data.class_names)))
    if tuple(val_data.input_shape) != tuple(train_data.input_shape):
        raise NNUsageError(_("Validation data '{val}' gives {val_shape} but training data '{train}' gives "
                             "{train_shape}; load both with the same size/features.").format(
            val=val_name, val_shape=_shape(val_data.input_shape), train=train_name,
            train_shape=_shape(train_data.input_shape)))
