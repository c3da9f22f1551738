"""The model that actually trains: the user's model, or a kept clone for mixed precision / a strategy.

A Keras dtype policy and a ``tf.distribute`` strategy act when variables are *created*, so
``train()`` fits a clone built under them and copies the weights back into the user's model.
The clone is kept between runs (continuing keeps its optimizer state) only while it still
agrees with the user's model: same trainable flags, same compile (optimizer object, loss,
metrics); the learning rate and the weights are copied over before every run. Anything else —
unfreezing layers, ``model.compile(...)``, ``fine_tune`` — builds a new clone.
"""
from __future__ import annotations

import contextlib
import weakref
from typing import Any

from ..i18n import _

# model -> (key the clone was made for, the clone)
_RUNNERS: "weakref.WeakKeyDictionary[Any, tuple[tuple, Any]]" = weakref.WeakKeyDictionary()


def trainable_flags(model) -> tuple:
    """Which layers and variables are trainable: a change means the clone must be rebuilt.

    Example::

        before = trainable_flags(model); model.layers[1].trainable = False
        trainable_flags(model) != before     # True
    """
    from ..checks import all_layers

    return (tuple(bool(layer.trainable) for layer in all_layers(model)),
            tuple(bool(v.trainable) for v in model.weights))


# model -> its trainable flags when nnmagics last trained it
_FLAGS: "weakref.WeakKeyDictionary[Any, tuple]" = weakref.WeakKeyDictionary()


def remember_flags(model) -> None:
    """Note the trainable flags ``model`` has just trained with (see ``flags_changed``)."""
    try:
        _FLAGS[model] = trainable_flags(model)
    except TypeError:
        pass


def flags_changed(model) -> bool:
    """True when layers were frozen or unfrozen since nnmagics last trained ``model``: Keras only
    sees that after ``compile``, so ``train`` compiles again.

    Example::

        train(model, data); model.layers[1].trainable = True; flags_changed(model)   # True
    """
    try:
        before = _FLAGS.get(model)
    except TypeError:
        return False
    return before is not None and before != trainable_flags(model)


def _compile_key(model) -> tuple:
    """The user's compile, learning rate left out (it is copied to the clone on every run)."""
    try:
        config = dict(model.get_compile_config() or {})
    except Exception:  # noqa: BLE001 - a model compiled in some odd way: rebuild each time
        return (object(),)
    config.pop("optimizer", None)
    return (id(getattr(model, "optimizer", None)), repr(sorted(config.items())))


def runner_key(model, policy: str, strategy) -> tuple:
    """What a kept clone must agree with to be reused."""
    return (policy, id(strategy) if strategy is not None else None, trainable_flags(model), _compile_key(model))


def learning_rate(optimizer) -> float | None:
    """The optimizer's learning rate as a float (None for a schedule or an odd optimizer)."""
    try:
        value = optimizer.learning_rate
        return float(value.numpy() if hasattr(value, "numpy") else value)
    except Exception:  # noqa: BLE001 - LearningRateSchedule objects have no single value
        return None


def _sync(runner, model) -> None:
    """Copy the weights and the learning rate of ``model`` into its clone."""
    runner.set_weights(model.get_weights())
    lr = learning_rate(getattr(model, "optimizer", None))
    if lr is not None and learning_rate(runner.optimizer) not in (None, lr):
        runner.optimizer.learning_rate = lr


def _fix_config(config: dict) -> dict:
    """Work around layer configs that do not round-trip (RandomShear stores ±factor as a pair)."""
    for key, value in list(config.items()):
        if key.endswith("factor") and isinstance(value, (list, tuple)) and len(value) == 2 and value[0] == -value[1]:
            config[key] = abs(value[1])
    return config


def clone_for(model, policy: str, strategy=None):
    """A copy of ``model`` whose layers compute under ``policy`` (output layer float32), created in
    ``strategy``'s scope when given, with the same weights and trainable flags. Raises ValueError
    for subclassed models.

    Example::

        clone = clone_for(model, "mixed_bfloat16")
    """
    import keras

    outputs = set()
    for tensor in getattr(model, "outputs", None) or []:
        outputs.add(id(tensor._keras_history[0]))

    def clone_layer(layer):
        config = _fix_config(layer.get_config())
        if policy != "float32" and "preprocessing" not in type(layer).__module__:
            config["dtype"] = "float32" if id(layer) in outputs else policy
        return layer.__class__.from_config(config)

    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    with scope:
        clone = keras.models.clone_model(model, clone_function=clone_layer, recursive=True)
        clone.set_weights(model.get_weights())
    from ..checks import all_layers

    for source, copy in zip(all_layers(model), all_layers(clone)):
        copy.trainable = source.trainable  # a config's "trainable" is not kept by every Keras version
    return clone


def _compile_runner(runner, model, policy: str, strategy) -> None:
    import keras

    from ..model.compile import compile_like

    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    with scope:
        config = keras.saving.deserialize_keras_object(model.get_compile_config())
        optimizer = config.pop("optimizer", None) or keras.optimizers.RMSprop()   # a copy: the clone's own state
        if policy == "mixed_float16" and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        compile_like(runner, model, optimizer)


def prepare_runner(model, plan, policy: str, strategy, notes: list[str]):
    """The model to call ``fit`` on: ``model`` itself, or a clone for mixed precision / a strategy.

    ``plan.compile`` (``train`` has just compiled ``model``) always makes a new clone; so does any
    change of the trainable flags or of the compile since the clone was made.

    Example::

        runner = prepare_runner(model, plan, "mixed_bfloat16", None, notes)
    """
    if policy == "float32" and strategy is None:
        return model
    key = runner_key(model, policy, strategy)
    try:
        kept = _RUNNERS.get(model)
    except TypeError:
        kept = None
    if kept is not None and kept[0] == key and not plan.compile:
        _sync(kept[1], model)
        return kept[1]
    try:
        runner = clone_for(model, policy, strategy)
    except Exception as exc:  # noqa: BLE001 - subclassed models cannot be cloned
        if policy != "float32":
            note = _("mixed precision skipped: the model cannot be cloned ({error}); build it with --api functional "
                     "to use it.")
        else:
            note = _("{strategy} skipped: the model cannot be cloned ({error}); build it with --api functional to "
                     "use it.")
        notes.append(note.format(strategy=type(strategy).__name__, error=type(exc).__name__))
        return model
    _compile_runner(runner, model, policy, strategy)
    try:
        _RUNNERS[model] = (key, runner)
    except TypeError:
        pass
    return runner
