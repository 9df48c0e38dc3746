"""Plotting helpers, so notebook cells stay short: training curves, image grids, heatmaps.

Each helper draws one figure and shows it (``show=True``, the default, returns None so the
figure is not displayed twice), or returns the ``matplotlib.figure.Figure`` with ``show=False``.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from course_lib._validate import check_arguments

__all__ = [
    "finish_figure", "plot_history", "show_images", "plot_heatmap",
]


def finish_figure(fig: Any, show: bool = True, tight: bool = True) -> Any:
    """Lay out ``fig`` and show it (returning None), or return it when ``show=False``.

    Every plotting helper of the course ends with this, so a figure is displayed exactly once.
    ``tight=False`` skips ``tight_layout`` (slow on log axes) for figures that set their margins.
    """
    check_arguments(finish_figure, locals())
    import matplotlib.pyplot as plt

    if tight:
        fig.tight_layout()
    if show:
        plt.show()
        return None
    return fig


_finish = finish_figure


def plot_history(
    history: Any, metrics: Sequence[str] | None = None, title: str | None = None, show: bool = True
) -> Any:
    """Training curves from a ``keras.callbacks.History`` (or its ``.history`` dict).

    One panel per metric (``loss``, ``accuracy``, ...), with the ``val_`` curve beside it.

    Raises:
        ValueError: if the history is empty or a requested metric is not in it.
    """
    check_arguments(plot_history, locals(), history="own", metrics="own")
    import matplotlib.pyplot as plt

    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or not logs:
        raise ValueError(f"expected a keras History or a non-empty dict of lists, got {type(history).__name__}")
    if metrics is None:
        metrics = [k for k in logs if not k.startswith("val_")]
    missing = [m for m in metrics if m not in logs]
    if missing:
        raise ValueError(f"metrics {missing} not in the history; it has {sorted(logs)}")
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.2), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        epochs = np.arange(1, len(logs[metric]) + 1)
        ax.plot(epochs, logs[metric], marker=".", label="train")
        if f"val_{metric}" in logs:
            ax.plot(epochs, logs[f"val_{metric}"], marker=".", label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.legend()
    if title:
        fig.suptitle(title)
    return _finish(fig, show)


def show_images(
    images: Any,
    labels: Sequence[Any] | None = None,
    ncols: int = 8,
    cmap: str = "gray_r",
    title: str | None = None,
    size: float = 1.3,
    show: bool = True,
) -> Any:
    """A grid of images: (n, h, w), (n, h, w, 1) or (n, h, w, 3) arrays, with optional labels.

    ``size`` is the width of one image in inches; heights follow the images' aspect ratio.
    """
    check_arguments(show_images, locals(), images="array", size=(0.01, 100.0), labels="own", ncols="own")
    import matplotlib.pyplot as plt

    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[-1] != 3):
        raise ValueError(
            f"expected images of shape (n, h, w), (n, h, w, 1) or (n, h, w, 3), got {images.shape}"
        )
    if labels is not None and len(labels) != len(images):
        raise ValueError(f"expected {len(images)} labels, got {len(labels)}")
    if isinstance(ncols, bool) or not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"expected ncols to be an int >= 1, got {ncols!r}")
    n = len(images)
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    aspect = images.shape[1] / images.shape[2]
    extra = 0.25 if labels is not None else 0.05
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, (size * aspect + extra) * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i], cmap=None if images.ndim == 4 else cmap)
            if labels is not None:
                ax.set_title(str(labels[i]), fontsize=9)
    if title:
        fig.suptitle(title)
    return _finish(fig, show)


def plot_heatmap(
    matrix: Any,
    xlabels: Sequence[Any] | None = None,
    ylabels: Sequence[Any] | None = None,
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    annotate: bool = False,
    cmap: str = "viridis",
    show: bool = True,
) -> Any:
    """A 2-D matrix as a heatmap (attention weights, confusion matrices ...), with a colour bar."""
    check_arguments(plot_heatmap, locals(), matrix="array", xlabels="own", ylabels="own")
    import matplotlib.pyplot as plt

    m = np.asarray(matrix, dtype=float)
    if m.ndim != 2:
        raise ValueError(f"expected a 2-D matrix, got shape {m.shape}")
    for labels, size, axis in ((xlabels, m.shape[1], "xlabels"), (ylabels, m.shape[0], "ylabels")):
        if labels is not None and len(labels) != size:
            raise ValueError(f"expected {size} {axis} for a matrix of shape {m.shape}, got {len(labels)}")
    fig, ax = plt.subplots(figsize=(min(1.0 + 0.45 * m.shape[1], 9), min(0.8 + 0.4 * m.shape[0], 7)))
    im = ax.imshow(m, cmap=cmap, aspect="auto")
    ax.grid(False)
    fig.colorbar(im, ax=ax)
    if xlabels is not None:
        names = [str(s) for s in xlabels]
        crowded = max(map(len, names), default=0) * len(names) > 18  # the labels would touch side by side
        rotation = 90 if m.shape[1] > 12 else 45 if crowded else 0
        ax.set_xticks(range(m.shape[1]), names, rotation=rotation, ha="right" if rotation == 45 else "center",
                      rotation_mode="anchor" if rotation == 45 else "default")
    if ylabels is not None:
        ax.set_yticks(range(m.shape[0]), [str(s) for s in ylabels])
    if annotate:
        for (i, j), v in np.ndenumerate(m):
            ax.text(j, i, f"{v:.2g}", ha="center", va="center", fontsize=8, color="w")
    ax.set_title(title or "")
    ax.set_xlabel(xlabel or "")
    ax.set_ylabel(ylabel or "")
    return _finish(fig, show)
