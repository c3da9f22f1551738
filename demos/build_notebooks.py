"""Write the demo notebooks from the cell lists below (edit here, then run: python demos/build_notebooks.py)."""
from __future__ import annotations

import os

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = os.path.dirname(os.path.abspath(__file__))


def md(text: str):
    return new_markdown_cell(text.strip())


def code(text: str):
    return new_code_cell(text.strip())


TABULAR = [
    md("""
# 1 · Tables and the three ways to build a network

This notebook follows the first part of the course (*Continuité du machine learning*): load
`artificial_generator.xlsx`, label-encode `Y`, look at the classes, then build the same Dense network
the course's three ways (*séquentielle*, *fonctionnelle*, *par sous-classes*), read its summary and its
weights (*poids*), save and reload them. Every step is one line; `--code` prints the plain Keras it ran.
"""),
    code("%load_ext nnmagics"),
    md("""
The course's data file is not shipped with the course; nnmagics writes one like it (sheets `data2` and
`data4`, columns `X1`, `X2`, `Y`, labels as text) together with a small cats-vs-dogs image tree.
"""),
    code("%nn_data --make-samples course_data"),
    md("""
## Load a sheet and label-encode the target
`%nn_data` reads the sheet, encodes `Y` with scikit-learn's `LabelEncoder` (the mapping is kept and shown),
counts the classes and draws the X1/X2 scatter coloured by class (*nuage de points*).
"""),
    code("%nn_data data2 course_data/artificial_generator.xlsx --sheet data2 --plot"),
    code("%nn_data data4 course_data/artificial_generator.xlsx --sheet data4 --plot --code"),
    code("data4.X[:3], data4.y[:3], data4.mapping"),
    md("""
## The network three ways
The course's network: 2 inputs → 3 relu → 3 relu → 3 softmax. The summary explains every parameter
count (inputs × units + biases), so *Total params: 33* is no mystery.
"""),
    code("%nn_build model_seq --preset course-dense --api sequential --code"),
    code("%nn_build model_fun --layers \"dense 3 relu, dense 3 relu\" --from data4 --code"),
    code("""
%%nn_build model_sub --api subclass --code
input 2
dense 3 relu
dense 3 relu
dense 3 softmax
"""),
    md("""
## Weights (*get_weights*)
Each kernel is a table of inputs × units, each bias a row: the biases are zero before training.
"""),
    code("%nn_build model_fun --weights --quiet"),
    md("""
## Save and load the weights
Saving is atomic (an interrupted save never destroys the previous file). Weights saved from one API load
into the same network built another way; loading into another architecture is a clear error.
"""),
    code("%nn_build model_fun --save course_dense.weights.h5 --quiet"),
    code("%nn_build model_sub --load course_dense.weights.h5 --quiet"),
    code("""
import numpy as np
all(np.array_equal(a, b) for a, b in zip(model_fun.get_weights(), model_sub.get_weights()))
"""),
    md("The models are plain Keras objects: everything Keras offers is at hand."),
    code("model_fun.predict(data4.X[:5], verbose=0).round(3)"),
]


NOTEBOOKS = {
    "01_tables_and_three_apis.ipynb": TABULAR,
}


def main() -> None:
    for name, cells in NOTEBOOKS.items():
        notebook = new_notebook(cells=cells, metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        })
        nbformat.write(notebook, os.path.join(HERE, name))
        print("wrote", name)


if __name__ == "__main__":
    main()
