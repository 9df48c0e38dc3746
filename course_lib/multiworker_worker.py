"""Chapter 13's worker processes: ``python -m course_lib.multiworker_worker --out DIR [--job resume]``.

``--job mwms`` (the default) is one worker of the multi-worker demo.

:func:`course_lib.multiworker.launch` starts it once per worker with that worker's ``TF_CONFIG``.
Every worker builds the same model under ``MultiWorkerMirroredStrategy``, trains it with a custom
loop (``strategy.run`` + ``tf.nn.compute_average_loss``) on the same sequence of global batches
(each worker takes its own slice of every global batch), writes its final weights to
``DIR/weights_worker<i>.npz``, and only the chief (worker 0) saves the model, ``DIR/model.keras``.

``--crash i`` makes worker ``i`` a dead peer: it fails before joining the cluster, or, with
``--crash-after-steps n``, kills itself with SIGKILL after ``n`` training steps (its peer is then
stuck in the next all-reduce until the launcher stops it).

``--job resume`` is the fault-tolerance demo: ``fit`` with ``keras.callbacks.BackupAndRestore``
(backups in ``DIR/backup``), which kills its own process with SIGKILL at the end of epoch
``--kill-at-epoch`` (a simulated crash) and, run again, resumes from the last backup; at the end it
writes ``DIR/weights_resume.npz``. ``--dropout r`` adds a
:class:`~course_lib.fault_tolerance.ResumableDropout` layer, whose random state is backed up too.

``--job mwms-resume`` runs both demos in one start-up of two workers (chapter 13 does this to start
TensorFlow twice instead of four times): the ``mwms`` job, then, outside the strategy, worker 1 trains
the ``resume`` model for ``--epochs`` epochs without interruption (weights and Dropout state in
``DIR/uninterrupted.npz``) while worker 0 trains it with ``BackupAndRestore`` (backups in
``DIR/backup``) and, once worker 1's file exists, kills itself with SIGKILL after epoch
``--kill-at-epoch``; worker 1 then waits to be stopped by the launcher. ``--resume-lr`` is that
Adam's learning rate.

``build_model`` and ``global_batches`` are shared with the notebook, which trains the same model
on one device on the same global batches and compares.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import warnings
from typing import Any

import numpy as np

from course_lib._validate import check_arguments

__all__ = [
    "global_batches", "build_model", "main", "mwms_job", "mwms_resume_job", "resume_job",
]


def global_batches(global_batch: int, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``global_batch * steps`` training digits (flat, in a fixed order) and labels."""
    check_arguments(global_batches, locals(), global_batch="own", steps="own")
    from course_lib.data import load_digits

    if isinstance(global_batch, bool) or not isinstance(global_batch, int) or global_batch < 1:
        raise ValueError(f"expected global_batch to be an int >= 1, got {global_batch!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"expected steps to be an int >= 1, got {steps!r}")
    digits = load_digits("flat")
    n = global_batch * steps
    if n > len(digits.x_train):
        raise ValueError(f"{steps} steps of {global_batch} need {n} examples, there are {len(digits.x_train)}")
    return digits.x_train[:n].astype("float32"), digits.y_train[:n]


def build_model(seed: int, dropout: float = 0.0) -> Any:
    """A small digits classifier (64 → 32 tanh → 10 logits), its initial weights fixed by ``seed``.

    With ``dropout > 0`` a :class:`~course_lib.fault_tolerance.ResumableDropout` of that rate follows
    the hidden layer (its random state is part of every backup, so resumed runs stay exact).
    """
    check_arguments(build_model, locals(), dropout=None)
    import keras

    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise ValueError(f"expected dropout to be a rate in [0, 1), got {dropout!r}")
    keras.utils.set_random_seed(seed)
    layers = [keras.Input((64,), name="pixels"), keras.layers.Dense(32, activation="tanh", name="hidden")]
    if dropout > 0:
        from course_lib.fault_tolerance import ResumableDropout

        layers.append(ResumableDropout(dropout, name="dropout"))
    return keras.Sequential([*layers, keras.layers.Dense(10, name="scores")], name="digits_mlp")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder for weights and the chief's model")
    parser.add_argument("--global-batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--job", choices=["mwms", "resume", "mwms-resume"], default="mwms")
    parser.add_argument("--resume-lr", type=float, default=0.01, help="--job mwms-resume: Adam's learning rate")
    parser.add_argument("--epochs", type=int, default=6, help="--job resume: epochs to train")
    parser.add_argument("--kill-at-epoch", type=int, default=-1, help="--job resume: SIGKILL after this epoch")
    parser.add_argument("--dropout", type=float, default=0.0, help="--job resume: dropout rate after the hidden layer")
    parser.add_argument("--crash", type=int, default=-1, help="this worker index dies (a dead peer)")
    parser.add_argument("--crash-after-steps", type=int, default=0,
                        help="--crash: 0 = before joining the cluster, n = SIGKILL itself after n training steps")
    args = parser.parse_args(argv)

    if args.job == "resume":
        return resume_job(args)
    if args.job == "mwms-resume":
        return mwms_resume_job(args)
    return mwms_job(args)


def mwms_job(args: argparse.Namespace) -> int:
    """One worker: MultiWorkerMirroredStrategy, a custom loop, weights out, the chief saves."""
    index = int(json.loads(os.environ["TF_CONFIG"])["task"]["index"])  # this worker's place in the cluster
    if index == args.crash and args.crash_after_steps <= 0:
        print(f"worker {index}: simulated crash before joining the cluster", flush=True)
        return 3

    import keras
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    tf.config.experimental.enable_op_determinism()
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    print(f"worker {index}: {strategy.num_replicas_in_sync} replicas in sync", flush=True)

    G = args.global_batch
    x, y = global_batches(G, args.steps)

    def dataset_fn(ctx: tf.distribute.InputContext) -> tf.data.Dataset:
        per_replica = ctx.get_per_replica_batch_size(G)
        i = ctx.input_pipeline_id  # this worker's slice of every global batch (right with ONE replica per
        # worker: with R local replicas the pipeline must yield R per-replica batches, slices i*R .. i*R+R-1)
        ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(G)
        return ds.map(lambda a, b: (a[i * per_replica:(i + 1) * per_replica],
                                    b[i * per_replica:(i + 1) * per_replica]))

    data = strategy.distribute_datasets_from_function(dataset_fn)
    with strategy.scope():
        model = build_model(args.seed)
        optimizer = keras.optimizers.SGD(args.lr)
        loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")

    def replica_step(xb, yb):
        with tf.GradientTape() as tape:
            per_example = loss_fn(yb, model(xb, training=True))
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=G)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    @tf.function
    def step(xb, yb):
        return strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(replica_step, args=(xb, yb)), axis=None)

    losses = []
    for xb, yb in data:
        losses.append(float(step(xb, yb)))
        if index == args.crash and len(losses) == args.crash_after_steps:  # dies in the middle of training
            print(f"worker {index}: simulated crash (SIGKILL) after {len(losses)} steps", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
    print(f"worker {index}: {len(losses)} steps, loss {losses[0]:.4f} -> {losses[-1]:.4f}", flush=True)
    np.savez(os.path.join(args.out, f"weights_worker{index}.npz"), *model.get_weights())
    if index == 0:  # only the chief saves the model; the others would write the same thing
        model.save(os.path.join(args.out, "model.keras"))
        print("worker 0 (chief): saved model.keras", flush=True)
    return 0


def resume_job(args: argparse.Namespace) -> int:
    """Train with BackupAndRestore; optionally die with SIGKILL after epoch ``args.kill_at_epoch``."""
    import keras
    import tensorflow as tf

    warnings.filterwarnings("ignore", message=r".*`shuffle=True` was passed.*")
    tf.get_logger().setLevel("ERROR")
    tf.config.experimental.enable_op_determinism()
    x, y = global_batches(args.global_batch, args.steps)
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(args.global_batch)  # fixed order, see chapter 13
    model = build_model(args.seed, args.dropout)
    model.compile(optimizer=keras.optimizers.Adam(args.lr),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))

    class Crash(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            print(f"epoch {epoch + 1} done, loss {logs['loss']:.4f}", flush=True)
            if epoch + 1 == args.kill_at_epoch:
                print(f"simulated crash: SIGKILL after epoch {epoch + 1}", flush=True)
                os.kill(os.getpid(), signal.SIGKILL)

    backup = keras.callbacks.BackupAndRestore(os.path.join(args.out, "backup"))
    model.fit(data, epochs=args.epochs, callbacks=[backup, Crash()], verbose=0)  # backup saves first
    np.savez(os.path.join(args.out, "weights_resume.npz"), *model.get_weights())
    print("finished", flush=True)
    return 0


def mwms_resume_job(args: argparse.Namespace) -> int:
    """``mwms_job``, then the fault-tolerance demo in the same processes (see the module docstring)."""
    import time

    code = mwms_job(args)
    if code:
        return code
    import keras
    import tensorflow as tf

    from course_lib.fault_tolerance import seed_states

    warnings.filterwarnings("ignore", message=r".*`shuffle=True` was passed.*")
    index = int(json.loads(os.environ["TF_CONFIG"])["task"]["index"])
    x, y = global_batches(args.global_batch, args.steps)
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(args.global_batch)  # fixed order, see chapter 13
    model = build_model(args.seed, args.dropout)  # outside the strategy's scope: one device, a plain fit
    model.compile(optimizer=keras.optimizers.Adam(args.resume_lr),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    done = os.path.join(args.out, "uninterrupted.npz")

    class Log(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            print(f"epoch {epoch + 1} done, loss {logs['loss']:.4f}", flush=True)
            if index == 0 and epoch + 1 == args.kill_at_epoch:
                deadline = time.monotonic() + 120
                while not os.path.exists(done) and time.monotonic() < deadline:  # let worker 1 finish first
                    time.sleep(0.1)
                print(f"simulated crash: SIGKILL after epoch {epoch + 1}", flush=True)
                os.kill(os.getpid(), signal.SIGKILL)

    if index == 0:
        backup = keras.callbacks.BackupAndRestore(os.path.join(args.out, "backup"))
        model.fit(data, epochs=args.epochs, callbacks=[backup, Log()], verbose=0)  # backup saves first
        np.savez(os.path.join(args.out, "weights_resume.npz"), *model.get_weights())
        print("finished", flush=True)
        return 0
    model.fit(data, epochs=args.epochs, callbacks=[Log()], verbose=0)
    arrays = {f"arr_{k}": w for k, w in enumerate(model.get_weights())}
    np.savez(os.path.join(args.out, "uninterrupted_tmp.npz"), **arrays, **{f"seed_{k}": v for k, v in seed_states(model).items()})
    os.replace(os.path.join(args.out, "uninterrupted_tmp.npz"), done)  # appears complete, or not at all
    print(f"worker {index}: uninterrupted run finished, waiting to be stopped", flush=True)
    time.sleep(300)  # an MWMS process would wait for its peers at exit anyway; the launcher stops it
    return 0


if __name__ == "__main__":
    sys.exit(main())
