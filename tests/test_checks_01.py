"""The chapter-01 checkers accept the worked solutions and reject the typical mistakes with hints."""

import math

import keras
import numpy as np
import pytest
from nbutils import load_tagged

from course_lib import checks_01 as checks
from course_lib.exercises import FAILED

SOLUTIONS = load_tagged("01_what_is_a_large_model")
STUBS = load_tagged("01_what_is_a_large_model", tag="exercise", folder="notebooks")
NAMES = ["dense_params", "mha_params", "training_days", "accelerators_for_weights"]


@pytest.mark.parametrize("n_in, n_out", [(64, 10), (3, 4), (768, 3072)])
def test_dense_reference_matches_keras(n_in, n_out):
    layer = keras.layers.Dense(n_out)
    layer.build((None, n_in))
    assert checks._dense_params(n_in, n_out) == layer.count_params()


@pytest.mark.parametrize("d, h, k", [(64, 4, 16), (16, 2, 4), (10, 3, 5), (32, 8, 2)])
def test_mha_reference_matches_keras(d, h, k):
    mha = keras.layers.MultiHeadAttention(num_heads=h, key_dim=k)
    x = np.zeros((1, 3, d), "float32")
    mha(x, x)
    assert checks._mha_params(d, h, k) == mha.count_params()


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda i, o: i * o, "forgot the bias"),
        (lambda i, o: i * o + i, "belong to the outputs"),
        (lambda i, o: (i + 1) * (o + 1), "no extra output"),
        (lambda i, o: i + o, "every input connects"),
        (lambda i, o: float(i * o + o), "expected the int"),
    ],
)
def test_dense_params_rejects(wrong, hint):
    result = checks.dense_params.evaluate(wrong)
    assert result.status == FAILED and hint in result.message, result.message


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda d, h, k: 3 * (d * h * k + h * k), "output projection W^O"),
        (lambda d, h, k: 4 * d * h * k, "forgot the biases"),
        (lambda d, h, k: 4 * d * h * k + 3 * h * k, "output projection's d_model biases"),
        (lambda d, h, k: 4 * d * k + 3 * k + d, "multiply key_dim by num_heads"),
        (lambda d, h, k: 4 * d * d + 4 * d, "need not equal d_model"),
    ],
)
def test_mha_params_rejects(wrong, hint):
    result = checks.mha_params.evaluate(wrong)
    assert result.status == FAILED and hint in result.message, result.message


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda n, d, a, p, u: 2 * n * d / (a * p * u) / 86400, "backward pass"),
        (lambda n, d, a, p, u: 6 * n / (a * p * u) / 86400, "number of training tokens"),
        (lambda n, d, a, p, u: 6 * n * d / (a * p) / 86400, "peak_flops * utilization"),
        (lambda n, d, a, p, u: 6 * n * d / (p * u) / 86400, "n_accelerators"),
        (lambda n, d, a, p, u: 6 * n * d / (a * p * u), "in seconds"),
        (lambda n, d, a, p, u: 6 * n * d / (a * p * u) / 3600, "in hours"),
    ],
)
def test_training_days_rejects(wrong, hint):
    result = checks.training_days.evaluate(wrong)
    assert result.status == FAILED and hint in result.message, result.message


BYTES = {"float64": 8, "float32": 4, "bfloat16": 2, "float16": 2, "int8": 1}


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda n, t, m: math.ceil(n * 8 * BYTES[t] / m), "bits, not bytes"),
        (lambda n, t, m: n * BYTES[t] // m, "rounding down"),
        (lambda n, t, m: math.ceil(n * 4 / m), "depend on the dtype"),
        (lambda n, t, m: n * BYTES[t] / m, "whole number"),
        (lambda n, t, m: math.ceil(n * BYTES[t] / m) + 1, "one device too many"),
    ],
)
def test_accelerators_for_weights_rejects(wrong, hint):
    result = checks.accelerators_for_weights.evaluate(wrong)
    assert result.status == FAILED and hint in result.message, result.message


def test_student_exception_is_reported_not_raised():
    def broken(n_in, n_out):
        return undefined_name  # noqa: F821

    result = checks.dense_params.evaluate(broken)
    assert result.status == FAILED and "NameError" in result.message
