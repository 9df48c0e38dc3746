"""Checkers for the exercises of ``02_neural_networks``.

Usage in the notebook::

    from course_lib import checks_02 as checks
    checks.softmax(softmax)

The references below are the formulas of the chapter, written once more so the checkers can compare
with them; the notebook is where students read them.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from course_lib.exercises import Case, ExerciseSet, Mistake, Wrong, compare_with_reference, describe

EXERCISES = ExerciseSet("02_neural_networks")
summary = EXERCISES.summary


def _rng(seed: int) -> np.random.Generator:
    """A private generator: checkers never touch the global random state."""
    return np.random.default_rng(seed)


def _quiet(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` without NumPy's overflow / invalid-value warnings (for the checker's own mistakes)."""

    def wrapped(*args: Any) -> Any:
        with np.errstate(all="ignore"):
            return fn(*args)

    return wrapped


def _quiet_all(mistakes: list[Mistake]) -> list[Mistake]:
    return [Mistake(_quiet(m.fn), m.hint) for m in mistakes]


def _student_array(student: Callable[..., Any], *args: Any) -> np.ndarray:
    out = student(*args)
    out = out.numpy() if hasattr(out, "numpy") else out
    with np.errstate(all="ignore"):
        return np.asarray(out, dtype=float)


# --- Exercise 1: softmax ---------------------------------------------------------------------

def _softmax(logits: np.ndarray) -> np.ndarray:
    z = np.asarray(logits, dtype=float)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _naive_softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _softmax_axis0(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def _softmax_global(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def _softmax_no_keepdims(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1))
    return e / e.sum(axis=-1)


@EXERCISES.exercise(1, "softmax over the classes of each example")
def softmax(student: Any) -> str:
    """``softmax(logits)``: logits (batch, classes) -> probabilities, each row sums to 1, stable."""
    rng = _rng(2)
    cases = [
        Case((rng.normal(size=(3, 4)),)),
        Case((np.array([[2.0, 1.0, 0.1], [0.0, 0.0, 0.0]]),)),
        Case((rng.normal(scale=3.0, size=(5, 10)),)),
        Case((rng.normal(size=(4, 4)),)),
        Case((np.array([[-3.0, -4.0, -5.0]]),)),  # one example, all logits negative
        Case((np.array([[30.0, 29.0], [-30.0, -31.0], [0.5, 0.5]]),)),  # rows with very different maxima
    ]
    mistakes = [
        Mistake(_softmax_axis0, "the probabilities must sum to 1 over the classes of each example, i.e. along "
                "the last axis (axis=-1); you normalised down the batch (axis=0)"),
        Mistake(_softmax_global, "you normalised over the whole batch at once: sum (and take the max) per "
                "example, along axis=-1 with keepdims=True"),
        Mistake(_softmax_no_keepdims, "reduce with keepdims=True (or add [:, None]): a max/sum of shape "
                "(batch,) does not broadcast against (batch, classes) the way you mean"),
        Mistake(lambda z: np.exp(z), "exponentials are not probabilities yet: divide by their sum over the classes"),
        Mistake(lambda z: z / z.sum(axis=-1, keepdims=True), "exponentiate first: softmax(z)_i = exp(z_i) / sum_j exp(z_j)"),
    ]
    detail = compare_with_reference(student, _softmax, cases, _quiet_all(mistakes), name="softmax")
    # Stability: logits of 1000 overflow np.exp (float64 overflows above ~709, float32 above ~88.7).
    big = np.array([[1000.0, 0.0, -1000.0], [-5.0, 1000.0, 999.0]])
    got = _student_array(student, big)
    if got.shape != big.shape or not np.all(np.isfinite(got)):
        raise Wrong("softmax(logits of 1000): got nan or inf. np.exp(1000) overflows to inf and inf / inf is "
                    "nan; subtract each row's max first (softmax(z - c) = softmax(z)), so the largest "
                    "exponent is exp(0) = 1")
    if not np.allclose(got, _softmax(big), atol=1e-6):
        raise Wrong(f"softmax(logits of 1000): values differ from the expected ones "
                    f"(expected {np.round(_softmax(big), 4).tolist()})")
    negative = np.array([[-1000.0, -1001.0, -1002.0]])
    got = _student_array(student, negative)
    if got.shape != negative.shape or not np.all(np.isfinite(got)) or not np.allclose(got, _softmax(negative), atol=1e-6):
        raise Wrong("softmax([[-1000, -1001, -1002]]): got nan or wrong values. exp(-1000) underflows to 0 and "
                    "0 / 0 is nan; subtracting the row's max (here -1000) makes the largest exponent exp(0) = 1")
    uneven = np.array([[1000.0, 999.0], [0.0, -1.0]])
    got = _student_array(student, uneven)
    if got.shape != uneven.shape or not np.all(np.isfinite(got)) or not np.allclose(got, _softmax(uneven), atol=1e-6):
        raise Wrong("softmax([[1000, 999], [0, -1]]): the second row went wrong. Subtract each row's own max "
                    "(z.max(axis=-1, keepdims=True)), not the max of the whole batch: exp(0 - 1000) "
                    "underflows to 0 and 0 / 0 is nan")
    return detail + " and stable for logits of 1000"


# --- Exercise 2: a dense layer ---------------------------------------------------------------

class _Activation:
    """An elementwise function with a readable name in hints."""

    def __init__(self, name: str, fn: Callable[[np.ndarray], np.ndarray]):
        self.name, self.fn = name, fn

    def __call__(self, z: Any) -> np.ndarray:
        return self.fn(np.asarray(z))

    def __repr__(self) -> str:
        return self.name


RELU = _Activation("relu", lambda z: np.maximum(z, 0.0))
TANH = _Activation("np.tanh", np.tanh)
IDENTITY = _Activation("identity", lambda z: z)


def _dense_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray, activation: Callable) -> np.ndarray:
    return activation(x @ W + b)


@EXERCISES.exercise(2, "the forward pass of a dense layer")
def dense_forward(student: Any) -> str:
    """``dense_forward(x, W, b, activation)``: x (batch, inputs), W (inputs, units), b (units,)."""
    rng = _rng(3)

    def case(batch: int, n_in: int, units: int, activation: _Activation) -> Case:
        return Case((rng.normal(size=(batch, n_in)), rng.normal(size=(n_in, units)),
                     rng.normal(size=units), activation))

    cases = [case(2, 3, 3, IDENTITY), case(4, 4, 4, RELU), case(3, 4, 5, TANH), case(5, 6, 2, RELU),
             case(1, 3, 3, TANH)]
    mistakes = [
        Mistake(lambda x, W, b, f: f(x @ W.T + b), "W has shape (inputs, units) (Keras' kernel layout): "
                "compute x @ W, not x @ W.T (W.T would be PyTorch's (units, inputs) layout)"),
        Mistake(lambda x, W, b, f: f(x @ W), "the bias is missing: add b after the matrix product, "
                "activation(x @ W + b)"),
        Mistake(lambda x, W, b, f: f(x @ W) + b, "add the bias before the activation: activation(x @ W + b), "
                "not activation(x @ W) + b"),
        Mistake(lambda x, W, b, f: x @ W + b, "apply the activation to the weighted sums: activation(x @ W + b)"),
        Mistake(lambda x, W, b, f: f(W @ x.T + b[:, None]), "return one row per example, shape (batch, units): "
                "compute x @ W + b rather than W @ x.T"),
    ]
    return compare_with_reference(student, _dense_forward, cases, _quiet_all(mistakes), name="dense_forward")


# --- Exercise 3: mean squared error ----------------------------------------------------------

def _mse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean((np.asarray(y_true, float) - np.asarray(y_pred, float)) ** 2))


@EXERCISES.exercise(3, "mean squared error")
def mse(student: Any) -> str:
    """``mse(y_true, y_pred)`` -> one float: the mean of the squared differences over every element."""
    rng = _rng(4)
    cases = [
        Case((rng.normal(size=(4, 3)), rng.normal(size=(4, 3)))),
        Case((np.array([1.0, 2.0, 3.0]), np.array([1.5, 2.0, 1.0]))),
        Case((rng.normal(size=(6, 2)), rng.normal(size=(6, 2)))),
        Case((np.zeros((2, 2)), np.zeros((2, 2)))),
        Case((np.array([[2.0, -1.0]]), np.array([[-1.0, 3.0]]))),  # negative values, one row
    ]
    mistakes = [
        Mistake(lambda t, p: float(np.mean(t - p)), "square each difference: positive and negative errors "
                "cancel in a plain mean of (y_true - y_pred)"),
        Mistake(lambda t, p: float(np.mean(np.abs(t - p))), "that is the mean *absolute* error; "
                "MSE squares each difference"),
        Mistake(lambda t, p: float(np.sum((t - p) ** 2)), "take the mean, not the sum, of the squared "
                "differences (a sum grows with the batch size)"),
        Mistake(lambda t, p: float(np.sqrt(np.mean((t - p) ** 2))), "that is the root of the MSE (RMSE); "
                "leave out the square root"),
        Mistake(lambda t, p: float(np.mean(t - p) ** 2), "square each difference *before* averaging: "
                "mean((y_true - y_pred) ** 2), not mean(y_true - y_pred) ** 2"),
        Mistake(lambda t, p: float(0.5 * np.mean((t - p) ** 2)), "you halved it: ½·MSE is a convention some "
                "texts use to tidy the derivative, but Keras' MeanSquaredError has no ½: mean((y_true - y_pred) ** 2)"),
        Mistake(lambda t, p: float(np.mean((t - p) ** 2) / 2), "you halved it: ½·MSE is a convention some "
                "texts use to tidy the derivative, but Keras' MeanSquaredError has no ½: mean((y_true - y_pred) ** 2)"),
        Mistake(lambda t, p: float(np.mean(np.sum((t - p) ** 2, axis=-1))), "you summed over the last axis, "
                "then averaged over the batch: average over every element, mean((y_true - y_pred) ** 2)"),
        Mistake(lambda t, p: np.mean((t - p) ** 2, axis=-1), "return one number: average over every element "
                "(over the batch too), not only along the last axis"),
    ]
    return compare_with_reference(student, _mse, cases, _quiet_all(mistakes), name="mse")


# --- Exercise 4: cross-entropy from logits ---------------------------------------------------

def _log_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    z = np.asarray(z, dtype=float)
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _cross_entropy(labels: np.ndarray, logits: np.ndarray) -> float:
    logp = _log_softmax(logits)
    return float(-np.mean(logp[np.arange(len(labels)), labels]))


def _pick(m: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return m[np.arange(len(labels)), labels]


def _log_softmax_global_shift(z: np.ndarray) -> np.ndarray:
    """The mistake: shifting every row by the whole batch's maximum instead of its own."""
    z = np.asarray(z, dtype=float)
    shifted = z - z.max()
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


@EXERCISES.exercise(4, "cross-entropy from logits, numerically stable")
def cross_entropy(student: Any) -> str:
    """``cross_entropy(labels, logits)`` -> mean over the batch of -log softmax(logits)[label], in nats."""
    rng = _rng(5)
    cases = [
        Case((np.array([0, 2, 1]), rng.uniform(0.5, 3.0, size=(3, 4)))),  # positive logits first
        Case((np.array([1, 0]), np.array([[2.0, 1.0, 0.1], [0.5, -1.0, 3.0]]))),
        Case((rng.integers(0, 10, size=6), rng.normal(scale=2.0, size=(6, 10)))),
        Case((np.array([3, 0, 1, 2]), rng.normal(size=(4, 4)))),
        Case((np.array([2]), np.array([[-2.0, 0.5, -7.0]]))),  # one example, the true class far below the max
        Case((np.array([0, 1]), np.array([[20.0, 0.0], [-800.0, -801.0]]))),  # rows with very different maxima
    ]
    mistakes = [
        Mistake(lambda y, z: float(-np.mean(np.log(_pick(_naive_softmax(np.asarray(z, float)), y)))),
                "softmax first, then the log, underflows: exp(-800) is 0 in float64, 0 / 0 is nan and log 0 is "
                "-inf. Use the log-sum-exp trick: log softmax(z)_y = z_y - m - log(sum_j exp(z_j - m)) with "
                "m = max_j z_j of each row"),
        Mistake(lambda y, z: float(-np.mean(np.log(_pick(z, y)))), "logits are not probabilities: take the "
                "log-softmax of the logits (z_y - logsumexp(z)), not the log of the logits themselves"),
        Mistake(lambda y, z: float(-np.sum(_pick(_log_softmax(z), y))), "average over the examples (Keras' "
                "default reduction), don't sum: a sum grows with the batch size"),
        Mistake(lambda y, z: float(-np.mean(_pick(_log_softmax(z), y)) / np.log(2)), "use the natural log "
                "(np.log): Keras measures cross-entropy in nats; log2 gives bits = nats / ln 2"),
        Mistake(lambda y, z: float(np.mean(_pick(_log_softmax(z), y))), "log-probabilities are negative: the "
                "loss is MINUS the mean log-probability of the true class"),
        Mistake(lambda y, z: float(-np.mean(_log_softmax(z)[:, y])), "log_probs[:, labels] picks a "
                "(batch, batch) block; pick each example's own class with "
                "log_probs[np.arange(len(labels)), labels]"),
        Mistake(lambda y, z: float(-np.mean(_pick(_log_softmax(z, axis=0), y))), "take the softmax over the "
                "classes of each example (axis=-1), not down the batch (axis=0)"),
        Mistake(lambda y, z: float(-np.mean(np.eye(z.shape[1])[y] * _log_softmax(z))), "you averaged over the "
                "classes too: sum -onehot * log p over the classes, then average over the examples"),
        Mistake(lambda y, z: float(-np.mean(_pick(_log_softmax_global_shift(z), y))), "you shifted every row by "
                "the whole batch's maximum: a row whose logits are all far below it underflows to exp(...) = 0 "
                "and log 0 = -inf. Subtract each row's own max, z.max(axis=-1, keepdims=True)"),
    ]
    detail = compare_with_reference(student, _cross_entropy, cases, _quiet_all(mistakes), name="cross_entropy")
    labels = np.array([0, 0, 0])
    big = np.array([[1000.0, 0.0, -1000.0], [0.0, 1000.0, -5.0], [-1000.0, 0.0, 5.0]])
    expected = _cross_entropy(labels, big)  # (0 + 1000 + 1005.0067) / 3
    got = _student_array(student, labels, big)
    if got.shape != () or not np.isfinite(got):
        raise Wrong(f"cross_entropy(labels, logits of 1000): got {got if got.shape == () else describe(got)}, "
                    f"expected {expected:g}. exp(1000) overflows and log(0) is -inf: compute the "
                    "log-probability directly, log softmax(z)_y = z_y - m - log(sum_j exp(z_j - m)) with "
                    "m = max_j z_j (the log-sum-exp trick)")
    capped = [(0 + 2 * -np.log(eps)) / 3 for eps in (1e-7, 1e-12, 1e-15)]
    if any(np.isclose(got, c, rtol=1e-3) for c in capped):
        raise Wrong(f"cross_entropy(labels, logits of 1000): got {float(got):.4g}, expected {expected:g}. "
                    "Clipping the probabilities caps the loss (Keras clips at 1e-7 when from_logits=False); "
                    "compute log-softmax from the logits with the log-sum-exp trick instead")
    if not np.isclose(got, expected, rtol=1e-6):
        raise Wrong(f"cross_entropy(labels, logits of 1000): got {float(got):.6g}, expected {expected:g}")
    return detail + " and stable for logits of 1000"
