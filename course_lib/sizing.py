"""Sizing models: Transformer parameter counts from a configuration, FLOP counts of TF functions,
power-law fits, and the plots of chapter 01.

- :class:`TransformerConfig` and :func:`transformer_params` count the parameters of a GPT-style
  (decoder) or BERT-style (encoder) Transformer without building it; they reproduce published
  sizes exactly (GPT-2 small: 124,439,808).
- :func:`count_flops` counts the floating-point operations TensorFlow's profiler finds in the graph
  of a function (to check "2 FLOPs per weight per token" against TF itself).
- :func:`fit_power_law` fits ``y = coefficient * x ** exponent`` by least squares on logarithms.
- :func:`format_count`, :func:`format_bytes`, :func:`plot_power_law`, :func:`plot_log_bars`.

Importing this module does not import TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, NamedTuple, Sequence

import numpy as np

from course_lib._validate import check_arguments
from course_lib.plots import finish_figure

__all__ = [
    "TransformerConfig", "transformer_param_breakdown", "transformer_params", "count_flops",
    "PowerLaw", "fit_power_law", "format_count", "format_bytes", "plot_power_law", "plot_log_bars",
]

STYLES = ("decoder", "encoder")


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"expected {name} to be an int >= 1, got {value!r}")
    return int(value)


@dataclass(frozen=True, kw_only=True)
class TransformerConfig:
    """The hyper-parameters that fix a Transformer's parameter count.

    Attributes:
        vocab_size: tokens in the vocabulary (rows of the token embedding).
        context: longest sequence (rows of the learned position embedding).
        width: model dimension d (``d_model``, ``n_embd``, ``hidden_size``).
        layers: number of Transformer blocks.
        heads: attention heads; ``width`` must be divisible by it (each head gets width/heads dims).
            The count does not depend on it, since the heads split the same projections.
        ff_width: hidden units of the feed-forward network; ``None`` means ``4 * width``.
        tied_embeddings: the output projection reuses the token embedding (no extra parameters);
            ``False`` adds a separate ``vocab_size x width`` output matrix (without bias).
        style: ``"decoder"`` (GPT: token + position embeddings, pre-LayerNorm blocks, a final
            LayerNorm) or ``"encoder"`` (BERT: token + position + token-type embeddings, a
            LayerNorm on the embeddings, post-LayerNorm blocks, no final LayerNorm).
        biases: whether the attention projections, feed-forward layers and pooler have biases.
            LayerNorms always have a scale and a shift.
        type_vocab_size: token types (segments) of an encoder (BERT: 2); ignored for decoders.
        pooler: an encoder's pooler, a ``width x width`` dense layer on the first token.
        name: a label for tables.
    """

    vocab_size: int
    context: int
    width: int
    layers: int
    heads: int
    ff_width: int | None = None
    tied_embeddings: bool = True
    style: str = "decoder"
    biases: bool = True
    type_vocab_size: int = 2
    pooler: bool = False
    name: str = ""

    def __post_init__(self) -> None:
        for field in ("vocab_size", "context", "width", "layers", "heads"):
            _positive_int(field, getattr(self, field))
        if self.ff_width is not None:
            _positive_int("ff_width", self.ff_width)
        if self.width % self.heads:
            raise ValueError(
                f"width {self.width} is not divisible by heads {self.heads}: each head needs "
                f"width / heads dimensions; use e.g. heads={_divisor_near(self.width, self.heads)}"
            )
        if self.style not in STYLES:
            raise ValueError(f"expected style to be one of {STYLES}, got {self.style!r}")
        for field in ("tied_embeddings", "biases", "pooler"):
            if not isinstance(getattr(self, field), bool):
                raise ValueError(f"expected {field} to be True or False, got {getattr(self, field)!r}")
        if self.style == "encoder":
            _positive_int("type_vocab_size", self.type_vocab_size)
        elif self.pooler:
            raise ValueError("pooler=True applies to encoder-style (BERT) models, not style='decoder'")

    @property
    def ff(self) -> int:
        """The feed-forward width (``4 * width`` unless given)."""
        return self.ff_width if self.ff_width is not None else 4 * self.width


def _divisor_near(width: int, heads: int) -> int:
    divisors = [h for h in range(1, width + 1) if width % h == 0]
    return min(divisors, key=lambda h: (abs(h - heads), h))


def transformer_param_breakdown(config: TransformerConfig) -> dict[str, int]:
    """The parameters of each part of the Transformer described by ``config``.

    Per block: attention ``4 d^2 (+ 4 d)`` (query, key, value and output projections), feed-forward
    ``2 d f (+ f + d)``, two LayerNorms ``4 d``. Embeddings ``V d + n_ctx d`` (+ ``types d`` and an
    embedding LayerNorm ``2 d`` for encoders); a final LayerNorm ``2 d`` for decoders; an optional
    pooler ``d^2 (+ d)``; an untied output projection ``V d``.

    Raises:
        ValueError: if ``config`` is not a :class:`TransformerConfig`.
    """
    check_arguments(transformer_param_breakdown, locals(), config="own")
    if not isinstance(config, TransformerConfig):
        raise ValueError(f"expected a TransformerConfig as config, got {type(config).__name__}")
    d, f, n, b = config.width, config.ff, config.layers, int(config.biases)
    parts = {
        "token embeddings": config.vocab_size * d,
        "position embeddings": config.context * d,
    }
    if config.style == "encoder":
        parts["token-type embeddings"] = config.type_vocab_size * d
        parts["embedding LayerNorm"] = 2 * d
    parts["attention"] = n * (4 * d * d + b * 4 * d)
    parts["feed-forward"] = n * (2 * d * f + b * (f + d))
    parts["block LayerNorms"] = n * 2 * (2 * d)
    if config.style == "decoder":
        parts["final LayerNorm"] = 2 * d
    if config.pooler:
        parts["pooler"] = d * d + b * d
    parts["output projection"] = 0 if config.tied_embeddings else config.vocab_size * d
    return parts


def transformer_params(config: TransformerConfig) -> int:
    """The number of parameters of the Transformer described by ``config`` (an exact int).

    >>> transformer_params(TransformerConfig(vocab_size=50257, context=1024, width=768, layers=12, heads=12))
    124439808
    """
    check_arguments(transformer_params, locals())
    return sum(transformer_param_breakdown(config).values())


# --- counting FLOPs with TensorFlow's profiler ------------------------------------------------


def count_flops(fn: Callable[..., Any], *input_specs: Any) -> int:
    """Floating-point operations in the graph of ``fn`` traced for ``input_specs``.

    Traces ``fn`` with ``tf.function``, freezes its variables into constants and asks TensorFlow's
    (v1) profiler for ``float_ops``: a matrix product of (m, k) by (k, n) counts ``2 m k n``, an
    elementwise op one per element. Only ops with fully known shapes are counted.

    Args:
        fn: a function of tensors (e.g. a Keras model's forward pass, or a training step).
        input_specs: one ``tf.TensorSpec`` with a fully known shape per argument of ``fn``.

    Raises:
        ValueError: if a spec is not a ``tf.TensorSpec`` with a fully known shape.
    """
    check_arguments(count_flops, locals(), fn="own")
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    if not callable(fn):
        raise ValueError(f"expected a function, got {type(fn).__name__}")
    if not input_specs:
        raise ValueError("expected at least one tf.TensorSpec describing fn's input")
    for spec in input_specs:
        if not isinstance(spec, tf.TensorSpec) or not spec.shape.is_fully_defined():
            raise ValueError(f"expected tf.TensorSpec objects with fully known shapes, got {spec!r}")
    concrete = tf.function(fn, autograph=False).get_concrete_function(*input_specs)
    graph = convert_variables_to_constants_v2(concrete).graph
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return int(tf.compat.v1.profiler.profile(graph=graph, options=options).total_float_ops)


# --- power laws -------------------------------------------------------------------------------


class PowerLaw(NamedTuple):
    """``y = coefficient * x ** exponent`` (a straight line on log-log axes)."""

    coefficient: float
    exponent: float

    def __call__(self, x: Any) -> np.ndarray:
        return self.coefficient * np.asarray(x, dtype=float) ** self.exponent

    def __str__(self) -> str:
        return f"y = {self.coefficient:.4g} * x^{self.exponent:.3f}"


def fit_power_law(x: Sequence[float], y: Sequence[float]) -> PowerLaw:
    """Least-squares fit of ``log y = log c + k log x`` (``np.polyfit`` of degree 1 on logarithms).

    Returns:
        ``PowerLaw(coefficient=c, exponent=k)``; a decreasing curve has ``k < 0``.

    Raises:
        ValueError: unless x and y are 1-D, of the same length >= 2, finite and positive, with at
            least two distinct x.
    """
    check_arguments(fit_power_law, locals(), x="own", y="own")
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if xs.ndim != 1 or ys.ndim != 1 or len(xs) != len(ys):
        raise ValueError(f"expected x and y of the same 1-D length, got shapes {xs.shape} and {ys.shape}")
    if len(xs) < 2 or len(np.unique(xs)) < 2:
        raise ValueError("expected at least two points with distinct x to fit a line")
    if not (np.all(np.isfinite(xs)) and np.all(np.isfinite(ys)) and np.all(xs > 0) and np.all(ys > 0)):
        raise ValueError("expected finite, positive x and y: a power law is fitted on their logarithms")
    slope, intercept = np.polyfit(np.log(xs), np.log(ys), 1)
    return PowerLaw(coefficient=float(np.exp(intercept)), exponent=float(slope))


# --- formatting ---------------------------------------------------------------------------------


def format_count(n: float) -> str:
    """A count with a decimal suffix: ``124439808 -> '124.4M'``, ``1.75e11 -> '175.0B'``."""
    check_arguments(format_count, locals(), n="own")
    n = float(n)
    if not np.isfinite(n) or n < 0:
        raise ValueError(f"expected a finite, non-negative number, got {n!r}")
    for factor, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if n >= factor:
            return f"{n / factor:.1f}{suffix}"
    return f"{n:g}"


def format_bytes(n: float) -> str:
    """Bytes in decimal units (1 GB = 10^9 bytes, as accelerator memory is sold): ``'497.8 MB'``."""
    check_arguments(format_bytes, locals(), n="own")
    n = float(n)
    if not np.isfinite(n) or n < 0:
        raise ValueError(f"expected a finite, non-negative number of bytes, got {n!r}")
    for factor, unit in ((1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB")):
        if n >= factor:
            return f"{n / factor:.1f} {unit}"
    return f"{n:g} B"


# --- plots --------------------------------------------------------------------------------------


def plot_power_law(
    x: Sequence[float],
    y: Sequence[float],
    fit: PowerLaw | None = None,
    labels: Sequence[str] | None = None,
    fitted: Sequence[bool] | None = None,
    xlabel: str = "parameters",
    ylabel: str = "test loss",
    title: str | None = None,
    show: bool = True,
) -> Any:
    """Points on log-log axes, each optionally labelled, with a fitted power law as a line.

    ``fitted`` marks the points the fit used (filled); the others are drawn hollow.
    """
    check_arguments(plot_power_law, locals(), x="own", y="own", labels="own", fitted="own")
    import matplotlib.pyplot as plt


    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if xs.shape != ys.shape or xs.ndim != 1 or not len(xs):
        raise ValueError(f"expected x and y of the same 1-D length, got shapes {xs.shape} and {ys.shape}")
    if np.any(xs <= 0) or np.any(ys <= 0):
        raise ValueError("expected positive x and y for log-log axes")
    if labels is not None and len(labels) != len(xs):
        raise ValueError(f"expected {len(xs)} labels, got {len(labels)}")
    used = np.ones(len(xs), bool) if fitted is None else np.asarray(fitted, dtype=bool)
    if used.shape != xs.shape:
        raise ValueError(f"expected {len(xs)} values in fitted, got {used.shape}")
    fig, ax = plt.subplots(figsize=(6.0, 3.8))
    ax.loglog(xs[used], ys[used], "o", color="C0", label="measured" if used.all() else "measured, fitted")
    if not used.all():
        ax.loglog(xs[~used], ys[~used], "o", color="C0", markerfacecolor="none", label="measured, not fitted")
    if labels is not None:
        for xi, yi, text in zip(xs, ys, labels):
            ax.annotate(str(text), (xi, yi), textcoords="offset points", xytext=(4, 5), fontsize=8)
    if fit is not None:
        grid = np.geomspace(xs.min(), xs.max(), 50)
        ax.loglog(grid, fit(grid), "--", color="C1", label=f"fit: {fit}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    ax.set_title(title or "")
    return finish_figure(fig, show)


def plot_log_bars(
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    ylabel: str,
    title: str | None = None,
    hlines: Mapping[str, float] | None = None,
    show: bool = True,
) -> Any:
    """Grouped bars on a logarithmic y axis (one group per label, one bar per series).

    ``hlines`` draws labelled horizontal reference lines (e.g. one accelerator's memory).
    """
    check_arguments(plot_log_bars, locals(), labels="own", series="own", show="own")
    import matplotlib.pyplot as plt


    if not labels or not series:
        raise ValueError("expected at least one label and one series")
    for name, values in series.items():
        if len(values) != len(labels):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(labels)} labels")
        if np.any(np.asarray(values, dtype=float) <= 0):
            raise ValueError(f"series {name!r} has values <= 0, which a log axis cannot show")
    fig, ax = plt.subplots(figsize=(max(6.0, 1.3 * len(labels) + 1.5), 3.8))
    width = 0.8 / len(series)
    positions = np.arange(len(labels))
    for i, (name, values) in enumerate(series.items()):
        ax.bar(positions + (i - (len(series) - 1) / 2) * width, values, width, label=name)
    for i, (name, value) in enumerate((hlines or {}).items()):
        ax.axhline(value, color=f"C{len(series) + i}", linestyle="--", linewidth=1, label=name)
    ax.set_yscale("log")
    ax.set_xticks(positions, [str(s) for s in labels])
    ax.set_ylabel(ylabel)
    ax.grid(True, axis="y", which="major", alpha=0.3)
    ax.grid(False, axis="x")
    ax.legend(fontsize=8)
    ax.set_title(title or "")
    return finish_figure(fig, show)
