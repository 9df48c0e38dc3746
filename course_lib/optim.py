"""Pictures of optimization: loss surfaces with optimizer trajectories, and curves (losses, schedules).

Chapter 04 writes every update rule and schedule itself, in NumPy, in the notebook; this module only
draws what those rules produce, so the notebook's cells stay short:

- :func:`loss_grid` evaluates a loss of two parameters on a grid;
- :func:`plot_loss_surface` draws its contours with one or more optimizer trajectories on top;
- :func:`plot_curves` draws curves over steps or epochs (losses, distances, learning rates), with
  optional reference points (e.g. the values Keras computes) drawn as markers on the same axes.

Each plotting helper draws one figure and shows it (``show=True`` returns None), or returns the
``matplotlib.figure.Figure`` with ``show=False``.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np

from course_lib._validate import check_arguments
from course_lib.plots import finish_figure as _finish

__all__ = [
    "loss_grid", "plot_loss_surface", "plot_curves",
]


def _check_limits(name: str, limits: Any) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in limits)
    except (TypeError, ValueError):
        raise ValueError(f"expected {name} to be a pair (low, high) of numbers, got {limits!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"expected {name} = (low, high) with finite low < high, got {limits!r}")
    return lo, hi


def loss_grid(
    loss_fn: Callable[[np.ndarray], float],
    xlim: Sequence[float],
    ylim: Sequence[float],
    num: int = 81,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Evaluate ``loss_fn`` on a ``num`` x ``num`` grid of parameter pairs.

    Args:
        loss_fn: a function of one parameter vector ``np.array([p0, p1])`` returning a number.
        xlim, ylim: the ranges ``(low, high)`` of the first and second parameter.
        num: grid points along each axis (at least 2).

    Returns:
        ``(P0, P1, Z)``: three ``(num, num)`` arrays, ``Z[i, j] = loss_fn([P0[i, j], P1[i, j]])``.

    Raises:
        ValueError: if a range is not a pair ``low < high``, ``num`` is not an int >= 2, or
            ``loss_fn`` is not callable or does not return one number.
    """
    check_arguments(loss_grid, locals(), loss_fn=None, xlim=None, ylim=None, num="own")
    if not callable(loss_fn):
        raise ValueError(f"expected loss_fn to be a function of a parameter vector, got {type(loss_fn).__name__}")
    x0, x1 = _check_limits("xlim", xlim)
    y0, y1 = _check_limits("ylim", ylim)
    if isinstance(num, bool) or not isinstance(num, int) or num < 2:
        raise ValueError(f"expected num to be an int >= 2, got {num!r}")
    p0, p1 = np.meshgrid(np.linspace(x0, x1, num), np.linspace(y0, y1, num))
    z = np.empty_like(p0)
    for idx in np.ndindex(p0.shape):
        value = np.asarray(loss_fn(np.array([p0[idx], p1[idx]])), dtype=float)
        if value.size != 1:
            raise ValueError(f"expected loss_fn to return one number, got an array of shape {value.shape}")
        z[idx] = value.item()
    return p0, p1, z


def _as_trajectory(name: str, path: Any) -> np.ndarray:
    arr = np.asarray(path, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != 2 or len(arr) < 1:
        raise ValueError(
            f"expected trajectory {name!r} of shape (steps + 1, 2): one row (p0, p1) per step, got {arr.shape}"
        )
    return arr


def plot_loss_surface(
    loss_fn: Callable[[np.ndarray], float],
    trajectories: Mapping[str, Any] | None = None,
    optimum: Sequence[float] | None = None,
    xlim: Sequence[float] = (-1.0, 1.0),
    ylim: Sequence[float] = (-1.0, 1.0),
    labels: tuple[str, str] = ("w", "b"),
    levels: int = 18,
    num: int = 81,
    markers: bool = True,
    legend_loc: str = "best",
    title: str | None = None,
    size: tuple[float, float] = (5.6, 4.4),
    show: bool = True,
) -> Any:
    """Contours of a loss of two parameters, with optimizer trajectories drawn on top.

    Contour levels are spaced logarithmically above the grid's minimum, so both the steep walls and
    the flat valley floor are visible. Points of a diverging trajectory outside the axes are clipped.

    Args:
        loss_fn: a function of ``np.array([p0, p1])`` returning a number.
        trajectories: ``{label: array of shape (steps + 1, 2)}``, each row the parameters after a step
            (the first row is the starting point).
        optimum: the minimizer ``(p0, p1)``, drawn as a star.
        xlim, ylim: the ranges of the two parameters.
        labels: the axis labels (names of the two parameters).
        levels: the number of contour levels.
        num: grid points per axis for the contours.
        markers: mark every step with a dot (turn off for trajectories of thousands of steps).
        legend_loc: where matplotlib puts the legend (``"best"``, ``"lower left"``, ...).
        title: the figure title.
        size: the figure size in inches.
        show: show the figure and return None, or return it.

    Raises:
        ValueError: on a trajectory that is not of shape (steps + 1, 2), a bad range or level count.
    """
    check_arguments(plot_loss_surface, locals(), optimum="own", xlim="own", ylim="own", levels="own")
    import matplotlib.pyplot as plt

    trajectories = dict(trajectories or {})
    paths = {name: _as_trajectory(name, path) for name, path in trajectories.items()}
    if isinstance(levels, bool) or not isinstance(levels, int) or levels < 2:
        raise ValueError(f"expected levels to be an int >= 2, got {levels!r}")
    if optimum is not None and np.shape(optimum) != (2,):
        raise ValueError(f"expected optimum to be a pair (p0, p1), got shape {np.shape(optimum)}")
    p0, p1, z = loss_grid(loss_fn, xlim, ylim, num)
    low, high = float(np.min(z)), float(np.max(z))
    span = max(high - low, 1e-12)
    contour_levels = low + span * (np.geomspace(1e-3, 1.0, levels))
    fig, ax = plt.subplots(figsize=size)
    cs = ax.contour(p0, p1, z, levels=contour_levels, cmap="viridis", linewidths=0.8)
    fig.colorbar(cs, ax=ax, label="loss")
    for name, path in paths.items():
        style = {"marker": ".", "markersize": 4} if markers else {}
        (line,) = ax.plot(path[:, 0], path[:, 1], lw=1.2, label=name, **style)
        ax.plot(path[0, 0], path[0, 1], "o", color=line.get_color(), markersize=6, mfc="none")
    if optimum is not None:
        ax.plot(optimum[0], optimum[1], "*", color="crimson", markersize=13, label="minimum", zorder=5)
    ax.set_xlim(*_check_limits("xlim", xlim))
    ax.set_ylim(*_check_limits("ylim", ylim))
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    if paths or optimum is not None:
        ax.legend(fontsize=8, loc=legend_loc)
    ax.set_title(title or "")
    return _finish(fig, show)


def _as_curve(name: str, values: Any) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or len(arr) < 1:
        raise ValueError(f"expected curve {name!r} to be a non-empty 1-D sequence, got shape {arr.shape}")
    return arr


def plot_curves(
    curves: Mapping[str, Any],
    x: Any = None,
    reference: Mapping[str, Any] | None = None,
    reference_every: int = 1,
    xlabel: str = "step",
    ylabel: str = "loss",
    logy: bool = False,
    title: str | None = None,
    size: tuple[float, float] = (6.0, 3.6),
    show: bool = True,
) -> Any:
    """Curves over steps or epochs: losses, distances to the optimum, learning-rate schedules.

    Args:
        curves: ``{label: 1-D values}``, drawn as lines. Non-finite values (a diverged run) are left
            out of the line; with ``logy``, so are values <= 0.
        x: the common x values (default ``0, 1, 2, ...`` per curve).
        reference: ``{label: 1-D values}`` drawn as markers over the lines (e.g. what Keras computes
            for the same quantities), one marker every ``reference_every`` points; the k-th
            reference takes the colour of the k-th curve.
        reference_every: draw every k-th reference point (k >= 1).
        xlabel, ylabel: the axis labels.
        logy: a logarithmic y axis.
        title: the figure title.
        size: the figure size in inches.
        show: show the figure and return None, or return it.

    Raises:
        ValueError: if ``curves`` is empty, a curve is not 1-D, or a curve's length differs from ``x``'s.
    """
    check_arguments(plot_curves, locals(), x="array", curves="own", reference_every="own")
    import matplotlib.pyplot as plt

    if not isinstance(curves, Mapping) or not curves:
        raise ValueError(f"expected curves to be a non-empty dict {{label: values}}, got {type(curves).__name__}")
    if isinstance(reference_every, bool) or not isinstance(reference_every, int) or reference_every < 1:
        raise ValueError(f"expected reference_every to be an int >= 1, got {reference_every!r}")
    lines = {name: _as_curve(name, values) for name, values in curves.items()}
    refs = {name: _as_curve(name, values) for name, values in (reference or {}).items()}
    xs = None if x is None else _as_curve("x", x)
    for name, values in {**lines, **refs}.items():
        if xs is not None and len(values) != len(xs):
            raise ValueError(f"curve {name!r} has {len(values)} values but x has {len(xs)}")
    fig, ax = plt.subplots(figsize=size)

    def visible(values: np.ndarray) -> np.ndarray:
        ok = np.isfinite(values)
        return ok & (values > 0) if logy else ok

    colors = []
    for name, values in lines.items():
        at = xs if xs is not None else np.arange(len(values), dtype=float)
        keep = visible(values)
        (line,) = ax.plot(at[keep], values[keep], lw=1.5, label=name)
        colors.append(line.get_color())
    for k, (name, values) in enumerate(refs.items()):
        at = xs if xs is not None else np.arange(len(values), dtype=float)
        keep = visible(values) & (np.arange(len(values)) % reference_every == 0)
        color = colors[k] if k < len(colors) else None
        ax.plot(at[keep], values[keep], "o", color=color, markersize=4.5, mfc="none", mew=1.2,
                label=name)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    ax.set_title(title or "")
    return _finish(fig, show)
