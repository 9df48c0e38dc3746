"""The chapter-03 checkers accept the worked solutions and reject the typical mistakes with hints."""

import numpy as np
import pytest
import tensorflow as tf
from nbutils import assert_rejects as _rejects, load_tagged

from course_lib import checks_03 as checks
from course_lib.exercises import PASSED

SOLUTIONS = load_tagged("03_backpropagation")
STUBS = load_tagged("03_backpropagation", tag="exercise", folder="notebooks")
NAMES = ["tanh_layer_backward", "softmax_backward", "tied_autoencoder_grad", "l2_decay_grads"]


def test_every_exercise_has_a_checker_a_stub_and_a_solution():
    assert sorted(NAMES) == sorted(e.body.__name__ for e in checks.EXERCISES.exercises)
    assert all(name in STUBS and name in SOLUTIONS for name in NAMES)


# --- Exercise 1: tanh layer ---------------------------------------------------------------------

def _tanh(g, x, w, b, deriv=lambda z, y: 1 - y ** 2, bias=True):
    z = x @ w + (b if bias else 0)
    dz = g * deriv(z, np.tanh(z))
    return dz @ w.T, x.T @ dz, dz.sum(axis=0)


def _tanh_in_place(g, x, w, b):
    g *= 1 - np.tanh(x @ w + b) ** 2
    return g @ w.T, x.T @ g, g.sum(axis=0)


def test_tanh_accepts_float32_and_tensorflow_answers():
    def tf_version(g, x, w, b):
        xv, wv, bv = (tf.Variable(a) for a in (x, w, b))
        with tf.GradientTape() as tape:
            e = tf.reduce_sum(g * tf.tanh(xv @ wv + bv))
        return tape.gradient(e, [xv, wv, bv])

    assert checks.tanh_layer_backward.evaluate(tf_version).status == PASSED


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda g, x, w, b: _tanh(g, x, w, b, lambda z, y: 1 - z ** 2), "1 − z² with the pre-activation"),
        (lambda g, x, w, b: _tanh(g, x, w, b, lambda z, y: 1 - y), "square the output"),
        (lambda g, x, w, b: _tanh(g, x, w, b, lambda z, y: 1 + y ** 2), "at most 1"),
        (lambda g, x, w, b: _tanh(g, x, w, b, lambda z, y: y * (1 - y)), "sigmoid's"),
        (lambda g, x, w, b: _tanh(g, x, w, b, lambda z, y: np.ones_like(z)), "left out the activation"),
        (lambda g, x, w, b: _tanh(g, x, w, b, bias=False), "without the bias b"),
        (lambda g, x, w, b: (g @ w.T,) + _tanh(g, x, w, b)[1:], "dx must go through the activation"),
        (lambda g, x, w, b: (_tanh(g, x, w, b)[0], _tanh(g, x, w, b)[1].T, _tanh(g, x, w, b)[2]), "dW is transposed"),
        (lambda g, x, w, b: _tanh(g, x, w, b)[:2] + (_tanh(g, x, w, b)[2] / len(x),), "does not average"),
        (lambda g, x, w, b: tuple(reversed(_tanh(g, x, w, b))), "order (dx, dW, db)"),
        (_tanh_in_place, "in place"),
        (lambda g, x, w, b: _tanh(g, x, w, b)[:2], "expected 3 items"),
    ],
)
def test_tanh_layer_backward_rejects(wrong, hint):
    _rejects(checks.tanh_layer_backward, wrong, hint)


def test_tanh_transposed_dw_on_square_shapes_is_named():
    def transposed(g, x, w, b):
        dx, dw, db = _tanh(g, x, w, b)
        return dx, (dw.T if w.shape[0] == w.shape[1] else dw), db

    _rejects(checks.tanh_layer_backward, transposed, "dW is transposed")


# --- Exercise 2: softmax backward ----------------------------------------------------------------

def _softmax_in_place(g, p):
    g -= (g * p).sum(axis=-1, keepdims=True)
    g *= p
    return g


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda g, p: g * p * (1 - p), "only the diagonal"),
        (lambda g, p: g * p, "multiplied by p only"),
        (lambda g, p: p * (g - (g * p).sum(axis=0, keepdims=True)), "not over the batch"),
        (lambda g, p: p * (g - (g * p).sum(axis=-1)), "keepdims=True"),
        (lambda g, p: p * (g - g.sum(axis=-1, keepdims=True)), "weight the sum by p"),
        (lambda g, p: p * (g - (g * p).sum(axis=-1, keepdims=True)) / len(g), "don't divide by the batch"),
        (lambda g, p: g - (g * p).sum(axis=-1, keepdims=True), "multiply by p"),
        (_softmax_in_place, "in place"),
        (lambda g, p: 1.01 * p * (g - (g * p).sum(axis=-1, keepdims=True)), "values differ"),
    ],
)
def test_softmax_backward_rejects(wrong, hint):
    _rejects(checks.softmax_backward, wrong, hint)


# --- Exercise 3: tied autoencoder ---------------------------------------------------------------

def _parts(x, w):
    z = x @ w
    r = z @ w.T - x
    return r.T @ z / len(x), x.T @ (r @ w) / len(x)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda x, w: _parts(x, w)[0], "only the decoder's path"),
        (lambda x, w: _parts(x, w)[1], "only the encoder's path"),
        (lambda x, w: 2 * _parts(x, w)[0], "doubled one path"),
        (lambda x, w: sum(_parts(x, w)) * len(x), "divide by B"),
        (lambda x, w: 2 * sum(_parts(x, w)), "factor ½"),
        (lambda x, w: -sum(_parts(x, w)), "sign is flipped"),
        (lambda x, w: sum(_parts(x, w)) / x.shape[1], "not by B × n"),
        (lambda x, w: sum(_parts(x, w)).T, "transposed"),
    ],
)
def test_tied_autoencoder_grad_rejects(wrong, hint):
    _rejects(checks.tied_autoencoder_grad, wrong, hint)


def test_tied_autoencoder_grad_accepts_the_tape():
    def tape_version(x, w):
        wv = tf.Variable(w)
        with tf.GradientTape() as tape:
            e = 0.5 * tf.reduce_mean(tf.reduce_sum((x @ wv @ tf.transpose(wv) - x) ** 2, axis=1))
        return tape.gradient(e, wv)

    assert checks.tied_autoencoder_grad.evaluate(tape_version).status == PASSED


# --- Exercise 4: L2 weight decay ----------------------------------------------------------------

def _l2(grads, params, lam, biases=False, factor=1.0, sign=1.0):
    return {k: g + sign * factor * lam * params[k] if (biases or np.ndim(params[k]) >= 2) else g
            for k, g in grads.items()}


def _l2_in_place(grads, params, lam):
    for k in grads:
        if np.ndim(params[k]) >= 2:
            grads[k] += lam * params[k]
    return grads


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda g, p, lam: _l2(g, p, lam, biases=True), "biases (1-D parameters) are not decayed"),
        (lambda g, p, lam: _l2(g, p, lam, factor=0.5), "the ½ cancels"),
        (lambda g, p, lam: _l2(g, p, lam, factor=2.0), "not 2·lam·W"),
        (lambda g, p, lam: _l2(g, p, lam, sign=-1.0), "sign is flipped"),
        (_l2_in_place, "changed `grads` in place"),
        (lambda g, p, lam: list(_l2(g, p, lam).values()), "return a dict"),
        (lambda g, p, lam: {k: v for k, v in _l2(g, p, lam).items() if k.startswith("W")}, "same names"),
        (lambda g, p, lam: {k: (v + lam * p[k] if k.startswith("W") else v) for k, v in g.items()}, "(for a kernel)"),
        (lambda g, p, lam: {k: v + lam * p[k] if np.ndim(p[k]) == 2 else v for k, v in g.items()}, "(for a kernel)"),
    ],
)
def test_l2_decay_grads_rejects(wrong, hint):
    _rejects(checks.l2_decay_grads, wrong, hint)


def test_l2_decay_grads_accepts_tensors():
    def tensors(grads, params, lam):
        return {k: tf.constant(g) + (lam * tf.constant(params[k]) if np.ndim(params[k]) >= 2 else 0.0)
                for k, g in grads.items()}

    assert checks.l2_decay_grads.evaluate(tensors).status == PASSED


def test_checkers_leave_numpy_global_state_alone():
    state = np.random.get_state()[1].copy()
    for name in NAMES:
        assert getattr(checks, name).evaluate(SOLUTIONS[name]).status == PASSED
    assert np.array_equal(state, np.random.get_state()[1])
