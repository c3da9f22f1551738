"""The translation catalogues: find every user-facing text in the source, compile the ``.po`` files.

Used at install (``setup.py`` compiles ``fr/*.po`` into ``fr/LC_MESSAGES/nnmagics.mo``), by the
translation test and by ``make po`` (which writes the texts still missing a translation). Babel is
imported here only: a notebook never imports this module when the ``.mo`` is installed.

The texts are what Babel's Python extractor finds in ``_()``, ``N_()`` and ``ngettext()`` calls, plus
two kinds Babel cannot see: the docstring of every magic (``%name?`` shows it) and every ``help=``
text (the magics' options, the ``%config NNMagics`` settings). Example::

    from nnmagics.i18n import catalog
    missing = catalog.untranslated("fr")      # [] when every text has its French
"""
from __future__ import annotations

import ast
import glob
import io
import os
import string
from typing import Iterator

# self-contained (no package import): setup.py loads this file by its path to compile at build time
DOMAIN = "nnmagics"
LOCALE_DIR = os.path.dirname(os.path.abspath(__file__))
LANGUAGES = ("en", "fr")
PLURAL_FORMS = {"fr": "nplurals=2; plural=(n > 1);"}
PACKAGE_DIR = os.path.dirname(LOCALE_DIR)
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
MAGIC_DECORATORS = {"line_magic", "cell_magic", "line_cell_magic"}


def po_files(lang: str) -> list[str]:
    """The ``.po`` files of ``lang`` (one per layer of the package)."""
    return sorted(glob.glob(os.path.join(LOCALE_DIR, lang, "*.po")))


def mo_path(lang: str) -> str:
    """Where the compiled catalogue of ``lang`` goes (where ``gettext`` looks for it)."""
    return os.path.join(LOCALE_DIR, lang, "LC_MESSAGES", f"{DOMAIN}.mo")


def _catalog(lang: str):
    """An empty Babel ``Catalog`` for ``lang`` with our plural rule (the header's, French: 0 and 1
    singular, as GNU gettext), not the one the installed Babel has for the locale."""
    from babel.messages.catalog import Catalog

    catalog = Catalog(locale=lang, domain=DOMAIN)
    catalog.mime_headers = [("Plural-Forms", PLURAL_FORMS[lang])] if lang in PLURAL_FORMS else []
    return catalog


def read_catalog(lang: str):
    """Every ``.po`` file of ``lang`` as one Babel ``Catalog`` (a text in two files must say the same)."""
    from babel.messages.pofile import read_po

    merged = _catalog(lang)
    forms = merged.num_plurals
    for path in po_files(lang):
        with open(path, "rb") as handle:
            for message in read_po(handle, locale=lang):
                strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
                if isinstance(message.id, (list, tuple)):
                    # Babel pads or cuts to *its* locale's plural count, which changed between releases
                    # (French: 2 forms until 2.18, 3 from 2.19); gettext uses the header's count
                    message.string = strings = (list(strings) + [""] * forms)[:forms]
                if message.id and (any(strings) or message.id not in merged):
                    merged[message.id] = message
    return merged


def compile_catalog(lang: str, destination: str | None = None) -> str:
    """Compile ``lang``'s ``.po`` files into its ``.mo`` (skipping fuzzy entries); returns the path."""
    from babel.messages.mofile import write_mo

    destination = destination or mo_path(lang)
    os.makedirs(os.path.dirname(destination), exist_ok=True)
    buffer = io.BytesIO()
    write_mo(buffer, read_catalog(lang))
    temporary = destination + ".tmp"
    with open(temporary, "wb") as handle:
        handle.write(buffer.getvalue())
    os.replace(temporary, destination)
    return destination


def compile_all() -> list[str]:
    """Compile every translated language (what the build runs)."""
    return [compile_catalog(lang) for lang in LANGUAGES if po_files(lang)]


def compiled_translations(lang: str):
    """``lang``'s catalogue compiled in memory (a source checkout without the ``.mo``); English without Babel."""
    import gettext

    try:
        from babel.messages.mofile import write_mo
    except ImportError:
        return gettext.NullTranslations()
    buffer = io.BytesIO()
    write_mo(buffer, read_catalog(lang))
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


# -- extraction ---------------------------------------------------------------------------------
def _source_files() -> Iterator[str]:
    for folder, _dirs, files in os.walk(PACKAGE_DIR):
        for name in sorted(files):
            if name.endswith(".py"):
                yield os.path.join(folder, name)


def _decorator_names(node) -> set[str]:
    names = set()
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        names.add(target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", ""))
    return names


def _ast_texts(path: str) -> Iterator[tuple[str, int]]:
    """Magic docstrings and ``help=`` texts of one file, with their line numbers."""
    tree = ast.parse(open(path, encoding="utf8").read())
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _decorator_names(node) & MAGIC_DECORATORS:
            doc = ast.get_docstring(node)
            if doc:
                yield doc, node.lineno
        elif isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg == "help" and isinstance(keyword.value, ast.Constant) \
                        and isinstance(keyword.value.value, str) and keyword.value.value.strip():
                    yield keyword.value.value, keyword.value.lineno


def extract() -> dict[str | tuple[str, str], list[str]]:
    """Every user-facing text of the package: ``{msgid or (singular, plural): ["path:line", ...]}``."""
    from babel.messages.extract import extract_from_file

    found: dict = {}
    for path in _source_files():
        where = os.path.relpath(path, os.path.dirname(PACKAGE_DIR))
        for lineno, message, _comments, _context in extract_from_file(
                "python", path, keywords=KEYWORDS, comment_tags=(), strip_comment_tags=True):
            found.setdefault(message, []).append(f"{where}:{lineno}")
        for text, lineno in _ast_texts(path):
            found.setdefault(text, []).append(f"{where}:{lineno}")
    return found


def placeholders(text: str) -> set[str]:
    """The ``str.format`` fields of ``text`` (``{n}``, ``{path!r}`` → ``n``, ``path``)."""
    try:
        return {field.split(".")[0].split("[")[0].split("!")[0]
                for _literal, field, _spec, _conv in string.Formatter().parse(text) if field is not None}
    except ValueError:
        return {"<unbalanced braces>"}


def problems(lang: str) -> list[str]:
    """What is wrong with ``lang``'s catalogue, one line each (empty when it is complete and sound).

    A text without a translation (or only a fuzzy one), a translation whose ``{fields}`` are not the
    source's (it would fail at ``.format``), and a translation nobody uses any more.
    """
    catalog = read_catalog(lang)
    wanted = extract()
    lines = []
    for msgid, places in sorted(wanted.items(), key=lambda item: item[1][0]):
        key = msgid[0] if isinstance(msgid, tuple) else msgid
        message = catalog.get(key)
        strings = message.string if message is not None else None
        strings = list(strings)[: catalog.num_plurals] if isinstance(strings, (list, tuple)) else [strings]
        if message is None or message.fuzzy or not all(strings):
            lines.append(f"{places[0]}: no translation for {key!r}")
            continue
        fields = set().union(*(placeholders(m) for m in (msgid if isinstance(msgid, tuple) else (msgid,))))
        for translated in strings:
            extra = placeholders(translated) - fields
            if extra:
                lines.append(f"{places[0]}: the translation of {key!r} has fields the source lacks: {sorted(extra)}")
    lines += _extra_plural_forms(lang, catalog.num_plurals)
    keys = {m[0] if isinstance(m, tuple) else m for m in wanted}
    for message in catalog:
        if message.id and (message.id[0] if isinstance(message.id, tuple) else message.id) not in keys:
            lines.append(f"unused translation: {message.id!r}")
    return lines


def _extra_plural_forms(lang: str, forms: int) -> list[str]:
    # a msgstr[n] past the header's count: one Babel release drops it, another keeps it (the .mo differs)
    lines = []
    for path in po_files(lang):
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if line.startswith("msgstr[") and int(line[7:line.index("]")]) >= forms:
                    lines.append(f"{os.path.basename(path)}:{number}: {line[:9]} past the {forms} plural forms "
                                 f"of the header's Plural-Forms")
    return lines


def untranslated(lang: str, prefixes: tuple[str, ...] = ()) -> list:
    """The source texts ``lang`` does not translate yet (what ``make po`` writes out), optionally only
    those found under ``prefixes`` (``("nnmagics/data/",)``)."""
    catalog = read_catalog(lang)
    out = []
    for msgid, places in extract().items():
        if prefixes and not any(p.startswith(prefixes) for p in places):
            continue
        key = msgid[0] if isinstance(msgid, tuple) else msgid
        message = catalog.get(key)
        if message is None or message.fuzzy or not message.string:
            out.append((msgid, places))
    return out


def write_missing(lang: str, path: str, prefixes: tuple[str, ...] = ()) -> int:
    """Write the untranslated texts of ``lang`` to ``path`` as a ``.po`` to fill in; returns how many."""
    from babel.messages.pofile import write_po

    missing = untranslated(lang, prefixes)
    out = _catalog(lang)
    for msgid, places in missing:
        out.add(msgid, string=("",) * out.num_plurals if isinstance(msgid, tuple) else "",
                locations=[(p.rsplit(":", 1)[0], int(p.rsplit(":", 1)[1])) for p in places])
    with open(path, "wb") as handle:
        write_po(handle, out, width=0, omit_header=True)
    return len(missing)
