"""Read a model: its summary as a table with each parameter count explained, and its weights."""
from __future__ import annotations

from typing import Any

from ..i18n import N_, _, num

# the summary table's columns: its keys (code reads them), and their headers as shown (translated there)
COLUMNS = {"layer": N_("layer"), "type": N_("type"), "output shape": N_("output shape"), "params": N_("params"),
           "why": N_("why"), "trainable": N_("trainable")}


def _shape_text(shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def output_shapes(model) -> dict[str, str]:
    """Each layer's output shape as plain text, e.g. ``{"dense": "(None, 3)"}`` ("?" where unknown).

    Public Keras only (Keras' own summary formatter is private and prints Rich markup): a layer's
    ``output`` where the model records it (Functional, Sequential); otherwise, as in subclassed
    models whose ``call`` runs the layers in order, the shapes are chained with
    ``compute_output_shape`` from the shape the model was built with (``get_build_config``).

    Example::

        output_shapes(model)["dense_1"]   # '(None, 3)'
    """
    shapes: dict[str, str] = {}
    missing = []
    for layer in model.layers:
        try:
            shapes[layer.name] = _shape_text(layer.output.shape)
        except (AttributeError, ValueError, TypeError):
            missing.append(layer)
    if missing:
        shapes.update(_chained_shapes(model, missing))
    return shapes


def _chained_shapes(model, wanted) -> dict[str, str]:
    from ..checks import model_input_shape

    wanted_names = {layer.name for layer in wanted}
    sample = model_input_shape(model)
    shape = (None, *sample) if sample is not None else ()
    found = {}
    for layer in model.layers:
        if not shape:
            break
        try:
            shape = tuple(layer.compute_output_shape(shape))
        except Exception:  # noqa: BLE001 - a layer off the main path: stop guessing
            break
        if layer.name in wanted_names:
            found[layer.name] = _shape_text(shape)
    return {name: found.get(name, "?") for name in wanted_names}


def explain_params(layer) -> str:
    """Why a layer has its parameter count, e.g. ``2 inputs × 3 units + 3 biases = 9``.

    The explanation is the ``explain`` of the layer-table row whose Keras class the layer is
    (``spec.kind_for_layer``): Dense, Conv2D, BatchNormalization, and any registered kind.

    Example::

        explain_params(model.layers[1])   # '2 inputs × 3 units + 3 biases = 9'
    """
    from .spec import kind_for_layer

    count = layer.count_params() if layer.built else 0
    row = kind_for_layer(layer)
    if row is not None and row.explain is not None and layer.built:
        return row.explain(layer, count)
    if count == 0:
        return _("no weights")
    return num(count, ",")


def summary_table(model):
    """The model summary as a DataFrame: layer, type, output shape, parameters and their explanation.

    Example::

        summary_table(model)   # one row per layer, plus the totals in ``.attrs``
    """
    import pandas as pd

    rows = []
    shapes = output_shapes(model)
    for layer in model.layers:
        rows.append({
            "layer": layer.name,
            "type": type(layer).__name__,
            "output shape": shapes.get(layer.name, "?"),
            "params": layer.count_params() if layer.built else 0,
            "why": explain_params(layer),
            "trainable": bool(layer.trainable),
        })
    table = pd.DataFrame(rows, columns=["layer", "type", "output shape", "params", "why", "trainable"])
    trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    total = model.count_params()
    table.attrs.update(total=total, trainable=trainable, non_trainable=total - trainable, name=model.name)
    return table


def shown_columns(frame):
    """``frame`` with its columns' headers in the language in use (the summary table's keys stay English).

    Example::

        show_frame(shown_columns(summary_table(model).drop(columns=["trainable"]).set_index("layer")))
    """
    def header(column):
        return _(COLUMNS[column]) if column in COLUMNS else column   # marked with N_ above

    renamed = frame.rename(columns=header)
    if renamed.index.name in COLUMNS:
        renamed.index.name = header(renamed.index.name)
    return renamed


def summary_text(model) -> str:
    """The summary table as aligned text with the totals (for plain IPython).

    Example::

        print(summary_text(model))   # Model 'functional' … Total params: 33   Trainable: 33 …
    """
    table = summary_table(model)
    shown = shown_columns(table.drop(columns=["trainable"])).to_string(index=False)
    a = table.attrs
    return (_("Model '{name}'").format(name=a["name"]) + f"\n{shown}\n"
            + _("Total params: {total}   Trainable: {trainable}   Non-trainable: {non_trainable}").format(
                total=num(a["total"], ","), trainable=num(a["trainable"], ","),
                non_trainable=num(a["non_trainable"], ",")))


def weights_tables(model) -> list[tuple[str, Any]]:
    """``get_weights()`` as labelled DataFrames: for each layer its kernel (inputs × units) and bias.

    Example::

        for title, frame in weights_tables(model):
            print(title); print(frame)
    """
    import numpy as np
    import pandas as pd

    tables = []
    for layer in model.layers:
        for variable in layer.weights:
            value = np.asarray(variable.numpy())
            short = variable.path.split("/")[-1] if hasattr(variable, "path") else variable.name
            title = f"{layer.name} · {short} {tuple(value.shape)}"
            if value.ndim == 1:
                frame = pd.DataFrame([value], index=[short], columns=_unit_names(value.shape[0]))
            elif value.ndim == 2:
                frame = pd.DataFrame(value, index=[_("input {i}").format(i=i) for i in range(value.shape[0])],
                                     columns=_unit_names(value.shape[1]))
            else:  # conv kernels: one row per filter, flattened
                flat = value.reshape(-1, value.shape[-1]).T
                frame = pd.DataFrame(flat, index=[_("filter {i}").format(i=i) for i in range(flat.shape[0])])
            tables.append((title, frame))
    return tables


def _unit_names(n: int) -> list[str]:
    return [_("unit {i}").format(i=i) for i in range(n)]
