"""Checkers for the exercises of ``05_convolutional_networks``.

Usage in the notebook::

    from course_lib import checks_05 as checks
    checks.conv1d(conv1d)
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

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

def _receptive_field(layers: Any, *, jump: bool = True, dilation: bool = True, jump_first: bool = False,
                     minus_one: bool = True) -> int:
    """Receptive field of one output of the last layer, in inputs of the first (variants = mistakes)."""
    r, j = 1, 1
    for layer in layers:
        k, s, d = (tuple(layer) + (1,))[:3]
        if jump_first:
            j *= s
        r += (d if dilation else 1) * ((k - 1) if minus_one else k) * (j if jump else 1)
        if not jump_first:
            j *= s
    return r


def _receptive_cases() -> list[Case]:
    return [Case(([(3, 1, 1)],)), Case(([(3, 1, 1), (2, 2, 1), (3, 1, 1)],)), Case(([(3, 1, 1)] * 3,)),
            Case(([(7, 2, 1), (3, 2, 1)],)), Case(([(3, 1, 2)],)), Case(([(3, 1, 1), (3, 1, 2), (3, 1, 4)],)),
            Case(([(2, 2, 1)] * 3,)), Case(([(11, 4, 1), (3, 2, 1), (5, 1, 1)],)), Case(([],)),
            Case(([(1, 1, 1), (1, 2, 1)],)), Case(([(3, 2, 1), (3, 1, 3)],))]


@EXERCISES.exercise(2, "the receptive field of a stack of layers")
def receptive_field(student: Any) -> str:
    """``receptive_field(layers)`` -> int, for layers given as (kernel, stride, dilation) tuples."""
    _callable(student)
    mistakes = [
        Mistake(lambda ls: _receptive_field(ls, jump=False), "each layer's kernel spans d·(k − 1) steps of *its own "
                "input*, and after strides one such step is several input pixels: multiply by the product of the "
                "strides of the layers below it (the 'jump')"),
        Mistake(lambda ls: _receptive_field(ls, jump_first=True), "a layer's own stride does not widen its own "
                "kernel: multiply d·(k − 1) by the product of the strides of the layers *below* it, then update "
                "the jump with this layer's stride"),
        Mistake(lambda ls: _receptive_field(ls, dilation=False), "dilation is ignored: a kernel with dilation d "
                "spans d·(k − 1) + 1 of its inputs"),
        Mistake(lambda ls: _receptive_field(ls, minus_one=False), "each layer adds d·(k − 1) (not d·k) "
                "jumps: a 1×1 kernel adds nothing, and one 3×3 layer sees 3 pixels, not 4"),
        Mistake(lambda ls: int(np.prod([layer[0] for layer in ls])) if ls else 1, "receptive fields grow by "
                "addition, not multiplication: two 3×3 layers see 5 pixels (3 + 2), not 9"),
        Mistake(lambda ls: sum(layer[0] for layer in ls) if ls else 1, "the kernels overlap by one pixel: each "
                "layer adds d·(k − 1)·jump, so two 3×3 layers see 5 pixels, not 6"),
        Mistake(lambda ls: _receptive_field(ls) - 1, "off by one: a single 3×3 layer sees 3 pixels; start from 1 "
                "(one output sees one pixel of its own input) and add d·(k − 1)·jump per layer"),
        Mistake(lambda ls: float(_receptive_field(ls)), "return an int: a receptive field is a number of pixels"),
    ]
    return compare_with_reference(student, _receptive_field, _receptive_cases(), mistakes, name="receptive_field")


# --- Exercise 3 ------------------------------------------------------------------------------

def _pool(x: Any, size: int, stride: int | None = None, reduce: Callable[..., Any] = np.max) -> np.ndarray:
    stride = size if stride is None else stride
    windows = sliding_window_view(np.asarray(x, dtype=float), (size, size), axis=(0, 1))   # (h', w', c, size, size)
    return reduce(windows[::stride, ::stride], axis=(-2, -1))


def _pool_cases() -> list[Case]:
    rng = np.random.default_rng(5050)
    specs = [((8, 8, 2), 2, None), ((9, 7, 3), 2, None), ((7, 7, 2), 3, 2), ((6, 6, 4), 2, 1),
             ((11, 10, 1), 3, 2), ((12, 9, 3), 3, None),
             ((3, 3, 2), 3, None),      # one window covering the whole map
             ((10, 8, 2), 2, 3)]        # stride > size: windows with gaps between them
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

def _input_grad(grad_out: Any, w: Any, *, flip: str = "both", channels: str = "right", full: bool = True) -> np.ndarray:
    """dE/dx of a 'valid', stride-1 Conv2D (variants = typical mistakes)."""
    g, w = np.asarray(grad_out, dtype=float), np.asarray(w, dtype=float)
    kh, kw = w.shape[:2]
    if flip == "both":
        k = w[::-1, ::-1]
    elif flip == "none":
        k = w
    else:
        k = w[::-1]
    k = k.transpose(0, 1, 3, 2) if channels == "right" else k      # (kh, kw, c_out, c_in)
    pad = [(kh - 1, kh - 1), (kw - 1, kw - 1), (0, 0)] if full else [((kh - 1) // 2, kh // 2),
                                                                    ((kw - 1) // 2, kw // 2), (0, 0)]
    windows = sliding_window_view(np.pad(g, pad), (kh, kw), axis=(0, 1))   # (H, W, c_out, kh, kw)
    return np.einsum("ijouv,uvoc->ijc", windows, k)


def _input_grad_scatter(grad_out: Any, w: Any) -> np.ndarray:
    """The reference, written the other way: each output scatters grad·kernel back over its window."""
    g, w = np.asarray(grad_out, dtype=float), np.asarray(w, dtype=float)
    (h, wd, _), (kh, kw, c_in, _) = g.shape, w.shape
    dx = np.zeros((h + kh - 1, wd + kw - 1, c_in))
    for u in range(kh):
        for v in range(kw):
            dx[u:u + h, v:v + wd] += np.einsum("ijo,co->ijc", g, w[u, v])
    return dx


def _input_grad_cases() -> list[Case]:
    rng = np.random.default_rng(505)
    cases = []
    # Square kernel with c_in == c_out first (most wrong answers then have the right shape), then a
    # non-square kernel, c_in != c_out, a 1×1 kernel, a single output pixel, and 1 channel.
    for (h, wd), (kh, kw, ci, co) in [((4, 5), (3, 3, 2, 2)), ((3, 4), (2, 3, 2, 3)), ((5, 5), (1, 1, 3, 2)),
                                      ((1, 1), (3, 2, 2, 2)), ((6, 3), (3, 3, 1, 1)), ((2, 2), (3, 3, 3, 1))]:
        cases.append(Case((rng.normal(size=(h, wd, co)), rng.normal(size=(kh, kw, ci, co)))))
    return cases


@EXERCISES.exercise(4, "the input gradient of a convolution")
def conv2d_input_grad(student: Any) -> str:
    """``conv2d_input_grad(grad_out, w)`` -> ∂E/∂x for y = valid, stride-1 conv2d(x, w), shape (h+kh−1, w+kw−1, c_in)."""
    _callable(student)
    mistakes = [
        Mistake(lambda g, w: _input_grad(g, w, flip="none"), "flip the kernel: output y[i, j] used x[i + u, j + v] "
                "with weight w[u, v], so x[a, b] collects grad_out[a − u, b − v]·w[u, v] — a correlation of the "
                "padded grad_out with w[::-1, ::-1]"),
        Mistake(lambda g, w: _input_grad(g, w, flip="rows"), "flip the kernel along *both* spatial axes, "
                "w[::-1, ::-1], not only the rows"),
        Mistake(lambda g, w: _input_grad(g, w, channels="wrong"), "the channels: dx[..., c] sums over the *output* "
                "channels o, grad_out[..., o]·w[u, v, c, o]; swap the kernel's last two axes, not its use"),
        Mistake(lambda g, w: _input_grad(g, w, full=False), "dx has the shape of x, (h + kh − 1, w + kw − 1, c_in): "
                "pad grad_out with kh − 1 and kw − 1 zeros on *each* side (a 'full' correlation), not 'same'"),
        Mistake(lambda g, w: -_input_grad(g, w), "the sign is flipped: the convolution is linear in x, so dx is "
                "+Σ grad_out·w, no minus"),
    ]
    return compare_with_reference(student, _input_grad_scatter, _input_grad_cases(), mistakes,
                                  name="conv2d_input_grad", rtol=1e-7, atol=1e-10)
