"""The chapter-02 checkers accept the worked solutions and reject the typical mistakes with hints."""

import numpy as np
import pytest
from nbutils import load_tagged

from course_lib import checks_02 as checks
from course_lib.exercises import FAILED, PASSED

SOLUTIONS = load_tagged("02_neural_networks")
STUBS = load_tagged("02_neural_networks", tag="exercise", folder="notebooks")
NAMES = ["softmax", "dense_forward", "mse", "cross_entropy"]


def test_every_exercise_has_a_stub_and_a_solution():
    assert sorted(e.body.__name__ for e in checks.EXERCISES.exercises) == sorted(NAMES)
    for name in NAMES:
        assert callable(SOLUTIONS[name]) and callable(STUBS[name])


def _expect(checker, wrong, hint):
    with np.errstate(all="ignore"):
        result = checker.evaluate(wrong)
    assert result.status == FAILED and hint in result.message, result.message


# --- softmax ----------------------------------------------------------------------------------

def _rows(e):
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda z: _rows(np.exp(z)), "subtract each row's max"),                      # no max-subtraction
        (lambda z: np.exp(z - z.max(axis=0)) / np.exp(z - z.max(axis=0)).sum(axis=0), "axis=0"),
        (lambda z: np.exp(z - z.max()) / np.exp(z - z.max()).sum(), "whole batch"),
        (lambda z: _rows(np.exp(z - z.max())), "each row's own max"),                 # global max, per-row sum
        (lambda z: np.exp(z - z.max(axis=-1)) / np.exp(z - z.max(axis=-1)).sum(axis=-1), "keepdims=True"),
        (lambda z: np.exp(z), "divide by their sum"),
        (lambda z: z / z.sum(axis=-1, keepdims=True), "exponentiate first"),
    ],
)
def test_softmax_rejects(wrong, hint):
    _expect(checks.softmax, wrong, hint)


def test_softmax_accepts_float32_and_tensorflow():
    import keras

    assert checks.softmax.evaluate(lambda z: keras.activations.softmax(np.float32(z))).status == PASSED


# --- dense_forward -----------------------------------------------------------------------------

@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda x, W, b, f: f(x @ W.T + b), "not x @ W.T"),
        (lambda x, W, b, f: f(x @ W), "the bias is missing"),
        (lambda x, W, b, f: f(x @ W) + b, "add the bias before the activation"),
        (lambda x, W, b, f: x @ W + b, "apply the activation"),
        (lambda x, W, b, f: f(W @ x.T + b[:, None]), "one row per example"),
        (lambda x, W, b, f: f(x @ W - b), "values differ"),
    ],
)
def test_dense_forward_rejects(wrong, hint):
    _expect(checks.dense_forward, wrong, hint)


def test_dense_forward_hint_names_the_activation():
    result = checks.dense_forward.evaluate(lambda x, W, b, f: f(x @ W.T + b))
    assert "identity)" in result.message and "0x" not in result.message, result.message


# --- mse ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda t, p: np.mean(t - p), "square each difference"),
        (lambda t, p: np.mean(np.abs(t - p)), "mean *absolute* error"),
        (lambda t, p: np.sum((t - p) ** 2), "not the sum"),
        (lambda t, p: np.sqrt(np.mean((t - p) ** 2)), "RMSE"),
        (lambda t, p: np.mean(t - p) ** 2, "*before* averaging"),
        (lambda t, p: np.mean((t - p) ** 2, axis=-1), "return one number"),
        (lambda t, p: 0.5 * np.mean((t - p) ** 2), "you halved it"),
        (lambda t, p: np.mean((t - p) ** 2) / 2, "you halved it"),
        (lambda t, p: np.mean(np.sum((t - p) ** 2, axis=-1)), "summed over the last axis"),
    ],
)
def test_mse_rejects(wrong, hint):
    _expect(checks.mse, wrong, hint)


# --- cross_entropy -----------------------------------------------------------------------------

def _log_softmax(z, axis=-1):
    s = z - z.max(axis=axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


def _naive(y, z):
    p = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
    return -np.mean(np.log(p[np.arange(len(y)), y]))


def _clipped(y, z):
    p = np.clip(np.exp(_log_softmax(z)), 1e-7, 1 - 1e-7)
    return -np.mean(np.log(p[np.arange(len(y)), y]))


def _pick(m, y):
    return m[np.arange(len(y)), y]


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (_naive, "log-sum-exp"),
        (_clipped, "Clipping the probabilities caps the loss"),
        (lambda y, z: -np.mean(np.log(_pick(z, y))), "logits are not probabilities"),
        (lambda y, z: -np.sum(_pick(_log_softmax(z), y)), "don't sum"),
        (lambda y, z: -np.mean(_pick(_log_softmax(z), y)) / np.log(2), "natural log"),
        (lambda y, z: np.mean(_pick(_log_softmax(z), y)), "MINUS"),
        (lambda y, z: -np.mean(_log_softmax(z)[:, y]), "np.arange(len(labels))"),
        (lambda y, z: -np.mean(_pick(_log_softmax(z, axis=0), y)), "axis=0"),
        (lambda y, z: -np.mean(np.eye(z.shape[1])[y] * _log_softmax(z)), "averaged over the classes"),
        (lambda y, z: -np.mean(_pick(z - z.max() - np.log(np.exp(z - z.max()).sum(axis=-1, keepdims=True)), y)),
         "whole batch's maximum"),
    ],
)
def test_cross_entropy_rejects(wrong, hint):
    _expect(checks.cross_entropy, wrong, hint)


def test_softmax_rejects_underflow_of_all_negative_rows():
    def shift_by_zero_when_negative(z):  # subtracts max(z, 0): fine for large logits, not for very negative ones
        e = np.exp(z - np.maximum(z.max(axis=-1, keepdims=True), 0))
        return e / e.sum(axis=-1, keepdims=True)

    _expect(checks.softmax, shift_by_zero_when_negative, "exp(-1000) underflows")


def test_cross_entropy_true_class_far_below_is_finite():
    assert np.isclose(checks._cross_entropy(np.array([0]), np.array([[-1000.0, 0.0, 5.0]])),
                      1005 + np.log1p(np.exp(-5)))


def test_cross_entropy_accepts_keras():
    import keras

    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    result = checks.cross_entropy.evaluate(lambda y, z: float(loss(y, np.float32(z))))
    assert result.status == PASSED, result.message


def test_checkers_leave_the_global_random_state_alone():
    state = np.random.get_state()[1].copy()
    for name in NAMES:
        getattr(checks, name).evaluate(SOLUTIONS[name])
    assert np.array_equal(np.random.get_state()[1], state)


def test_student_exception_is_reported_not_raised():
    def broken(logits):
        return undefined_name  # noqa: F821

    result = checks.softmax.evaluate(broken)
    assert result.status == FAILED and "NameError" in result.message
