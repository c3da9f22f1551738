"""French throughout: every user-facing text is marked for translation and has its French.

The catalogue test extracts every text the way ``make po`` does (``_()``, ``N_()``, ``ngettext()``, the
magics' docstrings, every ``help=``) and fails on one without a French translation, on a translation
whose ``{fields}`` the source lacks, and on a translation nobody uses. The marking test reads the source:
a sentence given to an error, a warning, ``print`` or a widget label must go through ``_()``, so that
no new English text escapes the catalogue. Kernel tests: ``tests/test_french_kernel.py``.
"""
from __future__ import annotations

import ast
import gettext
import os
import re

import pytest

import nnmagics
from nnmagics import i18n
from nnmagics.i18n import catalog

ROOT = os.path.dirname(nnmagics.__file__)
# calls whose first argument a user reads
SENTENCE_CALLS = {"NNUsageError", "UsageError", "unknown", "warn_line", "warn", "print", "HTML", "Label",
                  "Markdown", "set_title", "set_xlabel", "set_ylabel", "suptitle", "Button", "ToggleButton"}
# keyword arguments a user reads (widgets and figures)
SENTENCE_KEYWORDS = {"description", "tooltip", "placeholder", "title", "label", "xlabel", "ylabel"}
WORD = re.compile(r"[A-Za-z]{3,}")
# a marked line says why it is not translated, e.g. `# internal: a bug, never a user's mistake`
EXEMPT = re.compile(r"#\s*(internal|not translated)\b")


def _literal_text(node) -> str | None:
    """The literal text of a str constant, f-string or concatenation of them (None for anything else)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        parts = [_literal_text(node.left), _literal_text(node.right)]
        if any(p is not None for p in parts):
            return "".join(p or "" for p in parts)
    return None


def _name(func) -> str:
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _unmarked(path: str) -> list[str]:
    source = open(path, encoding="utf8").read()
    lines = source.splitlines()
    where = os.path.relpath(path, os.path.dirname(ROOT))
    found = []

    def flag(node, text, why):
        line = lines[node.lineno - 1]
        end = lines[getattr(node, "end_lineno", node.lineno) - 1]
        if text is not None and WORD.search(text) and not (EXEMPT.search(line) or EXEMPT.search(end)):
            found.append(f"{where}:{node.lineno}: {why}: {text[:70]!r}")

    tree = ast.parse(source)
    for fstring in (n for n in ast.walk(tree) if isinstance(n, ast.JoinedStr)):
        for inner in ast.walk(fstring):
            # a literal there is missed by Babel (a name holds a text marked with N_() elsewhere)
            if isinstance(inner, ast.Call) and _name(inner.func) in ("_", "ngettext", "N_") \
                    and any(isinstance(arg, ast.Constant) for arg in inner.args):
                found.append(f"{where}:{inner.lineno}: {_name(inner.func)}() inside an f-string "
                             "(Babel's extractor cannot see it: the text would stay English)")
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        if name in ("_", "N_", "ngettext"):
            # a literal, or a name holding an N_()-marked text (`_(header)`); never a text made here
            for arg in node.args[: 2 if name == "ngettext" else 1]:
                if isinstance(arg, (ast.JoinedStr, ast.BinOp, ast.Call)) or (name != "_" and not isinstance(arg, ast.Constant)):
                    found.append(f"{where}:{node.lineno}: {name}() of a text made in code, not one literal "
                                 "(extraction cannot see it)")
            continue
        if name in SENTENCE_CALLS or name.endswith(("Error", "Warning")):
            if node.args:
                flag(node, _literal_text(node.args[0]), f"{name}() of an unmarked text")
        for keyword in node.keywords:
            if keyword.arg in SENTENCE_KEYWORDS:
                flag(node, _literal_text(keyword.value), f"{keyword.arg}= an unmarked text")
    return found


def _shadowed(path: str) -> list[str]:
    """Functions that assign a local ``_`` (``for _, x in …``) and call ``_()``: an UnboundLocalError."""
    tree = ast.parse(open(path, encoding="utf8").read())
    where = os.path.relpath(path, os.path.dirname(ROOT))
    found = []
    scopes = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))]
    own_scope = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp,
                 ast.GeneratorExp)

    def in_scope(node):
        """The nodes of ``node``'s own scope (comprehensions and nested functions have theirs)."""
        for child in ast.iter_child_nodes(node):
            yield child
            if not isinstance(child, own_scope):
                yield from in_scope(child)

    for scope in [tree] + scopes:
        stored = called = False
        for node in in_scope(scope):
            if isinstance(node, ast.Name) and node.id == "_" and isinstance(node.ctx, ast.Store):
                stored = True
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "_":
                called = True
        if stored and called and scope is not tree:
            found.append(f"{where}:{scope.lineno}: a local '_' hides the translation function")
        if scope is tree and any(isinstance(n, ast.Assign) and any(getattr(t, "id", "") == "_" for t in n.targets)
                                 for n in tree.body):
            found.append(f"{where}: a module-level '_' hides the translation function")
    return found


def test_no_local_underscore_hides_the_translation_function():
    found = [line for folder, _dirs, files in os.walk(ROOT) for name in sorted(files) if name.endswith(".py")
             for line in _shadowed(os.path.join(folder, name))]
    assert not found, "\n".join(found)


def test_every_user_text_is_marked_for_translation():
    found = []
    for folder, _dirs, files in os.walk(ROOT):
        if os.path.relpath(folder, ROOT).split(os.sep)[0] == "i18n":   # the translation functions themselves
            continue
        for name in sorted(files):
            if name.endswith(".py"):
                found += _unmarked(os.path.join(folder, name))
    assert not found, f"{len(found)} texts a user reads are not marked with _():\n" + "\n".join(found[:60])


def test_the_french_catalogue_is_complete_and_sound():
    found = catalog.problems("fr")
    assert not found, f"{len(found)} problems in the French catalogue (make po lists them):\n" + "\n".join(found[:60])


def test_the_installed_catalogue_is_the_po_files_compiled():
    """`.mo` built at install (setup.py): it must hold what the .po files say (make install recompiles)."""
    path = catalog.mo_path("fr")
    assert os.path.exists(path), f"{path} is missing: the install compiles it (pip install -e . or make install)"
    with open(path, "rb") as handle:
        installed = gettext.GNUTranslations(handle)._catalog
    fresh = catalog.compiled_translations("fr")._catalog
    installed.pop("", None), fresh.pop("", None)    # the header (its creation date differs)
    stale = sorted(str(k)[:60] for k in set(installed) ^ set(fresh)) + \
        sorted(str(k)[:60] for k in set(installed) & set(fresh) if installed[k] != fresh[k])
    assert not stale, f"{len(stale)} texts differ between the .mo and the .po files; run make install: {stale[:5]}"


@pytest.fixture
def french():
    previous = i18n._setting
    i18n.set_language("fr")
    yield
    i18n.set_language(previous)


def test_numbers_take_the_languages_decimal_mark(french):
    assert (i18n.num(0.125, ".3f"), i18n.num(12345.5, ",.1f"), i18n.percent(0.875, 1)) == \
        ("0,125", "12\u202f345,5", "87,5\u00a0%")
    i18n.set_language("en")
    assert (i18n.num(0.125, ".3f"), i18n.num(12345.5, ",.1f"), i18n.percent(0.875, 1)) == \
        ("0.125", "12,345.5", "87.5%")


def test_auto_follows_the_locale_as_gettext_reads_it():
    assert i18n.locale_language({"LANGUAGE": "fr:en", "LANG": "en_US.UTF-8"}) == "fr"
    assert i18n.locale_language({"LANG": "fr_CA.UTF-8"}) == "fr"
    assert i18n.locale_language({"LC_ALL": "C.UTF-8", "LANG": "fr_FR"}) == "en"   # LC_ALL wins, as in gettext
    assert i18n.locale_language({}) == "en"


def test_a_french_sentence_keeps_its_fields(french):
    from nnmagics.errors import did_you_mean

    assert did_you_mean("rleu", ["relu", "tanh"]) == " Vouliez-vous dire 'relu' ?"


def test_code_recognises_how_a_csv_was_read_in_any_language(french, tmp_path):
    """`--code` prints read_csv's sep/decimal/encoding when the note says the CSV was not plain: in French too."""
    from nnmagics.data import load_data
    from nnmagics.training.code_data import data_recipe

    path = tmp_path / "fr.csv"
    path.write_bytes("X1;X2;Y\n1,5;2,25;été\n-0,5;3;hiver\n2;4,5;été\n".encode("cp1252"))
    data = load_data(str(path))
    assert data.notes and not data.notes[0].startswith("Read as CSV"), data.notes   # the French note
    assert data_recipe(data).csv_read_as
