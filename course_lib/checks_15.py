"""Checkers for the exercises of ``15_responsible_ai``.

Usage in the notebook::

    from course_lib import checks_15 as checks
    checks.demographic_parity_difference(demographic_parity_difference)
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from course_lib.exercises import Case, ExerciseSet, Mistake, compare_with_reference

EXERCISES = ExerciseSet("15_responsible_ai")
summary = EXERCISES.summary


# --- Exercise 1 ------------------------------------------------------------------------------

def _rates(y_pred: Any, groups: Any) -> tuple[np.ndarray, np.ndarray]:
    y_pred, groups = np.asarray(y_pred, dtype=float), np.asarray(groups)
    names = np.unique(groups)
    return names, np.array([y_pred[groups == g].mean() for g in names])


def _dp_difference(y_pred: Any, groups: Any) -> float:
    _, rates = _rates(y_pred, groups)
    return float(rates.max() - rates.min())


def _dp_signed(y_pred: Any, groups: Any) -> float:
    _, rates = _rates(y_pred, groups)
    return float(rates[1] - rates[0])


def _dp_signed_reversed(y_pred: Any, groups: Any) -> float:
    return -_dp_signed(y_pred, groups)


def _dp_first_two(y_pred: Any, groups: Any) -> float:
    _, rates = _rates(y_pred, groups)
    return float(abs(rates[1] - rates[0]))


def _dp_counts(y_pred: Any, groups: Any) -> Any:
    y_pred, groups = np.asarray(y_pred), np.asarray(groups)
    counts = [y_pred[groups == g].sum() for g in np.unique(groups)]
    return max(counts) - min(counts)


def _dp_over_all(y_pred: Any, groups: Any) -> float:
    y_pred, groups = np.asarray(y_pred, dtype=float), np.asarray(groups)
    shares = [y_pred[groups == g].sum() / len(y_pred) for g in np.unique(groups)]
    return float(max(shares) - min(shares))


def _dp_wrong_condition(y_pred: Any, groups: Any) -> float:
    y_pred, groups = np.asarray(y_pred), np.asarray(groups)
    chosen = groups[y_pred == 1]
    shares = [np.mean(chosen == g) for g in np.unique(groups)]
    return float(max(shares) - min(shares))


def _dp_vs_overall(y_pred: Any, groups: Any) -> float:
    _, rates = _rates(y_pred, groups)
    return float(np.abs(rates - np.mean(np.asarray(y_pred, dtype=float))).max())


def _dp_cases() -> list[Case]:
    rng = np.random.default_rng(1515)   # a local generator: the student's global state is untouched
    cases = [Case((np.array([1, 0, 1, 1, 0, 0, 1, 0]), np.array([0, 0, 0, 0, 1, 1, 1, 1])))]
    # group 1 selected more often than group 0 (a signed difference would be positive) ...
    cases.append(Case((np.array([0, 0, 1, 0, 1, 1, 1, 0, 1]), np.array([0, 0, 0, 0, 1, 1, 1, 1, 1]))))
    for n, k, p in [(40, 2, (0.7, 0.3)), (60, 3, (0.2, 0.5, 0.9)), (80, 4, (0.5, 0.1, 0.6, 0.3))]:
        groups = rng.integers(0, k, size=n)
        y_pred = (rng.random(n) < np.asarray(p)[groups]).astype(np.int64)
        cases.append(Case((y_pred, groups)))
    labels = np.array(["a", "b", "c"])[rng.integers(0, 3, size=30)]
    cases.append(Case(((rng.random(30) < 0.5).astype(np.int64), labels)))
    return cases


@EXERCISES.exercise(1, "demographic parity difference over any number of groups")
def demographic_parity_difference(student: Any) -> str:
    """``demographic_parity_difference(y_pred, groups)`` -> max minus min selection rate P(ŷ=1 | group)."""
    mistakes = [
        Mistake(_dp_signed, "a gap is a size, never negative: take the largest rate minus the smallest "
                "(for two groups, the absolute value of the difference)"),
        Mistake(_dp_signed_reversed, "a gap is a size, never negative: take the largest rate minus the "
                "smallest (for two groups, the absolute value of the difference)"),
        Mistake(_dp_counts, "you compared *counts* of positive predictions: divide by each group's size "
                "to get rates, P(ŷ = 1 | group) — a bigger group has more positives at the same rate"),
        Mistake(_dp_over_all, "you divided each group's positives by *all* examples: the selection rate "
                "of a group is its positives divided by the group's own size"),
        Mistake(_dp_wrong_condition, "you computed P(group | ŷ = 1), the share of each group among the "
                "selected: demographic parity compares P(ŷ = 1 | group), the rate at which each group is selected"),
        Mistake(_dp_first_two, "only the first two groups are compared: with more groups, the gap is the "
                "largest selection rate minus the smallest"),
        Mistake(_dp_vs_overall, "you measured each group against the overall rate: the gap is between "
                "groups, the largest selection rate minus the smallest"),
    ]
    return compare_with_reference(student, _dp_difference, _dp_cases(), mistakes,
                                  name="demographic_parity_difference")


# --- Exercise 2 ------------------------------------------------------------------------------

def _norms(grads: Any) -> np.ndarray:
    return np.sqrt(sum(np.sum(np.reshape(g, (len(g), -1)) ** 2, axis=1) for g in grads))


def _scale_each(grads: Any, scale: np.ndarray) -> list[np.ndarray]:
    return [np.asarray(g) * scale.reshape((-1,) + (1,) * (np.ndim(g) - 1)) for g in grads]


def _dp_aggregate(per_example_grads: Any, clip_norm: float, noise: Any, *, clip: str = "global",
                  noise_scale: str = "batch", batch_scale: bool = True) -> list[np.ndarray]:
    grads = [np.asarray(g, dtype=float) for g in per_example_grads]
    b = len(grads[0])
    if clip == "global":
        clipped = _scale_each(grads, np.minimum(1.0, clip_norm / np.maximum(_norms(grads), 1e-12)))
    elif clip == "normalise":
        clipped = _scale_each(grads, clip_norm / np.maximum(_norms(grads), 1e-12))
    elif clip == "sum_of_norms":  # ‖gᵢ‖ taken as the sum of the tensors' norms, not the norm of the whole
        total = sum(_norms([g]) for g in grads)
        clipped = _scale_each(grads, np.minimum(1.0, clip_norm / np.maximum(total, 1e-12)))
    elif clip == "tensor":
        clipped = [_scale_each([g], np.minimum(1.0, clip_norm / np.maximum(_norms([g]), 1e-12)))[0] for g in grads]
    else:
        clipped = grads
    sums = [c.sum(axis=0) for c in clipped]
    if clip == "sum":
        total = np.sqrt(sum(np.sum(s ** 2) for s in sums))
        sums = [s * min(1.0, clip_norm / max(total, 1e-12)) for s in sums]
    out = []
    for s, z in zip(sums, noise):
        z = np.asarray(z, dtype=float)
        if noise_scale == "none":
            z = 0 * z
        if not batch_scale:
            out.append(s + z)
        elif noise_scale == "unscaled":
            out.append(s / b + z)
        else:
            out.append((s + z) / b)
    return out


def _dp_aggregate_cases() -> list[Case]:
    rng = np.random.default_rng(2016)
    cases = []
    for b, shapes, clip_norm in [(4, [(3, 2), (2,)], 1.0), (6, [(4,), (2, 3), (3,)], 0.5),
                                 (3, [(5, 2)], 2.0), (8, [(2, 2, 2), (4,)], 1.5)]:
        scales = rng.uniform(0.2, 3.0, size=b)    # some examples inside the clip ball, some outside
        grads = [rng.normal(size=(b, *s)) * scales.reshape((-1,) + (1,) * len(s)) / np.sqrt(np.prod(s))
                 for s in shapes]
        noise = [rng.normal(scale=clip_norm, size=s) for s in shapes]
        cases.append(Case((grads, clip_norm, noise)))
    return cases


@EXERCISES.exercise(2, "the DP-SGD gradient: clip each example, add noise, average")
def dp_aggregate(student: Any) -> str:
    """``dp_aggregate(per_example_grads, clip_norm, noise)`` -> [(Σᵢ clip(gᵢ) + noise) / B per tensor]."""
    mistakes = [
        Mistake(lambda g, c, z: _dp_aggregate(g, c, z, clip="tensor"),
                "you clipped each tensor by its own norm: clip an example's gradient as a whole, by the norm "
                "over *all* its tensors, ‖gᵢ‖ = sqrt(Σ over tensors of Σ gᵢ²) — that whole vector is what "
                "one example can change, so that is what the sensitivity bound C is about"),
        Mistake(lambda g, c, z: _dp_aggregate(g, c, z, clip="sum_of_norms"),
                "you added up the tensors' norms: an example's norm is the global norm over all its tensors, "
                "sqrt(Σ over tensors of Σ gᵢ²), not Σ over tensors of ‖gᵢ‖ (which is larger, so you clipped "
                "too much)"),
        Mistake(lambda g, c, z: _dp_aggregate(g, c, z, clip="normalise"),
                "you rescaled every example to norm C: clipping only shrinks gradients longer than C, "
                "scale = min(1, C / ‖gᵢ‖)"),
        Mistake(lambda g, c, z: _dp_aggregate(g, c, z, clip="sum"),
                "you clipped the summed (batch) gradient: DP-SGD clips each example's gradient *before* "
                "summing, so that no single example can move the sum by more than C"),
        Mistake(lambda g, c, z: _dp_aggregate(g, c, z, clip="none"),
                "the gradients were not clipped: scale example i by min(1, C / ‖gᵢ‖) before summing"),
        Mistake(lambda g, c, z: _dp_aggregate(g, c, z, noise_scale="unscaled"),
                "the noise is added after averaging: add it to the *sum* of clipped gradients, then divide "
                "both by B (the noise is calibrated to the sum's sensitivity C)"),
        Mistake(lambda g, c, z: _dp_aggregate(g, c, z, batch_scale=False),
                "you returned the noisy sum: divide it by the batch size B to get an average gradient"),
        Mistake(lambda g, c, z: _dp_aggregate(g, c, z, noise_scale="none"),
                "the noise is missing: add the given noise arrays to the sum of clipped gradients"),
    ]
    return compare_with_reference(student, _dp_aggregate, _dp_aggregate_cases(), mistakes, name="dp_aggregate")


# --- Exercise 3 ------------------------------------------------------------------------------

def _fgsm(x: Any, grad: Any, epsilon: float) -> np.ndarray:
    return np.clip(np.asarray(x, dtype=float) + epsilon * np.sign(grad), 0.0, 1.0)


def _fgsm_cases() -> list[Case]:
    rng = np.random.default_rng(2014)
    cases = []
    for shape, eps in [((8,), 0.1), ((4, 6), 0.25), ((3, 8, 8), 0.05), ((64,), 0.3)]:
        x = rng.random(shape)
        x.flat[:3] = [0.0, 1.0, 0.02]             # pixels at the edges of [0, 1]: clipping matters
        grad = rng.normal(scale=1e-2, size=shape)
        grad.flat[3] = 0.0                        # sign(0) = 0: the pixel does not move
        grad.flat[:3] = [-1e-3, 2e-3, -5e-3]       # pushes the edge pixels out of range
        cases.append(Case((x, grad, eps)))
    return cases


@EXERCISES.exercise(3, "the fast gradient sign method")
def fgsm(student: Any) -> str:
    """``fgsm(x, grad, epsilon)`` -> clip(x + ε·sign(grad), 0, 1), grad = ∂loss/∂x."""
    mistakes = [
        Mistake(lambda x, g, e: np.clip(x - e * np.sign(g), 0, 1),
                "wrong direction: the attack *raises* the loss, so step along +sign(∂loss/∂x) "
                "(subtracting is a gradient-descent step, which makes the model more sure of the right answer)"),
        Mistake(lambda x, g, e: np.clip(x + e * np.asarray(g), 0, 1),
                "the sign is missing: FGSM moves every pixel by exactly ε, x + ε·sign(grad); "
                "the raw gradient is tiny, so the image barely changes"),
        Mistake(lambda x, g, e: np.asarray(x) + e * np.sign(g),
                "clip the result to [0, 1]: an adversarial image must still be a valid image"),
        Mistake(lambda x, g, e: np.clip(x + e * np.asarray(g) / np.linalg.norm(g), 0, 1),
                "that is the L2 'fast gradient method': FGSM takes the sign of each gradient entry "
                "(the steepest step under a max-norm budget ε)"),
        Mistake(lambda x, g, e: np.clip(x + e * np.sign(g), -1, 1),
                "the pixels live in [0, 1]: clip to that range, not [-1, 1]"),
    ]
    return compare_with_reference(student, _fgsm, _fgsm_cases(), mistakes, name="fgsm")


# --- Exercise 4 ------------------------------------------------------------------------------

class _GradOfF:
    """∇f for f(x) = Σ a·x² + Σ b·sin(c·x): elementwise, so it accepts points of any shape."""

    def __init__(self, a: np.ndarray, b: np.ndarray, c: float):
        self.a, self.b, self.c = a, b, c

    def __call__(self, points: Any) -> np.ndarray:
        points = np.asarray(points, dtype=float)
        return 2 * self.a * points + self.b * self.c * np.cos(self.c * points)

    def __repr__(self) -> str:
        return "grad_fn"


def _ig(grad_fn: Callable[..., Any], x: Any, baseline: Any, steps: int, *,
        alphas: str = "right", factor: str = "diff", mean: bool = True) -> np.ndarray:
    x, baseline = np.asarray(x, dtype=float), np.asarray(baseline, dtype=float)
    k = np.arange(1, steps + 1) if alphas == "right" else np.arange(steps)
    a = k / steps if alphas != "linspace" else np.linspace(0.0, 1.0, steps)
    weights = None
    if alphas == "midpoint":
        a = (np.arange(1, steps + 1) - 0.5) / steps
    elif alphas in ("trapezoid", "ends_mean"):           # m + 1 points, both ends included
        a = np.linspace(0.0, 1.0, steps + 1)
        if alphas == "trapezoid":
            weights = np.full(steps + 1, 1.0)
            weights[[0, -1]] = 0.5
    start = baseline if alphas != "from_zero" else np.zeros_like(x)
    if alphas == "from_zero":
        a = np.arange(1, steps + 1) / steps
        points = a[:, None] * x[None]
    else:
        points = start[None] + a[:, None] * (x - start)[None]
    grads = np.asarray(grad_fn(points))
    if weights is not None:
        avg = weights @ grads / steps
    else:
        avg = grads.mean(axis=0) if mean else grads.sum(axis=0)
    if factor == "diff":
        return (x - baseline) * avg
    if factor == "x":
        return x * avg
    return avg


def _ig_cases() -> list[Case]:
    rng = np.random.default_rng(2017)
    cases = []
    for d, steps, zero_baseline in [(5, 4, True), (6, 7, False), (3, 20, False), (8, 3, False)]:
        grad_fn = _GradOfF(rng.uniform(-1, 1, size=d), rng.uniform(-2, 2, size=d), 1.7)
        x = rng.uniform(-1, 2, size=d)
        baseline = np.zeros(d) if zero_baseline else rng.uniform(-1, 1, size=d)
        cases.append(Case((grad_fn, x, baseline, steps)))
    return cases


@EXERCISES.exercise(4, "integrated gradients as a Riemann sum")
def riemann_integrated_gradients(student: Any) -> str:
    """``riemann_integrated_gradients(grad_fn, x, baseline, steps)`` -> (x − x')·(1/m)·Σₖ₌₁..ₘ ∇f(x' + (k/m)(x − x'))."""
    mistakes = [
        Mistake(lambda g, x, b, m: _ig(g, x, b, m, factor="none"),
                "the factor (x − baseline) is missing: you returned the average gradient along the path; "
                "multiply it by (x − baseline), elementwise, so the attributions add up to f(x) − f(baseline)"),
        Mistake(lambda g, x, b, m: _ig(g, x, b, m, factor="x"),
                "multiply by (x − baseline), not by x: the two agree only for a zero baseline"),
        Mistake(lambda g, x, b, m: _ig(g, x, b, m, alphas="left"),
                "off by one step: use α = k/m for k = 1, …, m (the right Riemann sum, ending at x itself); "
                "you used k = 0, …, m − 1, which starts at the baseline and never reaches x"),
        Mistake(lambda g, x, b, m: _ig(g, x, b, m, alphas="linspace"),
                "np.linspace(0, 1, m) puts m points at spacing 1/(m − 1), both ends included: use α = k/m "
                "for k = 1, …, m"),
        Mistake(lambda g, x, b, m: _ig(g, x, b, m, alphas="from_zero"),
                "the path must start at the baseline: the points are baseline + α·(x − baseline), not α·x"),
        Mistake(lambda g, x, b, m: _ig(g, x, b, m, alphas="trapezoid"),
                "that is section 2.2's trapezoidal rule (m + 1 points, the two ends weighted 1/2); this "
                "exercise asks for the right Riemann sum: α = k/m for k = 1, …, m, each weighted 1/m"),
        Mistake(lambda g, x, b, m: _ig(g, x, b, m, alphas="midpoint"),
                "that is the midpoint rule (α = (k − ½)/m); this exercise asks for the right Riemann sum: "
                "α = k/m for k = 1, …, m"),
        Mistake(lambda g, x, b, m: _ig(g, x, b, m, alphas="ends_mean"),
                "you averaged m + 1 points, from the baseline to x: the right Riemann sum uses m points, "
                "α = k/m for k = 1, …, m (the baseline itself is not one of them)"),
        Mistake(lambda g, x, b, m: _ig(g, x, b, m, mean=False),
                "you summed the m gradients without dividing by m: the integral over α ∈ [0, 1] is the "
                "*average* gradient along the path"),
    ]
    return compare_with_reference(student, _ig, _ig_cases(), mistakes, name="riemann_integrated_gradients")
