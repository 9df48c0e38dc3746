"""The chapter-05 checkers accept the worked solutions and reject the typical mistakes with hints."""

import numpy as np
import pytest
from nbutils import load_tagged
from numpy.lib.stride_tricks import sliding_window_view

from course_lib import checks_05 as checks
from course_lib.exercises import FAILED

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


# --- Exercise 2: conv_output_size -------------------------------------------------------------

def _size(n, k, padding, s=1, d=1, same=None, core=None):
    if padding == "same":
        return same(n, k, s, d) if same else -(-n // s)
    p = 0 if padding == "valid" else padding
    return core(n, k, p, s, d) if core else (n + 2 * p - d * (k - 1) - 1) // s + 1


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda n, k, p, s=1, d=1: _size(n, k, p, s, d, core=lambda n, k, p, s, d: (n + 2 * p - d * (k - 1) - 1) // s),
         "forgot the + 1"),
        (lambda n, k, p, s=1, d=1: _size(n, k, p, s, d, core=lambda n, k, p, s, d: (n + 2 * p - d * (k - 1) - 1) / s + 1),
         "take the floor"),
        (lambda n, k, p, s=1, d=1: _size(n, k, p, s, 1), "dilation is ignored"),
        (lambda n, k, p, s=1, d=1: _size(n, k, p, s, d, same=lambda n, k, s, d: _size(n, k, (k - 1) // 2, s, d)),
         "defined by its result"),
        (lambda n, k, p, s=1, d=1: _size(n, k, p, s, d, same=lambda n, k, s, d: _size(n, k, 0, s, d)),
         "like 'valid'"),
        (lambda n, k, p, s=1, d=1: _size(n, k, p, s, d, same=lambda n, k, s, d: n), "not n"),
        (lambda n, k, p, s=1, d=1: _size(n, k, p, s, d, same=lambda n, k, s, d: n // s), "rounds up"),
        (lambda n, k, p, s=1, d=1: _size(n, k, p, s, d, core=lambda n, k, p, s, d: (n + p - d * (k - 1) - 1) // s + 1),
         "each* side"),
        (lambda n, k, p, s=1, d=1: n - k + 1, "like 'valid'"),
        (lambda n, k, p, s=1, d=1: 7, "expected 26, got 7"),
    ],
)
def test_conv_output_size_rejects(wrong, hint):
    result = checks.conv_output_size.evaluate(wrong)
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


# --- Exercise 4: conv2d_params ----------------------------------------------------------------

@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda kh, kw, ci, co, use_bias=True: kh * kw * ci * co, "also has a bias"),
        (lambda kh, kw, ci, co, use_bias=True: (kh * kw + 1) * co, "all c_in input channels"),
        (lambda kh, kw, ci, co, use_bias=True: kh * kw * ci * co + (ci if use_bias else 0), "per *output* channel"),
        (lambda kh, kw, ci, co, use_bias=True: (kh * kw + 1) * ci * co, "not one per kernel slice"),
        (lambda kh, kw, ci, co, use_bias=True: (kh * kw * ci + 1) * co, "use_bias=False"),
        (lambda kh, kw, ci, co, use_bias=True: float((kh * kw * ci + use_bias) * co), "return an int"),
    ],
)
def test_conv2d_params_rejects(wrong, hint):
    result = checks.conv2d_params.evaluate(wrong)
    assert result.status == FAILED and hint in result.message, result.message


def test_student_exception_is_reported_not_raised():
    def broken(kh, kw, ci, co, use_bias=True):
        return undefined_name  # noqa: F821

    result = checks.conv2d_params.evaluate(broken)
    assert result.status == FAILED and "NameError" in result.message
