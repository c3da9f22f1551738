"""``%nn_diagnose``: curves and verdict, evaluation, confusion matrix, predictions, feature maps."""
from __future__ import annotations

from typing import Any

from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from ..errors import NNUsageError
from ..i18n import _
from .base import NNMagicsBase, parse_args


@magics_class
class DiagnoseMagics(NNMagicsBase):
    """The diagnosis magic."""

    @magic_arguments()
    @argument("model", nargs="?", help="name of the Keras model in the notebook")
    @argument("data", nargs="?", help="dataset to evaluate on (made by %%nn_data), in its fixed order; or a second "
                                      "model or run to compare with")
    @argument("more", nargs="*", metavar="RUN", help="more models or recorded runs to compare (%%nn_runs lists them)")
    @argument("--compare", action="store_true", help="overlay the curves of the models/runs named, each with its "
                                                     "verdict and best epoch, and a table of the runs")
    @argument("--curves", action="store_true", help="show the accuracy/loss curves and the verdict")
    @argument("--confusion", action="store_true", help="show the confusion matrix (mlxtend)")
    @argument("--report", action="store_true", help="show the per-class precision/recall/F1")
    @argument("--predictions", metavar="N", help="show the first N predictions (file, true, predicted, probability)")
    @argument("--errors", metavar="N", help="show the N most confident mistakes")
    @argument("--class-names", metavar="A,B", help="class names to show instead of the data's")
    @argument("--threshold", default="0.5", help="one sigmoid unit: class 1 when p > THRESHOLD (default 0.5)")
    @argument("--save", metavar="DIR", help="write the figures (PNG) and tables (CSV) into DIR")
    @argument("--feature-maps", metavar="IMAGE", help="an image path or DATA[i]: every conv/pool layer's maps")
    @argument("--gradcam", metavar="DATA[a:b]", help="Grad-CAM: each image under its heat map, predicted and true "
                                                       "class (DATA[a:b], DATA[i], DATA: its first 8, a file)")
    @argument("--layer", metavar="NAME", help="the conv/pool layer to show first in the feature-map gallery; "
                                             "Grad-CAM's layer (default: the last convolution)")
    @argument("--augment-preview", metavar="DATA", help="show one image of DATA (or DATA[i]) under random augmentations")
    @argument("--code", action="store_true", help="also print the plain Keras + scikit-learn/mlxtend code of what it "
                                                   "computed (evaluate, predict, confusion matrix, report, curves)")
    @line_magic
    def nn_diagnose(self, line: str = ""):
        """Diagnose MODEL: training curves with a verdict; with DATA, evaluation, confusion matrix, report.

        Without options: the accuracy and loss curves (training vs validation) with the verdict in
        words (converging, over-fitting from epoch N, under-fitting) and the best epoch; with DATA
        also ``evaluate``, the confusion matrix and the per-class report. ``--curves``,
        ``--confusion``, ``--report`` pick among those; ``--predictions``, ``--errors``,
        ``--feature-maps``, ``--gradcam`` and ``--augment-preview`` add their part (alone, they show only it).

        Predictions and labels come from one pass over DATA in its fixed order, every sample once.
        The value is a report: ``r = _`` then ``r.confusion``, ``r.evaluation``, ``r.predictions``,
        ``r.feature_maps``, ``r.gradcam``, ``r.verdict``, ``r.best_epoch``, ``r.curves``.

        Examples::

            %nn_diagnose cnn                           # curves + verdict
            %nn_diagnose cnn val                       # + evaluate, confusion matrix, per-class report
            %nn_diagnose cnn val --confusion --class-names cat,dog
            %nn_diagnose cnn val --predictions 20 --errors 10
            %nn_diagnose model data4 --threshold 0.3 --save diagnosis/
            %nn_diagnose cnn --feature-maps val[0]     # gallery: layer dropdown + image slider
            %nn_diagnose cnn --feature-maps cat.jpg --layer conv2d_1
            %nn_diagnose cnn --gradcam cats_val[0:8]   # Grad-CAM heat maps (the last convolution)
            %nn_diagnose tl --gradcam cats_val[0:8] --layer block4_conv3 --code
            %nn_diagnose --augment-preview train[3]
            %nn_diagnose cnn val --confusion --report --code   # + the plain Keras/scikit-learn of it
            %nn_diagnose cnn cnn_aug tl                # the three runs' curves on shared axes, a verdict each
            %nn_diagnose --compare cnn cnn-1 --code    # a model and a recorded run, + the matplotlib of it

        ``--code`` diagnoses as asked and prints, above the report, the plain code of what was computed:
        the data in its fixed order, ``evaluate``, ``predict``, the threshold or argmax,
        ``confusion_matrix``, ``classification_report``, mlxtend's ``plot_confusion_matrix`` and the
        course's curves from ``history.history``.

        Several models or recorded runs (``--compare``, or names that are not a dataset) are compared:
        their training (dashed) and validation (solid) curves on shared axes, each with its verdict and
        best epoch, and a table of the runs; a model of this kernel shows its history, any other name
        the latest recorded run of that model (or the run so named, ``cnn-2``), from any kernel.
        """
        args = parse_args(self.nn_diagnose, line)
        names = [n for n in (args.model, args.data, *args.more) if n]
        if args.compare or args.more or (len(names) == 2 and self._comparable(names[1])):
            return self._compare(names, args)
        from ..data.refs import resolve_images
        from ..diagnosis import diagnose

        if not args.model and not args.augment_preview:
            raise NNUsageError(_("Give the model to diagnose, e.g. %nn_diagnose cnn val (see %nn_diagnose?)."))
        model = self.get_model(args.model) if args.model else None
        data = self._data(args.data) if args.data else None
        show = [part for part in ("curves", "confusion", "report") if getattr(args, part)]
        report = diagnose(
            model, data,
            threshold=args.threshold,
            class_names=args.class_names,
            predictions=args.predictions,
            errors=args.errors,
            feature_maps=self._image(args.feature_maps) if args.feature_maps else None,
            layer=args.layer,
            show=show or None,
            augment_preview=self._dataset_item(args.augment_preview, "--augment-preview") if args.augment_preview else None,
            gradcam=resolve_images(self.shell.user_ns, args.gradcam, "--gradcam") if args.gradcam else None,
            save=args.save,
        )
        if args.model:
            report.model_name = args.model
        if args.data:
            report.data_name = args.data
        if args.code and report.recipe is not None:
            from dataclasses import replace

            from ..diagnosis.code import diagnose_code
            from ..display.model_view import show_code

            report.recipe = replace(report.recipe, model_name=report.model_name, data_name=report.data_name)
            show_code(diagnose_code(report.recipe))
        return report

    # -- several runs --------------------------------------------------------------------------------
    def _comparable(self, name: str) -> bool:
        """Whether a second name means a comparison: a model or history here, or a recorded run."""
        value = self.shell.user_ns.get(name)
        if value is not None:
            return hasattr(value, "layers") or hasattr(value, "history")
        from ..runs import find_run

        return find_run(name) is not None

    def _compare(self, names: list[str], args):
        """``%nn_diagnose a b c``: the comparison of those models/runs (``--save``, ``--code`` apply)."""
        alone = [f"--{o.replace('_', '-')}" for o in ("curves", "confusion", "report", "predictions", "errors",
                                                       "class_names", "feature_maps", "layer", "augment_preview")
                 if getattr(args, o)]
        if alone:
            raise NNUsageError(_("{option} applies to one model; a comparison shows the runs' curves (with --save "
                                 "or --code), e.g. %nn_diagnose cnn cnn_aug tl.").format(option=alone[0]))
        from ..diagnosis.comparison import compare, compare_code

        items = []
        for name in names:
            value = self.shell.user_ns.get(name, name)
            if value is not name and not (hasattr(value, "layers") or hasattr(value, "history")):
                raise NNUsageError(_("'{name}' is not a model, a history or a recorded run, so it has no curves to "
                                     "compare; give models or runs, e.g. %nn_diagnose cnn cnn_aug tl.").format(name=name))
            items.append(value)
        comparison = compare(*items, names=names)
        if args.save:
            comparison.save(args.save)
        if args.code:
            from ..display.model_view import show_code

            show_code(compare_code(comparison))
        return comparison

    # -- arguments → objects (DATA[i] is read by nnmagics.data.refs, the one grammar) -------------
    def _data(self, name: str):
        from ..checks import check_data
        from ..data.refs import parse_reference

        if parse_reference(name):
            raise NNUsageError(_("DATA is a whole dataset, not '{name}'; write %nn_diagnose MODEL {data}.").format(
                name=name, data=name.split('[')[0]))
        data = self.get_object(name, "dataset")
        check_data(data, f"'{name}'")
        return data

    def _dataset_item(self, text: str, option: str) -> tuple[Any, int]:
        """``NAME`` or ``NAME[i]`` → ``(image dataset, i)``."""
        from ..data.refs import check_index, image_dataset, resolve_item

        ns = self.shell.user_ns
        found = resolve_item(ns, text, option)
        if found is not None:
            return found
        data = image_dataset(ns, text.strip(), option)
        return data, check_index(data, 0, text.strip())

    def _image(self, text: str) -> Any:
        """``--feature-maps``: ``DATA[i]``, a dataset name (its first image), an array name, or a file path."""
        from ..data.refs import resolve_item

        found = resolve_item(self.shell.user_ns, text, "--feature-maps")
        if found is not None:
            return found
        value = self.shell.user_ns.get(text) if text.isidentifier() else None
        if value is not None and hasattr(value, "as_tf_dataset"):
            return value, 0  # a dataset: its first image (a table is refused with a clear message)
        if value is not None and hasattr(value, "shape") and len(getattr(value, "shape", ())) == 3:
            return value
        return text
