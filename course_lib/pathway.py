"""The learning path (chapter 16): the course map, and choosing a model under constraints.

- :data:`CHAPTERS` and :data:`PREREQUISITES` -- the course's chapters and which ones each builds on;
- :func:`learning_order`, :func:`prerequisites_of`, :func:`chapter_depths` -- reading that graph
  (a valid study order, everything a chapter needs, how deep in the course it sits);
- :func:`plot_course_map` -- the graph drawn as a map, columns by depth;
- :class:`Candidate`, :func:`pareto_front`, :func:`choose_model`, :func:`plot_pareto` -- comparing
  trained models on accuracy, size and latency, and picking one with explicit constraints;
- :func:`measure_latency` -- the median wall-clock time of a call, in milliseconds.

The techniques the chapter teaches (distillation, quantisation, converting weights between
frameworks) are written in the notebook, where students read them; this module holds the
bookkeeping and the plots.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from course_lib._validate import check_arguments
from course_lib.plots import finish_figure

__all__ = [
    "learning_order", "prerequisites_of", "chapter_depths", "plot_course_map", "Candidate",
    "pareto_front", "choose_model", "plot_pareto", "measure_latency",
]

#: The chapters of the course: number -> short English title.
CHAPTERS: dict[str, str] = {
    "00": "getting started",
    "01": "what is a large model",
    "02": "neural networks",
    "03": "backpropagation",
    "04": "optimization",
    "05": "convolutional networks",
    "06": "recurrent networks",
    "07": "attention",
    "08": "transformer",
    "09": "pretraining and fine-tuning",
    "10": "language models",
    "11": "reinforcement learning",
    "12": "applications",
    "13": "distributed training",
    "14": "tools and deployment",
    "15": "responsible AI",
    "16": "learning path",
}

#: Which chapters each chapter builds on directly (its prerequisites, 先修).
PREREQUISITES: dict[str, tuple[str, ...]] = {
    "00": (),
    "01": ("00",),
    "02": ("01",),
    "03": ("02",),
    "04": ("03",),
    "05": ("04",),
    "06": ("04",),
    "07": ("06",),
    "08": ("07",),
    "09": ("05", "08"),
    "10": ("08",),
    "11": ("04",),
    "12": ("09", "10", "11"),
    "13": ("04",),
    "14": ("13",),
    "15": ("13",),          # trains dense networks with chapter 13's distributed loop; no CNN
    "16": ("12", "14", "15"),
}


#: Hand-placed rows of the default map (columns are depths): the trunk in the middle, vision above,
#: sequences in between, reinforcement learning and systems below.
_ROWS: dict[str, float] = {
    "00": 0, "01": 0, "02": 0, "03": 0, "04": 0, "05": 2, "09": 2, "06": 1, "07": 1, "08": 1, "10": 1,
    "12": 1, "11": 0, "16": 0, "13": -1, "14": -1, "15": -2,
}


def _check_graph(prerequisites: Mapping[str, Sequence[str]]) -> None:
    if not isinstance(prerequisites, Mapping) or not prerequisites:
        raise ValueError(f"expected prerequisites to be a non-empty mapping chapter -> prerequisites, got {prerequisites!r:.60}")
    for chapter, needs in prerequisites.items():
        if isinstance(needs, str) or not isinstance(needs, (list, tuple)):
            raise ValueError(f"prerequisites of {chapter!r} must be a sequence of chapters, got the string {needs!r}")
        unknown = [n for n in needs if n not in prerequisites]
        if unknown:
            raise ValueError(f"chapter {chapter!r} needs unknown chapters {unknown}")
        if chapter in needs:
            raise ValueError(f"chapter {chapter!r} lists itself as a prerequisite")


def learning_order(prerequisites: Mapping[str, Sequence[str]] = PREREQUISITES) -> list[str]:
    """A study order in which every chapter comes after all its prerequisites (a topological sort).

    Among the chapters that are ready, the smallest name comes first, so the result is unique.

    Raises:
        ValueError: for an unknown prerequisite or a cycle (no valid order exists).
    """
    check_arguments(learning_order, locals(), prerequisites="own")
    _check_graph(prerequisites)
    remaining = {c: set(needs) for c, needs in prerequisites.items()}
    order: list[str] = []
    while remaining:
        ready = sorted(c for c, needs in remaining.items() if not needs)
        if not ready:
            raise ValueError(f"the prerequisites form a cycle among {sorted(remaining)}")
        chapter = ready[0]
        order.append(chapter)
        del remaining[chapter]
        for needs in remaining.values():
            needs.discard(chapter)
    return order


def prerequisites_of(chapter: str, prerequisites: Mapping[str, Sequence[str]] = PREREQUISITES) -> list[str]:
    """Every chapter ``chapter`` builds on, directly or not, in study order."""
    check_arguments(prerequisites_of, locals(), chapter="own", prerequisites="own")
    _check_graph(prerequisites)
    if chapter not in prerequisites:
        raise ValueError(f"unknown chapter {chapter!r}; expected one of {sorted(prerequisites)}")
    seen: set[str] = set()
    stack = list(prerequisites[chapter])
    while stack:
        c = stack.pop()
        if c not in seen:
            seen.add(c)
            stack.extend(prerequisites[c])
    return [c for c in learning_order(prerequisites) if c in seen]


def chapter_depths(prerequisites: Mapping[str, Sequence[str]] = PREREQUISITES) -> dict[str, int]:
    """The length of the longest chain of prerequisites leading to each chapter (0 for a start)."""
    check_arguments(chapter_depths, locals())
    depth: dict[str, int] = {}
    for c in learning_order(prerequisites):
        depth[c] = 1 + max((depth[p] for p in prerequisites[c]), default=-1)
    return depth


def plot_course_map(
    chapters: Mapping[str, str] = CHAPTERS,
    prerequisites: Mapping[str, Sequence[str]] = PREREQUISITES,
    highlight: Sequence[str] = (),
    title: str = "the course as a map: arrows point from a chapter to what builds on it",
    show: bool = True,
) -> Any:
    """Draw the prerequisite graph: one column per depth, an arrow from each prerequisite.

    Args:
        chapters: chapter -> title (the label under the number).
        prerequisites: chapter -> the chapters it builds on.
        highlight: chapters drawn in a different colour (e.g. everything a goal needs).
        title: the figure's title.
    """
    check_arguments(plot_course_map, locals(), chapters="own", highlight="own", title="own")
    import matplotlib.pyplot as plt

    missing = sorted(set(prerequisites) - set(chapters))
    if missing:
        raise ValueError(f"no title for chapters {missing}")
    unknown = sorted(set(highlight) - set(prerequisites))
    if unknown:
        raise ValueError(f"cannot highlight unknown chapters {unknown}")
    depth = chapter_depths(prerequisites)
    columns: dict[int, list[str]] = {}
    for c in learning_order(prerequisites):
        columns.setdefault(depth[c], []).append(c)
    if set(prerequisites) <= set(_ROWS):
        pos = {c: (depth[c] * 1.6, float(_ROWS[c])) for c in prerequisites}
    else:
        pos = {}
        for d, members in columns.items():
            for i, c in enumerate(members):
                pos[c] = (d * 1.6, (len(members) - 1) / 2 - i)
    ys = [y for _, y in pos.values()]
    tallest = max(ys) - min(ys) + 1
    fig, ax = plt.subplots(figsize=(1.25 * len(columns) + 1, 1.05 * tallest + 1.4))
    for c, needs in prerequisites.items():
        for p in needs:
            ax.annotate("", xy=pos[c], xytext=pos[p],
                        arrowprops=dict(arrowstyle="-|>", color="0.55", lw=1, shrinkA=17, shrinkB=17))
    for c, (x, y) in pos.items():
        colour = "#f4a261" if c in highlight else "#a8dadc"
        ax.text(x, y, c, ha="center", va="center", fontsize=11, fontweight="bold",
                bbox=dict(boxstyle="round,pad=0.45", fc=colour, ec="0.3"))
        label = "\n".join(_wrap(chapters[c], 14))
        ax.text(x, y - 0.27, label, ha="center", va="top", fontsize=7)
    ax.set_xlim(-0.8, 1.6 * max(columns) + 0.8)
    ax.set_ylim(min(ys) - 0.75, max(ys) + 0.35)
    ax.axis("off")
    ax.set_title(title)
    return finish_figure(fig, show)


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


# --- choosing a model ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A trained model's measurements: its name, parameter count, test accuracy and latency."""

    name: str
    params: int
    accuracy: float
    latency_ms: float

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"expected a non-empty name, got {self.name!r}")
        if isinstance(self.params, bool) or not isinstance(self.params, (int, np.integer)) or self.params < 1:
            raise ValueError(f"{self.name}: expected params to be an int >= 1, got {self.params!r}")
        for label in ("accuracy", "latency_ms"):
            value = getattr(self, label)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise ValueError(f"{self.name}: expected {label} to be a number, got {type(value).__name__} {value!r:.40}")
        if not 0.0 <= float(self.accuracy) <= 1.0:
            raise ValueError(f"{self.name}: expected an accuracy in [0, 1], got {self.accuracy!r}")
        if not (math.isfinite(float(self.latency_ms)) and float(self.latency_ms) > 0):
            raise ValueError(f"{self.name}: expected a positive, finite latency in ms (latency_ms), got {self.latency_ms!r}")

    def dominates(self, other: "Candidate") -> bool:
        """At least as good on all three (accuracy, params, latency) and strictly better on one."""
        no_worse = (self.accuracy >= other.accuracy and self.params <= other.params
                    and self.latency_ms <= other.latency_ms)
        better = (self.accuracy > other.accuracy or self.params < other.params
                  or self.latency_ms < other.latency_ms)
        return no_worse and better


def _check_candidates(candidates: Sequence[Candidate]) -> list[Candidate]:
    if isinstance(candidates, (str, bytes)) or not hasattr(candidates, "__iter__"):
        raise ValueError(f"expected candidates to be a list of Candidate objects, got {type(candidates).__name__}")
    candidates = list(candidates)
    if not candidates:
        raise ValueError("expected candidates to hold at least one candidate")
    bad = [c for c in candidates if not isinstance(c, Candidate)]
    if bad:
        raise ValueError(f"candidates: expected Candidate objects, got {type(bad[0]).__name__}")
    names = [c.name for c in candidates]
    if len(set(names)) != len(names):
        raise ValueError(f"candidate names must be unique, got {names}")
    return candidates


def pareto_front(candidates: Sequence[Candidate]) -> list[Candidate]:
    """The candidates no other candidate dominates (the Pareto front, 帕累托前沿), in input order."""
    check_arguments(pareto_front, locals())
    candidates = _check_candidates(candidates)
    return [c for c in candidates if not any(o.dominates(c) for o in candidates)]


_PREFER = {
    "accuracy": lambda c: (-c.accuracy, c.params, c.latency_ms),
    "smallest": lambda c: (c.params, -c.accuracy, c.latency_ms),
    "fastest": lambda c: (c.latency_ms, -c.accuracy, c.params),
}


def choose_model(
    candidates: Sequence[Candidate],
    *,
    min_accuracy: float | None = None,
    max_params: int | None = None,
    max_latency_ms: float | None = None,
    prefer: str = "accuracy",
) -> Candidate:
    """Pick a model with a constraint-based rule: filter by hard limits, then optimise one goal.

    1. keep the candidates that meet every constraint given (``None`` means no limit);
    2. among them, return the best by ``prefer``: ``"accuracy"`` (most accurate; ties -> fewer
       parameters), ``"smallest"`` (fewest parameters; ties -> more accurate) or ``"fastest"``.

    The winner is always on the Pareto front of the feasible candidates.

    Raises:
        ValueError: for a bad argument, or when no candidate meets the constraints (the message
            says which constraint each one missed).
    """
    check_arguments(choose_model, locals(), max_params=None, min_accuracy="own", max_latency_ms="own", prefer="own")
    candidates = _check_candidates(candidates)
    if prefer not in _PREFER:
        raise ValueError(f"expected prefer to be one of {sorted(_PREFER)}, got {prefer!r}")
    for label, value in (("min_accuracy", min_accuracy), ("max_params", max_params), ("max_latency_ms", max_latency_ms)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float, np.number))):
            raise ValueError(f"expected {label} to be a number or None, got {value!r}")
        if value is not None and math.isnan(value):  # NaN compares False with everything: no limit at all
            raise ValueError(f"expected {label} to be a number or None, got NaN (use None for no limit)")
    reasons: dict[str, list[str]] = {}
    for c in candidates:
        missed = []
        if min_accuracy is not None and c.accuracy < min_accuracy:
            missed.append(f"accuracy {c.accuracy:.3f} < {min_accuracy}")
        if max_params is not None and c.params > max_params:
            missed.append(f"{c.params} params > {max_params}")
        if max_latency_ms is not None and c.latency_ms > max_latency_ms:
            missed.append(f"latency {c.latency_ms:.2f} ms > {max_latency_ms} ms")
        reasons[c.name] = missed
    feasible = [c for c in candidates if not reasons[c.name]]
    if not feasible:
        detail = "; ".join(f"{name}: {', '.join(r)}" for name, r in reasons.items())
        limits = ", ".join(f"{k}={v}" for k, v in (("min_accuracy", min_accuracy), ("max_params", max_params),
                                                   ("max_latency_ms", max_latency_ms)) if v is not None)
        raise ValueError(f"no candidate meets the constraints {limits} ({detail})")
    return min(feasible, key=_PREFER[prefer])


def plot_pareto(
    candidates: Sequence[Candidate],
    chosen: Candidate | None = None,
    min_accuracy: float | None = None,
    max_params: int | None = None,
    max_latency_ms: float | None = None,
    title: str = "choosing a model: accuracy against size and latency",
    show: bool = True,
) -> Any:
    """Accuracy against parameters and against latency (both log scale), Pareto front marked.

    Points on the front are filled, dominated points hollow; ``chosen`` is ringed; the constraints,
    if given, are drawn as dashed lines.
    """
    check_arguments(plot_pareto, locals(), max_params=None, chosen="own")
    if chosen is not None and not isinstance(chosen, Candidate):
        raise ValueError(f"expected chosen to be None or a Candidate, got {type(chosen).__name__}")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    candidates = _check_candidates(candidates)
    front = {c.name for c in pareto_front(candidates)}
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for ax, key, label, limit in (
        (axes[0], "params", "parameters (log scale)", max_params),
        (axes[1], "latency_ms", "latency of one batch (ms, log scale; this machine)", max_latency_ms),
    ):
        for c in candidates:
            x = getattr(c, key)
            on = c.name in front
            ax.scatter([x], [c.accuracy], s=70, color="C0" if on else "white", edgecolors="C0", zorder=3,
                       label=None)
            ax.annotate(c.name, (x, c.accuracy), textcoords="offset points", xytext=(6, -12), fontsize=9)
            if chosen is not None and c.name == chosen.name:
                ax.scatter([x], [c.accuracy], s=260, facecolors="none", edgecolors="C3", lw=2, zorder=4)
        if limit is not None:
            ax.axvline(limit, color="C3", ls="--", lw=1)
        if min_accuracy is not None:
            ax.axhline(min_accuracy, color="C3", ls="--", lw=1)
        ax.margins(x=0.18, y=0.12)
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.6g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(label)
    axes[0].set_ylabel("test accuracy")
    handles = [
        plt.Line2D([], [], ls="", marker="o", color="C0", label="Pareto front"),
        plt.Line2D([], [], ls="", marker="o", mfc="white", mec="C0", label="dominated"),
    ]
    if chosen is not None:
        handles.append(plt.Line2D([], [], ls="", marker="o", mfc="none", mec="C3", ms=12, label="chosen"))
    if any(v is not None for v in (min_accuracy, max_params, max_latency_ms)):
        handles.append(plt.Line2D([], [], ls="--", color="C3", label="constraint"))
    axes[1].legend(handles=handles, loc="lower right", fontsize=8)
    fig.suptitle(title)
    return finish_figure(fig, show)


#: The most timed (or warm-up) calls :func:`measure_latency` makes.
MAX_REPEATS = 10_000


def measure_latency(fn: Callable[[], Any], repeats: int = 7, warmup: int = 2) -> float:
    """The median wall-clock time of ``fn()`` in milliseconds, after ``warmup`` untimed calls.

    The median resists the outliers a busy machine produces; the result still depends on the
    machine and its load, so never compare it across machines.
    """
    check_arguments(measure_latency, locals(), fn="own", repeats="own", warmup="own")
    if not callable(fn):
        raise ValueError(f"expected a function to time (fn), got {type(fn).__name__}")
    for label, value, low in (("repeats", repeats, 1), ("warmup", warmup, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"expected {label} to be an int >= {low}, got {value!r}")
        if value > MAX_REPEATS:
            raise ValueError(f"expected {label} to be an int <= {MAX_REPEATS:,} (a median needs a few runs), got {value!r}")
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1000.0)
