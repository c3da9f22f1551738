"""The course in French, in a real kernel: every nnmagics message, label and help text a cell shows is French.

The kernel starts with a French locale (``LANGUAGE=fr``, ``LANG=fr_FR.UTF-8``), so ``language = 'auto'``
speaks French without a ``%config`` line; the course's steps then run (tables and images, the three
APIs, training with the text log and the live panel, the verdict, diagnosis with the confusion matrix,
feature maps and Grad-CAM, transfer, runs, devices, help). Each cell's visible text — and every widget's
labels — must hold no English prose (``kernel_harness.english_lines``); printed code is Python, only its
comments are read. Switching to ``'en'`` speaks English again. The bad-input table in French:
``tests/test_bad_inputs.py::test_bad_input_in_french``.
"""
from __future__ import annotations

import re

import pytest

from kernel_harness import KernelHarness, code_block, english_lines

pytestmark = [pytest.mark.notebook, pytest.mark.slow]

# every live widget's texts (ipywidgets 7: Widget.widgets; 8: widget._instances), tags dropped
WIDGET_TEXTS = r'''
import html as _html, re as _re, ipywidgets as _w
_all = getattr(_w.Widget, "widgets", None) or _w.widgets.widget._instances
_texts = []
for _widget in list(_all.values()):
    for _name in ("value", "description", "tooltip", "placeholder"):
        _v = getattr(_widget, _name, None)
        if isinstance(_v, str) and _v.strip():
            _texts.append(_html.unescape(_re.sub(r"<[^>]+>", " ", _v)))
    _texts += [t for t in (getattr(_widget, "titles", None) or ()) if t]
print("\n".join(" ".join(t.split()) for t in _texts))
'''


def _prose(cell) -> str:
    """The text a French user reads in ``cell``: the code block's comments only (code is Python)."""
    try:
        code = code_block(cell)
    except AssertionError:
        code = ""
    from kernel_harness import CellResult

    # stderr: nnmagics' own warnings only (TensorFlow's C++ log and Keras' warnings are theirs)
    outputs = [dict(o, text="\n".join(line for line in o["text"].splitlines() if line.startswith("nnmagics:")))
               if o["output_type"] == "stream" and o["name"] == "stderr" else o for o in cell.outputs]
    lines = []
    for line in CellResult(cell.status, outputs).text.splitlines():
        if code and line in code and not line.lstrip().startswith("#"):
            continue
        lines.append(line)
    return "\n".join(lines)


@pytest.fixture(scope="module")
def fr(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fr")
    harness = KernelHarness(cwd=str(folder), env={
        "LANGUAGE": "fr_FR:fr", "LANG": "fr_FR.UTF-8", "LC_ALL": "", "LC_MESSAGES": "",
        "NNMAGICS_CACHE_DIR": str(folder / ".nncache"), "NNMAGICS_RUNS_DIR": str(folder / "runs")})
    loaded = harness.run("%load_ext nnmagics")
    assert loaded.status == "ok", loaded.text
    cell = harness.run(f"from nnmagics.data.samples import make_samples\n"
                       f"paths = make_samples({str(folder)!r}, images_per_class=(10, 6))")
    assert cell.status == "ok", cell.text
    yield harness
    harness.shutdown()


def french(kernel, cell: str, *, status: str = "ok"):
    """Run ``cell``; it must end with ``status``, show no traceback and no English prose."""
    result = kernel.run(cell)
    assert result.status == status, f"{cell}\n{result.text[-3000:]}"
    assert not result.has_traceback, f"{cell}\n{result.text[-3000:]}"
    english = english_lines(_prose(result))
    assert not english, f"{cell} shows English:\n" + "\n".join(english[:20])
    return result


def test_the_locale_makes_auto_speak_french(fr):
    cell = french(fr, "from nnmagics.i18n import language; print(language())")
    assert cell.text.strip() == "fr"
    error = french(fr, "%nn_build m --layers 'dense 3 rleu'", status="error")
    assert error.lines == ["UsageError: Activation inconnue 'rleu'. Vouliez-vous dire 'relu' ?"]


def test_tables_build_train_and_diagnose_in_french(fr):
    french(fr, "%nn_data data4 {paths['table']} --sheet data4")
    built = french(fr, "%nn_build model --preset course-dense")
    assert "param" in built.text.lower()
    french(fr, "%nn_build model --weights")
    trained = french(fr, "%nn_train model data4 --val-split 0.2 --epochs 3 --seed 0 --no-live --code")
    assert re.search(r"\d,\d", trained.text), "numbers in French text take a decimal comma"
    french(fr, "%nn_train model data4 --epochs 2 --seed 0")          # the live panel
    panel = french(fr, WIDGET_TEXTS)
    assert panel.text.strip(), "the panel's widgets have texts"
    french(fr, "%nn_diagnose model data4 --code")
    french(fr, "%nn_runs")
    french(fr, "%nn_lr_find model data4 --steps 10")


def test_images_cnn_maps_gradcam_and_transfer_in_french(fr):
    french(fr, "%nn_data cats {paths['images']} --image-size 32 --batch-size 8")
    french(fr, "%nn_build cnn --layers 'rescale 1/255, conv 8 3 relu, pool 2, flatten, dense 16 relu' --from cats")
    french(fr, "%nn_train cnn cats --epochs 1 --augment --seed 0 --no-live --code")
    french(fr, "%nn_diagnose cnn cats_val --confusion")
    french(fr, "%nn_diagnose cnn --feature-maps cats_val[0]")
    french(fr, "%nn_diagnose cnn --gradcam cats_val[0:2] --code")
    french(fr, "%nn_diagnose --augment-preview cats[3]")
    french(fr, "%vgg_transfer build fast --from cats --mode features --weights none --code")
    french(fr, "%nn_train fast cats --epochs 1 --seed 0 --no-live")
    french(fr, "%vgg_transfer labels --group cat")
    french(fr, "%nn_transfer build mob --base mobilenet_v2 --from cats --weights none")
    french(fr, "%nn_gpu")


@pytest.mark.parametrize("magic", ["nn_data", "nn_build", "nn_train", "nn_diagnose", "vgg_transfer", "nn_transfer",
                                   "nn_gpu", "nn_runs", "nn_lr_find"])
def test_help_is_french(fr, magic):
    shown = french(fr, f"%{magic}?")
    assert f"%{magic}" in shown.text and len(shown.lines) > 3


def test_settings_help_is_french_and_english_comes_back(fr):
    french(fr, "%config NNMagics")
    french(fr, "%config NNMagics.language = 'en'")
    english = fr.run("%nn_build m --layers 'dense 3 rleu'")
    assert english.lines == ["UsageError: Unknown activation 'rleu'. Did you mean 'relu'?"]
    assert "Train MODEL on DATA" in fr.run("%nn_train?").text
    french(fr, "%config NNMagics.language = 'fr'")
    assert "Train MODEL on DATA" not in fr.run("%nn_train?").text
