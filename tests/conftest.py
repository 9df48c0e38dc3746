"""Unit tests run in a process with two logical CPU devices, so replica tests need no GPU."""

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import tensorflow as tf  # noqa: E402

from course_lib.distribute import simulate_cpu_replicas  # noqa: E402

simulate_cpu_replicas(2)
tf.config.experimental.enable_op_determinism()
