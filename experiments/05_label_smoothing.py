"""Chapter 05: plain cross-entropy vs label smoothing, and the epochs the augmented CNN needs.

Runs the chapter's CNN (section 8) and its augmented twin (section 12) on the 8x8 digits for
several seeds, with the sources' plain cross-entropy and with label smoothing 0.1, and stores the
test accuracies (on the test digits, and on the same digits moved by up to one pixel). About 30 s
per run on a busy 2-core CPU, 12 runs for the two default seeds. Results (appended):
experiments/results/05_label_smoothing.json, quoted in notebooks/05_convolutional_networks.ipynb
(sections 8 and 12).

    PYTHONPATH=. python experiments/05_label_smoothing.py [SEED ...]
    CONFIGS="0.0:20:1" PYTHONPATH=. python experiments/05_label_smoothing.py 42 1   # smoothing:epochs:augmented
"""

import json
import os
import sys
import time
from pathlib import Path

import keras
import numpy as np

import course_lib

SEEDS = [int(s) for s in sys.argv[1:]] or [42, 1]
# (label smoothing, epochs, augmented); CONFIGS="0.0:20:1,0.1:15:0" runs only those
CONFIGS = [(0.0, 15, False), (0.1, 15, False), (0.0, 15, True), (0.1, 15, True), (0.0, 20, True), (0.0, 25, True)]
if os.environ.get("CONFIGS"):
    CONFIGS = [(float(a), int(b), bool(int(c))) for a, b, c in (x.split(":") for x in os.environ["CONFIGS"].split(","))]
L = keras.layers


def sources_cnn(input_shape, augmentation=()):
    return keras.Sequential([
        keras.Input(input_shape), *augmentation,
        L.Conv2D(32, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
        L.Conv2D(64, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
        L.Conv2D(64, 3, padding="same", activation="relu"), L.Flatten(),
        L.Dense(64, activation="relu"), L.Dense(10),
    ])


def shift_up_to_one_pixel(images, seed=0):
    rng = np.random.default_rng(seed)
    side = images.shape[1]
    padded = np.pad(images, [(0, 0), (1, 1), (1, 1), (0, 0)])
    dy, dx = rng.integers(0, 3, size=(2, len(images)))
    return np.stack([p[y:y + side, x:x + side] for p, y, x in zip(padded, dy, dx)])


def run(seed, smoothing, epochs, augment, data, x_shifted):
    course_lib.set_seed(seed)
    aug = [L.RandomTranslation(0.125, 0.125, fill_mode="constant", seed=1)] if augment else []
    model = sources_cnn(data.x_train.shape[1:], aug)
    train = course_lib.make_dataset(data.x_train, keras.utils.to_categorical(data.y_train, 10), 64, training=True)
    schedule = keras.optimizers.schedules.CosineDecay(3e-3, decay_steps=epochs * len(train))
    model.compile(optimizer=keras.optimizers.Adam(schedule),
                  loss=keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=smoothing))
    model.fit(train, epochs=epochs, verbose=0)
    acc = [float(np.mean(np.argmax(model.predict(x, verbose=0), axis=1) == data.y_test))
           for x in (data.x_test, x_shifted)]
    return {"seed": seed, "label_smoothing": smoothing, "epochs": epochs, "augmented": augment,
            "test_accuracy": acc[0], "shifted_test_accuracy": acc[1]}


def main():
    course_lib.setup_notebook(seed=42)
    data = course_lib.load_image_dataset("mnist", layout="image", online=False)
    x_shifted = shift_up_to_one_pixel(data.x_test)
    out = Path(__file__).parent / "results" / "05_label_smoothing.json"
    rows = json.loads(out.read_text()) if out.exists() else []
    for seed in SEEDS:
        for smoothing, epochs, augment in CONFIGS:
            start = time.time()
            row = run(seed, smoothing, epochs, augment, data, x_shifted)
            row["seconds"] = round(time.time() - start, 1)
            print(json.dumps(row), flush=True)
            rows.append(row)
            out.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
