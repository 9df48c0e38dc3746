"""course_lib.attention: the reference attention is right and refuses bad input; helpers measure and plot."""

import matplotlib

matplotlib.use("Agg")
import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from course_lib import attention as attn  # noqa: E402


def teardown_function():
    plt.close("all")


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _inputs(*shapes, seed=0, dtype="float32"):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=s).astype(dtype) for s in shapes]


# --- scaled_dot_product_attention -------------------------------------------------------------

def test_matches_numpy_formula_rank_3_and_4():
    for shapes in [((2, 3, 8), (2, 5, 8), (2, 5, 6)), ((2, 4, 3, 8), (2, 4, 5, 8), (2, 4, 5, 2))]:
        q, k, v = _inputs(*shapes, dtype="float64")
        out, w = attn.scaled_dot_product_attention(q, k, v)
        expected_w = _softmax(q @ np.swapaxes(k, -1, -2) / np.sqrt(8))
        np.testing.assert_allclose(w, expected_w, rtol=1e-12)
        np.testing.assert_allclose(out, expected_w @ v, rtol=1e-12)
        assert out.dtype == tf.float64 and w.shape == shapes[0][:-1] + (shapes[1][-2],)


def test_matches_keras_attention_with_scale_and_masks():
    q, k, v = _inputs((2, 4, 8), (2, 6, 8), (2, 6, 3), seed=1)
    layer = keras.layers.Attention(use_scale=True)
    layer([q, v, k])
    layer.scale.assign(1 / np.sqrt(8))
    keep = np.array([[True] * 6, [True] * 4 + [False] * 2])
    k_out, k_w = layer([q, v, k], mask=[None, keep], return_attention_scores=True)
    out, w = attn.scaled_dot_product_attention(q, k, v, mask=keep[:, None, :])
    np.testing.assert_allclose(out, k_out, atol=1e-6)
    np.testing.assert_allclose(w, k_w, atol=1e-6)
    assert np.all(w.numpy()[1, :, 4:] == 0.0)


def test_causal_mask_gives_exact_zeros_and_int_masks_work():
    (x,) = _inputs((1, 5, 4), seed=2)
    causal = np.tril(np.ones((5, 5), dtype=np.int32))
    _, w = attn.scaled_dot_product_attention(x, x, x, mask=causal)
    w = w.numpy()[0]
    assert np.all(w[np.triu_indices(5, 1)] == 0.0)
    np.testing.assert_allclose(w.sum(-1), 1.0, rtol=1e-6)
    assert w[0, 0] == 1.0


def test_works_inside_a_traced_function_with_unknown_shapes():
    fn = tf.function(attn.scaled_dot_product_attention,
                     input_signature=[tf.TensorSpec((None, None, 4), tf.float32)] * 3)
    unknown_depth = tf.function(attn.scaled_dot_product_attention,
                                input_signature=[tf.TensorSpec((None, None, None), tf.float32)] * 3)
    q, k, v = _inputs((3, 2, 4), (3, 5, 4), (3, 5, 4), seed=3)
    out, w = fn(q, k, v)
    assert out.shape == (3, 2, 4) and w.shape == (3, 2, 5)
    np.testing.assert_allclose(unknown_depth(q, k, v)[1], w, rtol=1e-6)


@pytest.mark.parametrize(
    "shapes, message",
    [
        (((4, 5), (2, 5, 5), (2, 5, 5)),
         r"expected queries of rank 3 \(batch, time, depth\) or 4 \(batch, heads, time, depth\), got shape \(4, 5\)"),
        (((2, 3, 4), (2, 5), (2, 5, 4)), r"expected keys of rank 3 .* got shape \(2, 5\)"),
        (((2, 3, 4), (2, 5, 4), (1, 2, 5, 4)), "same rank"),
        (((2, 3, 4), (2, 5, 6), (2, 5, 4)), "same depth d_k, got 4 and 6"),
        (((2, 3, 4), (2, 5, 4), (2, 6, 4)), "one value per key, got 5 keys and 6 values"),
        (((2, 3, 4), (3, 5, 4), (3, 5, 4)), "same leading"),
    ],
)
def test_rejects_bad_shapes(shapes, message):
    with pytest.raises(ValueError, match=message):
        attn.scaled_dot_product_attention(*_inputs(*shapes))


def test_rejects_bad_dtypes_and_masks():
    q, k, v = _inputs((2, 3, 4), (2, 5, 4), (2, 5, 4))
    with pytest.raises(ValueError, match="floating dtype"):
        attn.scaled_dot_product_attention(np.ones((2, 3, 4), np.int32), k, v)
    with pytest.raises(ValueError, match="one dtype"):
        attn.scaled_dot_product_attention(q.astype("float64"), k, v)
    with pytest.raises(ValueError, match=r"broadcastable to the scores of shape \(2, 3, 5\)"):
        attn.scaled_dot_product_attention(q, k, v, mask=np.ones((3, 3), bool))
    with pytest.raises(ValueError, match="rank 2 to 3"):
        attn.scaled_dot_product_attention(q, k, v, mask=np.ones(5, bool))
    with pytest.raises(ValueError, match="boolean or 0/1 mask"):
        attn.scaled_dot_product_attention(q, k, v, mask=tf.constant([["a"] * 5] * 3))


# --- cost measurement ---------------------------------------------------------------------------

def test_measure_attention_cost_sizes_are_exact():
    cost = attn.measure_attention_cost(attn.scaled_dot_product_attention, [8, 16, 32], depth=4, batch=2, repeats=1)
    assert cost.weight_bytes.tolist() == [2 * 4 * n * n for n in (8, 16, 32)]
    assert cost.seconds.shape == (3,) and np.all(cost.seconds > 0)
    assert attn.loglog_slope(cost.lengths, cost.weight_bytes) == pytest.approx(2.0)
    assert "weights (bytes)" in cost.table() and "8,192" in cost.table()


def test_measure_attention_cost_rejects_bad_input():
    fn = attn.scaled_dot_product_attention
    with pytest.raises(ValueError, match="strictly increasing"):
        attn.measure_attention_cost(fn, [16, 8])
    with pytest.raises(ValueError, match="ints >= 1"):
        attn.measure_attention_cost(fn, [0, 8])
    with pytest.raises(ValueError, match="ints >= 1"):
        attn.measure_attention_cost(fn, "abc")
    with pytest.raises(ValueError, match="repeats to be an int >= 1"):
        attn.measure_attention_cost(fn, [8], repeats=0)
    with pytest.raises(ValueError, match=r"weights of shape \(1, 8, 8\)"):
        attn.measure_attention_cost(lambda q, k, v: (q, q), [8], depth=4)


def test_loglog_slope():
    x = np.array([1.0, 2.0, 4.0, 8.0])
    assert attn.loglog_slope(x, 3 * x**2) == pytest.approx(2.0)
    assert attn.loglog_slope(x, 5 * np.sqrt(x)) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="positive"):
        attn.loglog_slope(x, [1, 0, 1, 1])
    with pytest.raises(ValueError, match="same length >= 2"):
        attn.loglog_slope([1.0], [1.0])
    with pytest.raises(ValueError, match="two different x"):
        attn.loglog_slope([2.0, 2.0], [1.0, 3.0])


# --- plots ------------------------------------------------------------------------------------

def test_plot_attention_labels_and_panels():
    w = np.full((2, 3, 4), 0.25)
    fig = attn.plot_attention(w, ["a", "b", "c"], ["w", "x", "y", "z"], titles=["one", "two"], show=False)
    heatmaps = [ax for ax in fig.axes if ax.get_title() in ("one", "two")]
    assert len(heatmaps) == 2
    assert [t.get_text() for t in heatmaps[0].get_xticklabels()] == ["w", "x", "y", "z"]
    assert [t.get_text() for t in heatmaps[0].get_yticklabels()] == ["a", "b", "c"]
    fig = attn.plot_attention(np.eye(3), annotate=True, show=False)
    assert any(t.get_text() == "1.00" for t in fig.axes[0].texts)


def test_plot_attention_rejects_bad_input():
    with pytest.raises(ValueError, match=r"got \(3,\)"):
        attn.plot_attention(np.ones(3), show=False)
    with pytest.raises(ValueError, match="expected 2 key labels"):
        attn.plot_attention(np.eye(2), ["a", "b"], ["x"], show=False)
    with pytest.raises(ValueError, match="non-negative"):
        attn.plot_attention(-np.eye(2), show=False)
    with pytest.raises(ValueError, match="expected 1 titles"):
        attn.plot_attention(np.eye(2), titles=["a", "b"], show=False)


def test_plot_curves_panels_slopes_and_ticks():
    x = np.array([4, 16, 64])
    fig = attn.plot_curves(x, {"a": {"y": x**2, "ref": x**2}, "b": {"z": x}}, xlabel="n",
                           log_x=True, log_y=True, slopes=True, dashed=["ref"], show=False)
    assert len(fig.axes) == 2
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["y (slope 2.00)", "ref"]
    assert [t.get_text() for t in fig.axes[1].get_xticklabels()] == ["4", "16", "64"]


def test_plot_curves_rejects_bad_input():
    with pytest.raises(ValueError, match="non-empty mapping"):
        attn.plot_curves([1, 2], {}, xlabel="n", show=False)
    with pytest.raises(ValueError, match="expected 2 values"):
        attn.plot_curves([1, 2], {"a": {"y": [1, 2, 3]}}, xlabel="n", show=False)
    with pytest.raises(ValueError, match="positive values on a log y axis"):
        attn.plot_curves([1, 2], {"a": {"y": [0, 1]}}, xlabel="n", log_y=True, show=False)
    with pytest.raises(ValueError, match="positive x values"):
        attn.plot_curves([0, 2], {"a": {"y": [1, 1]}}, xlabel="n", log_x=True, show=False)


def test_plot_kernel_regression_panels():
    x_data, y_data, x = np.array([0.0, 1.0, 2.0]), np.array([1.0, 3.0, 2.0]), np.linspace(0, 2, 5)
    w = np.full((5, 3), 1 / 3)
    fig = attn.plot_kernel_regression(x_data, y_data, x, {"mean": np.full(5, 2.0)}, {"uniform": w, "again": w},
                                      truth=x, title="t", show=False)
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(panels) == 3 and [ax.get_title() for ax in panels[1:]] == ["uniform", "again"]
    assert [t.get_text() for t in panels[0].get_legend().get_texts()] == ["data", "true function", "mean"]
    fig = attn.plot_kernel_regression(x_data, y_data, x, {"mean": np.full(5, 2.0)}, show=False)
    assert len(fig.axes) == 1


def test_plot_kernel_regression_rejects_bad_input():
    x_data, y_data, x = [0.0, 1.0], [1.0, 2.0], [0.0, 1.0, 2.0]
    with pytest.raises(ValueError, match="y_data"):
        attn.plot_kernel_regression(x_data, [1.0], x, {"f": [1, 2, 3]}, show=False)
    with pytest.raises(ValueError, match="fits"):
        attn.plot_kernel_regression(x_data, y_data, x, {}, show=False)
    with pytest.raises(ValueError, match=r"fits\['f'\]: expected 3 values"):
        attn.plot_kernel_regression(x_data, y_data, x, {"f": [1, 2]}, show=False)
    with pytest.raises(ValueError, match=r"expected shape \(3, 2\)"):
        attn.plot_kernel_regression(x_data, y_data, x, {"f": [1, 2, 3]}, {"w": np.ones((2, 3))}, show=False)
    with pytest.raises(ValueError, match="non-negative"):
        attn.plot_kernel_regression(x_data, y_data, x, {"f": [1, 2, 3]}, {"w": -np.ones((3, 2))}, show=False)
    with pytest.raises(ValueError, match="truth"):
        attn.plot_kernel_regression(x_data, y_data, x, {"f": [1, 2, 3]}, truth=[1.0], show=False)
    with pytest.raises(ValueError, match="x_data"):
        attn.plot_kernel_regression(np.ones((2, 2)), y_data, x, {"f": [1, 2, 3]}, show=False)
