"""Checkers for the exercises of ``00_getting_started``.

Usage in the notebook::

    from course_lib import checks_00 as checks
    checks.per_replica_batch(per_replica_batch)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from course_lib.exercises import Case, ExerciseSet, Mistake, Wrong, compare_with_reference, describe

EXERCISES = ExerciseSet("00_getting_started")
summary = EXERCISES.summary


# --- Exercise 1 ------------------------------------------------------------------------------

def _per_replica_batch(global_batch: int, num_replicas: int) -> int:
    if global_batch % num_replicas:
        raise ValueError("uneven")
    return global_batch // num_replicas


@EXERCISES.exercise(1, "split a global batch across replicas")
def per_replica_batch(student: Any) -> str:
    """``per_replica_batch(global_batch, num_replicas)`` -> int, ValueError if it doesn't divide evenly."""
    cases = [Case((64, 2)), Case((64, 1)), Case((96, 8)), Case((12, 4)), Case((63, 2)), Case((10, 4))]
    mistakes = [
        Mistake(lambda g, n: g * n, "you multiplied; a global batch is *split* among the replicas, "
                "so each replica gets global_batch / num_replicas examples"),
        Mistake(lambda g, n: g / n, "return an int: `/` gives a float, use `//` once you know it divides evenly"),
        Mistake(lambda g, n: g // n, "this batch can't be split evenly, and flooring silently drops "
                "examples: raise ValueError when global_batch % num_replicas != 0"),
        Mistake(lambda g, n: -(-g // n), "this batch can't be split evenly, and rounding up silently "
                "invents examples: raise ValueError when global_batch % num_replicas != 0"),
    ]
    return compare_with_reference(student, _per_replica_batch, cases, mistakes, name="per_replica_batch")


# --- Exercise 2 ------------------------------------------------------------------------------

def _steps_per_epoch(num_examples: int, global_batch: int, drop_remainder: bool) -> int:
    if drop_remainder:
        return num_examples // global_batch
    return -(-num_examples // global_batch)


@EXERCISES.exercise(2, "count the steps in an epoch")
def steps_per_epoch(student: Any) -> str:
    """``steps_per_epoch(num_examples, global_batch, drop_remainder)`` -> int, like ``tf.data``."""
    cases = [
        Case((1197, 64, True)), Case((1197, 64, False)), Case((1200, 60, True)),
        Case((1200, 60, False)), Case((10, 32, False)), Case((10, 32, True)),
    ]
    mistakes = [
        Mistake(lambda n, b, d: n // b, "without drop_remainder the last, partial batch is still a step: "
                "round up (ceiling division, -(-n // b))"),
        Mistake(lambda n, b, d: -(-n // b), "with drop_remainder=True the partial batch is dropped: round down (n // b)"),
        Mistake(lambda n, b, d: n // b if d else n // b + 1, "when the examples divide evenly there is no "
                "partial batch: n // b + 1 counts one step too many; use ceiling division -(-n // b)"),
        Mistake(lambda n, b, d: n / b, "a number of steps is an int: use // (rounding down) or -(-n // b) (rounding up)"),
        Mistake(lambda n, b, d: math.ceil(n / b) if d else n // b, "you swapped the cases: drop_remainder=True "
                "rounds down, drop_remainder=False rounds up"),
    ]
    return compare_with_reference(student, _steps_per_epoch, cases, mistakes, name="steps_per_epoch")


# --- Exercise 3 ------------------------------------------------------------------------------

def _initial_kernel(seed: int) -> np.ndarray:
    import keras

    return np.asarray(keras.initializers.GlorotUniform(seed=seed)(shape=(3, 4)))


@EXERCISES.exercise(3, "a reproducible initial kernel")
def initial_kernel(student: Any) -> str:
    """``initial_kernel(seed)`` -> the (3, 4) Glorot-uniform kernel of Dense(4) on 3 inputs, from ``seed``."""
    if not callable(student):
        raise Wrong(f"expected a function, got {describe(student)}")
    first = np.asarray(student(7))
    if first.shape == (4, 3):
        raise Wrong("initial_kernel(7): got shape (4, 3); a Dense kernel has shape (inputs, units) = (3, 4)")
    if first.shape != (3, 4):
        raise Wrong(f"initial_kernel(7): expected shape (3, 4), got shape {first.shape}")
    again = np.asarray(student(7))
    if not np.array_equal(first, again):
        raise Wrong("two calls with seed=7 gave different kernels: pass the seed to the initializer, "
                    "keras.initializers.GlorotUniform(seed=seed)")
    if np.array_equal(first, np.asarray(student(8))):
        raise Wrong("seeds 7 and 8 gave the same kernel: use the `seed` argument instead of a fixed number")
    for seed in (0, 7, 8, 2024):
        expected = _initial_kernel(seed)
        got = first if seed == 7 else np.asarray(student(seed))
        if not np.allclose(got, expected, atol=1e-7):
            limit = math.sqrt(6 / (3 + 4))
            if np.max(np.abs(got)) > limit:
                raise Wrong(f"initial_kernel({seed}): values beyond ±{limit:.3f} = ±sqrt(6 / (fan_in + fan_out)); "
                            "use keras.initializers.GlorotUniform, Dense's default")
            raise Wrong(f"initial_kernel({seed}): reproducible, but not the kernel of Dense(4) built with "
                        "kernel_initializer=keras.initializers.GlorotUniform(seed=seed) on 3 inputs")
    return "correct: same seed -> same kernel, other seed -> other kernel"
