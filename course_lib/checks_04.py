"""Checkers for the exercises of ``04_optimization``.

Usage in the notebook::

    from course_lib import checks_04 as checks
    checks.adam_step(adam_step)

The reference implementations below follow Keras 3's ``optimizers/sgd.py`` (momentum, Nesterov),
the Adam paper's Algorithm 1 (Kingma & Ba, 2015) and ``optimizers/schedules.CosineDecay``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from course_lib.exercises import Case, ExerciseSet, Mistake, Wrong, compare_with_reference, describe

EXERCISES = ExerciseSet("04_optimization")
summary = EXERCISES.summary


# --- Exercise 1 ------------------------------------------------------------------------------

def _minibatches(n: int, batch_size: int, seed: int) -> list[np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def _as_batches(got: Any, call: str) -> list[np.ndarray]:
    if isinstance(got, np.ndarray) and got.ndim == 2:
        raise Wrong(f"{call}: returned one 2-D array; return a *list* of 1-D index arrays, so the last "
                    "batch can be smaller than the others")
    try:
        batches = [np.asarray(b) for b in got]
    except TypeError:
        raise Wrong(f"{call}: expected a list of index arrays, got {describe(got)}") from None
    for b in batches:
        if b.ndim != 1:
            raise Wrong(f"{call}: every batch must be a 1-D array of indices, got one of shape {b.shape}")
        if b.size and not np.issubdtype(b.dtype, np.integer):
            raise Wrong(f"{call}: indices must be integers, got a batch of dtype {b.dtype}")
    return batches


@EXERCISES.exercise(1, "one epoch of shuffled mini-batches")
def minibatches(student: Any) -> str:
    """``minibatches(n, batch_size, seed)`` -> list of index arrays: a seeded permutation, cut in order."""
    if not callable(student):
        raise Wrong(f"expected a function, got {describe(student)}")
    cases = [(10, 3, 0), (12, 4, 1), (200, 20, 7), (7, 10, 2), (1197, 128, 3), (5, 1, 4)]
    for n, b, seed in cases:
        call = f"minibatches({n}, {b}, seed={seed})"
        batches = _as_batches(student(n, b, seed), call)
        expected = _minibatches(n, b, seed)
        if len(batches) != len(expected):
            if len(batches) == n // b:
                left = f"{n % b} index" if n % b == 1 else f"{n % b} indices"
                raise Wrong(f"{call}: {len(batches)} batches, expected {len(expected)}: keep the last, smaller "
                            f"batch (here {left}); ceil(n / batch_size) batches in all")
            raise Wrong(f"{call}: {len(batches)} batches, expected ceil({n} / {b}) = {len(expected)}")
        sizes = [len(x) for x in batches]
        if sizes != [len(x) for x in expected]:
            raise Wrong(f"{call}: batch sizes {sizes[:6]}..., expected {b} in every batch except the last "
                        f"({[len(x) for x in expected][-1]})")
        flat = np.concatenate(batches) if batches else np.array([], dtype=int)
        if not np.array_equal(np.sort(flat), np.arange(n)):
            raise Wrong(f"{call}: every index 0 … {n - 1} must appear exactly once per epoch; yours repeats "
                        "some and misses others — shuffle with a permutation, not by sampling with replacement")
        if np.array_equal(flat, np.arange(n)) and n > 2:
            raise Wrong(f"{call}: the indices are in order 0, 1, 2, …: shuffle them first with "
                        "np.random.default_rng(seed).permutation(n)")
        if not all(np.array_equal(x, e) for x, e in zip(batches, expected)):
            raise Wrong(f"{call}: a valid shuffle, but not the one asked for: use "
                        "np.random.default_rng(seed).permutation(n) and cut it in order, batch after batch")
    return f"correct on {len(cases)} cases"


def _check_returns_tuple(student: Any, case: Case, names: str) -> None:
    """Raise Wrong unless ``student`` returns a tuple of as many values as ``names`` lists."""
    if not callable(student):
        raise Wrong(f"expected a function, got {describe(student)}")
    with np.errstate(all="ignore"):
        got = student(*case.args, **case.kwargs)
    count = len(names.split(","))
    if not isinstance(got, (tuple, list)) or len(got) != count:
        raise Wrong(f"return the tuple ({names}) — the new state, not only the new weights; got {describe(got)}")


# --- Exercise 2 ------------------------------------------------------------------------------

def _sgd_momentum_step(w, g, velocity, lr, momentum, nesterov=False):
    w, g, velocity = (np.asarray(a, dtype=float) for a in (w, g, velocity))
    velocity = momentum * velocity - lr * g
    if nesterov:
        return w + momentum * velocity - lr * g, velocity
    return w + velocity, velocity


def _momentum_cases() -> list[Case]:
    rng = np.random.default_rng(404)
    cases = []
    for shape, lr, mu, nesterov in [((3,), 0.1, 0.9, False), ((2, 3), 0.05, 0.5, False),
                                    ((4,), 0.2, 0.9, True), ((3,), 0.01, 0.99, True), ((5,), 0.3, 0.0, False)]:
        w, g, v = rng.normal(size=shape), rng.normal(size=shape), rng.normal(size=shape)
        cases.append(Case((w, g, v, lr, mu), {"nesterov": nesterov}))
    return cases


@EXERCISES.exercise(2, "a momentum step, as keras.optimizers.SGD computes it")
def sgd_momentum_step(student: Any) -> str:
    """``sgd_momentum_step(w, g, velocity, lr, momentum, nesterov=False)`` -> (w, velocity), Keras' convention."""

    def plain(w, g, v, lr, mu, nesterov=False):
        return _sgd_momentum_step(w, g, v, lr, mu, nesterov=False)

    mistakes = [
        Mistake(lambda w, g, v, lr, mu, nesterov=False: (w - mu * v + lr * g, mu * v - lr * g),
                "the weights moved uphill: add the velocity, w + v, where v = momentum * v - lr * g"),
        Mistake(lambda w, g, v, lr, mu, nesterov=False: (w + mu * v + lr * g, mu * v + lr * g),
                "sign: the velocity must point downhill, v = momentum * v - lr * g (minus the gradient)"),
        Mistake(lambda w, g, v, lr, mu, nesterov=False: (w - lr * g, v),
                "you took a plain gradient step and kept the old velocity: first update the velocity, "
                "v = momentum * v - lr * g, then move by it, w + v"),
        Mistake(lambda w, g, v, lr, mu, nesterov=False: (w - lr * g, mu * v - lr * g),
                "the weights ignore the velocity: move by the new velocity, w + v"),
        Mistake(lambda w, g, v, lr, mu, nesterov=False: (w + v, mu * v - lr * g),
                "you moved by the *old* velocity: update v first, then w = w + v with the new one"),
        Mistake(lambda w, g, v, lr, mu, nesterov=False: (w - lr * (mu * v + g), mu * v + g),
                "that is PyTorch's convention (v = momentum * v + g; w -= lr * v): Keras keeps lr inside "
                "the velocity, v = momentum * v - lr * g; w = w + v"),
        Mistake(lambda w, g, v, lr, mu, nesterov=False: (w - lr * (mu * v + (1 - mu) * g), mu * v + (1 - mu) * g),
                "that is a moving *average* of the gradients (the (1 - momentum) factor, as in Adam's m): momentum "
                "*sums* past steps, v = momentum * v - lr * g, so a steady gradient builds up to 1 / (1 - momentum) "
                "times a plain step"),
        Mistake(lambda w, g, v, lr, mu, nesterov=False: (w + mu * v - (1 - mu) * lr * g, mu * v - (1 - mu) * lr * g),
                "drop the (1 - momentum) factor: that makes the velocity a moving average; Keras' momentum is "
                "v = momentum * v - lr * g (a sum that builds up speed)"),
        Mistake(plain, "correct without Nesterov; with nesterov=True, move by momentum * v_new - lr * g "
                "(the new velocity, then one more gradient step)"),
        Mistake(lambda w, g, v, lr, mu, nesterov=False: _sgd_momentum_step(w, g, v, lr, mu, nesterov=True),
                "with nesterov=False the step is the new velocity itself (w + v); the look-ahead "
                "w + momentum * v - lr * g is for nesterov=True only"),
    ]
    cases = _momentum_cases()
    _check_returns_tuple(student, cases[0], "w, velocity")
    return compare_with_reference(student, _sgd_momentum_step, cases, mistakes,
                                  name="sgd_momentum_step", rtol=1e-6, atol=1e-9)


# --- Exercise 3 ------------------------------------------------------------------------------

def _adam(w, g, m, v, t, lr, beta1, beta2, eps, *, correct=True, t_shift=0, eps_inside=False,
          keras_eps=False, old_moments=False, correct_v=True, v_beta=None, abs_g=False, sign=1.0):
    w, g, m, v = (np.asarray(a, dtype=float) for a in (w, g, m, v))
    m_new = beta1 * m + (1 - beta1) * g
    v_new = beta2 * v + (1 - beta2) * (np.abs(g) if abs_g else g**2)
    tt = t + t_shift
    m_hat = m_new / (1 - beta1**tt) if correct else m_new
    v_hat = v_new / (1 - (beta1 if v_beta == "beta1" else beta2)**tt) if (correct and correct_v) else v_new
    if keras_eps:
        step = lr * math.sqrt(1 - beta2**tt) / (1 - beta1**tt) * m_new / (np.sqrt(v_new) + eps)
    elif eps_inside:
        step = lr * m_hat / np.sqrt(v_hat + eps)
    else:
        step = lr * m_hat / (np.sqrt(v_hat) + eps)
    if old_moments:
        return w - step, m, v
    return w - sign * step, m_new, v_new


def _adam_step(w, g, m, v, t, lr, beta1, beta2, eps):
    return _adam(w, g, m, v, t, lr, beta1, beta2, eps)


def _adam_cases() -> list[Case]:
    rng = np.random.default_rng(2015)
    cases = []
    # small gradients and a sizeable eps, so where eps goes makes a visible difference
    for shape, t, lr, b1, b2, eps in [((4,), 3, 0.01, 0.9, 0.999, 1e-3), ((2, 3), 10, 0.1, 0.8, 0.99, 1e-3),
                                      ((5,), 2, 0.05, 0.9, 0.999, 1e-2), ((3,), 1, 0.01, 0.9, 0.999, 1e-3),
                                      ((4,), 100, 0.001, 0.9, 0.999, 1e-4)]:
        w = rng.normal(size=shape)
        g = 0.01 * rng.normal(size=shape)
        m = 0.005 * rng.normal(size=shape) if t > 1 else np.zeros(shape)
        v = 1e-4 * rng.uniform(0.2, 1.0, size=shape) if t > 1 else np.zeros(shape)
        cases.append(Case((w, g, m, v, t, lr, b1, b2, eps)))
    return cases


@EXERCISES.exercise(3, "an Adam step (the paper's Algorithm 1)")
def adam_step(student: Any) -> str:
    """``adam_step(w, g, m, v, t, lr, beta1, beta2, eps)`` -> (w, m, v), bias-corrected, eps outside the root."""

    def variant(hint: str, **kw: Any) -> Mistake:
        return Mistake(lambda *args: _adam(*args, **kw), hint)

    mistakes = [
        variant("no bias correction: divide m by (1 - beta1**t) and v by (1 - beta2**t) before the step",
                correct=False),
        variant("you bias-corrected m but not v: v_hat = v / (1 - beta2**t) too", correct_v=False),
        variant("v is corrected with its own decay: v_hat = v / (1 - beta2**t), not 1 - beta1**t (m uses beta1, "
                "v uses beta2)", v_beta="beta1"),
        variant("v averages the *squared* gradients, g**2, not |g|: sqrt(v_hat) is then a root-mean-square "
                "of g, the size of a typical gradient", abs_g=True),
        variant("the update sign is flipped: Adam moves *against* the gradient, w - lr * m_hat / (sqrt(v_hat) + eps)",
                sign=-1.0),
        variant("off by one: t is already the number of this step (1 for the first); use beta**t, "
                "not beta**(t - 1) — a step counter starting at 0 divides by zero on the first step",
                t_shift=-1),
        variant("off by one: t is already the number of this step (1 for the first); use beta**t, "
                "not beta**(t + 1)", t_shift=1),
        variant("eps inside the square root: the paper adds eps after it, sqrt(v_hat) + eps", eps_inside=True),
        variant("that is Keras' form (eps added to sqrt(v), lr scaled by sqrt(1 - beta2**t) / (1 - beta1**t)); "
                "this exercise asks for Algorithm 1: eps added to sqrt(v_hat)", keras_eps=True),
        variant("the step is right, but return the *updated* m and v (the optimizer's state for the next step)",
                old_moments=True),
        Mistake(lambda w, g, m, v, t, lr, b1, b2, eps: _adam(w, g, m, v, t, lr, 1 - b1, 1 - b2, eps),
                "the averages are weighted the wrong way round: m = beta1 * m + (1 - beta1) * g "
                "(beta1 = 0.9 keeps 90% of the old average)"),
    ]
    cases = _adam_cases()
    _check_returns_tuple(student, cases[0], "w, m, v")
    with np.errstate(all="ignore"):
        return compare_with_reference(student, _adam_step, cases, mistakes, name="adam_step",
                                      rtol=1e-6, atol=1e-10)


# --- Exercise 4 ------------------------------------------------------------------------------

def _cosine(step, peak, warmup, decay, alpha=0.0, *, half=0.5, shift=0, sub_warmup=True, clamp=True,
            floor="keras", total_decay=False, linear=False, int_div=False):
    step = step + shift
    if step < warmup:
        return float(peak * (step // warmup if int_div else step / warmup))
    s = step - warmup if sub_warmup else step
    d = decay - warmup if total_decay else decay
    if clamp:
        s = min(s, d)
    cos = 1 - s / d if linear else half * (1 + math.cos(math.pi * s / d))
    if floor == "keras":
        return float(peak * ((1 - alpha) * cos + alpha))
    if floor == "none":
        return float(peak * cos)
    return float(peak * (cos + alpha))


def _cosine_schedule(step, peak_lr, warmup_steps, decay_steps, alpha=0.0):
    return _cosine(step, peak_lr, warmup_steps, decay_steps, alpha)


@EXERCISES.exercise(4, "warmup + cosine decay with a floor")
def cosine_schedule(student: Any) -> str:
    """``cosine_schedule(step, peak_lr, warmup_steps, decay_steps, alpha=0.0)`` -> float, as Keras' CosineDecay."""
    cases = [Case((s, 0.1, 10, 100, 0.1)) for s in (35, 60, 0, 5, 10, 109, 110, 150, 200)]
    cases += [Case((s, 0.5, 0, 40, 0.0)) for s in (10, 0, 40, 60)]
    cases += [Case((7, 1.0, 20, 80), {"alpha": 0.2}), Case((50, 2e-3, 20, 60, 0.05))]

    def variant(hint: str, **kw: Any) -> Mistake:
        return Mistake(lambda s, p, w, d, a=0.0: _cosine(s, p, w, d, a, **kw), hint)

    mistakes = [
        variant("that is a *linear* decay after the warmup: the cosine schedule uses "
                "0.5 * (1 + cos(pi * progress)), which falls slowly at first and last, fastest in the middle",
                linear=True),
        variant("integer division in the warmup: step // warmup_steps is 0 for every warmup step; use "
                "step / warmup_steps (true division) so that the rate rises linearly", int_div=True),
        variant("missing the factor 0.5: the cosine part is 0.5 * (1 + cos(pi * progress)), which runs from 1 to 0",
                half=1.0),
        variant("off by one: the step is counted from 0 (the optimizer's first update uses step 0); "
                "don't add 1", shift=1),
        variant("off by one: the step is counted from 0; don't subtract 1", shift=-1),
        variant("the cosine must start when the warmup ends: use progress = (step - warmup_steps) / decay_steps",
                sub_warmup=False),
        variant("after warmup_steps + decay_steps the rate must stay at the floor: clamp the progress at "
                "decay_steps (min(step - warmup_steps, decay_steps)), or the cosine climbs back up", clamp=False),
        variant("alpha is the floor as a fraction of peak_lr: peak_lr * (alpha + (1 - alpha) * cosine), so the "
                "rate ends at alpha * peak_lr", floor="add"),
        variant("you ignored alpha: the decay ends at alpha * peak_lr, i.e. peak_lr * (alpha + (1 - alpha) * cosine)",
                floor="none"),
        variant("in Keras, decay_steps counts the steps *after* the warmup (the schedule lasts "
                "warmup_steps + decay_steps); you decayed over decay_steps - warmup_steps (Optax's convention)",
                total_decay=True),
    ]
    return compare_with_reference(student, _cosine_schedule, cases, mistakes, name="cosine_schedule",
                                  rtol=1e-6, atol=1e-12)
