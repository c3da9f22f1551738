"""The layer language of ``%nn_build`` and its one table of layer kinds (pure Python).

One layer per line (cell form) or comma-separated (``--layers``)::

    input 2                 input 150x150x3
    dense 3 relu            conv 16 3 relu        pool 2
    flatten                 dropout 0.5           batchnorm
    gap                     augment               rescale 1/255

Blank lines and ``#`` comments are ignored.

Each layer kind is one row of ``LAYER_KINDS`` (a frozen ``LayerKind``): its words, its arguments
(name, type, default; the types' checks are ``spec_checks`` functions), the Keras callable and how
the arguments map to it, its imports and comment in the printed code, its output shape and parameter
count, the editor's hint, the summary's explanation, whether a subclass passes it ``training=``.
Parsing, formatting, the Keras code (``build.layer_code``), the size check, the layer editor
(``display/builder_panel``) and ``inspect.explain_params`` all read the row, so a new kind is one row::

    from nnmagics.model import spec, spec_checks
    spec.register_layer_kind(spec.LayerKind(
        "avgpool", (spec.Arg("size", spec.COUNT, 2, what="the pool size"),), "layers.AveragePooling2D",
        shape=spec_checks.pool_shape, image_only=True, example="avgpool 2"))
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from . import layer_sizes as ls
from . import spec_checks as sc
from ..errors import NNUsageError, unknown
from ..i18n import N_, _, num
from .spec_checks import (ACTIVATION, ACTIVATIONS, COUNT, KERNEL, RATE, REQUIRED, SCALE, SEED,  # noqa: F401
                          SIZES, Arg, ArgType, BadValue)

@dataclass(frozen=True)
class LayerSpec:
    """One layer: its kind and its arguments (``units``, ``activation``, ``shape``, …).

    Example::

        >>> LayerSpec("dense", {"units": 3, "activation": "relu"}).units
        3
    """

    kind: str
    args: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["args"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __str__(self) -> str:
        try:
            return format_layer(self)
        except (NNUsageError, KeyError, TypeError, ValueError):
            return str(self.kind)


# -- the row ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LayerKind:
    """One row of the layer table: everything nnmagics knows about one kind of layer.

    ``keras`` is the callable its code calls (``layers.Dense``, ``keras.Input``, ``FusedAugment``) with the
    arguments in order (``Arg.keyword`` or positional); ``imports`` the lines that code needs besides
    ``import keras`` / ``from keras import layers``; ``comment(args)`` a comment printed above it;
    ``shape(shape, args)`` → (output shape, parameter count); ``explain(layer, count)`` the summary's
    "why" for a built Keras layer of class ``keras``; ``hint`` the editor's placeholder; ``derived``
    arguments computed from the others; ``image_only``: needs an H×W×C input; ``training``: a subclass's
    ``call`` passes ``training=``.

    Example::

        >>> kind_of("dense").code({"units": 3, "activation": "relu"})
        'layers.Dense(3, activation="relu")'
    """

    name: str
    args: tuple[Arg, ...] = ()
    keras: str = ""
    shape: Callable[[list, dict], tuple[list, int]] = ls.same_shape
    explain: Callable[[Any, int], str] | None = None
    hint: str | None = None
    example: str = ""
    aliases: tuple[str, ...] = ()
    image_only: bool = False
    training: bool = False
    imports: tuple[str, ...] = ()
    comment: Callable[[dict], str] | None = None
    derived: tuple[tuple[str, Callable[[dict], Any]], ...] = ()

    @property
    def keras_class(self) -> str:
        """The Keras class name its code makes (``Dense``), as ``type(layer).__name__`` reads."""
        return self.keras.rsplit(".", 1)[-1]

    @property
    def words(self) -> tuple[str, ...]:
        """Every word that names this kind: its name, its aliases, its Keras class in lower case."""
        return tuple(dict.fromkeys((self.name, *self.aliases, self.keras_class.lower())))

    @property
    def usage(self) -> str:
        """``dense UNITS [ACTIVATION], e.g. dense 3 relu``."""
        names = [a.name.upper() if a.default is REQUIRED else f"[{a.name.upper()}]" for a in self.args]
        text = " ".join([self.name, *names])
        if not self.example:
            return text
        example = _(self.example)   # a marked example (N_ in the table), else itself
        return _("{usage}, e.g. {example}").format(usage=text, example=example)

    @property
    def editor_hint(self) -> str:
        """What the editor's value box holds (its activation has a dropdown of its own)."""
        if self.hint is not None:
            return _(self.hint)   # a marked hint (N_ in the table), else itself
        return " ".join(a.name if a.default is REQUIRED else f"[{a.name}]" for a in self.args
                        if a.name != "activation")

    @property
    def takes_activation(self) -> bool:
        return any(a.name == "activation" for a in self.args)

    def parse(self, words: list[str]) -> LayerSpec:
        """The spec for the words after the kind (``["3", "relu"]``); a ``BadValue`` when they do not fit."""
        fixed = len(self.args) - 1
        if self.args and self.args[-1].rest and len(words) > fixed:
            words = [*words[:fixed], "x".join(words[fixed:])]
        required = sum(a.default is REQUIRED for a in self.args)
        if not required <= len(words) <= len(self.args):
            raise BadValue(_("wrong number of values"))
        return self._canonical({a.name: word for a, word in zip(self.args, words)})

    def checked(self, args: dict) -> LayerSpec:
        """The canonical spec for ``args`` from Python (values checked, defaults and derived filled in)."""
        known = {a.name for a in self.args} | {name for name, _ in self.derived}
        extra = sorted(str(k) for k in set(args) - known)
        if extra:
            raise NNUsageError(_("A {kind} layer takes no argument '{name}'; its arguments are those of: {usage}.")
                               .format(kind=self.name, name=extra[0][:40], usage=self.usage))
        try:
            return self._canonical(args)
        except BadValue as exc:
            raise NNUsageError(_("Layer '{kind}': {reason}; write it as: {usage}.").format(
                kind=self.name, reason=exc.reason, usage=self.usage)) from None

    def _canonical(self, values: dict) -> LayerSpec:
        out: dict[str, Any] = {}
        for arg in self.args:
            value = values.get(arg.name, arg.default)
            if value is REQUIRED:
                raise BadValue(_("{what} is missing").format(what=arg.label))
            out[arg.name] = None if value is None and arg.default is None else arg.type.check(value, arg.label)
        for name, compute in self.derived:
            out[name] = compute(out)
        return LayerSpec(self.name, out)

    def format(self, args: dict) -> str:
        """The language line for canonical ``args`` (the inverse of ``parse``)."""
        return " ".join([self.name] + [a.type.show(args[a.name]) for a in self.args if args.get(a.name) is not None])

    def code(self, args: dict) -> str:
        """The Keras expression for canonical ``args``: every value written by its type's ``literal``."""
        parts = []
        for arg in self.args:
            if args.get(arg.name) is not None:
                literal = arg.type.literal(args[arg.name])
                parts.append(f"{arg.keyword}={literal}" if arg.keyword else literal)
        return f"{self.keras}({', '.join(parts)})"


# -- explanations of parameter counts (duck-typed on built Keras layers: no Keras import) -----------
def _explain_dense(layer, count: int) -> str:
    n_in, units = int(layer.kernel.shape[0]), int(layer.units)
    return _("{inputs} inputs × {units} units + {biases} biases = {count}").format(
        inputs=n_in, units=units, biases=units if layer.use_bias else 0, count=num(count, ","))


def _explain_conv(layer, count: int) -> str:
    kh, kw, c_in, filters = (int(d) for d in layer.kernel.shape)
    bias = filters if layer.use_bias else 0
    return _("{kh}×{kw} kernel × {channels} channels × {filters} filters + {biases} biases = {count}").format(
        kh=kh, kw=kw, channels=c_in, filters=filters, biases=bias, count=num(count, ","))


def _explain_batchnorm(layer, count: int) -> str:
    return _("4 × {channels} channels (γ, β trainable; mean, variance not)").format(channels=count // 4)


def _augment_comment(args: dict) -> str:
    from ..data.augment_fused import COURSE_PARAMS

    return _("the course's {params}, as one projective transform per image").format(params=COURSE_PARAMS.code())


_ACTIVATION = Arg("activation", ACTIVATION, None, keyword="activation")

# THE table: one row per layer kind (register_layer_kind adds more)
LAYER_KINDS: tuple[LayerKind, ...] = (
    LayerKind("input", (Arg("shape", SIZES, keyword="shape", what=N_("the shape"), rest=True),), "keras.Input",
              hint=N_("2 or 150x150x3"), example=N_("input 2 or input 150x150x3"), aliases=("inputs",)),
    LayerKind("dense", (Arg("units", COUNT, what=N_("the number of units")), _ACTIVATION), "layers.Dense",
              shape=ls.dense_shape, explain=_explain_dense, example="dense 3 relu", aliases=("fc",)),
    LayerKind("conv", (Arg("filters", COUNT, what=N_("the number of filters")), Arg("kernel", KERNEL, what=N_("the kernel")),
                       _ACTIVATION), "layers.Conv2D",
              shape=ls.conv_shape, explain=_explain_conv, example="conv 16 3 relu", image_only=True),
    LayerKind("pool", (Arg("size", COUNT, 2, what=N_("the pool size")),), "layers.MaxPooling2D", shape=ls.pool_shape,
              example="pool 2", aliases=("maxpool", "maxpooling"), image_only=True),
    LayerKind("flatten", (), "layers.Flatten", shape=ls.flatten_shape),
    LayerKind("dropout", (Arg("rate", RATE, what=N_("the rate")),), "layers.Dropout", example="dropout 0.5",
              training=True),
    LayerKind("batchnorm", (), "layers.BatchNormalization", shape=ls.batchnorm_shape, explain=_explain_batchnorm,
              aliases=("bn",), training=True),
    LayerKind("gap", (), "layers.GlobalAveragePooling2D", shape=ls.gap_shape, image_only=True),
    LayerKind("augment", (Arg("seed", SEED, None, keyword="seed"),), "FusedAugment", aliases=("augmentation",),
              image_only=True, training=True, imports=("from nnmagics.data.augment_fused import FusedAugment",),
              comment=_augment_comment),
    LayerKind("rescale", (Arg("scale", SCALE, "1/255", what=N_("the rescale factor")),), "layers.Rescaling",
              hint="1/255", example="rescale 1/255", derived=(("value", lambda a: sc.scale_value(a["scale"])),)),
)

_TABLE: dict[str, LayerKind] = {}   # name -> row, in table order
_WORDS: dict[str, str] = {}         # every word the user may type -> name


def register_layer_kind(kind: LayerKind, *, replace: bool = False) -> LayerKind:
    """Add a row to the layer table: the kind is then in the language, the code, the editor and the summary.

    A word already naming another kind is refused; an existing name only with ``replace=True``.

    Example::

        register_layer_kind(LayerKind("avgpool", (Arg("size", COUNT, 2),), "layers.AveragePooling2D",
                                      shape=spec_checks.pool_shape, image_only=True))
        build_model("input 8x8x3, avgpool 2, flatten, dense 1 sigmoid")
    """
    if not isinstance(kind, LayerKind):
        raise TypeError(_("register_layer_kind takes a LayerKind, not a {type}").format(type=type(kind).__name__))
    if kind.name in _TABLE and not replace:
        raise ValueError(_("the layer kind {name} exists already; pass replace=True to change it").format(
            name=repr(kind.name)))
    taken = [w for w in kind.words if _WORDS.get(w, kind.name) != kind.name]
    if taken or not re.fullmatch(r"[a-z_][a-z0-9_]*", kind.name):
        raise ValueError(_("{name}: a lower-case word not already naming a kind is needed ({taken})").format(
            name=repr(kind.name), taken=taken))
    unregister_layer_kind(kind.name)
    _TABLE[kind.name] = kind
    _WORDS.update(dict.fromkeys(kind.words, kind.name))
    return kind


def unregister_layer_kind(name: str) -> LayerKind | None:
    """Remove a row (its words with it); returns it, or None when there was none.

    Example::

        unregister_layer_kind("avgpool")
    """
    row = _TABLE.pop(name, None)
    for word in [w for w, n in _WORDS.items() if n == name]:
        del _WORDS[word]
    return row


for _row in LAYER_KINDS:
    register_layer_kind(_row)


def layer_kinds() -> tuple[LayerKind, ...]:
    """Every row of the table, built-in and registered, in order.

    Example::

        >>> [row.keras for row in layer_kinds()][:3]
        ['keras.Input', 'layers.Dense', 'layers.Conv2D']
    """
    return tuple(_TABLE.values())


def layer_words() -> tuple[str, ...]:
    """The kinds' names, in order (what the editor's kind dropdown offers).

    Example::

        >>> layer_words()[:4]
        ('input', 'dense', 'conv', 'pool')
    """
    return tuple(_TABLE)


def kind_of(word: str) -> LayerKind:
    """The row for a kind's name or any of its words; an "Unknown layer" error otherwise.

    Example::

        >>> kind_of("Conv2D").name
        'conv'
    """
    name = _WORDS.get(str(word).lower())
    if name is None:
        raise unknown(_("Unknown layer '{word}'."), str(word)[:40], layer_words())
    return _TABLE[name]


def kind_for_layer(layer) -> LayerKind | None:
    """The row whose code makes Keras layers of ``layer``'s class (None for other layers).

    Example::

        kind_for_layer(keras.layers.Dense(3)).name     # 'dense'
    """
    cls = type(layer).__name__
    return next((row for row in _TABLE.values() if row.keras_class == cls), None)


# -- the language -----------------------------------------------------------------------------------
def parse_layers(text: str) -> list[LayerSpec]:
    """Parse the layer language into ``LayerSpec`` objects.

    Example::

        >>> [str(s) for s in parse_layers("input 2, dense 3 relu, dense 3 softmax")]
        ['input 2', 'dense 3 relu', 'dense 3 softmax']
    """
    specs = []
    for raw in re.split(r"[\n,;]", text):
        line = raw.split("#", 1)[0].strip()
        if line:
            specs.append(parse_layer(line))
    return specs


def parse_layer(line: str) -> LayerSpec:
    """Parse one line such as ``conv 16 3 relu``.

    Example::

        >>> parse_layer("conv 16 3x5").args
        {'filters': 16, 'kernel': (3, 5), 'activation': None}
    """
    words = line.split()
    row = kind_of(words[0])
    try:
        return row.parse(words[1:])
    except BadValue as exc:
        raise NNUsageError(_("Cannot read '{line}': {reason}; write it as: {usage}.").format(
            line=line, reason=exc.reason, usage=row.usage)) from None


def format_layer(spec: LayerSpec) -> str:
    """The layer-language line for ``spec`` (the inverse of ``parse_layer``).

    Example::

        >>> format_layer(LayerSpec("conv", {"filters": 8, "kernel": (3, 5), "activation": None}))
        'conv 8 3x5'
    """
    return kind_of(spec.kind).format(spec.args)


# -- checking specs made in Python, and whole networks ------------------------------------------------
def check_spec(spec):
    """The canonical ``LayerSpec`` for ``spec`` (its values checked by its row of the layer table), else a
    NNUsageError. Specs from the layer language always pass; this guards specs made in Python, whose values
    are written into generated code.

    Example::

        check_spec(LayerSpec("dense", {"units": 3, "activation": "relu"}))     # fine
        check_spec(LayerSpec("dense", {"units": "3); import os; (1"}))       # NNUsageError
    """
    if not isinstance(getattr(spec, "kind", None), str) or not isinstance(getattr(spec, "args", None), dict):
        raise NNUsageError(_("Layers must be LayerSpec objects or the layer language (e.g. \"dense 3 relu\"), "
                             "not a {type}.").format(type=type(spec).__name__))
    return kind_of(spec.kind).checked(spec.args)
