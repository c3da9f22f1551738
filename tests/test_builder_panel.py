"""The --panel layer editor: editing rows updates the summary; Build stores the model."""
import pytest


def test_panel_edits_and_builds(ip):
    from nnmagics.display.builder_panel import BuilderPanel

    ns = {}
    panel = BuilderPanel(ns, "net", preset="course-dense")
    assert panel.layers_text().splitlines() == ["input 2", "dense 3 relu", "dense 3 relu", "dense 3 softmax"]
    assert "33 parameters" in panel.status.value
    panel.rows[1]["value"].value = "4"            # 2*4+4 + 4*3+3 + 3*3+3 = 39
    assert "39 parameters" in panel.status.value
    panel.add_button.click()                      # a new dense 3 relu at the end
    panel.move(len(panel.rows) - 1, -1)           # … moved above the output
    assert panel.layers_text().splitlines()[-2:] == ["dense 3 relu", "dense 3 softmax"]
    panel.rows[-1]["remove"].click()
    assert panel.layers_text().splitlines()[-1] == "dense 3 relu"
    panel.rows[1]["activation"].value = "tanh"
    panel.build_button.click()
    model = ns["net"]
    assert [layer.activation.__name__ for layer in model.layers[1:]] == ["tanh", "relu", "relu"]
    assert "Built" in panel.status.value


def test_panel_shows_the_error_instead_of_a_summary():
    from nnmagics.display.builder_panel import BuilderPanel

    ns = {}
    panel = BuilderPanel(ns, "net", initial_layers="input 2\ndense 3 softmax")
    panel.rows[1]["kind"].value = "conv"
    assert "not a size like 3" in panel.status.value      # 'conv 3 softmax' lacks the kernel
    panel.rows[1]["value"].value = "4 3"
    assert "needs image inputs" in panel.status.value and panel.summary.value == ""
    assert panel.build() is None and "net" not in ns


def test_magic_opens_the_panel(ip, capsys):
    ip.run_line_magic("nn_build", "edited --panel --preset course-cnn")
    assert "VBox" in capsys.readouterr().out
