"""``data/batches.py``: the numpy batches JAX and PyTorch train on (``Dataset.batches`` off TensorFlow)."""
import keras
import numpy as np

from nnmagics.data.batches import ArrayBatches


def _rows(batches, count):
    return [batches[i][0] for i in range(count)]


def test_every_pass_is_one_permutation_the_same_for_the_same_seed():
    x = np.arange(10)
    make = lambda seed: ArrayBatches(10, 4, lambda rows, k: (x[rows], x[rows] * 2), shuffle=True, seed=seed)  # noqa: E731
    one, two = make(0), make(0)
    passes = []
    for epoch in range(6):                      # more passes than the orders kept (a pass used to loop forever)
        got = np.concatenate(_rows(one, one.num_batches))
        assert sorted(got.tolist()) == list(range(10)) and one.num_batches == 3
        assert np.array_equal(got, np.concatenate(_rows(two, two.num_batches)))
        passes.append(got)
        one.on_epoch_end(), two.on_epoch_end()
    assert len({tuple(p) for p in passes}) > 1   # a new order every pass
    assert not np.array_equal(passes[0], np.concatenate(_rows(make(1), 3)))
    x0, y0 = make(0)[0]
    assert np.array_equal(y0, x0 * 2)


def test_endless_batches_cross_passes_and_fixed_order_and_x_only():
    x = np.arange(5)
    endless = ArrayBatches(5, 2, lambda rows, k: (x[rows], x[rows]), repeat=True)
    assert endless.num_batches is None
    assert [endless[i][0].tolist() for i in range(7)] == [[0, 1], [2, 3], [4], [0, 1], [2, 3], [4], [0, 1]]
    full = ArrayBatches(5, 2, lambda rows, k: (x[rows], x[rows]), drop_remainder=True, x_only=True)
    assert full.num_batches == 2 and len(full[1]) == 1 and full[1][0].tolist() == [2, 3]


def test_keras_fits_and_predicts_on_them_for_many_epochs(tiny_images):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Rescaling(1 / 255), keras.layers.Flatten(),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    history = model.fit(tiny_images.batches(shuffle=True, seed=0), validation_data=tiny_images.batches(),
                        epochs=5, verbose=0)
    assert len(history.history["val_loss"]) == 5
    assert model.predict(tiny_images.batches(x_only=True), verbose=0).shape == (8, 1)
