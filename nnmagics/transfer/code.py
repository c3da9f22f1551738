"""The plain Keras code of a transfer model: what ``%vgg_transfer build … --code`` prints *and* what runs.

:func:`build_code` writes the code from a :class:`TransferSpec` whose values are all checked
(whole numbers, a fraction, a Python identifier, a file path written with ``repr``);
:func:`nnmagics.transfer.models.vgg_transfer` runs that very code, so the printed code cannot
drift from the model. The only difference: printed, ImageNet weights read ``weights="imagenet"``
(Keras' cache), where the run gives Keras the path of that same cached file.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..i18n import N_, _

TOP_SIZE = (224, 224)

IMPORTS = """\
import keras
from keras import layers
from keras.applications.vgg16 import VGG16, preprocess_input
"""

# the docstring of the printed class, translated where the code is printed (its English is in the class below)
PREPROCESS_DOC = N_("""VGG16's preprocess_input as a layer: RGB to BGR, minus ImageNet's mean pixel.

    Inside the model, so that it predicts on raw 0-255 pixels (a Lambda layer would not
    reload from a .keras file).""")

# the class nnmagics' models use (models.VGG16Preprocess), as the printed code defines it
PREPROCESS_CLASS = '''\
@keras.saving.register_keras_serializable(package="nnmagics")
class VGG16Preprocess(layers.Layer):
    """VGG16's preprocess_input as a layer: RGB to BGR, minus ImageNet's mean pixel.

    Inside the model, so that it predicts on raw 0-255 pixels (a Lambda layer would not
    reload from a .keras file)."""

    def call(self, inputs):
        return preprocess_input(inputs)
'''


@dataclass(frozen=True)
class TransferSpec:
    """Everything the code of a transfer model depends on (all values checked by ``plan_transfer``)."""

    name: str
    mode: str                             # "replace-top" | "features"
    num_classes: int
    input_shape: tuple[int, int, int]
    head_units: int = 256
    dropout: float = 0.5


def build_code(spec: TransferSpec, weights: str) -> list[str]:
    """The lines that build the model; ``weights`` is the literal given to ``VGG16(weights=…)``.

    Example::

        >>> build_code(TransferSpec("tl", "replace-top", 2, (224, 224, 3)), "None")[0]
        'vgg = VGG16(weights=None)'
    """
    h, w, _channels = spec.input_shape
    k = int(spec.num_classes)
    if spec.mode == "replace-top":
        lines = [f"vgg = VGG16(weights={weights})",
                 f"model = keras.Sequential(name={spec.name!r})",
                 f"model.add(keras.Input(shape=({h}, {w}, 3)))  # " + _("raw pixels 0-255")]
        if (h, w) != TOP_SIZE:
            lines.append('model.add(layers.Resizing(224, 224, name="resize_224"))  # '
                         + _("the Dense top needs 224x224"))
        lines += ['model.add(VGG16Preprocess(name="vgg16_preprocess"))',
                  "for layer in vgg.layers[1:-1]:  # " + _("every VGG16 layer but the last, frozen"),
                  "    layer.trainable = False",
                  "    model.add(layer)"]
    else:
        lines = [f"vgg = VGG16(weights={weights}, include_top=False, input_shape=({h}, {w}, 3))",
                 f"model = keras.Sequential(name={spec.name!r})",
                 f"model.add(keras.Input(shape=({h}, {w}, 3)))  # " + _("raw pixels 0-255"),
                 'model.add(VGG16Preprocess(name="vgg16_preprocess"))',
                 "for layer in vgg.layers[1:]:  # " + _("the convolutional base, frozen"),
                 "    layer.trainable = False",
                 "    model.add(layer)",
                 'model.add(layers.GlobalAveragePooling2D(name="gap"))']
        lines += head_lines(spec.head_units, spec.dropout)
    lines.append(f'model.add(layers.Dense({k}, activation="softmax", name="output"))')
    return lines


def head_lines(head_units: int, dropout: float) -> list[str]:
    """The new head's hidden Dense and Dropout lines (none when 0).

    Example::

        >>> head_lines(256, 0.5)[1]
        'model.add(layers.Dropout(0.5, name="head_dropout"))'
    """
    lines = []
    if head_units:
        lines.append(f'model.add(layers.Dense({int(head_units)}, activation="relu", name="head_dense"))')
    if dropout:
        lines.append(f'model.add(layers.Dropout({float(dropout)!r}, name="head_dropout"))')
    return lines


def fine_tune_code(block: int, optimizer: str | None = None, learning_rate: float = 1e-5,
                   compile_args: str | None = None) -> list[str]:
    """The lines of phase 2: unfreeze the convolutions from ``block`` on, and compile again if it was compiled.

    ``optimizer``: the class name of the model's optimizer when it was compiled (None: not
    compiled, ``%nn_train … --lr`` compiles it); ``compile_args``: its loss and metrics as code
    (``loss="…", metrics=[…]``), None when they are not plain names or the optimizer is not
    one of ``keras.optimizers`` (then a comment says what was done).

    Example::

        >>> fine_tune_code(5)[1]
        'for layer in model.layers:'
    """
    lines = ["# " + _("phase 2: fine-tune from block{block} (the blocks before it stay frozen)").format(block=int(block)),
             "for layer in model.layers:",
             '    if layer.name.startswith("block") and "_conv" in layer.name:',
             f"        layer.trainable = int(layer.name[5]) >= {int(block)}"]
    return lines + recompile_lines(optimizer, learning_rate, compile_args)


def recompile_lines(optimizer: str | None, learning_rate: float, compile_args: str | None) -> list[str]:
    """The line that compiles the model again after fine-tuning (a comment when it cannot be written as code).

    Example::

        >>> recompile_lines("SGD", 1e-5, "loss='binary_crossentropy'")
        ["model.compile(optimizer=keras.optimizers.SGD(learning_rate=1e-05), loss='binary_crossentropy')"]
    """
    if optimizer is None:
        return []
    if compile_args is None:
        return ["# " + _("compiled again: the same loss and metrics, a new {optimizer}").format(
            optimizer=f"{optimizer}(learning_rate={float(learning_rate)!r})")]
    return [f"model.compile(optimizer=keras.optimizers.{optimizer}(learning_rate={float(learning_rate)!r}), "
            f"{compile_args})"]


def printed_code(spec: TransferSpec, weights: str, phase_two: list[str] | None = None) -> str:
    """The whole program ``--code`` prints: imports, the preprocessing layer, the model, phase 2.

    Example::

        print(printed_code(spec, '"imagenet"'))
    """
    preprocess = PREPROCESS_CLASS.replace(PREPROCESS_DOC, _(PREPROCESS_DOC))
    program = "\n\n\n".join(part.rstrip("\n") for part in (IMPORTS, preprocess))
    program += "\n\n\n" + "\n".join(build_code(spec, weights)) + "\n"
    if phase_two:
        program += "\n" + "\n".join(phase_two) + "\n"
    return program


__all__ = ["TransferSpec", "build_code", "fine_tune_code", "printed_code", "IMPORTS", "PREPROCESS_CLASS",
           "TOP_SIZE"]
