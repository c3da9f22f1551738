"""``%nn_build`` / ``%%nn_build``: build a Keras model from a few lines."""
from __future__ import annotations

from IPython.core.magic import line_cell_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from ..errors import NNUsageError
from ..i18n import _
from ..model.spec_checks import check_name
from .base import NNMagicsBase, parse_args


@magics_class
class BuildMagics(NNMagicsBase):
    """The model-building magics."""

    @magic_arguments()
    @argument("name", nargs="?", help="name of the model in the notebook")
    @argument("--api", help="functional (default) | sequential | subclass")
    @argument("--layers", help='layers separated by commas, e.g. "dense 3 relu, dense 3 softmax"')
    @argument("--from", dest="data", metavar="DATA", help="dataset whose input shape and classes set the ends")
    @argument("--preset", help="course-dense | course-cnn")
    @argument("--dropout", help="add Dropout(RATE) before the output layer (the course uses 0.5)")
    @argument("--code", action="store_true", help="print the equivalent plain Keras code")
    @argument("--weights", action="store_true", help="show get_weights() as labelled tables")
    @argument("--save", metavar="PATH", help="save the weights to PATH (.weights.h5), atomically")
    @argument("--load", metavar="PATH", help="load weights saved from the same architecture")
    @argument("--panel", action="store_true", help="open the layer editor widget")
    @argument("--quiet", action="store_true", help="do not show the summary")
    @line_cell_magic
    def nn_build(self, line: str = "", cell: str | None = None):
        """Build a Keras model into NAME from the layer language, a preset or a dataset.

        Layers: ``input 2`` · ``input 150x150x3`` · ``dense UNITS [ACT]`` · ``conv FILTERS KERNEL [ACT]`` ·
        ``pool SIZE`` · ``flatten`` · ``dropout RATE`` · ``batchnorm`` · ``gap`` · ``augment [SEED]`` (the course's
        ImageDataGenerator augmentation, one fused transform) · ``rescale 1/255``

        Examples::

            %nn_build model --preset course-dense --api sequential --code
            %nn_build model --layers "dense 3 relu, dense 3 relu" --from data4
            %nn_build cnn --preset course-cnn --dropout 0.5

            %%nn_build model --api subclass
            input 2
            dense 3 relu
            dense 3 relu
            dense 3 softmax

            %nn_build model --weights --save course.weights.h5     # an existing model

        The model is a plain Keras model; the summary explains each parameter count.
        """
        args = parse_args(self.nn_build, line)
        if not args.name:
            raise NNUsageError(_("Give the model a name, e.g. %nn_build model --preset course-dense."))
        check_name(args.name)
        if args.save:
            from ..model.weights_io import check_writable

            check_writable(args.save, "--save")  # before building: a bad path changes nothing
        if args.panel:
            return self._panel(args, cell)
        text = cell if cell is not None else args.layers
        if cell is not None and args.layers:
            raise NNUsageError(_("Give the layers either in the cell or with --layers, not both."))
        wants_new = bool((text and text.strip()) or args.preset or args.data)
        if wants_new:
            model = self._build(args, text)
            self.put_object(args.name, model)
        else:
            model = self._existing_model(args)
        self._after_build(model, args, built=wants_new)

    def _build(self, args, text):
        from ..model.build import build_model

        data = self.get_object(args.data, "dataset") if args.data else None
        # --dropout's text is checked where every dropout rate is (spec_checks.dropout_rate)
        return build_model(text or None, api=args.api or self.settings.default_api, preset=args.preset,
                           data=data, dropout=args.dropout, name=args.name)

    def _existing_model(self, args):
        if args.name not in self.shell.user_ns:
            raise NNUsageError(_("There is no model named '{name}'; give layers (--layers, a cell, --preset or --from DATA) "
                                 "to build one.").format(name=args.name))
        model = self.shell.user_ns[args.name]
        if not hasattr(model, "count_params") or not hasattr(model, "layers"):
            raise NNUsageError(_("'{name}' is a {type}, not a Keras model.").format(name=args.name,
                                                                                   type=type(model).__name__))
        return model

    def _after_build(self, model, args, built: bool) -> None:
        from ..display.model_view import show_code, show_summary, show_weights
        from ..display.output import show_text

        if args.load:
            from ..model.weights_io import load_weights

            path = load_weights(model, args.load)
            show_text(_("Loaded weights from {path}.").format(path=path))
        if not args.quiet:
            show_summary(model)
        if args.code or (built and self.settings.show_code):
            show_code(self._code(model, args))
        if args.weights:
            show_weights(model)
        if args.save:
            from ..model.weights_io import save_weights

            path = save_weights(model, args.save)
            show_text(_("Saved weights to {path} (reload with %nn_build {name} --load {path}).").format(path=path,
                                                                                                 name=args.name))

    def _code(self, model, args) -> str:
        from ..model.build import model_code, specs_of

        specs = specs_of(model)
        if specs is None:
            raise NNUsageError(_("--code works for models built by %nn_build; '{name}' was built elsewhere.").format(
                name=args.name))
        api = args.api or _api_of(model)
        return model_code(specs, api=api)

    def _panel(self, args, cell):
        from ..display.builder_panel import BuilderPanel

        initial = cell if cell is not None else (args.layers or "")
        panel = BuilderPanel(self.shell.user_ns, args.name, initial_layers=initial, preset=args.preset,
                             api=args.api or self.settings.default_api)
        panel.show()
        return None


def _api_of(model) -> str:
    kind = type(model).__name__
    if kind == "Sequential":
        return "sequential"
    if kind == "Functional":
        return "functional"
    return "subclass"
