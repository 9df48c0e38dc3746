"""course_lib.neural: the chapter-02 plots draw what they are given, dense_weights reads Keras' Dense layers."""

import matplotlib

matplotlib.use("Agg")
import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_lib import neural  # noqa: E402


def teardown_function():
    plt.close("all")


Z = np.linspace(-3, 3, 13)


# --- plot_activations --------------------------------------------------------------------------

def test_plot_activations_one_panel_per_function():
    fig = neural.plot_activations(Z, {"ReLU": (np.maximum(Z, 0), (Z > 0) * 1.0), "tanh": (np.tanh(Z), 1 - np.tanh(Z) ** 2)},
                                  title="t", show=False)
    assert len(fig.axes) == 2
    assert [ax.get_title() for ax in fig.axes] == ["ReLU", "tanh"]
    assert [line.get_label() for line in fig.axes[0].lines[:2]] == ["ReLU(z)", "ReLU'(z)"]
    np.testing.assert_allclose(fig.axes[1].lines[1].get_ydata(), 1 - np.tanh(Z) ** 2)


def test_plot_activations_rejects_bad_input():
    with pytest.raises(ValueError, match=r"expected z to be a 1-D array .* got shape \(2, 2\)"):
        neural.plot_activations(np.zeros((2, 2)), {"f": (np.zeros(4), np.zeros(4))}, show=False)
    with pytest.raises(ValueError, match="non-empty dict"):
        neural.plot_activations(Z, {}, show=False)
    with pytest.raises(ValueError, match=r"curves\['f'\]: expected values and derivatives of shape \(13,\)"):
        neural.plot_activations(Z, {"f": (Z, Z[:5])}, show=False)
    with pytest.raises(ValueError, match=r"to be a pair"):
        neural.plot_activations(Z, {"f": Z}, show=False)


# --- plot_curves -------------------------------------------------------------------------------

def test_plot_curves_draws_each_curve_with_its_label():
    fig = neural.plot_curves(Z, {"a": Z ** 2, "b": -Z}, xlabel="x", ylabel="y", ylim=(0, 5), show=False)
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.lines] == ["a", "b"]
    assert ax.get_xlabel() == "x" and ax.get_ylim() == (0, 5)


def test_plot_curves_rejects_bad_input():
    with pytest.raises(ValueError, match=r"curves\['a'\]: expected shape \(13,\) like x, got \(3,\)"):
        neural.plot_curves(Z, {"a": [1, 2, 3]}, xlabel="x", ylabel="y", show=False)
    with pytest.raises(ValueError, match="non-empty dict"):
        neural.plot_curves(Z, {}, xlabel="x", ylabel="y", show=False)
    with pytest.raises(ValueError, match="low < high"):
        neural.plot_curves(Z, {"a": Z}, xlabel="x", ylabel="y", ylim=(5, 0), show=False)


# --- plot_network ------------------------------------------------------------------------------

def test_plot_network_draws_every_connection_of_small_layers():
    fig = neural.plot_network([3, 4, 2], show=False)
    ax = fig.axes[0]
    assert len(ax.lines) == 3 * 4 + 4 * 2
    assert "(26 parameters)" in ax.get_title()  # 3*4+4 + 4*2+2
    assert [t.get_text() for t in ax.texts] == ["input\n3 units", "hidden 1\n4 units", "output\n2 units"]


def test_plot_network_truncates_wide_layers():
    fig = neural.plot_network([64, 64, 10], ["pixels", "hidden", "logits"], max_drawn=6, show=False)
    ax = fig.axes[0]
    assert len(ax.lines) == 6 * 6 + 6 * 6
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("⋮") == 3 and "pixels\n64 units" in texts
    assert "(4,810 parameters)" in ax.get_title()


def test_plot_network_rejects_bad_input():
    with pytest.raises(ValueError, match="at least two layer sizes"):
        neural.plot_network([5], show=False)
    with pytest.raises(ValueError, match="each an int >= 1"):
        neural.plot_network([5, 0], show=False)
    with pytest.raises(ValueError, match="expected 2 layer names, got 1"):
        neural.plot_network([5, 3], ["a"], show=False)
    with pytest.raises(ValueError, match="max_drawn"):
        neural.plot_network([5, 3], max_drawn=1, show=False)


# --- plot_prediction ---------------------------------------------------------------------------

def test_plot_prediction_marks_the_true_class():
    p = np.full(10, 0.05)
    p[3] = 0.55
    fig = neural.plot_prediction(np.zeros((8, 8, 1)), p, true_label=7, show=False)
    bars = fig.axes[1].patches
    assert len(bars) == 10
    assert bars[7].get_facecolor() != bars[3].get_facecolor()
    assert "predicts 3" in fig.axes[1].get_title()


def test_plot_prediction_rejects_bad_input():
    p = np.full(4, 0.25)
    with pytest.raises(ValueError, match=r"expected an image of shape \(h, w\) or \(h, w, 1\), got \(64,\)"):
        neural.plot_prediction(np.zeros(64), p, show=False)
    with pytest.raises(ValueError, match="probability vector"):
        neural.plot_prediction(np.zeros((8, 8)), [0.5, 0.9], show=False)
    with pytest.raises(ValueError, match=r"true_label in \[0, 4\)"):
        neural.plot_prediction(np.zeros((8, 8)), p, true_label=4, show=False)
    with pytest.raises(ValueError, match="expected 4 class names, got 2"):
        neural.plot_prediction(np.zeros((8, 8)), p, class_names=["a", "b"], show=False)


# --- dense_weights -----------------------------------------------------------------------------

def test_dense_weights_sequential_in_order():
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dropout(0.5), keras.layers.Dense(2)])
    pairs = neural.dense_weights(model)
    assert [(W.shape, b.shape) for W, b in pairs] == [((5, 4), (4,)), ((4, 2), (2,))]
    x = np.random.default_rng(0).normal(size=(3, 5)).astype("float32")
    (W1, b1), (W2, b2) = pairs
    np.testing.assert_allclose(np.maximum(x @ W1 + b1, 0) @ W2 + b2, model(x).numpy(), rtol=1e-5, atol=1e-6)


def test_dense_weights_subclassed_and_nested():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.blocks = [keras.layers.Dense(3), keras.layers.Dense(2)]
            self.inner = keras.Sequential([keras.layers.Dense(1)])

        def call(self, x):
            for block in self.blocks:
                x = block(x)
            return self.inner(x)

    net = Net()
    net(np.zeros((1, 4), dtype="float32"))
    assert [W.shape for W, _ in neural.dense_weights(net)] == [(4, 3), (3, 2), (2, 1)]


def test_dense_weights_rejects_bad_input():
    with pytest.raises(ValueError, match="expected a keras.Model, got list"):
        neural.dense_weights([])
    with pytest.raises(ValueError, match="is not built yet"):
        neural.dense_weights(keras.Sequential([keras.layers.Dense(2)]))
    with pytest.raises(ValueError, match="has no Dense layer"):
        neural.dense_weights(keras.Sequential([keras.Input((3,)), keras.layers.Flatten()]))
    with pytest.raises(ValueError, match="has no bias"):
        neural.dense_weights(keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, use_bias=False)]))


# --- plot_decision_boundaries ----------------------------------------------------------------------

def test_plot_decision_boundaries_one_panel_per_model():
    points = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0]], dtype="float32")
    labels = np.array([0, 1, 1])
    models = {"x0 > 0.5": lambda g: g[:, 0] - 0.5, "x1 > 0.5": lambda g: g[:, 1] - 0.5}
    fig = neural.plot_decision_boundaries(models, points, labels, resolution=10, show=False)
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["x0 > 0.5", "x1 > 0.5"]


def test_plot_decision_boundaries_rejects_bad_input():
    points = np.zeros((3, 2), dtype="float32")
    with pytest.raises(ValueError, match="non-empty dict"):
        neural.plot_decision_boundaries({}, points, [0, 1, 0], show=False)
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        neural.plot_decision_boundaries({"m": lambda g: g[:, 0]}, np.zeros((3, 3)), [0, 1, 0], show=False)
    with pytest.raises(ValueError, match="one label per point"):
        neural.plot_decision_boundaries({"m": lambda g: g[:, 0]}, points, [0, 1], show=False)
    with pytest.raises(ValueError, match="resolution"):
        neural.plot_decision_boundaries({"m": lambda g: g[:, 0]}, points, [0, 1, 0], resolution=1, show=False)
