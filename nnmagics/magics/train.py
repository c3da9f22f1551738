"""``%nn_train`` (train with a live panel), ``%nn_lr_find`` (which learning rate) and ``%nn_gpu`` (what hardware trains)."""
from __future__ import annotations

from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from ..checks import with_article
from ..errors import NNUsageError
from ..i18n import _
from .base import NNMagicsBase, parse_args


@magics_class
class TrainMagics(NNMagicsBase):
    """The training magics."""

    def __init__(self, shell=None, **kwargs):
        super().__init__(shell=shell, **kwargs)
        from ..runtime.device import enable_memory_growth_env

        enable_memory_growth_env()  # effective only before TensorFlow starts: %load_ext is the moment

    @magic_arguments()
    @argument("model", nargs="?", help="name of the Keras model in the notebook")
    @argument("data", nargs="?", help="name of the training dataset (made by %%nn_data)")
    @argument("--val", metavar="DATA", help="validation dataset (default: DATA_val / DATA's validation folder)")
    @argument("--val-split", metavar="F", help="hold out this fraction of DATA for validation, e.g. 0.2")
    @argument("--epochs", default="10", help="number of epochs (default 10)")
    @argument("--batch-size", help="batch size (default: the dataset's, 32 for tables, 20 for images)")
    @argument("--steps-per-epoch", help="batches per epoch (default: the whole dataset)")
    @argument("--validation-steps", help="validation batches per epoch (default: all)")
    @argument("--optimizer", help="rmsprop (default, as the course) | adam | sgd | …")
    @argument("--lr", help="learning rate, e.g. 0.001")
    @argument("--momentum", metavar="M", help="momentum of sgd or rmsprop, e.g. 0.9 (the course's fine-tuning)")
    @argument("--loss", default="auto", help="auto (from the output layer) | binary_crossentropy | …")
    @argument("--metrics", help="comma-separated metrics (default: accuracy)")
    @argument("--augment", nargs="?", const="", metavar="PARAMS",
              help="augment the training images every epoch: the course's ImageDataGenerator parameters, or your "
                   "own as its keywords, e.g. --augment \"rotation_range=20, horizontal_flip=False\"")
    @argument("--early-stop", metavar="N", help="stop after N epochs without improvement; restore the best weights")
    @argument("--checkpoint", metavar="PATH", help="keep the best weights (by validation loss) in PATH, atomically")
    @argument("--seed", help="random seed for reproducible runs")
    @argument("--resume", action="store_true", help="continue the model's recorded run (a new kernel too): weights, "
                                                     "optimizer, epochs and history; ends at the cut fit's start + EPOCHS")
    @argument("--mixed-precision", default="auto", help="auto | on | off")
    @argument("--callbacks", metavar="NAME,…", help="Keras callbacks (or lists of them) from the notebook, "
                                                     "e.g. tb,csv for keras.callbacks.TensorBoard/CSVLogger")
    @argument("--no-live", action="store_true", help="print one text line per epoch instead of the live panel")
    @argument("--code", action="store_true", help="train, then print the plain Keras code of what ran "
                                                   "(data, compile, callbacks, fit)")
    @line_magic
    def nn_train(self, line: str = ""):
        """Train MODEL on DATA with a live panel; the history goes to MODEL_history.

        Examples::

            %nn_train model data4 --val-split 0.2 --epochs 50
            %nn_train cnn cats --val cats_val --epochs 15 --augment --early-stop 5 --checkpoint best.weights.h5
            %nn_train cnn cats --epochs 5                  # continues: epochs 16-20, same history
            %nn_train cnn cats --augment "rotation_range=20, horizontal_flip=False"   # ImageDataGenerator's keywords
            %nn_train model data4 --optimizer adam --lr 0.01 --no-live --seed 0
            log = keras.callbacks.CSVLogger("log.csv")     # in a cell before
            %nn_train model data4 --epochs 20 --callbacks log
            %nn_train model data4 --val-split 0.2 --epochs 20 --seed 0 --code   # trains, then prints the Keras
            %nn_train cnn cats --epochs 30 --resume        # after a restart: on from the last finished epoch

        ``--code`` trains as asked, then prints the plain Keras (pandas/scikit-learn or ``tf.data`` for the
        data — numpy arrays on JAX and PyTorch —, ``compile``, the callbacks, ``fit``) of exactly what ran,
        written from what this run recorded; with the same seed and starting weights, running it gives the
        same history (on TensorFlow; elsewhere close: PIL resizes the printed code's images).

        Every run is recorded (``%nn_runs`` lists them). ``--resume`` continues the model's run from its
        last finished epoch, in this kernel or a new one (the same network and data, or one sentence
        saying what differs); the fit that was cut ends where it was heading, so running the cell again
        trains only what is missing.

        The loss is chosen from the output layer (1 sigmoid unit → binary_crossentropy,
        k softmax units → sparse_categorical_crossentropy). The Stop button or a kernel
        interrupt end training after the current batch; the model keeps its weights.
        The course's plotting code works on the history::

            history = model_history
            acc, val_acc = history.history['acc'], history.history['val_acc']
        """
        args = parse_args(self.nn_train, line)
        if args.augment and "=" not in args.augment and not args.data:   # --augment MODEL DATA: no parameters
            args.model, args.data, args.augment = args.augment, args.model, ""
        if not args.model or not args.data:
            raise NNUsageError(_("Give a model and a dataset, e.g. %nn_train model data4 --epochs 20."))
        model = self.get_object(args.model, "model")
        data = self.get_object(args.data, "dataset")
        val = self.get_object(args.val, "dataset") if args.val else None
        val_name = args.val
        if val is None and args.val_split is None and getattr(data, "validation", None) is None:
            auto = self.shell.user_ns.get(f"{args.data}_val")
            if auto is not None and hasattr(auto, "classes"):
                val, val_name = auto, f"{args.data}_val"

        callbacks = self._callbacks(args.callbacks)

        from ..display.live import default_reporter
        from ..training import train

        # the options go as typed: train parses each once (FitOptions)
        history = train(
            model, data, val=val, val_split=args.val_split, epochs=args.epochs, batch_size=args.batch_size,
            steps_per_epoch=args.steps_per_epoch, validation_steps=args.validation_steps,
            optimizer=args.optimizer, lr=args.lr, momentum=args.momentum, loss=args.loss, metrics=args.metrics, augment=args.augment,
            early_stop=args.early_stop, checkpoint=args.checkpoint, seed=args.seed,
            mixed_precision=args.mixed_precision, callbacks=callbacks,
            reporter=default_reporter(False if args.no_live else None),
            model_name=args.model, data_name=args.data, val_name=val_name, resume=args.resume,
        )
        self.put_object(f"{args.model}_history", history)
        if args.code:
            from ..display.model_view import show_code
            from ..training.code import train_code

            show_code(train_code(history.fits[-1]["recipe"]))
        return history

    def _callbacks(self, names: str | None) -> list:
        """The Keras callbacks named in ``--callbacks a,b`` (each a callback or a list of them)."""
        if not names:
            return []
        from ..training.options import check_callbacks

        found = []
        for name in (n.strip() for n in names.split(",")):
            if not name:
                continue
            if name not in self.shell.user_ns:
                raise NNUsageError(_("There is no callback named '{name}' in the notebook; create it first, "
                                     "e.g. {name} = keras.callbacks.CSVLogger('log.csv').").format(name=name))
            value = self.shell.user_ns[name]
            try:
                found += check_callbacks(value)
            except NNUsageError:
                kind = type(value).__name__
                raise NNUsageError(_("'{name}' is {a_type}, not a Keras callback; give callbacks such as "
                                     "keras.callbacks.CSVLogger('log.csv') or keras.callbacks.TensorBoard('logs').").format(
                    name=name, a_type=with_article(kind), type=kind)) from None
        return found

    @magic_arguments()
    @argument("model", nargs="?", help="name of the Keras model in the notebook")
    @argument("data", nargs="?", help="name of the training dataset (made by %%nn_data)")
    @argument("--start", default="1e-7", help="the smallest learning rate tried (default 1e-7)")
    @argument("--end", default="10", help="the largest learning rate tried (default 10)")
    @argument("--steps", default="100", help="batches, one rate each, from --start to --end (default 100)")
    @argument("--batch-size", help="batch size (default: the dataset's)")
    @argument("--optimizer", help="the optimizer to test (default: the model's, else rmsprop as the course)")
    @argument("--loss", default="auto", help="auto (from the output layer) | binary_crossentropy | …")
    @argument("--seed", help="random seed for a reproducible curve")
    @line_magic
    def nn_lr_find(self, line: str = ""):
        """Find a learning rate: fastai's range test (the rate grows batch after batch), the loss-vs-rate
        curve and a cautious suggestion, with why; the model's weights and optimizer are left as they were.

        Examples::

            %nn_lr_find cnn cats                 # then %nn_train cnn cats --lr <the suggestion>
            %nn_lr_find model data4 --steps 60 --end 1 --optimizer adam --seed 0

        The test trains a copy of the model with a fresh optimizer, one batch per rate, until the
        smoothed loss passes four times its lowest value. The suggestion is a tenth of the rate where
        the loss was lowest (fastai's rule); the value is the finding: ``f = _`` then ``f.suggestion``,
        ``f.rates``, ``f.losses``.
        """
        args = parse_args(self.nn_lr_find, line)
        if not args.model or not args.data:
            raise NNUsageError(_("Give a model and a dataset, e.g. %nn_lr_find cnn cats."))
        model = self.get_model(args.model)
        data = self.get_object(args.data, "dataset")
        from ..training.range_test import lr_find

        return lr_find(model, data, start=args.start, end=args.end, steps=args.steps, batch_size=args.batch_size,
                       optimizer=args.optimizer, loss=args.loss, seed=args.seed, model_name=args.model,
                       data_name=args.data)

    @magic_arguments()
    @line_magic
    def nn_gpu(self, line: str = ""):
        """Show what TensorFlow can train on: build (CUDA or not), GPUs (name, memory, compute
        capability), TPU, Colab or not, the mixed-precision choice, and how to get a GPU.

        Example::

            %nn_gpu
        """
        parse_args(self.nn_gpu, line)
        import html

        from ..runtime.device import detect, report_rows
        from ..display.output import show_html

        rows = report_rows(detect())
        text = "\n".join(f"{label:<24} {value}" for label, value in rows)
        body = "".join(f"<tr><th style='text-align:left'>{html.escape(label)}</th><td style='text-align:left'>"
                       f"{html.escape(value)}</td></tr>" for label, value in rows)
        show_html(f"<table>{body}</table>", text)
