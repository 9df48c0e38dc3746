"""Checkers for the exercises of ``07_attention``.

Usage in the notebook::

    from course_lib import checks_07 as checks
    checks.scaled_dot_product_attention(scaled_dot_product_attention)

Every checker draws its inputs from a local ``np.random.default_rng`` (global random state is never
touched) and recognises the typical mistakes: the softmax over the wrong axis, a missing or wrong
scaling, a mask applied after the softmax or with 0 instead of a large negative number, an
off-by-one or transposed causal mask, and a reshape without transpose.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from course_lib.exercises import Case, ExerciseSet, Mistake, Wrong, compare_with_reference, describe

EXERCISES = ExerciseSet("07_attention")
summary = EXERCISES.summary


def _softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def _no_tuple(student: Callable[..., Any], case: Case, name: str, what: str) -> None:
    """Refuse an answer that returns a tuple, e.g. (output, weights), where one array is expected."""
    if not callable(student):
        raise Wrong(f"expected a function, got {describe(student)}")
    try:
        got = student(*case.args, **case.kwargs)
    except Exception:  # compare_with_reference reports it (or NotAttempted)
        return
    if isinstance(got, (tuple, list)):
        raise Wrong(f"{case.show(name)}: returned a {type(got).__name__} of {len(got)} items; return only {what}")


# --- Exercise 1 ------------------------------------------------------------------------------

def _swap(k: np.ndarray) -> np.ndarray:
    return np.swapaxes(k, -1, -2)


def _sdpa(q: np.ndarray, k: np.ndarray, v: np.ndarray) -> np.ndarray:
    return _softmax(q @ _swap(k) / np.sqrt(q.shape[-1]), axis=-1) @ v


def _sdpa_cases() -> list[Case]:
    rng = np.random.default_rng(7007)
    shapes = [  # (q, k, v): Tq != Tk and d_v != d_k, so a mixed-up axis shows
        ((2, 3, 4), (2, 5, 4), (2, 5, 6)),
        ((3, 5), (4, 5), (4, 2)),
        ((2, 2, 4, 9), (2, 2, 6, 9), (2, 2, 6, 3)),
        ((1, 6, 16), (1, 6, 16), (1, 6, 16)),
    ]
    cases = [Case(tuple(1.5 * rng.standard_normal(s) for s in case)) for case in shapes]
    # rows whose scores differ by ~1000: exp overflows without a shift, and a shift by the whole
    # array's maximum (instead of each row's) underflows the other row to 0/0
    q = np.array([[40.0, 0.0], [-40.0, 0.0]])
    k = np.array([[30.0, 1.0], [29.0, -1.0], [28.0, 0.5]])
    cases.append(Case((q, k, rng.standard_normal((3, 3)))))
    return cases


def _naive_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(z)
        return e / e.sum(axis=axis, keepdims=True)


def _global_shift_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        e = np.exp(z - z.max())
        return e / e.sum(axis=axis, keepdims=True)


@EXERCISES.exercise(1, "scaled dot-product attention, batched")
def scaled_dot_product_attention(student: Any) -> str:
    """``scaled_dot_product_attention(q, k, v)`` -> softmax(q kᵀ / √d_k) v over any leading dims."""
    cases = _sdpa_cases()
    _no_tuple(student, cases[0], "scaled_dot_product_attention", "the output softmax(QKᵀ/√d_k)V")
    mistakes = [
        Mistake(lambda q, k, v: _softmax(q @ _swap(k) / np.sqrt(q.shape[-1]), axis=-2) @ v,
                "the softmax runs over the wrong axis: the scores have shape (..., Tq, Tk) and each query's "
                "weights over the *keys* must sum to 1, so use axis=-1"),
        Mistake(lambda q, k, v: _softmax(q @ _swap(k), axis=-1) @ v,
                "the scores are not scaled: divide QKᵀ by √d_k (np.sqrt(d_k), d_k = q.shape[-1])"),
        Mistake(lambda q, k, v: _softmax(q @ _swap(k) / q.shape[-1], axis=-1) @ v,
                "you divided by d_k: divide by its square root, √d_k = np.sqrt(q.shape[-1])"),
        Mistake(lambda q, k, v: _softmax(q @ _swap(k) * np.sqrt(q.shape[-1]), axis=-1) @ v,
                "you multiplied the scores by √d_k: divide by it"),
        Mistake(lambda q, k, v: _softmax(q @ _swap(k) / np.sqrt(v.shape[-1]), axis=-1) @ v,
                "scale by √d_k, the depth of the queries and keys (q.shape[-1]), not of the values"),
        Mistake(lambda q, k, v: _softmax(q @ _swap(k) / np.sqrt(q.shape[-1]), axis=-1),
                "you returned the weights: multiply them by the values, weights @ v"),
        Mistake(lambda q, k, v: _softmax(q @ _swap(k) / np.sqrt(q.shape[-1]), axis=0) @ v,
                "the softmax runs over axis 0, the batch (or the queries of a 2-D input): each query's weights "
                "over the keys, the last axis, must sum to 1"),
        Mistake(lambda q, k, v: _softmax(q @ _swap(k) / np.sqrt(q.shape[-1]), axis=-1) @ k,
                "multiply the weights by the values v, not the keys: the output has the values' width d_v"),
        Mistake(lambda q, k, v: _naive_softmax(q @ _swap(k) / np.sqrt(q.shape[-1])) @ v,
                "large scores overflow exp (inf/inf = NaN): subtract each row's maximum before exp, "
                "z - z.max(axis=-1, keepdims=True), which changes nothing mathematically"),
        Mistake(lambda q, k, v: _global_shift_softmax(q @ _swap(k) / np.sqrt(q.shape[-1])) @ v,
                "you subtracted the maximum of the whole array: a row whose scores are far below it underflows "
                "to 0/0 = NaN. Subtract each row's own maximum, z.max(axis=-1, keepdims=True)"),
    ]
    _only_unbatched(student, cases)
    return compare_with_reference(student, _sdpa, cases, mistakes, name="scaled_dot_product_attention")


def _only_unbatched(student: Callable[..., Any], cases: list[Case]) -> None:
    """Recognise an answer that works on 2-D arrays but fails on batches (typically ``k.T``)."""
    flat, batched = cases[1], cases[0]
    try:
        ok_flat = np.allclose(np.asarray(student(*flat.args), dtype=float), _sdpa(*flat.args))
    except Exception:
        return
    try:
        student(*batched.args)
    except NotImplementedError:
        return
    except Exception as err:
        if ok_flat:
            raise Wrong(f"{batched.show('scaled_dot_product_attention')}: correct on 2-D arrays, but it raised "
                        f"{type(err).__name__} on a batch. `k.T` reverses *all* axes of a 3-D array: transpose "
                        "only the last two, np.swapaxes(k, -1, -2)") from None


# --- Exercise 2 ------------------------------------------------------------------------------

def _masked_softmax(scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return _softmax(np.where(mask, scores, -1e9), axis=-1)


def _causal(n: int) -> np.ndarray:
    return np.arange(n)[:, None] >= np.arange(n)[None, :]


def _mask_cases() -> list[Case]:
    rng = np.random.default_rng(7002)
    padding = np.array([[True] * 5, [True, True, True, False, False]])[:, None, :]  # (2, 1, 5)
    heads = rng.random((2, 1, 4, 4)) < 0.6
    heads[..., 0] = True  # every query keeps at least one key
    return [
        Case((2.0 * rng.standard_normal((2, 3, 5)), padding)),
        Case((2.0 * rng.standard_normal((4, 4)), _causal(4))),
        Case((2.0 * rng.standard_normal((2, 3, 4, 4)), heads)),
        Case((2.0 * rng.standard_normal((1, 6, 6)), _causal(6))),
        # rows ~1000 apart: a shift by the whole array's maximum underflows the lower row to 0/0
        Case((np.array([[[900.0, 901.0, 899.0], [-900.0, -899.0, -901.0]]]), np.array([True, True, False]))),
    ]


@EXERCISES.exercise(2, "masked softmax")
def masked_softmax(student: Any) -> str:
    """``masked_softmax(scores, mask)`` -> softmax over the keys, exactly 0 where ``mask`` is False."""
    cases = _mask_cases()
    _no_tuple(student, cases[0], "masked_softmax", "the weights")
    mistakes = [
        Mistake(lambda s, m: _softmax(s, axis=-1) * m,
                "you masked after the softmax: the remaining weights no longer sum to 1. Replace the masked "
                "*scores* by a large negative number (e.g. -1e9) before the softmax"),
        Mistake(lambda s, m: _softmax(np.where(m, s, 0.0), axis=-1),
                "masked scores set to 0 still get weight (e⁰ = 1 is not small): use a large negative number "
                "such as -1e9, whose exponential is 0"),
        Mistake(lambda s, m: _softmax(s + m * -1e9, axis=-1),
                "your mask is inverted: True means 'may attend' (Keras' convention), so add the large negative "
                "number where the mask is False, e.g. np.where(mask, scores, -1e9)"),
        Mistake(lambda s, m: _softmax(np.where(m, -1e9, s), axis=-1),
                "your mask is inverted: True means 'may attend' (Keras' convention), so keep the scores where "
                "the mask is True and replace them where it is False"),
        Mistake(lambda s, m: _softmax(np.where(m, s, -1e9), axis=-2),
                "the softmax runs over the wrong axis: each query's weights over the keys (the last axis) "
                "must sum to 1"),
        Mistake(lambda s, m: _softmax(s, axis=-1),
                "the mask is not applied: where it is False the weight must be 0"),
        Mistake(lambda s, m: _softmax(np.where(m, s, -1e9), axis=0),
                "the softmax runs over axis 0, the batch (or the queries of a 2-D input): each query's weights "
                "over the keys, the last axis, must sum to 1"),
        Mistake(lambda s, m: _naive_softmax(np.where(m, s, -1e9)),
                "large scores overflow exp (inf/inf = NaN): subtract each row's maximum before exp"),
        Mistake(lambda s, m: _global_shift_softmax(np.where(m, s, -1e9)),
                "you subtracted the maximum of the whole array: a row whose scores are far below it underflows "
                "to 0/0 = NaN. Subtract each row's own maximum, z.max(axis=-1, keepdims=True)"),
    ]
    detail = compare_with_reference(student, _masked_softmax, cases, mistakes, name="masked_softmax")
    for case in cases:
        scores, mask = case.args
        got = np.asarray(student(scores, mask), dtype=float)
        leak = np.max(np.where(np.broadcast_to(mask, scores.shape), 0.0, np.abs(got)))
        if leak > 0.0:
            raise Wrong(f"{case.show('masked_softmax')}: masked weights are {leak:.2g}, not exactly 0: use a "
                        "larger negative number, such as -1e9 (or -np.inf), for the masked scores")
    return detail + ", masked weights exactly 0"


# --- Exercise 3 ------------------------------------------------------------------------------

@EXERCISES.exercise(3, "the causal mask")
def causal_mask(student: Any) -> str:
    """``causal_mask(n)`` -> (n, n) bool, True where key j <= query i."""
    cases = [Case((4,)), Case((1,)), Case((7,)), Case((2,)), Case((0,))]
    mistakes = [
        Mistake(lambda n: np.tril(np.ones((n, n), bool), k=-1),
                "the diagonal is missing: a position may attend to itself (j <= i, not j < i)"),
        Mistake(lambda n: np.tril(np.ones((n, n), bool), k=1),
                "off by one: your mask lets query i see key i + 1, one step into the future; use j <= i"),
        Mistake(lambda n: np.triu(np.ones((n, n), bool)),
                "your mask is transposed: rows are queries and columns keys, so row i must be True for "
                "columns j <= i (lower-triangular, np.tril)"),
        Mistake(lambda n: np.triu(np.ones((n, n), bool), k=1),
                "your mask is inverted: True must mean 'may attend' (the past and the present), not 'hidden'"),
    ]
    return compare_with_reference(student, _causal, cases, mistakes, name="causal_mask")


# --- Exercise 4 ------------------------------------------------------------------------------

def _split_heads(x: np.ndarray, num_heads: int) -> np.ndarray:
    b, t, e = x.shape
    if e % num_heads:
        raise ValueError(f"d_model {e} is not divisible by {num_heads} heads")
    return x.reshape(b, t, num_heads, e // num_heads).transpose(0, 2, 1, 3)


def _split_cases() -> list[Case]:
    rng = np.random.default_rng(7004)
    shapes = [((2, 5, 12), 3), ((1, 7, 8), 2), ((3, 4, 6), 6), ((2, 3, 4), 1), ((1, 3, 10), 4)]
    return [Case((rng.standard_normal(s), h)) for s, h in shapes]


@EXERCISES.exercise(4, "split heads")
def split_heads(student: Any) -> str:
    """``split_heads(x, num_heads)`` -> (batch, heads, T, d); ValueError when d_model % heads != 0."""
    def per_head(fn: Callable[[np.ndarray, int, int, int, int], np.ndarray]) -> Callable[[np.ndarray, int], np.ndarray]:
        def wrapped(x: np.ndarray, h: int) -> np.ndarray:
            b, t, e = x.shape
            if e % h:
                raise ValueError("not divisible")
            return fn(x, b, t, h, e // h)
        return wrapped

    mistakes = [
        Mistake(per_head(lambda x, b, t, h, d: x.reshape(b, h, t, d)),
                "a reshape alone to (batch, heads, T, d) mixes positions and features: reshape to "
                "(batch, T, heads, d) first, then swap axes 1 and 2 (transpose(0, 2, 1, 3))"),
        Mistake(per_head(lambda x, b, t, h, d: x.reshape(b, t, h, d)),
                "the head axis must come before time: transpose (batch, T, heads, d) to (batch, heads, T, d)"),
        Mistake(per_head(lambda x, b, t, h, d: x.reshape(b, t, d, h).transpose(0, 3, 1, 2)),
                "head i must hold the consecutive features [i·d, (i+1)·d): reshape to (batch, T, heads, d), "
                "not (batch, T, d, heads)"),
        Mistake(per_head(lambda x, b, t, h, d: x.reshape(b, t, h, d).transpose(0, 2, 3, 1)),
                "the last two axes are swapped: the result must be (batch, heads, T, d), transpose(0, 2, 1, 3)"),
    ]
    return compare_with_reference(student, _split_heads, _split_cases(), mistakes, name="split_heads")
