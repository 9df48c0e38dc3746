"""Unit tests of course_lib.sizing: Transformer parameter counts, FLOP counts, power-law fits, plots."""

import dataclasses

import keras
import matplotlib
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from course_lib import sizing
from course_lib.sizing import TransformerConfig, transformer_param_breakdown, transformer_params

GPT2 = dict(vocab_size=50257, context=1024)
BERT = dict(vocab_size=30522, context=512, style="encoder")


# --- published sizes ----------------------------------------------------------------------------

def test_gpt2_small_is_exact():
    config = TransformerConfig(**GPT2, width=768, layers=12, heads=12, ff_width=3072, tied_embeddings=True)
    assert transformer_params(config) == 124_439_808


@pytest.mark.parametrize(
    "width, layers, heads, expected",
    [(1024, 24, 16, 354_823_168), (1280, 36, 20, 774_030_080), (1600, 48, 25, 1_557_611_200)],
)
def test_larger_gpt2_sizes(width, layers, heads, expected):
    assert transformer_params(TransformerConfig(**GPT2, width=width, layers=layers, heads=heads)) == expected


def test_bert_base_with_and_without_pooler():
    without = TransformerConfig(**BERT, width=768, layers=12, heads=12)
    with_pooler = dataclasses.replace(without, pooler=True)
    assert transformer_params(without) == 108_891_648
    assert transformer_params(with_pooler) == 109_482_240
    assert transformer_params(with_pooler) - transformer_params(without) == 768 * 768 + 768


def test_bert_large():
    config = TransformerConfig(**BERT, width=1024, layers=24, heads=16, pooler=True)
    assert transformer_params(config) == 335_141_888


def test_gpt3_is_about_175_billion():
    config = TransformerConfig(vocab_size=50257, context=2048, width=12288, layers=96, heads=96)
    assert transformer_params(config) == 174_604_259_328
    assert abs(transformer_params(config) / 175e9 - 1) < 0.01


# --- structure of the count -----------------------------------------------------------------------

@pytest.mark.parametrize("style", ["decoder", "encoder"])
def test_untied_adds_vocab_times_width(style):
    tied = TransformerConfig(vocab_size=1000, context=64, width=48, layers=3, heads=4, style=style)
    untied = dataclasses.replace(tied, tied_embeddings=False)
    assert transformer_params(untied) - transformer_params(tied) == 1000 * 48


def test_biases_count():
    config = TransformerConfig(vocab_size=100, context=16, width=32, layers=2, heads=4, ff_width=80)
    no_bias = dataclasses.replace(config, biases=False)
    assert transformer_params(config) - transformer_params(no_bias) == 2 * (4 * 32 + 80 + 32)


def test_ff_width_defaults_to_four_times_width():
    a = TransformerConfig(vocab_size=100, context=16, width=32, layers=2, heads=4)
    b = TransformerConfig(vocab_size=100, context=16, width=32, layers=2, heads=4, ff_width=128)
    assert a.ff == 128 and transformer_params(a) == transformer_params(b)


def test_heads_do_not_change_the_count():
    counts = {transformer_params(TransformerConfig(vocab_size=100, context=16, width=48, layers=2, heads=h))
              for h in (1, 2, 3, 4, 6, 8, 12)}
    assert len(counts) == 1


def test_breakdown_sums_to_total_and_names_parts():
    config = TransformerConfig(**BERT, width=64, layers=2, heads=4, pooler=True)
    parts = transformer_param_breakdown(config)
    assert sum(parts.values()) == transformer_params(config)
    assert {"token-type embeddings", "embedding LayerNorm", "pooler"} <= set(parts)
    assert "final LayerNorm" not in parts
    decoder = transformer_param_breakdown(TransformerConfig(**GPT2, width=64, layers=2, heads=4))
    assert "final LayerNorm" in decoder and "pooler" not in decoder


# --- agreement with Keras models --------------------------------------------------------------------

class _Block(keras.layers.Layer):
    def __init__(self, c, pre_norm, **kwargs):
        super().__init__(**kwargs)
        self.pre_norm = pre_norm
        self.ln_1, self.ln_2 = keras.layers.LayerNormalization(), keras.layers.LayerNormalization()
        self.att = keras.layers.MultiHeadAttention(c.heads, c.width // c.heads, use_bias=c.biases)
        self.up = keras.layers.Dense(c.ff, activation="gelu", use_bias=c.biases)
        self.down = keras.layers.Dense(c.width, use_bias=c.biases)

    def call(self, x):
        if self.pre_norm:
            h = self.ln_1(x)
            x = x + self.att(h, h)
            return x + self.down(self.up(self.ln_2(x)))
        x = self.ln_1(x + self.att(x, x))
        return self.ln_2(x + self.down(self.up(x)))


class _Transformer(keras.Model):
    def __init__(self, c, **kwargs):
        super().__init__(**kwargs)
        self.c = c
        self.tok = keras.layers.Embedding(c.vocab_size, c.width)
        self.pos = keras.layers.Embedding(c.context, c.width)
        self.blocks = [_Block(c, pre_norm=c.style == "decoder") for _ in range(c.layers)]
        self.ln = keras.layers.LayerNormalization()  # final (decoder) or embedding (encoder) norm
        if c.style == "encoder":
            self.types = keras.layers.Embedding(c.type_vocab_size, c.width)
        self.pooler = keras.layers.Dense(c.width, activation="tanh", use_bias=c.biases) if c.pooler else None
        self.head = None if c.tied_embeddings else keras.layers.Dense(c.vocab_size, use_bias=False)

    def call(self, ids):
        x = self.tok(ids) + self.pos(ops.arange(ops.shape(ids)[1]))
        if self.c.style == "encoder":
            x = self.ln(x + self.types(ops.zeros_like(ids)))
        for block in self.blocks:
            x = block(x)
        if self.c.style == "decoder":
            x = self.ln(x)
        logits = ops.matmul(x, ops.transpose(self.tok.embeddings)) if self.head is None else self.head(x)
        return (logits, self.pooler(x[:, 0])) if self.pooler is not None else logits


@pytest.mark.parametrize(
    "changes",
    [
        {}, {"tied_embeddings": False}, {"biases": False}, {"style": "encoder"},
        {"style": "encoder", "pooler": True, "tied_embeddings": False}, {"style": "encoder", "type_vocab_size": 3},
    ],
)
def test_count_matches_a_keras_model(changes):
    config = dataclasses.replace(
        TransformerConfig(vocab_size=57, context=12, width=24, layers=2, heads=3, ff_width=40), **changes
    )
    model = _Transformer(config)
    model(np.zeros((2, config.context), "int32"))
    assert model.count_params() == transformer_params(config)


# --- validation -----------------------------------------------------------------------------------------

def test_width_not_divisible_by_heads_is_refused():
    with pytest.raises(ValueError, match="width 768 is not divisible by heads 10"):
        TransformerConfig(**GPT2, width=768, layers=12, heads=10)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"layers": 0}, "layers to be an int >= 1"),
        ({"width": -8}, "width to be an int >= 1"),
        ({"vocab_size": 10.5}, "vocab_size to be an int"),
        ({"heads": True}, "heads to be an int"),
        ({"ff_width": 0}, "ff_width to be an int >= 1"),
        ({"style": "seq2seq"}, "style to be one of"),
        ({"pooler": True}, "pooler=True applies to encoder-style"),
        ({"tied_embeddings": "yes"}, "tied_embeddings to be True or False"),
        ({"style": "encoder", "type_vocab_size": 0}, "type_vocab_size to be an int >= 1"),
    ],
)
def test_bad_configs_are_refused(changes, message):
    base = dict(vocab_size=100, context=16, width=32, layers=2, heads=4)
    with pytest.raises(ValueError, match=message):
        TransformerConfig(**{**base, **changes})


def test_breakdown_refuses_other_objects():
    with pytest.raises(ValueError, match="expected a TransformerConfig"):
        transformer_params({"width": 768})


# --- FLOPs ------------------------------------------------------------------------------------------------

def test_count_flops_of_a_dense_stack():
    model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(8), keras.layers.Dense(4)])
    flops = sizing.count_flops(lambda x: model(x), tf.TensorSpec((5, 16)))
    assert flops == 2 * 5 * (16 * 8 + 8 * 4) + 5 * (8 + 4)


def test_count_flops_of_forward_and_backward_is_about_six_per_parameter():
    layers = [keras.layers.Dense(32, use_bias=False) for _ in range(3)]
    model = keras.Sequential([keras.Input((32,)), *layers])

    def step(x, upstream):
        with tf.GradientTape() as tape:
            y = model(x)
        return y, tape.gradient(y, model.trainable_variables, output_gradients=upstream)

    n = model.count_params()
    assert sizing.count_flops(step, tf.TensorSpec((4, 32)), tf.TensorSpec((4, 32))) == 2 * 4 * n * (3 - 1 / 3)


@pytest.mark.parametrize(
    "fn, specs, message",
    [
        (lambda x: x, (), "at least one tf.TensorSpec"),
        (lambda x: x, ((4, 3),), "tf.TensorSpec objects with fully known shapes"),
        (lambda x: x, (tf.TensorSpec((None, 3)),), "fully known shapes"),
        ("not a function", (tf.TensorSpec((4, 3)),), "expected a function"),
    ],
)
def test_count_flops_validates(fn, specs, message):
    with pytest.raises(ValueError, match=message):
        sizing.count_flops(fn, *specs)


# --- power laws ---------------------------------------------------------------------------------------------

def test_fit_power_law_recovers_an_exact_law():
    x = np.array([10, 100, 1000, 10000])
    law = sizing.fit_power_law(x, 3.0 * x**-0.25)
    assert law.coefficient == pytest.approx(3.0) and law.exponent == pytest.approx(-0.25)
    np.testing.assert_allclose(law(x), 3.0 * x**-0.25)
    assert str(law) == "y = 3 * x^-0.250"


@pytest.mark.parametrize(
    "x, y, message",
    [
        ([1, 2, 3], [1, 2], "same 1-D length"),
        ([[1, 2]], [[1, 2]], "same 1-D length"),
        ([5], [1], "at least two points"),
        ([4, 4, 4], [1, 2, 3], "distinct x"),
        ([1, 2, 3], [1, 0, 2], "positive"),
        ([-1, 2, 3], [1, 1, 2], "positive"),
        ([1, 2, np.nan], [1, 1, 2], "finite"),
    ],
)
def test_fit_power_law_validates(x, y, message):
    with pytest.raises(ValueError, match=message):
        sizing.fit_power_law(x, y)


# --- formatting and plots ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "n, text",
    [(124_439_808, "124.4M"), (174_604_259_328, "174.6B"), (1.4e12, "1.4T"), (1_538, "1.5K"), (12, "12")],
)
def test_format_count(n, text):
    assert sizing.format_count(n) == text


@pytest.mark.parametrize("n, text", [(497_759_232, "497.8 MB"), (2.79e12, "2.8 TB"), (80e9, "80.0 GB"), (512, "512 B")])
def test_format_bytes(n, text):
    assert sizing.format_bytes(n) == text


@pytest.mark.parametrize("fn", [sizing.format_count, sizing.format_bytes])
def test_formats_refuse_negative(fn):
    with pytest.raises(ValueError, match="non-negative"):
        fn(-1)


def test_plots_return_figures():
    matplotlib.use("Agg")
    x, y = np.array([10.0, 100.0, 1000.0]), np.array([1.0, 0.5, 0.3])
    law = sizing.fit_power_law(x, y)
    fig = sizing.plot_power_law(x, y, fit=law, labels=["a", "b", "c"], fitted=[False, True, True], show=False)
    assert len(fig.axes) == 1 and fig.axes[0].get_xscale() == "log"
    fig = sizing.plot_log_bars(["a", "b"], {"s": [1.0, 100.0], "t": [2.0, 3.0]}, ylabel="GB",
                               hlines={"limit": 80}, show=False)
    assert fig.axes[0].get_yscale() == "log"


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: sizing.plot_power_law([1, 2], [1], show=False), "same 1-D length"),
        (lambda: sizing.plot_power_law([1, 2], [1, 0], show=False), "positive"),
        (lambda: sizing.plot_power_law([1, 2], [1, 2], labels=["a"], show=False), "expected 2 labels"),
        (lambda: sizing.plot_power_law([1, 2], [1, 2], fitted=[True], show=False), "values in fitted"),
        (lambda: sizing.plot_log_bars(["a"], {"s": [1, 2]}, ylabel="y", show=False), "2 values for 1 labels"),
        (lambda: sizing.plot_log_bars(["a"], {"s": [0]}, ylabel="y", show=False), "values <= 0"),
        (lambda: sizing.plot_log_bars([], {}, ylabel="y", show=False), "at least one label"),
    ],
)
def test_plots_validate(call, message):
    with pytest.raises(ValueError, match=message):
        call()
