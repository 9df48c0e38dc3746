"""Transformer building blocks as Keras layers, and the plots of chapter 08.

Chapter 08 derives every piece in its notebook (positional encoding, multi-head attention, the
encoder and decoder blocks); this module packages the same pieces as serializable Keras layers so
that chapters 08-10 can build models from them:

- :func:`sinusoidal_positions` -- the sinusoidal position table of Vaswani et al. (2017);
- :class:`PositionalEmbedding` -- token embedding plus sinusoidal or learned positions, masking
  the padding token 0;
- :class:`TransformerEncoderBlock` -- self-attention and a feed-forward network, each wrapped in a
  residual connection and layer normalization (post-norm, or pre-norm with ``norm_first=True``);
- :class:`TransformerDecoderBlock` -- causal self-attention, cross-attention to the encoder's
  output, and a feed-forward network, likewise wrapped;
- :func:`plot_positional_encoding`, :func:`plot_alignment` and :func:`plot_step_times` -- the
  chapter's figures.

Padding masks propagate the Keras way: a :class:`PositionalEmbedding` with ``mask_zero=True``
attaches a mask to its output, the blocks read it, pass it on, and never let a query attend to a
padded key. The layers are registered with ``keras.saving.register_keras_serializable`` (package
``course_lib``), so a model built from them saves to ``.keras`` and loads again.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import keras
import numpy as np
from keras import ops

from course_lib._validate import check_arguments

__all__ = [
    "sinusoidal_positions",
    "PositionalEmbedding",
    "TransformerEncoderBlock",
    "TransformerDecoderBlock",
    "plot_positional_encoding",
    "plot_step_times",
    "plot_alignment",
]

_POSITIONS = ("sinusoidal", "learned")


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"expected {name} to be an int >= 1, got {value!r}")
    return int(value)


def _rate(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise ValueError(f"expected {name} to be a float in [0, 1), got {value!r}")
    return float(value)


def sinusoidal_positions(length: int, depth: int) -> np.ndarray:
    """The sinusoidal position table, shape ``(length, depth)``, float32.

    ``PE[p, 2i] = sin(p / 10000^(2i/depth))`` and ``PE[p, 2i+1] = cos(p / 10000^(2i/depth))``
    (sines in the even columns, cosines in the odd ones, as in *Attention Is All You Need*).

    Raises:
        ValueError: if ``length`` or ``depth`` is not a positive int, or ``depth`` is odd.
    """
    check_arguments(sinusoidal_positions, locals(), length="own", depth="own")
    length = _positive_int("length", length)
    depth = _positive_int("depth", depth)
    if depth % 2:
        raise ValueError(f"expected an even depth (sine/cosine pairs), got {depth}")
    positions = np.arange(length)[:, None]
    two_i = np.arange(0, depth, 2)[None, :]
    angles = positions / np.power(10000.0, two_i / depth)
    table = np.zeros((length, depth))
    table[:, 0::2] = np.sin(angles)
    table[:, 1::2] = np.cos(angles)
    return table.astype("float32")


def _check_rank3(name: str, shape: Sequence[Any], depth: int | None = None) -> None:
    if len(shape) != 3:
        raise ValueError(f"expected {name} of rank 3 (batch, time, depth), got shape {tuple(shape)}")
    if depth is not None and shape[-1] is not None and shape[-1] != depth:
        raise ValueError(f"expected {name} with depth {depth}, got shape {tuple(shape)}")


@keras.saving.register_keras_serializable(package="course_lib")
class PositionalEmbedding(keras.layers.Layer):
    """Token embedding plus position information: ``E[token] * sqrt(d_model) + P[position]``.

    Args:
        vocab_size: number of token ids (id 0 is the padding token when ``mask_zero``).
        max_length: longest sequence the layer accepts.
        d_model: size of each vector.
        positions: ``"sinusoidal"`` (a fixed table, :func:`sinusoidal_positions`) or
            ``"learned"`` (a trainable ``Embedding(max_length, d_model)``).
        mask_zero: attach a padding mask (``tokens != 0``) to the output.

    Call arguments:
        tokens: int tensor ``(batch, time)`` with ``time <= max_length``.

    Raises:
        ValueError: for bad arguments, tokens that are not of rank 2, or longer than ``max_length``
            (checked whenever the length is known when the layer is called or traced).
    """

    def __init__(
        self,
        vocab_size: int,
        max_length: int,
        d_model: int,
        positions: str = "sinusoidal",
        mask_zero: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.vocab_size = _positive_int("vocab_size", vocab_size)
        self.max_length = _positive_int("max_length", max_length)
        self.d_model = _positive_int("d_model", d_model)
        if positions not in _POSITIONS:
            raise ValueError(f"expected positions to be one of {_POSITIONS}, got {positions!r}")
        if positions == "sinusoidal" and self.d_model % 2:
            raise ValueError(f"sinusoidal positions need an even d_model, got {d_model}")
        self.positions = positions
        self.mask_zero = bool(mask_zero)
        self.supports_masking = True
        self.token_embedding = keras.layers.Embedding(vocab_size, d_model, name="token_embedding")
        if positions == "learned":
            self.position_embedding = keras.layers.Embedding(max_length, d_model, name="position_embedding")
        else:
            self.position_embedding = None
            self._table = sinusoidal_positions(self.max_length, self.d_model)

    def build(self, input_shape: Sequence[Any]) -> None:
        if len(input_shape) != 2:
            raise ValueError(f"expected tokens of rank 2 (batch, time), got shape {tuple(input_shape)}")
        self.token_embedding.build(input_shape)
        if self.position_embedding is not None:
            self.position_embedding.build((self.max_length,))
        self.built = True

    def _check_tokens(self, shape: Sequence[Any]) -> None:
        if len(shape) != 2:
            raise ValueError(f"expected tokens of rank 2 (batch, time), got shape {tuple(shape)}")
        if shape[1] is not None and shape[1] > self.max_length:
            raise ValueError(
                f"expected at most max_length={self.max_length} positions, got shape {tuple(shape)}"
            )

    def call(self, tokens: Any) -> Any:
        self._check_tokens(tokens.shape)
        length = ops.shape(tokens)[1]
        x = self.token_embedding(tokens) * ops.sqrt(ops.cast(self.d_model, self.compute_dtype))
        if self.position_embedding is not None:
            pos = self.position_embedding(ops.arange(length))
        else:
            pos = ops.cast(ops.convert_to_tensor(self._table)[:length], self.compute_dtype)
        return x + pos[None, :, :]

    def compute_mask(self, tokens: Any, mask: Any = None) -> Any:
        if not self.mask_zero:
            return None
        return ops.not_equal(tokens, 0)

    def compute_output_shape(self, input_shape: Sequence[Any]) -> tuple:
        return (*tuple(input_shape), self.d_model)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            vocab_size=self.vocab_size, max_length=self.max_length, d_model=self.d_model,
            positions=self.positions, mask_zero=self.mask_zero,
        )
        return config


class _Block(keras.layers.Layer):
    """What the encoder and decoder blocks share: arguments, the feed-forward net, the norm order."""

    def __init__(
        self, num_heads: int, ff_dim: int, dropout: float = 0.0, norm_first: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.num_heads = _positive_int("num_heads", num_heads)
        self.ff_dim = _positive_int("ff_dim", ff_dim)
        self.dropout = _rate("dropout", dropout)
        self.norm_first = bool(norm_first)
        self.supports_masking = True

    def _make_attention(self, d_model: int, name: str) -> keras.layers.MultiHeadAttention:
        if d_model % self.num_heads:
            raise ValueError(
                f"expected a depth divisible by num_heads={self.num_heads}, got depth {d_model}"
            )
        return keras.layers.MultiHeadAttention(
            self.num_heads, key_dim=d_model // self.num_heads, dropout=self.dropout, name=name
        )

    def _make_feed_forward(self, d_model: int) -> None:
        self.ff_hidden = keras.layers.Dense(self.ff_dim, activation="relu", name="ff_hidden")
        self.ff_out = keras.layers.Dense(d_model, name="ff_out")
        self.ff_dropout = keras.layers.Dropout(self.dropout)

    def _feed_forward(self, x: Any, training: Any) -> Any:
        return self.ff_dropout(self.ff_out(self.ff_hidden(x)), training=training)

    def _sublayer(self, x: Any, norm: keras.layers.Layer, fn: Any) -> Any:
        """Residual and layer norm around ``fn``: post-norm ``norm(x + fn(x))`` or pre-norm ``x + fn(norm(x))``."""
        if self.norm_first:
            return x + fn(norm(x))
        return norm(x + fn(x))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            num_heads=self.num_heads, ff_dim=self.ff_dim, dropout=self.dropout, norm_first=self.norm_first
        )
        return config


def _key_mask(mask: Any) -> Any:
    """(batch, keys) padding mask -> (batch, 1, keys) attention mask (every query sees the same keys)."""
    return None if mask is None else ops.expand_dims(ops.cast(mask, "bool"), 1)


@keras.saving.register_keras_serializable(package="course_lib")
class TransformerEncoderBlock(_Block):
    """One encoder block: multi-head self-attention, then a position-wise feed-forward network.

    Each sub-layer is wrapped in a residual connection and layer normalization: post-norm
    ``LayerNorm(x + Sublayer(x))`` as in the original Transformer, or pre-norm
    ``x + Sublayer(LayerNorm(x))`` with ``norm_first=True``. Padded positions (the Keras mask of
    the input, or ``mask``) are never attended to, so they do not change the other outputs.

    Args:
        num_heads: attention heads; the input depth must be divisible by it.
        ff_dim: width of the feed-forward network's hidden layer.
        dropout: dropout rate on attention weights and sub-layer outputs.
        norm_first: pre-norm instead of post-norm.

    Call arguments:
        inputs: float tensor ``(batch, time, d_model)``.
        mask: optional bool tensor ``(batch, time)``, True for real tokens.
        return_attention_scores: also return the weights ``(batch, heads, time, time)``.
    """

    def build(self, input_shape: Sequence[Any]) -> None:
        _check_rank3("inputs", input_shape)
        d_model = input_shape[-1]
        self.attention = self._make_attention(d_model, "self_attention")
        self.attention.build(input_shape, input_shape)
        self._make_feed_forward(d_model)
        self.ff_hidden.build(input_shape)
        self.ff_out.build((*input_shape[:-1], self.ff_dim))
        self.norm1 = keras.layers.LayerNormalization(epsilon=1e-6, name="norm1")
        self.norm2 = keras.layers.LayerNormalization(epsilon=1e-6, name="norm2")
        self.norm1.build(input_shape)
        self.norm2.build(input_shape)
        self.attention_dropout = keras.layers.Dropout(self.dropout)
        self.built = True

    def call(self, inputs: Any, mask: Any = None, training: Any = None, return_attention_scores: bool = False) -> Any:
        _check_rank3("inputs", inputs.shape)
        keys = _key_mask(mask)
        scores = []

        def attend(x: Any) -> Any:
            out = self.attention(
                x, x, attention_mask=keys, training=training, return_attention_scores=return_attention_scores
            )
            if return_attention_scores:
                out, s = out
                scores.append(s)
            return self.attention_dropout(out, training=training)

        x = self._sublayer(inputs, self.norm1, attend)
        x = self._sublayer(x, self.norm2, lambda h: self._feed_forward(h, training))
        return (x, scores[0]) if return_attention_scores else x

    def compute_output_shape(self, input_shape: Sequence[Any]) -> tuple:
        return tuple(input_shape)


@keras.saving.register_keras_serializable(package="course_lib")
class TransformerDecoderBlock(_Block):
    """One decoder block: causal self-attention, cross-attention to the encoder, feed-forward.

    The causal mask lets position ``t`` attend only to positions ``<= t``, so training on a whole
    target sequence at once (teacher forcing) never lets a position see the tokens it must predict.
    Cross-attention takes its queries from the decoder and its keys and values from ``context``,
    the encoder's output; padded context positions are never attended to.

    Args:
        num_heads, ff_dim, dropout, norm_first: as for :class:`TransformerEncoderBlock`.

    Call arguments:
        inputs: float tensor ``(batch, target_time, d_model)``.
        context: float tensor ``(batch, source_time, d_model)``, the encoder's output.
        inputs_mask, context_mask: optional bool padding masks (taken from the tensors' Keras
            masks when not given).
        return_attention_scores: also return the cross-attention weights
            ``(batch, heads, target_time, source_time)``.
    """

    def build(self, inputs_shape: Sequence[Any], context_shape: Sequence[Any] | None = None) -> None:
        input_shape = inputs_shape
        _check_rank3("inputs", input_shape)
        d_model = input_shape[-1]
        if context_shape is None:
            context_shape = input_shape
        _check_rank3("context", context_shape, depth=d_model)
        self.self_attention = self._make_attention(d_model, "causal_self_attention")
        self.self_attention.build(input_shape, input_shape)
        self.cross_attention = self._make_attention(d_model, "cross_attention")
        self.cross_attention.build(input_shape, context_shape)
        self._make_feed_forward(d_model)
        self.ff_hidden.build(input_shape)
        self.ff_out.build((*input_shape[:-1], self.ff_dim))
        self.norm1 = keras.layers.LayerNormalization(epsilon=1e-6, name="norm1")
        self.norm2 = keras.layers.LayerNormalization(epsilon=1e-6, name="norm2")
        self.norm3 = keras.layers.LayerNormalization(epsilon=1e-6, name="norm3")
        for norm in (self.norm1, self.norm2, self.norm3):
            norm.build(input_shape)
        self.attention_dropout = keras.layers.Dropout(self.dropout)
        self.built = True

    def call(
        self,
        inputs: Any,
        context: Any,
        inputs_mask: Any = None,
        context_mask: Any = None,
        training: Any = None,
        return_attention_scores: bool = False,
    ) -> Any:
        _check_rank3("inputs", inputs.shape)
        _check_rank3("context", context.shape, depth=inputs.shape[-1])
        n = ops.shape(inputs)[1]
        causal = ops.tril(ops.ones((n, n), dtype="int32")) > 0  # (t, s): s <= t
        self_mask = causal[None, :, :]
        if inputs_mask is not None:
            self_mask = ops.logical_and(self_mask, _key_mask(inputs_mask))
        cross_mask = _key_mask(context_mask)
        scores = []

        def self_attend(x: Any) -> Any:
            out = self.self_attention(x, x, attention_mask=self_mask, training=training)
            return self.attention_dropout(out, training=training)

        def cross_attend(x: Any) -> Any:
            out = self.cross_attention(
                x, context, attention_mask=cross_mask, training=training,
                return_attention_scores=return_attention_scores,
            )
            if return_attention_scores:
                out, s = out
                scores.append(s)
            return self.attention_dropout(out, training=training)

        x = self._sublayer(inputs, self.norm1, self_attend)
        x = self._sublayer(x, self.norm2, cross_attend)
        x = self._sublayer(x, self.norm3, lambda h: self._feed_forward(h, training))
        return (x, scores[0]) if return_attention_scores else x

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        return previous_mask

    def compute_output_shape(self, inputs_shape: Sequence[Any], context_shape: Any = None) -> tuple:
        return tuple(inputs_shape)


# --- plots ------------------------------------------------------------------------------------


def plot_positional_encoding(table: Any, title: str | None = None, show: bool = True) -> Any:
    """The position table as an image (positions x dimensions) and a few of its columns as curves."""
    check_arguments(plot_positional_encoding, locals(), table="array")
    import matplotlib.pyplot as plt

    from course_lib.plots import finish_figure as _finish

    table = np.asarray(table, dtype=float)
    if table.ndim != 2:
        raise ValueError(f"expected a 2-D table (positions, depth), got shape {table.shape}")
    length, depth = table.shape
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4), gridspec_kw={"width_ratios": [1.2, 1]})
    im = left.imshow(table, cmap="RdBu", aspect="auto", vmin=-1, vmax=1)
    left.grid(False)
    left.set_xlabel("dimension")
    left.set_ylabel("position")
    left.set_title("PE[position, dimension]")
    fig.colorbar(im, ax=left)
    for col in sorted({0, 2 * (depth // 16), 2 * (depth // 8), 2 * (depth // 4)}):
        right.plot(np.arange(length), table[:, col], label=f"dim {col} (sine)")
    right.set_xlabel("position")
    right.set_ylabel("value")
    right.set_title("sine columns: the later, the slower")
    right.legend(fontsize=8, loc="lower left", framealpha=0.9)
    if title:
        fig.suptitle(title)
    return _finish(fig, show)


def plot_step_times(
    lengths: Sequence[int],
    panels: Mapping[str, Mapping[str, Sequence[float]]],
    xlabel: str = "sequence length",
    title: str | None = None,
    show: bool = True,
) -> Any:
    """Milliseconds per training step against sequence length: one panel per setting, one curve per model.

    Args:
        lengths: the sequence lengths (x axis).
        panels: ``{panel title: {model name: times in ms, one per length}}``.

    Raises:
        ValueError: if there is nothing to plot or a curve does not have one time per length.
    """
    check_arguments(plot_step_times, locals(), lengths="own")
    import matplotlib.pyplot as plt

    from course_lib.plots import finish_figure as _finish

    lengths = list(lengths)
    if not lengths or not panels or not all(panels.values()):
        raise ValueError("expected at least one length, one panel and one model per panel")
    for panel, curves in panels.items():
        for name, times in curves.items():
            if len(times) != len(lengths):
                raise ValueError(f"expected {len(lengths)} times for {name!r} in {panel!r}, got {len(times)}")
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.6), squeeze=False)
    for ax, (panel, curves) in zip(axes[0], panels.items()):
        for name, times in curves.items():
            ax.plot(lengths, times, marker="o", label=name)
        ax.set_xscale("log", base=2)
        ax.set_xticks(lengths, [str(n) for n in lengths])
        ax.set_xlabel(xlabel)
        ax.set_ylabel("ms per training step")
        ax.set_ylim(bottom=0)
        ax.set_title(panel)
        ax.legend()
    if title:
        fig.suptitle(title)
    return _finish(fig, show)


def plot_alignment(
    weights: Any,
    source_tokens: Sequence[str],
    target_tokens: Sequence[str],
    title: str | None = None,
    show: bool = True,
) -> Any:
    """Cross-attention weights (target x source) as a heatmap with the tokens on the axes.

    Args:
        weights: array ``(len(target_tokens), len(source_tokens))``, each row a distribution.
        source_tokens: labels of the columns (the keys, read by the decoder).
        target_tokens: labels of the rows (what each decoder position predicts).

    Raises:
        ValueError: if the shape does not match the labels.
    """
    check_arguments(plot_alignment, locals(), weights="array", source_tokens="own", target_tokens="own")
    import matplotlib.pyplot as plt

    from course_lib.plots import finish_figure as _finish

    w = np.asarray(weights, dtype=float)
    if w.ndim != 2 or w.shape != (len(target_tokens), len(source_tokens)):
        raise ValueError(
            f"expected weights of shape ({len(target_tokens)}, {len(source_tokens)}) "
            f"(target tokens, source tokens), got {w.shape}"
        )
    fig, ax = plt.subplots(figsize=(1.6 + 0.75 * w.shape[1], 1.2 + 0.42 * w.shape[0]))
    im = ax.imshow(w, cmap="viridis", vmin=0, aspect="auto")
    ax.grid(False)
    fig.colorbar(im, ax=ax, label="attention weight")
    ax.set_xticks(range(w.shape[1]), [str(t) for t in source_tokens], rotation=35, ha="right")
    ax.set_yticks(range(w.shape[0]), [str(t) for t in target_tokens])
    ax.set_xlabel("source token (key)")
    ax.set_ylabel("predicted token")
    ax.set_title(title or "")
    return _finish(fig, show)
