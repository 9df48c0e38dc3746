"""Checkers for the exercises of ``01_what_is_a_large_model``.

Usage in the notebook::

    from course_lib import checks_01 as checks
    checks.dense_params(dense_params)
"""

from __future__ import annotations

import math
from typing import Any

from course_lib.exercises import Case, ExerciseSet, Mistake, compare_with_reference

EXERCISES = ExerciseSet("01_what_is_a_large_model")
summary = EXERCISES.summary

SECONDS_PER_DAY = 86_400
BYTES_PER_PARAM = {"float64": 8, "float32": 4, "bfloat16": 2, "float16": 2, "int8": 1}


# --- Exercise 1 ------------------------------------------------------------------------------

def _dense_params(n_in: int, n_out: int) -> int:
    return n_in * n_out + n_out


@EXERCISES.exercise(1, "count the parameters of a Dense layer")
def dense_params(student: Any) -> str:
    """``dense_params(n_in, n_out)`` -> int, the ``count_params()`` of ``Dense(n_out)`` on ``n_in`` inputs."""
    cases = [Case((64, 10)), Case((3, 4)), Case((4, 3)), Case((768, 3072)), Case((1, 1)), Case((10, 64))]
    mistakes = [
        Mistake(lambda i, o: i * o, "you forgot the bias: a Dense layer adds one bias per output unit, "
                "so n_in * n_out weights + n_out biases"),
        Mistake(lambda i, o: i * o + i, "the biases belong to the outputs, not the inputs: add n_out, not n_in"),
        Mistake(lambda i, o: (i + 1) * (o + 1), "there is one bias per output unit, and no extra output: "
                "(n_in + 1) * n_out, not (n_in + 1) * (n_out + 1)"),
        Mistake(lambda i, o: i + o, "every input connects to every output: that is n_in * n_out weights, "
                "plus n_out biases"),
        Mistake(lambda i, o: i * o + i + o, "only the outputs have biases: n_in * n_out + n_out"),
    ]
    return compare_with_reference(student, _dense_params, cases, mistakes, name="dense_params")


# --- Exercise 2 ------------------------------------------------------------------------------

def _mha_params(d_model: int, num_heads: int, key_dim: int) -> int:
    inner = num_heads * key_dim
    return 3 * (d_model * inner + inner) + inner * d_model + d_model


@EXERCISES.exercise(2, "count the parameters of MultiHeadAttention")
def mha_params(student: Any) -> str:
    """``mha_params(d_model, num_heads, key_dim)`` -> int, like Keras' ``MultiHeadAttention``."""
    cases = [Case((64, 4, 16)), Case((16, 2, 4)), Case((768, 12, 64)), Case((10, 3, 5)), Case((8, 1, 8)),
             Case((32, 8, 2))]
    mistakes = [
        Mistake(lambda d, h, k: 3 * (d * h * k + h * k),
                "you forgot the output projection W^O (num_heads * key_dim -> d_model, plus d_model biases), "
                "which mixes the heads back into d_model features"),
        Mistake(lambda d, h, k: 4 * d * h * k, "you forgot the biases: query, key and value each have "
                "num_heads * key_dim of them, the output projection d_model"),
        Mistake(lambda d, h, k: 4 * d * h * k + 3 * h * k, "you forgot the output projection's d_model biases"),
        Mistake(lambda d, h, k: 4 * d * h * k + 4 * h * k, "the output projection has d_model biases "
                "(one per output feature), not num_heads * key_dim"),
        Mistake(lambda d, h, k: 4 * d * k + 3 * k + d, "each of the num_heads heads has its own key_dim-wide "
                "query, key and value projections: multiply key_dim by num_heads"),
        Mistake(lambda d, h, k: 4 * d * d + 4 * d, "num_heads * key_dim need not equal d_model: the query, key "
                "and value projections map d_model -> num_heads * key_dim, the output projection maps it back"),
    ]
    return compare_with_reference(student, _mha_params, cases, mistakes, name="mha_params")


# --- Exercise 3 ------------------------------------------------------------------------------

def _training_days(n_params: float, n_tokens: float, n_accelerators: int, peak_flops: float,
                   utilization: float) -> float:
    return 6 * n_params * n_tokens / (n_accelerators * peak_flops * utilization) / SECONDS_PER_DAY


@EXERCISES.exercise(3, "days to train a model")
def training_days(student: Any) -> str:
    """``training_days(n_params, n_tokens, n_accelerators, peak_flops, utilization)`` -> wall-clock days."""
    cases = [
        Case((175e9, 300e9, 1024, 312e12, 0.4)), Case((124e6, 2.5e9, 1, 312e12, 0.5)),
        Case((1e9, 20e9, 8, 989e12, 0.35)), Case((70e9, 1.4e12, 2048, 275e12, 0.45)),
    ]
    mistakes = [
        Mistake(lambda n, d, a, p, u: 2 * n * d / (a * p * u) / SECONDS_PER_DAY,
                "2·N·D counts only the forward pass; training also runs the backward pass (about twice the "
                "forward's cost): 6·N·D FLOPs"),
        Mistake(lambda n, d, a, p, u: 4 * n * d / (a * p * u) / SECONDS_PER_DAY,
                "training costs forward (2·N per token) + backward (4·N per token) = 6·N·D FLOPs, not 4·N·D"),
        Mistake(lambda n, d, a, p, u: 6 * n / (a * p * u) / SECONDS_PER_DAY,
                "6·N is the cost of one token: multiply by the number of training tokens D (6·N·D)"),
        Mistake(lambda n, d, a, p, u: 6 * n * d / (a * p) / SECONDS_PER_DAY,
                "no accelerator runs at its peak: divide by the achieved rate, peak_flops * utilization"),
        Mistake(lambda n, d, a, p, u: 6 * n * d * u / (a * p) / SECONDS_PER_DAY,
                "utilization is the fraction of the peak actually achieved: divide by peak * utilization, "
                "don't multiply by utilization"),
        Mistake(lambda n, d, a, p, u: 6 * n * d / (p * u) / SECONDS_PER_DAY,
                "the accelerators share the work: divide by n_accelerators too"),
        Mistake(lambda n, d, a, p, u: 6 * n * d / (a * p * u),
                "that is in seconds: divide by 86,400 seconds per day"),
        Mistake(lambda n, d, a, p, u: 6 * n * d / (a * p * u) / 3600,
                "that is in hours: divide by 86,400 seconds per day, not 3,600"),
    ]
    return compare_with_reference(student, _training_days, cases, mistakes, name="training_days", rtol=1e-6)


# --- Exercise 4 ------------------------------------------------------------------------------

def _accelerators_for_weights(n_params: int, dtype: str, memory_bytes: int) -> int:
    if dtype not in BYTES_PER_PARAM:
        raise ValueError(dtype)
    return math.ceil(n_params * BYTES_PER_PARAM[dtype] / memory_bytes)


@EXERCISES.exercise(4, "accelerators needed to hold the weights")
def accelerators_for_weights(student: Any) -> str:
    """``accelerators_for_weights(n_params, dtype, memory_bytes)`` -> the fewest devices holding the weights."""
    gb80 = 80 * 10**9
    cases = [
        Case((174_604_259_328, "bfloat16", gb80)), Case((174_604_259_328, "float32", gb80)),
        Case((174_604_259_328, "int8", gb80)), Case((7_000_000_000, "float16", 24 * 10**9)),
        Case((124_439_808, "float32", 16 * 10**9)), Case((70_000_000_000, "float64", gb80)),
        Case((40_000_000_000, "bfloat16", gb80)),
        Case((7_000_000_000, "float32", 16 * 10**9)),    # 28 GB: 2 devices of 16 GB (1 of 80 GB)
    ]
    bits = {k: 8 * v for k, v in BYTES_PER_PARAM.items()}
    mistakes = [
        Mistake(lambda n, t, m: math.ceil(n * bits[t] / m), "you counted bits, not bytes: a float32 weight "
                "takes 32 bits = 4 bytes, bfloat16 and float16 2 bytes, int8 1 byte"),
        Mistake(lambda n, t, m: n * BYTES_PER_PARAM[t] // m, "rounding down leaves part of the weights "
                "without a device: round up (math.ceil)"),
        Mistake(lambda n, t, m: round(n * BYTES_PER_PARAM[t] / m), "round up, not to the nearest: "
                "1.2 devices' worth of weights needs 2 devices (math.ceil)"),
        Mistake(lambda n, t, m: math.ceil(n * 4 / m), "the bytes per parameter depend on the dtype: "
                "float32 4, bfloat16/float16 2, int8 1"),
        Mistake(lambda n, t, m: n * BYTES_PER_PARAM[t] / m, "a number of devices is a whole number: "
                "round up with math.ceil"),
        Mistake(lambda n, t, m: math.ceil(n * BYTES_PER_PARAM[t] / m) + 1, "one device too many: "
                "math.ceil already rounds up"),
    ]
    return compare_with_reference(student, _accelerators_for_weights, cases, mistakes,
                                  name="accelerators_for_weights")
