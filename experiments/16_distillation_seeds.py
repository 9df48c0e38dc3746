"""Chapter 16's distillation comparison (section 5.1) repeated with five seeds, with stored results.

What it runs: for each seed in (42, 0, 1, 2, 3), exactly the chapter's protocol -- the teacher
``mlp256x128`` and the student ``mlp16`` trained on the labels (Adam 1e-2, global batch 128, 150 steps),
then two fresh ``mlp16`` students trained on the distillation loss with the teacher's logits: the
textbook setting (T = 4, alpha = 0.2) and plain soft targets (T = 1, alpha = 0). Test accuracy on the
300 test digits of each.

How long: about 30 s on an idle 2-core machine.
Run: ``PYTHONPATH=. python experiments/16_distillation_seeds.py`` from the repository root; it writes
``experiments/results/16_distillation_seeds.json``. Quoted in notebooks/16_learning_path.ipynb, section 5.1.
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

import course_lib  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "16_distillation_seeds.json"
L = keras.layers
ARCHITECTURES = {
    "mlp16": lambda: [L.Flatten(), L.Dense(16, activation="relu")],
    "mlp256x128": lambda: [L.Flatten(), L.Dense(256, activation="relu"), L.Dense(128, activation="relu")],
}
STEPS, GLOBAL_BATCH = 150, 128
SPARSE_CE = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def build(name):
    return keras.Sequential([keras.Input((8, 8, 1)), *ARCHITECTURES[name](), L.Dense(10)], name=name)


def train(name, dataset, loss=SPARSE_CE, seed=42):
    course_lib.set_seed(seed)
    model = build(name)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=loss)
    model.fit(dataset.repeat(), epochs=1, steps_per_epoch=STEPS, verbose=0)
    return model


def distillation_loss(T, alpha):
    def loss(y_true, student_logits):
        labels, teacher_logits = y_true[:, :10], y_true[:, 10:]
        hard = -tf.reduce_sum(labels * tf.nn.log_softmax(student_logits), axis=-1)
        log_p_teacher = tf.nn.log_softmax(teacher_logits / T)
        soft = tf.reduce_sum(tf.exp(log_p_teacher) * (log_p_teacher - tf.nn.log_softmax(student_logits / T)), axis=-1)
        return alpha * hard + (1 - alpha) * T**2 * soft
    return loss


def main() -> None:
    start = time.time()
    digits = course_lib.load_digits(layout="image")
    train_ds, _, _ = course_lib.digits_datasets(GLOBAL_BATCH, layout="image")

    def test_accuracy(model):
        return round(float(np.mean(np.argmax(model(digits.x_test, training=False), axis=1) == digits.y_test)), 4)

    rows = []
    for seed in (42, 0, 1, 2, 3):
        teacher = train("mlp256x128", train_ds, seed=seed)
        labels_only = train("mlp16", train_ds, seed=seed)
        y_distill = np.concatenate([np.eye(10, dtype="float32")[digits.y_train],
                                    teacher(digits.x_train, training=False).numpy()], axis=1)
        distill_ds = course_lib.make_dataset(digits.x_train, y_distill, GLOBAL_BATCH, training=True)
        row = {"seed": seed, "teacher mlp256x128": test_accuracy(teacher), "mlp16 labels only": test_accuracy(labels_only)}
        for T, alpha in [(4.0, 0.2), (1.0, 0.0)]:
            row[f"mlp16 distilled T={T:g} alpha={alpha:g}"] = test_accuracy(
                train("mlp16", distill_ds, loss=distillation_loss(T, alpha), seed=seed))
        print(row, round(time.time() - start, 1), flush=True)
        rows.append(row)
    diffs = {k: [round(100 * (r[k] - r["mlp16 labels only"]), 1) for r in rows]
             for k in rows[0] if k.startswith("mlp16 distilled")}
    results = {"script": "experiments/16_distillation_seeds.py", "runs": rows,
               "points_vs_labels_only": diffs, "seconds": round(time.time() - start, 1)}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=1) + "\n")
    print(diffs)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
