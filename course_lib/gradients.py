"""Checking and inspecting gradients: numerical gradients, relative errors, per-layer gradient norms.

Chapter 03 (backpropagation) writes the backward pass by hand and trusts it only after two checks,
which this module makes reusable for later chapters:

- :func:`numerical_gradient` -- central differences, entry by entry, in float64;
- :func:`relative_error` -- how far an analytic gradient is from a numerical one, scale-free;
- :func:`layer_profile` -- per-layer gradient norms (and activation sizes) of a sequential Keras
  model on one batch, the quantities that show vanishing and exploding gradients;
- :func:`plot_layer_norms` and :func:`plot_step_size_errors` -- the chapter's log-scale figures.
"""

from __future__ import annotations

import math

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from course_lib._validate import check_arguments, check_callable

from course_lib.plots import finish_figure

__all__ = [
    "numerical_gradient", "relative_error", "LayerProfile", "layer_profile", "plot_layer_norms",
    "plot_step_size_errors",
]


def _float64_array(x: Any, name: str) -> np.ndarray:
    if not isinstance(x, np.ndarray):
        raise ValueError(f"expected {name} to be a NumPy array, got {type(x).__name__}")
    if x.dtype != np.float64:
        raise ValueError(
            f"expected {name} to be a float64 array, got {x.dtype}: central differences in float32 "
            "lose about half of the significant digits (convert with .astype(np.float64))"
        )
    return x


#: The most entries :func:`numerical_gradient` differentiates (it calls ``f`` twice per entry).
MAX_ENTRIES = 100_000


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """The gradient of the scalar function ``f`` at ``x`` by central differences.

    Entry by entry, ``grad[i] = (f(x + eps*e_i) - f(x - eps*e_i)) / (2*eps)``: the error is of order
    ``eps**2`` (a forward difference's is of order ``eps``). ``x`` is perturbed in place and restored,
    so ``f`` may close over it; on return ``x`` holds exactly its original values.

    Args:
        f: a function of an array shaped like ``x``, returning a scalar.
        x: a float64 array (any shape).
        eps: the step, > 0; ``1e-6`` suits float64 functions of size ~1.

    Returns:
        A float64 array shaped like ``x``.

    Raises:
        ValueError: if ``x`` is not a float64 array (of at most ``MAX_ENTRIES``, 100,000, entries:
            two calls of ``f`` each), ``eps`` is not a positive finite number or is too small to
            change an entry of ``x`` (e.g. 1e-20 next to 1.0: every difference would be 0), or ``f``
            does not return a finite scalar.
    """
    check_arguments(numerical_gradient, locals(), f="own", x="own", eps="own")
    check_callable(f, "f")
    x = _float64_array(x, "x")
    if x.size > MAX_ENTRIES:
        raise ValueError(f"expected x to have at most {MAX_ENTRIES:,} entries (2 calls of f each), got {x.size:,}")
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.floating)) or not 0 < eps < math.inf:
        raise ValueError(f"expected eps to be a positive number, got {eps!r}")
    with np.errstate(over="ignore", invalid="ignore"):
        unchanged = (x + eps == x) | (x - eps == x) | ~np.isfinite(x + eps)
    if np.any(unchanged):
        at = tuple(int(i) for i in np.argwhere(unchanged)[0])
        raise ValueError(f"eps={eps!r} does not change x[{at}] = {x[at]!r} in float64 (the differences would be 0); "
                         f"use a step about 1e-6 times the size of x, e.g. eps=1e-6")
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        try:
            x[index] = original + eps
            plus = f(x)
            x[index] = original - eps
            minus = f(x)
        finally:
            x[index] = original
        values = np.asarray(plus, dtype=float), np.asarray(minus, dtype=float)
        if any(v.shape != () or not np.isfinite(v) for v in values):
            raise ValueError(f"expected f to return a finite scalar, got {plus!r} and {minus!r}")
        grad[index] = (float(values[0]) - float(values[1])) / (2 * eps)
    return grad


def relative_error(a: Any, b: Any, floor: float = 1e-12) -> float:
    """``‖a − b‖ / max(‖a‖ + ‖b‖, floor)``, Euclidean norms over every entry.

    Scale-free and symmetric, between 0 (equal) and 1 (e.g. ``b = −a``). For a correct float64
    gradient against central differences expect about 1e-7 or less; above 1e-2 there is a bug.

    Raises:
        ValueError: if the shapes differ or a value is not finite.
    """
    check_arguments(relative_error, locals(), a="array", b="array")
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"expected arrays a and b of the same shape, got {a.shape} and {b.shape}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("expected finite values (found nan or inf)")
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), floor))


@dataclass(frozen=True)
class LayerProfile:
    """Per-layer quantities of one forward/backward pass; index 0 is the layer next to the input.

    Attributes:
        kernel_grad: ``‖∂E/∂W_l‖``, the Euclidean norm of each kernel's gradient.
        output_grad: ``‖∂E/∂h_l‖``, the norm of the gradient reaching each layer's output
            (the "backward signal").
        output_std: the standard deviation of each layer's output ``h_l`` (the "forward signal").
        loss: the loss of the batch.
    """

    kernel_grad: np.ndarray
    output_grad: np.ndarray
    output_std: np.ndarray
    loss: float


def layer_profile(model: Any, x: Any, y: Any, loss_fn: Callable[[Any, Any], Any] | None = None) -> LayerProfile:
    """Gradient norms and output sizes of every layer of a sequential model on one batch.

    The model's layers are applied in order (as ``keras.Sequential`` does), each output is watched
    by a ``tf.GradientTape``, and one ``tape.gradient`` call returns ∂E/∂W_l for every kernel and
    ∂E/∂h_l for every layer output.

    Args:
        model: a built ``keras.Sequential`` whose layers all have a ``kernel`` (e.g. Dense).
        x: a batch of inputs, shape ``(batch, features)``.
        y: integer class labels, shape ``(batch,)``.
        loss_fn: ``loss_fn(y, outputs)``; default sparse categorical cross-entropy on logits.

    Raises:
        ValueError: for a model without layers, a layer without a kernel, or mismatched x and y.
    """
    check_arguments(layer_profile, locals(), model="own", x="own", y="own")
    import keras
    import tensorflow as tf

    layers = list(getattr(model, "layers", []))
    if not layers:
        raise ValueError(f"expected a built sequential Keras model with layers, got {type(model).__name__}")
    no_kernel = [layer.name for layer in layers if getattr(layer, "kernel", None) is None]
    if no_kernel:
        raise ValueError(f"expected every layer to have a kernel (Dense layers), but {no_kernel} have none")
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim != 2 or y.ndim != 1 or len(x) != len(y):
        raise ValueError(
            f"expected x of shape (batch, features) and y of shape (batch,), got {x.shape} and {y.shape}"
        )
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"expected integer class labels y, got dtype {y.dtype}")
    loss_fn = loss_fn or keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    h = tf.convert_to_tensor(x, dtype=layers[0].kernel.dtype)
    outputs = []
    with tf.GradientTape() as tape:
        for layer in layers:
            h = layer(h)
            tape.watch(h)
            outputs.append(h)
        loss = loss_fn(y, h)
    kernels = [layer.kernel for layer in layers]
    grads = tape.gradient(loss, kernels + outputs)
    n = len(layers)
    return LayerProfile(
        kernel_grad=np.array([float(tf.norm(g)) for g in grads[:n]]),
        output_grad=np.array([float(tf.norm(g)) for g in grads[n:]]),
        output_std=np.array([float(tf.math.reduce_std(h)) for h in outputs]),
        loss=float(loss),
    )


def _positive_curve(label: str, values: Any) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    if v.ndim != 1 or v.size == 0:
        raise ValueError(f"expected a non-empty 1-D array for {label!r}, got shape {v.shape}")
    if not np.all(np.isfinite(v)) or np.any(v <= 0):
        raise ValueError(
            f"{label!r} has values that are zero, negative or not finite: a log scale cannot show them "
            "(did a gradient underflow to 0 or overflow to inf?)"
        )
    return v


def plot_layer_norms(
    panels: Mapping[str, Mapping[str, Any]], title: str | None = None, show: bool = True
) -> Any:
    """Per-layer curves on a log scale: one panel per key of ``panels``, one line per label.

    Args:
        panels: ``{panel title: {label: values per layer}}``, layer 1 next to the input, e.g.
            ``{"‖∂E/∂W_l‖": {"sigmoid": [...], "relu": [...]}}``.
        title: a title over all panels.
        show: show the figure and return None; with False, return the figure.

    Raises:
        ValueError: for no panels, an empty panel, or values a log scale cannot show (≤ 0, nan, inf).
    """
    check_arguments(plot_layer_norms, locals(), title="own")
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    if not isinstance(panels, Mapping) or not panels:
        raise ValueError("expected a non-empty mapping {panel title: {label: values}}")
    checked = {}
    for name, curves in panels.items():
        if not isinstance(curves, Mapping) or not curves:
            raise ValueError(f"panel {name!r}: expected a non-empty mapping {{label: values}}")
        checked[name] = {label: _positive_curve(label, v) for label, v in curves.items()}
    shared = len({tuple(curves) for curves in checked.values()}) == 1 and len(checked) > 1
    n = len(checked)
    fig, axes = plt.subplots(1, n, figsize=(4.4 * n, 3.7 if shared else 3.4), squeeze=False)
    for ax, (name, curves) in zip(axes[0], checked.items()):
        for label, v in curves.items():
            ax.plot(np.arange(1, v.size + 1), v, marker="o", markersize=3, label=label)
        ax.set_yscale("log")
        ax.yaxis.set_minor_locator(ticker.NullLocator())  # decades only: legible, and fast to lay out
        ax.set_xlabel("layer (1 = next to the input)")
        ax.set_title(name, fontsize=10)
        if not shared:
            ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    # Fixed margins instead of tight_layout, which is slow with log axes.
    top = 0.84 if title else 0.9
    if shared:  # the same lines in every panel: one legend under the figure
        handles, labels = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 4), fontsize=9, frameon=False)
    fig.subplots_adjust(left=0.6 / (4.4 * n) + 0.03, right=0.98, top=top, bottom=0.27 if shared else 0.16,
                        wspace=0.28)
    return finish_figure(fig, show, tight=False)


def plot_step_size_errors(
    eps: Any, errors: Mapping[str, Any], title: str | None = None, show: bool = True
) -> Any:
    """Error of finite-difference derivatives against the step ``eps``, on log-log axes.

    Args:
        eps: the steps, a 1-D array of positive numbers.
        errors: ``{label: |numerical − exact| for each step}``; zeros are drawn at the bottom.

    Raises:
        ValueError: for non-positive steps or curves whose length differs from ``eps``.
    """
    check_arguments(plot_step_size_errors, locals(), eps="array", errors="own")
    import matplotlib.pyplot as plt

    eps = np.asarray(eps, dtype=float)
    if eps.ndim != 1 or eps.size == 0 or np.any(eps <= 0):
        raise ValueError(f"expected a 1-D array of positive steps, got shape {eps.shape}")
    if not isinstance(errors, Mapping) or not errors:
        raise ValueError("expected a non-empty mapping {label: errors}")
    fig, ax = plt.subplots(figsize=(6.0, 3.6))
    for label, err in errors.items():
        err = np.asarray(err, dtype=float)
        if err.shape != eps.shape:
            raise ValueError(f"{label!r}: expected {eps.size} errors (one per step), got shape {err.shape}")
        ax.loglog(eps, np.maximum(err, 1e-17), marker="o", markersize=3, label=label)
    ax.set_xlabel("step ε")
    ax.set_ylabel("|numerical − exact derivative|")
    ax.legend(fontsize=8)
    ax.set_title(title or "")
    return finish_figure(fig, show)
