"""Execute notebooks headless in a real kernel (for ``make demo`` and the tests)."""
from __future__ import annotations

import os
import sys
import time

from .i18n import _


def run_notebook(path: str, out_dir: str, *, timeout: int = 900, html: bool = True) -> dict:
    """Execute ``path`` in a fresh kernel (cwd = its folder), write the executed copy (and HTML) into ``out_dir``.

    Returns ``{'notebook': path, 'executed': out_path, 'errors': [...], 'seconds': float}``; a cell that
    fails stops the run and is reported in ``errors``.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.read(path, as_version=4)
    os.makedirs(out_dir, exist_ok=True)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}})
    errors: list[str] = []
    start = time.perf_counter()
    # the kernel draws as a notebook does (the inline backend, headless Agg pictures), whatever MPLBACKEND
    # the caller forced: the course's own plt.plot(...) cells must show their pictures in the executed copy
    env = dict(os.environ, MPLBACKEND="module://matplotlib_inline.backend_inline")
    try:
        client.execute(env=env)
    except CellExecutionError as exc:
        errors.append(str(exc).splitlines()[-1] if str(exc) else repr(exc))
    seconds = time.perf_counter() - start
    errors += [
        f"{out.get('ename')}: {out.get('evalue')}"
        for cell in notebook.cells if cell.cell_type == "code"
        for out in cell.get("outputs", []) if out.get("output_type") == "error"
    ]
    executed = os.path.join(out_dir, os.path.basename(path))
    nbformat.write(notebook, executed)
    if html:
        from nbconvert import HTMLExporter

        body, _resources = HTMLExporter().from_notebook_node(static_copy(notebook))
        with open(executed[:-6] + ".html", "w", encoding="utf-8") as handle:
            handle.write(body)
    return {"notebook": path, "executed": executed, "errors": sorted(set(errors)), "seconds": seconds}


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def static_copy(notebook):
    """A copy whose widget outputs show their static alternative (PNG/HTML) in an offline HTML page.

    Without a kernel the widget view renders as nothing; nnmagics' widgets always carry a picture
    or an HTML version of themselves beside the view.
    """
    import copy

    clone = copy.deepcopy(notebook)
    for cell in clone.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data and ({"image/png", "text/html"} & set(data)):
                del data[WIDGET_VIEW]
    return clone


def main(argv: list[str]) -> int:
    """``python -m nnmagics._notebooks DEMO_DIR``: run every demo notebook, print where the results are."""
    folder = argv[0] if argv else "demos"
    out_dir = os.path.join(folder, "executed")
    notebooks = sorted(f for f in os.listdir(folder) if f.endswith(".ipynb"))
    failed = 0
    for name in notebooks:
        result = run_notebook(os.path.join(folder, name), out_dir)
        seconds = f"{result['seconds']:.0f}"
        failed += bool(result["errors"])
        if result["errors"]:
            print(_("{name}: FAILED: {errors} ({seconds} s)").format(
                name=name, errors="; ".join(result["errors"]), seconds=seconds), flush=True)
        else:
            print(_("{name}: ok ({seconds} s)").format(name=name, seconds=seconds), flush=True)
    print(_("Executed notebooks and HTML copies are in {folder}").format(folder=os.path.abspath(out_dir)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
