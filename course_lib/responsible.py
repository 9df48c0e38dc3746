"""Responsible AI (chapter 15): a generated lending dataset with injected bias, and the plots.

- :func:`make_lending_data` -- a tabular dataset generated from a seed, with a sensitive
  attribute, a proxy of it, and *historical* labels into which a known bias was injected
  (the datasheet is in the docstring and in the chapter);
- :func:`plot_attributions` -- input images beside attribution maps (saliency, integrated gradients);
- :func:`plot_curves` -- several named curves over one x axis (accuracy under attack, convergence);
- :func:`plot_roc` -- ROC curves of a membership-inference attack, from member / non-member scores;
- :func:`plot_grouped_bars` -- grouped bars (per-group rates before and after a mitigation, energy).

The metrics the chapter teaches (saliency, integrated gradients, fairness gaps, AUC, DP-SGD,
FGSM, energy) are written in the notebook, where students read them; this module only holds what
would clutter a cell.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from course_lib._validate import check_arguments, check_seed

from course_lib.plots import finish_figure

__all__ = [
    "make_lending_data", "plot_attributions", "plot_curves", "plot_roc", "plot_grouped_bars",
]

FEATURES = ("income_score", "test_score", "neighbourhood")


def _fraction(name: str, value: Any, low: float = 0.0, high: float = 1.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"expected {name} to be a number in [{low}, {high}], got {value!r}")
    if not low <= float(value) <= high:
        raise ValueError(f"expected {name} to be in [{low}, {high}], got {value!r}")
    return float(value)


def make_lending_data(
    n: int = 6000, minority_share: float = 0.3, flip_rate: float = 0.4, seed: int = 0
) -> dict[str, np.ndarray]:
    """A generated loan-approval dataset whose historical labels are biased against group 1.

    Datasheet (what is generated, and what bias is injected):

    - ``group`` (the sensitive attribute, 0 or 1): group 1 is a minority, ``P(group=1) = minority_share``.
    - ``merit``: each applicant's true creditworthiness, standard normal **in both groups** —
      by construction the groups are equally qualified.
    - ``qualified`` = 1 when ``merit + N(0, 0.3²) > 0``: would repay the loan (the ground truth a
      real lender never fully observes).
    - features ``x`` (n, 3): ``income_score`` and ``test_score`` are noisy measurements of merit
      (``merit + N(0, 0.7²)`` each); ``neighbourhood`` is ``group + N(0, 0.5²)``: it says nothing
      about merit, but it reveals the group (a *proxy*, like a postcode).
    - ``label``: the **historical decision** (1 = approved) a model would be trained on. It equals
      ``qualified``, except that each qualified applicant of group 1 was turned down with
      probability ``flip_rate`` — the injected bias, standing for past discrimination recorded
      in the data.
    - ``split``: ``"train"`` for the first 2/3 of the rows, ``"test"`` for the rest.

    Args:
        n: number of applicants (30 to 10,000,000).
        minority_share: share of group 1, in (0, 1).
        flip_rate: probability that a qualified applicant of group 1 has the label 0, in [0, 1].
        seed: seed of the NumPy generator; the same seed gives the same data.

    Returns:
        ``{"x", "group", "merit", "qualified", "label", "split"}``, arrays of length ``n``
        (``x`` has shape (n, 3), columns :data:`FEATURES`).

    Raises:
        ValueError: for a bad argument.
    """
    check_arguments(make_lending_data, locals(), n="own", minority_share="own", flip_rate="own")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 30 <= n <= 10_000_000:
        raise ValueError(f"expected n to be an int >= 30 (and <= 10,000,000), got {n!r}")
    check_seed(seed)
    share = _fraction("minority_share", minority_share)
    if share in (0.0, 1.0):
        raise ValueError(f"expected minority_share strictly between 0 and 1, got {minority_share!r}")
    flip = _fraction("flip_rate", flip_rate)
    rng = np.random.default_rng(seed)
    group = (rng.random(n) < share).astype(np.int64)
    merit = rng.normal(size=n)
    qualified = (merit + rng.normal(scale=0.3, size=n) > 0).astype(np.int64)
    x = np.stack([
        merit + rng.normal(scale=0.7, size=n),
        merit + rng.normal(scale=0.7, size=n),
        group + rng.normal(scale=0.5, size=n),
    ], axis=1).astype(np.float32)
    turned_down = (group == 1) & (qualified == 1) & (rng.random(n) < flip)
    label = np.where(turned_down, 0, qualified).astype(np.int64)
    split = np.where(np.arange(n) < 2 * n // 3, "train", "test")
    return {"x": x, "group": group, "merit": merit, "qualified": qualified, "label": label, "split": split}


def plot_attributions(
    images: Any,
    maps: Mapping[str, Any],
    labels: Sequence[Any] | None = None,
    title: str | None = None,
    show: bool = True,
) -> Any:
    """One row per image: the image (8×8 or any square), then each attribution map beside it.

    Attribution maps use a diverging colour map centred on 0 (red: raises the class score, blue:
    lowers it), scaled per map to its largest absolute value.

    Args:
        images: (n, h, w) or (n, h*w) with h == w.
        maps: ``{column title: array of the same shape as images}``.
        labels: optional text per row (e.g. the predicted digit).

    Raises:
        ValueError: if shapes disagree or ``maps`` is empty.
    """
    check_arguments(plot_attributions, locals(), images="array", labels="own")
    import matplotlib.pyplot as plt

    images = np.asarray(images, dtype=float)
    if images.ndim not in (2, 3) or len(images) == 0:
        raise ValueError(f"expected images of shape (n, h, w) or (n, h*w), got shape {images.shape}")
    if not maps:
        raise ValueError("expected at least one attribution map")
    side = int(round(np.sqrt(np.prod(images.shape[1:]))))
    if side * side != int(np.prod(images.shape[1:])):
        raise ValueError(f"expected square images, got shape {images.shape}")
    grids = {}
    for name, m in maps.items():
        m = np.asarray(m, dtype=float)
        if m.shape != images.shape:
            raise ValueError(f"map {name!r} has shape {m.shape}, expected the images' shape {images.shape}")
        grids[name] = m.reshape(len(m), side, side)
    images = images.reshape(len(images), side, side)
    if labels is not None and len(labels) != len(images):
        raise ValueError(f"expected {len(images)} labels, got {len(labels)}")
    rows, cols = len(images), 1 + len(grids)
    fig, axes = plt.subplots(rows, cols, figsize=(1.6 * cols, 1.6 * rows), squeeze=False)
    for r in range(rows):
        axes[r, 0].imshow(images[r], cmap="gray_r")
        axes[r, 0].set_ylabel(str(labels[r]) if labels is not None else "", rotation=0, labelpad=12)
        for c, (name, grid) in enumerate(grids.items(), start=1):
            limit = np.abs(grid[r]).max() or 1.0
            axes[r, c].imshow(grid[r], cmap="RdBu_r", vmin=-limit, vmax=limit)
        if r == 0:
            for c, name in enumerate(["input", *grids]):
                axes[0, c].set_title(name, fontsize=9)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=10)
    return finish_figure(fig, show)


def plot_curves(
    x: Sequence[float],
    curves: Mapping[str, Sequence[float]],
    xlabel: str,
    ylabel: str,
    title: str | None = None,
    logy: bool = False,
    show: bool = True,
) -> Any:
    """Named curves over one x axis, with markers (e.g. accuracy against the attack's ε).

    Raises:
        ValueError: if ``curves`` is empty or a curve's length differs from ``x``'s.
    """
    check_arguments(plot_curves, locals(), x="own")
    import matplotlib.pyplot as plt

    x = np.asarray(x, dtype=float)
    if not curves:
        raise ValueError("expected at least one curve")
    fig, ax = plt.subplots(figsize=(5.2, 3.3))
    for name, y in curves.items():
        y = np.asarray(y, dtype=float)
        if y.shape != x.shape:
            raise ValueError(f"curve {name!r} has {y.shape} points, expected {x.shape} like x")
        ax.plot(x, y, marker="o", label=name)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    return finish_figure(fig, show)


def _roc_points(members: np.ndarray, non_members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    thresholds = np.unique(np.concatenate([members, non_members]))[::-1]
    tpr = np.array([0.0, *[(members >= t).mean() for t in thresholds]])
    fpr = np.array([0.0, *[(non_members >= t).mean() for t in thresholds]])
    return fpr, tpr


def plot_roc(scores: Mapping[str, tuple[Any, Any]], title: str | None = None, show: bool = True) -> Any:
    """ROC curves of attacks: ``{name: (member scores, non-member scores)}``, higher = "member".

    Each curve is the true-positive rate (members caught) against the false-positive rate
    (non-members accused) over every threshold; the diagonal is guessing.

    Raises:
        ValueError: if ``scores`` is empty or a score array is empty or not 1-D.
    """
    check_arguments(plot_roc, locals(), scores="own")
    import matplotlib.pyplot as plt

    if not scores:
        raise ValueError("expected at least one (member scores, non-member scores) pair")
    fig, ax = plt.subplots(figsize=(3.8, 3.6))
    for name, pair in scores.items():
        if len(pair) != 2:
            raise ValueError(f"expected {name!r} to map to (member scores, non-member scores)")
        members, non_members = (np.asarray(p, dtype=float) for p in pair)
        if members.ndim != 1 or non_members.ndim != 1 or not len(members) or not len(non_members):
            raise ValueError(f"expected non-empty 1-D score arrays for {name!r}, got shapes "
                             f"{members.shape} and {non_members.shape}")
        fpr, tpr = _roc_points(members, non_members)
        ax.plot(fpr, tpr, label=name)
    ax.plot([0, 1], [0, 1], "k--", lw=0.8, label="chance")
    ax.set_xlabel("false-positive rate (non-members flagged)")
    ax.set_ylabel("true-positive rate (members found)")
    ax.set_aspect("equal")
    ax.legend(fontsize=8, loc="lower right")
    if title:
        ax.set_title(title, fontsize=10)
    return finish_figure(fig, show)


def plot_grouped_bars(
    groups: Mapping[str, Mapping[str, float]],
    ylabel: str,
    title: str | None = None,
    logy: bool = False,
    show: bool = True,
) -> Any:
    """Grouped bars: ``{group label: {series: value}}``, every group with the same series.

    Raises:
        ValueError: if ``groups`` is empty or the groups do not share the same series.
    """
    check_arguments(plot_grouped_bars, locals())
    import matplotlib.pyplot as plt

    if not groups:
        raise ValueError("expected at least one group of bars")
    series = list(next(iter(groups.values())))
    for label, values in groups.items():
        if list(values) != series:
            raise ValueError(f"group {label!r} has series {list(values)}, expected {series}")
    width = 0.8 / len(series)
    fig, ax = plt.subplots(figsize=(1.2 + 1.3 * len(groups), 3.3))
    positions = np.arange(len(groups))
    for i, name in enumerate(series):
        values = [groups[g][name] for g in groups]
        ax.bar(positions + (i - (len(series) - 1) / 2) * width, values, width, label=name)
    ax.set_xticks(positions)
    ax.set_xticklabels(list(groups), fontsize=9)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return finish_figure(fig, show)
