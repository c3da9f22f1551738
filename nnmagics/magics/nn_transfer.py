"""``%nn_transfer``: transfer learning from any ``keras.applications`` base (InceptionV3 at mixed7, ResNet50, …)."""
from __future__ import annotations

from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from ..checks import positive_number, whole_number
from ..errors import NNUsageError, unknown
from ..i18n import _, num
from ..model.spec_checks import check_name
from .base import parse_args
from .transfer import TransferMagics, _show_predictions, applies_to, phase_two_next

COMMANDS = ("build", "predict", "labels", "bases")
_BUILD_ONLY = ("classes", "mode", "cut", "pooling", "head_units", "dropout", "fine_tune_from", "lr", "code", "quiet")
_FLAGS = {"classes": "--classes", "mode": "--mode", "cut": "--cut", "pooling": "--pooling", "head_units": "--head-units",
          "dropout": "--dropout", "fine_tune_from": "--fine-tune-from", "lr": "--lr", "code": "--code",
          "quiet": "--quiet", "top": "--top", "limit": "--limit", "weights": "--weights", "data": "--from",
          "contains": "--contains", "group": "--group", "groups": "--groups", "base": "--base"}
_PREDICT_ONLY = ("top", "limit")


@magics_class
class NNTransferMagics(TransferMagics):
    """The transfer-learning magic over every base of ``keras.applications``."""

    @magic_arguments()
    @argument("command", nargs="?", help="build | predict | labels | bases")
    @argument("target", nargs="?", help="build: NAME of the model; predict: IMAGE (a file, DATA[i] or a folder)")
    @argument("--base", help="vgg16 (default) | inception_v3 | resnet50 | mobilenet_v2 | efficientnet_b0 | … "
                             "(%%nn_transfer bases lists them all)")
    @argument("--cut", metavar="LAYER", help="build: keep the base up to LAYER, e.g. mixed7 (the course's InceptionV3)")
    @argument("--from", dest="data", metavar="DATA", help="build: the dataset giving classes and image size")
    @argument("--classes", help="build: number of classes of the new output layer")
    @argument("--mode", help="build: features (base frozen + new head, cached features: default) | replace-top")
    @argument("--pooling", help="build: avg (default) | max | flatten (the course's Flatten after mixed7)")
    @argument("--head-units", dest="head_units", help="build: units of the head's Dense layer (256; the course: 1024)")
    @argument("--dropout", help="build: dropout rate of the head (0.5; the course: 0.2)")
    @argument("--fine-tune-from", dest="fine_tune_from", metavar="LAYER",
              help="build: train the base's layers after LAYER (mixed6), or a VGG16 block (block5)")
    @argument("--lr", help="build --fine-tune-from: learning rate of phase 2 when compiled (default 1e-5)")
    @argument("--weights", help="imagenet (default, Keras' cache) | PATH of the base's weights file | none (random)")
    @argument("--top", help="predict: number of classes shown for one image (default 5)")
    @argument("--limit", help="predict: most images predicted from a folder (default 100, 0 = all)")
    @argument("--contains", help="labels: only labels containing WORD")
    @argument("--group", help="labels: a family: dog, cat, bird… (see --groups)")
    @argument("--groups", action="store_true", help="labels: list the families with their index ranges")
    @argument("--code", action="store_true", help="build: print the equivalent plain Keras code")
    @argument("--quiet", action="store_true", help="build: do not show the summary")
    @line_magic
    def nn_transfer(self, line: str = ""):
        """Transfer learning from any pretrained base of ``keras.applications``.

        The course's source exercise (InceptionV3 cut at mixed7, a new head, then fine-tuning after mixed6)::

            %nn_transfer build tl --base inception_v3 --cut mixed7 --from cats --pooling flatten --head-units 1024 --dropout 0.2
            %nn_train tl cats --epochs 10                      # base frozen: its outputs are cached, epochs take seconds
            %nn_transfer build tl --fine-tune-from mixed6      # phase 2: every layer after mixed6 trains
            %nn_train tl cats --epochs 5 --optimizer sgd --lr 1e-5

        Other bases and commands::

            %nn_transfer bases                                  # every base: input size, module
            %nn_transfer build rn --base resnet50 --from cats --code     # prints the plain Keras that built it
            %nn_transfer build mn --base mobilenet_v2 --classes 2 --weights none   # random weights: a dry run
            %nn_transfer predict dog.jpg --base inception_v3    # ImageNet's top 5 at the base's own size
            %nn_transfer labels --group dog

        Every model takes raw 0–255 pixels and applies its base's own ``preprocess_input`` inside.
        ``imagenet`` weights come from Keras' cache and are downloaded once when the network allows;
        offline, one sentence names the file and the folder to put it in. ``%vgg_transfer`` is the
        course's VGG16 recipe under its own name.
        """
        args = parse_args(self.nn_transfer, line)
        command = (args.command or "").strip().lower()
        if not command:
            raise NNUsageError(_("Say what to do: %nn_transfer build NAME --base inception_v3 --from DATA, "
                                 "%nn_transfer predict IMAGE, %nn_transfer labels --group dog, or %nn_transfer bases."))
        if command not in COMMANDS:
            raise unknown(_("Unknown %nn_transfer command '{word}'."), command, COMMANDS)
        self._check_transfer_options(command, args)
        if command == "bases":
            return self._bases()
        if command == "labels":
            return self._labels(args)
        if command == "predict":
            return self._predict_any(args)
        return self._build_any(args)

    # -- checks ------------------------------------------------------------------------------
    @staticmethod
    def _check_transfer_options(command: str, args) -> None:
        owners = {**{o: ("build",) for o in _BUILD_ONLY}, **{o: ("predict",) for o in _PREDICT_ONLY},
                  "contains": ("labels",), "group": ("labels",), "groups": ("labels",),
                  "base": ("build", "predict"), "weights": ("build", "predict"), "data": ("build",)}
        for option, commands in owners.items():
            value = getattr(args, option, None)
            if value not in (None, False) and command not in commands:
                raise NNUsageError(applies_to(_FLAGS[option], commands, command))

    # -- bases ------------------------------------------------------------------------------
    def _bases(self) -> None:
        import pandas as pd

        from ..display.output import show_frame
        from ..transfer.bases import BASES

        columns = [_("base"), "Keras", _("preprocess_input from"), _("ImageNet size"), _("smallest")]
        frame = pd.DataFrame([(b.name, f"keras.applications.{b.cls}", b.module, f"{b.size}×{b.size}",
                               f"{b.min_size}×{b.min_size}") for b in BASES], columns=columns)
        show_frame(frame.set_index(columns[0]), caption=_("{n} pretrained bases (--base NAME)").format(n=len(BASES)))

    # -- predict -----------------------------------------------------------------------------
    def _predict_any(self, args) -> None:
        from ..transfer.app_predict import imagenet_predict
        from ..transfer.bases import find_base
        from ..transfer.predict import DEFAULT_FOLDER_LIMIT

        if not args.target:
            raise NNUsageError(_("Give an image: %nn_transfer predict dog.jpg --base inception_v3 "
                                 "(a file, DATA[i] or a folder)."))
        base = find_base(args.base or "vgg16")
        images = self._image_argument(args.target)
        limit = whole_number(args.limit, "--limit", minimum=0) if args.limit is not None else DEFAULT_FOLDER_LIMIT
        from ..display.output import show_text

        frame = imagenet_predict(images, base=base, top=args.top if args.top is not None else 5,
                                 weights=args.weights or "imagenet", limit=limit or None, announce=show_text)
        title = f"{base.cls} (ImageNet)"
        if str(args.weights or "").strip().lower() in ("none", "random"):
            title = _("{base} with random weights (--weights none: the labels mean nothing)").format(base=base.cls)
        _show_predictions(frame, title)

    # -- build -------------------------------------------------------------------------------
    def _build_any(self, args) -> None:
        from .. import transfer as tr
        from ..display.output import show_text
        from ..transfer import app_models as am
        from ..transfer.bases import find_base

        name = args.target
        if not name:
            raise NNUsageError(_("Give the model a name, e.g. %nn_transfer build tl --base inception_v3 --from "
                                 "cats."))
        check_name(name)
        lr = positive_number(args.lr, "--lr", example="1e-5") if args.lr is not None else 1e-5
        new = ("base", "classes", "mode", "data", "weights", "head_units", "cut", "pooling", "dropout")
        if args.fine_tune_from and not any(getattr(args, o) is not None for o in new) and name in self.shell.user_ns:
            return self._fine_tune_any(name, args.fine_tune_from, lr, args)
        base = find_base(args.base or "vgg16")
        data = self.get_object(args.data, "dataset") if args.data else None
        head_units = whole_number(args.head_units, "--head-units", minimum=0, example="256") \
            if args.head_units is not None else 256
        dropout = args.dropout if args.dropout is not None else 0.5
        if base.name == "vgg16" and not args.cut and (args.pooling or "avg") in ("avg", "average", "gap"):
            block = _vgg_block(args.fine_tune_from) if args.fine_tune_from else None
            model = tr.vgg_transfer(args.classes, mode=args.mode or "features", weights=args.weights or "imagenet",
                                    data=data, head_units=head_units, dropout=_rate(dropout), name=name,
                                    announce=show_text)
            if block:
                tr.fine_tune(model, block, learning_rate=lr)
            self.put_object(name, model)
            return self._after_build(model, args)
        model = am.transfer_model(base, args.classes, mode=args.mode or "features", cut=args.cut,
                                  weights=args.weights or "imagenet", data=data, pooling=args.pooling or "avg",
                                  head_units=head_units, dropout=_rate(dropout), fine_tune_from=args.fine_tune_from,
                                  name=name, announce=show_text)
        self.put_object(name, model)
        self._after_app_build(model, args)

    def _fine_tune_any(self, name: str, layer: str, lr: float, args) -> None:
        from .. import transfer as tr
        from ..display.output import show_text
        from ..transfer import app_models as am

        model = self.get_model(name)
        info = tr.transfer_info(model)
        if not info.get("app_spec"):
            if info.get("spec"):     # a VGG16 model of %vgg_transfer: its blocks
                return self._fine_tune_existing(name, _vgg_block(layer), lr, args)
            raise NNUsageError(_("Model '{name}' was not built by %nn_transfer build; build one with "
                                 "%nn_transfer build {name} --base inception_v3 --from DATA.").format(name=name))
        unfrozen = am.fine_tune_after(model, layer, learning_rate=lr)
        total, trainable = tr.trainable_summary(model)
        then = phase_two_next(model, name, lr)
        show_text(_("Fine-tuning '{name}' after {layer}: {n} layers of {base} train "
                    "({trainable} of {total} parameters; BatchNormalization stays frozen); {then}. Training now "
                    "runs the base end to end (no cached features).").format(
            name=name, layer=layer, n=len(unfrozen), base=info["base"].cls, trainable=num(trainable, ","),
            total=num(total, ","), then=then))
        if args.code:
            from ..display.model_view import show_code

            show_code(am.app_transfer_code(model))

    def _after_app_build(self, model, args) -> None:
        from .. import transfer as tr
        from ..display.output import show_text
        from ..transfer import app_models as am

        info = tr.transfer_info(model)
        spec = info["app_spec"]
        total, trainable = tr.trainable_summary(model)
        if not args.quiet:
            from ..display.model_view import show_summary

            show_summary(model)
        h, w, _channels = info["input_shape"]
        fields = dict(name=model.name, mode=info["mode"], base=spec.base.cls, cut=spec.cut, total=num(total, ","),
                      trainable=num(trainable, ","), h=h, w=w)
        if spec.cut:
            first = _("Model '{name}' ({mode}): {base} cut at {cut}, {total} parameters, {trainable} trainable; "
                      "input {h}×{w} raw pixels (0–255), {base}'s preprocess_input inside.")
        else:
            first = _("Model '{name}' ({mode}): {base}, {total} parameters, {trainable} trainable; "
                      "input {h}×{w} raw pixels (0–255), {base}'s preprocess_input inside.")
        lines = [first.format(**fields), _("Weights: {weights}.").format(weights=info["weights"])]
        if info["mode"] == "features" and not trainable == total:
            lines.append(_("Train it with %nn_train {name} DATA: the base's outputs are computed once per "
                           "dataset and cached, so each epoch only trains the head (not with --augment).").format(
                name=model.name))
        show_text("\n".join(lines))
        if args.code:
            from ..display.model_view import show_code

            show_code(am.app_transfer_code(model))


def _rate(value) -> float:
    from ..checks import number_in_range

    return number_in_range(value, "--dropout", low=0, high=1, high_inclusive=False, example="0.2")


def _vgg_block(layer: str) -> str:
    """``block5``, ``5`` or a VGG16 layer name (``block5_conv1``) → the block name."""
    text = str(layer).strip().lower()
    return text.split("_")[0] if text.startswith("block") else text
