"""The chapter-00 checkers accept the worked solutions and reject the typical mistakes with hints."""

import math

import keras
import numpy as np
import pytest
from nbutils import load_tagged

from course_lib import checks_00 as checks
from course_lib.exercises import FAILED

SOLUTIONS = load_tagged("00_getting_started")
STUBS = load_tagged("00_getting_started", tag="exercise", folder="notebooks")


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda g, n: g * n, "split"),
        (lambda g, n: g / n, "return an int"),
        (lambda g, n: g // n, "raise ValueError"),
        (lambda g, n: -(-g // n), "raise ValueError"),
        (lambda g, n: 32, "expected 64"),
    ],
)
def test_per_replica_batch_rejects(wrong, hint):
    result = checks.per_replica_batch.evaluate(wrong)
    assert result.status == FAILED and hint in result.message, result.message


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda n, b, d: n // b, "round up"),
        (lambda n, b, d: -(-n // b), "round down"),
        (lambda n, b, d: n // b if d else n // b + 1, "one step too many"),
        (lambda n, b, d: n / b, "is an int"),
        (lambda n, b, d: math.ceil(n / b) if d else n // b, "swapped"),
    ],
)
def test_steps_per_epoch_rejects(wrong, hint):
    result = checks.steps_per_epoch.evaluate(wrong)
    assert result.status == FAILED and hint in result.message, result.message


def _dense_kernel(seed, units=4, inputs=3, init=keras.initializers.GlorotUniform):
    layer = keras.layers.Dense(units, kernel_initializer=init(seed=seed))
    layer.build((None, inputs))
    return layer.kernel.numpy()


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda s: _dense_kernel(s).T, "(inputs, units)"),
        (lambda s: keras.initializers.GlorotUniform()((3, 4)).numpy(), "different kernels"),
        (lambda s: _dense_kernel(0), "same kernel"),
        (lambda s: _dense_kernel(s, init=keras.initializers.RandomNormal), "GlorotUniform"),
        (lambda s: _dense_kernel(s + 1), "not the kernel"),
        (lambda s: np.zeros((2, 2)), "expected shape (3, 4)"),
    ],
)
def test_initial_kernel_rejects(wrong, hint):
    result = checks.initial_kernel.evaluate(wrong)
    assert result.status == FAILED and hint in result.message, result.message


def test_student_exception_is_reported_not_raised():
    def broken(g, n):
        return undefined_name  # noqa: F821

    result = checks.per_replica_batch.evaluate(broken)
    assert result.status == FAILED and "NameError" in result.message
