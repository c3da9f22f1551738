"""%nn_diagnose a b c: several runs' curves on shared axes with a verdict each, in a notebook and a terminal."""
from __future__ import annotations

import pytest

WORLD = """
import numpy as np, pandas as pd
rng = np.random.default_rng(0)
X = rng.normal(size=(120, 2))
pd.DataFrame({"X1": X[:, 0], "X2": X[:, 1], "Y": np.where(X.sum(1) > 0, "up", "down")}).to_csv("cmp.csv", index=False)
"""
RUNS = [("slow_lr", "1e-4"), ("mid_lr", "0.01"), ("fast_lr", "0.1")]


def _mimes(cell) -> list[str]:
    return [mime for out in cell.outputs for mime in out.get("data", {})]


@pytest.mark.slow
@pytest.mark.notebook
def test_three_runs_overlay_with_verdicts_in_a_notebook_and_the_code_draws_it(kernel):
    assert kernel.run(WORLD + "\n%nn_data cmp cmp.csv").status == "ok"
    for name, lr in RUNS:
        trained = kernel.run(f"%nn_build {name} --layers 'dense 6 relu' --from cmp --quiet\n"
                             f"%nn_train {name} cmp --val-split 0.25 --epochs 4 --lr {lr} --seed 0 --no-live")
        assert trained.status == "ok", trained.text
    # fast_lr is gone from this kernel: its recorded run stands in for it
    cell = kernel.run("del fast_lr, fast_lr_history\n%nn_diagnose slow_lr mid_lr fast_lr --code")
    assert cell.status == "ok" and not cell.has_traceback, cell.text
    mimes = _mimes(cell)
    assert mimes.count("image/png") == 1 and "text/html" in mimes
    html = [out["data"]["text/html"] for out in cell.outputs if "text/html" in out.get("data", {})]
    table = next(h for h in html if "runs (best epoch" in h)
    for name, _ in RUNS:
        assert f"<b>{name}</b>: " in table
    code = next(out["data"]["text/plain"] for out in cell.outputs if "histories = {" in out.get("data", {}).get("text/plain", ""))
    assert "fast_lr-" in code and "history.json" in code         # --code reads the run's file
    drawn = kernel.run(code.replace("plt.show()", "print(len(ax_loss.lines), len(ax_acc.lines)); plt.close(fig)"))
    assert drawn.status == "ok" and drawn.text == "9 6", drawn.text   # per run: training, validation (+ its best epoch)


def test_the_terminal_shows_the_table_and_each_verdict(ip, tmp_path, capsys):
    from nnmagics.data import load_data
    from nnmagics.training import train

    exec(WORLD, {})
    data = load_data("cmp.csv")
    from nnmagics.model.build import build_model

    for name, lr in RUNS:
        ip.user_ns[name] = build_model(layers="input 2, dense 6 relu, dense 1 sigmoid")
        ip.user_ns[f"{name}_history"] = train(ip.user_ns[name], data, val_split=0.25, epochs=4, lr=float(lr), seed=0,
                                               reporter=False, model_name=name)
    capsys.readouterr()
    ip.run_cell("%nn_diagnose slow_lr mid_lr fast_lr --save story")
    shown = capsys.readouterr().out
    lines = shown.splitlines()
    assert lines[0].startswith("Out[") and "Comparison of 3 runs" in lines[0]
    for name, _ in RUNS:
        assert any(line.startswith(f"{name}: ") for line in lines), shown       # its verdict, in words
        assert any(line.split()[:1] == [name] and "4" in line.split() for line in lines), shown   # its row
    assert sorted(p.name for p in (tmp_path / "story").iterdir()) == ["compare.png", "runs.csv"]


def test_a_comparison_refuses_what_has_no_curves(ip, tmp_path):
    from IPython.core.error import UsageError

    from nnmagics.model.build import build_model

    ip.user_ns["untrained"] = build_model(layers="input 2, dense 1 sigmoid")
    ip.user_ns["number"] = 3
    for line, expect in (("--compare untrained number", "'number' is not a model, a history or a recorded run"),
                         ("--compare untrained", "needs two runs or models at least"),
                         ("untrained nowhere --compare", "'untrained' has not been trained yet"),
                         ("a b c --confusion", "--confusion applies to one model")):
        with pytest.raises(UsageError, match=expect):
            ip.run_line_magic("nn_diagnose", line)
