"""Checkers for the exercises of ``03_backpropagation``.

Usage in the notebook::

    from course_lib import checks_03 as checks
    checks.tanh_layer_backward(tanh_layer_backward)

Every checker calls the student's function on fresh copies of its inputs (so an in-place change
is caught, never propagated) and compares with a reference written here.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

import numpy as np

from course_lib.exercises import Case, ExerciseSet, Mistake, Wrong, compare_with_reference, describe

EXERCISES = ExerciseSet("03_backpropagation")
summary = EXERCISES.summary


def _rng(seed: int) -> np.random.Generator:
    """A private generator: checkers never touch the global random state."""
    return np.random.default_rng(seed)


def _require_callable(student: Any) -> None:
    if not callable(student):
        raise Wrong(f"expected a function, got {describe(student)}")


def _call_on_copies(student: Callable[..., Any], name: str, names: tuple[str, ...], *args: Any) -> Any:
    """Call ``student`` on copies of the array arguments; raise Wrong if it changed one of them.

    An exception other than NotImplementedError is left for the comparison that follows to report.
    """
    copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    try:
        out = student(*copies)
    except NotImplementedError:
        raise
    except Exception:  # noqa: BLE001 - reported, with its case, by compare_with_reference
        out = None
    for arg_name, original, copy in zip(names, args, copies):
        if isinstance(original, np.ndarray) and not np.array_equal(original, copy):
            raise Wrong(
                f"{name} changed its argument `{arg_name}` in place: in backpropagation an upstream "
                "gradient or a cached input may be needed again (by another branch of the graph), so "
                "compute a new array instead (e.g. grad_out * mask, not grad_out[...] = 0)"
            )
    return out


def _as_array(value: Any, what: str) -> np.ndarray:
    value = value.numpy() if hasattr(value, "numpy") else value
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise Wrong(f"{what}: expected an array, got {describe(value)}") from None


# --- Exercise 1: a tanh layer's backward pass ---------------------------------------------------

def _tanh_layer_backward(grad_out: np.ndarray, x: np.ndarray, w: np.ndarray,
                         b: np.ndarray) -> tuple[np.ndarray, ...]:
    y = np.tanh(x @ w + b)
    dz = grad_out * (1.0 - y ** 2)
    return dz @ w.T, x.T @ dz, dz.sum(axis=0)


def _tanh_cases() -> list[Case]:
    rng = _rng(3)
    cases = []
    # Square shapes first (a transposed answer has the right shape there), then batch 1, then a
    # large bias that saturates some units (tanh' ≈ 0) and makes ignoring b visible.
    for (batch, n_in, n_out), b_scale in [((4, 4, 4), 0.5), ((6, 3, 5), 0.5), ((1, 5, 2), 1.0),
                                           ((5, 2, 3), 3.0)]:
        cases.append(Case((rng.normal(size=(batch, n_out)), rng.normal(size=(batch, n_in)),
                           rng.normal(size=(n_in, n_out)), rng.normal(scale=b_scale, size=n_out))))
    return cases


def _tanh_with(deriv: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable[..., tuple]:
    """A wrong answer that uses ``deriv(z, y)`` as the local derivative instead of 1 − y²."""
    def wrong(g, x, w, b):
        z = x @ w + b
        dz = g * deriv(z, np.tanh(z))
        return dz @ w.T, x.T @ dz, dz.sum(axis=0)
    return wrong


def _tanh_no_bias(g, x, w, b):
    return _tanh_layer_backward(g, x, w, np.zeros_like(b))


def _tanh_dx_without_derivative(g, x, w, b):
    dx, dw, db = _tanh_layer_backward(g, x, w, b)
    return g @ w.T, dw, db


def _tanh_dw_transposed(g, x, w, b):
    dx, dw, db = _tanh_layer_backward(g, x, w, b)
    z = x @ w + b
    return dx, (g * (1 - np.tanh(z) ** 2)).T @ x, db


def _tanh_db_mean(g, x, w, b):
    dx, dw, db = _tanh_layer_backward(g, x, w, b)
    return dx, dw, db / len(x)


@EXERCISES.exercise(1, "a tanh layer's backward pass")
def tanh_layer_backward(student: Any) -> str:
    """``tanh_layer_backward(grad_out, x, W, b)`` -> ``(dx, dW, db)`` for y = tanh(x @ W + b)."""
    _require_callable(student)
    cases = _tanh_cases()
    for case in cases:
        _call_on_copies(student, "tanh_layer_backward", ("grad_out", "x", "W", "b"), *case.args)
    mistakes = [
        Mistake(_tanh_with(lambda z, y: 1 - z ** 2), "you used 1 − z² with the pre-activation z: tanh'(z) = "
                "1 − tanh(z)², i.e. 1 − y² with the layer's *output* y = tanh(x @ W + b)"),
        Mistake(_tanh_with(lambda z, y: 1 - y), "tanh'(z) = 1 − tanh(z)²: square the output, 1 − y**2"),
        Mistake(_tanh_with(lambda z, y: 1 + y ** 2), "sign: tanh'(z) = 1 − tanh(z)², at most 1"),
        Mistake(_tanh_with(lambda z, y: y * (1 - y)), "y(1 − y) is the *sigmoid's* derivative written with "
                "its output; tanh's is 1 − y²"),
        Mistake(_tanh_with(lambda z, y: np.ones_like(z)), "you left out the activation: multiply grad_out by "
                "tanh'(z) = 1 − y² first (dz = grad_out * (1 − y**2)), then backpropagate dz through the "
                "linear part"),
        Mistake(_tanh_no_bias, "you recomputed z without the bias b: z = x @ W + b, and the "
                "derivative is taken at that z"),
        Mistake(_tanh_dx_without_derivative, "dx must go through the activation too: dx = dz @ W.T with "
                "dz = grad_out * (1 − y²), not grad_out @ W.T"),
        Mistake(_tanh_dw_transposed, "dW is transposed: it must have W's shape (in, out), dW = x.T @ dz"),
        Mistake(_tanh_db_mean, "db sums dz over the batch (axis 0), it does not average: the bias is added "
                "to every example"),
        Mistake(lambda g, x, w, b: tuple(reversed(_tanh_layer_backward(g, x, w, b))),
                "return the gradients in the order (dx, dW, db)"),
    ]
    return compare_with_reference(student, _tanh_layer_backward, cases, mistakes, name="tanh_layer_backward",
                                  rtol=1e-7, atol=1e-10)


# --- Exercise 2: the softmax's own backward pass --------------------------------------------------

def _softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _softmax_backward(grad_out: np.ndarray, p: np.ndarray) -> np.ndarray:
    return p * (grad_out - (grad_out * p).sum(axis=-1, keepdims=True))


def _softmax_cases() -> list[Case]:
    rng = _rng(5)
    cases = []
    # Square first (B == K: a sum without keepdims broadcasts silently), then one row, then
    # rows of very different spread (one nearly one-hot) with a batch larger than K.
    for (batch, k), scale in [((4, 4), 1.0), ((1, 6), 2.0), ((7, 3), 4.0), ((3, 10), 1.5)]:
        p = _softmax(rng.normal(scale=scale, size=(batch, k)))
        cases.append(Case((rng.normal(size=(batch, k)), p)))
    return cases


@EXERCISES.exercise(2, "the softmax's backward pass")
def softmax_backward(student: Any) -> str:
    """``softmax_backward(grad_out, p)`` -> ∂E/∂z for p = softmax(z) along the last axis."""
    _require_callable(student)
    cases = _softmax_cases()
    for case in cases:
        _call_on_copies(student, "softmax_backward", ("grad_out", "p"), *case.args)
    mistakes = [
        Mistake(lambda g, p: g * p * (1 - p), "that keeps only the diagonal of the Jacobian: every output "
                "p_j depends on every input z_k (∂p_j/∂z_k = p_j([j = k] − p_k)), so the off-diagonal terms add "
                "−p_k Σ_j g_j p_j"),
        Mistake(lambda g, p: g * p, "you multiplied by p only: subtract each row's Σ_j g_j p_j before "
                "multiplying, dz = p * (grad_out − sum(grad_out * p, axis=-1, keepdims=True))"),
        Mistake(lambda g, p: p * (g - (g * p).sum(axis=0, keepdims=True)), "the sum Σ_j g_j p_j runs over "
                "the classes of one example (axis -1), not over the batch (axis 0)"),
        Mistake(lambda g, p: p * (g - (g * p).sum(axis=-1)), "use keepdims=True (or [:, None]): without it the "
                "row sums broadcast along the wrong axis, and each row gets another row's sum"),
        Mistake(lambda g, p: p * (g - g.sum(axis=-1, keepdims=True)), "weight the sum by p: it is Σ_j g_j p_j, "
                "not Σ_j g_j"),
        Mistake(lambda g, p: p * (g - (g * p).sum(axis=-1, keepdims=True)) / len(g), "don't divide by the "
                "batch size: grad_out already is ∂E/∂p, and the softmax acts on each row separately"),
        Mistake(lambda g, p: (g - (g * p).sum(axis=-1, keepdims=True)), "multiply by p: "
                "dz = p * (grad_out − Σ_j grad_out_j p_j)"),
    ]
    return compare_with_reference(student, _softmax_backward, cases, mistakes, name="softmax_backward",
                                  rtol=1e-7, atol=1e-10)


# --- Exercise 3: one weight on two paths (tied autoencoder) ---------------------------------------

def _tied_grad(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    z = x @ w
    r = z @ w.T - x
    return (r.T @ z + x.T @ (r @ w)) / len(x)


def _tied_cases() -> list[Case]:
    rng = _rng(7)
    return [Case((rng.normal(size=(b, n)), rng.normal(scale=0.5, size=(n, k))))
            for b, n, k in [(5, 4, 4), (6, 5, 2), (1, 3, 2), (8, 4, 1)]]


@EXERCISES.exercise(3, "one weight on two paths: a tied autoencoder")
def tied_autoencoder_grad(student: Any) -> str:
    """``tied_autoencoder_grad(x, W)`` -> ∂E/∂W for E = mean over the batch of ½‖x W Wᵀ − x‖²."""
    _require_callable(student)
    cases = _tied_cases()
    for case in cases:
        _call_on_copies(student, "tied_autoencoder_grad", ("x", "W"), *case.args)

    def decoder_only(x, w):
        z = x @ w
        return (z @ w.T - x).T @ z / len(x)

    def encoder_only(x, w):
        r = x @ w @ w.T - x
        return x.T @ (r @ w) / len(x)

    mistakes = [
        Mistake(decoder_only, "that is only the decoder's path (W used in x̂ = z Wᵀ): W is also used in the "
                "encoder z = x W, and the chain rule adds both paths: + x.T @ (r @ W) / B"),
        Mistake(encoder_only, "that is only the encoder's path (W used in z = x W): W is also used in the "
                "decoder x̂ = z Wᵀ, and the chain rule adds both paths: + r.T @ z / B"),
        Mistake(lambda x, w: 2 * decoder_only(x, w), "you doubled one path: the two paths give different "
                "terms, r.T @ z (decoder) and x.T @ (r @ W) (encoder); compute both"),
        Mistake(lambda x, w: _tied_grad(x, w) * len(x), "the loss is the mean over the batch: divide by B"),
        Mistake(lambda x, w: 2 * _tied_grad(x, w), "the loss has a factor ½, so ∂E/∂x̂ = (x̂ − x) / B, "
                "without the 2"),
        Mistake(lambda x, w: -_tied_grad(x, w), "the sign is flipped: the residual is r = x̂ − x "
                "(prediction minus target)"),
        Mistake(lambda x, w: _tied_grad(x, w).T, "your gradient is transposed: ∂E/∂W has W's shape (n, k); "
                "check which side each factor goes on (r.T @ z is (n, k), z.T @ r is (k, n))"),
        Mistake(lambda x, w: _tied_grad(x, w) / x.shape[1], "the loss sums over the features and averages "
                "only over the batch: divide by B, not by B × n"),
    ]
    return compare_with_reference(student, _tied_grad, cases, mistakes, name="tied_autoencoder_grad",
                                  rtol=1e-7, atol=1e-10)


# --- Exercise 4: the gradient of L2 weight decay --------------------------------------------------

def _decayed(grads: dict, params: dict, lam: float, *, biases: bool = False, factor: float = 1.0,
             sign: float = 1.0) -> dict:
    return {name: g + sign * factor * lam * params[name] if (biases or np.ndim(params[name]) >= 2) else g
            for name, g in grads.items()}


def _l2_cases() -> list[tuple[dict, dict, float]]:
    rng = _rng(9)
    shapes = {"W1": (3, 4), "b1": (4,), "W2": (4, 2), "b2": (2,)}
    conv = {"kernel": (3, 3, 2, 4), "bias": (4,)}
    cases = []
    for lam, shape_set in [(0.1, shapes), (0.01, conv), (0.0, shapes), (0.5, {}), (1e-4, shapes)]:
        params = {k: rng.normal(size=s) for k, s in shape_set.items()}
        grads = {k: rng.normal(size=s) for k, s in shape_set.items()}
        cases.append((grads, params, lam))
    return cases


def _as_items(value: Any, keys: list[str], call: str) -> list[np.ndarray]:
    if not isinstance(value, dict):
        raise Wrong(f"{call}: return a dict {{name: gradient}} like `grads`, got {describe(value)}")
    if sorted(value) != sorted(keys):
        raise Wrong(f"{call}: return one gradient for every parameter, with the same names: expected the keys "
                    f"{sorted(keys)}, got {sorted(value)}")
    return [_as_array(value[k], f"{call}, {k!r}") for k in keys]


@EXERCISES.exercise(4, "the gradient of L2 weight decay")
def l2_decay_grads(student: Any) -> str:
    """``l2_decay_grads(grads, params, lam)`` -> the gradients of E + (lam/2)·Σ‖W‖² over the kernels."""
    _require_callable(student)
    mistakes = [
        (dict(biases=True), "biases (1-D parameters) are not decayed here: add lam * W only to the kernels, "
         "the parameters with 2 or more dimensions"),
        (dict(factor=0.5), "the derivative of (lam/2)·‖W‖² is lam·W: the ½ cancels the 2 of the square"),
        (dict(factor=2.0), "the penalty is (lam/2)·‖W‖², whose derivative is lam·W, not 2·lam·W"),
        (dict(sign=-1.0), "the sign is flipped: the penalty adds lam·W to the gradient, so that the update "
         "w ← w − η(g + lam·w) shrinks every weight"),
    ]
    checked = 0
    for grads, params, lam in _l2_cases():
        call = (f"l2_decay_grads(grads, params with {sorted(params) or 'no entries'}, lam={lam})")
        g_in, p_in = copy.deepcopy(grads), copy.deepcopy(params)
        out = student(g_in, p_in, lam)
        for what, original, given in (("grads", grads, g_in), ("params", params, p_in)):
            if sorted(original) != sorted(given) or any(not np.array_equal(original[k], given[k]) for k in original):
                raise Wrong(f"{call}: your function changed `{what}` in place; build and return a new dict "
                            "(the optimizer still needs the plain gradients and the weights)")
        keys = list(grads)
        got = _as_items(out, keys, call)
        want = [_decayed(grads, params, lam)[k] for k in keys]
        if all(g.shape == w.shape and np.allclose(g, w, rtol=1e-9, atol=1e-12) for g, w in zip(got, want)):
            checked += 1
            continue
        for kwargs, hint in mistakes:
            wrong = [_decayed(grads, params, lam, **kwargs)[k] for k in keys]
            if all(g.shape == w.shape and np.allclose(g, w, rtol=1e-9, atol=1e-12) for g, w in zip(got, wrong)):
                raise Wrong(f"{call}: {hint}")
        for k, g, w in zip(keys, got, want):
            if g.shape != w.shape:
                raise Wrong(f"{call}: the gradient {k!r} must have the parameter's shape {w.shape}, got {g.shape}")
            if not np.allclose(g, w, rtol=1e-9, atol=1e-12):
                raise Wrong(f"{call}: {k!r} differs from grads[{k!r}] + lam * params[{k!r}]"
                            + (" (for a kernel)" if np.ndim(params[k]) >= 2 else " (a bias: it gets no decay)")
                            + f", max |difference| {np.max(np.abs(g - w)):.3g}")
    return f"correct on {checked} cases (dense and convolution kernels, lam = 0, no parameters)"
