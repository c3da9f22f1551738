"""``python -m nnmagics.i18n [compile | check [PREFIX…] | missing PATH [PREFIX…]]``: the catalogue's tools.

Example::

    python -m nnmagics.i18n check nnmagics/data/        # what the data layer still lacks in French
    python -m nnmagics.i18n missing /tmp/todo.po nnmagics/data/
"""
import sys

from .catalog import compile_catalog, problems, write_missing

command = sys.argv[1] if len(sys.argv) > 1 else "check"
if command == "compile":
    print(compile_catalog("fr"))
elif command == "missing":
    print(write_missing("fr", sys.argv[2], tuple(sys.argv[3:])), "texts to translate in", sys.argv[2])
else:
    found = [line for line in problems("fr") if not sys.argv[2:] or line.startswith(tuple(sys.argv[2:]))]
    print("\n".join(found) or "the French catalogue is complete")
    sys.exit(1 if found else 0)
