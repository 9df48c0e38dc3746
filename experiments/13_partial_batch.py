"""How Keras' ``fit`` shares a partial last batch among replicas (quoted in chapter 13, section 3.4).

Runs ``fit`` for one epoch on 4 simulated CPU replicas (MirroredStrategy) on 173 examples in global
batches of 128, so the last batch holds 45 examples, with a layer that prints (``tf.print``) the
batch size each replica sees. It also prints what ``experimental_distribute_dataset`` gives for the
same last batch, which is what the notebook shows. Takes ~15 s. Output stored in
``experiments/results/13_partial_batch.txt``::

    python experiments/13_partial_batch.py > experiments/results/13_partial_batch.txt

Measured with TensorFlow 2.21 and Keras 3.15.1: each replica gets 32 of a full batch, and the
last batch of 45 is split 12 + 12 + 12 + 9 (not 11 or 12, and not 32 + 13 + 0 + 0).
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 4)
devices = [d.name for d in tf.config.list_logical_devices("CPU")]
strategy = tf.distribute.MirroredStrategy(devices, cross_device_ops=tf.distribute.ReductionToOneDevice())
rng = np.random.default_rng(0)
x, y = rng.random((173, 64), dtype=np.float32), rng.integers(0, 10, 173)
data = tf.data.Dataset.from_tensor_slices((x, y)).batch(128)  # 128 + 45


class PrintBatchSize(keras.layers.Layer):
    def call(self, inputs):
        tf.print("fit: a replica got a batch of", tf.shape(inputs)[0], output_stream=sys.stdout)
        return inputs


with strategy.scope():
    model = keras.Sequential([keras.Input((64,)), PrintBatchSize(), keras.layers.Dense(10)])
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
print(f"tensorflow {tf.__version__}, keras {keras.__version__}, {strategy.num_replicas_in_sync} replicas, "
      "173 examples in global batches of 128", flush=True)
model.fit(data, epochs=1, verbose=0)
sys.stdout.flush()
last = next(iter(strategy.experimental_distribute_dataset(data.skip(1))))
print("experimental_distribute_dataset, last batch:",
      [int(t.shape[0]) for t in strategy.experimental_local_results(last[0])])
