"""Helpers for chapter 02 (neural networks): activation plots, network diagrams, Dense weights.

The formulas the chapter teaches (neurons, activations, softmax, losses) are written in the
notebook, where students read them; this module only holds what keeps cells short and is reused:

- :func:`plot_activations` -- activation functions beside their derivatives, one panel each;
- :func:`plot_curves` -- several named curves over one x axis (losses against a probability ...);
- :func:`plot_network` -- a diagram of a fully connected network, every connection drawn;
- :func:`plot_prediction` -- an image next to a model's class probabilities;
- :func:`dense_weights` -- the ``(kernel, bias)`` arrays of every Dense layer of a Keras model.

Plotting helpers show the figure and return None (``show=True``), or return it (``show=False``).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from course_lib._validate import check_arguments
from course_lib.plots import finish_figure as _finish

__all__ = [
    "plot_activations", "plot_curves", "plot_network", "plot_prediction", "dense_weights",
    "plot_decision_boundaries",
]


def _as_1d(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or arr.size < 2:
        raise ValueError(f"expected {name} to be a 1-D array of at least 2 points, got shape {arr.shape}")
    return arr


def plot_activations(
    z: Any,
    curves: Mapping[str, tuple[Any, Any]],
    title: str | None = None,
    show: bool = True,
) -> Any:
    """One panel per activation function: f(z) and its derivative f'(z), over the same inputs ``z``.

    Args:
        z: the inputs, a 1-D array.
        curves: ``{name: (f(z), f'(z))}``, each a 1-D array shaped like ``z``.
        title: an optional title over the panels.
        show: show the figure (returns None) or return it.

    Raises:
        ValueError: if ``curves`` is empty or a curve's shape differs from ``z``'s.
    """
    check_arguments(plot_activations, locals(), z="array", curves="own")
    import matplotlib.pyplot as plt

    z = _as_1d(z, "z")
    if not isinstance(curves, Mapping) or not curves:
        raise ValueError("expected curves to be a non-empty dict {name: (values, derivatives)}")
    checked = {}
    for name, pair in curves.items():
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(f"expected curves[{name!r}] to be a pair (values, derivatives)")
        values, slopes = (np.asarray(p, dtype=float) for p in pair)
        if values.shape != z.shape or slopes.shape != z.shape:
            raise ValueError(
                f"curves[{name!r}]: expected values and derivatives of shape {z.shape} like z, "
                f"got {values.shape} and {slopes.shape}"
            )
        checked[name] = (values, slopes)
    fig, axes = plt.subplots(1, len(checked), figsize=(3.6 * len(checked), 3.0), squeeze=False)
    for ax, (name, (values, slopes)) in zip(axes[0], checked.items()):
        ax.plot(z, values, label=f"{name}(z)", linewidth=2)
        ax.plot(z, slopes, "--", label=f"{name}'(z)", linewidth=2)
        ax.axhline(0, color="gray", linewidth=0.6)
        ax.axvline(0, color="gray", linewidth=0.6)
        ax.set_title(name)
        ax.set_xlabel("z (weighted sum + bias)")
        ax.legend(fontsize=8, loc="upper left")
    axes[0][0].set_ylabel("output / slope")
    if title:
        fig.suptitle(title)
    return _finish(fig, show)


def plot_curves(
    x: Any,
    curves: Mapping[str, Any],
    xlabel: str,
    ylabel: str,
    title: str | None = None,
    ylim: tuple[float, float] | None = None,
    show: bool = True,
) -> Any:
    """Several named curves over one x axis, in one panel with a legend.

    Raises:
        ValueError: if ``curves`` is empty, a curve's shape differs from ``x``'s, or ``ylim`` is not
            an increasing pair.
    """
    check_arguments(plot_curves, locals(), x="array", curves="own", ylim="own")
    import matplotlib.pyplot as plt

    x = _as_1d(x, "x")
    if not isinstance(curves, Mapping) or not curves:
        raise ValueError("expected curves to be a non-empty dict {name: values}")
    for name, values in curves.items():
        if np.shape(values) != x.shape:
            raise ValueError(f"curves[{name!r}]: expected shape {x.shape} like x, got {np.shape(values)}")
    if ylim is not None and (len(ylim) != 2 or not ylim[0] < ylim[1]):
        raise ValueError(f"expected ylim to be a pair (low, high) with low < high, got {ylim!r}")
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for name, values in curves.items():
        ax.plot(x, np.asarray(values, dtype=float), label=name, linewidth=2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.legend()
    ax.set_title(title or "")
    return _finish(fig, show)


def plot_network(
    layer_sizes: Sequence[int],
    layer_names: Sequence[str] | None = None,
    max_drawn: int = 8,
    title: str | None = None,
    show: bool = True,
) -> Any:
    """A fully connected network: one column of neurons per layer, every connection drawn.

    A layer wider than ``max_drawn`` is drawn with ``max_drawn`` neurons and a gap (⋮); the label
    under each column gives its real size, and the title the number of parameters (weights and
    biases) the connections stand for.

    Raises:
        ValueError: for fewer than two layers, a size < 1, names that don't match, or max_drawn < 2.
    """
    check_arguments(plot_network, locals(), layer_sizes="own", layer_names="own", max_drawn="own")
    import matplotlib.pyplot as plt

    sizes = list(layer_sizes)
    if len(sizes) < 2 or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1 for s in sizes):
        raise ValueError(f"expected at least two layer sizes, each an int >= 1, got {layer_sizes!r}")
    if layer_names is not None and len(layer_names) != len(sizes):
        raise ValueError(f"expected {len(sizes)} layer names, got {len(layer_names)}")
    if isinstance(max_drawn, bool) or not isinstance(max_drawn, int) or max_drawn < 2:
        raise ValueError(f"expected max_drawn to be an int >= 2, got {max_drawn!r}")
    names = list(layer_names) if layer_names is not None else (
        ["input"] + [f"hidden {i}" for i in range(1, len(sizes) - 1)] + ["output"]
    )

    def positions(n: int) -> tuple[np.ndarray, bool]:
        shown = min(n, max_drawn)
        ys = np.linspace(1, -1, shown) * min(1.0, shown / max_drawn)
        if n > max_drawn:  # leave a gap in the middle for the ellipsis
            half = shown // 2
            ys = np.concatenate([np.linspace(1, 0.18, half), np.linspace(-0.18, -1, shown - half)])
        return ys, n > max_drawn

    fig, ax = plt.subplots(figsize=(1.9 * len(sizes) + 0.6, 3.6))
    columns = [positions(n) for n in sizes]
    for i in range(len(sizes) - 1):
        for y0 in columns[i][0]:
            for y1 in columns[i + 1][0]:
                ax.plot([i, i + 1], [y0, y1], color="tab:blue", alpha=0.25, linewidth=0.7)
    for i, ((ys, cut), n, name) in enumerate(zip(columns, sizes, names)):
        ax.scatter(np.full(len(ys), i), ys, s=140, color="white", edgecolors="black", zorder=3)
        if cut:
            ax.text(i, 0, "⋮", ha="center", va="center", fontsize=16)
        ax.text(i, -1.3, f"{name}\n{n} units", ha="center", va="top", fontsize=9)
    params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    ax.set_title(title or f"fully connected: {' → '.join(map(str, sizes))} ({params:,} parameters)")
    ax.set_xlim(-0.5, len(sizes) - 0.5)
    ax.set_ylim(-1.85, 1.2)
    ax.axis("off")
    return _finish(fig, show)


def plot_prediction(
    image: Any,
    probabilities: Any,
    true_label: int | None = None,
    class_names: Sequence[str] | None = None,
    show: bool = True,
) -> Any:
    """An image beside a bar chart of a model's class probabilities (the true class in green).

    Raises:
        ValueError: for an image that is not 2-D (or (h, w, 1)), probabilities that are not a 1-D
            distribution, a true label out of range, or class names of the wrong length.
    """
    check_arguments(plot_prediction, locals(), image="array", probabilities="array", true_label="own")
    import matplotlib.pyplot as plt

    img = np.asarray(image, dtype=float)
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    if img.ndim != 2:
        raise ValueError(f"expected an image of shape (h, w) or (h, w, 1), got {np.shape(image)}")
    p = np.asarray(probabilities, dtype=float)
    if p.ndim != 1 or p.size < 2 or np.any(p < 0) or not np.isclose(p.sum(), 1.0, atol=1e-3):
        raise ValueError(f"expected probabilities to be a 1-D probability vector (non-negative, summing to 1), got shape {p.shape}")
    if true_label is not None and not 0 <= int(true_label) < p.size:
        raise ValueError(f"expected true_label in [0, {p.size}), got {true_label!r}")
    names = [str(c) for c in (class_names if class_names is not None else range(p.size))]
    if len(names) != p.size:
        raise ValueError(f"expected {p.size} class names, got {len(names)}")
    fig, (ax_img, ax_bar) = plt.subplots(1, 2, figsize=(6.5, 2.6), gridspec_kw={"width_ratios": [1, 2.2]})
    ax_img.imshow(img, cmap="gray_r")
    ax_img.axis("off")
    ax_img.set_title("input" if true_label is None else f"input (true class {true_label})")
    colors = ["tab:green" if true_label is not None and k == int(true_label) else "tab:blue" for k in range(p.size)]
    ax_bar.bar(names, p, color=colors)
    ax_bar.set_ylim(0, 1)
    ax_bar.set_xlabel("class")
    ax_bar.set_ylabel("probability")
    ax_bar.set_title(f"softmax output: predicts {names[int(np.argmax(p))]} (p = {p.max():.2f})")
    return _finish(fig, show)


def dense_weights(model: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    """The ``(kernel, bias)`` NumPy arrays of every ``keras.layers.Dense`` in ``model``, in order.

    A kernel has shape ``(inputs, units)`` and a bias ``(units,)``, so a layer computes
    ``activation(x @ kernel + bias)``. Works for Sequential, functional and subclassed models
    (layers held in lists and nested models are found too), once the model is built.

    Raises:
        ValueError: if ``model`` is not a built Keras model, has no Dense layer, or a Dense layer
            has no bias (``use_bias=False``).
    """
    check_arguments(dense_weights, locals(), model="own")
    import keras

    if not isinstance(model, keras.Model):
        raise ValueError(f"expected a keras.Model, got {type(model).__name__}")
    if not model.built:
        raise ValueError(f"model {model.name!r} is not built yet: call it on a batch or build it first")
    def walk(m: Any) -> list[Any]:
        found = []
        for layer in m.layers:
            if isinstance(layer, keras.Model):
                found += walk(layer)
            elif isinstance(layer, keras.layers.Dense):
                found.append(layer)
        return found

    dense = walk(model)
    if not dense:
        raise ValueError(f"model {model.name!r} has no Dense layer")
    pairs = []
    for layer in dense:
        if layer.bias is None:
            raise ValueError(f"Dense layer {layer.name!r} has no bias (use_bias=False)")
        pairs.append((np.asarray(layer.kernel.numpy()), np.asarray(layer.bias.numpy())))
    return pairs


def plot_decision_boundaries(
    models: Mapping[str, Any], x: Any, y: Any, title: str | None = None, resolution: int = 150, show: bool = True
) -> Any:
    """One panel per binary classifier: where it predicts class 1 (shaded) over 2-D points ``x``.

    Each model maps points of shape ``(n, 2)`` to one logit per point (class 1 where the logit is
    positive); the points are drawn coloured by their label ``y`` (0 or 1).

    Raises:
        ValueError: if ``models`` is empty, ``x`` is not of shape (n, 2), ``y`` does not have one
            label per point, or ``resolution`` is not an int >= 2.
    """
    import matplotlib.pyplot as plt

    if not isinstance(models, Mapping) or not models:
        raise ValueError("expected models to be a non-empty dict {name: model}")
    x = np.asarray(x, dtype="float32")
    if x.ndim != 2 or x.shape[1] != 2 or len(x) == 0:
        raise ValueError(f"expected x of shape (n, 2) with n >= 1, got {x.shape}")
    y = np.asarray(y).reshape(-1)
    if y.shape != (len(x),):
        raise ValueError(f"expected one label per point ({len(x)}), got shape {np.shape(y)}")
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"expected resolution to be an int >= 2, got {resolution!r}")
    pad = 0.5
    g0, g1 = np.meshgrid(np.linspace(x[:, 0].min() - pad, x[:, 0].max() + pad, resolution),
                         np.linspace(x[:, 1].min() - pad, x[:, 1].max() + pad, resolution))
    grid = np.stack([g0.ravel(), g1.ravel()], axis=1).astype("float32")
    fig, axes = plt.subplots(1, len(models), figsize=(3.6 * len(models), 3.2), squeeze=False)
    for ax, (name, model) in zip(axes[0], models.items()):
        out = model(grid)  # one direct call: much faster than model.predict for a single batch
        logits = np.asarray(out.numpy() if hasattr(out, "numpy") else out)
        ax.contourf(g0, g1, (logits.reshape(g0.shape) > 0).astype(float), levels=[-0.5, 0.5, 1.5],
                    colors=["#dde8f5", "#f7e0cc"])
        ax.scatter(x[:, 0], x[:, 1], c=np.where(y > 0.5, "tab:orange", "tab:blue"), s=8)
        ax.set_title(name)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title or "")
    return _finish(fig, show)
