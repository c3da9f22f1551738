"""``%nn_train --code``: the plain Keras that one ``train()`` ran, rendered from what it recorded.

``train()`` records a ``FitRecipe`` in ``history.fits[-1]["recipe"]`` (``record_fit``) from the very
objects that drive the run: the compile plan (optimizer object, loss, metrics), the checked
``FitOptions``, the fit arguments, the Keras callbacks it passed, the placement of the augmentation
and the datasets' own attributes. ``train_code`` turns that recipe into code; nothing here decides
anything about training. Values are pure data (numbers, names, paths) written with ``repr``, never
pasted user text.

The data is written as plain pandas/scikit-learn (tables) or ``tf.data`` (image folders) by
``code_data``; the pipeline then follows nnmagics' order: cache → shuffle(all, seed) → batch →
augmentation, so that the same seed gives the same batches.

Example::

    history = train(model, data4, val_split=0.2, epochs=5, seed=0)
    print(train_code(history.fits[-1]["recipe"]))
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..i18n import N_, _
from .code_data import (load_folder_code, DataRecipe, KerasCall, call_code, data_recipe, encode_code, endless_source, image_arrays,
                        images_lines, keras_call, literal, shown_name, split_arrays, split_lines, table_read_lines, val_part,
                        variable)


@dataclass(frozen=True)
class FitRecipe:
    """What one ``train()`` ran, as data: ``train_code`` writes it as plain Keras."""

    model_name: str
    data_name: str
    data: DataRecipe                  # the dataset given (before --val-split)
    val: DataRecipe | None            # --val DATA or the folder's validation/ (None with --val-split)
    val_name: str | None
    val_split: float | None
    split_seed: int
    stratified: bool
    class_mode: str                   # the labels as the loss wants them
    compiled: bool                    # train() compiled the model (else: kept its compile)
    optimizer: Any                    # KerasCall or a name
    loss: Any
    metrics: tuple
    lr: float | None
    seed: int | None
    batch_size: int
    epochs: int                       # Keras' epochs: the last epoch's number
    initial_epoch: int
    steps_per_epoch: int | None
    validation_steps: int | None
    callbacks: tuple                  # KerasCalls, in the order train() passed them
    notes: tuple = ()                 # callbacks with no plain-Keras twin, as comments
    policy: str = "float32"
    strategy: str = ""
    pixels: str = "float32"           # 'uint8': cast (and augmentation) in the training step
    augment: str | None = None        # 'pipeline' | 'model' | None
    features_cache: bool = False
    extra: tuple = field(default=())  # class names of the user's own callbacks
    steps_per_execution: int = 1      # training steps per call of the compiled step (small models)
    val_take: int | None = None       # --validation-steps on part of the set: the samples of the fixed part
    augment_params: Any = None        # the AugmentParams that ran (None: the course's or no augmentation)
    augment_seed: int | None = None   # the augmentation's seed (--seed, else the dataset's --seed)
    backend: str = "tensorflow"       # the Keras backend that ran: tf.data on TensorFlow, numpy arrays elsewhere


def _callback_call(callback, found) -> tuple[KerasCall | None, str | None]:
    """One Keras callback that ran → (its plain Keras call, or None) and a note; ``found`` is the
    ``callbacks.FitCallbacks`` it belongs to (its early stop and checkpoint are nnmagics' own)."""
    kind = type(callback).__name__
    if kind == "ReportingCallback":
        return None, None   # the live panel / text log: verbose=2 prints one line per epoch
    if kind == "NanGuard":
        return ("keras.callbacks.TerminateOnNaN", {}), N_("nnmagics also puts back the weights the run started from")
    if callback is found.saver:
        kwargs = {"filepath": callback.filepath, "monitor": callback.monitor, "mode": "min",
                  "save_best_only": True, "save_weights_only": True}
        best = getattr(callback, "best", None)
        if best is not None and math.isfinite(float(best)):
            kwargs["initial_value_threshold"] = float(best)   # the best of the earlier fits to this file
        return ("keras.callbacks.ModelCheckpoint", kwargs), N_("nnmagics writes it atomically")
    if callback is found.stopper:
        kwargs = {"monitor": callback.monitor, "patience": int(callback.patience),
                  "restore_best_weights": bool(callback.restore_best_weights)}
        return ("keras.callbacks.EarlyStopping", kwargs), None
    return None, kind   # the user's own: named in a comment


def record_fit(history, *, model_name: str, data, data_name: str, val, val_name: str | None, options, plan, model,
               tinfo, batch: int, found, policy: str, strategy: str, pixels: str, augment: str | None,
               features_cache: bool, steps_per_execution: int = 1, validation=None, augment_params=None,
               augment_seed: int | None = None) -> FitRecipe:
    """Record what ``train()`` is about to run in ``history.fits[-1]["recipe"]``; returns the recipe.

    ``found`` is the ``callbacks.FitCallbacks`` passed to ``fit``; ``validation`` the ``val_subset.ValidationPlan``
    it validates with; the other values are ``train()``'s own.

    Example::

        recipe = record_fit(history, model_name="m", data=data4, ...)     # inside train()
    """
    from ..data.augment_fused import COURSE_PARAMS
    from ..model.compile import compiled_metrics

    recipe_seed = options.seed

    given_val = val if val is not None else (None if options.val_split is not None else getattr(data, "validation", None))
    compiled = bool(plan.compile)
    optimizer = keras_call(model.optimizer if not compiled else plan.optimizer, "optimizers", always=("learning_rate",))
    calls, notes, extra = [], [], []
    for callback in found.keras:
        call, note = _callback_call(callback, found)
        if call is not None:
            calls.append(call)
            notes.append(note)
        elif note is not None:
            extra.append(note)
    # Dataset.split stratifies when every class has two samples or more
    counts = np.bincount(np.asarray(data.labels, dtype=int)) if len(data) else np.zeros(1, int)
    recipe = FitRecipe(
        model_name=model_name, data_name=data_name, data=data_recipe(data),
        val=data_recipe(given_val) if given_val is not None else None, val_name=val_name,
        val_split=options.val_split, split_seed=0 if options.seed is None else int(options.seed),
        stratified=bool(counts[counts > 0].min() >= 2), class_mode=plan.class_mode, compiled=compiled,
        optimizer=optimizer, loss=keras_call(plan.loss, "losses"),
        metrics=tuple(keras_call(m, "metrics") for m in (plan.metrics if compiled else compiled_metrics(model))),
        lr=plan.lr, seed=options.seed, batch_size=int(batch), epochs=int(tinfo.final_epoch),
        initial_epoch=int(tinfo.initial_epoch), steps_per_epoch=options.steps_per_epoch,
        validation_steps=validation.steps if validation is not None else options.validation_steps, callbacks=tuple(calls), notes=tuple(notes), policy=policy,
        strategy=strategy or "", pixels=pixels, augment=augment, features_cache=bool(features_cache),
        extra=tuple(extra), steps_per_execution=int(steps_per_execution),
        val_take=validation.take if validation is not None else None,
        augment_params=None if augment_params is None or augment_params == COURSE_PARAMS else augment_params,
        augment_seed=augment_seed if augment is not None else recipe_seed, backend=_backend())
    if history.fits:
        history.fits[-1]["recipe"] = recipe
    return recipe


def _backend() -> str:
    from ..runtime.backend import name

    return name()





def _table_data(recipe: FitRecipe) -> tuple[list[str], str, str | None]:
    """Table lines → (lines, the fit's data arguments, validation_data or None)."""
    data, mode, k = recipe.data, recipe.class_mode, len(recipe.data.class_names)
    lines = table_read_lines(data)
    if recipe.val_split is not None:
        lines += split_arrays(recipe, "X")
        val = "(X_val, y_val)"
    else:
        lines += [f"X_train, y_train = X, {encode_code('labels', mode, k)}"]
        val = None
        if recipe.val is not None:
            lines += ["", "# " + _("the validation table ({name})").format(name=shown_name(recipe.val_name))]
            lines += table_read_lines(recipe.val, "df_val", "X_val", "val_labels")
            lines += [f"y_val = {encode_code('val_labels', mode, k)}"]
            if recipe.val_take:
                lines += val_part(recipe, "val_labels") + ["X_val, y_val = X_val[val_rows], y_val[val_rows]"]
            val = "(X_val, y_val)"
    if recipe.steps_per_epoch is None:
        args = f"X_train, y_train, batch_size={recipe.batch_size}, shuffle=True"
    elif recipe.backend != "tensorflow":   # JAX, PyTorch: an endless generator of shuffled batches
        lines += [f"train = endless(X_train, y_train, {recipe.batch_size}, {literal(recipe.seed)})"]
        return lines, "train", val
    else:   # a fixed number of steps: nnmagics repeats a shuffled tf.data pipeline
        lines += [f"train = tf.data.Dataset.from_tensor_slices((X_train, y_train)).shuffle(len(X_train), "
                  f"seed={literal(recipe.seed)}).batch({recipe.batch_size}).repeat()"]
        args = "train, shuffle=False"
    if val is not None and recipe.validation_steps is not None and recipe.backend == "tensorflow":
        lines += [f"val = tf.data.Dataset.from_tensor_slices({val}).batch({recipe.batch_size})"]
        val = "val"
    return lines, args, val


def _image_data(recipe: FitRecipe) -> tuple[list[str], str, str | None]:
    """Image lines → (lines, the fit's data argument, validation_data or None)."""
    if recipe.backend != "tensorflow":
        return image_arrays(recipe)
    mode = recipe.class_mode
    names = literal(list(recipe.data.class_names))
    paths = [f"labels = np.array([{names}.index(os.path.relpath(p, {literal(recipe.data.root)}).split(os.sep)[0])",
             "                   for p in images.file_paths])  # " + _("the class folder of each file")]
    lines = images_lines(recipe.data, "images", mode, paths if recipe.val_split is not None else [])
    if recipe.val_split is not None:
        lines += split_lines(recipe, "len(labels)")
        if recipe.val_take:
            lines += val_part(recipe, "labels[val_rows]", "val_rows")
        lines += ["def rows(ds, chosen):",
                  "    keep = tf.constant(np.isin(np.arange(len(labels)), chosen))",
                  "    part = ds.enumerate().filter(lambda i, xy: keep[i]).map(lambda i, xy: xy)",
                  "    return part.apply(tf.data.experimental.assert_cardinality(len(chosen)))",
                  "train, val = rows(images, train_rows), rows(images, val_rows)"]
        size = "len(train_rows)"
    else:
        lines += ["train = images"]
        size = str(recipe.data.size)
        if recipe.val is not None and recipe.val_take:
            names, root = literal(list(recipe.val.class_names)), literal(recipe.val.root)
            lines += images_lines(recipe.val, "val", mode, [
                f"val_labels = np.array([{names}.index(os.path.relpath(p, {root}).split(os.sep)[0])",
                "                       for p in val.file_paths])  # " + _("the class folder of each file")])
            lines += val_part(recipe, "val_labels") + [
                "keep = tf.constant(np.isin(np.arange(len(val_labels)), val_rows))",
                "val = val.enumerate().filter(lambda i, xy: keep[i]).map(lambda i, xy: xy)",
                "val = val.apply(tf.data.experimental.assert_cardinality(len(val_rows)))"]
        elif recipe.val is not None:
            lines += images_lines(recipe.val, "val", mode)
    has_val = recipe.val_split is not None or recipe.val is not None
    lines += [f"train = train.shuffle({size}, seed={literal(recipe.seed)}).batch({recipe.batch_size})"
              + (".repeat()" if recipe.steps_per_epoch is not None else "")]
    if recipe.pixels == "uint8":
        lines += ["train = train.map(lambda x, y: (tf.cast(x, 'uint8'), y))  # "
                  + _("uint8 to the GPU/TPU: a quarter of the bytes")]
    if recipe.augment == "pipeline" and recipe.augment_seed is not None:
        lines += _augment_lines(recipe) + [
            f"numbers = tf.random.Generator.from_seed({literal(recipe.augment_seed)})  # "
            + _("drawn in batch order: the seed repeats"),
            "train = train.map(lambda x, y: (x, y, numbers.uniform((tf.shape(x)[0], 8))))",
            "train = train.map(lambda x, y, u: (augment(x, training=True, draws=u), y), "
            "num_parallel_calls=tf.data.AUTOTUNE)"]
    elif recipe.augment == "pipeline":
        lines += _augment_lines(recipe) + [
            "train = train.map(lambda x, y: (augment(x, training=True), y), num_parallel_calls=tf.data.AUTOTUNE)"]
    if has_val:
        lines += [f"val = val.batch({recipe.batch_size})"]
        if recipe.pixels == "uint8":
            lines += ["val = val.map(lambda x, y: (tf.cast(x, 'uint8'), y))"]
    return lines, "train, shuffle=False", "val" if has_val else None


def _augment_lines(recipe: FitRecipe) -> list[str]:
    """The augmentation that ran: the course's as the layer table writes it (``%nn_build``'s ``augment``
    row, what ``build.make_augmentation`` runs), or other parameters (``--augment PARAMS``, a dataset's
    own) as ``FusedAugment({...}, seed=…)`` with the ``ImageDataGenerator`` call they reproduce."""
    from ..model.build import layer_code
    from ..model.spec import LayerSpec, kind_of

    seed, params = recipe.augment_seed, recipe.augment_params
    if params is None:
        spec = LayerSpec("augment", {"seed": seed})
        return [f"# {kind_of('augment').comment(spec.args)}", f"augment = {layer_code(spec)}"]
    return ["# " + _("{call}, as one projective transform per image").format(call=params.code()),
            f"augment = FusedAugment({literal(params.changed())}, seed={literal(seed)})"]


def _code_of(value: Any) -> str:
    return call_code(value) if isinstance(value, tuple) else literal(value)


def _compile_args(recipe: FitRecipe, optimizer: str | None = None, calls: bool = True) -> str:
    metrics = ", ".join(_code_of(m) for m in recipe.metrics)
    calls = f", steps_per_execution={recipe.steps_per_execution}" if calls and recipe.steps_per_execution > 1 else ""
    return f"optimizer={optimizer or _code_of(recipe.optimizer)}, loss={_code_of(recipe.loss)}, metrics=[{metrics}]{calls}"


def _compile_lines(recipe: FitRecipe, model: str) -> list[str]:
    if not recipe.compiled:
        lines = ["# " + _("{model} was compiled before, and stays so: {call}").format(
            model=model, call=f"{model}.compile({_compile_args(recipe, calls=False)})")]
        if recipe.steps_per_execution > 1:
            lines.append("# " + _("nnmagics ran {n} steps per call of this small model (steps_per_execution={n}): the "
                                  "same results, sooner").format(n=recipe.steps_per_execution))
        if recipe.lr is not None:
            lines.append(f"{model}.optimizer.learning_rate = {literal(recipe.lr)}")
        return lines
    return [f"{model}.compile({_compile_args(recipe)})"]


def _trainer_lines(recipe: FitRecipe, model: str) -> tuple[list[str], str]:
    """Mixed precision and the uint8/augmenting front: the model ``fit`` runs on."""
    lines, runner = [], model
    if recipe.policy != "float32":
        optimizer = _code_of(recipe.optimizer)
        if recipe.policy == "mixed_float16":
            optimizer = f"keras.optimizers.LossScaleOptimizer({optimizer})"
        lines += ["# " + line for line in _(
            "mixed precision: a copy of {model} whose layers compute in {policy}, the output layer\n"
            "in float32 (for a model you build yourself: keras.mixed_precision.set_global_policy({code}) before "
            "building it)").format(model=model, policy=recipe.policy, code=literal(recipe.policy)).splitlines()]
        lines += ["def under_policy(layer):",
                  "    config = layer.get_config()",
                  "    if 'preprocessing' not in type(layer).__module__:",
                  f"        config['dtype'] = 'float32' if layer is {model}.layers[-1] else {literal(recipe.policy)}",
                  "    return layer.__class__.from_config(config)",
                  f"runner = keras.models.clone_model({model}, clone_function=under_policy)",
                  f"runner.set_weights({model}.get_weights())",
                  f"runner.compile({_compile_args(recipe, optimizer)})"]
        runner = "runner"
    in_step = recipe.pixels == "uint8" or (recipe.backend != "tensorflow" and recipe.augment == "pipeline")
    if in_step:
        h, w = recipe.data.image_size
        dtype = "uint8" if recipe.pixels == "uint8" else "float32"
        where = (_("on the GPU/TPU: {dtype} batches in, the augmentation and the cast inside the training step")
                 if recipe.backend == "tensorflow" else
                 _("on {backend} (no tf.data): {dtype} batches in, the augmentation and the cast inside the training "
                   "step"))
        lines += ["# " + where.format(dtype=dtype, backend=recipe.backend),
                  f"pixels = keras.Input(({h}, {w}, 3), dtype={literal(dtype)})"]
        x = "pixels"
        if recipe.augment in ("model", "pipeline"):
            lines += _augment_lines(recipe) + ["x = augment(pixels)"]
            x = "x"
        lines += [f"trainer = keras.Model(pixels, {runner}(keras.ops.cast({x}, 'float32')))",
                  f"trainer.compile({_compile_args(recipe, f'{runner}.optimizer')})  # " + _("the same optimizer object")]
        runner = "trainer"
    return lines, runner


def train_code(recipe: FitRecipe) -> str:
    """The plain Keras (+ pandas/scikit-learn, ``tf.data``) that ``recipe``'s fit ran (``--code``).

    Example::

        print(train_code(history.fits[-1]["recipe"]))
    """
    model = variable(recipe.model_name, "model")
    table = recipe.data.kind == "table"
    data_lines, args, val = _table_data(recipe) if table else _image_data(recipe)
    tf_backend = recipe.backend == "tensorflow"
    needs_tf = tf_backend and (not table or recipe.steps_per_epoch is not None or recipe.validation_steps is not None)
    head = ["import keras", "import numpy as np"]
    if table:
        head += ["import pandas as pd", "from sklearn.preprocessing import LabelEncoder"]
    if recipe.val_split is not None:
        head += ["from sklearn.model_selection import train_test_split"]
    if not table and (not tf_backend or recipe.val_split is not None or (recipe.val is not None and recipe.val_take)):
        head.insert(0, "import os")
    if needs_tf:
        head += ["import tensorflow as tf"]
    if recipe.augment is not None:
        from ..model.build import code_imports
        from ..model.spec import LayerSpec

        head += code_imports([LayerSpec("augment", {})])[len(code_imports([])):]
    lines = ["# " + _("{command}: what ran, as plain Keras").format(
        command=f"%nn_train {shown_name(recipe.model_name)} {shown_name(recipe.data_name)}")]
    lines += head + [""]
    if not tf_backend and not table:
        lines += load_folder_code().splitlines() + [""]
    if not tf_backend and recipe.steps_per_epoch is not None:
        lines += endless_source().splitlines() + [""]
    if model != recipe.model_name:
        lines.append("model = ...  # " + _("the model {name}").format(name=shown_name(recipe.model_name)))
    if recipe.seed is not None:
        lines += [f"keras.utils.set_random_seed({recipe.seed})  # "
                  + _("--seed: the same shuffles, dropout and augmentation"), ""]
    lines += ["# " + _("the data ({name})").format(name=shown_name(recipe.data_name))] + data_lines
    lines += ["", "# " + _("the compile")] + _compile_lines(recipe, model)
    trainer, runner = _trainer_lines(recipe, model)
    lines += ([""] + trainer if trainer else [])
    lines += ["", "callbacks = ["]
    for call, note in zip(recipe.callbacks, recipe.notes):
        lines.append(f"    {call_code(call)}," + (f"  # {_(note)}" if note else ""))
    lines.append("]")
    if recipe.extra:
        lines.append("# " + _("+ your own callbacks ({names}): add them to the list").format(names=", ".join(recipe.extra)))
    if recipe.strategy:
        engine = "keras.distribution" if recipe.strategy.startswith("DataParallel") else "tf.distribute"
        lines.append("# " + _("nnmagics trained a copy made in {strategy}'s scope ({engine})").format(
            strategy=recipe.strategy, engine=engine))
    if recipe.features_cache:
        lines.append("# " + _("nnmagics trained the head on the cached outputs of the frozen VGG16 base "
                              "(same result, faster); this is the end-to-end equivalent"))
    fit = [args, f"epochs={recipe.epochs}"]
    if recipe.initial_epoch:
        fit.append(f"initial_epoch={recipe.initial_epoch},  # " + _("continues after the earlier epochs"))
    if recipe.steps_per_epoch is not None:
        fit.append(f"steps_per_epoch={recipe.steps_per_epoch}")
    if val is not None:
        fit.append(f"validation_data={val}")
    if recipe.validation_steps is not None:
        fit.append(f"validation_steps={recipe.validation_steps}")
    fit += ["callbacks=callbacks", "verbose=2"]
    lines += [f"history = {runner}.fit("] + [f"    {part}" + ("" if "#" in part else ",") for part in fit] + [")"]
    if recipe.policy != "float32":
        lines.append(f"{model}.set_weights(runner.get_weights())  # "
                     + _("the trained weights back into {model}").format(model=model))
    return "\n".join(lines) + "\n"


__all__ = ["FitRecipe", "DataRecipe", "record_fit", "train_code", "data_recipe", "literal", "call_code",
           "keras_call", "table_read_lines", "images_lines", "variable"]
