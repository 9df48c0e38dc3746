"""Checkers for the exercises of ``03_backpropagation``.

Usage in the notebook::

    from course_lib import checks_03 as checks
    checks.relu_backward(relu_backward)

Every checker calls the student's function on fresh copies of its inputs (so an in-place change
is caught, never propagated) and compares with a reference written here.
"""

from __future__ import annotations

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
    """Call ``student`` on copies of the array arguments; raise Wrong if it changed one of them."""
    copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    out = student(*copies)
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


# --- Exercise 1: ReLU backward ------------------------------------------------------------------

def _relu_backward(grad_out: np.ndarray, x: np.ndarray) -> np.ndarray:
    return grad_out * (x > 0)


def _relu_cases() -> list[Case]:
    rng = _rng(3)
    cases = []
    for shape in [(4, 6), (7,), (2, 3, 5)]:
        x = rng.normal(size=shape).round(1)  # rounding makes some exact zeros, where the mask matters
        x.flat[::5] = 0.0
        cases.append(Case((rng.normal(size=shape), x)))
    return cases


@EXERCISES.exercise(1, "ReLU backward")
def relu_backward(student: Any) -> str:
    """``relu_backward(grad_out, x)`` -> ∂E/∂x for y = relu(x), given grad_out = ∂E/∂y."""
    _require_callable(student)
    cases = _relu_cases()
    for case in cases:  # in-place changes first: they would also corrupt the comparisons below
        _call_on_copies(student, "relu_backward", ("grad_out", "x"), *case.args)
    mistakes = [
        Mistake(lambda g, x: g * (x >= 0), "at x = 0 use derivative 0, as TensorFlow and PyTorch do: the "
                "mask is (x > 0), not (x >= 0)"),
        Mistake(lambda g, x: g, "you passed grad_out through unchanged: multiply it by ReLU's derivative, "
                "1 where x > 0 and 0 elsewhere"),
        Mistake(lambda g, x: (x > 0).astype(float), "you returned only the local derivative (the mask): "
                "the chain rule multiplies it by the upstream gradient grad_out"),
        Mistake(lambda g, x: g * np.maximum(x, 0), "you multiplied by relu(x); the derivative of relu is "
                "the 0/1 mask (x > 0)"),
        Mistake(lambda g, x: g * (x < 0), "the mask is inverted: the gradient flows where x > 0"),
        Mistake(lambda g, x: np.maximum(g, 0), "you applied ReLU to the gradient: the mask depends on "
                "the forward input x, not on the sign of grad_out"),
    ]
    return compare_with_reference(student, _relu_backward, cases, mistakes, name="relu_backward",
                                  rtol=1e-7, atol=1e-10)


# --- Exercise 2: softmax cross-entropy gradient ------------------------------------------------

def _softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _onehot(labels: np.ndarray, k: int) -> np.ndarray:
    return np.eye(k)[labels]


def _softmax_ce_grad(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return (_softmax(logits) - _onehot(labels, logits.shape[1])) / len(labels)


def _softmax_cases() -> list[Case]:
    rng = _rng(5)
    cases = []
    for batch, k in [(5, 4), (8, 10), (3, 7)]:
        cases.append(Case((rng.normal(scale=2.0, size=(batch, k)), rng.integers(0, k, size=batch))))
    return cases


@EXERCISES.exercise(2, "softmax cross-entropy gradient")
def softmax_ce_grad(student: Any) -> str:
    """``softmax_ce_grad(logits, labels)`` -> ∂E/∂logits of the *mean* cross-entropy over the batch."""
    _require_callable(student)
    cases = _softmax_cases()
    for case in cases:
        _call_on_copies(student, "softmax_ce_grad", ("logits", "labels"), *case.args)

    def onehot_of(z: np.ndarray, y: np.ndarray) -> np.ndarray:
        return _onehot(y, z.shape[1])

    mistakes = [
        Mistake(lambda z, y: _softmax(z) - onehot_of(z, y), "this is the gradient of the *sum* of the "
                "losses: the loss is their mean over the batch, so divide by the batch size"),
        Mistake(lambda z, y: (onehot_of(z, y) - _softmax(z)) / len(y), "the sign is flipped: "
                "∂E/∂logits = (softmax(logits) − onehot) / batch, predicted minus true"),
        Mistake(lambda z, y: _softmax(z) / len(y), "subtract the one-hot labels: "
                "∂E/∂logits = (softmax(logits) − onehot) / batch"),
        Mistake(lambda z, y: (_softmax(z, axis=0) - onehot_of(z, y)) / len(y), "your softmax normalises "
                "over axis 0 (the batch): each row (one example) must sum to 1 over the classes, axis=-1"),
        Mistake(lambda z, y: (_softmax(z) - onehot_of(z, y)) / z.size, "divide by the batch size only "
                "(len(labels)), not by batch × classes: the loss averages over examples"),
        Mistake(lambda z, y: (_softmax(z) - onehot_of(z, y)) / z.shape[1], "divide by the batch size "
                "(len(labels) = logits.shape[0]), not by the number of classes"),
        Mistake(lambda z, y: -onehot_of(z, y) / _softmax(z) / len(y), "that is ∂E/∂p, the gradient "
                "with respect to the probabilities; through the softmax it simplifies to "
                "(softmax(logits) − onehot) / batch"),
    ]
    detail = compare_with_reference(student, _softmax_ce_grad, cases, mistakes, name="softmax_ce_grad",
                                    rtol=1e-7, atol=1e-10)
    # Large logits: exp overflows unless the row maximum is subtracted first.
    logits = _rng(6).normal(size=(4, 5)) * 30.0 + 800.0
    labels = np.array([0, 3, 4, 1])
    with np.errstate(all="ignore"):
        got = _as_array(_call_on_copies(student, "softmax_ce_grad", ("logits", "labels"), logits, labels),
                        "softmax_ce_grad")
    if not np.all(np.isfinite(got)):
        raise Wrong("with large logits (around 800) your result has nan or inf: exp(800) overflows. "
                    "Subtract each row's maximum before exp; softmax does not change")
    if not np.allclose(got, _softmax_ce_grad(logits, labels), rtol=1e-7, atol=1e-10):
        raise Wrong("correct for small logits but not for large ones (around 800): subtract each row's "
                    "maximum before exp, keepdims=True so that it broadcasts over the classes")
    return detail + ", stable for large logits"


# --- Exercise 3: linear layer backward ---------------------------------------------------------

def _linear_backward(grad_out: np.ndarray, x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, ...]:
    return grad_out @ w.T, x.T @ grad_out, grad_out.sum(axis=0)


def _linear_cases() -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    rng = _rng(7)
    cases = []
    # Square shapes first: there a transposed answer has the right shape, and the hint can name it.
    for batch, n_in, n_out in [(4, 4, 4), (6, 4, 4), (5, 3, 4), (2, 7, 3)]:
        cases.append((rng.normal(size=(batch, n_out)), rng.normal(size=(batch, n_in)),
                      rng.normal(size=(n_in, n_out))))
    return cases


_LINEAR_MISTAKES: dict[str, list[tuple[Callable[..., Any], str]]] = {
    "dx": [
        (lambda g, x, w: g @ w, "dx = grad_out @ W.T: transpose W, so that (batch, out) @ (out, in) "
         "gives dx the shape of x"),
        (lambda g, x, w: w @ g.T, "dx must have x's shape (batch, in): dx = grad_out @ W.T"),
        (lambda g, x, w: (g @ w.T) / len(x), "don't divide by the batch size again: grad_out "
         "already carries the 1/batch of the mean loss"),
    ],
    "dW": [
        (lambda g, x, w: g.T @ x, "dW is transposed: it must have W's shape (in, out), "
         "dW = x.T @ grad_out"),
        (lambda g, x, w: x @ g.T, "dW must have W's shape (in, out): dW = x.T @ grad_out "
         "(a sum over the batch of outer products)"),
        (lambda g, x, w: x.T @ g / len(x), "don't divide by the batch size again: grad_out "
         "already carries the 1/batch of the mean loss"),
    ],
    "db": [
        (lambda g, x, w: g.sum(axis=1), "db sums grad_out over the batch, axis 0, giving one value "
         "per output unit"),
        (lambda g, x, w: g.mean(axis=0), "sum over the batch, don't average: the bias is added to "
         "every example, so its gradient collects every example's, and grad_out already has the 1/batch"),
        (lambda g, x, w: g.sum(), "db has one entry per output unit: sum over the batch axis only, "
         "grad_out.sum(axis=0)"),
        (lambda g, x, w: g, "db has one entry per output unit: the bias is shared by the whole batch, "
         "so add its gradients up, grad_out.sum(axis=0)"),
    ],
}


@EXERCISES.exercise(3, "linear layer backward")
def linear_backward(student: Any) -> str:
    """``linear_backward(grad_out, x, W)`` -> ``(dx, dW, db)`` for y = x @ W + b."""
    _require_callable(student)
    cases = _linear_cases()
    for g, x, w in cases:
        call = f"linear_backward(grad_out {g.shape}, x {x.shape}, W {w.shape})"
        try:
            out = _call_on_copies(student, "linear_backward", ("grad_out", "x", "W"), g, x, w)
        except ValueError as err:  # typically a matmul of shapes that do not fit
            raise Wrong(f"{call}: your code raised ValueError ({err}). Match the shapes: grad_out is "
                        "(B, n_out), x is (B, n_in), W is (n_in, n_out), and each gradient has the shape "
                        "of what it is the gradient of") from None
        if not isinstance(out, (tuple, list)) or len(out) != 3:
            got = f"a {type(out).__name__} of length {len(out)}" if isinstance(out, (tuple, list)) else describe(out)
            raise Wrong(f"{call}: return the three gradients as a tuple (dx, dW, db), got {got}")
        expected = _linear_backward(g, x, w)
        for name, got, exp, like in zip(("dx", "dW", "db"), out, expected, ("x", "W", "b")):
            got = _as_array(got, f"{call}, {name}")
            if got.shape == exp.shape and np.allclose(got, exp, rtol=1e-7, atol=1e-10):
                continue
            for fn, hint in _LINEAR_MISTAKES[name]:
                with np.errstate(all="ignore"):
                    try:
                        candidate = np.asarray(fn(g, x, w), dtype=np.float64)
                    except ValueError:  # shapes that do not fit together in this case
                        continue
                if candidate.shape == got.shape and np.allclose(got, candidate, rtol=1e-7, atol=1e-10):
                    raise Wrong(f"{call}: wrong {name} — {hint}")
            if got.shape != exp.shape:
                raise Wrong(f"{call}: {name} must have the shape of {like}, {exp.shape}; got {got.shape}")
            err = np.max(np.abs(got - exp))
            raise Wrong(f"{call}: {name} has the right shape but wrong values (max |difference| {err:.3g})")
    return f"correct on {len(cases)} cases, square and non-square"


# --- Exercise 4: numerical gradient ------------------------------------------------------------

def _test_functions() -> list[tuple[str, Callable[[np.ndarray], float], Callable[[np.ndarray], np.ndarray]]]:
    """(description, f, exact gradient) for smooth functions with third derivatives of size ~1."""
    a = _rng(11).normal(size=(9, 9)) / 3  # for x of shape (3, 3)
    return [
        ("sum(sin(x) * x)", lambda x: float(np.sum(np.sin(x) * x)),
         lambda x: np.sin(x) + x * np.cos(x)),
        ("log(sum(exp(x)))", lambda x: float(np.log(np.sum(np.exp(x)))),
         lambda x: np.exp(x) / np.sum(np.exp(x))),
        ("x.ravel() @ A @ x.ravel() + sum(x**3)",
         lambda x: float(x.ravel() @ a @ x.ravel() + np.sum(x ** 3)),
         lambda x: ((a + a.T) @ x.ravel()).reshape(x.shape) + 3 * x ** 2),
    ]


def _forward_difference(f: Callable[[np.ndarray], float], x: np.ndarray, eps: float) -> np.ndarray:
    grad = np.zeros_like(x)
    base = f(x)
    for i in np.ndindex(x.shape):
        y = x.copy()
        y[i] += eps
        grad[i] = (f(y) - base) / eps
    return grad


@EXERCISES.exercise(4, "numerical gradient by central differences")
def numerical_gradient(student: Any) -> str:
    """``numerical_gradient(f, x, eps)`` -> array shaped like x, by central differences."""
    _require_callable(student)
    rng = _rng(13)
    points = [rng.normal(size=(4,)), rng.normal(size=(2, 3)), rng.normal(size=(3, 3)) * 0.5]
    checked = 0
    for (text, f, exact), x in zip(_test_functions(), points):
        for eps in (1e-4, 1e-5):
            call = f"numerical_gradient(f, x of shape {x.shape}, eps={eps:g}) with f(x) = {text}"
            x_in = x.copy()
            got = student(f, x_in, eps)
            if not np.array_equal(x_in, x):
                raise Wrong(f"{call}: x is not the same after your function ran: restore each entry after "
                            "perturbing it (or perturb a copy)")
            got = _as_array(got, call)
            want = exact(x)
            if got.shape != want.shape:
                if got.size == want.size:
                    raise Wrong(f"{call}: return an array shaped like x, {x.shape}; got {got.shape} "
                                "(reshape, or fill np.zeros_like(x))")
                raise Wrong(f"{call}: perturb one entry at a time and return one partial derivative per "
                            f"entry, an array of shape {x.shape}; got {got.shape}")
            if np.allclose(got, want, rtol=1e-6, atol=1e-7):
                checked += 1
                continue
            if np.allclose(got, 2 * want, rtol=1e-5, atol=1e-6):
                raise Wrong(f"{call}: your values are twice the gradient: the two evaluations are 2·eps "
                            "apart, so divide f(x + eps) − f(x − eps) by 2·eps")
            if np.allclose(got, want / 2, rtol=1e-5, atol=1e-6):
                raise Wrong(f"{call}: your values are half the gradient: divide by 2·eps, i.e. (2 * eps), "
                            "not 2 / eps or / 2 * eps")
            if np.allclose(got, _forward_difference(f, x, eps), rtol=1e-6, atol=1e-9):
                raise Wrong(f"{call}: this is a forward difference (f(x + eps) − f(x)) / eps, whose error "
                            "grows like eps; use central differences (f(x + eps) − f(x − eps)) / (2·eps), "
                            "whose error grows like eps²")
            ones = np.full_like(want, float(np.sum(want)))
            if np.allclose(got, ones, rtol=1e-5, atol=1e-6):
                raise Wrong(f"{call}: you perturbed every entry at once, which measures the sum of the "
                            "partial derivatives: perturb one entry at a time")
            err = np.max(np.abs(got - want))
            raise Wrong(f"{call}: values differ from the exact gradient by up to {err:.3g}")
    return f"correct on {checked} cases (3 functions, 2 steps each)"
