"""The chapter-15 checkers reject the typical mistakes with specific hints (the solutions passing and
the stubs being "not attempted" are checked for every chapter by ``test_all_checkers.py``)."""

import numpy as np
import pytest
from nbutils import assert_rejects, load_tagged

from course_lib import checks_15 as checks
from course_lib.exercises import FAILED, PASSED

SOLUTIONS = load_tagged("15_responsible_ai")
NAMES = ["demographic_parity_difference", "dp_aggregate", "fgsm", "riemann_integrated_gradients"]


def test_solutions_pass_and_global_random_state_is_untouched():
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    for name in NAMES:
        assert getattr(checks, name).evaluate(SOLUTIONS[name]).status == PASSED, name
    assert np.array_equal(np.random.get_state()[1], before)


# --- Exercise 1: demographic_parity_difference ---------------------------------------------------

def _rates(y_pred, groups):
    y_pred, groups = np.asarray(y_pred, float), np.asarray(groups)
    return np.array([y_pred[groups == g].mean() for g in np.unique(groups)])


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda p, g: float(_rates(p, g)[1] - _rates(p, g)[0]), "never negative"),
        (lambda p, g: float(_rates(p, g)[0] - _rates(p, g)[1]), "never negative"),
        (lambda p, g: int(max(np.asarray(p)[np.asarray(g) == k].sum() for k in np.unique(g))
                          - min(np.asarray(p)[np.asarray(g) == k].sum() for k in np.unique(g))), "*counts*"),
        (lambda p, g: float(np.ptp([np.asarray(p)[np.asarray(g) == k].sum() / len(p) for k in np.unique(g)])),
         "*all* examples"),
        (lambda p, g: float(np.ptp([np.mean(np.asarray(g)[np.asarray(p) == 1] == k) for k in np.unique(g)])),
         "P(group | ŷ = 1)"),
        (lambda p, g: float(abs(_rates(p, g)[1] - _rates(p, g)[0])), "first two groups"),
        (lambda p, g: float(np.ptp(_rates(p, g))) + 0.01, "expected"),
    ],
)
def test_demographic_parity_difference_rejects(wrong, hint):
    assert_rejects(checks.demographic_parity_difference, wrong, hint)


# --- Exercise 2: dp_aggregate ---------------------------------------------------------------------

def _norms(grads):
    return np.sqrt(sum(np.sum(np.reshape(g, (len(g), -1)) ** 2, axis=1) for g in grads))


def _scaled(g, s):
    return np.asarray(g) * s.reshape((-1,) + (1,) * (np.ndim(g) - 1))


def _per_tensor(grads, c, noise):
    b = len(grads[0])
    return [(_scaled(g, np.minimum(1, c / _norms([g]))).sum(0) + z) / b for g, z in zip(grads, noise)]


def _normalised(grads, c, noise):
    b, n = len(grads[0]), _norms(grads)
    return [(_scaled(g, c / n).sum(0) + z) / b for g, z in zip(grads, noise)]


def _noise_after_mean(grads, c, noise):
    b, n = len(grads[0]), _norms(grads)
    return [_scaled(g, np.minimum(1, c / n)).sum(0) / b + z for g, z in zip(grads, noise)]


def _no_division(grads, c, noise):
    n = _norms(grads)
    return [_scaled(g, np.minimum(1, c / n)).sum(0) + z for g, z in zip(grads, noise)]


def _sum_of_norms(grads, c, noise):
    b = len(grads[0])
    total = sum(np.sqrt(np.sum(np.reshape(g, (b, -1)) ** 2, axis=1)) for g in grads)   # Σ_t ‖g_i^t‖ (issue 13)
    return [(_scaled(g, np.minimum(1, c / total)).sum(0) + z) / b for g, z in zip(grads, noise)]


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (_per_tensor, "by its own norm"),
        (_sum_of_norms, "added up the tensors' norms"),
        (_normalised, "only shrinks"),
        (_noise_after_mean, "after averaging"),
        (_no_division, "noisy sum"),
        (lambda g, c, z: [(np.sum(x, 0) + n) / len(x) for x, n in zip(g, z)], "not clipped"),
    ],
)
def test_dp_aggregate_rejects(wrong, hint):
    assert_rejects(checks.dp_aggregate, wrong, hint)


# --- Exercise 3: fgsm ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda x, g, e: np.clip(x - e * np.sign(g), 0, 1), "wrong direction"),
        (lambda x, g, e: np.clip(x + e * g, 0, 1), "sign is missing"),
        (lambda x, g, e: x + e * np.sign(g), "clip the result"),
        (lambda x, g, e: np.clip(x + e * np.sign(g), -1, 1), "not [-1, 1]"),
        (lambda x, g, e: np.clip(x + e * np.where(g >= 0, 1.0, -1.0), 0, 1), "values differ"),
    ],
)
def test_fgsm_rejects(wrong, hint):
    assert_rejects(checks.fgsm, wrong, hint)


# --- Exercise 4: riemann_integrated_gradients ----------------------------------------------------------------

def _path_grads(grad_fn, x, baseline, alphas):
    return np.asarray(grad_fn(baseline[None] + alphas[:, None] * (x - baseline)[None]))


def _trapezoid_weights(m):          # the notebook's section 2.2: m + 1 points, ends weighted 1/2
    weights = np.full(m + 1, 1.0 / m)
    weights[[0, -1]] /= 2
    return weights


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda f, x, b, m: _path_grads(f, x, b, np.arange(1, m + 1) / m).mean(0), "(x − baseline) is missing"),
        (lambda f, x, b, m: x * _path_grads(f, x, b, np.arange(1, m + 1) / m).mean(0), "not by x"),
        (lambda f, x, b, m: (x - b) * _path_grads(f, x, b, np.arange(m) / m).mean(0), "off by one"),
        (lambda f, x, b, m: (x - b) * _path_grads(f, x, b, np.linspace(0, 1, m)).mean(0), "linspace"),
        (lambda f, x, b, m: (x - b) * _path_grads(f, x, b, np.arange(1, m + 1) / m).sum(0), "without dividing"),
        (lambda f, x, b, m: (x - b) * np.asarray(f(np.arange(1, m + 1)[:, None] / m * x[None])).mean(0),
         "start at the baseline"),
        (lambda f, x, b, m: (x - b) * (_trapezoid_weights(m) @ _path_grads(f, x, b, np.linspace(0, 1, m + 1))),
         "section 2.2's trapezoidal rule"),
        (lambda f, x, b, m: (x - b) * _path_grads(f, x, b, (np.arange(m) + 0.5) / m).mean(0), "midpoint rule"),
        (lambda f, x, b, m: (x - b) * _path_grads(f, x, b, np.linspace(0, 1, m + 1)).mean(0), "m + 1 points"),
    ],
)
def test_riemann_integrated_gradients_rejects(wrong, hint):
    assert_rejects(checks.riemann_integrated_gradients, wrong, hint)


def test_an_unrecognised_wrong_list_of_ragged_gradients_is_described_item_by_item():
    """dp_aggregate returns one array per variable (different shapes): a wrong answer the checker
    does not recognise is described by its first wrong item, never blamed on the student's code."""
    def divided_twice(grads, clip_norm, noise):
        batch = grads[0].shape[0]
        norms = np.sqrt(sum((g.reshape(batch, -1) ** 2).sum(1) for g in grads))
        scale = np.minimum(1.0, clip_norm / (norms + 1e-12))
        return [(np.tensordot(scale, g, axes=1) + z) / batch / batch for g, z in zip(grads, noise)]

    result = checks.dp_aggregate.evaluate(divided_twice)
    assert result.status == FAILED and "item [0]: values differ" in result.message, result.message
    assert "raised" not in result.message
