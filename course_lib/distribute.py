"""Choosing a ``tf.distribute`` strategy, simulating replicas on a CPU, and sizing global batches.

The course builds every model that trains inside ``strategy.scope()`` and feeds it *global*
batches: one global batch is split evenly into ``strategy.num_replicas_in_sync`` per-replica
batches, one per device. The same cells then run on a CPU, on one or several GPUs, or on a TPU.
"""

from __future__ import annotations

import os
from typing import Any

from course_lib._validate import check_arguments

__all__ = [
    "simulate_cpu_replicas", "get_strategy", "describe_strategy", "global_batch_size",
    "check_global_batch",
]

_TPU_CACHE: dict[str, Any] = {}
#: The most simulated CPU replicas (each is a logical device with its own threads).
MAX_REPLICAS = 64


def simulate_cpu_replicas(n: int) -> None:
    """Split the machine's CPU into ``n`` logical devices, so MirroredStrategy has ``n`` replicas.

    Must be called before TensorFlow initializes its devices (before the first op), which
    :func:`course_lib.setup_notebook` does when given ``cpu_replicas=n``.

    Raises:
        ValueError: if ``n`` is not an int in [1, ``MAX_REPLICAS``] (64).
        RuntimeError: if TensorFlow has already initialized its devices with another count.
    """
    check_arguments(simulate_cpu_replicas, locals(), n=None)
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_REPLICAS:
        raise ValueError(f"expected n to be an int >= 1 (and <= {MAX_REPLICAS}), got {n!r}")
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    current = tf.config.get_logical_device_configuration(cpu)
    if current is not None and len(current) == n:
        return  # already configured this way (e.g. the setup cell was run twice)
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(n)]
        )
    except RuntimeError as err:
        have = len(tf.config.list_logical_devices("CPU"))
        raise RuntimeError(
            f"cannot make {n} simulated CPU replicas: TensorFlow already initialized its devices "
            f"({have} logical CPU device(s)). Restart the kernel and ask for them in the first cell: "
            f"course_lib.setup_notebook(cpu_replicas={n})."
        ) from err


def _tpu_resolver() -> Any | None:
    """The TPU cluster resolver when a TPU is attached (Colab/Cloud TPU VM), else None."""
    if "resolver" in _TPU_CACHE:
        return _TPU_CACHE["resolver"]
    import tensorflow as tf

    resolver = None
    hinted = os.environ.get("COLAB_TPU_ADDR") or os.environ.get("TPU_NAME")
    if not (hinted or tf.config.list_physical_devices("TPU")):
        _TPU_CACHE["resolver"] = None  # no TPU: don't touch the cluster (it would fix the devices)
        return None
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu="local")
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except Exception:  # NotFoundError / ValueError: no TPU here
        resolver = None
    _TPU_CACHE["resolver"] = resolver
    return resolver


def get_strategy(cpu_only: bool = False) -> Any:
    """Pick the strategy for this machine: TPU -> several GPUs -> one GPU -> CPU.

    On a CPU the strategy mirrors over every logical CPU device when there are several
    (see :func:`simulate_cpu_replicas`), and uses the single CPU otherwise.

    Args:
        cpu_only: ignore accelerators and use the CPU devices (to show simulated replicas anywhere).

    Returns:
        A ``tf.distribute.Strategy``.
    """
    check_arguments(get_strategy, locals())
    import tensorflow as tf

    if not cpu_only:
        resolver = _tpu_resolver()
        if resolver is not None:
            return tf.distribute.TPUStrategy(resolver)
        gpus = tf.config.list_logical_devices("GPU")
        if len(gpus) > 1:
            return tf.distribute.MirroredStrategy([d.name for d in gpus])
        if len(gpus) == 1:
            return tf.distribute.OneDeviceStrategy(gpus[0].name)
    cpus = tf.config.list_logical_devices("CPU")
    if len(cpus) > 1:
        return tf.distribute.MirroredStrategy(
            [d.name for d in cpus], cross_device_ops=tf.distribute.ReductionToOneDevice()
        )
    return tf.distribute.OneDeviceStrategy(cpus[0].name)


def describe_strategy(strategy: Any) -> str:
    """A one-line, human-readable description, e.g. ``MirroredStrategy: 2 replicas on CPU:0, CPU:1``."""
    check_arguments(describe_strategy, locals(), strategy="own")
    import tensorflow as tf

    if not isinstance(strategy, tf.distribute.Strategy):
        raise ValueError(f"strategy: expected a tf.distribute.Strategy, got {type(strategy).__name__}")
    devices = getattr(strategy.extended, "worker_devices", ()) or ()
    short = ", ".join(d.split("device:")[-1] for d in devices)
    n = strategy.num_replicas_in_sync
    noun = "replica" if n == 1 else "replicas"
    return f"{type(strategy).__name__}: {n} {noun}" + (f" on {short}" if short else "")


def _replicas(strategy_or_n: Any) -> int:
    if isinstance(strategy_or_n, bool):
        raise ValueError(f"expected strategy to be a strategy or a replica count, got {strategy_or_n!r}")
    if isinstance(strategy_or_n, int):
        if strategy_or_n < 1:
            raise ValueError(f"expected at least 1 replica, got {strategy_or_n}")
        return strategy_or_n
    n = getattr(strategy_or_n, "num_replicas_in_sync", None)
    if not isinstance(n, int):
        raise ValueError(
            f"strategy: expected a tf.distribute.Strategy or a replica count, got {type(strategy_or_n).__name__}"
        )
    return n


def global_batch_size(per_replica: int, strategy: Any) -> int:
    """The global batch for ``per_replica`` examples on each replica of ``strategy`` (or a count)."""
    check_arguments(global_batch_size, locals(), per_replica="own")
    if isinstance(per_replica, bool) or not isinstance(per_replica, int) or per_replica < 1:
        raise ValueError(f"expected per_replica to be an int >= 1, got {per_replica!r}")
    return per_replica * _replicas(strategy)


def check_global_batch(global_batch: int, strategy: Any) -> int:
    """Return the per-replica batch, refusing a global batch that does not divide evenly.

    Raises:
        ValueError: e.g. ``global batch 63 does not divide evenly across 2 replicas ...``.
    """
    check_arguments(check_global_batch, locals(), global_batch="own")
    if isinstance(global_batch, bool) or not isinstance(global_batch, int) or global_batch < 1:
        raise ValueError(f"expected global_batch to be an int >= 1, got {global_batch!r}")
    n = _replicas(strategy)
    if global_batch % n:
        lower = global_batch - global_batch % n
        nearby = " or ".join(str(b) for b in (lower, lower + n) if b > 0)
        raise ValueError(
            f"global batch {global_batch} does not divide evenly across {n} replicas; "
            f"use a multiple of {n}, e.g. {nearby}"
        )
    return global_batch // n
