"""Write the demo notebooks from the cell lists below (edit here, then run: python demos/build_notebooks.py)."""
from __future__ import annotations

import os

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = os.path.dirname(os.path.abspath(__file__))


def md(text: str):
    return new_markdown_cell(text.strip())


def code(text: str):
    return new_code_cell(text.strip())


TABULAR = [
    md("""
# 1 · Tables and the three ways to build a network

This notebook follows the first part of the course (*Continuité du machine learning*): load
`artificial_generator.xlsx`, label-encode `Y`, look at the classes, then build the same Dense network
the course's three ways (*séquentielle*, *fonctionnelle*, *par sous-classes*), read its summary and its
weights (*poids*), save and reload them. Every step is one line; `--code` prints the plain Keras it ran.
"""),
    code("%load_ext nnmagics"),
    md("""
The course's data file is not shipped with the course; nnmagics writes one like it (sheets `data2` and
`data4`, columns `X1`, `X2`, `Y`, labels as text) together with a small cats-vs-dogs image tree.
"""),
    code("%nn_data --make-samples course_data"),
    md("""
## Load a sheet and label-encode the target
`%nn_data` reads the sheet, encodes `Y` with scikit-learn's `LabelEncoder` (the mapping is kept and shown),
counts the classes and draws the X1/X2 scatter coloured by class (*nuage de points*).
"""),
    code("%nn_data data2 course_data/artificial_generator.xlsx --sheet data2 --plot"),
    code("%nn_data data4 course_data/artificial_generator.xlsx --sheet data4 --plot --code"),
    code("data4.X[:3], data4.y[:3], data4.mapping"),
    md("""
The course's own scatter code runs on the dataset: `data4['Y']` is the encoded target (0, 1, 2), as after
the course's `le.fit_transform`, and the text labels stay in `data4.class_names`.
"""),
    code("""
import matplotlib.pyplot as plt
plt.figure(figsize=(10, 4))
plt.subplot(1, 2, 1)
plt.scatter(data2['X1'], data2['X2'], c=data2['Y'], edgecolors='red')
plt.title('data2')
plt.subplot(1, 2, 2)
plt.scatter(data4['X1'], data4['X2'], c=data4['Y'], edgecolors='red')
plt.title('data4')
plt.show()
"""),
    md("""
## The course's first network: 2 → 3 → 1, 13 parameters
The course's summary shows `Total params: 13` for two inputs, three relu units and one sigmoid output
(2×3 + 3 = 9, then 3×1 + 1 = 4), compiled with `rmsprop` and `binary_crossentropy` and fitted for 10 epochs
in batches of 32. The same, on `data2` (two classes):
"""),
    code('%nn_build course13 --layers "input 2, dense 3 relu, dense 1 sigmoid" --api sequential --code'),
    code("%nn_train course13 data2 --optimizer rmsprop --loss binary_crossentropy --epochs 10 --batch-size 32 --seed 0 --no-live --code"),
    md("""
Ten epochs at `rmsprop`'s default rate (0.001) barely move thirteen parameters: the accuracy is still near
0.5 and the verdict says so. Training again continues where it stopped — the course's lesson that a network
needs epochs (or a larger rate) to learn.
"""),
    md("""
Which rate? fastai's range test raises the learning rate batch after batch on a copy of the network and
watches the loss: a tenth of the rate where the loss is lowest is a cautious choice, and any rate on the
falling part of the curve learns (the network itself is left as it was). The next cell takes 0.01.
"""),
    code("%nn_lr_find course13 data2 --seed 0"),
    code("%nn_train course13 data2 --epochs 100 --lr 0.01 --no-live"),
    md("""
The course's sequential network for four inputs, 4 → 3 → 10 → 3, has 88 parameters (4×3 + 3, 3×10 + 10,
10×3 + 3); the summary explains each count.
"""),
    code('%nn_build course88 --layers "input 4, dense 3 relu, dense 10 relu, dense 3 softmax" --api sequential'),
    code("course88.count_params()"),
    md("""
## The network three ways
The course's network: 2 inputs → 3 relu → 3 relu → 3 softmax. The summary explains every parameter
count (inputs × units + biases), so *Total params: 33* is no mystery.
"""),
    code("%nn_build model_seq --preset course-dense --api sequential --code"),
    code("%nn_build model_fun --layers \"dense 3 relu, dense 3 relu\" --from data4 --code"),
    code("""
%%nn_build model_sub --api subclass --code
input 2
dense 3 relu
dense 3 relu
dense 3 softmax
"""),
    md("""
## Weights (*get_weights*)
Each kernel is a table of inputs × units, each bias a row: the biases are zero before training.
"""),
    code("%nn_build model_fun --weights --quiet"),
    md("""
## Save and load the weights
Saving is atomic (an interrupted save never destroys the previous file). Weights saved from one API load
into the same network built another way; loading into another architecture is a clear error.
"""),
    code("%nn_build model_fun --save course_dense.weights.h5 --quiet"),
    code("%nn_build model_sub --load course_dense.weights.h5 --quiet"),
    code("""
import numpy as np
all(np.array_equal(a, b) for a, b in zip(model_fun.get_weights(), model_sub.get_weights()))
"""),
    md("The models are plain Keras objects: everything Keras offers is at hand."),
    code("model_fun.predict(data4.X[:5], verbose=0).round(3)"),
]


TABULAR += [
    md("""
## Compile and train (*compiler*, *entraîner*)
`%nn_train` compiles when needed and picks the loss from the output layer: 3 softmax units with integer
labels → `sparse_categorical_crossentropy` (the course's `binary_crossentropy` would not fit 3 classes, and
nnmagics says so). The live panel shows progress and curves; where widgets cannot render (this executed
copy) one text line per epoch is printed and a picture of the curves is kept.
"""),
    code("%nn_train model_fun data4 --val-split 0.2 --epochs 60 --optimizer adam --lr 0.05 --seed 0"),
    md("The history is a Keras `History`: the course's plotting code runs on it unchanged."),
    code("""
history = model_fun_history
len(history.history['loss']), round(history.history['val_accuracy'][-1], 3)
"""),
]


CNN = [
    md("""
# 2 · A convolutional network on image folders (cats vs dogs): over-fitting and its cure

The course's second part: images in one folder per class (`train/cats`, `train/dogs`,
`validation/...`), resized to 150×150 and read in batches of 20, a CNN with four conv/pool blocks, then
training, the curves, evaluation, predictions and the confusion matrix — and, when the curves diverge,
augmentation and dropout. Every object nnmagics makes is a plain Keras input: the course's own
(Keras 3) lines run on them.

| course line | on Keras 3 | Keras 3 | here |
|---|---|---|---|
| `ImageDataGenerator(rescale=1./255).flow_from_directory(…)` | still runs (a legacy class) | `keras.utils.image_dataset_from_directory(…)` + `Rescaling(1/255)` in the model | `%nn_data cats FOLDER` (the model rescales: do not rescale the data too, nnmagics warns) |
| `model.fit_generator(train_generator, …)` | `AttributeError`: removed | `model.fit(train_generator, …)` | `%nn_train cnn cats`, or `cnn.fit(cats, validation_data=cats_val)` |
| `model.evaluate_generator(validation_generator)` | `AttributeError`: removed | `model.evaluate(validation_generator)` | `cnn.evaluate(cats_val)` |
| `model.predict_generator(validation_generator)` | `AttributeError`: removed | `model.predict(validation_generator)` | `cnn.predict(cats_val)` |
| `layers.output(0.5)(x)` | `AttributeError` (the course means dropout) | `layers.Dropout(0.5)(x)` | `--dropout 0.5` |
| `class_names=['dog','cats']` | rows mislabelled: classes are sorted, `cats` is 0 | `class_names=['cats', 'dogs']` | `cats_val.class_names` |
"""),
    code("%load_ext nnmagics"),
    code("%nn_gpu"),
    code("%nn_data --make-samples course_data"),
    md("""
`cats` holds the training images and `cats_val` the validation images (drawn cats and dogs on photo
backgrounds; training and validation come from different photos). `--show 10` draws ten images with
their original shapes: landscape, portrait, all sizes — hence the resize to 150×150.
"""),
    code("%nn_data cats course_data/cats_and_dogs_filtered --image-size 150 --batch-size 20 --show 10 --code"),
    code("cats.class_indices, cats_val.classes[:5], len(cats_val)"),
    md("## The course's CNN (*réseau de neurones à convolution*)"),
    code("%nn_build cnn --preset course-cnn --code"),
    md("""
## Train with the live panel
The course compiles with `metrics=['acc']` and `rmsprop`. In a notebook the panel shows the device, epoch and
batch progress with ETA, live curves, a table per epoch, the verdict, and a **Stop** button (interrupting
the kernel does the same: the model keeps its weights and the history its epochs). `--code` prints the
plain Keras that ran.
"""),
    code("%nn_train cnn cats --epochs 15 --metrics acc --seed 0 --code"),
    md("""
## The curves, with the course's own plotting code
Training accuracy climbs towards 1 while validation accuracy stalls and validation loss rises: the
network learns its 400 training images by heart (*surapprentissage*).
"""),
    code("""
import matplotlib.pyplot as plt
history = cnn_history
acc = history.history['acc']
val_acc = history.history['val_acc']
loss = history.history['loss']
val_loss = history.history['val_loss']
epochs = range(len(acc))
plt.plot(epochs, acc)
plt.plot(epochs, val_acc)
plt.title('Training and validation accuracy')
plt.figure()
plt.plot(epochs, loss)
plt.plot(epochs, val_loss)
plt.title('Training and validation loss')
plt.show()
"""),
    md("""
## Evaluate, predict, confusion matrix — the course's lines on nnmagics' objects
`cats_val` is a Keras input in a fixed order, and `cats_val.classes` holds one label per image, as the
course's `validation_generator.classes`.
"""),
    code("cnn.evaluate(cats_val, verbose=0)"),
    code("""
import pandas as pd
y_pred = cnn.predict(cats_val, verbose=0)
pd.Series(y_pred.flatten()).head()
"""),
    code("""
imgs, labels = next(cats_val)
imgs.shape, labels[:8]
"""),
    code("""
from sklearn.metrics import confusion_matrix
from mlxtend.plotting import plot_confusion_matrix
y_pred = (y_pred > 0.5).astype('int32')
conf_mat = confusion_matrix(cats_val.classes, y_pred)
plot_confusion_matrix(conf_mat=conf_mat, colorbar=True, show_absolute=True, show_normed=True,
                      class_names=cats_val.class_names)
plt.show()
"""),
    md("""
## The cure: augmentation and dropout (*augmentation des données*, *abandon*)
The course first retrains the same model on augmented images (random rotations, shifts, shear, zoom and
flips as its `ImageDataGenerator`; never applied to validation images): training goes on from epoch 16.
"""),
    code("%nn_train cnn cats --epochs 3 --augment"),
    md("""
Then `Dropout(0.5)` before the output, in a fresh network trained with augmentation from the start: the
training accuracy no longer runs away from the validation accuracy.
"""),
    code("%nn_build cnn_aug --preset course-cnn --dropout 0.5 --quiet"),
    code("%nn_train cnn_aug cats --epochs 15 --augment --metrics acc --seed 0"),
    code("""
fig, axes = plt.subplots(1, 2, figsize=(11, 3.5), sharey=True)
for ax, (title, h) in zip(axes, [("plain CNN", cnn_history.history), ("augmentation + dropout", cnn_aug_history.history)]):
    ax.plot(h['acc'][:15], label='training')
    ax.plot(h['val_acc'][:15], label='validation')
    ax.set_title(f"{title}: gap {h['acc'][14] - h['val_acc'][14]:+.2f} after 15 epochs")
    ax.set_xlabel('epoch'); ax.legend()
axes[0].set_ylabel('accuracy')
plt.show()
"""),
    md("""
## The course's story in one picture: plain → augmentation + dropout → transfer
Every `%nn_train` was recorded in `nnmagics-runs/` next to this notebook (the recipe, the history, the
verdict, the best and last weights, the data's fingerprint): `%nn_runs` lists the runs, and they outlive
the kernel. The third step of the course is transfer learning (notebook 4); here a small base that is
quick on a CPU, MobileNetV3, with random weights because this demo runs offline (`--weights none`):
random features say nothing, so its head stays at chance (accuracy 0.5) and its curve only shows how the
comparison is drawn. With the default `--weights imagenet`, ImageNet's features are what let transfer
learning beat both networks (notebook 4).
"""),
    code("%nn_transfer build tl --base mobilenet_v3_small --from cats --weights none --quiet"),
    code("%nn_train tl cats --epochs 10 --metrics acc --seed 0 --no-live"),
    md("""
`%nn_diagnose` with several names overlays their curves on shared axes (dashed training, solid
validation), each with its verdict and best epoch (★), and a table of the runs; a name that is not in
the notebook is read from its recorded run, so a comparison works in a new kernel too. `--code` prints
the matplotlib that draws it from each `history.history`.
"""),
    code("%nn_diagnose cnn cnn_aug tl --code"),
    code("%nn_runs --sort val_loss"),
    md("""
**Never lose a run.** Colab recycles idle runtimes; after a restart (or a disconnect) the same cell with
`--resume` goes on from the last finished epoch — weights, optimizer state, epoch count and curves — and
trains only what is missing (nothing, here: `cnn_aug` has its 15 epochs). On Colab, keep the runs on
Drive: `%config NNMagics.runs_dir = '/content/drive/MyDrive/nnmagics-runs'`.
"""),
    code("%nn_train cnn_aug cats --epochs 15 --augment --metrics acc --seed 0 --no-live --resume"),
]


DIAGNOSIS = [
    md("""
# 3 · Diagnosis: curves, over-fitting, evaluation, confusion matrix, feature maps

The course reads the accuracy and loss curves (*courbes*) to spot over-fitting (*surapprentissage*),
evaluates, predicts and draws a confusion matrix with mlxtend. `%nn_diagnose` does all of it, with
predictions and labels taken from one pass over the data in a fixed order (the course's
`confusion_matrix(validation_generator.classes, y_pred)` on a shuffled generator mixes them up).
"""),
    code("%load_ext nnmagics"),
    code("""
%nn_data --make-samples course_data
%nn_data cats course_data/cats_and_dogs_filtered --image-size 150 --batch-size 20
"""),
    code("""
%nn_build cnn --preset course-cnn --quiet
%nn_train cnn cats --epochs 8 --seed 0 --no-live
"""),
    md("## Curves and verdict"),
    code("%nn_diagnose cnn"),
    md("## Evaluate, confusion matrix and per-class report on the validation images"),
    code("%nn_diagnose cnn cats_val --code"),
    md("The report is the cell's value: its numbers are at hand as Python objects."),
    code("""
report = _
report.evaluation, report.confusion
"""),
    md("## Predictions and the most confident mistakes"),
    code("%nn_diagnose cnn cats_val --predictions 8 --errors 4"),
    md("""
## Feature maps (*cartes d'activation*)
What each convolution and pooling layer sees in one image, normalised as the course does. In a live
notebook a dropdown switches the layer and a slider the image.
"""),
    code("%nn_diagnose cnn --feature-maps cats_val[0]"),
    md("""
## Grad-CAM: where the network looked
Each validation image under its heat map at the last convolution: the gradient of the predicted class's
score with respect to that layer's maps, averaged per channel, weighs the maps (Selvaraju et al.). Titles
give the prediction and the truth; `--layer NAME` picks another layer, `--code` prints the plain Keras.
"""),
    code("%nn_diagnose cnn --gradcam cats_val[0:8]"),
    md("## The course's augmentation, previewed on one image"),
    code("%nn_diagnose --augment-preview cats[3]"),
]


TRANSFER = [
    md("""
# 4 · Transfer learning: VGG16, and InceptionV3 cut at mixed7

The course reuses VGG16 trained on ImageNet: predict ImageNet labels, then drop the last layer, freeze
the rest and add a `Dense(2, softmax)` head for cats vs dogs.

**Weights.** VGG16's ImageNet weights (528 MB) come from Keras' cache (`~/.keras/models`); this demo
runs anywhere with `--weights none` (random weights), so the *labels it predicts are meaningless*:
use the default `--weights imagenet` on a machine that can download them (or has the file) for real
predictions. The label names themselves are shipped and work offline.

| course line | on Keras 3 | Keras 3 | here |
|---|---|---|---|
| `from tensorflow.keras.applications.vgg16 import preprocess_import` | `ImportError` (a typo) | `preprocess_input` | built into `%vgg_transfer` models |
| `load_img('…', target_size(224,224))` | `NameError` (a typo) | `load_img('…', target_size=(224, 224))` | `%vgg_transfer predict IMAGE` |
| `VGG16()` offline | downloads 528 MB of weights; fails without network | `VGG16(weights='path.h5')` | `--weights PATH` or `--weights none` |
| `decode_predictions(…)` offline | downloads the label file | `decode_predictions(…)` once online | `%vgg_transfer labels --group dog` (offline) |
"""),
    code("%load_ext nnmagics"),
    code("""
%nn_data --make-samples course_data
%nn_data cats course_data/cats_and_dogs_filtered --image-size 150 --batch-size 20
"""),
    md("""
## ImageNet labels
The course searches dog labels with `'_dog'`, which misses most of the 118 breeds; `--group dog` gives all
of them (ImageNet classes 151–268).
"""),
    code("%vgg_transfer labels --group cat"),
    code("%vgg_transfer labels --contains retriever"),
    md("## Predict (224×224, `preprocess_input`, top-5)"),
    code("%vgg_transfer predict cats[0] --weights none --top 5"),
    md("""
## The course's recipe: replace the top layer
Every VGG16 layer but the last, frozen, then `Dense(2, softmax)`: 134,268,738 parameters of which 8,194
trainable. The model carries `preprocess_input` and resizes to 224×224 itself, so it takes the dataset's
raw images.
"""),
    code("%vgg_transfer build tl --classes 2 --weights none"),
    md("""
## The fast way: features mode
The convolutional base runs once per dataset (its outputs are cached) and only a small head trains, so
ten epochs cost about one pass of VGG16.
"""),
    code("%vgg_transfer build fast --from cats --mode features --weights none"),
    code("%nn_train fast cats --epochs 10 --seed 0"),
    code("%nn_diagnose fast cats_val --confusion"),
    md("""
## The course's source exercise: InceptionV3 cut at `mixed7`
Google's exercise the course is built from takes InceptionV3 without its top, keeps it up to the layer
`mixed7`, adds `Flatten → Dense(1024, relu) → Dropout(0.2) → Dense`, trains the head, then fine-tunes every
layer after `mixed6` at a low learning rate with SGD. `%nn_transfer` does it for every base Keras ships
(`%nn_transfer bases` lists them); the model takes raw pixels and applies InceptionV3's own
`preprocess_input` inside. Random weights here (`--weights none`); drop it where the weights can be had.
"""),
    code("%nn_transfer build inc --base inception_v3 --cut mixed7 --from cats --pooling flatten "
         "--head-units 1024 --dropout 0.2 --weights none --quiet --code"),
    code("%nn_train inc cats --epochs 3 --seed 0"),
    md("Phase 2, the course's loop: every layer after `mixed6` trains (BatchNormalization stays frozen)."),
    code("%nn_transfer build inc --fine-tune-from mixed6"),
    code("%nn_train inc cats --epochs 1 --optimizer sgd --lr 1e-5 --steps-per-epoch 4 --validation-steps 2 --seed 0"),
    md("The course's own lines work on the model nnmagics made:"),
    code("""
pre_trained_model = inc.get_layer("inception_v3")
last_layer = pre_trained_model.get_layer("mixed7")
print("last layer output shape:", last_layer.output.shape)
print("trainable after mixed6:", [l.name for l in pre_trained_model.layers[-12:] if l.trainable][:4])
"""),
]


FRENCH = [
    md("""
# 5 · Le cours en français

Le même parcours que les carnets 1 à 3, avec nnmagics en français : une ligne de `%config` suffit, et
chaque message (erreurs, panneau d'entraînement, verdict, tableaux, figures, commentaires du code
affiché, aide `%nn_train?`) est en français ; les nombres prennent la virgule décimale. Les noms que
vous tapez (magics, options, couches Keras) restent les mêmes. Sur Colab, la langue du système est
l'anglais : gardez la ligne `%config` dans la cellule qui charge nnmagics.
"""),
    code("""
%load_ext nnmagics
%config NNMagics.language = 'fr'
"""),
    code("%nn_data --make-samples donnees"),
    md("## Un tableau, un réseau dense, un entraînement"),
    code("%nn_data data4 donnees/artificial_generator.xlsx --sheet data4 --plot"),
    code("%nn_build modele --preset course-dense --api sequential"),
    code("%nn_train modele data4 --val-split 0.2 --epochs 30 --lr 0.01 --seed 0"),
    code("%nn_diagnose modele data4"),
    md("Une erreur tient en une phrase, qui dit quoi corriger (ici dans une cellule Python, pour que le carnet continue) :"),
    code("""
import nnmagics as nm
try:
    nm.build_model("dense 3 rleu", input_shape=(2,))
except nm.NNUsageError as erreur:
    print(erreur)
"""),
    md("## Chats et chiens : un réseau convolutif, augmentation des données, diagnostic"),
    code("%nn_data chats donnees/cats_and_dogs_filtered --image-size 64 --batch-size 20"),
    code('%nn_build cnn --layers "rescale 1/255, conv 16 3 relu, pool 2, conv 32 3 relu, pool 2, flatten, dense 64 relu" --from chats --quiet'),
    code("%nn_train cnn chats --epochs 4 --augment --seed 0"),
    code("%nn_diagnose cnn chats_val --confusion"),
    code("%nn_diagnose cnn --feature-maps chats_val[0]"),
    md("Grad-CAM : quelle partie de l'image a fait pencher le réseau vers « chat » ou « chien » ?"),
    code("%nn_diagnose cnn --gradcam chats_val[0:4]"),
    code("%nn_runs"),
]


NOTEBOOKS = {
    "01_tables_and_three_apis.ipynb": TABULAR,
    "02_cnn_image_folders.ipynb": CNN,
    "03_diagnosis.ipynb": DIAGNOSIS,
    "04_vgg16_transfer.ipynb": TRANSFER,
    "05_le_cours_en_francais.ipynb": FRENCH,
}


def main() -> None:
    for name, cells in NOTEBOOKS.items():
        notebook = new_notebook(cells=cells, metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        })
        nbformat.write(notebook, os.path.join(HERE, name))
        print("wrote", name)


if __name__ == "__main__":
    main()
