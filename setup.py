"""Compiles the translation catalogues (``nnmagics/i18n/*/*.po`` → ``.mo``) when the package is built or
installed, editable installs included; everything else is in ``pyproject.toml``."""
import importlib.util
import os

from setuptools import setup
from setuptools.command.build_py import build_py


class build_py_with_catalogues(build_py):
    """``build_py`` that first writes ``nnmagics/i18n/<lang>/LC_MESSAGES/nnmagics.mo`` beside the sources.

    The ``.mo`` is written into the source tree (ignored by git), so that an editable install finds it
    and a wheel packs it as package data.
    """

    def run(self):
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nnmagics", "i18n", "catalog.py")
        spec = importlib.util.spec_from_file_location("nnmagics_catalog", path)
        catalog = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(catalog)
        catalog.compile_all()
        super().run()


setup(cmdclass={"build_py": build_py_with_catalogues})
