"""Settings of the extension, changeable with ``%config NNMagics.<name> = value``."""
from __future__ import annotations

from traitlets import Bool, Enum, Float, Int, Unicode, observe
from traitlets.config import Configurable

from .i18n import SETTINGS, _, language, on_language_change, set_language


class NNMagics(Configurable):
    """nnmagics settings.

    Example::

        %config NNMagics                  # list the settings
        %config NNMagics.live = False     # text log instead of the widget panel
    """

    language = Enum(
        list(SETTINGS), default_value="auto",
        help="Language of nnmagics' messages, panel, verdicts and help: 'fr', 'en', or 'auto' (the locale's; "
             "Colab's runtime is English, so set 'fr' there).",
    ).tag(config=True)
    live = Bool(True, help="Show the live widget panel while training (text log when False).").tag(config=True)
    default_api = Enum(
        ["functional", "sequential", "subclass"], default_value="functional",
        help="Keras API used by %nn_build when --api is not given.",
    ).tag(config=True)
    show_code = Bool(False, help="Print the equivalent plain Keras code after every %nn_build.").tag(config=True)
    batch_size = Int(32, min=1, help="Default batch size for tables (image folders default to 20, as the course).").tag(config=True)
    redraw_seconds = Float(1.0, min=0.0, help="Minimum seconds between two redraws of the live curves.").tag(config=True)
    cache_dir = Unicode("", help="Folder for caches (image checks, feature caches); empty = ~/.cache/nnmagics.").tag(config=True)
    runs_dir = Unicode(
        "", help="Folder of the recorded runs (%nn_runs, --resume); empty = $NNMAGICS_RUNS_DIR, else nnmagics-runs "
                 "next to the notebook. On Colab, a folder on Drive keeps them when the runtime is recycled.",
    ).tag(config=True)
    record_runs = Bool(True, help="Record every %nn_train in the runs folder (history, verdict, weights, "
                                  "the state --resume continues from).").tag(config=True)
    max_zip_bytes = Int(2 * 1024**3, min=1, help="Largest total uncompressed size accepted when extracting a .zip.").tag(config=True)
    decoded_memory_mb = Int(
        1024, min=0, help="Decode an image folder once when %nn_data loads it and keep its pixels in memory when "
                          "they take at most this many MB (never over a quarter of the free memory); larger "
                          "folders, or 0, decode during the first epoch.",
    ).tag(config=True)
    max_image_pixels = Int(
        64_000_000, min=1, help="Largest image (width x height) read; larger files are skipped and listed, as they take "
                         "hundreds of MB to decode.",
    ).tag(config=True)


    @classmethod
    def class_get_trait_help(cls, trait, inst=None, helptext=None) -> str:
        """traitlets' help of one setting, its "Choices/Current/Default" words in the language in use."""
        text = super().class_get_trait_help(trait, inst, helptext)
        for english, shown in (("    Choices: any of ", _("    Choices: any of ")), ("    Current: ", _("    Current: ")),
                               ("    Default: ", _("    Default: "))):
            text = text.replace("\n" + english, "\n" + shown)
        return text

    @observe("language")
    def _language_changed(self, change) -> None:
        set_language(change["new"])


_ENGLISH_HELP: dict[str, str] = {}


def _translate_help(_language: str) -> None:
    """``%config NNMagics`` lists each setting's help in the language in use."""
    for name, trait in NNMagics.class_traits(config=True).items():
        english = _ENGLISH_HELP.setdefault(name, trait.help)
        trait.help = _(english) if english else english


on_language_change(_translate_help)
_translate_help(language())

_settings: NNMagics | None = None


def settings() -> NNMagics:
    """The active settings (the instance registered with IPython, or a default one)."""
    global _settings
    if _settings is None:
        _settings = NNMagics()
    return _settings


def set_settings(instance: NNMagics) -> None:
    """Make ``instance`` the active settings (called when the extension loads)."""
    global _settings
    _settings = instance
