"""``train``: one fit of a model on a ``%nn_data`` dataset, continuing its history, reported to a reporter.

The flow: check the options (``options``) → split off validation (``split``) → plan and apply the
compile (``plan``) → choose the model that runs (``runner``: mixed precision, strategies) or the
cached VGG16 features (``training.feature_cache``) → the callbacks (``callbacks``) → ``fit`` → status,
history, weights back into the user's model.
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Any, Sequence

from ..errors import NNUsageError
from ..i18n import _
from ..data.pixel_scale import pixel_scale_notes
from .history import TrainHistory, history_of
from .reporting import TrainInfo, as_reporter
from .callbacks import fit_callbacks
from .data_augment import training_augmentation
from .execution import fast_steps, steps_per_call
from .inputs import Feed, input_feed, make_inputs, validation_inputs
from .interrupts import stop_on_interrupt
from .options import FitOptions, check_callbacks, check_training
from .plan import apply_plan, plan_compile
from .runner import prepare_runner, remember_flags
from .split import resolve_validation
from .val_subset import plan_validation


def train(model, data, *, val=None, val_split: Any = None, epochs: Any = 10, batch_size: Any = None,
          steps_per_epoch: Any = None, validation_steps: Any = None, optimizer: str | None = None, lr: Any = None,
          momentum: Any = None,
          loss: Any = "auto", metrics: Sequence[str] | str | None = None, augment: Any = False,
          early_stop: Any = None, checkpoint: str | None = None, seed: Any = None,
          mixed_precision: str = "auto", strategy: Any = "auto", callbacks: Sequence[Any] = (),
          reporter: Any = None, model_name: str | None = None, data_name: str | None = None,
          val_name: str | None = None, resume: bool = False) -> TrainHistory:
    """Train ``model`` on a ``%nn_data`` dataset for ``epochs`` more epochs; returns its ``TrainHistory``.

    Compiles when the model is not compiled or when compile options are given (loss inferred
    from the output layer). Training again continues the epoch count and appends to the same
    history. The Stop button and a kernel interrupt end training after the current batch; the
    model keeps its weights and the history every finished epoch (``history.status``).

    ``reporter``: what shows the fit — a reporter (``nnmagics.LivePanel()``, ``nnmagics.TextLog()``,
    anything with the ``nnmagics.Reporter`` methods), a list of them, ``False`` for none; left out,
    the display ``%load_ext nnmagics`` registered (the panel in a notebook, text elsewhere).
    ``callbacks``: more Keras callbacks (``keras.callbacks.CSVLogger(...)``, ``TensorBoard``…).
    ``augment``: ``True`` for the course's augmentation, or its ``ImageDataGenerator`` keywords
    (``"rotation_range=20, horizontal_flip=False"``); left out, a dataset loaded with ``--augment`` augments.
    Every fit is recorded in the runs folder (``nnmagics.runs``: ``%config NNMagics.runs_dir``);
    ``resume=True`` continues the model's recorded run, in a new kernel too: weights, optimizer,
    epoch count and history come back and the cut fit ends at its first epoch + ``epochs``.

    Example::

        data4 = load_data("artificial_generator.xlsx", sheet="data4")
        model = build_model(preset="course-dense")
        history = train(model, data4, val_split=0.2, epochs=20, seed=0)
        history.history["val_accuracy"][-1]
    """
    model_name = model_name or getattr(model, "name", "model")
    data_name = data_name or getattr(data, "name", None) or "data"
    options = FitOptions.parse(epochs=epochs, batch_size=batch_size, steps_per_epoch=steps_per_epoch,
                               validation_steps=validation_steps, early_stop=early_stop, val_split=val_split,
                               lr=lr, seed=seed, augment=augment not in (False, None), checkpoint=checkpoint,
                               momentum=momentum)
    # --augment (the course's) wins; else the dataset's own (%nn_data --augment), its seed when none here
    options, augment_params, augment_seed = training_augmentation(model, data, options, model_name, data_name,
                                                                      requested=augment)
    options = check_training(model, data, options, model_name, data_name)
    extra = check_callbacks(callbacks)
    train_data, val_data = resolve_validation(data, val, options.val_split, options.seed, data_name=data_name,
                                              val_name=val_name or _("validation data"))
    if options.validation_steps is not None and val_data is None:
        raise NNUsageError(_("--validation-steps needs validation data (--val, --val-split or a folder with "
                             "validation/)."))

    import keras

    from ..runtime import device as dev
    from ..model.compile import compile_state, optimizer_label, restore_compile

    if options.seed is not None:
        keras.utils.set_random_seed(options.seed)
    info = dev.detect()
    if info.gpus:
        dev.enable_memory_growth()
    plan = plan_compile(model, train_data, loss=loss, optimizer=optimizer, lr=options.lr, metrics=metrics,
                        momentum=options.momentum,
                        model_name=model_name)
    before = compile_state(model)
    apply_plan(model, plan)
    try:
        resumed = None
        if resume:   # weights and history back before anything copies or reads them (clone, cached features)
            from ..runs.resume import resume_fit

            resumed = resume_fit(model, data, val, options.epochs, model_name=model_name, data_name=data_name,
                                 lr_given=options.lr is not None)
            if resumed.epochs == 0:
                if reporter is not False:
                    print(resumed.note)
                return history_of(model)
            options = replace(options, epochs=resumed.epochs)
        notes: list[str] = pixel_scale_notes(model, train_data, model_name, data_name)  # pixels rescaled twice/never
        use_cache = _features_cache_plan(model, options, notes)
        precision = dev.choose_precision(mixed_precision, info, model)
        if use_cache and precision.mixed and _vgg_blocks(model):   # the VGG16 pass follows the same choice (the head trains in float32)
            notes.append(_("VGG16's features computed under {policy} ({reason}).").format(policy=precision.policy,
                                                                                         reason=precision.reason))
        chosen = dev.choose_strategy(strategy, info)
        # the cached-features path trains a tiny head on arrays: no mixed precision, no strategy clone
        runner = model if use_cache else prepare_runner(model, plan, precision.policy, chosen, notes)
        policy, strat = (precision.policy, chosen) if runner is not model else ("float32", None)
        # GPU/TPU: uint8 batches to the device, augmentation and cast in the step; CPU: both in the pipeline
        feed = Feed("float32") if use_cache else input_feed(augment_placement(info), train_data,
                                                            augment=options.augment)
        where = feed.augment
        trainer = augmenting_trainer(runner, train_data, augment_seed, augment_params if where is not None else None,
                                     strat) if feed.on_device else runner

        batch = options.batch_size or train_data.batch_size
        # --validation-steps: a fixed part holding every class in proportion, not the first batches of file order
        checked = plan_validation(val_data, options.validation_steps, batch, options.seed,
                                  val_name or _("the validation data"))
        if checked.note:
            notes.append(checked.note)
        history = history_of(model, create=True)
        if history.name in (None, getattr(model, "name", None)):
            history.name = model_name  # the notebook's variable name reads better than Keras' 'functional'
        tinfo = TrainInfo(model_name=model_name, data_name=data_name, epochs=options.epochs,
                          initial_epoch=history.epochs_done,
                          steps=options.steps_per_epoch or math.ceil(len(train_data) / batch), batch_size=batch,
                          samples=len(train_data),
                          val_samples=(checked.take or len(val_data)) if val_data is not None else None,
                          val_total=len(val_data) if checked.take else None,
                          device=info.panel_badge(), precision=policy, strategy=dev.strategy_label(strat),
                          hints=_hints(info, notes), loss=plan.loss_name,
                          optimizer=optimizer_label(runner.optimizer),
                          augment=where.reason if where is not None else "",
                          monitor="val_loss" if val_data is not None else "loss", history=history)
        # several steps per call: on a GPU/TPU, and for small models on a CPU (the same numbers)
        calls = 1 if use_cache else steps_per_call(trainer, batch, tinfo.steps, extra, accelerator=info.kind != "cpu")
        reporter = as_reporter(reporter)
        found = fit_callbacks(tinfo, reporter, model, options, extra, copy_weights=runner is not model, device=info)
        history.start_fit({"epochs": tinfo.epochs, "initial_epoch": tinfo.initial_epoch, "batch_size": batch,
                           "steps": tinfo.steps, "samples": tinfo.samples, "val_samples": tinfo.val_samples,
                           "val_total": tinfo.val_total or tinfo.val_samples,
                           "loss": plan.loss_name, "optimizer": tinfo.optimizer,
                           "augment": where.where if where is not None else False, "pixels": feed.pixels,
                           "seed": options.seed, "precision": policy, "strategy": tinfo.strategy,
                           "early_stop": options.early_stop, "checkpoint": found.saver.filepath if found.saver else None,
                           "monitor": tinfo.monitor, "steps_per_execution": calls})
        from .code import record_fit   # what --code prints, from the objects that run

        record_fit(history, model_name=model_name, data=data, data_name=data_name, val=val, val_name=val_name,
                   options=options, plan=plan, model=model, tinfo=tinfo, batch=batch, found=found,
                   policy=policy, strategy=tinfo.strategy, pixels=feed.pixels,
                   augment=where.where if where is not None else None, features_cache=use_cache,
                   steps_per_execution=calls, validation=checked,
                   augment_params=augment_params if where is not None else None, augment_seed=augment_seed)
        from ..runs.recorder import record_run   # the run folder, written at each epoch end (never fails a fit)

        recorder = record_run(history, model, runner=runner, data=data, val=val, info=tinfo, val_name=val_name,
                              resumed=resumed)
        if recorder is not None:
            found.keras.append(recorder)
        if resumed is not None:
            tinfo.hints.append(resumed.note)
    except BaseException:
        restore_compile(model, before, plan.compile)  # a failure before training leaves the model as it was
        if resumed is not None and resumed.undo is not None:
            resumed.undo()
        raise
    reporter.on_train_begin(tinfo)
    status = "failed"
    restore_sigint = stop_on_interrupt(tinfo.stop)
    try:
        if use_cache:
            from .features_fit import fit_features_model

            # epochs = how many to run, counted from initial_epoch (fit_features_model adds them)
            fit_features_model(model, train_data, val_data, epochs=tinfo.epochs, initial_epoch=tinfo.initial_epoch,
                               batch_size=batch, callbacks=found.keras, class_mode=plan.class_mode, seed=options.seed,
                               precision=precision.policy)
        else:
            inputs = make_inputs(train_data, class_mode=plan.class_mode, batch_size=batch, shuffle=True,
                                 seed=augment_seed if where is not None else options.seed,
                                 augment=augment_params if where is not None and where.where == "pipeline" else None,
                                 repeat=options.repeat, pixels=feed.pixels)
            validation = validation_inputs(checked.data, class_mode=plan.class_mode, batch_size=batch,
                                           pixels=feed.pixels, steps=checked.steps)
            # Keras' epochs is the last epoch's number: initial_epoch + the epochs to run
            first = (inputs["x"], inputs["y"]) if "y" in inputs else getattr(inputs["x"], "element_spec", None)
            with fast_steps(trainer, calls, first), dev.fit_scope(strat):   # JAX's DataParallel shards batches
                trainer.fit(**inputs, epochs=tinfo.final_epoch, initial_epoch=tinfo.initial_epoch,
                            steps_per_epoch=options.steps_per_epoch, validation_data=validation,
                            validation_steps=checked.steps, callbacks=found.keras, verbose=0)
        status = found.status(tinfo.stop)
    except KeyboardInterrupt:
        status = "interrupted"
        found.restore_best()
    except Exception as exc:  # noqa: BLE001 - explained when we know the cause, else re-raised as is
        if history.epochs_done == tinfo.initial_epoch:
            restore_compile(model, before, plan.compile)  # e.g. a metric that fails at the first batch
        explained = _explain_file_error(exc, train_data, val_data) or explain_failure(exc, batch)
        if explained is None:
            raise
        raise explained from None
    finally:
        restore_sigint()
        if runner is not model:
            model.set_weights(runner.get_weights())
        history.fits[-1]["best_epoch"] = found.best_epoch()
        history.end_fit(status)
        if recorder is not None:
            recorder.close(status)
        reporter.on_train_end(status)
        remember_flags(model)
    return history


def augment_placement(info):
    """Where ``--augment``'s fused transform runs: in the training step on a GPU/TPU, else in the pipeline.

    Example::

        augment_placement(device.detect(gpus=[{"name": "T4"}])).where     # 'model'
    """
    from ..data.augment_fused import Placement, placement
    from ..runtime.backend import uses_tf

    names = [f"GPU:{i}" for i in range(len(info.gpus))] + (["TPU:0"] if info.tpu else []) + ["CPU:0"]
    where = placement(names)
    if where.where == "pipeline" and not uses_tf():   # JAX, PyTorch: no tf.data; the step is compiled (JAX)
        return Placement("model", _("augmentation inside the training step (one fused transform per batch); "
                                    "uint8 batches from memory"))
    return where


def augmenting_trainer(runner, data, seed, augment: Any = True, strategy=None):
    """``runner`` behind a uint8 input, the fused augmentation (``augment``: True for the course's, an
    ``AugmentParams``, or falsy for none) and the cast, sharing its
    layers and compiled like it: what ``fit`` runs on a GPU/TPU. Its weights are ``runner``'s, so nothing
    is copied back. Built in ``strategy``'s scope when given (the seed state is a variable).

    Example::

        trainer = augmenting_trainer(runner, cats, seed=0)     # trainer.input.dtype == 'uint8'
    """
    import contextlib

    from ..data.augment_fused import COURSE_PARAMS, training_model
    from ..model.compile import compile_like

    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        params = (COURSE_PARAMS if augment is True else augment) if augment else None
        trainer = training_model(runner, seed=seed, params=params,
                                 input_shape=tuple(data.input_shape))
        compile_like(trainer, runner)   # the same optimizer object: it updates the shared variables
    return trainer


def _explain_file_error(exc, train_data, val_data):
    """An image file that changed or vanished since ``%nn_data`` checked it, as one sentence (or None)."""
    from ..data.images import explain_file_error

    return explain_file_error(exc, train_data, val_data)


def _vgg_blocks(model) -> bool:
    """Whether the model holds VGG16's blocks (the cached pass runs them under the chosen precision)."""
    return any(layer.name.startswith("block") for layer in model.layers)


def _features_cache_plan(model, options: FitOptions, notes: list[str]) -> bool:
    """Whether to train a features-mode transfer model on its cached base outputs (see training.feature_cache)."""
    from .feature_cache import cache_plan

    use, message = cache_plan(model, augment=options.augment)
    if use and (options.steps_per_epoch is not None or options.validation_steps is not None):
        use, message = False, _("Training end to end: --steps-per-epoch/--validation-steps apply to image batches, "
                                "not cached features.")
    if message:
        notes.append(message)
    return use


def _hints(info, notes: list[str]) -> list[str]:
    """Hints for the panel at the start: a Colab runtime without GPU, skipped features, pixel scale.

    The CPU speed hint comes later, measured on the first steps (``ReportingCallback`` → ``speed_hint.cpu_speed_hint``).
    """
    gpu = info.gpu_hint() if info.colab else None
    return ([gpu] if gpu else []) + list(notes)


def explain_failure(exc: Exception, batch_size: int) -> NNUsageError | None:
    """A one-sentence NNUsageError for failures users cause (memory, labels, shapes); None otherwise.

    Example::

        explain_failure(tf.errors.ResourceExhaustedError(None, None, "OOM"), 64)   # '… use a smaller --batch-size …'
    """
    if isinstance(exc, NNUsageError):   # already one sentence (a callback's, e.g. the loss became NaN)
        return exc
    name = type(exc).__name__
    first = " ".join(str(exc).split())[:200]
    if name == "ResourceExhaustedError" or "OOM" in first or "out of memory" in first.lower():
        return NNUsageError(_("Training ran out of memory with batches of {batch}; use a smaller --batch-size "
                              "(or smaller images with --image-size).").format(batch=batch_size))
    if name == "InvalidArgumentError" and ("label" in first.lower() or "Received a label value" in first):
        return NNUsageError(_("The labels do not fit the output layer ({error}); rebuild the model with --from DATA.")
                            .format(error=first))
    if name in ("InvalidArgumentError", "ValueError", "IndexError", "RuntimeError") and any(
            word in first.lower() for word in ("shape", "incompatible", "dimension", "size of tensor")):
        # TensorFlow's, JAX's and PyTorch's words ("too many indices for tensor of dimension 0")
        return NNUsageError(_("The data does not fit the model ({error}); rebuild the model with --from DATA.")
                            .format(error=first))
    return None
