"""Checkers for the exercises of ``08_transformer``.

Usage in the notebook::

    from course_lib import checks_08 as checks
    checks.shift_right(shift_right)
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from course_lib.exercises import Case, ExerciseSet, Mistake, compare_with_reference

EXERCISES = ExerciseSet("08_transformer")
summary = EXERCISES.summary


# --- Exercise 1 ------------------------------------------------------------------------------

def _shift_blocks(k: int, depth: int, exponent: Callable[[np.ndarray], np.ndarray], transpose: bool = False,
                  sines: bool = True) -> np.ndarray:
    """Block-diagonal matrix of 2x2 rotations, one per (sin, cos) pair, with frequencies 10000^-exponent."""
    pairs = np.arange(depth // 2)
    angles = k / np.power(10000.0, exponent(pairs))
    m = np.zeros((depth, depth))
    for i, a in zip(pairs, angles):
        c, s = np.cos(a), (np.sin(a) if sines else 0.0)
        block = np.array([[c, -s], [s, c]])
        m[2 * i:2 * i + 2, 2 * i:2 * i + 2] = block.T if transpose else block
    return m


def _position_shift(k: int, depth: int) -> np.ndarray:
    return _shift_blocks(k, depth, lambda i: 2 * i / depth)


@EXERCISES.exercise(1, "a shift of k positions is a rotation")
def position_shift(student: Any) -> str:
    """``position_shift(k, depth)`` -> M with PE[p + k] = PE[p] @ M (sines in even columns)."""
    cases = [Case((1, 8)), Case((3, 16)), Case((0, 4)), Case((10, 32)), Case((7, 6)), Case((-3, 8))]  # k < 0: back
    mistakes = [
        Mistake(lambda k, d: _shift_blocks(abs(k), d, lambda i: 2 * i / d),
                "a negative k moves back: the angle is w_i * k with its sign (you turned forward by |k|)"),
        Mistake(lambda k, d: _shift_blocks(k, d, lambda i: 2 * i / d, transpose=True),
                "PE[p] @ M gives PE[p - k] with your matrix: each 2x2 block is transposed. With sines in "
                "the even columns, the block is [[cos, -sin], [sin, cos]] (row vector times matrix)"),
        Mistake(lambda k, d: _shift_blocks(k, d, lambda i: i / d),
                "wrong frequencies: the pair i (columns 2i and 2i+1) turns at 1 / 10000^(2i/d), not 1 / 10000^(i/d)"),
        Mistake(lambda k, d: _shift_blocks(k, d, lambda i: 4 * i / d),
                "wrong frequencies: the exponent is 2i/d with 2i the *even column* of the pair (0, 2, 4, ...), "
                "so pair i has exponent 2i/d, not 2*(2i)/d"),
        Mistake(lambda k, d: _shift_blocks(k, d, lambda i: 2 * i / d, sines=False),
                "a rotation mixes the two columns of a pair: besides cos(w k) on the diagonal, the block needs "
                "the sin(w k) terms off the diagonal"),
        Mistake(lambda k, d: np.eye(d), "M must depend on k: moving k positions turns each pair by the angle w_i * k"),
    ]
    return compare_with_reference(student, _position_shift, cases, mistakes, name="position_shift", atol=1e-6)


# --- Exercise 2 ------------------------------------------------------------------------------

def _shift_right(targets: Any, start_token: int) -> np.ndarray:
    targets = np.asarray(targets)
    start = np.full((len(targets), 1), start_token, dtype=targets.dtype)
    return np.concatenate([start, targets[:, :-1]], axis=1)


def _targets(seed: int, shape: tuple[int, int]) -> np.ndarray:
    t = np.random.default_rng(seed).integers(3, 16, size=shape).astype("int32")
    t[0, -2:] = 0  # some padding, as in real batches
    return t


@EXERCISES.exercise(2, "decoder inputs for teacher forcing")
def shift_right(student: Any) -> str:
    """``shift_right(targets, start_token)`` -> (batch, T): start_token, then targets[:, :-1]."""
    cases = [
        Case((_targets(1, (3, 6)), 1)), Case((_targets(2, (2, 4)), 7)),
        Case((_targets(3, (4, 8)), 2)), Case((np.array([[9]], dtype="int32"), 5)),
        Case((np.zeros((0, 3), dtype="int32"), 1)),                       # an empty batch
    ]
    mistakes = [
        Mistake(lambda t, s: np.concatenate([np.full((len(t), 1), s), t], axis=1),
                "the decoder input keeps the labels' shape (batch, T): after prepending start_token, drop "
                "the last label (targets[:, :-1]); it is never an input, only the final thing to predict"),
        Mistake(lambda t, s: np.roll(t, 1, axis=1),
                "np.roll wraps the last label around into the first column; the first column must be start_token"),
        Mistake(lambda t, s: np.concatenate([t[:, 1:], np.full((len(t), 1), s)], axis=1),
                "you shifted left: the decoder input is the labels moved one step to the *right*, behind "
                "start_token, so that position t sees only the labels before t"),
        Mistake(lambda t, s: np.concatenate([np.full((len(t), 1), s), t[:, 1:]], axis=1),
                "off by one: you replaced the first label with start_token instead of moving every label one "
                "step right (start_token, then targets[:, :-1])"),
        Mistake(lambda t, s: np.asarray(t), "you returned the labels unchanged; the decoder would see the very "
                "token it must predict at each position"),
    ]
    return compare_with_reference(student, _shift_right, cases, mistakes, name="shift_right")


# --- Exercise 3 ------------------------------------------------------------------------------

class _Named:
    """A function with a readable name in the checker's messages."""

    def __init__(self, name: str, fn: Callable[[np.ndarray], np.ndarray]):
        self.name, self.fn = name, fn

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.fn(np.asarray(x, dtype=float))

    def __repr__(self) -> str:
        return self.name


def _layer_norm(x: np.ndarray) -> np.ndarray:
    return (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-6) * 1.5 + 0.2


def _sublayer_case(seed: int, norm_first: bool) -> Case:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, 3, 6)) * 2 + 1
    w, b = rng.normal(size=(6, 6)), rng.normal(size=6)
    return Case((x, _Named("sublayer", lambda h: np.tanh(h @ w + b)), _Named("norm", _layer_norm), norm_first))


def _add_and_norm(x: Any, sublayer: Any, norm: Any, norm_first: bool) -> np.ndarray:
    return x + sublayer(norm(x)) if norm_first else norm(x + sublayer(x))


@EXERCISES.exercise(3, "residual connection and layer norm: post-norm and pre-norm")
def add_and_norm(student: Any) -> str:
    """``add_and_norm(x, sublayer, norm, norm_first)``: norm(x + f(x)), or x + f(norm(x)) when norm_first."""
    cases = [_sublayer_case(1, False), _sublayer_case(2, True), _sublayer_case(3, False), _sublayer_case(4, True)]
    mistakes = [
        Mistake(lambda x, f, n, first: n(x + f(x)) if not first else n(x + f(x)),
                "with norm_first=True (pre-norm) normalize the sub-layer's *input*: x + sublayer(norm(x))"),
        Mistake(lambda x, f, n, first: x + f(n(x)) if not first else x + f(n(x)),
                "with norm_first=False (post-norm, the original Transformer) normalize *after* the residual "
                "addition: norm(x + sublayer(x))"),
        Mistake(lambda x, f, n, first: n(x + f(x)) if first else x + f(n(x)),
                "you swapped the two orders: post-norm (norm_first=False) is norm(x + sublayer(x)), pre-norm "
                "(norm_first=True) is x + sublayer(norm(x))"),
        Mistake(lambda x, f, n, first: f(n(x)) if first else n(f(x)),
                "the residual connection is missing: add the input x to the sub-layer's output"),
        Mistake(lambda x, f, n, first: x + n(f(x)) if first else n(x + f(x)),
                "pre-norm normalizes the sub-layer's input, not its output: x + sublayer(norm(x))"),
        Mistake(lambda x, f, n, first: n(x) + f(n(x)) if first else n(x + f(x)),
                "pre-norm's residual carries the original x, not norm(x): x + sublayer(norm(x))"),
        Mistake(lambda x, f, n, first: x + f(n(x)) if first else n(x) + f(x),
                "post-norm normalizes the *sum* x + sublayer(x), not x alone: norm(x + sublayer(x))"),
        Mistake(lambda x, f, n, first: x + f(n(x)) if first else x + n(f(x)),
                "post-norm normalizes the *sum*: norm(x + sublayer(x)), not x + norm(sublayer(x)) (that "
                "leaves the block's output unnormalized)"),
        Mistake(lambda x, f, n, first: x + n(f(x)),
                "x + norm(sublayer(x)) is neither order: post-norm is norm(x + sublayer(x)), pre-norm "
                "x + sublayer(norm(x))"),
    ]
    return compare_with_reference(student, _add_and_norm, cases, mistakes, name="add_and_norm")


# --- Exercise 4 ------------------------------------------------------------------------------

def _decoder_mask(tokens: Any, pad_id: int = 0) -> np.ndarray:
    tokens = np.asarray(tokens)
    n = tokens.shape[1]
    causal = np.tril(np.ones((n, n), dtype=bool))
    return causal[None, :, :] & (tokens != pad_id)[:, None, :]


def _tokens(seed: int, shape: tuple[int, int], pad_id: int, pad_from: tuple[int, ...]) -> np.ndarray:
    t = np.random.default_rng(seed).integers(1, 9, size=shape)
    t[t == pad_id] = pad_id + 1
    for row, start in enumerate(pad_from):
        t[row, start:] = pad_id
    return t.astype("int32")


@EXERCISES.exercise(4, "the decoder's self-attention mask: causal and padding")
def decoder_mask(student: Any) -> str:
    """``decoder_mask(tokens, pad_id=0)`` -> (batch, T, T) bool, [b, t, s] = s <= t and tokens[b, s] != pad_id."""
    cases = [
        Case((_tokens(1, (2, 5), 0, (3, 5)),)),
        Case((_tokens(2, (3, 6), 0, (6, 2, 4)),)),
        Case((_tokens(3, (2, 4), 9, (2, 4)),), {"pad_id": 9}),
        Case((_tokens(4, (1, 1), 0, (1,)),)),
        Case((np.array([[0, 0, 4, 2], [0, 3, 5, 6]], dtype="int32"),)),   # pre-padded (Keras' default)
    ]
    tril = lambda n, k=0: np.tril(np.ones((n, n), dtype=bool), k)  # noqa: E731
    keys = lambda t, p: (np.asarray(t) != p)[:, None, :]  # noqa: E731
    mistakes = [
        Mistake(lambda t, pad_id=0: tril(t.shape[1])[None] & keys(t, 0),
                "use the pad_id argument instead of assuming the padding id is 0"),
        Mistake(lambda t, pad_id=0: tril(t.shape[1], -1)[None] & keys(t, pad_id),
                "off by one on the diagonal: a position may attend to itself (s == t); use np.tril(..., k=0)"),
        Mistake(lambda t, pad_id=0: tril(t.shape[1]).T[None] & keys(t, pad_id),
                "your mask lets position t see the future (s > t) and hides the past: True belongs on and "
                "*below* the diagonal (np.tril), with queries t on axis 1 and keys s on axis 2"),
        Mistake(lambda t, pad_id=0: np.broadcast_to(tril(t.shape[1]), (len(t), t.shape[1], t.shape[1])),
                "the padding is missing: a padded key s (tokens[b, s] == pad_id) must be False in every row"),
        Mistake(lambda t, pad_id=0: np.broadcast_to(keys(t, pad_id), (len(t), t.shape[1], t.shape[1])),
                "the causal part is missing: query t must not attend to keys s > t"),
        Mistake(lambda t, pad_id=0: tril(t.shape[1])[None] & (np.asarray(t) != pad_id)[:, :, None],
                "you masked the padded *queries* (rows); the padding mask is on the *keys*, the last axis: "
                "(tokens != pad_id)[:, None, :]"),
        Mistake(lambda t, pad_id=0: tril(t.shape[1])[None]
                & (np.arange(t.shape[1])[None, :] < (np.asarray(t) != pad_id).sum(1)[:, None])[:, None, :],
                "you assumed the padding comes after the tokens; Keras pads *before* them by default "
                "(pre-padding): mark each key by tokens[b, s] != pad_id, wherever it is"),
        Mistake(lambda t, pad_id=0: ~(tril(t.shape[1])[None] & keys(t, pad_id)),
                "True must mean *may attend* (the Keras convention), not *masked out*"),
    ]
    return compare_with_reference(student, _decoder_mask, cases, mistakes, name="decoder_mask")


# --- Exercise 5 ------------------------------------------------------------------------------

def _log_softmax(logits: Any) -> np.ndarray:
    z = np.asarray(logits, dtype=float)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def _naive_log_softmax(logits: Any) -> np.ndarray:
    """log(exp(z) / sum exp(z)) without subtracting the maximum: inf/nan for large logits (a typical mistake)."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        e = np.exp(np.asarray(logits, dtype=float))
        return np.log(e / e.sum(axis=-1, keepdims=True))


def _per_token(labels: Any, logits: Any, target: Callable[[np.ndarray, int], np.ndarray],
               log_p: Callable[[Any], np.ndarray] = _log_softmax) -> np.ndarray:
    labels = np.asarray(labels)
    k = np.shape(logits)[-1]
    return -(target(np.eye(k)[labels], k) * log_p(logits)).sum(axis=-1)


def _masked_mean(per_token: np.ndarray, labels: Any, pad_id: int) -> np.ndarray:
    real = np.asarray(labels) != pad_id
    with np.errstate(invalid="ignore"):  # a mistake's nan stays nan
        return (per_token * real).sum(axis=1) / real.sum(axis=1)


def _smoothed_sequence_loss(labels: Any, logits: Any, epsilon: float, pad_id: int = 0) -> np.ndarray:
    per_token = _per_token(labels, logits, lambda onehot, k: (1 - epsilon) * onehot + epsilon / k)
    return _masked_mean(per_token, labels, pad_id)


def _sequences(seed: int, batch: int, length: int, k: int, pad_id: int, pad_from: tuple[int, ...],
               scale: float = 2.0, pre: bool = False) -> Case:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, size=(batch, length))
    labels[labels == pad_id] = (pad_id + 1) % k
    for row, start in enumerate(pad_from):
        if pre:
            labels[row, :length - start] = pad_id
        else:
            labels[row, start:] = pad_id
    return labels.astype("int32"), (scale * rng.normal(size=(batch, length, k))).astype("float32")


@EXERCISES.exercise(5, "label smoothing on padded sequences")
def smoothed_sequence_loss(student: Any) -> str:
    """``smoothed_sequence_loss(labels, logits, epsilon, pad_id=0)`` -> (batch,) mean smoothed CE over real tokens."""
    cases = [
        Case(_sequences(1, 2, 5, 6, 0, (3, 5)) + (0.1,)),
        Case(_sequences(2, 3, 4, 7, 0, (4, 1, 2)) + (0.3,)),
        Case(_sequences(3, 2, 6, 5, 0, (6, 2)) + (0.0,)),                           # ε = 0: plain cross-entropy
        Case(_sequences(4, 2, 5, 12, 9, (2, 5)) + (0.2,), {"pad_id": 9}),
        Case(_sequences(5, 2, 4, 8, 0, (4, 3), scale=400.0) + (0.1,)),              # large logits
        Case(_sequences(6, 2, 5, 6, 0, (3, 4), pre=True) + (0.1,)),                 # pre-padded
        Case(_sequences(7, 1, 1, 3, 0, (1,)) + (0.5,)),
    ]
    smooth = lambda e: (lambda onehot, k: (1 - e) * onehot + e / k)  # noqa: E731
    mistakes = [
        Mistake(lambda y, z, e, pad_id=0: _per_token(y, z, smooth(e)).mean(axis=1),
                "average over the *real* positions only (labels != pad_id): padded positions count neither "
                "in the sum nor in the number you divide by"),
        Mistake(lambda y, z, e, pad_id=0: (_per_token(y, z, smooth(e)) * (np.asarray(y) != pad_id)).sum(axis=1),
                "you summed over the real positions; the loss of a sequence is their *mean* (divide by how many "
                "real positions it has)"),
        Mistake(lambda y, z, e, pad_id=0: _masked_mean(_per_token(y, z, smooth(e)), y, 0),
                "use the pad_id argument instead of assuming the padding id is 0"),
        Mistake(lambda y, z, e, pad_id=0: _masked_mean(
                    _per_token(y, z, lambda o, k: (1 - e) * o + e / (k - 1) * (1 - o)), y, pad_id),
                "ε is spread over *all* K classes, the true one included: the target is (1 − ε)·onehot + ε/K "
                "(Szegedy et al. and keras.losses.CategoricalCrossentropy), not ε/(K − 1) on the others"),
        Mistake(lambda y, z, e, pad_id=0: _masked_mean(_per_token(y, z, lambda o, k: o + e / k), y, pad_id),
                "the smoothed target must sum to 1: the true class gets (1 − ε) + ε/K, so scale the one-hot "
                "by (1 − ε)"),
        Mistake(lambda y, z, e, pad_id=0: _masked_mean(_per_token(y, z, lambda o, k: (1 - e) * o), y, pad_id),
                "the ε/K part is missing: every class, not only the true one, gets ε/K in the target"),
        Mistake(lambda y, z, e, pad_id=0: _masked_mean(_per_token(y, z, smooth(e), _naive_log_softmax), y, pad_id),
                "large logits overflow exp(): subtract each row's maximum logit before exponentiating "
                "(log-softmax = z − max − log Σ exp(z − max))"),
    ]
    return compare_with_reference(student, _smoothed_sequence_loss, cases, mistakes,
                                  name="smoothed_sequence_loss", rtol=1e-4, atol=1e-5)
