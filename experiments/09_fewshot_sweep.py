"""Chapter 09's few-label experiments over many draws of the labelled images, with stored results.

What it runs (the chapter's own code, copied so the script stands alone):
  1. the contrastive pretext of section 4 (InfoNCE on neighbour pairs, 3 x 200 steps, seed 0);
  2. the three Keras regimes of section 5 (from scratch, feature extraction, full fine-tuning) and
     two raw-pixel baselines (1-nearest-neighbour and logistic regression, scikit-learn) on the same
     labels, for 1 and 3 labels per digit and four draws of ``few_shot_indices`` (seeds 0-3);
  3. linear probes (logistic regression on frozen features) over 20 draws, 1 and 3 labels per digit:
     raw pixels, an untrained encoder, the contrastive encoder, and two masked-autoencoder pretexts
     (random pixels hidden, and 3x3 patches hidden as in exercise 2), both scored on hidden pixels;
  4. transfer to classes the source never saw: a classifier trained with all labels of digits 0-4,
     its frozen features probed on digits 5-9 with 1 and 2 labels per digit (20 draws), against raw
     pixels and the contrastive encoder.

How long: about 1 minute on an idle 2-core machine (2-3 minutes on a busy one).
Run: ``PYTHONPATH=. python experiments/09_fewshot_sweep.py`` from the repository root; it writes
``experiments/results/09_fewshot_sweep.json``. Quoted in notebooks/09_pretraining_and_finetuning.ipynb,
sections 5 and 7.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import ops  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier  # noqa: E402

import course_lib  # noqa: E402
from course_lib.transfer import few_shot_indices, transfer_weights  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "09_fewshot_sweep.json"


def view(images, rng):
    n = len(images)
    padded = np.pad(images, [(0, 0), (1, 1), (1, 1), (0, 0)])
    dr, dc = rng.integers(0, 3, n), rng.integers(0, 3, n)
    shifted = np.stack([padded[i, r:r + 8, c:c + 8] for i, (r, c) in enumerate(zip(dr, dc))])
    keep = np.ones_like(shifted)
    pr, pc = rng.integers(0, 6, n), rng.integers(0, 6, n)
    for i in range(n):
        keep[i, pr[i]:pr[i] + 3, pc[i]:pc[i] + 3] = 0.0
    return shifted * keep


def info_nce(y_true, s):
    labels = ops.broadcast_to(ops.arange(ops.shape(s)[-1]), ops.shape(s)[:-1])
    rows = keras.losses.sparse_categorical_crossentropy(labels, s, from_logits=True)
    cols = keras.losses.sparse_categorical_crossentropy(labels, ops.swapaxes(s, -1, -2), from_logits=True)
    return ops.mean((rows + cols) / 2, axis=-1)


def make_encoder():
    return keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(name="flatten"),
                             keras.layers.Dense(256, activation="relu", name="hidden"),
                             keras.layers.Dense(64, name="embed")], name="encoder")


def make_pretext_model(encoder, group, tau=0.2):
    project = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, name="project"),
                                keras.layers.UnitNormalization(name="normalize")], name="projection")
    groups = keras.Input((group, 2, 8, 8, 1))

    def embed(views):
        return ops.reshape(project(encoder(ops.reshape(views, (-1, 8, 8, 1)))), (-1, group, 32))

    z1, z2 = embed(groups[:, :, 0]), embed(groups[:, :, 1])
    return keras.Model(groups, ops.einsum("gid,gjd->gij", z1, z2) / tau)


LOSS = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def make_classifier(pretrained=None, trainable=True, classes=10):
    enc = make_encoder()
    if pretrained is not None:
        transfer_weights(pretrained, enc)
    enc.trainable = trainable
    return keras.Sequential([keras.Input((8, 8, 1)), enc, keras.layers.Dense(classes, name="head")])


def fit(model, lr, steps, ds):
    model.compile(optimizer=keras.optimizers.Adam(lr), loss=LOSS, metrics=["accuracy"], steps_per_execution=25)
    model.fit(ds, epochs=1, steps_per_epoch=steps, verbose=0)


def features(encoder, x, layer="embed"):
    return keras.Model(encoder.inputs, encoder.get_layer(layer).output).predict(x, verbose=0)


def probe(f_train, y_train, f_test, y_test, per_class, draws=20):
    """Logistic regression on ``per_class`` labels per class, one accuracy per draw (seeds 0..draws-1)."""
    out = []
    for seed in range(draws):
        few = few_shot_indices(y_train, per_class, seed)
        out.append(LogisticRegression(max_iter=1000).fit(f_train[few], y_train[few]).score(f_test, y_test))
    return [round(float(a), 4) for a in out]


def masked_autoencoder(x_pool, hide, seed=0, epochs=10):
    """Encoder pretrained to fill in hidden pixels; the loss counts hidden pixels only."""
    rng = np.random.default_rng(seed)
    images = np.tile(x_pool, (6, 1, 1, 1))
    mask = hide(len(images), rng)                                  # 1 = hidden
    target = np.concatenate([images.reshape(len(images), 64), mask.reshape(len(images), 64)], axis=1)

    def hidden_mse(y_true, y_pred):
        pixels, m = y_true[:, :64], y_true[:, 64:]
        return ops.sum(m * (y_pred - pixels) ** 2, axis=-1) / ops.maximum(ops.sum(m, axis=-1), 1.0)

    course_lib.set_seed(seed)
    enc = make_encoder()
    model = keras.Sequential([keras.Input((8, 8, 1)), enc, keras.layers.Dense(64, name="decode")])
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=hidden_mse, steps_per_execution=25)
    history = model.fit((images * (1 - mask)).astype("float32"), target.astype("float32"),
                        batch_size=256, epochs=epochs, verbose=0)
    return enc, [round(float(v), 4) for v in history.history["loss"]]


def random_pixels(n, rng, share=0.5):
    return (rng.random((n, 8, 8, 1)) < share).astype("float32")


def square_patches(n, rng, size=3):
    mask = np.zeros((n, 8, 8, 1), "float32")
    rows, cols = rng.integers(0, 9 - size, n), rng.integers(0, 9 - size, n)
    for i in range(n):
        mask[i, rows[i]:rows[i] + size, cols[i]:cols[i] + size] = 1.0
    return mask


def main() -> None:
    start = time.time()
    course_lib.set_seed(42)
    digits = course_lib.load_digits(layout="image")
    x_pool = np.concatenate([digits.x_train, digits.x_val])
    results: dict = {"script": "experiments/09_fewshot_sweep.py"}

    # 1. the contrastive pretext, as in section 4
    flat = x_pool.reshape(len(x_pool), -1).astype("float64")
    sq = np.sum(flat**2, axis=1)
    dist2 = sq[:, None] + sq[None, :] - 2 * flat @ flat.T
    np.fill_diagonal(dist2, np.inf)
    neighbours = np.argsort(dist2, axis=1, kind="stable")[:, :5]
    rng = np.random.default_rng(1)
    anchor = np.tile(np.arange(len(x_pool)), 6)
    partner = neighbours[anchor, rng.integers(0, 5, len(anchor))]
    pairs = np.stack([view(x_pool[anchor], rng), view(x_pool[partner], rng)], axis=1).astype("float32")
    group_ds = (tf.data.Dataset.from_tensor_slices(pairs).cache().shuffle(len(pairs), seed=0)
                .batch(32, drop_remainder=True).map(lambda g: (g, 0.0))
                .batch(8, drop_remainder=True).repeat().prefetch(2))
    course_lib.set_seed(0)
    encoder = make_encoder()
    pretext = make_pretext_model(encoder, 32)
    pretext.compile(optimizer=keras.optimizers.Adam(3e-3), loss=info_nce, steps_per_execution=25)
    history = pretext.fit(group_ds, epochs=3, steps_per_epoch=200, verbose=0)
    results["pretext_loss"] = [round(float(v), 4) for v in history.history["loss"]]
    print("pretext loss", results["pretext_loss"], flush=True)

    # 2. the Keras regimes and the raw-pixel baselines, four draws
    test_ds = course_lib.make_dataset(digits.x_test, digits.y_test, 64, training=False)
    x_test_flat = digits.x_test.reshape(len(digits.x_test), -1)
    regimes = []
    for per_class in (1, 3):
        for seed in range(4):
            few = few_shot_indices(digits.y_train, per_class=per_class, seed=seed)
            xf, yf = digits.x_train[few], digits.y_train[few]
            ds = course_lib.make_dataset(np.tile(xf, (4, 1, 1, 1)), np.tile(yf, 4), 4 * len(xf), training=True).repeat()
            row = {"labels_per_digit": per_class, "draw_seed": seed}
            for name, pre, trainable in [("from scratch", None, True), ("feature extraction", encoder, False)]:
                course_lib.set_seed(1)
                model = make_classifier(pre, trainable)
                fit(model, 3e-3, 200, ds)
                row[name] = model.evaluate(test_ds, verbose=0)[1]
            course_lib.set_seed(1)
            model = make_classifier(encoder, trainable=False)
            fit(model, 3e-3, 100, ds)
            model.layers[0].trainable = True
            fit(model, 3e-4, 100, ds)
            row["full fine-tuning"] = model.evaluate(test_ds, verbose=0)[1]
            flat_few = xf.reshape(len(xf), -1)
            row["pixels 1-NN"] = KNeighborsClassifier(1).fit(flat_few, yf).score(x_test_flat, digits.y_test)
            row["pixels logistic regression"] = (LogisticRegression(max_iter=1000).fit(flat_few, yf)
                                                 .score(x_test_flat, digits.y_test))
            row = {k: (round(float(v), 4) if isinstance(v, float) else v) for k, v in row.items()}
            print(row, round(time.time() - start, 1), flush=True)
            regimes.append(row)
    results["regimes"] = regimes

    # 3. linear probes over 20 draws
    x_train_flat = digits.x_train.reshape(len(digits.x_train), -1)
    course_lib.set_seed(0)
    untrained = make_encoder()
    mae_pixels, mae_pixels_loss = masked_autoencoder(x_pool, random_pixels)
    mae_patches, mae_patches_loss = masked_autoencoder(x_pool, square_patches)
    results["mae_loss"] = {"random pixels (half hidden)": mae_pixels_loss, "3x3 patches": mae_patches_loss}
    feats = {"raw pixels": (x_train_flat, x_test_flat)}
    for name, enc in [("untrained encoder", untrained), ("contrastive encoder", encoder),
                      ("MAE, random pixels", mae_pixels), ("MAE, 3x3 patches", mae_patches)]:
        feats[name] = (features(enc, digits.x_train), features(enc, digits.x_test))
    probes = {}
    for per_class in (1, 3):
        probes[str(per_class)] = {name: probe(a, digits.y_train, b, digits.y_test, per_class)
                                  for name, (a, b) in feats.items()}
        print(per_class, {k: round(float(np.mean(v)), 3) for k, v in probes[str(per_class)].items()}, flush=True)
    results["probes_20_draws"] = probes

    # 4. transfer to digits the source never saw
    lo_train, hi_train = digits.y_train < 5, digits.y_train >= 5
    lo_test, hi_test = digits.y_test < 5, digits.y_test >= 5
    course_lib.set_seed(5)
    source = make_classifier(classes=5)
    fit(source, 3e-3, 150, course_lib.make_dataset(digits.x_train[lo_train], digits.y_train[lo_train], 128,
                                                    training=True).repeat())
    results["source_accuracy_0_4"] = round(float(source.evaluate(digits.x_test[lo_test], digits.y_test[lo_test],
                                                                 verbose=0)[1]), 4)
    y_hi_train, y_hi_test = digits.y_train[hi_train] - 5, digits.y_test[hi_test] - 5
    t_feats = {"raw pixels": (x_train_flat[hi_train], x_test_flat[hi_test])}
    for name, enc, layer in [("supervised 0-4, embed", source.layers[0], "embed"),
                             ("supervised 0-4, hidden", source.layers[0], "hidden"),
                             ("contrastive encoder", encoder, "embed")]:
        t_feats[name] = (features(enc, digits.x_train[hi_train], layer), features(enc, digits.x_test[hi_test], layer))
    transfer = {}
    for per_class in (1, 2):
        transfer[str(per_class)] = {name: probe(a, y_hi_train, b, y_hi_test, per_class)
                                    for name, (a, b) in t_feats.items()}
        print("transfer", per_class, {k: round(float(np.mean(v)), 3) for k, v in transfer[str(per_class)].items()},
              flush=True)
    results["transfer_5_9_20_draws"] = transfer
    results["seconds"] = round(time.time() - start, 1)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=1) + "\n")
    print("wrote", OUT, "in", results["seconds"], "s")


if __name__ == "__main__":
    main()
