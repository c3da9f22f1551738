"""``%vgg_transfer``: VGG16's ImageNet predictions, the ImageNet labels, and transfer models."""
from __future__ import annotations

import base64
import html
import io
import os
import uuid

from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from ..checks import positive_number, whole_number
from ..errors import NNUsageError, unknown
from ..i18n import _, ngettext, num
from ..model.spec_checks import check_name
from .base import NNMagicsBase, parse_args

COMMANDS = ("predict", "labels", "build")
# option -> the commands it belongs to
_OPTIONS = {
    "top": ("predict",), "limit": ("predict",), "model": ("predict",),
    "contains": ("labels",), "group": ("labels",), "groups": ("labels",),
    "classes": ("build",), "mode": ("build",), "fine_tune": ("build",), "lr": ("build",), "code": ("build",),
    "quiet": ("build",), "head_units": ("build",),
    "weights": ("predict", "build"), "data": ("predict", "build"),
}
_FLAGS = {"top": "--top", "limit": "--limit", "model": "--model", "contains": "--contains", "group": "--group",
          "groups": "--groups", "classes": "--classes", "mode": "--mode", "fine_tune": "--fine-tune", "lr": "--lr",
          "code": "--code", "quiet": "--quiet", "head_units": "--head-units", "weights": "--weights", "data": "--from"}


@magics_class
class TransferMagics(NNMagicsBase):
    """The VGG16 transfer-learning magic."""

    @magic_arguments()
    @argument("command", nargs="?", help="predict | labels | build")
    @argument("target", nargs="?", help="predict: IMAGE (a file, DATA[i] or a folder); build: NAME of the model")
    @argument("--top", help="predict: number of classes shown for one image (default 5)")
    @argument("--limit", help="predict: most images predicted from a folder (default 100, 0 = all)")
    @argument("--model", help="predict: use this trained model instead of ImageNet's VGG16")
    @argument("--weights", help="predict/build: imagenet (default) | PATH of a VGG16 weights file | none (random)")
    @argument("--from", dest="data", metavar="DATA", help="build: dataset giving classes and image size; "
                                                           "predict --model: the class names")
    @argument("--contains", help="labels: only labels containing WORD")
    @argument("--group", help="labels: a family: dog, cat, bird, snake… (see --groups)")
    @argument("--groups", action="store_true", help="labels: list the families with their index ranges")
    @argument("--classes", help="build: number of classes of the new output layer")
    @argument("--mode", help="build: replace-top (the course's recipe, default) | features (fast, cached)")
    @argument("--fine-tune", dest="fine_tune", metavar="BLOCK", help="build: unfreeze VGG16 from BLOCK (block5)")
    @argument("--lr", help="build --fine-tune: learning rate of phase 2 when the model is compiled (default 1e-5)")
    @argument("--head-units", dest="head_units", help="build --mode features: units of the head's Dense layer (256)")
    @argument("--code", action="store_true", help="build: print the equivalent plain Keras code")
    @argument("--quiet", action="store_true", help="build: do not show the summary")
    @line_magic
    def vgg_transfer(self, line: str = ""):
        """Reuse VGG16: ImageNet predictions, the 1000 labels, transfer models.

        Predict ImageNet classes with the course's recipe (224×224, preprocess_input, predict)::

            %vgg_transfer predict dog.jpg                  # top 5: rank, ImageNet id, WordNet id, name, probability
            %vgg_transfer predict dog.jpg --top 3
            %vgg_transfer predict train[0]                 # image 0 of the dataset 'train'
            %vgg_transfer predict photos/                  # a folder: one row per image (top-1)
            %vgg_transfer predict cat.jpg --model tl       # a trained transfer model (its classes)

        Search the 1000 ImageNet labels (offline)::

            %vgg_transfer labels --contains retriever
            %vgg_transfer labels --group dog               # the 118 dog breeds, indices 151–268
            %vgg_transfer labels --group cat               # tabby, tiger cat, Persian, Siamese, Egyptian cat
            %vgg_transfer labels --groups                  # every family and its index range

        The course's ``label.str.contains('_dog')`` finds 5 labels and misses 114 of the 118 breeds:
        use ``--group dog``.

        Build a transfer model (raw 0–255 pixels in, VGG16's preprocess_input inside)::

            %vgg_transfer build tl --classes 2                        # the course: VGG16 minus its last layer,
                                                                      # frozen, + Dense(2, softmax)
            %vgg_transfer build tl --from train                       # classes and image size from the data
            %vgg_transfer build fast --from train --mode features     # conv base + small head: %nn_train caches
                                                                      # VGG16's outputs, epochs take seconds
            %vgg_transfer build fast --fine-tune block5               # phase 2 on the existing model
            %vgg_transfer build tl --classes 2 --weights none --code  # random weights (dry run), show the code

        The two-phase recipe: build with --mode features, %nn_train it (base frozen, fast), then
        ``%vgg_transfer build NAME --fine-tune block5`` and %nn_train a few epochs with --lr 1e-5.

        Weights: ``imagenet`` comes from Keras' cache (~/.keras/models or $KERAS_HOME/models) and is
        downloaded once (528 MB whole network, 56 MB conv base) when the network allows; offline, the
        message says which file to put where. ``--weights none`` gives random weights (labels then mean
        nothing); ``--weights PATH`` loads a VGG16 weights file.
        """
        args = parse_args(self.vgg_transfer, line)
        command = (args.command or "").strip().lower()
        if not command:
            raise NNUsageError(_("Say what to do: %vgg_transfer predict IMAGE, %vgg_transfer labels --group dog, or "
                                 "%vgg_transfer build NAME --classes 2."))
        if command not in COMMANDS:
            raise unknown(_("Unknown %vgg_transfer command '{word}'."), command, COMMANDS)
        _check_options(command, args)
        if command == "labels":
            return self._labels(args)
        if command == "predict":
            return self._predict(args)
        return self._build(args)

    # -- labels ----------------------------------------------------------------------------
    def _labels(self, args) -> None:
        from ..transfer import imagenet_labels as il
        from ..display.output import show_frame

        if args.target:
            raise NNUsageError(_("labels takes options only, not '{word}'; use --contains {word} "
                                 "or --group {word}.").format(word=args.target))
        if args.groups:
            show_frame(_shown_columns(il.groups_frame().set_index("group")),
                       caption=_("ImageNet label groups (inclusive index ranges)"))
            return
        frame = il.labels_frame(args.contains, args.group).set_index("index")
        caption = _labels_caption(il, args, len(frame))
        if frame.empty:
            if args.group:
                raise NNUsageError(_("No ImageNet label contains '{word}' in group '{group}'; try a shorter word or "
                                     "%vgg_transfer labels --groups.").format(word=args.contains, group=args.group))
            raise NNUsageError(_("No ImageNet label contains '{word}'; try a shorter word or "
                                 "%vgg_transfer labels --groups.").format(word=args.contains))
        show_frame(_shown_columns(frame), caption=caption)

    # -- predict ---------------------------------------------------------------------------
    def _predict(self, args) -> None:
        from .. import transfer as tr

        if not args.target:
            raise NNUsageError(_("Give an image: %vgg_transfer predict dog.jpg (a file, DATA[i] or a folder)."))
        images = self._image_argument(args.target)
        limit = whole_number(args.limit, "--limit", minimum=0) if args.limit is not None else tr.DEFAULT_FOLDER_LIMIT
        top = args.top if args.top is not None else 5
        if args.model:
            if args.weights:
                raise NNUsageError(_("--weights applies to VGG16's ImageNet predictions, not to --model; leave it "
                                     "out."))
            model = self.get_model(args.model)
            classes = list(self.get_object(args.data, "dataset").class_names) if args.data else None
            frame = tr.model_predict(model, images, top=top, classes=classes, limit=limit or None)
            title = _("Model '{name}'").format(name=args.model)
        else:
            if args.data:
                raise NNUsageError(_("--from gives class names to --model predictions; "
                                     "leave it out for ImageNet's VGG16."))
            frame = tr.vgg_predict(images, top=top, weights=args.weights or "imagenet", limit=limit or None)
            title = "VGG16 (ImageNet)"
            if str(args.weights or "").strip().lower() in ("none", "random"):
                title = _("VGG16 with random weights (--weights none: the labels mean nothing)")
        _show_predictions(frame, title)

    def _image_argument(self, text: str):
        """``DATA[i]`` → that image's file; anything else is a path (file or folder)."""
        from ..data.refs import resolve_item

        item = resolve_item(self.shell.user_ns, text)
        if item is None:
            return text
        data, index = item
        return data.files[index]

    # -- build -----------------------------------------------------------------------------
    def _build(self, args) -> None:
        from .. import transfer as tr
        from ..display.output import show_text

        name = args.target
        if not name:
            raise NNUsageError(_("Give the model a name, e.g. %vgg_transfer build tl --classes 2."))
        check_name(name)
        lr = positive_number(args.lr, "--lr", example="1e-5") if args.lr is not None else 1e-5
        wants_new = any(v is not None for v in (args.classes, args.mode, args.data, args.weights, args.head_units))
        if args.fine_tune and not wants_new and name in self.shell.user_ns:
            return self._fine_tune_existing(name, args.fine_tune, lr, args)
        data = self.get_object(args.data, "dataset") if args.data else None
        head_units = args.head_units if args.head_units is not None else 256  # checked by vgg_transfer
        model = tr.vgg_transfer(args.classes, mode=args.mode or "replace-top", weights=args.weights or "imagenet",
                                data=data, head_units=head_units, name=name, announce=show_text)
        if args.fine_tune:
            unfrozen = tr.fine_tune(model, args.fine_tune, learning_rate=lr)
        self.put_object(name, model)
        self._after_build(model, args)
        if args.fine_tune:
            show_text(_("Unfrozen at once: {layers}. The classic recipe trains the head first, then "
                        "fine-tunes: %vgg_transfer build {name} --fine-tune {block} on a trained model.").format(
                layers=", ".join(unfrozen), name=name, block=args.fine_tune))

    def _fine_tune_existing(self, name: str, block: str, lr: float, args) -> None:
        from .. import transfer as tr
        from ..display.output import show_text

        model = self.get_model(name)
        unfrozen = tr.fine_tune(model, block, learning_rate=lr)
        total, trainable = tr.trainable_summary(model)
        then = phase_two_next(model, name, lr)
        show_text(_("Fine-tuning '{name}': {layers} trainable ({trainable} of {total} parameters); "
                    "{then}. Training now runs VGG16 end to end (no cached features).").format(
            name=name, layers=", ".join(unfrozen), trainable=num(trainable, ","), total=num(total, ","), then=then))
        if args.code:
            from ..display.model_view import show_code

            show_code(tr.transfer_code(model))

    def _after_build(self, model, args) -> None:
        from .. import transfer as tr
        from ..display.output import show_text

        info = tr.transfer_info(model)
        total, trainable = tr.trainable_summary(model)
        if not args.quiet:
            from ..display.model_view import show_summary

            show_summary(model)
        h, w, _channels = info["input_shape"]
        lines = [_("Model '{name}' ({mode}): {total} parameters, {trainable} trainable; "
                   "input {h}×{w} raw pixels (0–255), VGG16's preprocess_input inside.").format(
                     name=model.name, mode=info["mode"], total=num(total, ","), trainable=num(trainable, ","), h=h, w=w),
                 _("Weights: {weights}.").format(weights=info["weights"])]
        if info["mode"] == "features":
            lines.append(_("Train it with %nn_train {name} DATA: VGG16's outputs are computed once per dataset "
                           "and cached, so each epoch only trains the head (not with --augment).").format(name=model.name))
        else:
            lines.append(_("Train it with %nn_train {name} DATA: every epoch runs all of VGG16 "
                           "(--mode features is much faster).").format(name=model.name))
        show_text("\n".join(lines))
        if args.code:
            from ..display.model_view import show_code

            show_code(tr.transfer_code(model))


# ----------------------------------------------------------------------------- helpers
def phase_two_next(model, name: str, lr: float) -> str:
    """What happens after unfreezing: recompiled at ``lr``, or how to train it at ``lr``."""
    compiled = getattr(model, "compiled", False) and getattr(model, "optimizer", None) is not None
    if compiled:
        return _("recompiled with {optimizer}").format(optimizer=f"{type(model.optimizer).__name__}(learning_rate={lr:g})")
    return _("train it with a low learning rate: {command}").format(command=f"%nn_train {name} DATA --epochs 5 --lr {lr:g}")


def applies_to(flag: str, commands, command: str) -> str:
    """"--top applies to predict, not to build; leave it out." (one or two commands)."""
    commands = list(commands)
    if len(commands) == 1:
        return _("{option} applies to {commands}, not to {command}; leave it out.").format(
            option=flag, commands=commands[0], command=command)
    return _("{option} applies to {first} and {second}, not to {command}; leave it out.").format(
        option=flag, first=" and ".join(commands[:-1]), second=commands[-1], command=command)


def _column_words() -> dict[str, str]:
    """The shown names of the labels' and predictions' columns (the frames keep their English keys)."""
    return {"index": _("index"), "name": _("name"), "synonyms": _("synonyms"), "group": _("group"),
            "indices": _("indices"), "classes": _("classes"), "description": _("description"), "file": _("file"),
            "rank": _("rank"), "class": _("class"), "probability": _("probability")}


def _shown_columns(frame):
    """A copy of ``frame`` whose column (and index) names are in the language in use."""
    words = _column_words()
    shown = frame.rename(columns=lambda c: words.get(c, c))
    if shown.index.name in words:
        shown.index.name = words[shown.index.name]
    return shown


def _check_options(command: str, args) -> None:
    for option, commands in _OPTIONS.items():
        value = getattr(args, option, None)
        if value not in (None, False) and command not in commands:
            raise NNUsageError(applies_to(_FLAGS[option], commands, command))


def _labels_caption(il, args, count: int) -> str:
    parts = []
    if args.group:
        group = il.get_group(args.group)
        parts.append(_("ImageNet group '{name}' ({description}): {n} classes, indices {range}").format(
            name=group.name, description=_(group.description), n=len(group.indices), range=group.range_text))
    else:
        parts.append(_("ImageNet labels"))
    if args.contains:
        parts.append(_("containing '{word}': {n}").format(word=args.contains, n=count))
        word = args.contains.strip().lower().strip("_")
        if not args.group and word in ("dog", "dogs", "cat", "cats"):
            family = "dog" if word.startswith("dog") else "cat"
            whole = il.get_group(family)
            parts.append(_("string matching misses most of them: --group {family} gives all {n} ({range})").format(
                family=family, n=len(whole.indices), range=whole.range_text))
    elif not args.group:
        parts.append(f"{count}")
    return _("; ").join(parts)


def _thumbnail_uri(path: str, size: int) -> str:
    """A small PNG of the image as a ``data:`` URI ('' when it cannot be read)."""
    try:
        from PIL import Image

        from ..data.pixels import read_rgb

        image = Image.fromarray(read_rgb(path))
        image.thumbnail((size, size))
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    except Exception:  # noqa: BLE001 - a missing thumbnail must not hide the predictions
        return ""


def _shown_path(path: str) -> str:
    """A path as the table shows it: relative to the working folder when inside it, printable."""
    from ..data.filenames import printable

    relative = os.path.relpath(path)
    return printable(path if relative.startswith("..") else relative)


def _show_predictions(frame, title: str) -> None:
    """The predictions table with the image beside it (one image) or a thumbnail per row (several).

    File names and class names come from the user's disk and data: every one is HTML-escaped
    (a file named ``<img src=x onerror=...>.jpg`` shows as text, it never runs).
    """
    from ..data.filenames import printable
    from ..display.output import frame_html, show_html

    attrs = frame.attrs
    files = attrs.get("files", [])
    notes = []
    if attrs.get("many") and attrs.get("total", 0) > len(files) + len(attrs.get("skipped", [])):
        notes.append(_("first {n} of {total} images; use --limit 0 for all").format(
            n=len(files) + len(attrs["skipped"]), total=attrs["total"]))
    if attrs.get("skipped"):
        skipped = ", ".join(printable(os.path.basename(p)) for p, _why in attrs["skipped"][:5])
        notes.append(ngettext("{n} unreadable file(s) skipped: {files}", "{n} unreadable file(s) skipped: {files}",
                              len(attrs["skipped"])).format(n=len(attrs["skipped"]), files=skipped))
    shown = frame.copy()
    if attrs.get("many"):
        shown["file"] = [_shown_path(f) for f in shown["file"]]
        caption = ngettext("{title}: top-1 class of {n} images", "{title}: top-1 class of {n} images",
                           len(files)).format(title=title, n=len(files))
    else:
        caption = f"{title}: {printable(os.path.basename(files[0]))}"
    index = _column_words()["rank"]
    shown = _shown_columns(shown)
    text = caption + "\n" + shown.to_string(index=False) + "".join(f"\n({n})" for n in notes)
    if attrs.get("many"):
        # the table is escaped as a whole; the thumbnails (our own <img> tags) replace unique tokens after
        token = f"nnmagics-thumb-{uuid.uuid4().hex}-"
        shown.insert(0, "image", [f"{token}{i}." for i in range(len(shown))])
        table = shown.to_html(index=False, escape=True, border=0, float_format=lambda v: f"{v:.4f}")
        for i, f in enumerate(files):
            table = table.replace(f"{token}{i}.", f"<img src='{_thumbnail_uri(f, 48)}' style='height:48px'>", 1)
        body = f"<div style='font-weight:600;margin:6px 0 2px'>{html.escape(caption)}</div>{table}"
    else:
        table = frame_html(shown.set_index(index), caption=caption)
        uri = _thumbnail_uri(files[0], 224)
        image = f"<img src='{uri}' style='max-width:224px;max-height:224px'>" if uri else ""
        body = f"<div style='display:flex;gap:16px;align-items:flex-start'>{image}<div>{table}</div></div>"
    body += "".join(f"<div style='color:#666'>({html.escape(n)})</div>" for n in notes)
    show_html(body, text)
