"""`%load_ext nnmagics` time and what it imports, in fresh interpreters (target: < 0.5 s, no TensorFlow)."""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

CODE = """
import sys, time, json
from IPython.core.interactiveshell import InteractiveShell
ip = InteractiveShell.instance()
t = time.perf_counter(); ip.run_line_magic('load_ext', 'nnmagics'); t = time.perf_counter() - t
print(json.dumps({'seconds': t, 'tensorflow': 'tensorflow' in sys.modules, 'matplotlib': 'matplotlib' in sys.modules}))
"""


def main() -> None:
    runs = [json.loads(subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                                      check=True).stdout.strip().splitlines()[-1]) for _ in range(5)]
    seconds = statistics.median(r["seconds"] for r in runs)
    result = {"bench": "load_ext", "time": time.strftime("%Y-%m-%d %H:%M:%S"), "seconds": seconds,
              "tensorflow_imported": any(r["tensorflow"] for r in runs), "target": 0.5}
    print(f"%load_ext nnmagics: {seconds * 1000:.0f} ms (median of 5), TensorFlow imported: {result['tensorflow_imported']}")
    os.makedirs(os.path.join(os.path.dirname(__file__), "results"), exist_ok=True)
    with open(os.path.join(os.path.dirname(__file__), "results", "load_ext.jsonl"), "a") as handle:
        handle.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
