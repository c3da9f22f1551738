"""nnmagics' languages: English (the source text) and French, through the standard ``gettext`` catalogues.

Every sentence a user reads goes through ``_()`` (or ``ngettext`` for counts); a text defined at import
time is marked with ``N_()`` and translated where it is shown. Placeholders are ``str.format`` names, so
that a translation may reorder them::

    from nnmagics.i18n import _, ngettext, num
    raise NNUsageError(_("{what} must be a positive whole number, not {value}.").format(what="--epochs", value="0"))
    ngettext("{n} image", "{n} images", n).format(n=n)
    num(0.1234, ".3f")          # '0.123' in English, '0,123' in French

The language is ``%config NNMagics.language = 'fr'|'en'|'auto'`` (``auto``: the locale's, from
``LANGUAGE``/``LC_ALL``/``LC_MESSAGES``/``LANG`` as gettext reads them). The catalogues are the ``.po``
files beside this module (one per layer), compiled at install into ``fr/LC_MESSAGES/nnmagics.mo``
(``nnmagics.i18n.catalog``). Importing this module imports nothing heavy.
"""
from __future__ import annotations

import gettext
import os
from typing import Callable

from .catalog import DOMAIN, LANGUAGES, LOCALE_DIR

SETTINGS = ("auto",) + LANGUAGES

_setting = "auto"
_language: str | None = None
_translations: dict[str, gettext.NullTranslations] = {}
_listeners: list[Callable[[str], None]] = []


def locale_language(environ: dict | None = None) -> str:
    """The language of the process' locale: ``'fr'`` when the first of gettext's variables names French.

    Example::

        >>> locale_language({"LANG": "fr_FR.UTF-8"})
        'fr'
    """
    environ = os.environ if environ is None else environ
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(variable)
        if value:
            first = value.split(":")[0].split("_")[0].split(".")[0].lower()
            return first if first in LANGUAGES else "en"
    return "en"


def set_language(setting: str) -> str:
    """Speak ``setting`` (``'en'``, ``'fr'`` or ``'auto'``) from now on; returns the language in use.

    ``%config NNMagics.language = 'fr'`` calls it; so may a plain Python program::

        set_language("fr")
    """
    global _setting, _language
    setting = str(setting).lower()
    if setting not in SETTINGS:
        # %config's trait says it first in a notebook; this is a Python caller's mistake
        raise ValueError(_("Unknown language '{name}'; choose one of: {choices}.").format(
            name=setting, choices=", ".join(SETTINGS)))
    _setting = setting
    previous, _language = _language, None
    current = language()
    if current != previous:
        for listener in list(_listeners):
            listener(current)
    return current


def language() -> str:
    """The language in use: ``'en'`` or ``'fr'``."""
    global _language
    if _language is None:
        _language = locale_language() if _setting == "auto" else _setting
    return _language


def on_language_change(listener: Callable[[str], None]) -> None:
    """Call ``listener(language)`` whenever the language changes (the magics' help texts re-translate)."""
    if listener not in _listeners:
        _listeners.append(listener)


def translations(lang: str | None = None) -> gettext.NullTranslations:
    """The catalogue of ``lang`` (the language in use by default); English is the source text itself."""
    lang = lang or language()
    if lang not in _translations:
        if lang == "en":
            _translations[lang] = gettext.NullTranslations()
        else:
            try:
                _translations[lang] = gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang])
            except OSError:   # not compiled (a source checkout): compile the .po files in memory
                from .catalog import compiled_translations

                _translations[lang] = compiled_translations(lang)
    return _translations[lang]


def _(message: str) -> str:
    """``message`` in the language in use (a text marked with ``N_()`` too: ``_(HEADER)``); ``""`` stays
    ``""`` (gettext would return the catalogue's header)."""
    return translations().gettext(message) if message else message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of ``singular``/``plural`` for ``n`` in the language in use (French: 0 and 1 are singular)."""
    return translations().ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for translation without translating it now (a text defined at import time)."""
    return message


def num(value: float, spec: str = "g") -> str:
    """``format(value, spec)`` with the language's decimal mark: ``num(0.5, ".2f")`` is ``0,50`` in French.

    Written here rather than with Babel or ``locale``: the code formats with Python's format specs
    everywhere, and Colab has no French system locale. Thousands (``spec`` with ``,``) take a narrow
    no-break space in French.
    """
    text = format(value, spec)
    if language() == "fr":
        text = text.replace(",", "\u202f").replace(".", ",")
    return text


def percent(fraction: float, digits: int = 0) -> str:
    """``0.875`` as ``87.5%`` in English, ``87,5 %`` in French (a no-break space before the sign)."""
    text = num(100 * fraction, f".{digits}f")
    return text + ("\u00a0%" if language() == "fr" else "%")
