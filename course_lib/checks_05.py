"""Checkers for the exercises of ``05_convolutional_networks``.

Usage in the notebook::

    from course_lib import checks_05 as checks
    checks.conv1d(conv1d)
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from course_lib.conv import conv_output_size as _conv_output_size
from course_lib.exercises import Case, ExerciseSet, Mistake, Wrong, compare_with_reference, describe

EXERCISES = ExerciseSet("05_convolutional_networks")
summary = EXERCISES.summary


def _callable(student: Any) -> None:
    if not callable(student):
        raise Wrong(f"expected a function, got {describe(student)}")


def _shape_of(student: Callable[..., Any], case: Case) -> tuple[int, ...] | None:
    """The shape of the student's answer on ``case`` (None if it raises: the comparison reports it)."""
    from course_lib.exercises import NotAttempted

    try:
        out = student(*case.args, **case.kwargs)
    except NotImplementedError:
        raise NotAttempted from None
    except Exception:
        return None
    out = out.numpy() if hasattr(out, "numpy") else out
    return tuple(np.shape(out))


# --- Exercise 1 ------------------------------------------------------------------------------

def _conv1d(x: Any, w: Any, b: Any) -> np.ndarray:
    x, w, b = np.asarray(x, dtype=float), np.asarray(w, dtype=float), np.asarray(b, dtype=float)
    windows = sliding_window_view(x, w.shape[0], axis=0)        # (n - k + 1, c_in, k)
    return np.einsum("tci,ico->to", windows, w) + b


def _conv1d_cases() -> list[Case]:
    rng = np.random.default_rng(505)   # a local generator: the student's global state is untouched
    shapes = [(12, 3, 4, 2), (9, 1, 3, 1), (20, 4, 5, 4), (10, 2, 1, 3), (7, 2, 7, 2), (16, 3, 2, 5)]
    return [
        Case((rng.normal(size=(n, c_in)), rng.normal(size=(k, c_in, c_out)), rng.normal(size=c_out)))
        for n, c_in, k, c_out in shapes
    ]


@EXERCISES.exercise(1, "a multi-channel 1D convolution")
def conv1d(student: Any) -> str:
    """``conv1d(x, w, b)``: x (n, c_in), w (k, c_in, c_out), b (c_out,) -> (n - k + 1, c_out), 'valid'."""
    _callable(student)
    cases = _conv1d_cases()
    for case in cases:
        x, w, _ = case.args
        n, k, c_out = x.shape[0], w.shape[0], w.shape[2]
        got = _shape_of(student, case)
        if got is None or got == (n - k + 1, c_out):
            continue
        call = case.show("conv1d")
        if got == (n - k, c_out):
            raise Wrong(f"{call}: one position short — a kernel of k taps fits at n - k + 1 positions, "
                        f"t = 0, 1, …, n - k (here {n - k + 1})")
        if got == (n, c_out):
            raise Wrong(f"{call}: 'valid' has n - k + 1 outputs, you returned n — that is 'same' "
                        f"(padded) or windows running past the end")
        if got == (n + k - 1, c_out):
            raise Wrong(f"{call}: that is the 'full' length (np.convolve's default mode); 'valid' keeps "
                        f"only the n - k + 1 positions where the kernel fits")
        if got == (c_out, n - k + 1):
            raise Wrong(f"{call}: transposed — return shape (n - k + 1, c_out), positions first, like Keras")
        raise Wrong(f"{call}: expected shape {(n - k + 1, c_out)}, got shape {got}")
    mistakes = [
        Mistake(lambda x, w, b: _conv1d(x, np.asarray(w)[::-1], b),
                "you flipped the kernel: that is mathematical convolution (np.convolve). Deep-learning "
                "layers compute cross-correlation, y[t] = Σᵢ x[t+i]·w[i] + b, reading the kernel forwards"),
        Mistake(lambda x, w, b: _conv1d(x, w, 0.0), "the bias is missing: add b[o] to every output of filter o"),
        Mistake(lambda x, w, b: np.einsum("tci,ioc->to", sliding_window_view(np.asarray(x, float), len(w), axis=0),
                                          np.asarray(w, float)) + b,
                "the kernel's axes are mixed up: Keras' Conv1D kernel is (k, c_in, c_out), so sum "
                "x[t+i, c]·w[i, c, o] over i and c"),
        Mistake(lambda x, w, b: _conv1d(x, w, b) - b + np.asarray(b) * np.asarray(w).shape[0],
                "the bias is added once per output, not once per kernel tap"),
    ]
    return compare_with_reference(student, _conv1d, cases, mistakes, name="conv1d")


# --- Exercise 2 ------------------------------------------------------------------------------

def _pad(n: int, k: int, padding: Any, s: int, d: int) -> int:
    return 0 if padding == "valid" else int(padding)


def _formula(n: int, k: int, padding: Any, s: int = 1, d: int = 1, *, same: Callable[..., Any] | None = None,
             core: Callable[..., Any] | None = None) -> Any:
    """The output size, with either part replaceable to express a typical mistake."""
    if padding == "same":
        return same(n, k, s, d) if same else -(-n // s)
    p = _pad(n, k, padding, s, d)
    return core(n, k, p, s, d) if core else (n + 2 * p - d * (k - 1) - 1) // s + 1


def _same_as_symmetric(n: int, k: int, s: int, d: int) -> int:
    p = d * (k - 1) // 2
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


@EXERCISES.exercise(2, "the output size of a convolution")
def conv_output_size(student: Any) -> str:
    """``conv_output_size(n, k, padding, stride=1, dilation=1)`` -> int, padding 'valid' | 'same' | p."""
    cases = [
        Case((28, 3, "valid")), Case((28, 3, "same")), Case((28, 5, 2)), Case((227, 11, "valid", 4)),
        Case((224, 7, 3, 2)), Case((10, 3, "valid", 1, 2)), Case((28, 3, "same", 2)), Case((7, 3, "same", 2)),
        Case((8, 2, "same")), Case((9, 3, "same", 1, 3)), Case((13, 3, 1, 2, 2)), Case((6, 3, 0, 2)),
    ]
    mistakes = [
        Mistake(lambda n, k, p, s=1, d=1: _formula(n, k, p, s, d, core=lambda n, k, p, s, d: (n + 2 * p - d * (k - 1) - 1) // s),
                "you forgot the + 1: the window starts at positions 0, s, 2s, … and the first one counts too"),
        Mistake(lambda n, k, p, s=1, d=1: _formula(n, k, p, s, d, core=lambda n, k, p, s, d: (n + 2 * p - d * (k - 1) - 1) / s + 1),
                "take the floor and return an int: a window that does not fit entirely is not computed — use //"),
        Mistake(lambda n, k, p, s=1, d=1: _formula(n, k, p, s, d, core=lambda n, k, p, s, d: -(-(n + 2 * p - d * (k - 1) - 1) // s) + 1),
                "round down, not up: a window that does not fit entirely is not computed — use //"),
        Mistake(lambda n, k, p, s=1, d=1: _formula(n, k, p, s, 1),
                "dilation is ignored: a kernel with dilation d spans d·(k − 1) + 1 inputs, so subtract d·(k − 1)"),
        Mistake(lambda n, k, p, s=1, d=1: _formula(n, k, p, s, d, core=lambda n, k, p, s, d: (n + p - d * (k - 1) - 1) // s + 1),
                "padding p adds p zeros on *each* side: the padded length is n + 2p"),
        Mistake(lambda n, k, p, s=1, d=1: _formula(n, k, p, s, d, same=_same_as_symmetric),
                "'same' is defined by its result, ceil(n / stride) outputs (TensorFlow pads unevenly when it "
                "must); padding d·(k − 1)//2 on each side falls one short for even kernels"),
        Mistake(lambda n, k, p, s=1, d=1: _formula(n, k, p, s, d, same=lambda n, k, s, d: (n + 2 * ((k - 1) // 2) - d * (k - 1) - 1) // s + 1),
                "'same' is defined by its result, ceil(n / stride) outputs (TensorFlow pads unevenly when it "
                "must); padding (k − 1)//2 on each side is wrong for even kernels and for dilation"),
        Mistake(lambda n, k, p, s=1, d=1: _formula(n, k, p, s, d, same=lambda n, k, s, d: _formula(n, k, 0, s, d)),
                "'same' adds zeros so that the output keeps ceil(n / stride) positions; you treated it "
                "like 'valid' (no padding)"),
        Mistake(lambda n, k, p, s=1, d=1: _formula(n, k, p, s, d, same=lambda n, k, s, d: n),
                "with a stride, 'same' gives ceil(n / stride) outputs, not n"),
        Mistake(lambda n, k, p, s=1, d=1: _formula(n, k, p, s, d, same=lambda n, k, s, d: n // s),
                "'same' rounds up: ceil(n / stride) outputs, e.g. -(-n // stride), not n // stride"),
        Mistake(lambda n, k, p, s=1, d=1: _formula(n, k, p, s, d, same=lambda n, k, s, d: n / s),
                "'same' gives ceil(n / stride) outputs, an int: use -(-n // stride)"),
    ]
    return compare_with_reference(student, _conv_output_size, cases, mistakes, name="conv_output_size")


# --- Exercise 3 ------------------------------------------------------------------------------

def _pool(x: Any, size: int, stride: int | None = None, reduce: Callable[..., Any] = np.max) -> np.ndarray:
    stride = size if stride is None else stride
    windows = sliding_window_view(np.asarray(x, dtype=float), (size, size), axis=(0, 1))   # (h', w', c, size, size)
    return reduce(windows[::stride, ::stride], axis=(-2, -1))


def _pool_cases() -> list[Case]:
    rng = np.random.default_rng(5050)
    specs = [((8, 8, 2), 2, None), ((9, 7, 3), 2, None), ((7, 7, 2), 3, 2), ((6, 6, 4), 2, 1),
             ((11, 10, 1), 3, 2), ((12, 9, 3), 3, None)]
    cases = []
    for shape, size, stride in specs:
        x = rng.normal(size=shape)
        cases.append(Case((x, size)) if stride is None else Case((x, size, stride)))
    return cases


@EXERCISES.exercise(3, "max pooling with a stride")
def max_pool2d(student: Any) -> str:
    """``max_pool2d(x, size, stride=None)``: x (h, w, c) -> the max of each window, 'valid', stride=size by default."""
    _callable(student)
    cases = _pool_cases()
    for case in cases:
        x, size = case.args[:2]
        stride = case.args[2] if len(case.args) > 2 else size
        (h, w, c) = x.shape
        want = ((h - size) // stride + 1, (w - size) // stride + 1, c)
        got = _shape_of(student, case)
        if got is None or got == want:
            continue
        call = case.show("max_pool2d")
        if got == want[:2]:
            raise Wrong(f"{call}: the channel axis is gone — pool each channel separately and keep shape (h', w', c)")
        if got == (h - size + 1, w - size + 1, c) and stride != 1:
            hint = ("stride=None means stride = size, as in Keras: windows do not overlap; you slid the window "
                    "one pixel at a time") if len(case.args) == 2 else \
                   f"use the stride: windows start every {stride} pixels, not every pixel"
            raise Wrong(f"{call}: {hint}")
        if got == (-(-(h - size) // stride) + 1, -(-(w - size) // stride) + 1, c) or \
                got == (-(-h // stride), -(-w // stride), c):
            raise Wrong(f"{call}: windows that do not fit entirely are dropped ('valid', as in Keras): "
                        f"(h - size) // stride + 1 rows, here {want[0]}")
        if got == (h // size, w // size, c) and stride != size:
            raise Wrong(f"{call}: use the stride: with stride {stride} < size {size} the windows overlap "
                        f"(AlexNet pooled 3×3 windows every 2 pixels)")
        raise Wrong(f"{call}: expected shape {want}, got shape {got}")
    mistakes = [
        Mistake(lambda x, size, stride=None: _pool(x, size, stride, np.mean),
                "that is average pooling: max pooling keeps the largest value of each window"),
        Mistake(lambda x, size, stride=None: _pool(x, size, stride, lambda v, axis: np.max(np.abs(v), axis=axis)),
                "you took the largest |value|: max pooling keeps the largest value, negative ones included"),
    ]
    return compare_with_reference(student, _pool, cases, mistakes, name="max_pool2d")


# --- Exercise 4 ------------------------------------------------------------------------------

def _conv2d_params(kh: int, kw: int, c_in: int, c_out: int, use_bias: bool = True) -> int:
    return (kh * kw * c_in + (1 if use_bias else 0)) * c_out


@EXERCISES.exercise(4, "parameters of a conv layer")
def conv2d_params(student: Any) -> str:
    """``conv2d_params(kh, kw, c_in, c_out, use_bias=True)`` -> int, like ``Conv2D.count_params()``."""
    cases = [
        Case((3, 3, 1, 32)), Case((3, 3, 32, 64)), Case((5, 3, 3, 16)), Case((1, 1, 64, 128)),
        Case((3, 3, 64, 64), {"use_bias": False}), Case((11, 11, 3, 96)), Case((7, 7, 3, 64), {"use_bias": True}),
    ]
    mistakes = [
        Mistake(lambda kh, kw, ci, co, use_bias=True: kh * kw * ci * co,
                "each filter also has a bias: + c_out (unless use_bias=False)"),
        Mistake(lambda kh, kw, ci, co, use_bias=True: (kh * kw + (1 if use_bias else 0)) * co,
                "each kernel covers all c_in input channels: kh·kw·c_in weights per filter"),
        Mistake(lambda kh, kw, ci, co, use_bias=True: (kh * kw + 1) * co,
                "each kernel covers all c_in input channels: kh·kw·c_in weights per filter"),
        Mistake(lambda kh, kw, ci, co, use_bias=True: kh * kw * ci * co + (ci if use_bias else 0),
                "one bias per *output* channel (per filter), not per input channel: + c_out"),
        Mistake(lambda kh, kw, ci, co, use_bias=True: kh * kw * ci * co + ci,
                "one bias per *output* channel (per filter), not per input channel: + c_out"),
        Mistake(lambda kh, kw, ci, co, use_bias=True: (kh * kw + 1) * ci * co,
                "one bias per filter, not one per kernel slice: (kh·kw·c_in + 1)·c_out"),
        Mistake(lambda kh, kw, ci, co, use_bias=True: (kh * kw * ci + 1) * co,
                "with use_bias=False the layer has no bias: kh·kw·c_in·c_out"),
        Mistake(lambda kh, kw, ci, co, use_bias=True: float(_conv2d_params(kh, kw, ci, co, use_bias)),
                "return an int: a number of parameters is a count"),
    ]
    return compare_with_reference(student, _conv2d_params, cases, mistakes, name="conv2d_params")
