"""The 1000 ImageNet labels offline, and their families."""
import sys

import pytest

from nnmagics.transfer import imagenet_labels as il
from nnmagics.errors import NNUsageError


def test_thousand_labels_in_vgg16_order_with_wordnet_ids():
    labels = il.all_labels()
    assert len(labels) == 1000
    assert [lb.index for lb in labels] == list(range(1000))
    assert labels[0].wnid == "n01440764" and labels[0].name == "tench"
    assert labels[207].keras_name == "golden_retriever"
    assert all(lb.wnid.startswith("n") and len(lb.wnid) == 9 for lb in labels)


def test_dog_group_is_the_118_breeds():
    dogs = il.group_labels("dog")
    assert len(dogs) == 118
    assert [lb.index for lb in dogs] == list(range(151, 269))
    assert dogs[0].name == "Chihuahua" and dogs[-1].name == "Mexican hairless"
    names = {lb.name for lb in dogs}
    assert {"golden retriever", "beagle", "German shepherd", "standard poodle"} <= names
    assert "timber wolf" not in names  # wild dogs are their own group
    assert il.get_group("dogs").range_text == "151–268"


def test_cat_group_is_the_domestic_cats():
    cats = il.group_labels("cat")
    assert [lb.index for lb in cats] == [281, 282, 283, 284, 285]
    names = [lb.name for lb in cats]
    for wanted in ("tabby", "Siamese cat", "Persian cat", "Egyptian cat", "tiger cat"):
        assert wanted in names
    assert "lion" not in names and "lion" in [lb.name for lb in il.group_labels("big-cat")]


def test_every_group_range_is_checked_against_the_labels():
    checks = {"snake": ("thunder snake", "sidewinder"), "bird": ("cock", "albatross"),
              "primate": ("orangutan", "indri"), "fish": ("tench", "puffer"), "bear": ("brown bear", "sloth bear"),
              "insect": ("tiger beetle", "lycaenid"), "fruit": ("Granny Smith", "pomegranate"),
              "lizard": ("banded gecko", "Komodo dragon"), "fungus": ("mushroom", "bolete")}
    for group, (first, last) in checks.items():
        labels = il.group_labels(group)
        assert (labels[0].name, labels[-1].name) == (first, last), group
    assert len(il.group_labels("bird")) == 59
    assert len(il.group_labels("snake")) == 17
    for group in il.GROUPS.values():
        assert group.indices == sorted(set(group.indices)) and 0 <= group.indices[0] and group.indices[-1] < 1000


def test_course_string_match_misses_most_breeds():
    found = il.course_string_match("_dog")
    assert len(found) == 5
    breeds = [lb for lb in found if 151 <= lb.index <= 268]
    assert len(breeds) == 4  # the fifth, African_hunting_dog, is a wild dog
    assert "Madagascar_cat" in [lb.keras_name for lb in il.course_string_match("_cat")]  # a lemur
    assert "'_dog'" in il.__doc__ and "misses" in il.__doc__


def test_find_labels_and_frames():
    assert [lb.name for lb in il.find_labels("siamese")] == ["Siamese cat"]
    assert [lb.index for lb in il.find_labels("poodle", group="dog")] == [265, 266, 267]
    frame = il.labels_frame(group="cat")
    assert list(frame.columns) == ["index", "wnid", "name", "keras_name", "synonyms"]
    assert frame["index"].tolist() == [281, 282, 283, 284, 285]
    groups = il.groups_frame().set_index("group")
    assert groups.loc["dog", "indices"] == "151–268" and groups.loc["dog", "classes"] == 118


def test_unknown_group_suggests_the_closest():
    with pytest.raises(NNUsageError, match="Did you mean 'snake'"):
        il.get_group("snak")
    with pytest.raises(NNUsageError, match="0 to 999"):
        il.label(1000)


def test_labels_need_no_tensorflow():
    assert il.all_labels()  # already loaded above; importing the module must not pull TensorFlow in
    import subprocess

    code = ("import sys; from nnmagics.transfer import imagenet_labels as il; il.group_labels('dog'); "
            "print('tensorflow' in sys.modules, 'keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
