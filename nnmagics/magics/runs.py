"""``%nn_runs``: the recorded runs as a table; ``%nn_runs load NAME`` puts one back into the notebook."""
from __future__ import annotations

from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from ..errors import NNUsageError, closest
from ..i18n import _, ngettext
from .base import NNMagicsBase, parse_args

ACTIONS = ("list", "load")


@magics_class
class RunsMagics(NNMagicsBase):
    """The runs magic."""

    @magic_arguments()
    @argument("action", nargs="?", default="list", help="list (default) | load")
    @argument("name", nargs="?", help="load: the run (cnn-2) or the model whose latest run to load (cnn)")
    @argument("--sort", metavar="COLUMN", help="sort the table by a column: val_loss, val_accuracy, epochs, time, "
                                                "model… (-COLUMN reverses it; default: the newest first)")
    @argument("--as", dest="target", metavar="VAR", help="load: the notebook name of the model (default: its own)")
    @argument("--best", action="store_true", help="load: the best epoch's weights instead of the last")
    @line_magic
    def nn_runs(self, line: str = ""):
        """List the recorded runs, or load one back (model, weights, optimizer state, history).

        Every ``%nn_train`` records its run in ``%config NNMagics.runs_dir`` (default ``nnmagics-runs``
        next to the notebook; on Colab, point it at Drive): the recipe, the history, the verdict, the
        best and last weights, the data's fingerprint. A run is one model's training across its fits.

        Examples::

            %nn_runs                          # run, model, data, epochs, best epoch, val loss/accuracy, verdict, time
            %nn_runs --sort val_loss          # the lowest validation loss first
            %nn_runs load cnn                 # in a new kernel: cnn and cnn_history as they were
            %nn_runs load cnn-1 --as first --best
            %nn_diagnose cnn cnn_aug tl       # the runs' curves on shared axes

        The table is the cell's value (a pandas DataFrame): ``runs = _`` then ``runs.sort_values(...)``.
        A loaded model trains on as the same run (``%nn_train cnn cats --epochs 5`` continues it).
        """
        args = parse_args(self.nn_runs, line)
        if args.action not in ACTIONS:
            guess = closest(args.action, ACTIONS)
            if guess:
                raise NNUsageError(_("%nn_runs takes list or load, not '{action}'; did you mean {guess}?").format(
                    action=args.action, guess=guess))
            raise NNUsageError(_("%nn_runs takes list or load, not '{action}'; to load that run: %nn_runs load "
                                 "{action}.").format(action=args.action))
        if args.action == "list":
            if args.name or args.target or args.best:
                raise NNUsageError(_("%nn_runs lists the runs; to load one: %nn_runs load NAME [--as VAR] [--best]."))
            from ..runs import runs_table

            table = runs_table(sort=args.sort)
            if table.empty:
                from ..files import runs_dir

                print(_("No run recorded in {folder} yet: every %nn_train records one.").format(folder=runs_dir()))
                return None
            return table
        if not args.name:
            raise NNUsageError(_("Give the run to load, e.g. %nn_runs load cnn (the latest run of cnn) or %nn_runs load "
                                 "cnn-1."))
        from ..runs import load_run

        model, history, run = load_run(args.name, best=args.best)
        name = args.target or run.model_name
        self.put_object(name, model)
        self.put_object(f"{name}_history", history)
        from ..training.words import status_words

        fields = dict(name=name, run=run.name, n=history.epochs_done, data=run.meta.get('data'),
                      status=status_words(run.status))
        # the English says "epochs" for one epoch too (as it always has)
        if args.best:
            line = ngettext("{name} ← run '{run}' ({n} epochs on '{data}', best weights, {status}); {name}_history "
                            "holds its curves.",
                            "{name} ← run '{run}' ({n} epochs on '{data}', best weights, {status}); {name}_history "
                            "holds its curves.", history.epochs_done)
        else:
            line = ngettext("{name} ← run '{run}' ({n} epochs on '{data}', last weights, {status}); {name}_history "
                            "holds its curves.",
                            "{name} ← run '{run}' ({n} epochs on '{data}', last weights, {status}); {name}_history "
                            "holds its curves.", history.epochs_done)
        print(line.format(**fields))
