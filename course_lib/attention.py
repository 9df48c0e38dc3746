"""Attention: a reference scaled dot-product attention, cost measurements and plots (chapter 07).

Chapter 07 writes every attention formula from scratch in the notebook; this module keeps what is
reused or would clutter the cells:

- :func:`scaled_dot_product_attention` -- softmax(QKᵀ/√d_k)V in TensorFlow with an optional mask,
  validated at the boundary; the reference the checkers and later chapters (08, 10) rely on;
- :func:`measure_attention_cost` -- time and size of the n×n weight matrix against sequence length;
- :func:`loglog_slope` -- the exponent p of a power law y ∝ xᵖ, fitted on log–log axes;
- :func:`plot_attention` -- attention weights as heatmaps with token labels, one panel per matrix;
- :func:`plot_curves` -- curves in side-by-side panels, optionally on log axes with fitted slopes;
- :func:`plot_kernel_regression` -- a 1-D regression fit beside its attention-weight matrices.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from course_lib._validate import check_arguments, check_callable, check_int, check_seed

from course_lib.plots import finish_figure

__all__ = [
    "scaled_dot_product_attention", "AttentionCost", "measure_attention_cost", "loglog_slope",
    "plot_attention", "plot_curves", "plot_kernel_regression",
]

_RANK_TEXT = "rank 3 (batch, time, depth) or 4 (batch, heads, time, depth)"


def _shape_text(shape: Any) -> str:
    dims = tuple(None if d is None else int(d) for d in shape)
    return str(dims)


def _check_qkv(q: Any, k: Any, v: Any) -> None:
    """Validate the static shapes and dtypes of queries, keys and values (tf.Tensors)."""
    names = (("queries", q), ("keys", k), ("values", v))
    for name, t in names:
        rank = t.shape.rank
        if rank not in (3, 4):
            raise ValueError(f"expected {name} of {_RANK_TEXT}, got shape {_shape_text(t.shape)}")
        if not t.dtype.is_floating:
            raise ValueError(f"expected {name} of a floating dtype, got {t.dtype.name}")
    if not q.shape.rank == k.shape.rank == v.shape.rank:
        raise ValueError(
            "expected queries, keys and values of the same rank, got shapes "
            f"{_shape_text(q.shape)}, {_shape_text(k.shape)} and {_shape_text(v.shape)}"
        )
    if not q.dtype == k.dtype == v.dtype:
        raise ValueError(
            f"expected queries, keys and values of one dtype, got {q.dtype.name}, {k.dtype.name} and {v.dtype.name}"
        )
    lead = [tuple(t.shape[:-2]) for _, t in names]
    for i in range(len(lead[0])):
        known = {d[i] for d in lead if d[i] is not None}
        if len(known) > 1:
            raise ValueError(
                "expected queries, keys and values with the same leading (batch, heads) dimensions, got "
                f"shapes {_shape_text(q.shape)}, {_shape_text(k.shape)} and {_shape_text(v.shape)}"
            )
    dq, dk = q.shape[-1], k.shape[-1]
    if dq is not None and dk is not None and dq != dk:
        raise ValueError(
            f"expected queries and keys of the same depth d_k, got {dq} and {dk} "
            f"(shapes {_shape_text(q.shape)} and {_shape_text(k.shape)})"
        )
    tk, tv = k.shape[-2], v.shape[-2]
    if tk is not None and tv is not None and tk != tv:
        raise ValueError(
            f"expected one value per key, got {tk} keys and {tv} values "
            f"(shapes {_shape_text(k.shape)} and {_shape_text(v.shape)})"
        )


def _check_mask(mask: Any, q: Any, k: Any) -> Any:
    """Validate a mask broadcastable to the scores (..., Tq, Tk) and return it as a bool tensor."""
    import tensorflow as tf

    mask = tf.convert_to_tensor(mask)
    if not (mask.dtype.is_bool or mask.dtype.is_integer or mask.dtype.is_floating):
        raise ValueError(f"expected a boolean or 0/1 mask, got dtype {mask.dtype.name}")
    scores_shape = (*q.shape[:-1], k.shape[-2])
    if mask.shape.rank is None or mask.shape.rank < 2 or mask.shape.rank > len(scores_shape):
        raise ValueError(
            f"expected a mask of rank 2 to {len(scores_shape)} broadcastable to the scores of shape "
            f"{_shape_text(scores_shape)} (..., queries, keys), got shape {_shape_text(mask.shape)}"
        )
    for m, s in zip(reversed(mask.shape), reversed(scores_shape)):
        if m is not None and s is not None and m not in (1, s):
            raise ValueError(
                f"expected a mask broadcastable to the scores of shape {_shape_text(scores_shape)} "
                f"(..., queries, keys), got shape {_shape_text(mask.shape)}"
            )
    return mask if mask.dtype.is_bool else tf.not_equal(mask, tf.zeros((), mask.dtype))


def scaled_dot_product_attention(q: Any, k: Any, v: Any, mask: Any = None) -> tuple[Any, Any]:
    """softmax(QKᵀ/√d_k + masking) V, in TensorFlow; returns ``(output, weights)``.

    Args:
        q: queries, shape (batch, Tq, d_k) or (batch, heads, Tq, d_k), floating.
        k: keys, shape (batch, Tk, d_k) or (batch, heads, Tk, d_k), same dtype.
        v: values, shape (batch, Tk, d_v) or (batch, heads, Tk, d_v), same dtype.
        mask: optional, broadcastable to the scores (..., Tq, Tk); ``True`` (or 1) where a query
            may attend to a key, ``False`` (0) where it may not. Masked scores are replaced by a
            large negative number *before* the softmax, so their weights are exactly 0, provided
            each query keeps at least one key (a fully masked row gets uniform weights).

    Returns:
        ``output`` of shape (..., Tq, d_v) and ``weights`` of shape (..., Tq, Tk) (rows sum to 1).

    Raises:
        ValueError: for ranks other than 3 or 4, mismatched depths, lengths, leading dimensions
            or dtypes, or a mask that does not broadcast to the scores, e.g.
            ``expected queries of rank 3 (batch, time, depth) or 4 (batch, heads, time, depth), got shape (4, 5)``.
    """
    check_arguments(scaled_dot_product_attention, locals())
    import tensorflow as tf

    q, k, v = (tf.convert_to_tensor(t) for t in (q, k, v))
    _check_qkv(q, k, v)
    depth = k.shape[-1]
    if depth is not None:  # tf.constant, not tf.cast: a Python float would pass through float32
        scale = tf.constant(1.0 / math.sqrt(depth), dtype=q.dtype)
    else:
        scale = tf.math.rsqrt(tf.cast(tf.shape(k)[-1], q.dtype))
    scores = tf.matmul(q, k, transpose_b=True) * scale
    if mask is not None:
        keep = _check_mask(mask, q, k)
        very_negative = -3.0e4 if q.dtype == tf.float16 else -1.0e9
        scores = tf.where(keep, scores, tf.constant(very_negative, dtype=q.dtype))
    weights = tf.nn.softmax(scores, axis=-1)
    return tf.matmul(weights, v), weights


# --- measuring the O(n²) cost ------------------------------------------------------------------


@dataclass(frozen=True)
class AttentionCost:
    """What :func:`measure_attention_cost` measured, one entry per sequence length."""

    lengths: np.ndarray  #: the sequence lengths n
    seconds: np.ndarray  #: the fastest of the repeated calls, in seconds
    weight_bytes: np.ndarray  #: bytes of the attention weights the call returned (exact)

    def table(self) -> str:
        """A text table: n, bytes of the weights, milliseconds."""
        rows = [f"{'n':>6} {'weights (bytes)':>16} {'time (ms)':>10}"]
        rows += [f"{n:>6} {b:>16,} {1e3 * s:>10.2f}" for n, b, s in zip(self.lengths, self.weight_bytes, self.seconds)]
        return "\n".join(rows)


def _positive_ints(values: Any, name: str) -> np.ndarray:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) and not isinstance(values, np.ndarray):
        raise ValueError(f"expected {name} to be a sequence of ints >= 1, got {values!r}")
    out = np.asarray(values)
    if out.ndim != 1 or out.size == 0 or not np.issubdtype(out.dtype, np.integer) or np.any(out < 1):
        raise ValueError(f"expected {name} to be a non-empty sequence of ints >= 1, got {list(np.ravel(values))}")
    return out.astype(np.int64)


#: The largest weight matrix :func:`measure_attention_cost` makes: batch * n * n float32 numbers (1 GiB).
MAX_WEIGHTS = 2**28


def measure_attention_cost(
    attention_fn: Callable[[Any, Any, Any], tuple[Any, Any]],
    lengths: Sequence[int],
    depth: int = 64,
    batch: int = 1,
    repeats: int = 5,
    seed: int = 0,
) -> AttentionCost:
    """Time ``attention_fn(q, k, v)`` on random float32 inputs of each length, and size its weights.

    For each n in ``lengths``: q, k, v of shape (batch, n, depth) are drawn once (from ``seed``), the
    function is called once to warm up, then ``repeats`` times; the fastest call counts (the least
    disturbed by other work on the machine). The weights' size is measured, not computed: the
    ``nbytes`` of the weights the function returned.

    Args:
        attention_fn: returns ``(output, weights)`` with weights of shape (batch, n, n), e.g.
            :func:`scaled_dot_product_attention`.
        lengths: increasing sequence lengths.
        depth, batch: the inputs' depth d_k and batch size.
        repeats: timed calls per length (1 to 1000).
        seed: seed of the local generator drawing the inputs (global state is not touched).

    Raises:
        ValueError: for lengths that are not increasing positive ints, a non-positive depth, batch or
            repeats, or a function whose weights are not of shape (batch, n, n).
    """
    check_arguments(measure_attention_cost, locals(),
                    attention_fn="own", lengths=None, depth="own", batch="own", repeats="own")
    import tensorflow as tf

    check_callable(attention_fn, "attention_fn")
    ns = _positive_ints(lengths, "lengths")
    if np.any(np.diff(ns) <= 0):
        raise ValueError(f"expected strictly increasing lengths, got {ns.tolist()}")
    for name, value in (("depth", depth), ("batch", batch), ("repeats", repeats)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"expected {name} to be an int >= 1, got {value!r}")
    check_int(repeats, "repeats", 1, 1000)
    check_int(depth, "depth", 1, 65_536)
    check_seed(seed)
    if len(ns) > 64 or batch * int(ns[-1]) ** 2 > MAX_WEIGHTS or batch * int(ns[-1]) * depth > MAX_WEIGHTS:
        raise ValueError(f"expected at most 64 lengths and batch * n**2 and batch * n * depth <= {MAX_WEIGHTS:,} "
                         f"(1 GiB of float32), got {len(ns)} lengths up to n={int(ns[-1]):,} with batch={batch}, "
                         f"depth={depth}")
    rng = np.random.default_rng(seed)
    seconds, sizes = [], []
    for n in ns:
        q, k, v = (tf.constant(rng.standard_normal((batch, int(n), depth), dtype=np.float32)) for _ in range(3))
        _, weights = attention_fn(q, k, v)
        weights = np.asarray(weights)
        if weights.shape != (batch, n, n):
            raise ValueError(
                f"expected attention_fn to return weights of shape {(batch, int(n), int(n))}, got {weights.shape}"
            )
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            output, weights = attention_fn(q, k, v)
            np.asarray(output)  # wait for the result (TensorFlow may run asynchronously)
            times.append(time.perf_counter() - start)
        seconds.append(min(times))
        sizes.append(np.asarray(weights).nbytes)
    return AttentionCost(ns, np.asarray(seconds), np.asarray(sizes, dtype=np.int64))


def loglog_slope(x: Any, y: Any) -> float:
    """The exponent p of a power law y ≈ c·xᵖ: the least-squares slope of log y against log x.

    Raises:
        ValueError: for fewer than two points, different lengths, or values that are not positive.
    """
    check_arguments(loglog_slope, locals(), x="array", y="array")
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.ndim != 1 or x.shape != y.shape or x.size < 2:
        raise ValueError(f"expected two 1-D arrays of the same length >= 2, got shapes {x.shape} and {y.shape}")
    if not (np.all(np.isfinite(x) & (x > 0)) and np.all(np.isfinite(y) & (y > 0))):
        raise ValueError("expected positive, finite values: a log-log slope needs logarithms")
    if np.unique(x).size < 2:
        raise ValueError("expected at least two different x values")
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


# --- plots --------------------------------------------------------------------------------------



def _labels(labels: Any, size: int, what: str, shape: tuple[int, ...]) -> list[str] | None:
    if labels is None:
        return None
    labels = [str(s) for s in labels]
    if len(labels) != size:
        raise ValueError(f"expected {size} {what} for weights of shape {shape}, got {len(labels)}")
    return labels


def plot_attention(
    weights: Any,
    query_labels: Sequence[Any] | None = None,
    key_labels: Sequence[Any] | None = None,
    *,
    titles: Sequence[str] | None = None,
    suptitle: str | None = None,
    annotate: bool = False,
    show: bool = True,
) -> Any:
    """Attention weights as heatmaps: rows are queries (who attends), columns keys (attended to).

    Args:
        weights: one matrix (Tq, Tk), or several of the same shape (panels, Tq, Tk) drawn side by
            side with one colour scale from 0 to 1.
        query_labels, key_labels: the tokens of the rows and of the columns.
        titles: one title per panel.
        suptitle: a title over all panels.
        annotate: write each weight in its cell (for small matrices).
        show: show the figure and return None; with False, return the figure.

    Raises:
        ValueError: for weights that are not 2-D or 3-D, negative or not finite, or labels/titles
            whose number does not match.
    """
    check_arguments(plot_attention, locals(), weights="array", titles="own")
    import matplotlib.pyplot as plt

    w = np.asarray(weights, dtype=float)
    if w.ndim == 2:
        w = w[None]
    if w.ndim != 3 or 0 in w.shape:
        raise ValueError(f"expected weights of shape (queries, keys) or (panels, queries, keys), got {np.shape(weights)}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("expected finite, non-negative attention weights")
    shape = tuple(w.shape[1:])
    rows = _labels(query_labels, shape[0], "query labels", shape)
    cols = _labels(key_labels, shape[1], "key labels", shape)
    if titles is not None and len(titles) != len(w):
        raise ValueError(f"expected {len(w)} titles (one per panel), got {len(titles)}")
    n = len(w)
    width = min(0.9 + 0.42 * shape[1], 7.0)
    height = min(1.0 + 0.36 * shape[0], 6.0)
    fig, axes = plt.subplots(1, n, figsize=(width * n + 0.8, height), squeeze=False)
    for i, ax in enumerate(axes[0]):
        im = ax.imshow(w[i], cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
        ax.grid(False)
        ax.set_xticks(range(shape[1]), cols if cols is not None else range(shape[1]),
                      rotation=90 if cols is not None and max(map(len, cols)) > 3 else 0)
        ax.set_yticks(range(shape[0]), rows if rows is not None else range(shape[0]))
        ax.set_xlabel("key (attended to)")
        if i == 0:
            ax.set_ylabel("query (attending)")
        if titles is not None:
            ax.set_title(titles[i], fontsize=10)
        if annotate:
            for (r, c), value in np.ndenumerate(w[i]):
                ax.text(c, r, f"{value:.2f}", ha="center", va="center", fontsize=7,
                        color="black" if value > 0.6 else "white")
    fig.colorbar(im, ax=list(axes[0]), fraction=0.04, pad=0.02, label="weight")
    if suptitle:
        fig.suptitle(suptitle)
    return finish_figure(fig, show, tight=False)  # the shared colour bar does not survive tight_layout


def plot_curves(
    x: Any,
    panels: Mapping[str, Mapping[str, Any]],
    *,
    xlabel: str,
    log_x: bool = False,
    log_y: bool = False,
    slopes: bool = False,
    dashed: Sequence[str] = (),
    title: str | None = None,
    show: bool = True,
) -> Any:
    """Curves against ``x``, one panel per entry of ``panels``: ``{y label: {series label: values}}``.

    Args:
        x: the common x values (1-D).
        panels: e.g. ``{"seconds": {"attention": [...]}, "bytes": {"weights": [...]}}``.
        xlabel: the label of every x axis.
        log_x, log_y: logarithmic axes.
        slopes: add each series' fitted log–log slope (:func:`loglog_slope`) to its legend entry.
        dashed: labels of series to draw dashed, without markers (reference lines such as "∝ n²").
        title: a title over all panels.
        show: show the figure and return None; with False, return the figure.

    Raises:
        ValueError: for no panels, an empty panel, a series whose length differs from ``x``, or
            non-positive values on a log axis.
    """
    check_arguments(plot_curves, locals(), x="array")
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    xs = np.asarray(x, dtype=float)
    if xs.ndim != 1 or xs.size == 0:
        raise ValueError(f"expected x to be a non-empty 1-D array, got shape {xs.shape}")
    if log_x and np.any(xs <= 0):
        raise ValueError("expected positive x values on a log x axis")
    if not isinstance(panels, Mapping) or not panels:
        raise ValueError("expected a non-empty mapping {y label: {series label: values}}")
    checked: dict[str, dict[str, np.ndarray]] = {}
    for ylabel, series in panels.items():
        if not isinstance(series, Mapping) or not series:
            raise ValueError(f"panel {ylabel!r}: expected a non-empty mapping {{series label: values}}")
        checked[ylabel] = {}
        for label, values in series.items():
            ys = np.asarray(values, dtype=float)
            if ys.shape != xs.shape:
                raise ValueError(f"series {label!r}: expected {xs.size} values (one per x), got shape {ys.shape}")
            if log_y and np.any(ys <= 0):
                raise ValueError(f"series {label!r}: expected positive values on a log y axis")
            checked[ylabel][label] = ys
    n = len(checked)
    fig, axes = plt.subplots(1, n, figsize=(4.6 * n, 3.5), squeeze=False)
    for ax, (ylabel, series) in zip(axes[0], checked.items()):
        for label, ys in series.items():
            text = f"{label} (slope {round(loglog_slope(xs, ys), 2) + 0.0:.2f})" if slopes and label not in dashed else label
            if label in dashed:
                ax.plot(xs, ys, linestyle="--", color="gray", label=text)
            else:
                ax.plot(xs, ys, marker="o", markersize=4, label=text)
        ax.set_yscale("log" if log_y else "linear")
        if log_x:
            ax.set_xscale("log")
            if xs.size <= 12:  # label the measured x values themselves, not powers of ten
                ax.set_xticks(xs, [f"{v:g}" for v in xs])
                ax.xaxis.set_minor_formatter(ticker.NullFormatter())
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return finish_figure(fig, show)


def plot_kernel_regression(
    x_data: Any,
    y_data: Any,
    x: Any,
    fits: Mapping[str, Any],
    weights: Mapping[str, Any] | None = None,
    *,
    truth: Any = None,
    title: str | None = None,
    show: bool = True,
) -> Any:
    """A 1-D regression (Nadaraya–Watson kernel regression, chapter 07) and its attention weights.

    The first panel shows the data points, the true function (dashed, if given) and each fitted
    curve; then one heatmap per entry of ``weights``: row i holds the weights query ``x[i]`` puts on
    the keys (the data points, in the order given), all panels on one colour scale from 0.

    Args:
        x_data, y_data: the observed points (keys and values), 1-D arrays of the same length.
        x: the query positions where the curves are evaluated (1-D).
        fits: ``{label: values at x}``.
        weights: ``{title: matrix of shape (len(x), len(x_data))}`` of non-negative weights.
        truth: the true function's values at ``x``.
        title: a title over all panels.
        show: show the figure and return None; with False, return the figure.

    Raises:
        ValueError: for arrays that are not 1-D, lengths that do not match, no fits, or weights of
            the wrong shape, negative or not finite.
    """
    check_arguments(plot_kernel_regression, locals(), x_data="array", y_data="array", x="array",
                    truth="array", fits="own", weights="own")
    import matplotlib.pyplot as plt

    arrays = {}
    for name, value in (("x_data", x_data), ("y_data", y_data), ("x", x)):
        a = np.asarray(value, dtype=float)
        if a.ndim != 1 or a.size == 0 or not np.all(np.isfinite(a)):
            raise ValueError(f"expected {name} to be a non-empty 1-D array of finite numbers, got shape {a.shape}")
        arrays[name] = a
    if arrays["y_data"].shape != arrays["x_data"].shape:
        raise ValueError(f"expected y_data of the same length as x_data ({arrays['x_data'].size}), "
                         f"got {arrays['y_data'].size}")
    n_q, n_k = arrays["x"].size, arrays["x_data"].size
    if not isinstance(fits, Mapping) or not fits:
        raise ValueError("expected fits to be a non-empty mapping {label: values at x}")
    curves = {}
    for label, values in fits.items():
        ys = np.asarray(values, dtype=float)
        if ys.shape != (n_q,):
            raise ValueError(f"fits[{label!r}]: expected {n_q} values (one per x), got shape {ys.shape}")
        curves[str(label)] = ys
    if truth is not None:
        truth = np.asarray(truth, dtype=float)
        if truth.shape != (n_q,):
            raise ValueError(f"expected truth to hold {n_q} values (one per x), got shape {truth.shape}")
    if weights is not None and not isinstance(weights, Mapping):
        raise ValueError(f"expected weights to be a mapping {{title: matrix}}, got {type(weights).__name__}")
    matrices = {}
    for label, values in (weights or {}).items():
        w = np.asarray(values, dtype=float)
        if w.shape != (n_q, n_k):
            raise ValueError(f"weights[{label!r}]: expected shape ({n_q}, {n_k}) (queries, keys), got {w.shape}")
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError(f"weights[{label!r}]: expected finite, non-negative weights")
        matrices[str(label)] = w
    n = 1 + len(matrices)
    fig, axes = plt.subplots(1, n, figsize=(4.6 * n, 3.6), squeeze=False)
    ax = axes[0][0]
    ax.scatter(arrays["x_data"], arrays["y_data"], s=12, color="gray", alpha=0.7, label="data")
    if truth is not None:
        ax.plot(arrays["x"], truth, linestyle="--", color="black", label="true function")
    for label, ys in curves.items():
        ax.plot(arrays["x"], ys, label=label)
    ax.set_xlabel("x (query)")
    ax.set_ylabel("y")
    ax.legend(fontsize=8)
    if matrices:
        vmax = max(float(w.max()) for w in matrices.values()) or 1.0
        extent = (0.5, n_k + 0.5, arrays["x"][-1], arrays["x"][0])
        for ax, (label, w) in zip(axes[0][1:], matrices.items()):
            im = ax.imshow(w, cmap="viridis", vmin=0.0, vmax=vmax, aspect="auto", extent=extent)
            ax.grid(False)
            ax.set_xlabel("key (data point, in order)")
            ax.set_ylabel("query x")
            ax.set_title(label, fontsize=10)
        fig.colorbar(im, ax=list(axes[0][1:]), fraction=0.04, pad=0.02, label="weight")
    if title:
        fig.suptitle(title)
    return finish_figure(fig, show, tight=False)
