"""The chapter-04 checkers accept the worked solutions and reject the typical mistakes with hints."""

import math

import keras
import numpy as np
import pytest
from nbutils import assert_rejects as _rejects, load_tagged

from course_lib import checks_04 as checks
from course_lib.exercises import FAILED, PASSED

SOLUTIONS = load_tagged("04_optimization")
STUBS = load_tagged("04_optimization", tag="exercise", folder="notebooks")
NAMES = ["minibatches", "sgd_momentum_step", "adam_step", "cosine_schedule"]


# --- Exercise 1 ------------------------------------------------------------------------------

def _perm(n, seed):
    return np.random.default_rng(seed).permutation(n)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda n, b, s: [_perm(n, s)[i:i + b] for i in range(0, n - b + 1, b)], "keep the last, smaller batch"),
        (lambda n, b, s: [np.arange(n)[i:i + b] for i in range(0, n, b)], "shuffle them first"),
        (lambda n, b, s: [x for x in np.split(np.random.default_rng(s).integers(0, n, n), range(b, n, b))],
         "exactly once"),
        (lambda n, b, s: [_perm(n, s + 1)[i:i + b] for i in range(0, n, b)], "not the one asked for"),
        (lambda n, b, s: np.array_split(_perm(n, s), -(-n // b)), "batch sizes"),
        (lambda n, b, s: _perm(n, s)[: n // b * b].reshape(-1, b), "*list*"),
        (lambda n, b, s: [_perm(n, s)[i:i + b] / 1.0 for i in range(0, n, b)], "integers"),
    ],
)
def test_minibatches_rejects(wrong, hint):
    _rejects(checks.minibatches, wrong, hint)


# --- Exercise 2 ------------------------------------------------------------------------------

def _keras_momentum(w, g, v, lr, mu, nesterov=False):
    v = mu * v - lr * g
    return (w + mu * v - lr * g if nesterov else w + v), v


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda w, g, v, lr, mu, nesterov=False: (w + mu * v + lr * g, mu * v + lr * g), "sign"),
        (lambda w, g, v, lr, mu, nesterov=False: (w - lr * g, v), "plain gradient step"),
        (lambda w, g, v, lr, mu, nesterov=False: (w + v, mu * v - lr * g), "*old* velocity"),
        (lambda w, g, v, lr, mu, nesterov=False: (w - lr * (mu * v + g), mu * v + g), "PyTorch"),
        (lambda w, g, v, lr, mu, nesterov=False: _keras_momentum(w, g, v, lr, mu), "with nesterov=True"),
        (lambda w, g, v, lr, mu, nesterov=False: _keras_momentum(w, g, v, lr, mu, True), "with nesterov=False"),
        (lambda w, g, v, lr, mu, nesterov=False: w + mu * v - lr * g, "return the tuple (w, velocity)"),
        # momentum written as a moving average (issue 13), in PyTorch's and in Keras' sign convention
        (lambda w, g, v, lr, mu, nesterov=False: (w - lr * (mu * v + (1 - mu) * g), mu * v + (1 - mu) * g),
         "moving *average*"),
        (lambda w, g, v, lr, mu, nesterov=False: (w + mu * v - (1 - mu) * lr * g, mu * v - (1 - mu) * lr * g),
         "drop the (1 - momentum) factor"),
        # a flipped update sign
        (lambda w, g, v, lr, mu, nesterov=False: (w - (mu * v - lr * g), mu * v - lr * g), "moved uphill"),
    ],
)
def test_sgd_momentum_step_rejects(wrong, hint):
    _rejects(checks.sgd_momentum_step, wrong, hint)


def test_momentum_reference_matches_keras():
    """The checker's reference is what keras.optimizers.SGD computes, with and without Nesterov."""
    for nesterov in (False, True):
        var = keras.Variable([1.0, -2.0])
        opt = keras.optimizers.SGD(learning_rate=0.1, momentum=0.9, nesterov=nesterov)
        w, v = np.array([1.0, -2.0]), np.zeros(2)
        for g in ([0.5, 1.0], [0.2, -0.4], [-0.3, 0.1]):
            opt.apply([np.array(g, dtype="float32")], [var])
            w, v = checks._sgd_momentum_step(w, np.array(g), v, 0.1, 0.9, nesterov)
        np.testing.assert_allclose(w, var.numpy(), rtol=1e-6)


# --- Exercise 3 ------------------------------------------------------------------------------

def _adam(w, g, m, v, t, lr, b1, b2, eps, **kw):
    return checks._adam(w, g, m, v, t, lr, b1, b2, eps, **kw)


@pytest.mark.parametrize(
    "kw, hint",
    [
        ({"correct": False}, "no bias correction"),
        ({"t_shift": -1}, "beta**(t - 1)"),
        ({"t_shift": 1}, "beta**(t + 1)"),
        ({"eps_inside": True}, "eps inside the square root"),
        ({"keras_eps": True}, "Keras' form"),
        ({"old_moments": True}, "*updated* m and v"),
        ({"correct_v": False}, "but not v"),
    ],
)
def test_adam_step_rejects(kw, hint):
    _rejects(checks.adam_step, lambda *args: _adam(*args, **kw), hint)


def _adam_independent(w, g, m, v, t, lr, b1, b2, eps, v_of=lambda g: g * g, v_corr=None, sign=1.0):
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * v_of(g)
    m_hat = m / (1 - b1**t)
    v_hat = v / (1 - (b2 if v_corr is None else v_corr(b1, b2)) ** t)
    return w - sign * lr * m_hat / (np.sqrt(v_hat) + eps), m, v


@pytest.mark.parametrize(
    "kw, hint",
    [
        ({"v_corr": lambda b1, b2: b1}, "not 1 - beta1**t"),
        ({"v_of": np.abs}, "not |g|"),
        ({"sign": -1.0}, "update sign is flipped"),
    ],
)
def test_adam_step_rejects_issue_13_mistakes(kw, hint):
    _rejects(checks.adam_step, lambda *args: _adam_independent(*args, **kw), hint)


def test_adam_independent_reference_passes():
    assert checks.adam_step.evaluate(_adam_independent).status == PASSED


def test_adam_step_rejects_swapped_betas_and_wrong_shapes():
    _rejects(checks.adam_step, lambda w, g, m, v, t, lr, b1, b2, eps: _adam(w, g, m, v, t, lr, 1 - b1, 1 - b2, eps),
             "wrong way round")
    _rejects(checks.adam_step, lambda w, g, m, v, t, lr, b1, b2, eps: _adam(w, g, m, v, t, lr, b1, b2, eps)[0],
             "return the tuple (w, m, v)")
    _rejects(checks.adam_step, lambda w, g, m, v, t, lr, b1, b2, eps: _adam(w, g, m, v, t, lr, b1, b2, eps)[:2],
             "return the tuple (w, m, v)")


def test_adam_keras_form_matches_keras():
    """The Keras form the checker names as a mistake is what keras.optimizers.Adam computes."""
    var = keras.Variable([0.5, -1.0, 2.0])
    opt = keras.optimizers.Adam(learning_rate=0.01, epsilon=1e-3)
    w, m, v = np.array([0.5, -1.0, 2.0]), np.zeros(3), np.zeros(3)
    for t, g in enumerate(([0.01, -0.02, 0.005], [0.02, 0.01, -0.01], [-0.01, 0.0, 0.02]), start=1):
        opt.apply([np.array(g, dtype="float32")], [var])
        w, m, v = checks._adam(w, np.array(g), m, v, t, 0.01, 0.9, 0.999, 1e-3, keras_eps=True)
    np.testing.assert_allclose(w, var.numpy(), rtol=1e-5)


# --- Exercise 4 ------------------------------------------------------------------------------

def _cos(**kw):
    return lambda s, p, w, d, a=0.0: checks._cosine(s, p, w, d, a, **kw)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (_cos(half=1.0), "missing the factor 0.5"),
        (_cos(shift=1), "don't add 1"),
        (_cos(shift=-1), "don't subtract 1"),
        (_cos(sub_warmup=False), "when the warmup ends"),
        (_cos(clamp=False), "stay at the floor"),
        (_cos(floor="add"), "fraction of peak_lr"),
        (_cos(floor="none"), "ignored alpha"),
        (_cos(total_decay=True), "after* the warmup"),
        (lambda s, p, w, d, a=0.0: p, "expected"),
        # cosine vs linear decay, and integer division in the warm-up (issue 13)
        (lambda s, p, w, d, a=0.0: p * s / w if s < w else p * (a + (1 - a) * (1 - min(s - w, d) / d)),
         "*linear* decay"),
        (lambda s, p, w, d, a=0.0: p * (s // w) if s < w else checks._cosine_schedule(s, p, w, d, a),
         "integer division"),
    ],
)
def test_cosine_schedule_rejects(wrong, hint):
    _rejects(checks.cosine_schedule, wrong, hint)


@pytest.mark.parametrize("step", [0, 3, 10, 11, 60, 109, 110, 111, 300])
def test_cosine_reference_matches_keras(step):
    schedule = keras.optimizers.schedules.CosineDecay(0.0, 100, alpha=0.1, warmup_target=0.1, warmup_steps=10)
    assert math.isclose(checks._cosine_schedule(step, 0.1, 10, 100, 0.1), float(schedule(step)),
                        rel_tol=1e-6, abs_tol=1e-9)


def test_student_exception_is_reported_not_raised():
    def broken(n, batch_size, seed):
        return undefined_name  # noqa: F821

    result = checks.minibatches.evaluate(broken)
    assert result.status == FAILED and "NameError" in result.message
