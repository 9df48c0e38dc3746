"""The chapter-05 checkers accept the worked solutions and reject the typical mistakes with hints."""

import numpy as np
import pytest
from nbutils import load_tagged
from numpy.lib.stride_tricks import sliding_window_view

from course_lib import checks_05 as checks
from course_lib.exercises import FAILED, PASSED

SOLUTIONS = load_tagged("05_convolutional_networks")


# --- Exercise 1: conv1d -----------------------------------------------------------------------

def _windows(x, k):
    return sliding_window_view(np.asarray(x, float), k, axis=0)     # (n - k + 1, c_in, k)


def _correct_conv1d(x, w, b):
    return np.einsum("tci,ico->to", _windows(x, len(w)), w) + b


def _full_length(x, w, b):
    k = len(w)
    padded = np.pad(x, [(k - 1, k - 1), (0, 0)])
    return _correct_conv1d(padded, w, b)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda x, w, b: _correct_conv1d(x, w[::-1], b), "flipped the kernel"),
        (lambda x, w, b: _correct_conv1d(x, w, b)[:-1], "one position short"),
        (lambda x, w, b: np.pad(_correct_conv1d(x, w, b), [(0, len(w) - 1), (0, 0)]), "'same'"),
        (_full_length, "'full' length"),
        (lambda x, w, b: _correct_conv1d(x, w, b).T, "transposed"),
        (lambda x, w, b: _correct_conv1d(x, w, 0), "bias is missing"),
        (lambda x, w, b: np.einsum("tci,ioc->to", _windows(x, len(w)), w) + b, "axes are mixed up"),
        (lambda x, w, b: _correct_conv1d(x, w, b) + 0.01, "values differ"),
    ],
)
def test_conv1d_rejects(wrong, hint):
    result = checks.conv1d.evaluate(wrong)
    assert result.status == FAILED and hint in result.message, result.message


# --- Exercise 2: receptive_field --------------------------------------------------------------

def _rf(layers, jump=True, dil=True, jump_first=False, km1=True):
    r, j = 1, 1
    for layer in layers:
        k, s, d = (tuple(layer) + (1,))[:3]
        if jump_first:
            j *= s
        r += (d if dil else 1) * (k - 1 if km1 else k) * (j if jump else 1)
        if not jump_first:
            j *= s
    return r


def _rf_backwards(layers):
    """Correct too: from the top down, r ← s·(r − 1) + d·(k − 1) + 1."""
    r = 1
    for k, s, d in reversed([(tuple(layer) + (1,))[:3] for layer in layers]):
        r = s * (r - 1) + d * (k - 1) + 1
    return r


def test_receptive_field_accepts_the_top_down_recursion():
    assert checks.receptive_field.evaluate(_rf_backwards).status == PASSED


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda ls: _rf(ls, jump=False), "the 'jump'"),
        (lambda ls: _rf(ls, jump_first=True), "does not widen its own"),
        (lambda ls: _rf(ls, dil=False), "dilation is ignored"),
        (lambda ls: _rf(ls, km1=False), "(not d·k)"),
        (lambda ls: int(np.prod([l[0] for l in ls])) if ls else 1, "by addition, not multiplication"),
        (lambda ls: sum(l[0] for l in ls) if ls else 1, "overlap by one pixel"),
        (lambda ls: _rf(ls) - 1, "off by one"),
        (lambda ls: float(_rf(ls)), "return an int"),
        (lambda ls: _rf(ls) if ls else 0, "start from 1"),
    ],
)
def test_receptive_field_rejects(wrong, hint):
    result = checks.receptive_field.evaluate(wrong)
    assert result.status == FAILED and hint in result.message, result.message


# --- Exercise 3: max_pool2d -------------------------------------------------------------------

def _pool(x, size, stride=None, reduce=np.max, default_stride=None):
    stride = stride if stride is not None else (default_stride or size)
    return reduce(sliding_window_view(x, (size, size), axis=(0, 1))[::stride, ::stride], axis=(-2, -1))


def _reshape_pool(x, size, stride=None):
    h, w, c = x.shape
    return x[: h // size * size, : w // size * size].reshape(h // size, size, w // size, size, c).max(axis=(1, 3))


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda x, size, stride=None: _pool(x, size, stride, np.mean), "average pooling"),
        (lambda x, size, stride=None: _pool(x, size, stride, default_stride=1), "one pixel at a time"),
        (_reshape_pool, "use the stride"),
        (lambda x, size, stride=None: _pool(x, size, stride).max(axis=-1), "channel axis is gone"),
        (lambda x, size, stride=None: _pool(x, size, stride, lambda v, axis: np.abs(v).max(axis=axis)), "|value|"),
        (lambda x, size, stride=None: _pool(np.pad(x, [(0, size), (0, size), (0, 0)], constant_values=-np.inf),
                                             size, stride)[: -(-(x.shape[0] - size) // (stride or size)) + 1,
                                                           : -(-(x.shape[1] - size) // (stride or size)) + 1],
         "do not fit entirely are dropped"),
    ],
)
def test_max_pool2d_rejects(wrong, hint):
    result = checks.max_pool2d.evaluate(wrong)
    assert result.status == FAILED and hint in result.message, result.message


# --- Exercise 4: conv2d_input_grad ------------------------------------------------------------

def _grad(g, w, flip=(slice(None, None, -1), slice(None, None, -1)), swap=True, full=True):
    kh, kw = w.shape[:2]
    k = w[flip]
    k = k.transpose(0, 1, 3, 2) if swap else k
    pad = [(kh - 1, kh - 1), (kw - 1, kw - 1), (0, 0)] if full else [((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2), (0, 0)]
    win = sliding_window_view(np.pad(g, pad), (kh, kw), axis=(0, 1))
    return np.einsum("ijouv,uvoc->ijc", win, k)


def _tape_grad(g, w):
    import tensorflow as tf

    h, wd = g.shape[0] + w.shape[0] - 1, g.shape[1] + w.shape[1] - 1
    x = tf.Variable(np.zeros((1, h, wd, w.shape[2])))
    with tf.GradientTape() as tape:
        e = tf.reduce_sum(tf.nn.conv2d(x, w, 1, "VALID") * g[None])
    return tape.gradient(e, x).numpy()[0]


def test_conv2d_input_grad_accepts_the_tape_and_float32():
    assert checks.conv2d_input_grad.evaluate(_tape_grad).status == PASSED
    assert checks.conv2d_input_grad.evaluate(lambda g, w: _grad(g, w).astype("float32")).status == PASSED


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda g, w: _grad(g, w, flip=(slice(None), slice(None))), "flip the kernel"),
        (lambda g, w: _grad(g, w, flip=(slice(None, None, -1), slice(None))), "*both* spatial axes"),
        (lambda g, w: _grad(g, w, swap=False), "the channels"),
        (lambda g, w: _grad(g, w, full=False), "'full' correlation"),
        (lambda g, w: -_grad(g, w), "sign is flipped"),
        (lambda g, w: 1.01 * _grad(g, w), "values differ"),
    ],
)
def test_conv2d_input_grad_rejects(wrong, hint):
    result = checks.conv2d_input_grad.evaluate(wrong)
    assert result.status == FAILED and hint in result.message, result.message


def test_student_exception_is_reported_not_raised():
    def broken(g, w):
        return undefined_name  # noqa: F821

    result = checks.conv2d_input_grad.evaluate(broken)
    assert result.status == FAILED and "NameError" in result.message
