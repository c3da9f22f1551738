"""``%nn_data``: load a table or an image folder into a named dataset."""
from __future__ import annotations

from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from ..checks import optional_whole_number
from ..errors import NNUsageError
from ..i18n import _, ngettext
from .base import NNMagicsBase, parse_args


@magics_class
class DataMagics(NNMagicsBase):
    """The data magics."""

    @magic_arguments()
    @argument("name", nargs="?", help="name of the dataset to create in the notebook")
    @argument("source", nargs="?", help=".xlsx/.xls/.csv file, DataFrame name, image folder or .zip")
    @argument("--sheet", help="Excel sheet to read (e.g. data4)")
    @argument("--target", help="target column (default: Y, else the last column)")
    @argument("--features", help="comma-separated feature columns (default: all but the target)")
    @argument("--image-size", help="image size: 150 or 150x150 (default 150)")
    @argument("--batch-size", help="batch size (default: 20 for images, 32 for tables)")
    @argument("--class-mode", help="binary | categorical | int (default from the number of classes)")
    @argument("--rescale", help="multiply the pixels, as ImageDataGenerator(rescale=1./255): e.g. 1/255")
    @argument("--augment", nargs="?", const="", metavar="PARAMS",
              help="augment the training images every epoch (model.fit(NAME), %%nn_train), the course's "
                   "ImageDataGenerator by default, or its keywords: \"rotation_range=20, zoom_range=0.1\"")
    @argument("--seed", help="with --augment: the same order and augmented pixels every run")
    @argument("--plot", action="store_true", help="draw the X1/X2 scatter coloured by class")
    @argument("--show", type=int, metavar="N", help="draw a grid of N images with their original shapes")
    @argument("--code", action="store_true", help="print the equivalent pandas/Keras code")
    @argument("--make-samples", metavar="DIR",
              help="write the course's sample data into DIR (artificial_generator.xlsx, cats_and_dogs_filtered/)")
    @argument("--download", metavar="DATASET",
              help="download cats_and_dogs_filtered (or the URL of a .zip) into nnmagics' cache and load it as SOURCE")
    @line_magic
    def nn_data(self, line: str = ""):
        """Load data into NAME: a table (label-encoded target) or an image folder (pixels decoded once, in memory).

        Examples::

            %nn_data --make-samples course_data
            %nn_data data4 course_data/artificial_generator.xlsx --sheet data4 --plot
            %nn_data df_data my_dataframe --target Y --features X1,X2
            %nn_data cats course_data/cats_and_dogs_filtered --image-size 150 --batch-size 20 --show 10
            %nn_data cats cats_and_dogs_filtered.zip
            %nn_data cats --download cats_and_dogs_filtered
            %nn_data cats course_data/cats_and_dogs_filtered --augment --seed 0     # model.fit(cats) augments
            %nn_data cats course_data/cats_and_dogs_filtered --augment "rotation_range=20, horizontal_flip=False"

        A folder holding train/ and validation/ gives NAME (training images) and NAME_val.
        Unreadable files are skipped and listed; images keep raw 0-255 pixels (--rescale 1/255 as the
        course's ImageDataGenerator). Image datasets are Keras inputs: model.fit(NAME, validation_data=NAME_val).
        --augment makes NAME augment its training batches as the course's ImageDataGenerator (a new draw every
        epoch, repeatable with --seed); NAME_val and validation splits are never augmented; %nn_train uses
        NAME's augmentation unless given its own --augment.
        """
        args = parse_args(self.nn_data, line)
        if args.augment and "=" not in args.augment and not args.source:   # --augment DIR: DIR is the source
            args.source, args.augment = args.augment, ""
        if args.make_samples:
            return self._make_samples(args)
        if args.download:
            if not args.name or args.source:
                raise NNUsageError(_("Give a name and --download without a SOURCE, e.g. %nn_data cats --download "
                                     "cats_and_dogs_filtered."))
            from ..data.download import download_dataset

            args.source = download_dataset(args.download)
        if not args.name or not args.source:
            raise NNUsageError(_("Give a name and a source, e.g. %nn_data data4 artificial_generator.xlsx --sheet data4."))

        from ..data import load_data, source_kind
        from ..model.spec_checks import check_name

        check_name(args.name, "dataset")
        source = self.shell.user_ns.get(args.source) if _is_frame(self.shell.user_ns.get(args.source)) else args.source
        _check_display_options(args, source_kind(source))   # before loading: a mistake shows nothing else
        batch_size = optional_whole_number(args.batch_size, "--batch-size", example="--batch-size 20")
        augment, seed = _augment_options(args, source_kind(source))
        data = load_data(source, sheet=args.sheet, target=args.target, features=args.features,
                         image_size=args.image_size, batch_size=batch_size, class_mode=args.class_mode,
                         name=args.name, rescale=args.rescale)
        if augment is not None:
            from ..data.image_augment import set_augmentation

            set_augmentation(data, augment, seed)   # the training part only: NAME_val never augments
        self.put_object(args.name, data)
        validation = getattr(data, "validation", None)
        if validation is not None:
            self.put_object(f"{args.name}_val", validation)
        self._report(data, args)

    def _report(self, data, args) -> None:
        from ..display.output import show, show_figure, show_text

        show(data)
        for note in getattr(data, "notes", None) or []:   # how a CSV was read; a target that looks continuous
            show_text(note)
        if getattr(data, "skipped", None):
            from ..data.image_files import shown_reason

            skipped = "\n".join(f"  {path}: {shown_reason(why)}" for path, why in data.skipped[:20])
            more = "\n  " + _("… and {n} more").format(n=len(data.skipped) - 20) if len(data.skipped) > 20 else ""
            heading = ngettext("Skipped {n} unreadable or non-image file(s):",
                               "Skipped {n} unreadable or non-image file(s):", len(data.skipped)).format(n=len(data.skipped))
            show_text(f"{heading}\n{skipped}{more}")
        if getattr(data, "validation", None) is not None:
            show_text(_("Validation images stored as {name}_val (also {name}.validation).").format(name=args.name))
        if args.code:
            from ..data import data_code

            show_text(data_code(data))
        if args.plot:
            from ..display.figures import scatter_plot

            show_figure(scatter_plot(data))
        if args.show is not None:
            from ..display.images import image_grid

            show_figure(image_grid(data, n=args.show))

    def _make_samples(self, args) -> None:
        from ..data.samples import make_samples
        from ..display.output import show_text

        paths = make_samples(args.make_samples)
        lines = [_("Wrote the course's sample data into {folder}:").format(folder=args.make_samples)]
        kinds = {"table": _("table"), "images": _("images"), "zip": _("zip")}   # paths' keys, as shown
        lines += [f"  {kinds.get(what, what)}: {path}" for what, path in paths.items()]
        lines.append(_("Next: {command}").format(
            command="%nn_data data4 " + paths.get("table", "artificial_generator.xlsx") + " --sheet data4 --plot"))
        show_text("\n".join(lines))


def _check_display_options(args, kind: str) -> None:
    """A UsageError when --plot/--show do not fit the kind of data ('table' or 'images')."""
    if args.plot and kind != "table":
        raise NNUsageError(_("--plot draws a table's two features; for images use --show N."))
    if args.show is not None and kind != "images":
        raise NNUsageError(_("--show draws images; for a table use --plot."))
    if args.show is not None and args.show <= 0:
        raise NNUsageError(_("--show needs a positive number of images, not {n}.").format(n=args.show))


def _augment_options(args, kind: str):
    """``(AugmentParams or None, seed)`` from ``--augment [PARAMS]`` and ``--seed``, checked before loading."""
    if args.augment is None:
        if args.seed is not None:
            raise NNUsageError(_("--seed goes with --augment on %nn_data (e.g. --augment --seed 0); "
                                 "for training runs give it to %nn_train."))
        return None, None
    if kind != "images":
        raise NNUsageError(_("--augment applies to image folders; a table is not augmented."))
    from ..data.augment_args import parse_augment

    return parse_augment(args.augment), optional_whole_number(args.seed, "--seed", minimum=0)


def _is_frame(obj) -> bool:
    return type(obj).__name__ == "DataFrame"
