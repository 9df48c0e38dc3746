"""The chapter-08 checkers accept the worked solutions and reject the typical mistakes with hints."""

import numpy as np
import pytest
from nbutils import assert_rejects as _rejects, load_tagged

from course_lib import checks_08 as checks

SOLUTIONS = load_tagged("08_transformer")
STUBS = load_tagged("08_transformer", tag="exercise", folder="notebooks")
NAMES = ["position_shift", "shift_right", "add_and_norm", "decoder_mask", "smoothed_sequence_loss"]


def test_every_exercise_has_a_stub_and_a_solution():
    assert [e.title for e in checks.EXERCISES.exercises] and len(checks.EXERCISES.exercises) == len(NAMES)
    for name in NAMES:
        assert callable(SOLUTIONS[name]) and callable(STUBS[name])


# --- Exercise 1 ------------------------------------------------------------------------------

def _blocks(k, d, exponent, transpose=False, sines=True):
    m = np.zeros((d, d))
    for i in range(d // 2):
        a = k / 10000 ** exponent(i, d)
        c, s = np.cos(a), np.sin(a) if sines else 0.0
        block = np.array([[c, -s], [s, c]])
        m[2 * i:2 * i + 2, 2 * i:2 * i + 2] = block.T if transpose else block
    return m


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda k, d: _blocks(k, d, lambda i, d: 2 * i / d, transpose=True), "PE[p - k]"),
        (lambda k, d: _blocks(k, d, lambda i, d: i / d), "not 1 / 10000^(i/d)"),
        (lambda k, d: _blocks(k, d, lambda i, d: 4 * i / d), "not 2*(2i)/d"),
        (lambda k, d: _blocks(k, d, lambda i, d: 2 * i / d, sines=False), "sin(w k) terms"),
        (lambda k, d: np.eye(d), "must depend on k"),
        (lambda k, d: _blocks(abs(k), d, lambda i, d: 2 * i / d), "a negative k moves back"),
        (lambda k, d: np.zeros((d, d // 2)), "expected shape"),
    ],
)
def test_position_shift_rejects(wrong, hint):
    _rejects(checks.position_shift, wrong, hint)


# --- Exercise 2 ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda t, s: np.concatenate([np.full((len(t), 1), s), t], axis=1), "drop the last label"),
        (lambda t, s: np.roll(t, 1, axis=1), "np.roll wraps"),
        (lambda t, s: np.concatenate([t[:, 1:], np.full((len(t), 1), s)], axis=1), "shifted left"),
        (lambda t, s: np.concatenate([np.full((len(t), 1), s), t[:, 1:]], axis=1), "off by one"),
        (lambda t, s: t, "unchanged"),
        (lambda t, s: np.concatenate([np.full((len(t), 1), 1), t[:, :-1]], axis=1), "expected"),
    ],
)
def test_shift_right_rejects(wrong, hint):
    _rejects(checks.shift_right, wrong, hint)


# --- Exercise 3 ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda x, f, n, first: n(x + f(x)), "with norm_first=True (pre-norm)"),
        (lambda x, f, n, first: x + f(n(x)), "with norm_first=False (post-norm"),
        (lambda x, f, n, first: n(x + f(x)) if first else x + f(n(x)), "swapped"),
        (lambda x, f, n, first: f(n(x)) if first else n(f(x)), "residual connection is missing"),
        (lambda x, f, n, first: x + n(f(x)) if first else n(x + f(x)), "not its output"),
        (lambda x, f, n, first: n(x) + f(n(x)) if first else n(x + f(x)), "not norm(x)"),
        (lambda x, f, n, first: x + f(n(x)) if first else n(x) + f(x), "normalizes the *sum*"),
        (lambda x, f, n, first: x + f(n(x)) if first else x + n(f(x)), "not x + norm(sublayer(x))"),
        (lambda x, f, n, first: x + n(f(x)), "is neither order"),
    ],
)
def test_add_and_norm_rejects(wrong, hint):
    _rejects(checks.add_and_norm, wrong, hint)


# --- Exercise 4 ------------------------------------------------------------------------------

def _tril(n, k=0):
    return np.tril(np.ones((n, n), dtype=bool), k)


def _keys(t, pad):
    return (np.asarray(t) != pad)[:, None, :]


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda t, pad_id=0: _tril(t.shape[1], -1)[None] & _keys(t, pad_id), "attend to itself"),
        (lambda t, pad_id=0: np.triu(np.ones((t.shape[1],) * 2, bool))[None] & _keys(t, pad_id), "see the future"),
        (lambda t, pad_id=0: np.stack([_tril(t.shape[1])] * len(t)), "padding is missing"),
        (lambda t, pad_id=0: np.broadcast_to(_keys(t, pad_id), (len(t),) + (t.shape[1],) * 2), "causal part"),
        (lambda t, pad_id=0: _tril(t.shape[1])[None] & (np.asarray(t) != pad_id)[:, :, None], "*queries*"),
        (lambda t, pad_id=0: ~(_tril(t.shape[1])[None] & _keys(t, pad_id)), "may attend"),
        (lambda t, pad_id=0: _tril(t.shape[1])[None] & _keys(t, 0), "pad_id argument"),
        (lambda t, pad_id=0: _tril(t.shape[1])[None]
         & (np.arange(t.shape[1])[None, :] < (t != pad_id).sum(1)[:, None])[:, None, :], "pre-padding"),
        (lambda t, pad_id=0: _tril(t.shape[1]), "expected shape"),
    ],
)
def test_decoder_mask_rejects(wrong, hint):
    _rejects(checks.decoder_mask, wrong, hint)


# --- Exercise 5 ------------------------------------------------------------------------------

def _log_p(z):
    z = np.asarray(z, dtype=float)
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def _smoothed(y, z, target, log_p=_log_p):
    k = np.shape(z)[-1]
    return -(target(np.eye(k)[np.asarray(y)], k) * log_p(z)).sum(-1)


def _mean_real(per_token, y, pad):
    real = np.asarray(y) != pad
    with np.errstate(invalid="ignore"):
        return (per_token * real).sum(1) / real.sum(1)


def _naive_log_p(z):
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        e = np.exp(np.asarray(z, dtype=float))
        return np.log(e / e.sum(-1, keepdims=True))


def _right(e):
    return lambda o, k: (1 - e) * o + e / k


def test_smoothed_sequence_loss_accepts_keras():
    import keras

    def with_keras(labels, logits, epsilon, pad_id=0):
        k = np.shape(logits)[-1]
        ce = keras.losses.categorical_crossentropy(np.eye(k)[labels], logits, from_logits=True,
                                                   label_smoothing=epsilon)
        return _mean_real(np.asarray(ce), labels, pad_id)

    assert checks.smoothed_sequence_loss.evaluate(with_keras).passed


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda y, z, e, pad_id=0: _smoothed(y, z, _right(e)).mean(1), "*real* positions only"),
        (lambda y, z, e, pad_id=0: (_smoothed(y, z, _right(e)) * (np.asarray(y) != pad_id)).sum(1), "*mean*"),
        (lambda y, z, e, pad_id=0: _mean_real(_smoothed(y, z, _right(e)), y, 0), "pad_id argument"),
        (lambda y, z, e, pad_id=0: _mean_real(_smoothed(y, z, lambda o, k: (1 - e) * o + e / (k - 1) * (1 - o)), y,
                                              pad_id), "not ε/(K − 1)"),
        (lambda y, z, e, pad_id=0: _mean_real(_smoothed(y, z, lambda o, k: o + e / k), y, pad_id), "sum to 1"),
        (lambda y, z, e, pad_id=0: _mean_real(_smoothed(y, z, lambda o, k: (1 - e) * o), y, pad_id), "ε/K part"),
        (lambda y, z, e, pad_id=0: _mean_real(_smoothed(y, z, _right(e), _naive_log_p), y, pad_id), "overflow"),
        (lambda y, z, e, pad_id=0: _mean_real(_smoothed(y, z, _right(e)), y, pad_id).mean(), "shape"),
    ],
)
def test_smoothed_sequence_loss_rejects(wrong, hint):
    _rejects(checks.smoothed_sequence_loss, wrong, hint)


def test_checkers_leave_the_global_random_state_alone():
    np.random.seed(123)
    expected = np.random.random()
    np.random.seed(123)
    for name in NAMES:
        getattr(checks, name).evaluate(SOLUTIONS[name])
    assert np.random.random() == expected
