"""The chapter-03 checkers accept the worked solutions and reject the typical mistakes with hints."""

import numpy as np
import pytest
from nbutils import assert_rejects as _rejects, load_tagged

from course_lib import checks_03 as checks
from course_lib.exercises import PASSED

SOLUTIONS = load_tagged("03_backpropagation")
STUBS = load_tagged("03_backpropagation", tag="exercise", folder="notebooks")
NAMES = ["relu_backward", "softmax_ce_grad", "linear_backward", "numerical_gradient"]


def test_every_exercise_has_a_checker_a_stub_and_a_solution():
    assert sorted(NAMES) == sorted(e.body.__name__ for e in checks.EXERCISES.exercises)
    assert all(name in STUBS and name in SOLUTIONS for name in NAMES)


# --- Exercise 1 ---------------------------------------------------------------------------------

def _relu_in_place(g, x):
    g[x <= 0] = 0.0
    return g


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda g, x: g * (x >= 0), "(x > 0), not (x >= 0)"),
        (lambda g, x: g, "passed grad_out through unchanged"),
        (lambda g, x: (x > 0).astype(float), "only the local derivative"),
        (lambda g, x: g * np.maximum(x, 0), "multiplied by relu(x)"),
        (lambda g, x: g * (x < 0), "inverted"),
        (lambda g, x: np.maximum(g, 0), "applied ReLU to the gradient"),
        (_relu_in_place, "in place"),
        (lambda g, x: g * (x > 0) * 2, "values differ"),
    ],
)
def test_relu_backward_rejects(wrong, hint):
    _rejects(checks.relu_backward, wrong, hint)


# --- Exercise 2 ---------------------------------------------------------------------------------

def _softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _naive_softmax_grad(z, y):
    e = np.exp(z)
    return (e / e.sum(axis=1, keepdims=True) - np.eye(z.shape[1])[y]) / len(y)


def _onehot(z, y):
    return np.eye(z.shape[1])[y]


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda z, y: _softmax(z) - _onehot(z, y), "divide by the batch size"),
        (lambda z, y: (_onehot(z, y) - _softmax(z)) / len(y), "sign is flipped"),
        (lambda z, y: _softmax(z) / len(y), "subtract the one-hot"),
        (lambda z, y: (_softmax(z, axis=0) - _onehot(z, y)) / len(y), "axis 0"),
        (lambda z, y: (_softmax(z) - _onehot(z, y)) / z.size, "not by batch × classes"),
        (lambda z, y: (_softmax(z) - _onehot(z, y)) / z.shape[1], "not by the number of classes"),
        (_naive_softmax_grad, "overflows"),
        (lambda z, y: np.zeros((2, 2)), "expected shape"),
    ],
)
def test_softmax_ce_grad_rejects(wrong, hint):
    _rejects(checks.softmax_ce_grad, wrong, hint)


# --- Exercise 3 ---------------------------------------------------------------------------------

def _linear(g, x, w):
    return g @ w.T, x.T @ g, g.sum(axis=0)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda g, x, w: (g @ w, x.T @ g, g.sum(axis=0)), "dx = grad_out @ W.T"),
        (lambda g, x, w: (g @ w.T, g.T @ x, g.sum(axis=0)), "dW is transposed"),
        (lambda g, x, w: (g @ w.T, x.T @ g, g.sum(axis=1)), "axis 0"),
        (lambda g, x, w: (g @ w.T, x.T @ g, g.mean(axis=0)), "don't average"),
        (lambda g, x, w: (g @ w.T, x.T @ g / len(x), g.sum(axis=0)), "don't divide by the batch size again"),
        (lambda g, x, w: (g @ w.T, x.T @ g, g), "shared by the whole batch"),
        (lambda g, x, w: (g @ w.T, x.T @ g), "as a tuple (dx, dW, db)"),
        (lambda g, x, w: (g @ w.T, x.T @ g, 2 * g.sum(axis=0)), "wrong values"),
        (lambda g, x, w: (g @ w, x.T @ g, g.sum(axis=0)) if w.shape[0] != w.shape[1] else _linear(g, x, w),
         "Match the shapes"),
    ],
)
def test_linear_backward_rejects(wrong, hint):
    _rejects(checks.linear_backward, wrong, hint)


def test_linear_backward_catches_transposes_on_square_shapes_only_case():
    """With n_in == n_out a transposed dW has the right shape: the hint must still say so."""
    def transposed_when_square(g, x, w):
        dw = g.T @ x if w.shape[0] == w.shape[1] else x.T @ g
        return g @ w.T, dw, g.sum(axis=0)

    _rejects(checks.linear_backward, transposed_when_square, "dW is transposed")


# --- Exercise 4 ---------------------------------------------------------------------------------

def _central(f, x, eps, scale=2.0):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[i] += eps
        minus[i] -= eps
        grad[i] = (f(plus) - f(minus)) / (scale * eps)
    return grad


def _forward_diff(f, x, eps):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        plus = x.copy()
        plus[i] += eps
        grad[i] = (f(plus) - f(x)) / eps
    return grad


def _not_restored(f, x, eps):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += eps
        plus = f(x)
        x[i] -= 2 * eps
        grad[i] = (plus - f(x)) / (2 * eps)
    return grad


def _flattened(f, x, eps):
    return _central(f, x, eps).ravel()


def _all_at_once(f, x, eps):
    return np.full_like(x, (f(x + eps) - f(x - eps)) / (2 * eps))


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda f, x, eps: _central(f, x, eps, scale=1.0), "twice the gradient"),
        (lambda f, x, eps: _central(f, x, eps, scale=4.0), "half the gradient"),
        (_forward_diff, "forward difference"),
        (_not_restored, "x is not the same"),
        (_flattened, "shaped like x"),
        (_all_at_once, "every entry at once"),
        (lambda f, x, eps: np.array(0.0), "one partial derivative per entry"),
        (lambda f, x, eps: _central(f, x, eps) + 1e-3, "differ from the exact gradient"),
    ],
)
def test_numerical_gradient_rejects(wrong, hint):
    _rejects(checks.numerical_gradient, wrong, hint)


def test_course_lib_numerical_gradient_passes_the_checker():
    from course_lib.gradients import numerical_gradient

    assert checks.numerical_gradient.evaluate(numerical_gradient).status == PASSED


def test_checkers_leave_numpy_global_state_alone():
    state = np.random.get_state()[1].copy()
    for name in NAMES:
        getattr(checks, name).evaluate(SOLUTIONS[name])
    assert np.array_equal(state, np.random.get_state()[1])
