"""How ``fit`` runs its steps: the model built before the first trace, several steps per call for small models.

Two costs of Keras' own loop that nnmagics removes without changing a single number:

- **building before tracing.** Without a distribution strategy, Keras creates the optimizer's and
  the metrics' variables inside the first traced training step, so TensorFlow traces that step
  twice. :func:`prebuild` builds them first, with Keras' own ``_symbolic_build`` (which Keras runs
  itself under a strategy); where that private method is missing it does nothing.
- **several steps per call** (Keras' ``steps_per_execution``). A small model's step costs less
  than the Python call around it, and so does almost any step on a GPU or TPU; running
  :data:`STEPS_PER_CALL` steps per call removes most of that. The batches, their order and every
  update are the same, so the results are identical; a callback's batch hook sees every n-th batch
  (the live panel and Stop keep up: ten such steps take milliseconds). For every model on a GPU/TPU,
  for models whose step is small on a CPU (:func:`steps_per_call`).

:func:`fast_steps` applies both around one ``fit``. The model keeps its ``steps_per_execution``
afterwards (its compiled step is reused by the next ``%nn_train`` and by ``model.fit``; ``--code``
prints it in ``compile``); a fit that fails puts the model's value back. Measured with ``bench/bench_input_pipeline.py``'s free model (1,000 images,
3 epochs, 2-core VM, medians of 7): Keras' fit 0.89 s, built first 0.81 s, and with 5 steps per
call as well 0.66 s. On one H100 (Keras 3.15, JAX; ``bench/bench_steps_per_call.py``), 10 steps per
call trained the course CNN (batch 20) 1.73× faster and the course's dense net 1.49× faster.
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator, Sequence

# A step with fewer multiply-adds than this (forward, per batch) costs less than Keras' call around it.
SMALL_STEP_WORK = 10_000_000
STEPS_PER_CALL = 10


def steps_per_call(model: Any, batch_size: int, steps: int | None = None, callbacks: Sequence[Any] = (),
                   accelerator: bool = False) -> int:
    """How many training steps one call of the compiled step runs: 1, or ``STEPS_PER_CALL`` (at most an epoch).

    ``STEPS_PER_CALL`` on a GPU/TPU (``accelerator``) and, on a CPU, for small models. ``callbacks``:
    the user's own; one that acts on every batch keeps one step per call, so it still sees every batch.

    Example::

        steps_per_call(course_dense_net, batch_size=32, steps=7)      # 7: the whole epoch in one call
        steps_per_call(course_cnn, batch_size=20)                     # 1 on a CPU
        steps_per_call(course_cnn, batch_size=20, accelerator=True)   # 10
    """
    from ..runtime.precision import model_flops

    from ..runtime.backend import max_steps_per_call

    if any(_acts_on_batches(c) for c in callbacks) or max_steps_per_call(STEPS_PER_CALL) == 1:
        return 1   # a callback that acts on every batch, or PyTorch's trainer (one step per call only)
    if not accelerator and model_flops(model) * max(int(batch_size), 1) >= SMALL_STEP_WORK:
        return 1
    return max(1, min(STEPS_PER_CALL, int(steps))) if steps else STEPS_PER_CALL


def _acts_on_batches(callback: Any) -> bool:
    """Whether a Keras callback overrides a training-batch hook (as Keras' own async check reads them)."""
    import keras

    base = keras.callbacks.Callback
    names = ("on_batch_begin", "on_batch_end", "on_train_batch_begin", "on_train_batch_end")
    return any(getattr(type(callback), name, None) is not getattr(base, name) for name in names)


def prebuild(model: Any, data_batch: Any) -> None:
    """Create the optimizer's and metrics' variables before ``fit`` traces its step (TensorFlow backend).

    ``data_batch``: ``(x, y)`` arrays or a dataset's ``element_spec`` (anything with ``shape`` and
    ``dtype``). Models with their own ``train_step``, and models under a distribution strategy (Keras
    builds those itself, in the strategy's scope), are left to Keras.

    Example::

        prebuild(model, dataset.element_spec)
    """
    import keras

    build = getattr(model, "_symbolic_build", None)
    if build is None or data_batch is None or keras.backend.backend() != "tensorflow" or _own_train_step(model):
        return
    if getattr(model, "_distribute_strategy", None) is not None:
        return
    build(data_batch=data_batch)


def _own_train_step(model: Any) -> bool:
    """Whether ``model`` overrides Keras' ``train_step`` (its build may need real data)."""
    import keras

    return type(model).train_step is not keras.Model.train_step


def _forget_compiled_steps(model: Any) -> None:
    """Make Keras trace its step functions again (they bake ``steps_per_execution`` in)."""
    for name in ("train_function", "test_function", "predict_function"):
        if hasattr(model, name):
            setattr(model, name, None)


@contextlib.contextmanager
def fast_steps(model: Any, steps: int, data_batch: Any) -> Iterator[None]:
    """Run the ``fit`` inside with ``steps`` steps per call and the model built first (restored if it fails).

    Example::

        with fast_steps(trainer, steps_per_call(trainer, 20, 50), dataset.element_spec):
            trainer.fit(dataset, epochs=3)
    """
    before = getattr(model, "steps_per_execution", 1)
    if steps != before:
        model.steps_per_execution = steps
        _forget_compiled_steps(model)
    try:
        prebuild(model, data_batch)
        yield
    except BaseException:
        if getattr(model, "steps_per_execution", before) != before:
            model.steps_per_execution = before
            _forget_compiled_steps(model)
        raise


__all__ = ["SMALL_STEP_WORK", "STEPS_PER_CALL", "fast_steps", "prebuild", "steps_per_call"]
