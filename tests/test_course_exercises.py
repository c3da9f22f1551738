"""Google's three image-classification exercises, the course's sources, cell by cell on nnmagics' objects.

Each exercise's own code runs as written, with only the Keras 3 fixes (``lr=`` → ``learning_rate=``,
``tensorflow.keras`` → ``keras``, ``fit_generator`` → ``fit``), on the dataset ``%nn_data`` made in place of
``ImageDataGenerator.flow_from_directory``; then the same exercise is done with the magics alone. Steps and
epochs are cut to what a CPU test affords (the exercises train 100 steps × 15 epochs).
"""
from __future__ import annotations

import pytest

pytestmark = [pytest.mark.notebook, pytest.mark.slow]


def ok(cell):
    assert cell.status == "ok" and not cell.has_traceback, cell.text
    return cell


def html(cell) -> str:
    return " ".join(o.get("data", {}).get("text/html", "") for o in cell.outputs)


def images_shown(cell) -> int:
    return sum("image/png" in o.get("data", {}) for o in cell.outputs)


# the exercises' cells (Keras 3 fixes only); {dir} is the cats_and_dogs_filtered folder
EXPLORE = """
import os
base_dir = {dir!r}
train_dir = os.path.join(base_dir, 'train')
validation_dir = os.path.join(base_dir, 'validation')
train_cats_dir = os.path.join(train_dir, 'cats')
train_dogs_dir = os.path.join(train_dir, 'dogs')
train_cat_fnames = os.listdir(train_cats_dir)
train_dog_fnames = os.listdir(train_dogs_dir)
print('total training cat images:', len(os.listdir(train_cats_dir)))
"""

CNN = """
import keras
from keras import layers
from keras import Model
from keras.optimizers import RMSprop

img_input = layers.Input(shape=(150, 150, 3))
x = layers.Conv2D(16, 3, activation='relu')(img_input)
x = layers.MaxPooling2D(2)(x)
x = layers.Conv2D(32, 3, activation='relu')(x)
x = layers.MaxPooling2D(2)(x)
x = layers.Conv2D(64, 3, activation='relu')(x)
x = layers.MaxPooling2D(2)(x)
x = layers.Flatten()(x)
x = layers.Dense(512, activation='relu')(x)
{dropout}output = layers.Dense(1, activation='sigmoid')(x)
model = Model(img_input, output)
model.compile(loss='binary_crossentropy', optimizer=RMSprop(learning_rate=0.001), metrics=['acc'])
"""

FIT = """
history = model.fit(train_generator, steps_per_epoch=2, epochs=2, validation_data=validation_generator,
                    validation_steps=1, verbose=2)
acc, val_acc = history.history['acc'], history.history['val_acc']
loss, val_loss = history.history['loss'], history.history['val_loss']
print('epochs', len(acc), len(val_acc), len(loss), len(val_loss))
"""

FEATURE_MAPS = """
import random
import numpy as np
import matplotlib.pyplot as plt
from keras.utils import img_to_array, load_img

successive_outputs = [layer.output for layer in model.layers[1:]]
visualization_model = Model(img_input, successive_outputs)
cat_img_files = [os.path.join(train_cats_dir, f) for f in train_cat_fnames]
dog_img_files = [os.path.join(train_dogs_dir, f) for f in train_dog_fnames]
img_path = random.choice(cat_img_files + dog_img_files)
img = load_img(img_path, target_size=(150, 150))
x = img_to_array(img)
x = x.reshape((1,) + x.shape)
x /= 255
successive_feature_maps = visualization_model.predict(x, verbose=0)
layer_names = [layer.name for layer in model.layers[1:]]
drawn = 0
for layer_name, feature_map in zip(layer_names, successive_feature_maps):
    if len(feature_map.shape) == 4:
        n_features = feature_map.shape[-1]
        size = feature_map.shape[1]
        display_grid = np.zeros((size, size * n_features))
        for i in range(n_features):
            x = feature_map[0, :, :, i]
            x -= x.mean()
            x /= (x.std() + 1e-8)
            x *= 64
            x += 128
            x = np.clip(x, 0, 255).astype('uint8')
            display_grid[:, i * size: (i + 1) * size] = x
        scale = 20. / n_features
        plt.figure(figsize=(scale * n_features, scale))
        plt.title(layer_name)
        plt.imshow(display_grid, aspect='auto', cmap='viridis')
        drawn += 1
plt.show()
print('feature maps drawn', drawn)
"""

CURVES = """
epochs = range(len(acc))
plt.plot(epochs, acc)
plt.plot(epochs, val_acc)
plt.title('Training and validation accuracy')
plt.figure()
plt.plot(epochs, loss)
plt.plot(epochs, val_loss)
plt.title('Training and validation loss')
plt.show()
"""


@pytest.fixture(scope="module")
def course_dir(tmp_path_factory):
    """A cats_and_dogs_filtered tree of 20 training and 10 validation images per class (one batch of 20)."""
    import os

    from nnmagics.data.samples import make_samples

    made = make_samples(str(tmp_path_factory.mktemp("exercises")), images_per_class=(20, 10))
    return os.path.abspath(made["images"])


def test_exercise_1_a_cnn_from_scratch(kernel, course_dir):
    """Exercise 1: explore the folders, the CNN, fit on the generators, feature maps, curves; then the magics."""
    ok(kernel.run(EXPLORE.format(dir=course_dir)))
    # flow_from_directory(train_dir, target_size=(150, 150), batch_size=20, class_mode='binary') with rescale=1./255
    made = ok(kernel.run(f"%nn_data ex1 {course_dir!r} --image-size 150 --batch-size 20 --rescale 1/255\n"
                         "train_generator, validation_generator = ex1, ex1_val"))
    assert "40" in made.text + html(made), made.text
    ok(kernel.run(CNN.format(dropout="")))
    fitted = ok(kernel.run(FIT))
    assert "epochs 2 2 2 2" in fitted.text
    maps = ok(kernel.run(FEATURE_MAPS))
    assert "feature maps drawn 6" in maps.text                              # 3 conv + 3 pool layers
    # the kernel draws with Agg (as the suite does): the figures are made, not shown
    curves = ok(kernel.run("plt.close('all')\n" + CURVES + "print('figures', len(plt.get_fignums()))"))
    assert "figures 2" in curves.text
    # the same exercise with the magics alone (raw pixels: the course CNN rescales inside)
    ok(kernel.run(f"%nn_data ex1raw {course_dir!r} --image-size 150 --batch-size 20\n"
                  "%nn_build ex1_cnn --preset course-cnn --from ex1raw --quiet"))
    trained = ok(kernel.run("%nn_train ex1_cnn ex1raw --epochs 1 --steps-per-epoch 2 --no-live"))
    assert "val_loss" in trained.text, trained.text
    looked = ok(kernel.run("%nn_diagnose ex1_cnn ex1raw_val --confusion"))
    assert "Confusion matrix" in looked.text and "Evaluation: loss" in looked.text, looked.text
    maps = ok(kernel.run("%nn_diagnose ex1_cnn --feature-maps ex1raw_val[0]"))
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in maps.outputs) \
        or images_shown(maps) >= 1, maps.outputs


def test_exercise_2_augmentation_and_dropout(kernel, course_dir):
    """Exercise 2: the augmenting generator (ImageDataGenerator's keywords) and Dropout(0.5); then the magics."""
    ok(kernel.run(EXPLORE.format(dir=course_dir)))
    # ImageDataGenerator(rescale=1./255, rotation_range=40, width_shift_range=0.2, height_shift_range=0.2,
    #                    shear_range=0.2, zoom_range=0.2, horizontal_flip=True)
    made = ok(kernel.run(f"%nn_data ex2 {course_dir!r} --image-size 150 --batch-size 20 --rescale 1/255 "
                         "--augment 'rotation_range=40, width_shift_range=0.2, height_shift_range=0.2, "
                         "shear_range=0.2, zoom_range=0.2, horizontal_flip=True' --seed 0\n"
                         "train_generator, validation_generator = ex2, ex2_val"))
    assert "augmented every epoch" in made.text, made.text
    # the exercise shows a few augmented versions of one image: next() on the generator gives new draws
    drawn = ok(kernel.run("a, _ = next(train_generator)\nb, _ = next(train_generator)\n"
                          "print('augmented', a.shape, float(a.max()) <= 1.0, not np.array_equal(a, b))"))
    assert "augmented (20, 150, 150, 3) True True" in drawn.text, drawn.text
    ok(kernel.run(CNN.format(dropout="x = layers.Dropout(0.5)(x)\n")))
    assert "layers.Dropout" not in kernel.run("print([type(l).__name__ for l in model.layers])").text
    assert "'Dropout'" in kernel.run("print([type(l).__name__ for l in model.layers])").text
    fitted = ok(kernel.run(FIT))
    assert "epochs 2 2 2 2" in fitted.text
    # the magics alone: the course CNN with dropout, trained on an augmenting dataset of raw pixels
    ok(kernel.run(f"%nn_data ex2raw {course_dir!r} --image-size 150 --batch-size 20 --augment "
                  "'rotation_range=40, horizontal_flip=True' --seed 0\n"
                  "%nn_build ex2_cnn --preset course-cnn --dropout 0.5 --from ex2raw --quiet"))
    trained = ok(kernel.run("%nn_train ex2_cnn ex2raw --epochs 1 --steps-per-epoch 2 --no-live --code"))
    assert "FusedAugment(" in trained.text and "rotation_range=40" in trained.text, trained.text


def test_exercise_3_inception_v3_at_mixed7_then_fine_tuning_after_mixed6(kernel, course_dir):
    """Exercise 3: InceptionV3 from a local weights file, cut at mixed7, a new head, fine-tuning after mixed6
    with SGD; then the magics alone (random weights: ImageNet's are not downloadable here)."""
    ok(kernel.run(f"%nn_data ex3 {course_dir!r} --image-size 150 --batch-size 20 --rescale 1/255\n"
                  "train_generator, validation_generator = ex3, ex3_val"))
    # the exercise downloads inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5 to /tmp; a file of
    # random weights stands in for it
    ok(kernel.run("import keras\n"
                  "keras.applications.InceptionV3(input_shape=(150, 150, 3), include_top=False, weights=None)"
                  ".save_weights('inception_v3_notop.weights.h5')"))
    cells = [
        "from keras.applications.inception_v3 import InceptionV3\n"
        "from keras import layers, Model\n"
        "from keras.optimizers import RMSprop, SGD\n"
        "local_weights_file = 'inception_v3_notop.weights.h5'\n"
        "pre_trained_model = InceptionV3(input_shape=(150, 150, 3), include_top=False, weights=None)\n"
        "pre_trained_model.load_weights(local_weights_file)\n"
        "for layer in pre_trained_model.layers:\n"
        "    layer.trainable = False\n"
        "last_layer = pre_trained_model.get_layer('mixed7')\n"
        "print('last layer output shape:', last_layer.output.shape)\n"
        "last_output = last_layer.output",
        "x = layers.Flatten()(last_output)\n"
        "x = layers.Dense(1024, activation='relu')(x)\n"
        "x = layers.Dropout(0.2)(x)\n"
        "x = layers.Dense(1, activation='sigmoid')(x)\n"
        "model = Model(pre_trained_model.input, x)\n"
        "model.compile(loss='binary_crossentropy', optimizer=RMSprop(learning_rate=0.0001), metrics=['acc'])",
        "history = model.fit(train_generator, steps_per_epoch=1, epochs=1, validation_data=validation_generator,\n"
        "                    validation_steps=1, verbose=2)",
        "unfreeze = False\n"
        "for layer in pre_trained_model.layers:\n"
        "    if unfreeze:\n"
        "        layer.trainable = True\n"
        "    if layer.name == 'mixed6':\n"
        "        unfreeze = True\n"
        "model.compile(loss='binary_crossentropy', optimizer=SGD(learning_rate=0.00001, momentum=0.9), metrics=['acc'])\n"
        "history = model.fit(train_generator, steps_per_epoch=1, epochs=1, validation_data=validation_generator,\n"
        "                    validation_steps=1, verbose=2)\n"
        "print('trainable', sum(l.trainable for l in pre_trained_model.layers) > 0, sorted(history.history))",
    ]
    shown = [ok(kernel.run(cell)) for cell in cells]
    assert "last layer output shape: (None, 7, 7, 768)" in shown[0].text
    assert "trainable True ['acc', 'loss', 'val_acc', 'val_loss']" in shown[-1].text
    # the magics alone: the same model on raw pixels (InceptionV3's preprocess_input inside), the head on
    # cached features, then fine-tuning after mixed6
    ok(kernel.run(f"%nn_data ex3raw {course_dir!r} --image-size 150 --batch-size 20"))
    built = ok(kernel.run("%nn_transfer build ex3_tl --base inception_v3 --cut mixed7 --from ex3raw --pooling flatten "
                          "--head-units 1024 --dropout 0.2 --weights none --quiet"))
    assert not built.error_lines
    ok(kernel.run("%nn_train ex3_tl ex3raw --epochs 1 --no-live"))
    tuned = ok(kernel.run("%nn_transfer build ex3_tl --fine-tune-from mixed6\n"
                          "print('mixed7 trainable', ex3_tl.get_layer('inception_v3').get_layer('mixed7').trainable)"))
    assert "mixed7 trainable True" in tuned.text, tuned.text
    # phase 2 as the exercise compiles it: SGD(learning_rate=0.00001, momentum=0.9)
    sgd = ok(kernel.run("%nn_train ex3_tl ex3raw --epochs 1 --optimizer sgd --lr 1e-5 --momentum 0.9 "
                        "--steps-per-epoch 1 --validation-steps 1 --no-live\n"
                        "o = ex3_tl.optimizer\n"
                        "print(type(o).__name__, round(float(o.learning_rate), 9), round(float(o.momentum), 6))"))
    assert "SGD 1e-05 0.9" in sgd.text, sgd.text
    wrong = kernel.run("%nn_train ex3_tl ex3raw --epochs 1 --optimizer adam --momentum 0.9 --no-live")
    assert wrong.error_lines == ["UsageError: --momentum applies to sgd and rmsprop; adam has none (leave --momentum "
                                 "out or use --optimizer sgd)."], wrong.text
