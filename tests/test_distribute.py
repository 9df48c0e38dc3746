"""Strategy selection, global batches, and the proof that 2 simulated replicas train like 1 device."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import course_lib
from course_lib.distribute import check_global_batch, describe_strategy, get_strategy, global_batch_size

GLOBAL_BATCH = 64


def test_cpu_strategy_has_two_replicas():
    strategy = get_strategy(cpu_only=True)
    assert strategy.num_replicas_in_sync == 2
    assert describe_strategy(strategy) == "MirroredStrategy: 2 replicas on CPU:0, CPU:1"


def test_auto_strategy_is_a_strategy():
    strategy = get_strategy()
    assert isinstance(strategy, tf.distribute.Strategy)
    assert strategy.num_replicas_in_sync >= 1


def test_one_device_description():
    assert describe_strategy(tf.distribute.OneDeviceStrategy("/cpu:0")).startswith("OneDeviceStrategy: 1 replica")


def test_describe_rejects_non_strategy():
    with pytest.raises(ValueError, match="expected a tf.distribute.Strategy, got int"):
        describe_strategy(3)


def test_global_batch_size():
    assert global_batch_size(32, get_strategy(cpu_only=True)) == 64
    assert global_batch_size(32, 4) == 128
    with pytest.raises(ValueError, match="per_replica to be an int >= 1, got 0"):
        global_batch_size(0, 2)
    with pytest.raises(ValueError, match="at least 1 replica"):
        global_batch_size(8, 0)
    with pytest.raises(ValueError, match="expected a tf.distribute.Strategy or a replica count"):
        global_batch_size(8, "two")


def test_check_global_batch():
    assert check_global_batch(64, 2) == 32
    with pytest.raises(ValueError, match="global batch 63 does not divide evenly across 2 replicas; use a multiple of 2, e.g. 62 or 64"):
        check_global_batch(63, 2)
    with pytest.raises(ValueError, match=r"use a multiple of 4, e.g. 4$"):
        check_global_batch(3, 4)
    with pytest.raises(ValueError, match="global_batch to be an int >= 1"):
        check_global_batch(2.5, 2)


def test_simulated_replicas_cannot_change_after_init():
    tf.config.list_logical_devices()  # devices are initialized by now
    course_lib.simulate_cpu_replicas(2)  # the same count again is fine
    with pytest.raises(RuntimeError, match=r"cannot make 3 simulated CPU replicas.*Restart the kernel"):
        course_lib.simulate_cpu_replicas(3)
    with pytest.raises(ValueError, match="expected n to be an int >= 1"):
        course_lib.simulate_cpu_replicas(0)


# --- replica equivalence -------------------------------------------------------------------


def _initial_weights():
    course_lib.set_seed(0)
    model = _model()
    return model.get_weights()


def _model():
    return keras.Sequential([
        keras.Input((64,)),
        keras.layers.Dense(32, activation="tanh"),
        keras.layers.Dense(10),
    ])


def _train_fit(strategy, weights, epochs=2):
    train, _, _ = course_lib.digits_datasets(GLOBAL_BATCH, strategy=strategy)
    with strategy.scope():
        model = _model()
        model.set_weights(weights)
        model.compile(optimizer=keras.optimizers.SGD(0.1),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(train, epochs=epochs, verbose=0)
    return model.get_weights()


def _train_custom_loop(strategy, weights, epochs=2):
    train, _, _ = course_lib.digits_datasets(GLOBAL_BATCH, strategy=strategy)
    with strategy.scope():
        model = _model()
        model.set_weights(weights)
        optimizer = keras.optimizers.SGD(0.1)
        loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")

    def replica_step(x, y):
        with tf.GradientTape() as tape:
            per_example = loss_fn(y, model(x, training=True))
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=GLOBAL_BATCH)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    @tf.function
    def step(x, y):
        per_replica = strategy.run(replica_step, args=(x, y))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

    losses = []
    for _ in range(epochs):
        for x, y in strategy.experimental_distribute_dataset(train):
            losses.append(float(step(x, y)))
    assert losses[-1] < losses[0]
    return model.get_weights()


def _max_diff(a, b):
    return max(float(np.max(np.abs(x - y))) for x, y in zip(a, b))


@pytest.mark.parametrize("train", [_train_fit, _train_custom_loop], ids=["fit", "custom_loop"])
def test_two_replicas_train_like_one_device(train):
    weights = _initial_weights()
    one = train(tf.distribute.OneDeviceStrategy("/cpu:0"), weights)
    two = train(get_strategy(cpu_only=True), weights)
    assert _max_diff(one, weights) > 1e-2, "training did not move the weights"
    assert _max_diff(one, two) < 1e-5
