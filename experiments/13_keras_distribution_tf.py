"""What Keras 3's ``keras.distribution`` does on the TensorFlow backend (quoted in chapter 13, section 8.4).

The notebook cannot test this itself: its TensorFlow is already initialized when section 8 runs,
and DTensor's ``initialize_accelerator_system`` must come before that. This script calls it first,
in a fresh process, with 2 logical CPU devices, so that Keras' TensorFlow ``distribution_lib`` can
build its DTensor mesh; then it builds a Dense layer under ``ModelParallel`` with a ``LayoutMap``
that shards the kernel's columns, and reports where the kernel lives. Takes ~5 s. Output stored in
``experiments/results/13_keras_distribution_tf.txt``::

    python experiments/13_keras_distribution_tf.py > experiments/results/13_keras_distribution_tf.txt

Measured with TensorFlow 2.21 and Keras 3.15.1: the mesh is built, but the kernel is an ordinary
``ResourceVariable`` of full shape (64, 32) on CPU:0, not a DTensor: the layout is ignored, and
``fit`` trains the unsharded model.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["KERAS_BACKEND"] = "tensorflow"

import tensorflow as tf  # noqa: E402
from tensorflow.experimental import dtensor  # noqa: E402

dtensor.initialize_accelerator_system("CPU", num_logical_cpu_devices=2)

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import distribution as kd  # noqa: E402

print(f"tensorflow {tf.__version__}, keras {keras.__version__}, backend {keras.backend.backend()}")
print("keras.distribution.list_devices():", kd.list_devices())
mesh = kd.DeviceMesh(shape=(1, 2), axis_names=("batch", "model"), devices=kd.list_devices())
print("DeviceMesh.backend_mesh:", mesh.backend_mesh)
layout_map = kd.LayoutMap(mesh)
layout_map[".*hidden/kernel"] = (None, "model")
distribution = kd.ModelParallel(layout_map=layout_map, batch_dim_name="batch")
print("backend layout of the kernel:", layout_map[".*hidden/kernel"].backend_layout)
with distribution.scope():
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, name="hidden"), keras.layers.Dense(10)])
    model.compile(optimizer="sgd", loss="mse")
    kernel = model.get_layer("hidden").kernel
    print("kernel:", kernel.path, "layout asked:", distribution.get_variable_layout(kernel).axes)
    print("kernel value:", type(kernel.value).__name__, tuple(kernel.value.shape), "on", kernel.value.device)
    try:
        print("DTensor layout:", dtensor.fetch_layout(kernel.value))
    except Exception as err:  # noqa: BLE001 - we report whatever TensorFlow says
        print(f"DTensor layout: {type(err).__name__}: {err}")
    rng = np.random.default_rng(0)
    history = model.fit(rng.random((32, 64), dtype=np.float32), rng.random((32, 10), dtype=np.float32),
                        batch_size=16, epochs=1, verbose=0)
    print("fit under ModelParallel ran:", len(history.history["loss"]), "epoch; kernel still",
          tuple(kernel.value.shape), "on", kernel.value.device)
