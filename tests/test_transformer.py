"""Unit tests of course_lib.transformer: shapes, masks, causality, errors, configs, saving."""

import keras
import numpy as np
import pytest

from course_lib.transformer import (
    PositionalEmbedding,
    TransformerDecoderBlock,
    TransformerEncoderBlock,
    plot_alignment,
    plot_positional_encoding,
    plot_step_times,
    sinusoidal_positions,
)

D = 16


def _floats(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _tiny_translator(positions="sinusoidal", norm_first=False):
    src = keras.Input((None,), dtype="int32", name="source")
    tgt = keras.Input((None,), dtype="int32", name="target")
    x = PositionalEmbedding(11, 7, D, positions=positions, name="src_embedding")(src)
    x = TransformerEncoderBlock(4, 32, norm_first=norm_first, name="encoder")(x)
    y = PositionalEmbedding(9, 6, D, positions=positions, name="tgt_embedding")(tgt)
    y = TransformerDecoderBlock(4, 32, norm_first=norm_first, name="decoder")(y, x)
    return keras.Model([src, tgt], keras.layers.Dense(9, name="logits")(y), name="tiny")


SRC = np.array([[3, 4, 5, 0, 0], [1, 2, 3, 4, 5]], dtype="int32")
TGT = np.array([[1, 2, 0, 0], [3, 4, 5, 6]], dtype="int32")


# --- sinusoidal_positions ---------------------------------------------------------------------

def test_sinusoidal_positions_formula():
    table = sinusoidal_positions(50, 8)
    assert table.shape == (50, 8) and table.dtype == np.float32
    p, i = 7, 2  # columns 4 (sin) and 5 (cos) share the frequency 1 / 10000^(4/8)
    angle = p / 10000 ** (2 * i / 8)
    np.testing.assert_allclose(table[p, 2 * i], np.sin(angle), rtol=1e-6)
    np.testing.assert_allclose(table[p, 2 * i + 1], np.cos(angle), rtol=1e-6)
    np.testing.assert_allclose(table[0], [0, 1] * 4)


@pytest.mark.parametrize("args, message", [((10, 7), "even depth"), ((0, 8), "length"), ((5, 2.0), "depth")])
def test_sinusoidal_positions_rejects_bad_sizes(args, message):
    with pytest.raises(ValueError, match=message):
        sinusoidal_positions(*args)


# --- PositionalEmbedding ----------------------------------------------------------------------

@pytest.mark.parametrize("positions", ["sinusoidal", "learned"])
def test_positional_embedding_shape_and_mask(positions):
    layer = PositionalEmbedding(11, 7, D, positions=positions)
    out = layer(SRC)
    assert tuple(out.shape) == (2, 5, D)
    np.testing.assert_array_equal(np.asarray(layer.compute_mask(SRC)), SRC != 0)
    assert PositionalEmbedding(11, 7, D, mask_zero=False).compute_mask(SRC) is None


def test_positional_embedding_adds_scaled_tokens_and_sinusoids():
    layer = PositionalEmbedding(11, 7, D)
    out = np.asarray(layer(SRC))
    table = layer.token_embedding.embeddings.numpy()
    expected = table[SRC] * np.sqrt(D) + sinusoidal_positions(7, D)[:5]
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_positional_embedding_same_token_differs_by_position():
    out = np.asarray(PositionalEmbedding(11, 7, D)(np.full((1, 4), 3, dtype="int32")))
    assert not np.allclose(out[0, 0], out[0, 1])


def test_learned_positions_are_trainable_and_sinusoidal_are_not():
    learned, fixed = PositionalEmbedding(11, 7, D, positions="learned"), PositionalEmbedding(11, 7, D)
    learned(SRC), fixed(SRC)
    assert len(learned.trainable_weights) == 2 and len(fixed.trainable_weights) == 1


@pytest.mark.parametrize(
    "kwargs, tokens, message",
    [
        ({}, np.zeros((2, 3, 1), "int32"), "rank 2"),
        ({}, np.zeros((2, 9), "int32"), "max_length=7"),
        ({"positions": "rotary"}, None, "positions"),
        ({"d_model": 15}, None, "even d_model"),
        ({"vocab_size": 0}, None, "vocab_size"),
    ],
)
def test_positional_embedding_rejects_bad_input(kwargs, tokens, message):
    args = {"vocab_size": 11, "max_length": 7, "d_model": D, **kwargs}
    with pytest.raises(ValueError, match=message):
        PositionalEmbedding(**args)(tokens)


# --- TransformerEncoderBlock ------------------------------------------------------------------

@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_block_shape_and_scores(norm_first):
    block = TransformerEncoderBlock(4, 32, norm_first=norm_first)
    out, scores = block(_floats(2, 5, D), return_attention_scores=True)
    assert tuple(out.shape) == (2, 5, D) and tuple(scores.shape) == (2, 4, 5, 5)
    np.testing.assert_allclose(np.asarray(scores).sum(-1), 1.0, rtol=1e-5)


def test_encoder_block_computes_the_post_and_pre_norm_formulas():
    x = _floats(2, 5, D)
    for norm_first in (False, True):
        block = TransformerEncoderBlock(4, 32, norm_first=norm_first)
        out = np.asarray(block(x))

        def attend(h):
            return block.attention(h, h)

        def ffn(h):
            return block.ff_out(block.ff_hidden(h))

        if norm_first:
            h = x + attend(block.norm1(x))
            expected = h + ffn(block.norm2(h))
        else:
            h = block.norm1(x + attend(x))
            expected = block.norm2(h + ffn(h))
        np.testing.assert_allclose(out, np.asarray(expected), rtol=1e-5, atol=1e-5)


def test_dropout_acts_only_in_training():
    block = TransformerEncoderBlock(4, 32, dropout=0.5)
    x = _floats(2, 5, D)
    np.testing.assert_array_equal(np.asarray(block(x)), np.asarray(block(x, training=False)))
    assert not np.allclose(np.asarray(block(x, training=True)), np.asarray(block(x)))


def test_encoder_block_padding_does_not_change_real_outputs():
    block = TransformerEncoderBlock(4, 32)
    x = _floats(1, 6, D)
    mask = np.array([[True, True, True, True, False, False]])
    changed = x.copy()
    changed[:, 4:] = _floats(1, 2, D, seed=1) * 10  # other values at the padded positions
    a = np.asarray(block(x, mask=mask))
    b = np.asarray(block(changed, mask=mask))
    np.testing.assert_allclose(a[:, :4], b[:, :4], rtol=1e-5, atol=1e-5)
    c = np.asarray(block(x))  # without the mask, the padded vectors do change the outputs
    assert not np.allclose(a[:, :4], c[:, :4], atol=1e-4)


def test_encoder_mask_from_embedding_equals_shorter_sequence():
    emb, block = PositionalEmbedding(11, 9, D), TransformerEncoderBlock(4, 32)
    short = np.array([[3, 4, 5]], "int32")
    padded = np.array([[3, 4, 5, 0, 0, 0]], "int32")
    a = np.asarray(block(emb(short)))
    b = np.asarray(block(emb(padded)))  # the embedding's Keras mask reaches the block
    np.testing.assert_allclose(a, b[:, :3], rtol=1e-5, atol=1e-5)


def test_encoder_block_is_permutation_equivariant_without_positions():
    block = TransformerEncoderBlock(4, 32)
    x, perm = _floats(2, 5, D), np.array([3, 0, 4, 1, 2])
    np.testing.assert_allclose(np.asarray(block(x))[:, perm], np.asarray(block(x[:, perm])), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "make, x, message",
    [
        (lambda: TransformerEncoderBlock(4, 32), _floats(4, 5), "expected inputs of rank 3"),
        (lambda: TransformerEncoderBlock(3, 32), _floats(2, 5, D), "divisible by num_heads=3"),
        (lambda: TransformerEncoderBlock(0, 32), None, "num_heads"),
        (lambda: TransformerEncoderBlock(4, 32, dropout=1.5), None, "dropout"),
    ],
)
def test_encoder_block_rejects_bad_input(make, x, message):
    with pytest.raises(ValueError, match=message):
        make()(x)


# --- TransformerDecoderBlock ------------------------------------------------------------------

def test_decoder_block_shape_and_cross_scores():
    block = TransformerDecoderBlock(4, 32)
    out, scores = block(_floats(2, 3, D), _floats(2, 5, D, seed=1), return_attention_scores=True)
    assert tuple(out.shape) == (2, 3, D) and tuple(scores.shape) == (2, 4, 3, 5)


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_block_is_causal(norm_first):
    block = TransformerDecoderBlock(4, 32, norm_first=norm_first)
    y, context = _floats(1, 6, D), _floats(1, 4, D, seed=1)
    changed = y.copy()
    changed[:, 3:] = _floats(1, 3, D, seed=2)  # change the inputs after t = 2
    a, b = np.asarray(block(y, context)), np.asarray(block(changed, context))
    np.testing.assert_allclose(a[:, :3], b[:, :3], rtol=1e-5, atol=1e-5)  # outputs at t <= 2 unchanged
    assert not np.allclose(a[:, 3:], b[:, 3:], atol=1e-4)


def test_decoder_block_ignores_padded_context():
    block = TransformerDecoderBlock(4, 32)
    y, context = _floats(1, 3, D), _floats(1, 5, D, seed=1)
    cmask = np.array([[True, True, True, False, False]])
    changed = context.copy()
    changed[:, 3:] = 5.0
    a = np.asarray(block(y, context, context_mask=cmask))
    b = np.asarray(block(y, changed, context_mask=cmask))
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    scores = block(y, context, context_mask=cmask, return_attention_scores=True)[1]
    np.testing.assert_allclose(np.asarray(scores)[..., 3:], 0.0, atol=1e-7)


def test_decoder_block_ignores_padded_targets():
    block = TransformerDecoderBlock(4, 32)
    y, context = _floats(1, 5, D), _floats(1, 4, D, seed=1)
    ymask = np.array([[True, True, False, True, True]])  # a padded key in the middle
    changed = y.copy()
    changed[:, 2] = 7.0
    a = np.asarray(block(y, context, inputs_mask=ymask))
    b = np.asarray(block(changed, context, inputs_mask=ymask))
    keep = [0, 1, 3, 4]
    np.testing.assert_allclose(a[:, keep], b[:, keep], rtol=1e-5, atol=1e-5)


def test_model_masks_propagate_to_the_logits():
    model = _tiny_translator()
    logits = model([SRC, TGT])
    assert tuple(logits.shape) == (2, 4, 9)
    np.testing.assert_array_equal(np.asarray(logits._keras_mask), TGT != 0)


def test_model_output_ignores_source_padding_length():
    model = _tiny_translator()
    short = model([SRC[:1, :3], TGT[:1]])
    long = model([SRC[:1], TGT[:1]])  # the same source with two more padding tokens
    np.testing.assert_allclose(np.asarray(short), np.asarray(long), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "y, context, message",
    [
        (_floats(2, 3), _floats(2, 5, D), "expected inputs of rank 3"),
        (_floats(2, 3, D), _floats(2, 5), "expected context of rank 3"),
        (_floats(2, 3, D), _floats(2, 5, 8), "expected context with depth 16"),
    ],
)
def test_decoder_block_rejects_bad_input(y, context, message):
    with pytest.raises(ValueError, match=message):
        TransformerDecoderBlock(4, 32)(y, context)


# --- configs and saving -----------------------------------------------------------------------

@pytest.mark.parametrize(
    "layer",
    [
        PositionalEmbedding(11, 7, D, positions="learned", mask_zero=False, name="pe"),
        TransformerEncoderBlock(2, 24, dropout=0.1, norm_first=True, name="enc"),
        TransformerDecoderBlock(2, 24, dropout=0.2, name="dec"),
    ],
)
def test_get_config_round_trip(layer):
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(restored) is type(layer) and restored.get_config() == config


@pytest.mark.parametrize("positions, norm_first", [("sinusoidal", False), ("learned", True)])
def test_keras_file_round_trip(tmp_path, positions, norm_first):
    model = _tiny_translator(positions, norm_first)
    before = np.asarray(model([SRC, TGT]))
    path = tmp_path / "tiny.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert [type(layer).__name__ for layer in loaded.layers] == [type(layer).__name__ for layer in model.layers]
    np.testing.assert_array_equal(np.asarray(loaded([SRC, TGT])), before)


# --- plots ------------------------------------------------------------------------------------

def test_plots_return_figures_and_reject_bad_input():
    import matplotlib.pyplot as plt

    fig = plot_positional_encoding(sinusoidal_positions(20, 8), show=False)
    assert len(fig.axes) == 3
    fig2 = plot_step_times([8, 16], {"p": {"a": [1.0, 2.0], "b": [1.5, 1.5]}, "q": {"a": [1.0, 3.0]}}, show=False)
    assert len(fig2.axes) == 2 and len(fig2.axes[0].lines) == 2
    fig3 = plot_alignment(np.full((2, 3), 1 / 3), ["a", "b", "c"], ["x", "y"], show=False)
    assert [t.get_text() for t in fig3.axes[0].get_xticklabels()] == ["a", "b", "c"]
    plt.close("all")
    with pytest.raises(ValueError, match=r"expected weights of shape \(2, 3\)"):
        plot_alignment(np.zeros((3, 2)), ["a", "b", "c"], ["x", "y"], show=False)
    with pytest.raises(ValueError, match="2-D table"):
        plot_positional_encoding(np.zeros(5), show=False)
    with pytest.raises(ValueError, match="expected 2 times for 'a' in 'p'"):
        plot_step_times([8, 16], {"p": {"a": [1.0]}}, show=False)
    with pytest.raises(ValueError, match="at least one length"):
        plot_step_times([8, 16], {"p": {}}, show=False)
