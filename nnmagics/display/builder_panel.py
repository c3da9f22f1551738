"""``%nn_build NAME --panel``: a layer editor (add, remove, reorder layers) with a live summary.

The kind dropdown, the value box's hint and whether the activation dropdown applies are read from the
layer table (``spec.layer_kinds()``), so a registered layer kind appears here too.
"""
from __future__ import annotations

import html
from typing import Any

from ..i18n import _, num
from ..model.presets import preset_layers
from ..model.spec import ACTIVATIONS, format_layer, kind_of, layer_words, parse_layers


def _split(spec) -> tuple[str, str, str]:
    """A spec → (kind, the value box's text, activation): ``dense 3 relu`` → ('dense', '3', 'relu').

    The activation (of kinds whose row takes one) goes to its own dropdown.

    Example::

        >>> _split(parse_layers("conv 16 3x5 relu")[0])
        ('conv', '16 3x5', 'relu')
    """
    row = kind_of(spec.kind)
    words = format_layer(spec).split()[1:]
    activation = spec.args.get("activation") or ""
    if row.takes_activation and activation:
        words = words[:-1]
    return spec.kind, " ".join(words), activation


class BuilderPanel:
    """An ipywidgets editor of the layer list; the Build button stores the model under ``name``.

    Example::

        panel = BuilderPanel(get_ipython().user_ns, "model", preset="course-dense")
        panel.show()          # edit in the notebook, then click Build
    """

    def __init__(self, namespace: dict, name: str, *, initial_layers: str = "", preset: str | None = None,
                 api: str = "functional"):
        import ipywidgets as w

        from ..model.spec_checks import check_name

        self.namespace, self.name = namespace, check_name(name)
        specs = preset_layers(preset) if preset else (parse_layers(initial_layers) if initial_layers.strip() else
                                                      parse_layers("input 2, dense 3 relu, dense 3 softmax"))
        self.rows: list[dict[str, Any]] = []
        self.api = w.Dropdown(options=["functional", "sequential", "subclass"], value=api, description="API")  # not translated: a name
        self.add_button = w.Button(description=_("Add layer"), icon="plus")
        self.build_button = w.Button(description=_("Build"), button_style="primary", icon="check")
        self.status = w.HTML()
        self.summary = w.HTML()
        self.rows_box = w.VBox()
        self.add_button.on_click(lambda _: self.add_layer("dense", "3", "relu"))
        self.build_button.on_click(lambda _: self.build())
        self.api.observe(lambda _: self.refresh(), names="value")
        for spec in specs:
            self.add_layer(*_split(spec), refresh=False)
        self.widget = w.VBox([
            w.HTML(_("<b>Layer editor</b> — model <code>{name}</code>").format(name=html.escape(name))),
            self.rows_box, w.HBox([self.add_button, self.api, self.build_button]), self.status, self.summary,
        ])
        self.refresh()

    # -- editing ----------------------------------------------------------------------
    def add_layer(self, kind: str = "dense", value: str = "", activation: str = "", *, refresh: bool = True) -> None:
        """Append a layer row (``kind``, its values, its activation)."""
        import ipywidgets as w

        row = {
            "kind": w.Dropdown(options=list(layer_words()), value=kind, layout=w.Layout(width="110px")),
            "value": w.Text(value=value, placeholder=kind_of(kind).editor_hint, layout=w.Layout(width="130px")),
            "activation": w.Dropdown(options=[""] + list(ACTIVATIONS), value=activation, layout=w.Layout(width="110px")),
            "up": w.Button(icon="arrow-up", layout=w.Layout(width="36px"), tooltip=_("move up")),
            "down": w.Button(icon="arrow-down", layout=w.Layout(width="36px"), tooltip=_("move down")),
            "remove": w.Button(icon="trash", layout=w.Layout(width="36px"), tooltip=_("remove")),
        }
        row["up"].on_click(lambda _, r=row: self.move(self.rows.index(r), -1))
        row["down"].on_click(lambda _, r=row: self.move(self.rows.index(r), +1))
        row["remove"].on_click(lambda _, r=row: self.remove(self.rows.index(r)))
        for key in ("kind", "value", "activation"):
            row[key].observe(lambda _: self.refresh(), names="value")
        self.rows.append(row)
        if refresh:
            self.refresh()

    def remove(self, index: int) -> None:
        """Remove the layer at ``index``."""
        del self.rows[index]
        self.refresh()

    def move(self, index: int, delta: int) -> None:
        """Move the layer at ``index`` up (−1) or down (+1)."""
        target = index + delta
        if 0 <= target < len(self.rows):
            self.rows[index], self.rows[target] = self.rows[target], self.rows[index]
            self.refresh()

    # -- reading ----------------------------------------------------------------------
    def layers_text(self) -> str:
        """The layer list in the layer language, one line per layer."""
        lines = []
        for row in self.rows:
            kind = row["kind"].value
            parts = [kind, row["value"].value.strip()]
            if kind_of(kind).takes_activation:
                parts.append(row["activation"].value)
            lines.append(" ".join(p for p in parts if p))
        return "\n".join(lines)

    def refresh(self) -> None:
        """Redraw the rows and the live summary (or the error the current layers give)."""
        import ipywidgets as w

        from ..errors import NNUsageError

        self.rows_box.children = [
            w.HBox([r["kind"], r["value"], r["activation"], r["up"], r["down"], r["remove"]]) for r in self.rows
        ]
        for r in self.rows:  # the row of the layer table says what the value box and the dropdown take
            row = kind_of(r["kind"].value)
            r["activation"].disabled = not row.takes_activation
            r["value"].placeholder = row.editor_hint
        try:
            model = self._model()
        except NNUsageError as exc:
            self.status.value = f"<span style='color:#b00'>{html.escape(str(exc))}</span>"
            self.summary.value = ""
            return
        self.status.value = _("{n} parameters — click Build to store it as <code>{name}</code>.").format(
            n=num(model.count_params(), ","), name=html.escape(self.name))
        self.summary.value = self._summary_html(model)

    def build(self):
        """Build the model from the rows and store it in the namespace; returns it (None on an error)."""
        from ..errors import NNUsageError

        try:
            model = self._model(name=self.name)
        except NNUsageError as exc:
            self.status.value = f"<span style='color:#b00'>{html.escape(str(exc))}</span>"
            return None
        self.namespace[self.name] = model
        self.status.value = _("Built <code>{name}</code>: {n} parameters.").format(
            name=html.escape(self.name), n=num(model.count_params(), ","))
        return model

    def _model(self, name: str | None = None):
        from ..model.build import build_model

        return build_model(self.layers_text(), api=self.api.value, name=name)

    @staticmethod
    def _summary_html(model) -> str:
        from ..model.inspect import shown_columns, summary_table
        from .output import frame_html

        table = shown_columns(summary_table(model).drop(columns=["trainable"]).set_index("layer"))
        return frame_html(table)

    def show(self) -> None:
        """Display the editor."""
        from IPython.display import display

        display(self.widget)
